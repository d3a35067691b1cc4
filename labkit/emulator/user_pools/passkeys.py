"""Passkeys (WebAuthn) in a user pool: configuration, registration, and the WEB_AUTHN sign-in challenge.

Every registration and assertion is verified for real with py_webauthn (``webauthn``, imported only
when a passkey is used, so a lab that never touches passkeys starts no slower): the challenge, the
origin, the RP ID hash, the user-presence and user-verification flags, the signature with the public
key registered, and the sign count (a count that does not grow means a cloned or replayed
authenticator).

- ``SetUserPoolMfaConfig`` ``WebAuthnConfiguration`` {``RelyingPartyId``, ``UserVerification``
  required | preferred}: "Sets or displays the authentication domain, typically your user pool
  domain, that passkey providers must use as a relying party" (API reference). Without a
  RelyingPartyId, the RP ID is the pool's prefix domain (``<prefix>.auth.<region>.amazoncognito.com``);
  with neither, ``WebAuthnConfigurationMissingException``. Passkeys are an Essentials feature.
- ``StartWebAuthnRegistration`` / ``CompleteWebAuthnRegistration`` / ``ListWebAuthnCredentials`` /
  ``DeleteWebAuthnCredential``: authorised by the signed-in user's access token with the
  ``aws.cognito.signin.user.admin`` scope (API reference). A pool whose SignInPolicy does not allow
  WEB_AUTHN answers ``WebAuthnNotEnabledException``; at most 20 passkeys a user (quotas).
- The origin of a ceremony must be ``https://`` + the RP ID or one of its subdomains (WebAuthn's rule
  for an RP ID, and Cognito's ``WebAuthnOriginNotAllowedException``: "the passkey credential's
  registration origin does not align with the user pool relying party id"); ``http://localhost``
  is accepted for the RP ID ``localhost`` as browsers do. A passkey registered for one RP ID can't
  sign in to another: that is what makes passkeys phishing-resistant.
- Attestation is not required (``attestation: "none"``); ES256 and RS256 keys.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import urlsplit

from ...cognito.names import AuthFactor, Challenge, FeaturePlan
from .. import errors as E
from . import flows, plans
from .state import IdpState, Passkey, PasskeyRegistration

__all__ = ["set_user_pool_mfa_config", "relying_party_id", "start_registration", "complete_registration",
           "list_credentials", "delete_credential", "usable", "challenge", "verify", "MAX_PASSKEYS",
           "allowed_origin"]

MAX_PASSKEYS = 20                  # passkeys per user (Cognito quotas)
REGISTRATION_SECONDS = 5 * 60      # how long a StartWebAuthnRegistration challenge waits (the lab's choice)
TIMEOUT_MS = 60_000                # the timeout hint in the options, as py_webauthn's default
_ALGORITHMS = (-7, -257)           # ES256, RS256
# Names a relying party can't be: public suffixes, where anyone can register a subdomain. The lab knows
# a handful; names without a dot (except localhost) are refused too.
_PUBLIC_SUFFIXES = {"com", "net", "org", "io", "dev", "app", "co.uk", "org.uk", "com.au", "co.jp", "github.io",
                    "amazonaws.com", "amazoncognito.com", "auth.us-east-1.amazoncognito.com", "cloudfront.net",
                    "herokuapp.com", "vercel.app", "netlify.app", "pages.dev", "web.app", "firebaseapp.com"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# -- configuration --------------------------------------------------------------------------------
def _check_relying_party_id(rp_id) -> None:
    if not isinstance(rp_id, str) or not rp_id or rp_id != rp_id.strip().lower() or "/" in rp_id or ":" in rp_id:
        raise E.invalid_parameter("RelyingPartyId must be a domain name in lowercase, e.g. auth.example.com "
                                  "(no scheme, port or path).")
    if rp_id != "localhost" and ("." not in rp_id or rp_id in _PUBLIC_SUFFIXES):
        raise E.invalid_parameter(f"RelyingPartyId {rp_id!r} is a public suffix: use a domain you own, "
                                  "typically your user pool's custom domain.")


def set_user_pool_mfa_config(state: IdpState, backend, params: dict, passthrough, response) -> dict:
    """SetUserPoolMfaConfig: moto keeps SMS / TOTP; the lab keeps WebAuthnConfiguration and
    EmailMfaConfiguration (both Essentials features) beside them."""
    pool = flows.find_pool(backend, params.get("UserPoolId"))
    webauthn = params.get("WebAuthnConfiguration")
    email = params.get("EmailMfaConfiguration")
    if webauthn is not None:
        plans.require_plan(pool, FeaturePlan.ESSENTIALS, "Passkeys (WebAuthnConfiguration)")
        if "RelyingPartyId" in webauthn:
            _check_relying_party_id(webauthn["RelyingPartyId"])
    if email is not None:
        plans.require_plan(pool, FeaturePlan.ESSENTIALS, "Email messages for MFA and sign-in (EmailMfaConfiguration)")
    if params.get("MfaConfiguration") is None:
        # a request about passkeys alone leaves the MFA settings as they are (the lab's reading)
        params["MfaConfiguration"] = pool.mfa_config or "OFF"
        for key, value in (("SmsMfaConfiguration", pool.sms_mfa_config),
                           ("SoftwareTokenMfaConfiguration", pool.token_mfa_config)):
            if key not in params and value is not None:
                params[key] = value
    response.body = json.dumps(params)
    result = passthrough()
    extras = state.mfa_extras.setdefault(pool.id, {})
    if webauthn is not None:
        extras["WebAuthnConfiguration"] = {"UserVerification": "preferred", **webauthn}
    if email is not None:
        extras["EmailMfaConfiguration"] = dict(email)
    result.update(extras)
    return result


def _config(state: IdpState, pool) -> dict:
    return (state.mfa_extras.get(pool.id) or {}).get("WebAuthnConfiguration") or {"UserVerification": "preferred"}


def relying_party_id(state: IdpState, backend, pool) -> str:
    """The pool's RP ID: WebAuthnConfiguration.RelyingPartyId, else its prefix domain's host name."""
    configured = _config(state, pool).get("RelyingPartyId")
    if configured:
        return configured
    from .oauth_settings import pool_domain

    domain = pool_domain(backend, pool.id)
    if not domain:
        raise E.CognitoError("WebAuthnConfigurationMissingException",
                             "The user pool has no passkey relying party: set WebAuthnConfiguration.RelyingPartyId "
                             "with SetUserPoolMfaConfig, or add a user pool domain.")
    return f"{domain}.auth.{pool.region}.amazoncognito.com"


def allowed_origin(origin, rp_id: str) -> bool:
    """Whether a ceremony at ``origin`` may use the RP ID ``rp_id`` (same host or a subdomain, https)."""
    try:
        parts = urlsplit(origin)
    except (TypeError, ValueError):
        return False
    host = (parts.hostname or "").lower()
    if rp_id == "localhost" and host == "localhost":
        return parts.scheme in ("http", "https")
    return parts.scheme == "https" and (host == rp_id or host.endswith("." + rp_id))


def _require_uv(state: IdpState, pool) -> bool:
    return _config(state, pool).get("UserVerification") == "required"


def _signed_in(state: IdpState, backend, params: dict):
    record = flows.check_access_token(state, backend, params.get("AccessToken"))
    pool = flows.find_pool(backend, record.pool_id)
    user = pool._get_user(record.username)
    if user is None:
        raise E.not_authorized(E.INVALID_ACCESS_TOKEN)
    if flows._status(user) == "RESET_REQUIRED":
        raise E.CognitoError("PasswordResetRequiredException", "Password reset required for the user")
    return record, pool, user


def _credentials(state: IdpState, pool, user) -> list[Passkey]:
    return state.passkeys.setdefault((pool.id, user.id), [])


# -- registration ---------------------------------------------------------------------------------
def start_registration(state: IdpState, backend, params: dict) -> dict:
    """StartWebAuthnRegistration: the options for ``navigator.credentials.create()``."""
    record, pool, user = _signed_in(state, backend, params)
    plans.require_plan(pool, FeaturePlan.ESSENTIALS, "Passkeys")
    if AuthFactor.WEB_AUTHN not in plans.allowed_first_factors(pool):
        raise E.CognitoError("WebAuthnNotEnabledException",
                             "Passkeys are not enabled for this user pool: add WEB_AUTHN to "
                             "Policies.SignInPolicy.AllowedFirstAuthFactors.")
    rp_id = relying_party_id(state, backend, pool)
    existing = _credentials(state, pool, user)
    if len(existing) >= MAX_PASSKEYS:
        raise E.CognitoError("LimitExceededException", f"A user can register at most {MAX_PASSKEYS} passkeys.")
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.structs import (AuthenticatorSelectionCriteria, PublicKeyCredentialDescriptor,
                                          ResidentKeyRequirement, UserVerificationRequirement)

    challenge = state.lab.random_bytes(32)
    options = generate_registration_options(
        rp_id=rp_id, rp_name=pool.name, user_id=user.id.encode(), user_name=user.username,
        user_display_name=flows._attr(user, "email") or user.username, challenge=challenge, timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement(_config(state, pool).get("UserVerification", "preferred"))),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=c.credential_id) for c in existing],
        supported_pub_key_algs=[_alg(a) for a in _ALGORITHMS])
    state.passkey_registrations[(pool.id, user.id)] = PasskeyRegistration(
        record.client_id, challenge, rp_id, state.now() + REGISTRATION_SECONDS)
    return {"CredentialCreationOptions": json.loads(options_to_json(options))}


def _alg(value: int):
    from webauthn.helpers.cose import COSEAlgorithmIdentifier

    return COSEAlgorithmIdentifier(value)


def _client_data(credential: dict) -> dict:
    try:
        return json.loads(_unb64url(credential["response"]["clientDataJSON"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise E.invalid_parameter(f"The credential is not a WebAuthn response JSON: {exc}") from None


def _as_dict(credential) -> dict:
    if isinstance(credential, str):
        try:
            credential = json.loads(credential)
        except ValueError:
            raise E.invalid_parameter("CREDENTIAL must be the JSON of a WebAuthn credential.") from None
    if not isinstance(credential, dict):
        raise E.invalid_parameter("The credential must be a WebAuthn credential's JSON object.")
    return credential


def complete_registration(state: IdpState, backend, params: dict) -> dict:
    """CompleteWebAuthnRegistration: verify the authenticator's attestation and keep its public key."""
    record, pool, user = _signed_in(state, backend, params)
    pending = state.passkey_registrations.get((pool.id, user.id))
    if pending is None or state.now() > pending.expires_at:
        state.passkey_registrations.pop((pool.id, user.id), None)
        raise E.CognitoError("WebAuthnChallengeNotFoundException",
                             "No passkey registration is waiting (or it expired): call StartWebAuthnRegistration.")
    if pending.client_id != record.client_id:
        raise E.CognitoError("WebAuthnClientMismatchException",
                             "The access token is for another app client than the one that started the registration.")
    credential = _as_dict(params.get("Credential"))
    origin = _client_data(credential).get("origin")
    if not allowed_origin(origin, pending.rp_id):
        raise E.CognitoError("WebAuthnOriginNotAllowedException",
                             f"The passkey was created at {origin!r}, which is not {pending.rp_id} or a subdomain of it.")
    from webauthn import verify_registration_response
    from webauthn.helpers.exceptions import InvalidRegistrationResponse

    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=pending.challenge, expected_rp_id=pending.rp_id,
            expected_origin=origin, require_user_verification=_require_uv(state, pool),
            supported_pub_key_algs=[_alg(a) for a in _ALGORITHMS])
    except InvalidRegistrationResponse as exc:
        if "RP ID hash" in str(exc):
            raise E.CognitoError("WebAuthnRelyingPartyMismatchException",
                                 f"The passkey is for another relying party than {pending.rp_id}.") from None
        raise E.invalid_parameter(f"The passkey registration was refused: {exc}") from None
    except Exception as exc:        # malformed CBOR, keys, base64: a bad request, not a lab failure
        raise E.invalid_parameter(f"The passkey registration could not be read: {exc}") from None
    del state.passkey_registrations[(pool.id, user.id)]
    existing = _credentials(state, pool, user)
    if any(c.credential_id == verified.credential_id for c in existing):
        raise E.invalid_parameter("This passkey is already registered.")
    response = credential.get("response") or {}
    existing.append(Passkey(
        credential_id=verified.credential_id, public_key=verified.credential_public_key,
        sign_count=verified.sign_count, rp_id=pending.rp_id, created_at=state.now(),
        name=str(credential.get("friendlyName") or f"Passkey {len(existing) + 1}"),
        transports=[t for t in response.get("transports") or [] if isinstance(t, str)],
        attachment=credential.get("authenticatorAttachment"), user_verified=verified.user_verified))
    return {}


def list_credentials(state: IdpState, backend, params: dict) -> dict:
    """ListWebAuthnCredentials: the signed-in user's passkeys (never a key)."""
    _record, pool, user = _signed_in(state, backend, params)
    limit = params.get("MaxResults") or MAX_PASSKEYS
    token = params.get("NextToken")
    start = 0
    if token is not None:
        if not (isinstance(token, str) and token.isdigit()):
            raise E.invalid_parameter("NextToken is not one this action returned.")
        start = int(token)
    credentials = _credentials(state, pool, user)
    page = credentials[start:start + limit]
    result = {"Credentials": [{
        "CredentialId": _b64url(c.credential_id), "FriendlyCredentialName": c.name, "RelyingPartyId": c.rp_id,
        **({"AuthenticatorAttachment": c.attachment} if c.attachment else {}),
        "AuthenticatorTransports": list(c.transports),
        "CreatedAt": c.created_at} for c in page]}       # epoch seconds on the lab clock
    if start + limit < len(credentials):
        result["NextToken"] = str(start + limit)
    return result


def delete_credential(state: IdpState, backend, params: dict) -> dict:
    """DeleteWebAuthnCredential: the signed-in user removes one of their passkeys."""
    _record, pool, user = _signed_in(state, backend, params)
    credentials = _credentials(state, pool, user)
    wanted = params.get("CredentialId")
    for passkey in credentials:
        if _b64url(passkey.credential_id) == wanted:
            credentials.remove(passkey)
            return {}
    raise E.resource_not_found("The user has no passkey with this CredentialId.")


# -- the WEB_AUTHN sign-in challenge --------------------------------------------------------------
def usable(state: IdpState, pool, user) -> bool:
    """Whether USER_AUTH can offer WEB_AUTHN to ``user``: a passkey registered, and MFA not required
    unless passkeys with user verification count as MFA (FactorConfiguration)."""
    if not state.passkeys.get((pool.id, user.id)):
        return False
    if (pool.mfa_config or "OFF") == "ON":
        return _config(state, pool).get("FactorConfiguration") == "MULTI_FACTOR_WITH_USER_VERIFICATION"
    return True


def _request_options(state: IdpState, pool, rp_id: str, challenge: bytes, credential_ids: list[bytes]) -> str:
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

    uv = _config(state, pool).get("UserVerification", "preferred")
    if _config(state, pool).get("FactorConfiguration") == "MULTI_FACTOR_WITH_USER_VERIFICATION":
        uv = "required"
    options = generate_authentication_options(
        rp_id=rp_id, challenge=challenge, timeout=TIMEOUT_MS,
        allow_credentials=[PublicKeyCredentialDescriptor(id=c) for c in credential_ids],
        user_verification=UserVerificationRequirement(uv))
    return options_to_json(options)


def challenge(state: IdpState, pool, client, user, new_session) -> dict:
    """The WEB_AUTHN challenge: CREDENTIAL_REQUEST_OPTIONS for ``navigator.credentials.get()``."""
    backend = pool.backend
    rp_id = relying_party_id(state, backend, pool)
    challenge_bytes = state.lab.random_bytes(32)
    ids = [c.credential_id for c in state.passkeys.get((pool.id, user.id), [])]
    session = new_session(state, pool, client, user.username, Challenge.WEB_AUTHN, webauthn_challenge=challenge_bytes)
    return {"ChallengeName": Challenge.WEB_AUTHN, "Session": session,
            "ChallengeParameters": {"CREDENTIAL_REQUEST_OPTIONS": _request_options(state, pool, rp_id, challenge_bytes,
                                                                                  ids)}}


def decoy_challenge(state: IdpState, pool, client, username: str, new_session) -> dict:
    """A WEB_AUTHN challenge for a user who does not exist: one made-up credential id, the same for
    the same name; its answer never succeeds."""
    rp_id = relying_party_id(state, pool.backend, pool)
    fake_id = hmac.new(state.decoy_key, f"{pool.id}:passkey:{username}".encode(), hashlib.sha256).digest()
    challenge_bytes = state.lab.random_bytes(32)
    session = new_session(state, pool, client, username, Challenge.WEB_AUTHN, decoy=True)
    return {"ChallengeName": Challenge.WEB_AUTHN, "Session": session,
            "ChallengeParameters": {"CREDENTIAL_REQUEST_OPTIONS": _request_options(state, pool, rp_id, challenge_bytes,
                                                                                  [fake_id])}}


def _refused(reason: str) -> E.CognitoError:
    return E.not_authorized(f"The passkey sign-in was refused: {reason}")


def verify(state: IdpState, pool, client, user, session, credential) -> dict:
    """Verify a WEB_AUTHN answer (``CREDENTIAL``: AuthenticationResponseJSON) and sign the user in."""
    if credential is None:
        raise E.invalid_parameter("Missing required parameter CREDENTIAL")
    credential = _as_dict(credential)
    if session.decoy or user is None:
        raise E.not_authorized(E.INCORRECT_CREDENTIALS)
    if not user.enabled:
        raise E.not_authorized(E.USER_DISABLED)
    try:
        raw_id = _unb64url(str(credential.get("rawId") or credential.get("id") or ""))
    except ValueError:
        raise E.invalid_parameter("The credential's rawId is not base64url.") from None
    passkey = next((c for c in state.passkeys.get((pool.id, user.id), []) if c.credential_id == raw_id), None)
    if passkey is None:
        raise _refused("this passkey is not registered for the user")
    rp_id = relying_party_id(state, pool.backend, pool)
    if passkey.rp_id != rp_id:
        raise _refused(f"the passkey was registered for {passkey.rp_id}, the pool's relying party is now {rp_id}")
    origin = _client_data(credential).get("origin")
    if not allowed_origin(origin, rp_id):
        raise _refused(f"the assertion was made at {origin!r}, which is not {rp_id} or a subdomain of it")
    from webauthn import verify_authentication_response

    require_uv = (_require_uv(state, pool) or _config(state, pool).get("FactorConfiguration")
                  == "MULTI_FACTOR_WITH_USER_VERIFICATION")
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=session.webauthn_challenge or b"", expected_rp_id=rp_id,
            expected_origin=origin, credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count, require_user_verification=require_uv)
    except Exception as exc:      # InvalidAuthenticationResponse, and anything malformed
        state.record_failure(pool.id, user.username)
        raise _refused(str(exc)) from None
    passkey.sign_count = verified.new_sign_count
    state.record_success(pool.id, user.username)
    state.first_sign_in_pending.discard((pool.id, user.username))
    if flows._status(user) == "UNCONFIRMED":
        raise E.CognitoError("UserNotConfirmedException", E.USER_NOT_CONFIRMED)
    return flows.mint_tokens(state, pool, client, user)
