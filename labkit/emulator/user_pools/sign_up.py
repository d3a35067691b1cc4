"""SignUp, one way for the API and the hosted UI's sign-up page.

What Cognito checks, in order, before the user exists (a refused sign-up leaves nothing behind):
the app client (and SECRET_HASH for the API), ``AllowAdminCreateUserOnly`` ("SignUp is not
permitted for this user pool"), the attributes against the schema and the client's
WriteAttributes, the schema's required attributes ("Attributes did not conform to the schema:
email: The attribute is required"), the default email sender's daily quota; then, when the pool
has a pre sign-up trigger, an existing username and the password policy before the trigger runs.
moto stores the user; the trigger's autoConfirmUser / autoVerify flags apply; a code goes to an
auto-verified attribute (:func:`.flows.after_sign_up`).

The hosted UI's ``/signup`` page calls :func:`sign_up` too: the developer guide's trigger table
("Customizing user pool workflows with Lambda triggers", local users in managed login) lists
``PreSignUp_SignUp`` and ``CustomMessage_SignUp`` for ``/signup``, the same as the API.
"""
from __future__ import annotations

import json

from .. import errors as E
from . import attribute_updates, attributes, email_quota, flows, passwordless, policy, triggers

__all__ = ["sign_up", "REQUIRED"]

#: The problem Cognito names for a required attribute left out of SignUp.
REQUIRED = "The attribute is required"


def _missing_required(pool, username: str, pairs: list[dict]) -> list[str]:
    """Required attributes of the schema that the sign-up does not give (``sub`` is Cognito's own; an
    email or phone number used as the username counts, as moto copies it into the attribute)."""
    given = {p["Name"] for p in pairs if p.get("Value") not in (None, "")}
    for alias in pool.extended_config.get("UsernameAttributes") or []:
        if (alias == "email" and "@" in username) or (alias == "phone_number" and username.startswith("+")):
            given.add(alias)
    return [name for name, attr in attributes.schema(pool).items()
            if attr.required and name != attributes.SUB and name not in given]


def sign_up(state, backend, params: dict, *, check_hash: bool = True) -> dict:
    """SignUp: returns the response dict (UserConfirmed, UserSub, CodeDeliveryDetails, Session).

    ``check_hash``: the API's SECRET_HASH check; the hosted UI is Cognito's own page and sends none.
    """
    pool, client = flows.find_client(backend, params.get("ClientId"))
    if check_hash:
        flows.check_secret_hash(client, params.get("Username"), params.get("SecretHash"))
    if (pool.extended_config.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly"):
        raise E.not_authorized("SignUp is not permitted for this user pool")
    # the schema and the app client's WriteAttributes decide which attributes a user may give
    params["UserAttributes"] = attribute_updates.check_sign_up(backend, pool, client, params)
    missing = _missing_required(pool, str(params.get("Username") or ""), params["UserAttributes"])
    if missing:
        raise E.invalid_parameter(attributes.SCHEMA_PREFIX + "".join(f"{n}: {REQUIRED}\n" for n in missing))
    passwordless_user = not params.get("Password")
    if passwordless_user:
        # A user without a password signs in with one-time codes only. moto needs one: it gets
        # a throw-away that is forgotten (no verifier kept) as soon as the user exists.
        passwordless.check_passwordless_sign_up(pool)
        params["Password"] = flows.temporary_password(state, pool)
    if "email" in (pool.extended_config.get("AutoVerifiedAttributes") or []) and any(
            a.get("Name") == "email" for a in params["UserAttributes"]):
        email_quota.check(state, pool)      # refused before the user exists
    flags = {}
    if triggers.configured(pool, "PreSignUp") is not None:
        # Cognito's own checks come first; then the trigger, before the user exists, so that a
        # refused sign-up leaves nothing behind.
        if params.get("Username") and pool._get_user(params.get("Username")) is not None:
            raise E.CognitoError("UsernameExistsException", "User already exists")
        policy.validate_password(pool, params.get("Password"))
        flags = triggers.pre_sign_up(state, pool, "PreSignUp_SignUp", params.get("Username"),
                                     triggers._attribute_map(params["UserAttributes"]) or {})
    try:
        # moto validates (UsernameAttributes, the password through the lab's policy) and stores the user
        user, _details = backend.sign_up(client.id, params.get("Username"), params["Password"],
                                         params["UserAttributes"])
    except E.CognitoError:
        raise
    except Exception as exc:      # moto's UsernameExistsException carries the bare username
        kind = getattr(exc, "error_type", "")
        if kind == "UsernameExistsException":
            raise E.CognitoError("UsernameExistsException", "User already exists") from None
        if kind:
            raise E.CognitoError(kind, _moto_message(exc)) from None
        raise
    if passwordless_user:
        user.password = None
    triggers.apply_sign_up_flags(user, flags)
    result = flows.after_sign_up(state, pool, client, user)
    # a client with ALLOW_USER_AUTH gets a Session to pass on to ConfirmSignUp (SignUp reference)
    session = passwordless.sign_up_session(state, pool, client, user)
    return {**result, "Session": session} if session else result


def _moto_message(exc) -> str:
    """The message of one of moto's JSON errors (its body is ``{"__type": ..., "message": ...}``)."""
    try:
        return json.loads(exc.get_body()).get("message") or str(exc)
    except Exception:
        return getattr(exc, "message", None) or str(exc)
