"""A small IAM policy evaluator: the part of AWS's authorization logic an identity-pool lesson needs.

AWS decides every request in the same few steps (the IAM User Guide calls it *policy evaluation
logic*); this module does them for one principal in one account::

    1. Any statement that matches with "Effect": "Deny"   -> explicit deny (nothing can undo it)
    2. Any statement that matches with "Effect": "Allow"  -> allowed
    3. Otherwise                                           -> implicit deny ("no policy allows")

A statement *matches* a request when its ``Action`` (or ``NotAction``), ``Resource`` (or
``NotResource``), ``Principal`` (for resource-based and trust policies) and every ``Condition``
match. Policy variables such as ``${cognito-identity.amazonaws.com:sub}`` are replaced by the
request's context before matching, which is how one role gives every identity its own folder.

    >>> policy = {"Version": "2012-10-17", "Statement": [{
    ...     "Effect": "Allow", "Action": "s3:GetObject",
    ...     "Resource": "arn:aws:s3:::notes/private/${cognito-identity.amazonaws.com:sub}/*"}]}
    >>> me = {"cognito-identity.amazonaws.com:sub": "us-east-1:1111"}
    >>> evaluate([policy], "s3:GetObject", "arn:aws:s3:::notes/private/us-east-1:1111/a.txt", me).allowed
    True
    >>> evaluate([policy], "s3:GetObject", "arn:aws:s3:::notes/private/us-east-1:2222/a.txt", me).reason
    'implicit-deny'

What it leaves out (the lab never needs it): permission boundaries, SCPs/RCPs, cross-account
rules, ``NotPrincipal``, and the date and IP-address condition operators other than the ones
listed in :data:`OPERATORS`.
"""
from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping

__all__ = ["Decision", "PolicyError", "Request", "evaluate", "evaluate_with_session_policy", "statement_matches",
           "as_policy", "matches_pattern", "substitute_variables", "s3_requests", "dynamodb_requests", "OPERATORS"]

Context = Mapping[str, "str | list[str]"]


@dataclass(frozen=True)
class Decision:
    """The outcome of :func:`evaluate`.

    ``reason`` is ``"allowed"``, ``"explicit-deny"`` or ``"implicit-deny"``; ``statement`` is the
    statement that decided (the matching Allow or Deny), ``None`` for an implicit deny.
    """

    allowed: bool
    reason: str
    statement: dict | None = None
    policy_kind: str = "identity-based"

    def __bool__(self) -> bool:
        return self.allowed

    def explain(self, action: str) -> str:
        """The tail AWS puts on an AccessDenied message, e.g. ``because no identity-based policy allows the s3:GetObject action``."""
        if self.reason == "explicit-deny":
            article = "an" if self.policy_kind[0] in "aeiou" else "a"
            return f"with an explicit deny in {article} {self.policy_kind} policy"
        if self.reason == "implicit-deny":
            return f"because no {self.policy_kind} policy allows the {action} action"
        return ""


def as_policy(document: "str | dict") -> dict:
    """A policy document as a dict (IAM stores them as JSON text, sometimes URL-encoded)."""
    if isinstance(document, dict):
        return document
    text = document.strip()
    if text.startswith("%7B") or text.startswith("%7b"):
        from urllib.parse import unquote

        text = unquote(text)
    return json.loads(text)


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


# -- patterns and variables -------------------------------------------------------------------
_VARIABLE = re.compile(r"\$\{([^}]+)\}")


class _MissingVariable(Exception):
    pass


def substitute_variables(text: str, context: Context) -> str:
    """Replace ``${key}`` with the request's value for ``key`` (``${*}``, ``${?}``, ``${$}`` are escapes).

    A variable whose key the request lacks makes the statement not match, as on AWS (unless it
    has a default, ``${key, 'default'}``).
    """
    def replace(match: re.Match) -> str:
        inner = match.group(1)
        if inner in ("*", "?", "$"):
            return "\0" + inner   # a literal, protected from wildcard matching below
        key, _, default = inner.partition(",")
        key = key.strip()
        value = _context_get(context, key)
        if value is None:
            default = default.strip()
            if default.startswith("'") and default.endswith("'") and len(default) >= 2:
                return default[1:-1]
            raise _MissingVariable(key)
        if isinstance(value, list):   # multi-valued keys cannot be used as variables
            raise _MissingVariable(key)
        return value

    return _VARIABLE.sub(replace, text)


def _context_get(context: Context, key: str):
    if key in context:
        return context[key]
    lowered = key.lower()   # condition key names are case-insensitive
    for name, value in context.items():
        if name.lower() == lowered:
            return value
    return None


def matches_pattern(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM wildcard matching: ``*`` is any run of characters (including ``/``), ``?`` one character."""
    regex = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\0" and i + 1 < len(pattern):   # an escaped ${*} / ${?} / ${$}
            regex.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        regex.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
        i += 1
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch("".join(regex), value, flags) is not None


def _literal(text: str) -> str:
    return text.replace("\0", "")


# -- condition operators ----------------------------------------------------------------------
def _str_eq(policy_value: str, value: str) -> bool:
    return _literal(policy_value) == value


def _str_eq_ic(policy_value: str, value: str) -> bool:
    return _literal(policy_value).lower() == value.lower()


def _str_like(policy_value: str, value: str) -> bool:
    return matches_pattern(policy_value, value)


def _arn_like(policy_value: str, value: str) -> bool:
    # ARNs are compared per colon-separated part; wildcards do not cross the first five colons.
    p_parts, v_parts = policy_value.split(":", 5), value.split(":", 5)
    if len(p_parts) != 6 or len(v_parts) != 6:
        return False
    return all(matches_pattern(p, v) for p, v in zip(p_parts, v_parts))


def _num(op):
    def compare(policy_value: str, value: str) -> bool:
        try:
            return op(float(value), float(_literal(policy_value)))
        except ValueError:
            return False
    return compare


def _date(op):
    def parse(text: str) -> float:
        text = _literal(text)
        try:
            return float(text)
        except ValueError:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

    def compare(policy_value: str, value: str) -> bool:
        try:
            return op(parse(value), parse(policy_value))
        except ValueError:
            return False
    return compare


def _bool(policy_value: str, value: str) -> bool:
    return _literal(str(policy_value)).lower() == str(value).lower()


def _ip(policy_value: str, value: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(_literal(policy_value), strict=False)
    except ValueError:
        return False


#: operator name -> (compare(policy_value, request_value), negated)
OPERATORS = {
    "StringEquals": (_str_eq, False),
    "StringNotEquals": (_str_eq, True),
    "StringEqualsIgnoreCase": (_str_eq_ic, False),
    "StringNotEqualsIgnoreCase": (_str_eq_ic, True),
    "StringLike": (_str_like, False),
    "StringNotLike": (_str_like, True),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
    "NumericEquals": (_num(lambda a, b: a == b), False),
    "NumericNotEquals": (_num(lambda a, b: a == b), True),
    "NumericLessThan": (_num(lambda a, b: a < b), False),
    "NumericLessThanEquals": (_num(lambda a, b: a <= b), False),
    "NumericGreaterThan": (_num(lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_num(lambda a, b: a >= b), False),
    "DateEquals": (_date(lambda a, b: a == b), False),
    "DateNotEquals": (_date(lambda a, b: a == b), True),
    "DateLessThan": (_date(lambda a, b: a < b), False),
    "DateLessThanEquals": (_date(lambda a, b: a <= b), False),
    "DateGreaterThan": (_date(lambda a, b: a > b), False),
    "DateGreaterThanEquals": (_date(lambda a, b: a >= b), False),
    "Bool": (_bool, False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
}


class PolicyError(ValueError):
    """A policy the evaluator cannot read (an unknown condition operator, for example)."""


def _condition_holds(operator: str, key: str, policy_values: list, context: Context) -> bool:
    """One ``"Operator": {"key": values}`` entry, with AWS's rules for missing and multi-valued keys."""
    qualifier = None
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
        if qualifier not in ("ForAllValues", "ForAnyValue"):
            raise PolicyError(f"Unknown condition set operator {qualifier!r}")
    if_exists = operator.endswith("IfExists")
    if if_exists:
        operator = operator[: -len("IfExists")]

    request_value = _context_get(context, key)

    if operator == "Null":
        is_null = request_value is None or request_value == []
        return any(_bool(v, "true" if is_null else "false") for v in policy_values)
    if operator not in OPERATORS:
        raise PolicyError(f"Unknown condition operator {operator!r}")
    compare, negated = OPERATORS[operator]

    try:
        expected = [substitute_variables(str(v), context) for v in policy_values]
    except _MissingVariable:
        return False

    if qualifier == "ForAllValues":
        # True when every value in the request matches (vacuously true when the key is absent:
        # the classic LeadingKeys pitfall that lets a Scan through).
        values = _as_list(request_value)
        for value in values:
            hit = any(compare(p, str(value)) for p in expected)
            if hit == negated:
                return False
        return True
    if qualifier == "ForAnyValue":
        values = _as_list(request_value)
        if not values:
            return False
        return any(any(compare(p, str(v)) for p in expected) != negated for v in values)

    if request_value is None:
        return True if (if_exists or negated) else False
    values = _as_list(request_value)
    hit = any(compare(p, str(v)) for p in expected for v in values)
    return hit != negated


def _conditions_hold(condition: Mapping | None, context: Context) -> bool:
    for operator, entries in (condition or {}).items():
        for key, values in entries.items():
            if not _condition_holds(operator, key, _as_list(values), context):
                return False
    return True


# -- statements -------------------------------------------------------------------------------
def _action_matches(statement: dict, action: str) -> bool:
    if "Action" in statement:
        return any(matches_pattern(p, action, ignore_case=True) for p in _as_list(statement["Action"]))
    if "NotAction" in statement:
        return not any(matches_pattern(p, action, ignore_case=True) for p in _as_list(statement["NotAction"]))
    return False


def _resource_matches(statement: dict, resource: str | None, context: Context) -> bool:
    if "Resource" not in statement and "NotResource" not in statement:
        return True   # trust policies have no Resource
    if resource is None:
        return False
    try:
        if "Resource" in statement:
            return any(_resource_pattern_matches(substitute_variables(p, context), resource)
                       for p in _as_list(statement["Resource"]))
        return not any(_resource_pattern_matches(substitute_variables(p, context), resource)
                       for p in _as_list(statement["NotResource"]))
    except _MissingVariable:
        return False


def _resource_pattern_matches(pattern: str, resource: str) -> bool:
    return pattern == "*" or matches_pattern(pattern, resource)


def _principal_matches(statement: dict, principal: Mapping[str, Iterable[str]] | None) -> bool:
    if "Principal" not in statement:
        return principal is None
    if principal is None:
        return False
    wanted = statement["Principal"]
    if wanted == "*":
        return True
    for kind, names in wanted.items():
        ours = set(_as_list(principal.get(kind)))
        if any(name == "*" or name in ours for name in _as_list(names)):
            return True
    return False


def statement_matches(statement: dict, action: str, resource: str | None, context: Context,
                      principal: Mapping[str, Iterable[str]] | None = None) -> bool:
    """Whether one statement applies to the request (its Effect aside)."""
    return (_action_matches(statement, action)
            and _principal_matches(statement, principal)
            and _resource_matches(statement, resource, context)
            and _conditions_hold(statement.get("Condition"), context))


def evaluate(policies: Iterable["dict | str"], action: str, resource: str | None = None,
             context: Context | None = None, *, principal: Mapping[str, Iterable[str]] | None = None,
             policy_kind: str = "identity-based") -> Decision:
    """Decide ``action`` on ``resource`` under ``policies``: explicit deny, then allow, else implicit deny.

    Parameters
    ----------
    policies:
        Policy documents (dicts or JSON text): a role's inline and managed policies, or one trust
        policy.
    action:
        ``service:Action``, e.g. ``s3:GetObject`` (matched case-insensitively, as on AWS).
    resource:
        The ARN the request acts on; ``None`` for trust policies, which have no ``Resource``.
    context:
        The request's condition keys, e.g. ``{"s3:prefix": "private/", "dynamodb:LeadingKeys":
        ["us-east-1:…"], "cognito-identity.amazonaws.com:sub": "us-east-1:…"}``. Multi-valued keys
        are lists.
    principal:
        For resource-based and trust policies: who is asking, e.g.
        ``{"Federated": ["cognito-identity.amazonaws.com"]}`` or ``{"AWS": [role_arn, …]}``.
    """
    context = context or {}
    allow: dict | None = None
    for document in policies:
        for statement in _as_list(as_policy(document).get("Statement")):
            if not statement_matches(statement, action, resource, context, principal):
                continue
            if statement.get("Effect") == "Deny":
                return Decision(False, "explicit-deny", statement, policy_kind)
            if statement.get("Effect") == "Allow" and allow is None:
                allow = statement
    if allow is not None:
        return Decision(True, "allowed", allow, policy_kind)
    return Decision(False, "implicit-deny", None, policy_kind)


@dataclass
class Request:
    """One authorization question: ``action`` on ``resource`` with condition keys ``context``.

    A single API call may ask several (DynamoDB BatchGetItem asks one per table, S3 CopyObject
    reads the source and writes the destination).
    """

    action: str
    resource: str
    context: dict = field(default_factory=dict)


def evaluate_with_session_policy(identity_policies: Iterable["dict | str"], session_policy: "dict | str | None",
                                 action: str, resource: str, context: Context,
                                 resource_policy: "dict | str | None" = None,
                                 principal: Mapping[str, Iterable[str]] | None = None) -> Decision:
    """The same-account decision for an assumed role.

    An explicit deny anywhere wins. Otherwise the identity-based policies (intersected with the
    session policy passed to AssumeRoleWithWebIdentity, if any) or a resource-based policy such as
    an S3 bucket policy naming the principal must allow the request.
    """
    identity = evaluate(identity_policies, action, resource, context)
    if identity.reason == "explicit-deny":
        return identity
    resource_decision = None
    if resource_policy is not None:
        resource_decision = evaluate([resource_policy], action, resource, context,
                                     principal=principal, policy_kind="resource-based")
        if resource_decision.reason == "explicit-deny":
            return resource_decision
    session = None
    if session_policy is not None:
        session = evaluate([session_policy], action, resource, context, policy_kind="session")
        if session.reason == "explicit-deny":
            return session
    if identity.allowed and (session is None or session.allowed):
        return identity
    if resource_decision is not None and resource_decision.allowed:
        return resource_decision
    if identity.allowed and session is not None:
        return session
    return identity


# -- which IAM actions a request needs (the Service Authorization Reference, in small) -------------
_S3_BUCKET_SUBRESOURCES = {
    # query parameter -> (GET action, PUT action, DELETE action)
    "acl": ("s3:GetBucketAcl", "s3:PutBucketAcl", None),
    "policy": ("s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"),
    "cors": ("s3:GetBucketCORS", "s3:PutBucketCORS", "s3:PutBucketCORS"),
    "tagging": ("s3:GetBucketTagging", "s3:PutBucketTagging", "s3:PutBucketTagging"),
    "versioning": ("s3:GetBucketVersioning", "s3:PutBucketVersioning", None),
    "location": ("s3:GetBucketLocation", None, None),
    "versions": ("s3:ListBucketVersions", None, None),
    "uploads": ("s3:ListBucketMultipartUploads", None, None),
    "lifecycle": ("s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration", "s3:PutLifecycleConfiguration"),
    "notification": ("s3:GetBucketNotification", "s3:PutBucketNotification", None),
    "website": ("s3:GetBucketWebsite", "s3:PutBucketWebsite", "s3:DeleteBucketWebsite"),
    "encryption": ("s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration", "s3:PutEncryptionConfiguration"),
    "publicAccessBlock": ("s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"),
    "ownershipControls": ("s3:GetBucketOwnershipControls", "s3:PutBucketOwnershipControls", "s3:PutBucketOwnershipControls"),
}
_S3_OBJECT_SUBRESOURCES = {
    "acl": ("s3:GetObjectAcl", "s3:PutObjectAcl", None),
    "tagging": ("s3:GetObjectTagging", "s3:PutObjectTagging", "s3:DeleteObjectTagging"),
    "retention": ("s3:GetObjectRetention", "s3:PutObjectRetention", None),
    "legal-hold": ("s3:GetObjectLegalHold", "s3:PutObjectLegalHold", None),
    "attributes": ("s3:GetObjectAttributes", None, None),
}


def s3_requests(method: str, path: str, query: Mapping[str, list[str]], headers: Mapping[str, str],
                body: bytes = b"") -> list[Request]:
    """The IAM checks a path-style S3 REST request needs, with their ARNs and S3 condition keys.

    ``path`` is ``/bucket/key`` (URL-decoded); ``query`` as from :func:`urllib.parse.parse_qs`
    with ``keep_blank_values=True``; ``headers`` lower-cased.

    >>> [r.action for r in s3_requests("PUT", "/notes/private/me/a.txt", {}, {})]
    ['s3:PutObject']
    >>> r, = s3_requests("GET", "/notes", {"list-type": ["2"], "prefix": ["private/me/"]}, {})
    >>> r.action, r.resource, r.context
    ('s3:ListBucket', 'arn:aws:s3:::notes', {'s3:prefix': 'private/me/'})
    """
    method = method.upper()
    bucket, _, key = path.lstrip("/").partition("/")
    if not bucket:
        return [Request("s3:ListAllMyBuckets", "*")]
    first = lambda name: (query.get(name) or [""])[0]  # noqa: E731
    column = {"GET": 0, "HEAD": 0, "PUT": 1, "DELETE": 2}.get(method)

    if not key:
        arn = f"arn:aws:s3:::{bucket}"
        for sub, actions in _S3_BUCKET_SUBRESOURCES.items():
            if sub in query and column is not None and actions[column]:
                return [Request(actions[column], arn)]
        if method == "POST" and "delete" in query:
            return [Request("s3:DeleteObject", f"{arn}/{k}") for k in _s3_delete_keys(body)] or [
                Request("s3:DeleteObject", f"{arn}/*")]
        if method in ("GET", "HEAD"):
            context: dict = {}
            for name in ("prefix", "delimiter", "max-keys"):
                if name in query:
                    context[f"s3:{name}"] = first(name)
            return [Request("s3:ListBucket", arn, context)]
        if method == "PUT":
            return [Request("s3:CreateBucket", arn)]
        if method == "DELETE":
            return [Request("s3:DeleteBucket", arn)]
        return [Request("s3:ListBucket", arn)]

    arn = f"arn:aws:s3:::{bucket}/{key}"
    context = {}
    for header in ("x-amz-acl", "x-amz-server-side-encryption", "x-amz-storage-class"):
        if header in headers:
            context[f"s3:{header}"] = headers[header]
    if "versionId" in query:
        context["s3:VersionId"] = first("versionId")
    for sub, actions in _S3_OBJECT_SUBRESOURCES.items():
        if sub in query and column is not None and actions[column]:
            return [Request(actions[column], arn, context)]
    if "uploadId" in query:
        if method == "GET":
            return [Request("s3:ListMultipartUploadParts", arn, context)]
        if method == "DELETE":
            return [Request("s3:AbortMultipartUpload", arn, context)]
        return [Request("s3:PutObject", arn, context)]
    if method in ("GET", "HEAD"):
        return [Request("s3:GetObjectVersion" if "versionId" in query else "s3:GetObject", arn, context)]
    if method == "DELETE":
        return [Request("s3:DeleteObjectVersion" if "versionId" in query else "s3:DeleteObject", arn, context)]
    if method in ("PUT", "POST"):
        checks = [Request("s3:PutObject", arn, context)]
        source = headers.get("x-amz-copy-source")
        if source:
            from urllib.parse import unquote

            source = unquote(source.split("?versionId=")[0]).lstrip("/")
            checks.insert(0, Request("s3:GetObject", f"arn:aws:s3:::{source}"))
            checks[-1].context["s3:x-amz-copy-source"] = source
        return checks
    return [Request("s3:GetObject", arn, context)]


def _s3_delete_keys(body: bytes) -> list[str]:
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return []
    return [el.text or "" for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "Key"]


def _dynamo_scalar(value: Mapping[str, Any]) -> str | None:
    for kind in ("S", "N", "B"):
        if kind in value:
            return str(value[kind])
    return None


_KEY_EQUALS = re.compile(r"(#?[A-Za-z0-9_.\-]+)\s*=\s*(:[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)\s*=\s*(#?[A-Za-z0-9_.\-]+)")


def _leading_key_from_expression(expression: str, names: Mapping[str, str], values: Mapping[str, Any],
                                 hash_key: str) -> str | None:
    for match in _KEY_EQUALS.finditer(expression or ""):
        name, placeholder = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        if names.get(name, name) == hash_key and placeholder in values:
            return _dynamo_scalar(values[placeholder])
    return None


def _dynamo_attributes(body: Mapping[str, Any], item: Mapping[str, Any] | None) -> list[str]:
    names = set((item or {}).keys())
    names.update((body.get("ExpressionAttributeNames") or {}).values())
    names.update(body.get("AttributesToGet") or [])
    return sorted(names)


def dynamodb_requests(operation: str, body: Mapping[str, Any], *, region: str, account_id: str,
                      hash_key_of) -> list[Request]:
    """The IAM checks a DynamoDB call (``X-Amz-Target`` operation + JSON body) needs.

    ``hash_key_of(table_name)`` returns the table's partition-key attribute name (or ``None``);
    it is how ``dynamodb:LeadingKeys`` (the partition-key values the request touches) is filled.

    >>> r, = dynamodb_requests("GetItem", {"TableName": "Notes", "Key": {"owner": {"S": "u1"}}},
    ...                        region="us-east-1", account_id="123456789012", hash_key_of=lambda t: "owner")
    >>> r.action, r.resource, r.context["dynamodb:LeadingKeys"]
    ('dynamodb:GetItem', 'arn:aws:dynamodb:us-east-1:123456789012:table/Notes', ['u1'])
    """
    def table_arn(name: str, index: str | None = None) -> str:
        arn = f"arn:aws:dynamodb:{region}:{account_id}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    def context_for(table: str, key_or_item: Mapping[str, Any] | None, request: Mapping[str, Any]) -> dict:
        context: dict = {}
        hash_key = hash_key_of(table)
        leading = None
        if hash_key and key_or_item and hash_key in key_or_item:
            leading = _dynamo_scalar(key_or_item[hash_key])
        elif hash_key and request.get("KeyConditionExpression"):
            leading = _leading_key_from_expression(
                request["KeyConditionExpression"], request.get("ExpressionAttributeNames") or {},
                request.get("ExpressionAttributeValues") or {}, hash_key)
        elif hash_key and (request.get("KeyConditions") or {}).get(hash_key):
            values = request["KeyConditions"][hash_key].get("AttributeValueList") or []
            leading = _dynamo_scalar(values[0]) if values else None
        if leading is not None:
            context["dynamodb:LeadingKeys"] = [leading]
        attributes = _dynamo_attributes(request, key_or_item if "Item" in request else None)
        if attributes:
            context["dynamodb:Attributes"] = attributes
        for name in ("Select", "ReturnValues", "ReturnConsumedCapacity"):
            if request.get(name):
                context[f"dynamodb:{name}"] = request[name]
        return context

    action = f"dynamodb:{operation}"
    if operation in ("ListTables", "DescribeLimits", "DescribeEndpoints", "ListBackups", "ListGlobalTables"):
        return [Request(action, "*")]
    if operation == "BatchGetItem":
        checks = []
        for table, spec in (body.get("RequestItems") or {}).items():
            keys = spec.get("Keys") or [None]
            checks += [Request(action, table_arn(table), context_for(table, key, spec)) for key in keys]
        return checks
    if operation == "BatchWriteItem":
        checks = []
        for table, writes in (body.get("RequestItems") or {}).items():
            for write in writes:
                if "PutRequest" in write:
                    item = write["PutRequest"].get("Item")
                    checks.append(Request("dynamodb:PutItem", table_arn(table), context_for(table, item, {"Item": item})))
                elif "DeleteRequest" in write:
                    key = write["DeleteRequest"].get("Key")
                    checks.append(Request("dynamodb:DeleteItem", table_arn(table), context_for(table, key, {})))
        return checks or [Request(action, "*")]
    if operation in ("TransactGetItems", "TransactWriteItems"):
        sub_actions = {"Get": "GetItem", "Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                       "ConditionCheck": "ConditionCheckItem"}
        checks = []
        for entry in body.get("TransactItems") or []:
            for kind, spec in entry.items():
                table = spec.get("TableName", "")
                key = spec.get("Key") or spec.get("Item")
                checks.append(Request(f"dynamodb:{sub_actions.get(kind, kind)}", table_arn(table),
                                      context_for(table, key, spec)))
        return checks or [Request(action, "*")]
    table = body.get("TableName") or ""
    if not table:
        return [Request(action, "*")]
    key = body.get("Key") if "Key" in body else body.get("Item")
    return [Request(action, table_arn(table, body.get("IndexName")), context_for(table, key, body))]
