"""The attribute actions, answered the way Cognito answers them: UpdateUserAttributes,
AdminUpdateUserAttributes, (Admin)DeleteUserAttributes, GetUser's readable attributes,
GetUserAttributeVerificationCode and VerifyUserAttribute.

Email and phone changes follow the developer guide ("Verifying when users change their email or
phone number"; "Verifying updates to email addresses and phone numbers") and the API reference
(UpdateUserAttributes, AdminUpdateUserAttributes, UserAttributeUpdateSettingsType,
VerifyUserAttribute):

- Without ``AttributesRequireVerificationBeforeUpdate`` for the attribute, the new value replaces
  the old at once and "that attribute is marked as unverified"; if the pool auto-verifies it, a code
  goes to the new address (``CodeDeliveryDetailsList``).
- With it, "Amazon Cognito doesn't change the value of the attribute until your user responds to the
  verification message"; "your user can sign in and receive messages with the original attribute
  value until they verify the new value". VerifyUserAttribute "updates the affected attribute to its
  pending value"; an administrator can instead set ``email_verified`` / ``phone_number_verified``
  to true, which also skips the message.
"""
from __future__ import annotations

from .. import errors as E
from . import attributes as A
from . import email_quota, flows, triggers
from .state import ATTRIBUTE_CODE_TTL, CodeRecord, IdpState


def _purpose(attribute: str) -> str:
    return f"verify:{attribute}"


def _signed_in(state: IdpState, backend, params: dict):
    """The access token's pool, app client and user (after Cognito's token checks)."""
    record = flows.check_access_token(state, backend, params.get("AccessToken"))
    pool = flows.find_pool(backend, record.pool_id)
    client, user = pool.clients.get(record.client_id), pool._get_user(record.username)
    if client is None or user is None:
        raise E.not_authorized(E.INVALID_ACCESS_TOKEN)
    return pool, client, user


def _pending(state: IdpState, pool, user) -> dict[str, str]:
    return state.pending_attributes.setdefault((pool.id, user.id), {})


def _send_code(state: IdpState, pool, user, attribute: str, destination: str,
               source: str = "CustomMessage_UpdateUserAttribute") -> dict:
    """A fresh verification code for ``attribute``, delivered to ``destination`` (the new value)."""
    channel = "EMAIL" if attribute == "email" else "SMS"
    if channel == "EMAIL":
        email_quota.spend(state, pool)           # the default sender's 50 emails a day
    code = state.code()
    state.codes[(pool.id, user.username, _purpose(attribute))] = CodeRecord(
        code, state.now() + ATTRIBUTE_CODE_TTL, channel, destination)
    # Cognito sends its verification message (VerificationMessageTemplate) for attribute changes too.
    text = flows._message_template(pool, "sign-up", channel).replace("{####}", code)
    text = text.replace("{username}", user.username)
    triggers.deliver(state, pool, user, source=source, to=destination, channel=channel,
                     kind="attribute-verification", text=text, code=code)
    return {"Destination": flows._mask(destination), "DeliveryMedium": channel, "AttributeName": attribute}


def _check_alias_free(pool, user, attribute: str, value: str) -> None:
    """An email / phone number that users sign in with belongs to one user of the pool."""
    cfg = pool.extended_config
    if attribute not in (cfg.get("UsernameAttributes") or []) + (cfg.get("AliasAttributes") or []):
        return
    for other in pool.users.values():
        if other is not user and other.attribute_lookup.get(attribute) == value:
            raise E.CognitoError("AliasExistsException", f"An account with the given {attribute} already exists.")


def _settings(pool) -> tuple[set[str], set[str]]:
    cfg = pool.extended_config
    auto = set(cfg.get("AutoVerifiedAttributes") or [])
    keep = set((cfg.get("UserAttributeUpdateSettings") or {}).get("AttributesRequireVerificationBeforeUpdate") or [])
    return auto, keep


def apply_update(state: IdpState, pool, user, pairs: list[tuple[str, str]]) -> list[dict]:
    """Write checked (name, value) pairs to ``user`` as Cognito does; return the code deliveries."""
    values = dict(pairs)
    for attribute in A.VERIFIABLE:                       # refuse before anything is written
        if values.get(attribute) and values[attribute] != user.attribute_lookup.get(attribute):
            _check_alias_free(pool, user, attribute, values[attribute])
    auto, keep_original = _settings(pool)
    pending = _pending(state, pool, user)
    changes: dict[str, str] = {}
    deliveries: list[dict] = []
    sends: list[tuple[str, str]] = []
    for attribute, flag in A.VERIFIED_FLAG.items():
        if attribute not in values:
            continue
        new, flag_value = values.pop(attribute), values.pop(flag, None)
        if new == "" or new == user.attribute_lookup.get(attribute):
            values[attribute] = new                      # a deletion, or no change: nothing to verify
            if flag_value is not None:
                values[flag] = flag_value
            continue
        if flag_value == "true":
            # "To skip the verification message and update the value ... include the email_verified
            # or phone_number_verified attribute, with a value of true." (AdminUpdateUserAttributes)
            changes.update({attribute: new, flag: "true"})
            pending.pop(attribute, None)
            state.codes.pop((pool.id, user.username, _purpose(attribute)), None)
        elif attribute in keep_original:
            pending[attribute] = new                     # the old value stays active until verified
            sends.append((attribute, new))
        else:
            changes.update({attribute: new, flag: "false"})   # replaced at once, now unverified
            pending.pop(attribute, None)
            state.codes.pop((pool.id, user.username, _purpose(attribute)), None)
            if attribute in auto:
                sends.append((attribute, new))
    for attribute, flag in A.VERIFIED_FLAG.items():
        if values.get(flag) == "true" and attribute in pending:
            # Setting the flag to true verifies the pending value (UserAttributeUpdateSettingsType).
            changes[attribute] = pending.pop(attribute)
    deletions = [n for n, v in values.items() if v == "" and n in user.attribute_lookup]
    changes.update({n: v for n, v in values.items() if v != ""})
    if changes:
        user.update_attributes([{"Name": n, "Value": v} for n, v in changes.items()])
    if deletions:
        user.delete_attributes(deletions)
    for attribute, destination in sends:
        deliveries.append(_send_code(state, pool, user, attribute, destination))
    if not pending:
        state.pending_attributes.pop((pool.id, user.id), None)
    return deliveries


# -- the actions -----------------------------------------------------------------------------------
def update_user_attributes(state: IdpState, backend, params: dict) -> dict:
    """UpdateUserAttributes: the signed-in user, limited to what the token's app client may write."""
    pool, client, user = _signed_in(state, backend, params)
    pairs = A.as_pairs(params.get("UserAttributes"))
    names = [n for n, _ in pairs]
    A.check_known(pool, names, creating=False)
    A.check_client_may_write(pool, client, names)
    deliveries = apply_update(state, pool, user, A.check_values(pool, pairs, creating=False))
    return {"CodeDeliveryDetailsList": deliveries} if deliveries else {}


def admin_update_user_attributes(state: IdpState, backend, params: dict) -> dict:
    """AdminUpdateUserAttributes: not limited by any app client; immutable attributes stay immutable."""
    pool = flows.find_pool(backend, params.get("UserPoolId"))
    user = pool._get_user(params.get("Username"))
    if user is None:
        raise E.user_not_found()
    pairs = A.as_pairs(params.get("UserAttributes"))
    A.check_known(pool, [n for n, _ in pairs], creating=False)
    apply_update(state, pool, user, A.check_values(pool, pairs, creating=False))
    return {}


def _delete(state: IdpState, pool, user, names) -> None:
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise E.invalid_parameter("UserAttributeNames must be a list of attribute names.")
    A.check_known(pool, names, creating=False)
    A.check_values(pool, [(n, "") for n in names], creating=False)
    apply_update(state, pool, user, [(n, "") for n in names])


def delete_user_attributes(state: IdpState, backend, params: dict) -> dict:
    pool, client, user = _signed_in(state, backend, params)
    names = params.get("UserAttributeNames")
    if isinstance(names, list):
        A.check_client_may_write(pool, client, [n for n in names if isinstance(n, str)])
    _delete(state, pool, user, names)
    return {}


def admin_delete_user_attributes(state: IdpState, backend, params: dict) -> dict:
    pool = flows.find_pool(backend, params.get("UserPoolId"))
    user = pool._get_user(params.get("Username"))
    if user is None:
        raise E.user_not_found()
    _delete(state, pool, user, params.get("UserAttributeNames"))
    return {}


def readable_user(state: IdpState, backend, params: dict, response: dict) -> dict:
    """GetUser: moto's answer with only the attributes the token's app client may read."""
    pool, client, _user = _signed_in(state, backend, params)
    if isinstance(response.get("UserAttributes"), list):
        response["UserAttributes"] = A.visible_attributes(pool, client, response["UserAttributes"])
    return response


def _verifiable(params: dict) -> str:
    attribute = params.get("AttributeName")
    if attribute not in A.VERIFIABLE:
        raise E.invalid_parameter(f"{attribute} cannot be verified: only email and phone_number can be.")
    return attribute


def get_user_attribute_verification_code(state: IdpState, backend, params: dict) -> dict:
    """A code for ``email`` / ``phone_number``, sent to the value waiting for verification if there
    is one, else to the current value."""
    pool, _client, user = _signed_in(state, backend, params)
    attribute = _verifiable(params)
    destination = _pending(state, pool, user).get(attribute) or user.attribute_lookup.get(attribute)
    if not destination:
        raise E.invalid_parameter(f"The user has no {attribute} to verify.")
    return {"CodeDeliveryDetails": _send_code(state, pool, user, attribute, destination,
                                              "CustomMessage_VerifyUserAttribute")}


def verify_user_attribute(state: IdpState, backend, params: dict) -> dict:
    """The code sent for ``email`` / ``phone_number``: wrong → CodeMismatchException, after 24 hours
    → ExpiredCodeException; right → the attribute (its pending value, if any) becomes verified."""
    pool, _client, user = _signed_in(state, backend, params)
    attribute = _verifiable(params)
    flows._check_code(state, pool, user, _purpose(attribute), params.get("Code"))
    pending = _pending(state, pool, user)
    changes = {A.VERIFIED_FLAG[attribute]: "true"}
    if attribute in pending:
        _check_alias_free(pool, user, attribute, pending[attribute])
        changes[attribute] = pending.pop(attribute)
    user.update_attributes([{"Name": n, "Value": v} for n, v in changes.items()])
    if not pending:
        state.pending_attributes.pop((pool.id, user.id), None)
    return {}


def check_sign_up(backend, pool, client, params: dict) -> list[dict]:
    """SignUp's UserAttributes against the schema and the app client's WriteAttributes."""
    pairs = A.check_for_creation(pool, client, params.get("UserAttributes"))
    return [{"Name": n, "Value": v} for n, v in pairs]


def check_admin_create_user(backend, pool, params: dict) -> list[dict]:
    """AdminCreateUser's UserAttributes against the schema (no app client involved)."""
    pairs = A.check_for_creation(pool, None, params.get("UserAttributes"))
    return [{"Name": n, "Value": v} for n, v in pairs]
