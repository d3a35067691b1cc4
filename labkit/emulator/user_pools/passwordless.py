"""Choice-based sign-in (``USER_AUTH``): password, SRP, one-time codes by email or SMS, passkeys.

What the lab does, and where Cognito says so:

- ``InitiateAuth`` / ``AdminInitiateAuth`` with ``AuthFlow=USER_AUTH`` needs ``ALLOW_USER_AUTH`` on the
  app client and a pool on the Essentials plan or higher (API reference, InitiateAuth ``AuthFlow``:
  "To activate this setting, your user pool must be in the Essentials tier or higher").
- ``AuthParameters``: ``USERNAME``, and ``PREFERRED_CHALLENGE`` optionally. "If you don't provide a
  value for PREFERRED_CHALLENGE, Amazon Cognito responds with the AvailableChallenges parameter that
  specifies the available sign-in methods" (InitiateAuth ``AuthParameters``): the ``SELECT_CHALLENGE``
  challenge, answered with ``ANSWER`` = one of them. PASSWORD, PASSWORD_SRP (and WEB_AUTHN once its
  options are out) complete in that answer; EMAIL_OTP and SMS_OTP make the pool send a code, answered in
  the next ``EMAIL_OTP`` / ``SMS_OTP`` challenge as ``EMAIL_OTP_CODE`` / ``SMS_OTP_CODE``
  (RespondToAuthChallenge ``ChallengeResponses``).
- "This authentication flow can do username-password and SRP authentication without other
  ExplicitAuthFlows permitting them" (CreateUserPoolClient ``ExplicitAuthFlows``, ALLOW_USER_AUTH):
  turning off ALLOW_USER_PASSWORD_AUTH does not turn off passwords while ALLOW_USER_AUTH is on.
- The pool's ``Policies.SignInPolicy.AllowedFirstAuthFactors`` (default PASSWORD) decides what can be
  offered; what a user is offered also depends on them: a code needs an email / phone number, a
  passkey needs a registered credential. One-time codes are not offered when the pool requires MFA
  or the user has an MFA factor active (a passwordless first factor would skip it: Amplify's
  passwordless guide, "MFA and passwordless cannot be used together").
- Codes have 8 digits and live as long as the sign-in session (the app client's AuthSessionValidity,
  3 minutes by default). A correct code verifies the address it went to and confirms an unconfirmed
  user (it proves what a sign-up confirmation code proves). A wrong code is refused with
  CodeMismatchException and the session stays usable until it expires.
- PreventUserExistenceErrors ENABLED: "Amazon Cognito responds to requests for choice-based
  authentication with a random" selection of challenges for a user that doesn't exist (developer
  guide, "Managing user existence error responses"). The lab's choice within that: the same
  selection every time for the same name (asking twice must not tell), and a code challenge that
  sends nothing and can never succeed.
- The migrate user trigger is not asked about unknown users in USER_AUTH (the lab's reading: it
  is documented for password sign-in and forgot-password).
- ``SignUp`` gives a ``Session`` to a client with ALLOW_USER_AUTH; ``ConfirmSignUp`` with it returns a
  ``Session`` that ``InitiateAuth(USER_AUTH, Session=…)`` turns into tokens: "Amazon Cognito assumes the
  SMS or email message one-time verification password from ConfirmSignUp as the primary
  authentication factor" (InitiateAuth ``Session``), once, within the session's lifetime.
"""
from __future__ import annotations

import hashlib
import hmac

from ...cognito.names import AuthFactor, Challenge, FeaturePlan
from .. import errors as E
from . import email_quota, flows, plans
from .state import OTP_DIGITS, ChallengeSession, IdpState, SignUpSession

__all__ = ["initiate_user_auth", "respond", "available_challenges", "CHALLENGES", "RESPONSES", "sign_up_session",
           "confirm_sign_up_session", "check_passwordless_sign_up", "get_user_auth_factors"]

# The challenges USER_AUTH can offer, in the order Cognito lists factors.
CHALLENGES = (Challenge.PASSWORD, Challenge.PASSWORD_SRP, Challenge.EMAIL_OTP, Challenge.SMS_OTP,
              Challenge.WEB_AUTHN)
_FACTOR_OF = {Challenge.PASSWORD: AuthFactor.PASSWORD, Challenge.PASSWORD_SRP: AuthFactor.PASSWORD,
              Challenge.EMAIL_OTP: AuthFactor.EMAIL_OTP, Challenge.SMS_OTP: AuthFactor.SMS_OTP,
              Challenge.WEB_AUTHN: AuthFactor.WEB_AUTHN}
# RespondToAuthChallenge's ChallengeName values this module answers.
RESPONSES = frozenset({Challenge.SELECT_CHALLENGE, Challenge.PASSWORD, Challenge.PASSWORD_SRP, Challenge.EMAIL_OTP,
                       Challenge.SMS_OTP, Challenge.WEB_AUTHN})
_OTP_KIND = {Challenge.EMAIL_OTP: ("EMAIL", "email", "EMAIL_OTP_CODE"),
             Challenge.SMS_OTP: ("SMS", "phone_number", "SMS_OTP_CODE")}


# -- what a user may choose -----------------------------------------------------------------------
def _mfa_active(state: IdpState, pool, user) -> bool:
    totp = user.software_token_mfa_enabled and (pool.id, user.username) in state.totp
    return bool(totp or (user.sms_mfa_enabled and flows._attr(user, "phone_number")))


def available_challenges(state: IdpState, pool, user) -> list[str]:
    """The first factors ``user`` can use in ``pool`` now (``AvailableChallenges``)."""
    factors = set(plans.allowed_first_factors(pool))
    codes_allowed = (pool.mfa_config or "OFF") != "ON" and not _mfa_active(state, pool, user)
    available = []
    for challenge in CHALLENGES:
        if _FACTOR_OF[challenge] not in factors:
            continue
        if challenge in (Challenge.PASSWORD, Challenge.PASSWORD_SRP):
            usable = (pool.id, user.username) in state.srp_verifiers
        elif challenge in _OTP_KIND:
            usable = codes_allowed and bool(flows._attr(user, _OTP_KIND[challenge][1]))
        else:
            from . import passkeys

            usable = passkeys.usable(state, pool, user)
        if usable:
            available.append(challenge)
    return available


def _decoy_challenges(state: IdpState, pool, username: str) -> list[str]:
    """For a user who does not exist: a selection that looks real and is the same every time."""
    factors = set(plans.allowed_first_factors(pool))
    digest = hmac.new(state.decoy_key, f"{pool.id}:user-auth:{username}".encode(), hashlib.sha256).digest()
    chosen = [c for i, c in enumerate(CHALLENGES) if _FACTOR_OF[c] in factors
              and (c in (Challenge.PASSWORD, Challenge.PASSWORD_SRP) or digest[i] & 1)]
    return chosen or [c for c in CHALLENGES if _FACTOR_OF[c] in factors][:1]


# -- InitiateAuth ---------------------------------------------------------------------------------
def initiate_user_auth(state: IdpState, backend, params: dict, *, admin_pool_id: str | None = None) -> dict:
    """InitiateAuth / AdminInitiateAuth with ``AuthFlow=USER_AUTH``."""
    _flow, pool, client, auth = flows.initiate_checks(backend, params, admin_pool_id=admin_pool_id)
    plans.require_plan(pool, FeaturePlan.ESSENTIALS, "Choice-based sign-in (AuthFlow USER_AUTH)")
    flows._require(auth, "USERNAME")
    username = auth["USERNAME"]
    flows.check_secret_hash(client, username, auth.get("SECRET_HASH"))
    preferred = auth.get("PREFERRED_CHALLENGE")
    if preferred is not None and preferred not in CHALLENGES:
        raise E.invalid_parameter(f"PREFERRED_CHALLENGE must be one of {list(CHALLENGES)}.")
    if params.get("Session"):
        return _sign_in_after_sign_up(state, pool, client, username, params["Session"])
    user = pool._get_user(username)
    if user is not None and not user.enabled and not flows._puee_enabled(client):
        raise E.not_authorized(E.USER_DISABLED)
    if user is None or not user.enabled:
        if not flows._puee_enabled(client):
            raise E.user_not_found(E.USER_NOT_FOUND)
        return _decoy(state, pool, client, username, preferred, auth)
    if flows._status(user) == "RESET_REQUIRED":
        raise E.CognitoError("PasswordResetRequiredException", "Password reset required for the user")
    available = available_challenges(state, pool, user)
    if preferred in available:
        return _start(state, pool, client, user, preferred, auth)
    # No preference, or one this user can't use: the choices (the lab's reading for the latter).
    return _select(state, pool, client, user.username, available)


def _select(state: IdpState, pool, client, username: str, available: list[str], *, decoy: bool = False) -> dict:
    session = _session(state, pool, client, username, Challenge.SELECT_CHALLENGE, available=list(available),
                       decoy=decoy)
    return {"ChallengeName": Challenge.SELECT_CHALLENGE, "Session": session, "ChallengeParameters": {},
            "AvailableChallenges": list(available)}


def _session(state: IdpState, pool, client, username: str, challenge: str, **extra) -> str:
    minutes = client.extended_config.get("AuthSessionValidity") or flows.AUTH_SESSION_MINUTES
    session_id = state.opaque(120)
    state.sessions[session_id] = ChallengeSession(pool.id, client.id, username, challenge,
                                                  state.now() + 60 * minutes, **extra)
    return session_id


def _start(state: IdpState, pool, client, user, challenge: str, answers: dict) -> dict:
    """Begin (or, with what it needs in ``answers``, complete) the first factor ``challenge``."""
    if challenge == Challenge.PASSWORD:
        if not answers.get("PASSWORD"):
            return {"ChallengeName": Challenge.PASSWORD, "ChallengeParameters": {},
                    "Session": _session(state, pool, client, user.username, Challenge.PASSWORD)}
        return _check_password(state, pool, client, user, answers["PASSWORD"])
    if challenge == Challenge.PASSWORD_SRP:
        if not answers.get("SRP_A"):
            return {"ChallengeName": Challenge.PASSWORD_SRP, "ChallengeParameters": {},
                    "Session": _session(state, pool, client, user.username, Challenge.PASSWORD_SRP)}
        # the SRP exchange of USER_SRP_AUTH, whether or not ALLOW_USER_SRP_AUTH is on
        return flows._srp_start(state, pool, client, {"USERNAME": user.username, "SRP_A": answers["SRP_A"],
                                                      "SECRET_HASH": answers.get("SECRET_HASH")})
    if challenge in _OTP_KIND:
        return _send_otp(state, pool, client, user, challenge)
    from . import passkeys

    return passkeys.challenge(state, pool, client, user, _session)


def _check_password(state: IdpState, pool, client, user, password) -> dict:
    """The checks of password sign-in (lockout, pre authentication trigger, MFA next), no migration."""
    if state.is_locked(pool.id, user.username):
        raise E.not_authorized(E.PASSWORD_ATTEMPTS_EXCEEDED)
    from . import triggers

    triggers.pre_authentication(state, pool, client, user)
    if not flows.password_matches(state, pool, user, password):
        state.record_failure(pool.id, user.username)
        raise E.not_authorized(E.INCORRECT_CREDENTIALS)
    return flows.after_password(state, pool, client, user)


def _otp_text(state: IdpState, pool, channel: str) -> tuple[str, str | None]:
    """The message that carries a sign-in code: EmailMfaConfiguration's template for email (it covers
    "sign-in and MFA messages"), the pool's SMS authentication message for SMS."""
    if channel == "EMAIL":
        email = (state.mfa_extras.get(pool.id) or {}).get("EmailMfaConfiguration") or {}
        return email.get("Message") or "Your sign-in code is {####}", email.get("Subject") or "Your sign-in code"
    return flows._message_template(pool, "sms-mfa", "SMS"), None


def _send_otp(state: IdpState, pool, client, user, challenge: str) -> dict:
    channel, attribute, _ = _OTP_KIND[challenge]
    destination = flows._attr(user, attribute)
    if channel == "EMAIL":
        email_quota.spend(state, pool)           # a sign-in code is one of the default sender's 50 a day
    code = state.lab.random_digits(OTP_DIGITS)
    session = _session(state, pool, client, user.username, challenge, otp_code=code, otp_destination=destination)
    text, subject = _otp_text(state, pool, channel)
    from . import triggers

    triggers.deliver(state, pool, user, source="CustomMessage_Authentication", to=destination, channel=channel,
                     kind=challenge.lower().replace("_", "-"), text=text.replace("{####}", code), code=code,
                     subject=subject)
    return {"ChallengeName": challenge, "Session": session,
            "ChallengeParameters": {"CODE_DELIVERY_DELIVERY_MEDIUM": channel,
                                    "CODE_DELIVERY_DESTINATION": flows._mask(destination)}}


def _decoy(state: IdpState, pool, client, username: str, preferred: str | None, auth: dict) -> dict:
    """PreventUserExistenceErrors ENABLED, no such (enabled) user: answers shaped like a real user's."""
    available = _decoy_challenges(state, pool, username)
    if preferred not in available:
        return _select(state, pool, client, username, available, decoy=True)
    return _decoy_start(state, pool, client, username, preferred, auth)


def _decoy_start(state: IdpState, pool, client, username: str, challenge: str, answers: dict) -> dict:
    if challenge == Challenge.PASSWORD:
        if answers.get("PASSWORD"):
            raise E.not_authorized(E.INCORRECT_CREDENTIALS)
        return {"ChallengeName": Challenge.PASSWORD, "ChallengeParameters": {},
                "Session": _session(state, pool, client, username, Challenge.PASSWORD, decoy=True)}
    if challenge == Challenge.PASSWORD_SRP:
        if not answers.get("SRP_A"):
            return {"ChallengeName": Challenge.PASSWORD_SRP, "ChallengeParameters": {},
                    "Session": _session(state, pool, client, username, Challenge.PASSWORD_SRP, decoy=True)}
        return flows._srp_start(state, pool, client, {"USERNAME": username, "SRP_A": answers["SRP_A"],
                                                      "SECRET_HASH": answers.get("SECRET_HASH")})
    if challenge in _OTP_KIND:
        channel = _OTP_KIND[challenge][0]
        details = flows._simulated_delivery(pool, username)
        if details["DeliveryMedium"] != channel:    # shape the destination after the channel asked for
            digest = hashlib.sha256(f"{pool.id}/{username}".encode()).digest()
            details = ({"Destination": f"+*******{''.join(str(b % 10) for b in digest[:4])}"} if channel == "SMS"
                       else {"Destination": f"{(username or 'u')[:1]}***@{chr(97 + digest[0] % 26)}***"})
        session = _session(state, pool, client, username, challenge, decoy=True)
        return {"ChallengeName": challenge, "Session": session,
                "ChallengeParameters": {"CODE_DELIVERY_DELIVERY_MEDIUM": channel,
                                        "CODE_DELIVERY_DESTINATION": details["Destination"]}}
    from . import passkeys

    return passkeys.decoy_challenge(state, pool, client, username, _session)


# -- RespondToAuthChallenge -----------------------------------------------------------------------
def respond(state: IdpState, backend, params: dict, *, admin_pool_id: str | None = None) -> dict:
    """RespondToAuthChallenge for SELECT_CHALLENGE, PASSWORD, PASSWORD_SRP, EMAIL_OTP, SMS_OTP, WEB_AUTHN."""
    pool, client = flows._pool_and_client(backend, params, admin_pool_id)
    challenge = params.get("ChallengeName")
    answers = params.get("ChallengeResponses") or {}
    session_id = params.get("Session")
    session = flows._take_session(state, session_id, client, challenge)
    flows.check_secret_hash(client, answers.get("USERNAME", session.username), answers.get("SECRET_HASH"))
    user = None if session.decoy else pool._get_user(session.username)
    if user is None and not session.decoy:
        raise E.not_authorized(E.INCORRECT_CREDENTIALS)
    if challenge == Challenge.SELECT_CHALLENGE:
        answer = answers.get("ANSWER")
        if answer not in (session.available or []):
            raise E.invalid_parameter(f"ANSWER must be one of the AvailableChallenges {session.available}.")
        del state.sessions[session_id]
        if session.decoy:
            return _decoy_start(state, pool, client, session.username, answer, answers)
        return _start(state, pool, client, user, answer, answers)
    if challenge in (Challenge.PASSWORD, Challenge.PASSWORD_SRP):
        needed = "PASSWORD" if challenge == Challenge.PASSWORD else "SRP_A"
        if not answers.get(needed):
            raise E.invalid_parameter(f"Missing required parameter {needed}")
        del state.sessions[session_id]
        if session.decoy:
            return _decoy_start(state, pool, client, session.username, challenge, answers)
        return _start(state, pool, client, user, challenge, answers)
    if challenge in _OTP_KIND:
        return _check_otp(state, pool, client, user, session, session_id, answers.get(_OTP_KIND[challenge][2]))
    from . import passkeys

    result = passkeys.verify(state, pool, client, user, session, answers.get("CREDENTIAL"))
    del state.sessions[session_id]
    return result


def _check_otp(state: IdpState, pool, client, user, session: ChallengeSession, session_id: str, code) -> dict:
    if user is not None and state.is_locked(pool.id, user.username):
        raise E.not_authorized(E.PASSWORD_ATTEMPTS_EXCEEDED)
    if session.decoy or not isinstance(code, str) or not hmac.compare_digest(code, session.otp_code or ""):
        # the session stays: the user may try again until it expires (failures count towards the
        # same temporary lockout as wrong passwords: the lab's choice)
        if user is not None:
            state.record_failure(pool.id, user.username)
        raise E.code_mismatch("Invalid code or auth state for the user.")
    del state.sessions[session_id]
    challenge = session.challenge
    attribute = _OTP_KIND[challenge][1]
    # The code reached the address now on the profile: that address is verified, and a user who had
    # not confirmed their sign-up has proved what the confirmation code would have proved.
    if flows._attr(user, attribute) == session.otp_destination:
        user.update_attributes([{"Name": f"{attribute}_verified", "Value": "true"}])
    if flows._status(user) == "UNCONFIRMED":
        from moto.cognitoidp.models import UserStatus

        user.status = UserStatus.CONFIRMED
    state.record_success(pool.id, user.username)
    state.first_sign_in_pending.discard((pool.id, user.username))
    if not user.enabled:
        raise E.not_authorized(E.USER_DISABLED)
    return flows.mint_tokens(state, pool, client, user)


# -- sign-up sessions -----------------------------------------------------------------------------
def sign_up_session(state: IdpState, pool, client, user) -> str | None:
    """SignUp's ``Session`` for a client that can use it (ALLOW_USER_AUTH), else None."""
    if "ALLOW_USER_AUTH" not in flows.allowed_flows(client) or plans.pool_plan(pool) == FeaturePlan.LITE:
        return None
    session_id = state.opaque(120)
    minutes = client.extended_config.get("AuthSessionValidity") or flows.AUTH_SESSION_MINUTES
    state.sign_up_sessions[session_id] = SignUpSession(pool.id, client.id, user.username,
                                                       state.now() + 60 * minutes)
    return session_id


def confirm_sign_up_session(state: IdpState, pool, client, user, session_id) -> str | None:
    """ConfirmSignUp succeeded: the ``Session`` that signs the user in (if it carried SignUp's)."""
    record = state.sign_up_sessions.pop(session_id, None) if isinstance(session_id, str) else None
    if record is None or (record.pool_id, record.client_id, record.username) != (pool.id, client.id, user.username):
        return None
    minutes = client.extended_config.get("AuthSessionValidity") or flows.AUTH_SESSION_MINUTES
    new_id = state.opaque(120)
    state.sign_up_sessions[new_id] = SignUpSession(pool.id, client.id, user.username,
                                                   state.now() + 60 * minutes, confirmed=True)
    return new_id


def _sign_in_after_sign_up(state: IdpState, pool, client, username: str, session_id: str) -> dict:
    record = state.sign_up_sessions.get(session_id)
    if record is None or not record.confirmed or record.client_id != client.id:
        raise E.not_authorized("Invalid session for the user.")
    user = pool._get_user(username)
    if user is None or user.username != record.username:
        raise E.not_authorized("Invalid session for the user.")
    del state.sign_up_sessions[session_id]              # it signs in once
    if state.now() > record.expires_at:
        raise E.not_authorized(E.SESSION_EXPIRED)
    if (pool.id, user.username) not in state.first_sign_in_pending:
        raise E.not_authorized("Invalid session for the user.")   # only the first sign-in after sign-up
    if not user.enabled:
        raise E.not_authorized(E.USER_DISABLED)
    return flows._mfa_step(state, pool, client, user)


# -- passwordless users -----------------------------------------------------------------------------
def offers_passwordless(pool) -> bool:
    """Passwordless sign-in is available: EMAIL_OTP or SMS_OTP among the pool's first factors."""
    return bool({AuthFactor.EMAIL_OTP, AuthFactor.SMS_OTP} & set(plans.allowed_first_factors(pool)))


def check_passwordless_sign_up(pool) -> None:
    """SignUp without a password: "You can only create a passwordless user when passwordless sign-in
    is available" (SignUp ``Password``), i.e. EMAIL_OTP or SMS_OTP among the pool's first factors."""
    if not offers_passwordless(pool):
        raise E.invalid_parameter("A password is required: this user pool offers no passwordless sign-in "
                                  "(EMAIL_OTP or SMS_OTP in Policies.SignInPolicy.AllowedFirstAuthFactors).")


def get_user_auth_factors(state: IdpState, backend, params: dict) -> dict:
    """GetUserAuthFactors: the signed-in user's USER_AUTH options and MFA settings."""
    record = flows.check_access_token(state, backend, params.get("AccessToken"))
    pool = flows.find_pool(backend, record.pool_id)
    user = pool._get_user(record.username)
    factors = []
    for challenge in available_challenges(state, pool, user):
        factor = _FACTOR_OF[challenge]
        if factor not in factors:
            factors.append(factor)
    totp = user.software_token_mfa_enabled and (pool.id, user.username) in state.totp
    sms = user.sms_mfa_enabled and bool(flows._attr(user, "phone_number"))
    if totp:
        factors.append("SOFTWARE_TOKEN")
    result = {"Username": user.username, "ConfiguredUserAuthFactors": factors,
              "UserMFASettingList": [name for name, on in (("SMS_MFA", sms), ("SOFTWARE_TOKEN_MFA", totp)) if on]}
    if user.preferred_mfa_setting in ("SMS_MFA", "SOFTWARE_TOKEN_MFA"):
        result["PreferredMfaSetting"] = user.preferred_mfa_setting
    return result
