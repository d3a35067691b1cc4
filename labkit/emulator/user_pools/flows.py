"""The user-pool API actions the lab answers itself, the way Cognito does.

Each public function takes the lab's :class:`~labkit.emulator.user_pools.state.IdpState`, moto's cognito-idp
backend (the store of pools, clients and users) and the request's parameters, and returns the
response dict or raises a :class:`~labkit.emulator.errors.CognitoError`. moto keeps the data model;
these functions decide what Cognito would answer.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import string
from typing import Any

import pyotp

from ...cognito import srp
from ...cognito.passwords import SYMBOLS
from ...cognito.lifetimes import range_problem, token_validity_seconds
from ...cognito.names import AuthFlow, Challenge, ExplicitAuthFlow, FeaturePlan
from ...cognito.session import secret_hash
from .. import errors as E
from . import attributes, email_quota, plans, policy, rotation, triggers
from .state import (FORGOT_PASSWORD_CODE_TTL, SIGN_UP_CODE_TTL, AccessRecord, ChallengeSession,
                    CodeRecord, IdpState, RefreshRecord, SRPAttempt, TotpSecret)

USER_FLOWS = {AuthFlow.USER_SRP_AUTH, AuthFlow.USER_PASSWORD_AUTH, AuthFlow.REFRESH_TOKEN_AUTH,
              AuthFlow.REFRESH_TOKEN, AuthFlow.CUSTOM_AUTH, AuthFlow.USER_AUTH}
ADMIN_FLOWS = {AuthFlow.ADMIN_USER_PASSWORD_AUTH, AuthFlow.ADMIN_NO_SRP_AUTH, AuthFlow.REFRESH_TOKEN_AUTH,
               AuthFlow.REFRESH_TOKEN, AuthFlow.USER_SRP_AUTH, AuthFlow.CUSTOM_AUTH, AuthFlow.USER_AUTH}
# Which ExplicitAuthFlows value enables each AuthFlow (legacy names map to their ALLOW_ twins).
FLOW_PERMISSION = {
    AuthFlow.USER_SRP_AUTH: ExplicitAuthFlow.ALLOW_USER_SRP_AUTH,
    AuthFlow.USER_PASSWORD_AUTH: ExplicitAuthFlow.ALLOW_USER_PASSWORD_AUTH,
    AuthFlow.REFRESH_TOKEN_AUTH: ExplicitAuthFlow.ALLOW_REFRESH_TOKEN_AUTH,
    AuthFlow.REFRESH_TOKEN: ExplicitAuthFlow.ALLOW_REFRESH_TOKEN_AUTH,
    AuthFlow.CUSTOM_AUTH: ExplicitAuthFlow.ALLOW_CUSTOM_AUTH,
    AuthFlow.ADMIN_USER_PASSWORD_AUTH: ExplicitAuthFlow.ALLOW_ADMIN_USER_PASSWORD_AUTH,
    AuthFlow.ADMIN_NO_SRP_AUTH: ExplicitAuthFlow.ALLOW_ADMIN_USER_PASSWORD_AUTH,
    # choice-based sign-in (labkit.emulator.user_pools.passwordless); it also does password and SRP
    # sign-in without ALLOW_USER_PASSWORD_AUTH / ALLOW_USER_SRP_AUTH
    AuthFlow.USER_AUTH: ExplicitAuthFlow.ALLOW_USER_AUTH,
}
# The ExplicitAuthFlows names from before the ALLOW_ prefix, still accepted.
LEGACY_FLOW_NAMES = {"USER_PASSWORD_AUTH": ExplicitAuthFlow.ALLOW_USER_PASSWORD_AUTH,
                     "ADMIN_NO_SRP_AUTH": ExplicitAuthFlow.ALLOW_ADMIN_USER_PASSWORD_AUTH,
                     "CUSTOM_AUTH_FLOW_ONLY": ExplicitAuthFlow.ALLOW_CUSTOM_AUTH}
# A client created without ExplicitAuthFlows supports these (CreateUserPoolClient reference).
DEFAULT_FLOWS = {ExplicitAuthFlow.ALLOW_USER_SRP_AUTH, ExplicitAuthFlow.ALLOW_CUSTOM_AUTH,
                 ExplicitAuthFlow.ALLOW_REFRESH_TOKEN_AUTH}
AUTH_SESSION_MINUTES = 3      # the client's AuthSessionValidity default
# How far an SRP TIMESTAMP may be from the lab clock. Cognito documents no number: the lab's choice.
SRP_TIMESTAMP_TOLERANCE = 5 * 60
TOTP_WINDOW_STEPS = 1         # accept the previous and next 30-second step too
ADMIN_SCOPE = "aws.cognito.signin.user.admin"   # the scope of tokens from the API flows


# -- looking things up ------------------------------------------------------------------------
def find_client(backend, client_id: str | None):
    for pool in backend.user_pools.values():
        if client_id in pool.clients:
            return pool, pool.clients[client_id]
    raise E.resource_not_found(f"User pool client {client_id} does not exist.")


def find_pool(backend, pool_id: str):
    pool = backend.user_pools.get(pool_id)
    if pool is None:
        raise E.resource_not_found(f"User pool {pool_id} does not exist.")
    return pool


def _puee_enabled(client) -> bool:
    # LEGACY is the API default; the console's default is ENABLED.
    return client.extended_config.get("PreventUserExistenceErrors") == "ENABLED"


def _unknown_user(client, legacy_message: str = E.USER_NOT_FOUND) -> E.CognitoError:
    if _puee_enabled(client):
        return E.not_authorized(E.INCORRECT_CREDENTIALS)
    return E.user_not_found(legacy_message)


def check_secret_hash(client, username: str | None, provided: str | None) -> None:
    """Clients with a secret must send SECRET_HASH = Base64(HMAC-SHA256(secret, username + client id))."""
    if not client.generate_secret:
        return
    if not provided:
        raise E.not_authorized(f"Client {client.id} is configured with secret but SECRET_HASH was not received")
    expected = secret_hash(str(username), client.id, client.secret)
    if not hmac.compare_digest(expected, provided):
        raise E.not_authorized(f"Unable to verify secret hash for client {client.id}")


def allowed_flows(client) -> set[str]:
    flows = client.extended_config.get("ExplicitAuthFlows")
    if not flows:
        return set(DEFAULT_FLOWS)
    return {LEGACY_FLOW_NAMES.get(f, f) for f in flows}


def check_flow_enabled(client, auth_flow: str) -> None:
    if FLOW_PERMISSION[auth_flow] not in allowed_flows(client):
        raise E.invalid_parameter(f"{auth_flow} flow not enabled for this client")


def _mask(destination: str) -> str:
    if "@" in destination:
        local, domain = destination.split("@", 1)
        return f"{local[:1]}***@{domain[:1]}***"
    return f"+*******{destination[-4:]}"


def _attr(user, name: str) -> str | None:
    return user.attribute_lookup.get(name) if user is not None else None


# -- passwords, without the plaintext ---------------------------------------------------------
def password_matches(state: IdpState, pool, user, password: str | None) -> bool:
    """Check a password against what the lab keeps: the SRP salt and verifier, and a digest of x.

    x = H(salt | H(pool_name | username | ":" | password)) is what the verifier v = g^x is made of.
    Comparing H(x) rather than recomputing g^x (a 3072-bit modexp, ~13 ms) checks the same secret.
    """
    stored = state.srp_verifiers.get((pool.id, user.username))
    if stored is None or not isinstance(password, str):
        return False
    salt, _verifier, x_digest = stored
    return hmac.compare_digest(_x_digest(pool.id, user.username, password, salt), x_digest)


def _x_digest(pool_id: str, username: str, password: str, salt: bytes) -> bytes:
    return hashlib.sha256(str(srp.compute_x(pool_id, username, password, salt)).encode()).digest()


MAX_PASSWORD_HISTORY = 24      # PasswordHistorySize is 0-24


def _history_size(state: IdpState, pool_id: str) -> int:
    from moto.cognitoidp.models import cognitoidp_backends

    pool = cognitoidp_backends[state.lab.account_id][state.lab.region].user_pools.get(pool_id)
    if pool is None:
        return 0
    rules = (pool.extended_config.get("Policies") or {}).get("PasswordPolicy") or {}
    return int(rules.get("PasswordHistorySize") or 0)


def check_password_history(state: IdpState, pool_id: str, username: str, password: str) -> None:
    """PasswordHistorySize n: "Users can't set a password that matches any of n previous passwords"
    (PasswordPolicyType); the current password is the most recent of them."""
    size = _history_size(state, pool_id)
    history = state.password_history.get((pool_id, username), [])[:size]
    if any(hmac.compare_digest(_x_digest(pool_id, username, password, salt), digest) for salt, digest in history):
        raise E.CognitoError("PasswordHistoryPolicyViolationException",
                             f"The password matches one of the user's last {size} passwords (PasswordHistorySize).")


def remember_password(state: IdpState, pool_id: str, username: str, password: str) -> None:
    """Keep salt, verifier and a digest of x; never the password. The pool's password history is
    checked first (only digests of old passwords are kept, each with its own salt)."""
    check_password_history(state, pool_id, username, password)
    salt = srp.new_salt(state.lab.rng)
    digest = _x_digest(pool_id, username, password, salt)
    state.srp_verifiers[(pool_id, username)] = (salt, srp.compute_verifier(pool_id, username, password, salt), digest)
    history = state.password_history.setdefault((pool_id, username), [])
    history.insert(0, (salt, digest))
    del history[MAX_PASSWORD_HISTORY:]


# -- codes ------------------------------------------------------------------------------------
# The custom message trigger source of each kind of code (CustomMessage_ResendCode is passed explicitly).
_MESSAGE_SOURCES = {"sign-up": "CustomMessage_SignUp", "forgot-password": "CustomMessage_ForgotPassword"}


def _send_code(state: IdpState, pool, user, purpose: str, ttl: float, *, prefer: str | None = None,
               message_source: str | None = None) -> dict:
    """Make a fresh code (replacing any earlier one), deliver it, return CodeDeliveryDetails."""
    email, phone = _attr(user, "email"), _attr(user, "phone_number")
    if prefer == "phone_number" and phone:
        channel, destination, attribute = "SMS", phone, "phone_number"
    elif email:
        channel, destination, attribute = "EMAIL", email, "email"
    elif phone:
        channel, destination, attribute = "SMS", phone, "phone_number"
    else:
        raise E.invalid_parameter(
            "Cannot send a code: the user has no email or phone_number attribute to send it to.")
    if channel == "EMAIL":
        email_quota.spend(state, pool)           # the default sender's 50 emails a day
    code = state.code()
    state.codes[(pool.id, user.username, purpose)] = CodeRecord(code, state.now() + ttl, channel, destination)
    template = _message_template(pool, purpose, channel)
    text = template.replace("{####}", code).replace("{username}", user.username)
    triggers.deliver(state, pool, user, source=message_source or _MESSAGE_SOURCES[purpose], to=destination,
                     channel=channel, kind=purpose, text=text, code=code)
    return {"Destination": _mask(destination), "DeliveryMedium": channel, "AttributeName": attribute}


def _message_template(pool, purpose: str, channel: str) -> str:
    cfg = pool.extended_config
    if purpose == "sign-up":
        tmpl = cfg.get("VerificationMessageTemplate") or {}
        if channel == "EMAIL":
            return tmpl.get("EmailMessage") or cfg.get("EmailVerificationMessage") or "Your verification code is {####}. "
        return tmpl.get("SmsMessage") or cfg.get("SmsVerificationMessage") or "Your verification code is {####}. "
    if purpose == "forgot-password":
        return "Your password reset code is {####}. "
    if purpose == "sms-mfa":
        return ((pool.sms_mfa_config or {}).get("SmsAuthenticationMessage") or cfg.get("SmsAuthenticationMessage")
                or "Your authentication code is {####}. ")
    return "Your code is {####}. "


def _check_code(state: IdpState, pool, user, purpose: str, code: str | None) -> None:
    record = state.codes.get((pool.id, user.username, purpose))
    if record is None or not isinstance(code, str) or not hmac.compare_digest(record.code, code):
        raise E.code_mismatch()
    if state.now() > record.expires_at:
        raise E.expired_code()
    del state.codes[(pool.id, user.username, purpose)]   # a code works once


def _auto_verified(pool) -> list[str]:
    return list(pool.extended_config.get("AutoVerifiedAttributes") or [])


# -- sign-up and recovery ---------------------------------------------------------------------
# With PreventUserExistenceErrors ENABLED, ForgotPassword and ResendConfirmationCode answer an unknown
# (or deactivated) user, and ForgotPassword a user with no verified address, with CodeDeliveryDetails
# for a simulated delivery: nothing is sent. "The simulated delivery medium is determined by the input
# username format and verification settings of the user pool" (developer guide, "Managing user
# existence error responses": cognito-user-pool-managing-errors.html).
_LOOKS_LIKE_PHONE = re.compile(r"\+[0-9]{6,15}")


def _simulated_delivery(pool, username) -> dict:
    """CodeDeliveryDetails for a simulated delivery to ``username``: nothing is sent.

    The medium follows the username's format (an email address: EMAIL; an E.164 phone number: SMS),
    else the pool's verification settings (AutoVerifiedAttributes: email first, then phone_number;
    neither: EMAIL). An address typed as the username is masked as a real one would be. Otherwise the
    masked destination is made up, but always the same for the same pool and username, so that asking
    twice cannot tell a simulated answer from a real one (the lab's choice; Cognito does not say).
    """
    name = str(username or "")
    digest = hashlib.sha256(f"{pool.id}/{name}".encode()).digest()
    if "@" in name:
        return {"Destination": _mask(name), "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    if _LOOKS_LIKE_PHONE.fullmatch(name):
        return {"Destination": _mask(name), "DeliveryMedium": "SMS", "AttributeName": "phone_number"}
    auto = _auto_verified(pool)
    if "email" not in auto and "phone_number" in auto:
        digits = "".join(str(b % 10) for b in digest[:4])
        return {"Destination": f"+*******{digits}", "DeliveryMedium": "SMS", "AttributeName": "phone_number"}
    letter = string.ascii_lowercase[digest[0] % 26]
    return {"Destination": f"{(name or 'u')[:1]}***@{letter}***", "DeliveryMedium": "EMAIL",
            "AttributeName": "email"}


def _client_call(backend, params: dict):
    """The opening of every unauthenticated user call: app client, SECRET_HASH, the user (or None)."""
    pool, client = find_client(backend, params.get("ClientId"))
    username = params.get("Username")
    check_secret_hash(client, username, params.get("SecretHash"))
    return pool, client, (pool._get_user(username) if username else None)


def _sign_up_channel(pool) -> str | None:
    """Sign-up codes go to the auto-verified attribute: email if listed, else phone_number."""
    auto = _auto_verified(pool)
    return "phone_number" if "email" not in auto and "phone_number" in auto else None


def after_sign_up(state: IdpState, pool, client, user) -> dict:
    """SignUp: moto created the user; Cognito sends a code to an auto-verified attribute (not when the
    pre sign-up trigger confirmed the user already)."""
    if _status(user) == "CONFIRMED":
        return {"UserConfirmed": True, "UserSub": user.id}
    if not _auto_verified(pool) or not (_attr(user, "email") or _attr(user, "phone_number")):
        return {"UserConfirmed": False, "UserSub": user.id}
    details = _send_code(state, pool, user, "sign-up", SIGN_UP_CODE_TTL, prefer=_sign_up_channel(pool))
    return {"UserConfirmed": False, "UserSub": user.id, "CodeDeliveryDetails": details}


def confirm_sign_up(state: IdpState, backend, params: dict) -> dict:
    pool, client, user = _client_call(backend, params)
    if user is None:
        if _puee_enabled(client):
            raise E.code_mismatch()        # as if a code had been sent
        raise E.user_not_found("Username/client id combination not found.")
    if _status(user) != "UNCONFIRMED":
        raise E.not_authorized(f"User cannot be confirmed. Current status is {_status(user)}")
    record = state.codes.get((pool.id, user.username, "sign-up"))
    _check_code(state, pool, user, "sign-up", params.get("ConfirmationCode"))
    from moto.cognitoidp.models import UserStatus
    user.status = UserStatus.CONFIRMED
    verified = "email_verified" if record.channel == "EMAIL" else "phone_number_verified"
    user.update_attributes([{"Name": verified, "Value": "true"}])
    state.first_sign_in_pending.add((pool.id, user.username))
    # After the confirmation took effect: a failing trigger's error reaches the caller, the user stays
    # confirmed (the trigger cannot undo what already happened).
    triggers.post_confirmation(state, pool, user, "PostConfirmation_ConfirmSignUp")
    return {}


def resend_confirmation_code(state: IdpState, backend, params: dict) -> dict:
    """ResendConfirmationCode. With PreventUserExistenceErrors ENABLED, "Amazon Cognito returns
    CodeDeliveryDetails for a disabled user or a user that doesn't exist" (nothing is sent); a
    confirmed user still gets InvalidParameterException (developer guide, "Managing user existence
    error responses": these APIs alternate between a simulated delivery and InvalidParameterException)."""
    pool, client, user = _client_call(backend, params)
    if _puee_enabled(client) and (user is None or not user.enabled):
        return {"CodeDeliveryDetails": _simulated_delivery(pool, params.get("Username"))}
    if user is None:
        raise E.user_not_found("Username/client id combination not found.")
    if _status(user) != "UNCONFIRMED":
        raise E.invalid_parameter("User is already confirmed.")
    return {"CodeDeliveryDetails": _send_code(state, pool, user, "sign-up", SIGN_UP_CODE_TTL,
                                              prefer=_sign_up_channel(pool),
                                              message_source="CustomMessage_ResendCode")}


def forgot_password(state: IdpState, backend, params: dict) -> dict:
    """ForgotPassword: a code to the user's verified email or phone number.

    With PreventUserExistenceErrors ENABLED: "When a user isn't found, is deactivated, or doesn't have
    a verified delivery mechanism to recover their password, Amazon Cognito returns CodeDeliveryDetails
    with a simulated delivery medium" (developer guide, "Managing user existence error responses").
    With LEGACY each case has its own error: UserNotFoundException, NotAuthorizedException,
    InvalidParameterException.
    """
    pool, client, user = _client_call(backend, params)
    if user is None and params.get("Username"):
        # a user the pool lacks may exist in the legacy store the migrate user trigger reads
        user = triggers.migrate_user(state, pool, client, params["Username"], "UserMigration_ForgotPassword")
    hide = _puee_enabled(client)
    if user is None:
        if hide:
            return {"CodeDeliveryDetails": _simulated_delivery(pool, params.get("Username"))}
        raise E.user_not_found(E.USER_NOT_FOUND)
    if not user.enabled:
        if hide:
            return {"CodeDeliveryDetails": _simulated_delivery(pool, params.get("Username"))}
        raise E.not_authorized(E.USER_DISABLED)
    verified_email = _attr(user, "email") and _attr(user, "email_verified") == "true"
    verified_phone = _attr(user, "phone_number") and _attr(user, "phone_number_verified") == "true"
    if not (verified_email or verified_phone):
        if hide:
            return {"CodeDeliveryDetails": _simulated_delivery(pool, params.get("Username"))}
        raise E.invalid_parameter(
            "Cannot reset password for the user as there is no registered/verified email or phone_number")
    prefer = None if verified_email else "phone_number"
    return {"CodeDeliveryDetails": _send_code(state, pool, user, "forgot-password", FORGOT_PASSWORD_CODE_TTL,
                                              prefer=prefer)}


def confirm_forgot_password(state: IdpState, backend, params: dict, validate_password) -> dict:
    pool, client, user = _client_call(backend, params)
    hide = _puee_enabled(client)
    if user is None or (hide and not user.enabled):
        # ENABLED: "CodeMismatchException error for users that don't exist or are disabled" (guide)
        if hide:
            raise E.code_mismatch()
        raise E.user_not_found(E.USER_NOT_FOUND)
    password = params.get("Password")
    if not isinstance(password, str):
        raise E.invalid_parameter("Missing required parameter Password")
    validate_password(pool.id, password)       # a weak password must not burn the code
    check_password_history(state, pool.id, user.username, password)     # nor a reused one
    if hide and (pool.id, user.username, "forgot-password") not in state.codes:
        # ENABLED: "If a code isn't requested when using ForgotPassword, ... ExpiredCodeException" (guide)
        raise E.expired_code()
    _check_code(state, pool, user, "forgot-password", params.get("ConfirmationCode"))
    from moto.cognitoidp.models import UserStatus
    user.password = password
    if _status(user) in ("RESET_REQUIRED", "FORCE_CHANGE_PASSWORD"):
        user.status = UserStatus.CONFIRMED
    state.record_success(pool.id, user.username)
    triggers.post_confirmation(state, pool, user, "PostConfirmation_ConfirmForgotPassword")
    return {}


# -- admin invitations --------------------------------------------------------------------------
def temporary_password(state: IdpState, pool) -> str:
    """A temporary password that satisfies the pool's policy, from the lab's random generator."""
    rng = state.lab.rng
    policy = (pool.extended_config.get("Policies") or {}).get("PasswordPolicy") or {}
    length = max(int(policy.get("MinimumLength", 8)), 12)
    chars = [rng.choice(string.ascii_uppercase), rng.choice(string.ascii_lowercase),
             rng.choice(string.digits), rng.choice(sorted(SYMBOLS))]
    chars += [rng.choice(string.ascii_letters + string.digits) for _ in range(length - len(chars))]
    rng.shuffle(chars)
    return "".join(chars)


def resend_invitation(state: IdpState, pool, params) -> dict:
    """AdminCreateUser with MessageAction=RESEND: same user, a new temporary password, a new invitation."""
    user = pool._get_user(params.get("Username"))
    if user is None:
        raise E.user_not_found()
    if _status(user) != "FORCE_CHANGE_PASSWORD":
        raise E.CognitoError("UnsupportedUserStateException",
                             f"Resend not possible. {user.username} status is not FORCE_CHANGE_PASSWORD")
    params["TemporaryPassword"] = params.get("TemporaryPassword") or temporary_password(state, pool)
    user.password = params["TemporaryPassword"]
    state.temporary_passwords[(pool.id, user.username)] = state.now()
    _send_invitation(state, pool, user, params)
    return {"User": user.to_json(extended=True)}


def make_passwordless(state: IdpState, pool, user) -> dict:
    """An AdminCreateUser user in a pool with passwordless sign-in and no TemporaryPassword: no
    password at all (one-time codes or a passkey only). The docs say a user *with* a password is
    FORCE_CHANGE_PASSWORD; the status of one without is not documented: the lab's choice is
    CONFIRMED, as for a passwordless SignUp once confirmed. Returns the user's JSON."""
    user.password = None
    user.status = "CONFIRMED"
    state.srp_verifiers.pop((pool.id, user.username), None)
    return user.to_json(extended=True)


def _send_invitation(state: IdpState, pool, user, params) -> None:
    mediums = params.get("DesiredDeliveryMediums") or ["SMS"]    # Cognito's default is SMS
    template = ((pool.extended_config.get("AdminCreateUserConfig") or {}).get("InviteMessageTemplate") or {})
    password = params.get("TemporaryPassword")
    # "This template must include the {####} temporary password placeholder if you are creating
    # users with passwords. If your users don't have passwords, you can omit the placeholder."
    default = ("Your username is {username} and temporary password is {####}. " if password
               else "Your username is {username}. ")
    for medium, attribute, key in (("EMAIL", "email", "EmailMessage"), ("SMS", "phone_number", "SMSMessage")):
        destination = user.attribute_lookup.get(attribute)
        if medium in mediums and destination:
            text = template.get(key) or default
            if not password and "{####}" in text:     # lab's choice: no "temporary password is ." line
                text = default
            text = text.replace("{username}", params.get("Username", user.username)).replace("{####}", password or "")
            triggers.deliver(state, pool, user, source="CustomMessage_AdminCreateUser", to=destination,
                             channel=medium, kind="invitation", text=text, code=password,
                             username=params.get("Username", user.username))


def after_admin_create_user(state: IdpState, pool, user, params) -> None:
    """moto created the user: remember when its temporary password was issued, send the invitation
    unless MessageAction is SUPPRESS."""
    if user is None:
        return
    if params.get("TemporaryPassword"):
        state.temporary_passwords[(pool.id, user.username)] = state.now()
    if params.get("MessageAction") != "SUPPRESS":
        _send_invitation(state, pool, user, params)


# -- tokens -----------------------------------------------------------------------------------
def _groups(user) -> list:
    return sorted(user.groups, key=lambda g: (g.precedence is None, g.precedence or 0, g.group_name))


def _issuer(state: IdpState, pool) -> str:
    return state.lab.issuer(pool.id)


def mint_tokens(state: IdpState, pool, client, user, refresh: RefreshRecord | None = None, *,
                scopes: list[str] | None = None, nonce: str | None = None,
                trigger_source: str | None = None, rotate: bool = False) -> dict:
    """Issue ID and access tokens (and a refresh token on sign-in), signed with the pool's key.

    ``scopes``: the OAuth scopes granted at the token endpoint (the access token's ``scope``
    claim); the API flows grant ``aws.cognito.signin.user.admin`` alone. ``nonce``: the one the
    authorize request carried, echoed in the ID token (OIDC). ``trigger_source`` is the pre token
    generation trigger's ``triggerSource`` (default: TokenGeneration_Authentication on sign-in,
    TokenGeneration_RefreshTokens with ``refresh``); a sign-in (no ``refresh``) runs the post
    authentication trigger first. ``rotate`` (with ``refresh``): refresh-token rotation, a new refresh
    token in the same family (same ``origin_jti`` and ``auth_time``) that expires when the one it
    replaces does (:mod:`.rotation`; the caller marks the old one rotated out).
    """
    source = trigger_source or ("TokenGeneration_RefreshTokens" if refresh is not None
                                else "TokenGeneration_Authentication")
    if refresh is None:
        triggers.post_authentication(state, pool, client, user)
    now = int(state.now())
    cfg = client.extended_config
    new_refresh = None
    if refresh is None:
        new_refresh = state.opaque(96)
        refresh = RefreshRecord(pool.id, client.id, user.username, user.id, state.uuid(), now,
                                now + token_validity_seconds(cfg, "RefreshToken"))
        state.refresh_tokens[new_refresh] = refresh
    elif rotate:
        new_refresh = state.opaque(96)
        state.refresh_tokens[new_refresh] = RefreshRecord(pool.id, client.id, user.username, user.id,
                                                          refresh.origin_jti, refresh.auth_time, refresh.expires_at)
    groups = _groups(user)
    access_ttl = token_validity_seconds(cfg, "AccessToken")
    event_id = state.uuid()
    access_claims: dict[str, Any] = {
        "sub": user.id, "iss": _issuer(state, pool), "client_id": client.id,
        "origin_jti": refresh.origin_jti, "event_id": event_id, "token_use": "access",
        "scope": " ".join(scopes) if scopes is not None else ADMIN_SCOPE, "auth_time": refresh.auth_time,
        "exp": now + access_ttl, "iat": now, "jti": state.uuid(), "username": user.username,
    }
    if groups:
        access_claims["cognito:groups"] = [g.group_name for g in groups]
    id_claims: dict[str, Any] = {"sub": user.id}
    if groups:
        id_claims["cognito:groups"] = [g.group_name for g in groups]
        with_roles = [g for g in groups if g.role_arn]
        if with_roles:
            id_claims["cognito:roles"] = [g.role_arn for g in with_roles]
            # The lowest Precedence wins; groups tied at the top with different roles leave none.
            best = with_roles[0]
            top = {g.role_arn for g in with_roles if g.precedence == best.precedence}
            if len(top) == 1:
                id_claims["cognito:preferred_role"] = best.role_arn
    # only the attributes the app client may read (its ReadAttributes), custom ones as strings
    id_claims.update(attributes.id_token_claims(pool, client, user))
    id_claims.update({
        "iss": _issuer(state, pool), "cognito:username": user.username, "origin_jti": refresh.origin_jti,
        "aud": client.id, "event_id": event_id, "token_use": "id", "auth_time": refresh.auth_time,
        "exp": now + token_validity_seconds(cfg, "IdToken"), "iat": now, "jti": state.uuid(),
    })
    if nonce is not None:
        id_claims["nonce"] = nonce
    groups_in_id = {k: id_claims[k] for k in triggers.GROUP_CLAIMS if k in id_claims}
    triggers.pre_token_generation(state, pool, client, user, source, id_claims, access_claims, groups_in_id)
    access_token = state.keys.key_for(pool.id, "access").sign(access_claims)
    id_token = state.keys.key_for(pool.id, "id").sign(id_claims)
    state.access_tokens[access_claims["jti"]] = AccessRecord(pool.id, client.id, user.username, user.id,
                                                             refresh.origin_jti, access_claims["exp"])
    # moto's own actions (GetUser, ChangePassword, …) find the user through these maps.
    pool.access_tokens[access_token] = (client.id, user.username)
    pool.id_tokens[id_token] = (client.id, user.username)
    result = {"AccessToken": access_token, "ExpiresIn": access_ttl, "TokenType": "Bearer", "IdToken": id_token}
    if new_refresh:
        result["RefreshToken"] = new_refresh
        pool.refresh_tokens[new_refresh] = (client.id, user.username, refresh.origin_jti)
    return {"ChallengeParameters": {}, "AuthenticationResult": result}


def check_access_token(state: IdpState, backend, token, required_scope: str = "aws.cognito.signin.user.admin"
                       ) -> AccessRecord:
    """What Cognito checks before any call that takes an AccessToken: the user-pool API needs the
    ``aws.cognito.signin.user.admin`` scope (the userInfo endpoint asks for ``openid`` instead)."""
    import jwt

    if not isinstance(token, str):
        raise E.invalid_parameter("AccessToken must be a string.")
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise E.not_authorized(E.INVALID_ACCESS_TOKEN) from None
    jti = claims.get("jti")
    record = state.access_tokens.get(jti) if isinstance(jti, str) else None
    if record is None or claims.get("token_use") != "access":
        raise E.not_authorized(E.INVALID_ACCESS_TOKEN)
    # The signature must be the pool's: a token edited after issue is not the one we stored.
    key = state.keys.key_for(record.pool_id, "access")
    try:
        jwt.decode(token, key.private_key.public_key(), algorithms=["RS256"],
                   # times are checked below, on the lab clock (PyJWT would use real time)
                   options={"verify_exp": False, "verify_iat": False, "verify_nbf": False})
    except jwt.PyJWTError:
        raise E.not_authorized(E.INVALID_ACCESS_TOKEN) from None
    if record.origin_jti in state.revoked_origins or not _still_the_user(backend, record):
        raise E.not_authorized(E.ACCESS_TOKEN_REVOKED)
    if state.now() >= record.expires_at:
        raise E.not_authorized(E.ACCESS_TOKEN_EXPIRED)
    if required_scope not in str(claims.get("scope", "")).split():
        raise E.not_authorized("Access Token does not have required scopes")
    return record


def _still_the_user(backend, record) -> bool:
    """Deleting or disabling a user revokes their tokens; a re-created namesake is someone else."""
    pool = backend.user_pools.get(record.pool_id)
    user = pool._get_user(record.username) if pool is not None else None
    return user is not None and user.id == record.sub and user.enabled


def revoke_token(state: IdpState, backend, params: dict) -> dict:
    pool, client = find_client(backend, params.get("ClientId"))
    if client.generate_secret and params.get("ClientSecret") != client.secret:
        raise E.not_authorized(f"Client {client.id} is configured with secret but ClientSecret was not received"
                               if not params.get("ClientSecret") else "Invalid client secret.")
    if client.extended_config.get("EnableTokenRevocation") is False:
        raise E.CognitoError("UnsupportedOperationException", "Token revocation is not enabled for this client.")
    token = params.get("Token")
    if isinstance(token, str) and token.count(".") == 2:
        raise E.CognitoError("UnsupportedTokenTypeException",
                             "RevokeToken takes a refresh token; access and ID tokens are revoked with it.")
    record = state.refresh_tokens.get(token)
    if record is None:
        return {}                  # RFC 7009: revoking an unknown token is not an error
    if record.client_id != client.id:
        raise E.CognitoError("UnauthorizedException", "The refresh token was not issued to this client.")
    state.revoked_origins.add(record.origin_jti)
    return {}


def sign_out_everywhere(state: IdpState, pool_id: str, username: str) -> None:
    """GlobalSignOut: revoke every refresh token of the user, and the access tokens issued from them."""
    for record in state.refresh_tokens.values():
        if record.pool_id == pool_id and record.username == username:
            state.revoked_origins.add(record.origin_jti)


def forget_user(state: IdpState, pool_id: str, username: str) -> None:
    """A deleted user is gone: their tokens are revoked and nothing the lab kept about them (password
    verifier, TOTP secrets, codes, lockout, sessions, SRP attempts) carries over to a namesake."""
    sign_out_everywhere(state, pool_id, username)
    state.srp_verifiers.pop((pool_id, username), None)
    state.password_history.pop((pool_id, username), None)
    state.lockouts.pop((pool_id, username), None)
    state.temporary_passwords.pop((pool_id, username), None)
    state.first_sign_in_pending.discard((pool_id, username))
    for key in [k for k in state.totp if k[-2:] == (pool_id, username)]:
        del state.totp[key]
    for key in [k for k in state.codes if k[:2] == (pool_id, username)]:
        del state.codes[key]
    for key in [k for k, v in state.sessions.items() if (v.pool_id, v.username) == (pool_id, username)]:
        del state.sessions[key]
    for attempt in state.srp_attempts.values():
        if (attempt.pool_id, attempt.username) == (pool_id, username):
            attempt.used = True


def delete_user(state: IdpState, backend, params: dict) -> dict:
    """DeleteUser: a signed-in user deletes their own profile. They can no longer sign in, and the
    tokens they hold stop working."""
    record = check_access_token(state, backend, params.get("AccessToken"))
    backend.admin_delete_user(record.pool_id, record.username)   # moto's model: groups and the user
    forget_user(state, record.pool_id, record.username)
    return {}


def change_password(state: IdpState, backend, params: dict) -> dict:
    """ChangePassword: the proposed password must satisfy the pool's policy, the previous one must be
    the user's (else NotAuthorizedException "Incorrect username or password.")."""
    record = check_access_token(state, backend, params.get("AccessToken"))
    pool = find_pool(backend, record.pool_id)
    user = pool._get_user(record.username)
    proposed = params.get("ProposedPassword")
    if not isinstance(proposed, str):
        raise E.invalid_parameter("Missing required parameter ProposedPassword")
    policy.validate_password(pool, proposed)
    if not password_matches(state, pool, user, params.get("PreviousPassword")):
        raise E.not_authorized(E.INCORRECT_CREDENTIALS)
    from moto.cognitoidp.models import UserStatus
    user.password = proposed
    if _status(user) in ("RESET_REQUIRED", "FORCE_CHANGE_PASSWORD"):
        user.status = UserStatus.CONFIRMED
    return {}


def _refresh(state: IdpState, pool, client, params: dict) -> dict:
    if rotation.enabled(client):
        # Developer guide, "Refresh tokens": "You can't authenticate with REFRESH_TOKEN_AUTH in app
        # clients with refresh token rotation enabled." (exception and wording: the lab's choice)
        raise E.invalid_parameter("REFRESH_TOKEN_AUTH can't be used with this app client: refresh token "
                                  "rotation is enabled. Refresh with GetTokensFromRefreshToken.")
    token = params.get("REFRESH_TOKEN")
    record = state.refresh_tokens.get(token)
    if record is None or record.client_id != client.id:
        raise E.not_authorized(E.INVALID_REFRESH_TOKEN)
    user = pool._get_user(record.username)
    check_secret_hash(client, params.get("USERNAME", record.username), params.get("SECRET_HASH"))
    problem = rotation.refresh_problem(state, pool, record)
    if problem is not None:
        raise problem
    result = mint_tokens(state, pool, client, user, refresh=record)
    return result


def get_tokens_from_refresh_token(state: IdpState, backend, params: dict) -> dict:
    """GetTokensFromRefreshToken: new ID and access tokens, and with rotation a new refresh token
    (:mod:`.rotation` says what Cognito documents and what the lab chose).

    Parameters (botocore's model): RefreshToken, ClientId (required); ClientSecret, DeviceKey,
    ClientMetadata (passed to the pre token generation trigger, triggerSource
    TokenGeneration_RefreshTokens). Answers ``{"AuthenticationResult": {...}}``.
    """
    pool, client = find_client(backend, params.get("ClientId"))
    rotation.check_client_secret(client, params.get("ClientSecret"))
    token = params.get("RefreshToken")
    record = state.refresh_tokens.get(token) if isinstance(token, str) else None
    if record is None or record.client_id != client.id:
        raise E.not_authorized(E.INVALID_REFRESH_TOKEN)
    problem = rotation.refresh_problem(state, pool, record)
    if problem is not None:
        raise problem
    rotate = rotation.enabled(client)
    if rotate:
        # the pool may have moved to Lite since the client was configured
        plans.require_plan(pool, FeaturePlan.ESSENTIALS, rotation.FEATURE)
    user = pool._get_user(record.username)
    result = mint_tokens(state, pool, client, user, refresh=record, rotate=rotate)
    if rotate:
        rotation.mark_rotated(state, record, client)
    return {"AuthenticationResult": result["AuthenticationResult"]}


# -- sign-in ----------------------------------------------------------------------------------
def _new_session(state: IdpState, pool, client, user, challenge: str, **extra) -> str:
    minutes = client.extended_config.get("AuthSessionValidity") or AUTH_SESSION_MINUTES
    session_id = state.opaque(120)
    state.sessions[session_id] = ChallengeSession(pool.id, client.id, user.username, challenge,
                                                  state.now() + 60 * minutes, **extra)
    return session_id


def _take_session(state: IdpState, session_id: str | None, client, challenge: str) -> ChallengeSession:
    session = state.sessions.get(session_id or "")
    if session is None or session.client_id != client.id:
        raise E.not_authorized("Invalid session for the user.")
    if state.now() > session.expires_at:
        del state.sessions[session_id]
        raise E.not_authorized(E.SESSION_EXPIRED)
    if session.challenge != challenge:
        raise E.invalid_parameter(f"This session expects a {session.challenge} response, not {challenge}.")
    return session


def _status(user) -> str:
    return getattr(user.status, "value", str(user.status))


def check_may_continue(state: IdpState, pool, user) -> str:
    """After a right password (API flows and the hosted UI alike): the errors Cognito gives a
    disabled, unconfirmed or reset-required user, or an expired temporary password. Returns the
    user's status."""
    if not user.enabled:
        raise E.not_authorized(E.USER_DISABLED)
    status = _status(user)
    if status == "UNCONFIRMED":
        raise E.CognitoError("UserNotConfirmedException", E.USER_NOT_CONFIRMED)
    if status == "RESET_REQUIRED":
        raise E.CognitoError("PasswordResetRequiredException", "Password reset required for the user")
    if status == "FORCE_CHANGE_PASSWORD":
        issued = state.temporary_passwords.get((pool.id, user.username))
        days = policy.password_policy(pool).get("TemporaryPasswordValidityDays", policy.TEMPORARY_PASSWORD_DAYS)
        if issued is not None and state.now() > issued + 86400 * days:
            raise E.not_authorized("Temporary password has expired and must be reset by an administrator.")
    return status


def after_password(state: IdpState, pool, client, user) -> dict:
    """The password is right: what comes next (new password, MFA, or tokens)."""
    state.record_success(pool.id, user.username)
    status = check_may_continue(state, pool, user)
    if status == "FORCE_CHANGE_PASSWORD":
        attrs = {k: v for k, v in user.attribute_lookup.items() if k not in ("sub",)}
        return {"ChallengeName": Challenge.NEW_PASSWORD_REQUIRED,
                "Session": _new_session(state, pool, client, user, Challenge.NEW_PASSWORD_REQUIRED),
                "ChallengeParameters": {"USER_ID_FOR_SRP": user.username, "requiredAttributes": "[]",
                                        "userAttributes": json.dumps(attrs)}}
    return _mfa_step(state, pool, client, user)


def _mfa_step(state: IdpState, pool, client, user, *, token_source: str | None = None) -> dict:
    """After the password: an MFA challenge, MFA_SETUP, or tokens.

    The developer guide ("Adding MFA to a user pool") says that the first time a new user signs in,
    Cognito issues tokens even if the pool requires MFA: the confirmation of the verification message
    Cognito sent them is that sign-in's second factor; every later sign-in asks the user to set up a
    factor. The lab applies that to users who confirmed their sign-up with a code (ConfirmSignUp);
    users an administrator created or confirmed never answered a verification message, so they get
    MFA_SETUP from their first sign-in, as the API reference's MFA_SETUP entry describes.
    """
    mfa = pool.mfa_config or "OFF"
    first_sign_in = (pool.id, user.username) in state.first_sign_in_pending
    state.first_sign_in_pending.discard((pool.id, user.username))
    totp_ready = user.software_token_mfa_enabled and (pool.id, user.username) in state.totp
    sms_ready = user.sms_mfa_enabled and _attr(user, "phone_number")
    if mfa == "OFF" or (mfa == "OPTIONAL" and not (totp_ready or sms_ready)):
        return mint_tokens(state, pool, client, user, trigger_source=token_source)
    if mfa == "ON" and first_sign_in and not (totp_ready or sms_ready):
        return mint_tokens(state, pool, client, user, trigger_source=token_source)
    if totp_ready and sms_ready and user.preferred_mfa_setting not in ("SOFTWARE_TOKEN_MFA", "SMS_MFA"):
        return {"ChallengeName": Challenge.SELECT_MFA_TYPE,
                "Session": _new_session(state, pool, client, user, Challenge.SELECT_MFA_TYPE),
                "ChallengeParameters": {"MFAS_CAN_CHOOSE": json.dumps(["SMS_MFA", "SOFTWARE_TOKEN_MFA"])}}
    if totp_ready and (user.preferred_mfa_setting != "SMS_MFA" or not sms_ready):
        return _totp_challenge(state, pool, client, user)
    if sms_ready or (mfa == "ON" and pool.sms_mfa_config and _attr(user, "phone_number")):
        return _sms_challenge(state, pool, client, user)
    # MFA is required and the user has no factor yet.
    can_setup = ["SOFTWARE_TOKEN_MFA"] if pool.token_mfa_config and pool.token_mfa_config.get("Enabled") else []
    if pool.sms_mfa_config:
        can_setup.append("SMS_MFA")
    return {"ChallengeName": Challenge.MFA_SETUP,
            "Session": _new_session(state, pool, client, user, Challenge.MFA_SETUP),
            "ChallengeParameters": {"MFAS_CAN_SETUP": json.dumps(can_setup or ["SOFTWARE_TOKEN_MFA"])}}


def _totp_challenge(state, pool, client, user) -> dict:
    return {"ChallengeName": Challenge.SOFTWARE_TOKEN_MFA,
            "Session": _new_session(state, pool, client, user, Challenge.SOFTWARE_TOKEN_MFA),
            "ChallengeParameters": {}}


def _sms_challenge(state, pool, client, user) -> dict:
    code = state.code()
    phone = _attr(user, "phone_number")
    session = _new_session(state, pool, client, user, Challenge.SMS_MFA, sms_code=code)
    text = _message_template(pool, "sms-mfa", "SMS").replace("{####}", code)
    triggers.deliver(state, pool, user, source="CustomMessage_Authentication", to=phone, channel="SMS",
                     kind="sms-mfa", text=text, code=code)
    return {"ChallengeName": Challenge.SMS_MFA, "Session": session,
            "ChallengeParameters": {"CODE_DELIVERY_DELIVERY_MEDIUM": "SMS",
                                    "CODE_DELIVERY_DESTINATION": _mask(phone)}}


def _password_sign_in(state: IdpState, pool, client, params: dict) -> dict:
    _require(params, "USERNAME", "PASSWORD")
    username, password = params["USERNAME"], params["PASSWORD"]
    check_secret_hash(client, username, params.get("SECRET_HASH"))
    user = pool._get_user(username) if username else None
    if user is None and username:
        # Cognito asks the migrate user trigger about a user it lacks (sign-in with a password only)
        user = triggers.migrate_user(state, pool, client, username, "UserMigration_Authentication", password)
    if user is None:
        raise _unknown_user(client)
    if state.is_locked(pool.id, user.username):
        raise E.not_authorized(E.PASSWORD_ATTEMPTS_EXCEEDED)
    check_reset_without_password(state, pool, client, user)
    triggers.pre_authentication(state, pool, client, user)
    if not password_matches(state, pool, user, password):
        state.record_failure(pool.id, user.username)
        raise E.not_authorized(E.INCORRECT_CREDENTIALS)
    return after_password(state, pool, client, user)


def check_reset_without_password(state: IdpState, pool, client, user) -> None:
    """A RESET_REQUIRED user with no password (imported from a CSV file, or migrated through
    ForgotPassword) cannot sign in with any password: "Amazon Cognito returns NotAuthorizedException
    when PreventUserExistenceErrors is enabled. Otherwise, it returns PasswordResetRequiredException"
    (developer guide, "Requiring imported users to reset their passwords")."""
    if _status(user) != "RESET_REQUIRED" or (pool.id, user.username) in state.srp_verifiers:
        return
    if _puee_enabled(client):
        raise E.not_authorized(E.INCORRECT_CREDENTIALS)
    raise E.CognitoError("PasswordResetRequiredException", "Password reset required for the user")


def srp_a_checked(srp_a: str) -> str:
    """SRP_A must be hex with A mod N != 0 (else the server's secret would be predictable)."""
    try:
        value = int(srp_a, 16)
    except (TypeError, ValueError):
        raise E.invalid_parameter("SRP_A must be a hexadecimal number.") from None
    if value % srp.N == 0:
        raise E.invalid_parameter("SRP_A is not valid: A mod N must not be 0.")
    return srp_a


def _require(params: dict, *names: str) -> None:
    for name in names:
        if not isinstance(params.get(name), str) or not params.get(name):
            raise E.invalid_parameter(f"Missing required parameter {name}")


def _srp_start(state: IdpState, pool, client, params: dict) -> dict:
    _require(params, "USERNAME", "SRP_A")
    username, srp_a = params["USERNAME"], srp_a_checked(params["SRP_A"])
    check_secret_hash(client, username, params.get("SECRET_HASH"))
    user = pool._get_user(username) if username else None
    secret_block = base64.b64encode(state.lab.random_bytes(96)).decode()
    expires = state.now() + 60 * (client.extended_config.get("AuthSessionValidity") or AUTH_SESSION_MINUTES)
    if user is None:
        if not _puee_enabled(client):
            raise E.user_not_found(E.USER_NOT_FOUND)
        # Shaped like a real user's challenge (a stable padded salt per name, a fresh B, the name
        # as typed) so that its answer cannot reveal who exists; it can never succeed.
        state.srp_attempts[secret_block] = SRPAttempt(pool.id, client.id, None, None, expires)
        salt = hmac.new(state.decoy_key, f"{pool.id}:{username}".encode(), hashlib.sha256).digest()[:16]
        decoy = srp.SRPServerSession(pool.id, str(username), salt, pow(srp.g, 2, srp.N), srp_a,
                                     rng=state.lab.rng)
        return {"ChallengeName": Challenge.PASSWORD_VERIFIER,
                "ChallengeParameters": decoy.challenge_parameters(secret_block)}
    check_reset_without_password(state, pool, client, user)
    triggers.pre_authentication(state, pool, client, user)
    salt, verifier, _ = state.srp_verifiers.get((pool.id, user.username), (None, None, None))
    if salt is None:
        raise E.not_authorized(E.INCORRECT_CREDENTIALS)
    try:
        server = srp.SRPServerSession(pool.id, user.username, salt, verifier, srp_a, rng=state.lab.rng)
    except ValueError as exc:
        raise E.invalid_parameter(f"SRP_A is not valid: {exc}") from None
    state.srp_attempts[secret_block] = SRPAttempt(pool.id, client.id, user.username, server, expires)
    return {"ChallengeName": Challenge.PASSWORD_VERIFIER,
            "ChallengeParameters": server.challenge_parameters(secret_block)}


def _srp_finish(state: IdpState, pool, client, responses: dict) -> dict:
    block = responses.get("PASSWORD_CLAIM_SECRET_BLOCK")
    attempt = state.srp_attempts.get(block) if isinstance(block, str) else None
    fresh = attempt is not None and not attempt.used
    if attempt is not None:
        attempt.used = True      # a secret block is single-use, whatever goes wrong below
    _require(responses, "USERNAME", "PASSWORD_CLAIM_SECRET_BLOCK", "PASSWORD_CLAIM_SIGNATURE", "TIMESTAMP")
    if not fresh or attempt.client_id != client.id:
        raise E.not_authorized("Invalid session for the user.")
    if state.now() > attempt.expires_at:
        raise E.not_authorized(E.SESSION_EXPIRED)
    if attempt.username is None:
        raise E.not_authorized(E.INCORRECT_CREDENTIALS)
    user = pool._get_user(attempt.username)
    check_secret_hash(client, responses.get("USERNAME"), responses.get("SECRET_HASH"))
    if user is None:
        raise _unknown_user(client)
    if state.is_locked(pool.id, user.username):
        raise E.not_authorized(E.PASSWORD_ATTEMPTS_EXCEEDED)
    signature, timestamp = responses.get("PASSWORD_CLAIM_SIGNATURE"), responses.get("TIMESTAMP")
    if not (signature and _timestamp_ok(state, timestamp) and attempt.server.verify(signature, block, timestamp)):
        state.record_failure(pool.id, user.username)
        raise E.not_authorized(E.INCORRECT_CREDENTIALS)
    return after_password(state, pool, client, user)


def _timestamp_ok(state: IdpState, timestamp) -> bool:
    """TIMESTAMP has Cognito's shape ("Sat Jan 1 00:00:00 UTC 2022": a zero-padded day is the classic
    interop bug) and lies within SRP_TIMESTAMP_TOLERANCE of the lab clock, either side."""
    try:
        signed_at = srp.parse_timestamp(timestamp)
    except (TypeError, ValueError):
        return False
    # TIMESTAMP has whole seconds: compare with the lab clock's current second.
    return abs(signed_at.timestamp() - int(state.now())) <= SRP_TIMESTAMP_TOLERANCE


def _pool_and_client(backend, params: dict, admin_pool_id: str | None):
    """Admin calls name the pool; the public ones find it through the app client."""
    if not admin_pool_id:
        return find_client(backend, params.get("ClientId"))
    pool = find_pool(backend, admin_pool_id)
    client = pool.clients.get(params.get("ClientId"))
    if client is None:
        raise E.resource_not_found(f"User pool client {params.get('ClientId')} does not exist.")
    return pool, client


def initiate_checks(backend, params: dict, *, admin_pool_id: str | None = None):
    """What every InitiateAuth checks first: a known flow, the app client, the flow enabled for it,
    AuthParameters present. Returns (flow, pool, client, AuthParameters)."""
    flow = params.get("AuthFlow")
    valid = ADMIN_FLOWS if admin_pool_id else USER_FLOWS
    if flow not in FLOW_PERMISSION:
        raise E.invalid_parameter(
            f"1 validation error detected: Value '{flow}' at 'authFlow' failed to satisfy constraint: "
            f"Member must satisfy enum value set: {sorted(FLOW_PERMISSION)}")
    if flow not in valid:
        raise E.invalid_parameter("Initiate Auth method not supported.")
    pool, client = _pool_and_client(backend, params, admin_pool_id)
    check_flow_enabled(client, flow)
    auth = params.get("AuthParameters")
    if not isinstance(auth, dict):
        raise E.invalid_parameter("Missing required parameter AuthParameters")
    return flow, pool, client, auth


def initiate_auth(state: IdpState, backend, params: dict, *, admin_pool_id: str | None = None) -> dict:
    """InitiateAuth / AdminInitiateAuth (CUSTOM_AUTH is answered by :mod:`.custom_auth`)."""
    flow, pool, client, auth = initiate_checks(backend, params, admin_pool_id=admin_pool_id)
    if flow in (AuthFlow.REFRESH_TOKEN_AUTH, AuthFlow.REFRESH_TOKEN):
        return _refresh(state, pool, client, auth)
    if flow in (AuthFlow.USER_PASSWORD_AUTH, AuthFlow.ADMIN_USER_PASSWORD_AUTH, AuthFlow.ADMIN_NO_SRP_AUTH):
        return _password_sign_in(state, pool, client, auth)
    if flow == AuthFlow.USER_SRP_AUTH:
        return _srp_start(state, pool, client, auth)
    raise E.invalid_parameter(f"{flow} is answered by labkit.emulator.user_pools.custom_auth or .passwordless.")


def respond_to_auth_challenge(state: IdpState, backend, params: dict, validate_password,
                              *, admin_pool_id: str | None = None) -> dict:
    pool, client = _pool_and_client(backend, params, admin_pool_id)
    challenge = params.get("ChallengeName")
    responses = params.get("ChallengeResponses") or {}
    if challenge == Challenge.PASSWORD_VERIFIER:
        return _srp_finish(state, pool, client, responses)
    session = _take_session(state, params.get("Session"), client, challenge)
    user = pool._get_user(session.username)
    check_secret_hash(client, responses.get("USERNAME", session.username), responses.get("SECRET_HASH"))
    if user is None:
        raise E.not_authorized(E.INCORRECT_CREDENTIALS)
    if challenge == Challenge.NEW_PASSWORD_REQUIRED:
        new_password = responses.get("NEW_PASSWORD")
        if not new_password:
            raise E.invalid_parameter("Missing required parameter NEW_PASSWORD")
        validate_password(pool.id, new_password)
        from moto.cognitoidp.models import UserStatus
        user.password = new_password
        user.status = UserStatus.CONFIRMED
        del state.sessions[params["Session"]]
        return _mfa_step(state, pool, client, user, token_source="TokenGeneration_NewPasswordChallenge")
    if challenge == Challenge.SOFTWARE_TOKEN_MFA:
        secret = state.totp.get((pool.id, user.username))
        code = responses.get("SOFTWARE_TOKEN_MFA_CODE")
        if secret is None or not totp_ok(state, secret.secret, code):
            raise E.code_mismatch("Invalid code received for user")
        del state.sessions[params["Session"]]
        return mint_tokens(state, pool, client, user)
    if challenge == Challenge.SMS_MFA:
        code = responses.get("SMS_MFA_CODE")
        if not isinstance(code, str) or not hmac.compare_digest(code, session.sms_code or ""):
            raise E.code_mismatch("Invalid code received for user")
        del state.sessions[params["Session"]]
        return mint_tokens(state, pool, client, user)
    if challenge == Challenge.SELECT_MFA_TYPE:
        answer = responses.get("ANSWER")
        del state.sessions[params["Session"]]
        if answer == Challenge.SOFTWARE_TOKEN_MFA:
            return _totp_challenge(state, pool, client, user)
        if answer == Challenge.SMS_MFA:
            return _sms_challenge(state, pool, client, user)
        raise E.invalid_parameter("ANSWER must be SMS_MFA or SOFTWARE_TOKEN_MFA")
    if challenge == Challenge.MFA_SETUP:
        if not session.mfa_setup_verified:
            raise E.invalid_parameter(
                "Set up a factor first: AssociateSoftwareToken(Session=…) then VerifySoftwareToken(Session=…).")
        del state.sessions[params["Session"]]
        return mint_tokens(state, pool, client, user)
    raise E.invalid_parameter(f"The lab does not handle the {challenge} challenge.")


# -- TOTP -------------------------------------------------------------------------------------
def totp_ok(state: IdpState, secret: str, code: Any) -> bool:
    if not isinstance(code, str) or not code.isdigit() or len(code) != 6:
        return False
    return pyotp.TOTP(secret).verify(code, for_time=int(state.now()), valid_window=TOTP_WINDOW_STEPS)


def _user_for_token_or_session(state: IdpState, backend, params: dict):
    if params.get("Session"):
        session = state.sessions.get(params["Session"])
        if session is None:
            raise E.not_authorized("Invalid session for the user.")
        if state.now() > session.expires_at:
            raise E.not_authorized(E.SESSION_EXPIRED)
        # Only the MFA_SETUP challenge may enrol a factor with a session: otherwise anyone holding a
        # password could replace the victim's authenticator during a SOFTWARE_TOKEN_MFA challenge.
        if session.challenge != Challenge.MFA_SETUP:
            raise E.not_authorized("Invalid session for the user.")
        pool = find_pool(backend, session.pool_id)
        return pool, pool._get_user(session.username), session
    record = check_access_token(state, backend, params.get("AccessToken"))
    pool = find_pool(backend, record.pool_id)
    return pool, pool._get_user(record.username), None


def associate_software_token(state: IdpState, backend, params: dict) -> dict:
    pool, user, session = _user_for_token_or_session(state, backend, params)
    if not (pool.token_mfa_config or {}).get("Enabled"):
        raise E.CognitoError("SoftwareTokenMFANotFoundException",
                             "Software Token MFA has not been enabled by the userPool.")
    # 32 random bytes, base32 without padding: 52 characters (authenticator apps take any length).
    secret = base64.b32encode(state.lab.random_bytes(32)).decode().rstrip("=")
    # A new association replaces an unverified one; a verified factor stays until the new one verifies.
    state.totp[("pending", pool.id, user.username)] = TotpSecret(secret)
    result = {"SecretCode": secret}
    if session is not None:
        result["Session"] = params["Session"]
    return result


def verify_software_token(state: IdpState, backend, params: dict) -> dict:
    pool, user, session = _user_for_token_or_session(state, backend, params)
    pending = state.totp.get(("pending", pool.id, user.username))
    if pending is None:
        raise E.invalid_parameter("Call AssociateSoftwareToken first: there is no software token to verify.")
    if not totp_ok(state, pending.secret, params.get("UserCode")):
        raise E.CognitoError("EnableSoftwareTokenMFAException", "Code mismatch")
    del state.totp[("pending", pool.id, user.username)]
    state.totp[(pool.id, user.username)] = TotpSecret(pending.secret, verified=True)
    user.token_verified = True
    result = {"Status": "SUCCESS"}
    if session is not None:
        session.mfa_setup_verified = True
        user.software_token_mfa_enabled = True
        result["Session"] = params["Session"]
    return result


# -- app clients --------------------------------------------------------------------------------
def validate_client_config(params: dict) -> None:
    """Refuse what CreateUserPoolClient / UpdateUserPoolClient refuse: lifetimes out of range,
    unknown units, unknown ExplicitAuthFlows or PreventUserExistenceErrors values."""
    try:
        problem = range_problem(params)
    except ValueError as exc:          # units Cognito does not know
        raise E.invalid_parameter(str(exc)) from None
    if problem:
        raise E.invalid_parameter(problem)
    flows = params.get("ExplicitAuthFlows") or []
    known = set(FLOW_PERMISSION.values()) | set(LEGACY_FLOW_NAMES)
    unknown = [f for f in flows if f not in known]
    if unknown:
        raise E.invalid_parameter(f"Unknown ExplicitAuthFlows {unknown}; valid values: {sorted(known)}")
    # API reference, CreateUserPoolClient: the legacy values can't be assigned "at the same time as
    # values that begin with ALLOW_" (the wording of the refusal is the lab's own).
    legacy = sorted(f for f in flows if not f.startswith("ALLOW_"))
    if legacy and len(legacy) < len(flows):
        raise E.invalid_parameter(f"ExplicitAuthFlows can't mix the legacy values {legacy} with values "
                                  "that begin with ALLOW_.")
    puee = params.get("PreventUserExistenceErrors")
    if puee not in (None, "LEGACY", "ENABLED"):
        raise E.invalid_parameter("PreventUserExistenceErrors must be LEGACY or ENABLED")
