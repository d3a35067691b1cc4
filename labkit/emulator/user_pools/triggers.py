"""User-pool Lambda triggers: the events Cognito sends, the responses it honours, its errors.

Sources: developer guide, "Customizing user pool workflows with Lambda triggers" and the page of
each trigger (pre sign-up, post confirmation, pre/post authentication, custom auth challenge,
pre token generation, migrate user, custom message).

- The event has the common parameters ``version``, ``triggerSource``, ``region``, ``userPoolId``,
  ``userName``, ``callerContext {awsSdkVersion, clientId}``, ``request``, ``response``; the function
  returns the event with its ``response`` filled in.
- Cognito invokes triggers synchronously and waits 5 seconds (``lab.trigger_timeout``); a call that
  does not answer in time is retried, and after 3 attempts fails with ``UnexpectedLambdaException``
  "<Trigger> invocation failed due to error Socket timeout while invoking Lambda function."
- A function that raises: ``UserLambdaValidationException`` "<Trigger> failed with error <message>."
- A response Cognito cannot read: ``InvalidLambdaResponseException`` "Unrecognizable lambda output".

The trigger runs while the lab's user-pool lock is released, so the function itself can call the
lab's user pools (a post-confirmation trigger adding the user to a group, say).
"""
from __future__ import annotations

import contextlib
import threading
from typing import Any

from .. import errors as E

#: Each trigger's LambdaConfig key is also the name Cognito's error messages use.
TRIGGERS = ("PreSignUp", "CustomMessage", "PostConfirmation", "PreAuthentication", "PostAuthentication",
            "DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse", "PreTokenGeneration",
            "UserMigration")
#: "After 3 unsuccessful attempts, the function times out" (developer guide, important considerations).
TRIGGER_ATTEMPTS = 3
AWS_SDK_VERSION = "aws-sdk-unknown-unknown"
#: callerContext.clientId of calls that name no app client (AdminCreateUser, AdminConfirmSignUp).
NO_CLIENT = "CLIENT_ID_NOT_APPLICABLE"
#: Claims a pre token generation trigger can't modify (developer guide, pre token generation).
RESERVED_ID_CLAIMS = frozenset({"acr", "amr", "aud", "at_hash", "auth_time", "azp", "cognito:username", "exp",
                                "iat", "identities", "iss", "jti", "nbf", "nonce", "origin_jti", "sub",
                                "token_use"})
RESERVED_ACCESS_CLAIMS = frozenset({"acr", "amr", "aud", "auth_time", "azp", "client_id", "exp", "iat",
                                    "identities", "iss", "jti", "nbf", "nonce", "origin_jti", "scope", "sub",
                                    "token_use", "username", "cognito:username"})
#: Group claims change through groupOverrideDetails only ("For group related claims, use
#: groupOverrideDetails instead").
GROUP_CLAIMS = frozenset({"cognito:groups", "cognito:roles", "cognito:preferred_role"})
CODE_PARAMETER = "{####}"
USERNAME_PARAMETER = "{username}"
LINK_PARAMETER = "{##Click Here##}"

_call = threading.local()


# -- the request being answered ------------------------------------------------------------------
@contextlib.contextmanager
def calling(params: dict):
    """While a user-pool action runs: its parameters (ClientId, ClientMetadata), for the events."""
    previous = getattr(_call, "params", None)
    _call.params = params if isinstance(params, dict) else {}
    try:
        yield
    finally:
        _call.params = previous


def _params() -> dict:
    return getattr(_call, "params", None) or {}


def client_metadata() -> dict:
    metadata = _params().get("ClientMetadata")
    return dict(metadata) if isinstance(metadata, dict) else {}


def _attribute_map(pairs) -> dict | None:
    if not isinstance(pairs, list):
        return None
    return {p.get("Name"): p.get("Value") for p in pairs if isinstance(p, dict) and p.get("Name")}


def validation_data() -> dict | None:
    return _attribute_map(_params().get("ValidationData"))


# -- configuration -----------------------------------------------------------------------------------
def lambda_config(pool) -> dict:
    config = pool.extended_config.get("LambdaConfig")
    return config if isinstance(config, dict) else {}


def configured(pool, trigger: str) -> tuple[str, str] | None:
    """(function ARN, event version) of ``trigger`` in the pool's LambdaConfig, or None."""
    config = lambda_config(pool)
    if trigger == "PreTokenGeneration":
        versioned = config.get("PreTokenGenerationConfig")
        if isinstance(versioned, dict) and versioned.get("LambdaArn"):
            return versioned["LambdaArn"], str(versioned.get("LambdaVersion") or "V1_0")
    arn = config.get(trigger)
    return (arn, "V1_0") if isinstance(arn, str) and arn else None


def user_attributes(user) -> dict[str, str]:
    """The userAttributes of an event: the user's attributes and ``cognito:user_status``."""
    attributes = {k: str(v) for k, v in user.attribute_lookup.items()}
    attributes["cognito:user_status"] = getattr(user.status, "value", str(user.status))
    return attributes


# -- invoking ------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _released(lock):
    """Release an RLock this thread holds (however deeply) and take it back afterwards."""
    depth = 0
    while True:
        try:
            lock.release()
        except RuntimeError:          # no longer held by this thread
            break
        depth += 1
    try:
        yield
    finally:
        for _ in range(depth):
            lock.acquire()


def unexpected(message: str) -> E.CognitoError:
    return E.CognitoError("UnexpectedLambdaException", message)


def invalid_response(message: str = "Unrecognizable lambda output") -> E.CognitoError:
    return E.CognitoError("InvalidLambdaResponseException", message)


def invoke(state, pool, trigger: str, source: str, *, username: str | None, request: dict,
           client_id: str | None = None, event_version: str = "1") -> dict | None:
    """Run ``trigger`` if the pool configures it; return the function's ``response`` (a dict), or
    None when the trigger is not configured. Raises Cognito's errors when the function fails."""
    found = configured(pool, trigger)
    if found is None:
        return None
    arn, _version = found
    lab = state.lab
    from ..moto_patches import awslambda

    runner = lab.lambdas                       # loads the Lambda support on first use
    try:
        fn = awslambda.backend(lab).get_function(arn)
    except Exception:
        raise unexpected(f"{trigger} invocation failed due to error ResourceNotFoundException.") from None
    if client_id is None:
        client_id = _params().get("ClientId") or NO_CLIENT
    event = {
        "version": event_version, "triggerSource": source, "region": lab.region, "userPoolId": pool.id,
        "userName": username, "callerContext": {"awsSdkVersion": AWS_SDK_VERSION, "clientId": client_id},
        "request": request, "response": {},
    }
    invocation = None
    for _attempt in range(TRIGGER_ATTEMPTS):
        with _released(state.lock):
            invocation = runner.invoke(fn, event, timeout=lab.trigger_timeout)
        if not (invocation.timed_out and invocation.error.get("cutByCaller")):
            break
    if invocation.timed_out and invocation.error.get("cutByCaller"):
        raise unexpected(f"{trigger} invocation failed due to error Socket timeout while invoking Lambda function.")
    if invocation.error is not None:
        raise E.CognitoError("UserLambdaValidationException",
                             f"{trigger} failed with error {invocation.error.get('errorMessage')}.")
    result = invocation.result
    if not isinstance(result, dict):
        raise invalid_response()
    response = result.get("response")
    if response is None:
        return {}
    if not isinstance(response, dict):
        raise invalid_response()
    return response


def _flag(response: dict, name: str) -> bool:
    value = response.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid_response()
    return value


def _string_map(value, *, allow_complex: bool = False) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_response()
    for key, item in value.items():
        if not allow_complex and not isinstance(item, (str, int, float, bool)):
            raise invalid_response()
    return value


def _string_list(value) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid_response()
    return value


# -- sign-up ------------------------------------------------------------------------------------------
def pre_sign_up(state, pool, source: str, username: str, attributes: dict) -> dict:
    """PreSignUp_SignUp / PreSignUp_AdminCreateUser, before the user exists. Returns the flags to apply
    (autoConfirmUser, autoVerifyEmail, autoVerifyPhone); Cognito ignores them for AdminCreateUser."""
    request = {"userAttributes": dict(attributes), "validationData": validation_data(),
               "clientMetadata": client_metadata()}
    response = invoke(state, pool, "PreSignUp", source, username=username, request=request)
    if response is None or source == "PreSignUp_AdminCreateUser":
        return {}
    flags = {name: _flag(response, name) for name in ("autoConfirmUser", "autoVerifyEmail", "autoVerifyPhone")}
    # "If autoVerifyEmail is set to true, the email attribute must have a valid, non-null value.
    # Otherwise an error will occur and the user will not be able to complete sign-up."
    for flag, attribute in (("autoVerifyEmail", "email"), ("autoVerifyPhone", "phone_number")):
        if flags[flag] and not attributes.get(attribute):
            raise invalid_response(f"{flag} is true but the user has no {attribute} attribute.")
    return flags


def apply_sign_up_flags(user, flags: dict) -> None:
    from moto.cognitoidp.models import UserStatus

    if flags.get("autoConfirmUser"):
        user.status = UserStatus.CONFIRMED
    verified = [{"Name": f"{a}_verified", "Value": "true"} for flag, a in
                (("autoVerifyEmail", "email"), ("autoVerifyPhone", "phone_number")) if flags.get(flag)]
    if verified:
        user.update_attributes(verified)


def post_confirmation(state, pool, user, source: str) -> None:
    """PostConfirmation_ConfirmSignUp / _ConfirmForgotPassword: after the confirmation took effect."""
    invoke(state, pool, "PostConfirmation", source, username=user.username,
           request={"userAttributes": user_attributes(user), "clientMetadata": client_metadata()})


# -- sign-in ------------------------------------------------------------------------------------------
def pre_authentication(state, pool, client, user) -> None:
    """PreAuthentication_Authentication: before Cognito checks the password; raising refuses the sign-in."""
    request = {"userAttributes": user_attributes(user), "validationData": client_metadata() or None}
    if client.extended_config.get("PreventUserExistenceErrors") == "ENABLED":
        request["userNotFound"] = False      # populated only with PreventUserExistenceErrors ENABLED
    invoke(state, pool, "PreAuthentication", "PreAuthentication_Authentication", username=user.username,
           client_id=client.id, request=request)


def post_authentication(state, pool, client, user) -> None:
    """PostAuthentication_Authentication: the user is authenticated; raising still refuses the tokens."""
    invoke(state, pool, "PostAuthentication", "PostAuthentication_Authentication", username=user.username,
           client_id=client.id, request={"userAttributes": user_attributes(user), "newDeviceUsed": False,
                                         "clientMetadata": client_metadata()})


def pre_token_generation(state, pool, client, user, source: str, id_claims: dict, access_claims: dict,
                         group_claims: dict) -> None:
    """Run the pre token generation trigger and apply its response to the claims, in place.

    ``group_claims`` is what the ID token would carry of groups (cognito:groups, cognito:roles,
    cognito:preferred_role). V1_0 events customise the ID token (and groups in both tokens); V2_0
    ones the ID and access tokens and the access token's scopes. Reserved claims keep their values.
    """
    found = configured(pool, "PreTokenGeneration")
    if found is None:
        return
    version = found[1]
    v2 = version in ("V2_0", "V3_0")
    request: dict[str, Any] = {
        "userAttributes": user_attributes(user),
        "groupConfiguration": {"groupsToOverride": list(group_claims.get("cognito:groups", [])),
                               "iamRolesToOverride": list(group_claims.get("cognito:roles", [])),
                               "preferredRole": group_claims.get("cognito:preferred_role")},
        "clientMetadata": client_metadata(),
    }
    if v2:
        request["scopes"] = access_claims.get("scope", "").split()
    response = invoke(state, pool, "PreTokenGeneration", source, username=user.username, client_id=client.id,
                      request=request, event_version=_EVENT_VERSION.get(version, "1"))
    _apply_token_response(response, v2, id_claims, access_claims)


#: LambdaVersion → the event's ``version`` field.
_EVENT_VERSION = {"V1_0": "1", "V2_0": "2", "V3_0": "3"}


def pre_token_generation_machine(state, pool, client, access_claims: dict) -> None:
    """The client-credentials (M2M) access token: only a V3_0 trigger sees it.

    Developer guide, pre token generation: "Version three event responses apply to access tokens
    from user authentication and machine authentication, where automated systems authorize access
    token requests with app client secrets. Aside from the circumstances of the resulting access
    tokens, version two and three events are identical." There is no user: ``userName`` is null,
    ``userAttributes`` and the group configuration are empty, and there is no ID token to change.
    """
    found = configured(pool, "PreTokenGeneration")
    if found is None or found[1] != "V3_0":
        return
    request = {"userAttributes": {},
               "groupConfiguration": {"groupsToOverride": [], "iamRolesToOverride": [], "preferredRole": None},
               "scopes": access_claims.get("scope", "").split(), "clientMetadata": client_metadata()}
    response = invoke(state, pool, "PreTokenGeneration", "TokenGeneration_ClientCredentials", username=None,
                      client_id=client.id, request=request, event_version="3")
    _apply_token_response(response, True, {}, access_claims)


def _apply_token_response(response, v2: bool, id_claims: dict, access_claims: dict) -> None:
    if not response:
        return
    key = "claimsAndScopeOverrideDetails" if v2 else "claimsOverrideDetails"
    details = response.get(key)
    if details is None:
        return
    if not isinstance(details, dict):
        raise invalid_response()
    if "groupOverrideDetails" in details:
        _override_groups(details.get("groupOverrideDetails"), id_claims, access_claims)
    if v2:
        id_part = details.get("idTokenGeneration") or {}
        access_part = details.get("accessTokenGeneration") or {}
        if not isinstance(id_part, dict) or not isinstance(access_part, dict):
            raise invalid_response()
        _override_claims(id_claims, id_part, RESERVED_ID_CLAIMS, allow_complex=True)
        _override_claims(access_claims, access_part, RESERVED_ACCESS_CLAIMS, allow_complex=True)
        scopes = access_claims.get("scope", "").split()
        suppress = set(_string_list(access_part.get("scopesToSuppress")))
        scopes = [s for s in scopes if s not in suppress]
        scopes += [s for s in _string_list(access_part.get("scopesToAdd")) if s not in scopes and s not in suppress]
        access_claims["scope"] = " ".join(scopes)
    else:
        _override_claims(id_claims, details, RESERVED_ID_CLAIMS, allow_complex=False)


def _override_claims(claims: dict, part: dict, reserved: frozenset, *, allow_complex: bool) -> None:
    additions = _string_map(part.get("claimsToAddOrOverride"), allow_complex=allow_complex)
    suppress = _string_list(part.get("claimsToSuppress"))
    for name, value in additions.items():
        if name not in reserved and name not in GROUP_CLAIMS:
            claims[name] = value
    # "If a value is both suppressed and replaced, then it will be suppressed."
    for name in suppress:
        if name not in reserved:
            claims.pop(name, None)


def _override_groups(override, id_claims: dict, access_claims: dict) -> None:
    """groupOverrideDetails replaces the group claims; an empty or null object suppresses them."""
    for claims in (id_claims, access_claims):
        for name in GROUP_CLAIMS:
            claims.pop(name, None)
    if not override:
        return
    if not isinstance(override, dict):
        raise invalid_response()
    groups = _string_list(override.get("groupsToOverride"))
    roles = _string_list(override.get("iamRolesToOverride"))
    preferred = override.get("preferredRole")
    if groups:
        id_claims["cognito:groups"] = access_claims["cognito:groups"] = list(groups)
    if roles:
        id_claims["cognito:roles"] = list(roles)
    if isinstance(preferred, str) and preferred:
        id_claims["cognito:preferred_role"] = preferred


# -- messages ---------------------------------------------------------------------------------------
def custom_message(state, pool, user, source: str, channel: str, text: str, subject: str | None,
                   code: str | None, username: str | None = None) -> tuple[str, str | None]:
    """CustomMessage_*: the function may rewrite the message; Cognito then puts the code (and, for
    AdminCreateUser, the username) where ``{####}`` / ``{username}`` stand. Returns (text, subject)."""
    found = configured(pool, "CustomMessage")
    if found is None:
        return text, subject
    request = {"userAttributes": user_attributes(user), "codeParameter": CODE_PARAMETER,
               "linkParameter": LINK_PARAMETER,
               "usernameParameter": USERNAME_PARAMETER if source == "CustomMessage_AdminCreateUser" else None,
               "clientMetadata": client_metadata()}
    response = invoke(state, pool, "CustomMessage", source, username=user.username, request=request)
    if not response:
        return text, subject
    field = "emailMessage" if channel == "EMAIL" else "smsMessage"
    custom = response.get(field)
    if custom is None:
        return text, subject
    if not isinstance(custom, str):
        raise invalid_response()
    if code is not None:
        custom = custom.replace(CODE_PARAMETER, code)
    custom = custom.replace(USERNAME_PARAMETER, username or user.username)
    new_subject = response.get("emailSubject") if channel == "EMAIL" else None
    if new_subject is not None and not isinstance(new_subject, str):
        raise invalid_response()
    return custom, (new_subject or subject)


def deliver(state, pool, user, *, source: str, to: str, channel: str, kind: str, text: str,
            code: str | None, subject: str | None = None, username: str | None = None) -> None:
    """Deliver a message to the lab inbox after the custom message trigger (if any) had its say."""
    text, subject = custom_message(state, pool, user, source, channel, text, subject, code, username)
    state.lab.deliver(to=to, channel=channel, kind=kind, text=text, code=code, subject=subject)


# -- user migration --------------------------------------------------------------------------------
def migrate_user(state, pool, client, username: str, source: str, password: str | None = None):
    """UserMigration_Authentication / _ForgotPassword: ask the function about a user the pool lacks.

    Returns the user created from the function's answer (with ``password`` when signing in; the pool's
    password policy is not applied, as the guide says), or None when the trigger is not configured.
    """
    if configured(pool, "UserMigration") is None:
        return None
    request: dict[str, Any] = {"validationData": client_metadata() or None, "clientMetadata": client_metadata()}
    if source == "UserMigration_Authentication":
        request["password"] = password
    response = invoke(state, pool, "UserMigration", source, username=username, client_id=client.id,
                      request=request)
    # "userAttributes: This field is required." A function that does not know the user raises
    # (the guide's example answers an unknown user with an error).
    attributes = _string_map((response or {}).get("userAttributes"))
    if not attributes:
        raise invalid_response()
    default = "RESET_REQUIRED" if source == "UserMigration_ForgotPassword" else "CONFIRMED"
    status = response.get("finalUserStatus") or default
    if status not in ("CONFIRMED", "RESET_REQUIRED"):
        raise invalid_response()
    action = response.get("messageAction")
    if action not in (None, "SUPPRESS", "RESEND"):
        raise invalid_response()
    from moto.cognitoidp.models import CognitoIdpUser, UserStatus

    pairs = [{"Name": str(k), "Value": str(v).lower() if isinstance(v, bool) else str(v)}
             for k, v in attributes.items() if k not in ("sub", "username", "cognito:user_status")]
    user = CognitoIdpUser(pool.id, username, password if source == "UserMigration_Authentication" else None,
                          UserStatus[status], pairs)
    pool.users[user.username] = user
    return user
