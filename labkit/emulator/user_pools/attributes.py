"""User-pool attributes as Cognito enforces them: the schema, app-client read/write permissions,
value checks, and which attributes an ID token carries.

Pure rules over moto's data (``pool.schema_attributes``, ``client.extended_config``,
``user.attribute_lookup``); the API actions built on them are in
:mod:`labkit.emulator.user_pools.attribute_updates`.

Sources (Cognito developer guide "Working with user attributes", user-pool-settings-attributes;
API reference SchemaAttributeType, AddCustomAttributes, CreateUserPoolClient):

- Standard attributes are defined by Cognito; custom ones must be declared (CreateUserPool
  ``Schema`` or AddCustomAttributes) and are named ``custom:<name>``; legacy developer-only ones
  ``dev:custom:<name>`` are read-only to every app client.
- ``Mutable: false``: "the attribute value can only be set up on sign-up or administrator creation
  of users". ``sub`` is immutable.
- Each app client has ReadAttributes and WriteAttributes. "If an app tries to update an attribute
  that is not writable, the app gets a NotAuthorizedException"; GetUser returns only readable
  attributes and "the ID token ... only contains claims corresponding to the readable attributes".
  "Required attributes in a user pool are always writable."
"""
from __future__ import annotations

import decimal
from dataclasses import dataclass
from typing import Any, Iterable

from .. import errors as E

SUB = "sub"
VERIFIED_FLAG = {"email": "email_verified", "phone_number": "phone_number_verified"}
VERIFIED_FLAGS = frozenset(VERIFIED_FLAG.values())
VERIFIABLE = frozenset(VERIFIED_FLAG)           # the attributes Cognito can verify
MAX_STRING = 2048                               # "any string up to 2048 characters by default"

# Cognito's messages (InvalidParameterException unless noted). The first four are quoted from
# Cognito's answers; the value-check wordings are the lab's (see README, "Differs from AWS").
NOT_IN_SCHEMA = "Attribute does not exist in the schema."
CANNOT_UPDATE = "Attribute cannot be updated."
REQUIRED_CANNOT_BE_DELETED = "Required attribute cannot be deleted."
UNAUTHORIZED_WRITE = "A client attempted to write unauthorized attribute"        # NotAuthorizedException
SCHEMA_PREFIX = "Attributes did not conform to the schema: "                      # SignUp, AdminCreateUser

# When a client has no ReadAttributes / WriteAttributes. The API reference says the defaults are
# "email_verified, phone_number_verified, and the standard attributes" (read) and "the Standard
# attributes" (write); the console ("All attributes are readable and writable by default because
# none are selected"), the CDK's documented default and user reports show custom attributes
# included. The lab follows the observed behaviour: see README.
DEFAULT_READ_INCLUDES_CUSTOM = True
DEFAULT_WRITE_INCLUDES_CUSTOM = True


@dataclass(frozen=True)
class AttributeDef:
    name: str
    data_type: str                 # String | Number | DateTime | Boolean
    mutable: bool
    required: bool
    developer_only: bool = False
    min_length: int | None = None
    max_length: int | None = None
    min_value: decimal.Decimal | None = None
    max_value: decimal.Decimal | None = None

    @property
    def custom(self) -> bool:
        return self.name.startswith(("custom:", "dev:"))


def _standard_schema() -> dict[str, dict]:
    from moto.cognitoidp.models import CognitoIdpUserPoolAttribute

    return CognitoIdpUserPoolAttribute.STANDARD_SCHEMA


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _number(value) -> decimal.Decimal | None:
    try:
        return decimal.Decimal(str(value)) if value not in (None, "") else None
    except decimal.InvalidOperation:
        return None


def _definition(name: str, data_type: str, mutable: bool, required: bool, developer_only: bool,
                strings: dict | None, numbers: dict | None) -> AttributeDef:
    strings, numbers = strings or {}, numbers or {}
    return AttributeDef(name, data_type, bool(mutable), bool(required), bool(developer_only),
                        _int(strings.get("MinLength")), _int(strings.get("MaxLength")),
                        _number(numbers.get("MinValue")), _number(numbers.get("MaxValue")))


def schema(pool) -> dict[str, AttributeDef]:
    """Every attribute the pool knows: Cognito's standard ones (with the pool's overrides) and the
    declared custom / developer-only ones. (moto keeps only what CreateUserPool's ``Schema`` named.)"""
    result: dict[str, AttributeDef] = {}
    standard = _standard_schema()
    for name, spec in standard.items():
        result[name] = _definition(name, spec["AttributeDataType"], spec["Mutable"], spec["Required"], False,
                                   spec.get("StringAttributeConstraints"), spec.get("NumberAttributeConstraints"))
    for name, attr in getattr(pool, "schema_attributes", {}).items():
        default = standard.get(name, {})
        strings = attr.string_constraints or default.get("StringAttributeConstraints")
        numbers = attr.number_constraints or default.get("NumberAttributeConstraints")
        result[name] = _definition(name, attr.data_type, attr.mutable, attr.required, attr.developer_only,
                                   strings, numbers)
    # sub is immutable whatever a schema says; the verified flags are Cognito's own.
    result[SUB] = AttributeDef(SUB, "String", False, True, False, 1, MAX_STRING)
    return result


# -- app-client permissions -----------------------------------------------------------------------
def readable(pool, client) -> set[str]:
    """What ``client`` may read: its ReadAttributes, or (when unset) every attribute; ``sub`` always."""
    listed = client.extended_config.get("ReadAttributes")
    if listed:
        return set(listed) | {SUB}
    names = set(schema(pool))
    if not DEFAULT_READ_INCLUDES_CUSTOM:
        names = {n for n in names if not n.startswith(("custom:", "dev:"))}
    return names


def writable(pool, client) -> set[str]:
    """What ``client`` may write with SignUp / UpdateUserAttributes: its WriteAttributes, or (when
    unset) every attribute but the verified flags; required attributes always; never ``sub`` nor a
    developer-only attribute."""
    attrs = schema(pool)
    listed = client.extended_config.get("WriteAttributes")
    if listed:
        names = set(listed)
    else:
        names = {n for n in attrs if n not in VERIFIED_FLAGS}
        if not DEFAULT_WRITE_INCLUDES_CUSTOM:
            names = {n for n in names if not attrs[n].custom}
    names |= {n for n, a in attrs.items() if a.required}
    return {n for n in names if n != SUB and not n.startswith("dev:")}


def validate_client_attributes(pool, params: dict, *, updating: bool) -> None:
    """CreateUserPoolClient / UpdateUserPoolClient: every ReadAttributes / WriteAttributes name must
    be an attribute of the pool (and ``sub`` or a developer-only attribute is never writable)."""
    attrs = schema(pool)
    verb = "updating" if updating else "creating"
    read, write = params.get("ReadAttributes") or [], params.get("WriteAttributes") or []
    if any(not isinstance(n, str) or n not in attrs for n in read):
        raise E.invalid_parameter(f"Invalid read attributes specified while {verb} a client")
    if any(not isinstance(n, str) or n not in attrs or n == SUB or n.startswith("dev:") for n in write):
        raise E.invalid_parameter(f"Invalid write attributes specified while {verb} a client")


# -- values -----------------------------------------------------------------------------------------
def _value_problem(attr: AttributeDef, value: str) -> str | None:
    if attr.data_type == "Boolean":
        return None if value.lower() in ("true", "false") else "Attribute value must be true or false."
    if attr.data_type == "Number":
        number = _number(value)
        if number is None or not number.is_finite():
            return "Attribute value must be a number."
        if attr.min_value is not None and number < attr.min_value:
            return f"Number must be no less than {attr.min_value}."
        if attr.max_value is not None and number > attr.max_value:
            return f"Number must be no greater than {attr.max_value}."
        return None
    if attr.name == "phone_number" and value and not (value.startswith("+") and value[1:].isdigit()):
        return "Invalid phone number format."
    longest = attr.max_length if attr.max_length is not None else MAX_STRING
    if len(value) > min(longest, MAX_STRING):
        return f"String must be no longer than {min(longest, MAX_STRING)} characters."
    if attr.min_length and value and len(value) < attr.min_length:
        return f"String must be at least {attr.min_length} characters long."
    return None


def normalized(attr: AttributeDef, value: str) -> str:
    return value.lower() if attr.data_type == "Boolean" else value


def as_pairs(attributes: Any) -> list[tuple[str, str]]:
    """``[{"Name": n, "Value": v}, …]`` as (name, value) pairs; a malformed list is refused."""
    pairs = []
    for item in attributes or []:
        if not isinstance(item, dict) or not isinstance(item.get("Name"), str):
            raise E.invalid_parameter("Each user attribute needs a Name (and a Value).")
        value = item.get("Value", "")
        if not isinstance(value, str):
            raise E.invalid_parameter(f"The value of {item['Name']} must be a string.")
        pairs.append((item["Name"], value))
    return pairs


def _fail(problems: list[tuple[str, str]], *, creating: bool) -> E.CognitoError:
    # SignUp / AdminCreateUser: "Attributes did not conform to the schema: custom:x: Attribute does
    # not exist in the schema.\n"; the update actions: "user.custom:x: Attribute does not exist in
    # the schema.\n", one line per attribute.
    if creating:
        return E.invalid_parameter(SCHEMA_PREFIX + "".join(f"{n}: {p}\n" for n, p in problems))
    return E.invalid_parameter("".join(f"user.{n}: {p}\n" for n, p in problems))


def check_known(pool, names: Iterable[str], *, creating: bool) -> None:
    """Every name must be an attribute of the pool (custom ones declared, with their prefix)."""
    attrs = schema(pool)
    unknown = [(n, NOT_IN_SCHEMA) for n in dict.fromkeys(names) if n not in attrs]
    if unknown:
        raise _fail(unknown, creating=creating)


def check_client_may_write(pool, client, names: Iterable[str]) -> None:
    """NotAuthorizedException when the app client may not write one of ``names``."""
    allowed = writable(pool, client)
    if any(n not in allowed for n in names):
        raise E.not_authorized(UNAUTHORIZED_WRITE)


def check_values(pool, pairs: list[tuple[str, str]], *, creating: bool, user=None) -> list[tuple[str, str]]:
    """Mutability and value checks; returns the pairs with booleans normalised.

    Creating (SignUp, AdminCreateUser): every attribute may be set except ``sub``. Updating: an
    immutable attribute cannot be set at all ("can only be set up on sign-up or administrator
    creation"); a blank value deletes the attribute (UpdateUserAttributes reference), which a
    required attribute refuses.
    """
    attrs = schema(pool)
    problems, result = [], []
    for name, value in pairs:
        attr = attrs[name]
        if name == SUB or (not creating and not attr.mutable):
            problems.append((name, CANNOT_UPDATE))
            continue
        if value == "" and not creating:
            if attr.required:
                problems.append((name, REQUIRED_CANNOT_BE_DELETED))
            result.append((name, value))
            continue
        problem = _value_problem(attr, value)
        if problem:
            problems.append((name, problem))
        result.append((name, normalized(attr, value)))
    if problems:
        raise _fail(problems, creating=creating)
    return result


def check_for_creation(pool, client, attributes: Any) -> list[tuple[str, str]]:
    """SignUp (``client`` given: its WriteAttributes apply) and AdminCreateUser (``client`` None)."""
    pairs = as_pairs(attributes)
    check_known(pool, [n for n, _ in pairs], creating=True)
    if client is not None:
        check_client_may_write(pool, client, [n for n, _ in pairs])
    return check_values(pool, pairs, creating=True)


# -- reading ----------------------------------------------------------------------------------------
def visible_attributes(pool, client, attribute_list: list[dict]) -> list[dict]:
    """The ``[{"Name", "Value"}]`` list GetUser returns through ``client``'s access token."""
    allowed = readable(pool, client)
    return [a for a in attribute_list if a.get("Name") in allowed]


def id_token_claims(pool, client, user) -> dict[str, Any]:
    """The user's attributes an ID token for ``client`` carries (``sub`` excluded: the caller sets
    it). The verified flags are JSON booleans; every other value, custom ones included, a string."""
    allowed = readable(pool, client)
    claims: dict[str, Any] = {}
    for name, value in user.attribute_lookup.items():
        if name == SUB or name not in allowed:
            continue
        claims[name] = (str(value).lower() == "true") if name in VERIFIED_FLAGS else value
    if "identities" in user.attribute_lookup:
        # A federated user's links to its IdPs: a JSON array in the ID token (a string attribute).
        import json

        claims["identities"] = json.loads(user.attribute_lookup["identities"])
    return claims
