"""The fuzz corpus of tests/test_fuzz.py: malformed and odd requests for every operation the lab serves.

Every cognito-idp and cognito-identity operation of botocore's model gets (deterministically, from
a fixed seed):

- a **plausible request**: every member of the input filled with a value that satisfies the model
  (lengths, ranges, enums, patterns), real ids of the lab where a member names one (pool, client,
  user, group, identity pool, tokens), so the request reaches moto and the fidelity layer;
- for **every top-level member**, two variants of that request: the member replaced by a value of
  the wrong JSON type (string, integer, fraction, boolean, list, map, ``1e400``, in turn), and by
  an odd value of the right type (the longest allowed string, NUL/tab/newline characters,
  non-ASCII text, empty lists and maps, the smallest and largest allowed numbers, numbers out of
  range, strings over the maximum length, huge strings, members set to null); a member that is a
  structure, list or map gets two more, with one member somewhere inside it (picked at random)
  replaced the same two ways;
- the bodies ``""`` and ``{}``, and three of :data:`BODIES` (each operation the next three, in
  turn, so every body class meets many operations): not UTF-8, not JSON, JSON that is not an
  object, nesting 100,000 deep, ``NaN``, a 5,000-digit number, a byte-order mark, UTF-16, NULs, a
  600 kB key, a body over 1 MiB;
- one of :data:`HEADER_CASES` in turn: Content-Length values that are not non-negative integers
  (``abc``, ``-1``, ``1.5``...), chunked bodies, other HTTP methods and content types.

Sampling (each operation gets three body classes and one header case rather than all of them)
keeps the run near 3,000 requests; every class still meets dozens of operations.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from labkit.emulator import validation

SERVICES = {"cognito-idp": "AWSCognitoIdentityProviderService",
            "cognito-identity": "AWSCognitoIdentityService"}


@dataclass
class Case:
    """One request: ``body`` as bytes, extra/overriding headers, method; ``label`` says what it tests."""
    service: str
    operation: str
    label: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"

    @property
    def target(self) -> str:
        return f"{SERVICES[self.service]}.{self.operation}"


def _deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


#: Whole bodies that are malformed whatever the operation.
BODIES: list[tuple[str, bytes]] = [
    ("array", b"[]"),
    ("null", b"null"),
    ("number", b"123"),
    ("string", b'"text"'),
    ("truncated JSON", b'{"UserPoolId": "us-east-1_x"'),
    ("not JSON", b"UserPoolId=us-east-1_x"),
    ("not UTF-8", b'{"UserPoolId": "\xff\xfe"}'),
    ("invalid UTF-8 sequence", b"\xc3\x28"),
    ("nested 100,000 deep", _deep(100_000)),
    ("object nested 65 deep", b'{"a":' * 65 + b"1" + b"}" * 65),
    ("NaN", b'{"Limit": NaN}'),
    ("Infinity", b'{"MaxResults": Infinity}'),
    ("5,000-digit number", b'{"MaxResults": 1' + b"0" * 5000 + b"}"),
    ("byte-order mark", b"\xef\xbb\xbf{}"),
    ("UTF-16", "{}".encode("utf-16")),
    ("NUL bytes", b"\x00" * 16),
    ("600 kB key", b'{"' + b"k" * 600_000 + b'": 1}'),
    ("lone surrogate", b'{"Username": "\\ud800", "Other": "\\udfff"}'),
    ("over 1 MiB", b'{"x": "' + b"a" * (1024 * 1024) + b'"}'),
    ("duplicate keys", b'{"MaxResults": 1, "MaxResults": "x"}'),
]

#: Framing and header oddities (the body is ``{}``).
HEADER_CASES: list[tuple[str, dict[str, str], str]] = [
    ("Content-Length abc", {"Content-Length": "abc"}, "POST"),
    ("Content-Length -1", {"Content-Length": "-1"}, "POST"),
    ("Content-Length 1.5", {"Content-Length": "1.5"}, "POST"),
    ("Content-Length +2", {"Content-Length": "+2"}, "POST"),
    ("Content-Length 0x2", {"Content-Length": "0x2"}, "POST"),
    ("Content-Length 1e3", {"Content-Length": "1e3"}, "POST"),
    ("Content-Length 30 digits", {"Content-Length": "9" * 30}, "POST"),
    ("Content-Length 4 MiB", {"Content-Length": str(4 * 1024 * 1024)}, "POST"),
    ("Content-Length 0", {"Content-Length": "0"}, "POST"),
    ("chunked", {"Transfer-Encoding": "chunked"}, "POST"),
    ("text/plain", {"Content-Type": "text/plain"}, "POST"),
    ("no Content-Type", {"Content-Type": ""}, "POST"),
    ("GET", {}, "GET"),
    ("PUT", {}, "PUT"),
    ("X-Amz-Target without an operation", {"X-Amz-Target": "AWSCognitoIdentityProviderService."}, "POST"),
    ("X-Amz-Target without a dot", {"X-Amz-Target": "garbage"}, "POST"),
]

# Wrong JSON types, taken in turn; _wrong() skips the one that is right for the member.
_WRONG = [("string", "abc"), ("integer", 7), ("fraction", 1.5), ("boolean", True), ("null", None),
          ("list", ["x", 1]), ("map", {"k": "v"}), ("big number", 1e400)]

# Strings tried for a member with a pattern, in order, after the lab's own ids.
_CANDIDATES = ["us-east-1_AbCdEf123", "alice", "abc", "a", "Abc-123 de", "0123456789abcdef",
               "user@example.com", "+15555550100", "arn:aws:iam::123456789012:role/fuzz",
               "arn:aws:lambda:us-east-1:123456789012:function:fuzz", "https://example.com/cb",
               "https://example.com", "123456", "Your code is {####}", "Click {##here##}",
               "cognito:default", "terms-of-use", "Level1", "en", "fuzz-domain",
               "5d3b2a4e-8f1c-4a2b-9c3d-1e2f3a4b5c6d", "import-AbCd123", "ABCDEFGHIJKLMNOP",
               "tkn0123456789abcdefghijklmno", "Zm9v", "example.com", "x" * 24, "1", "us-east-1:5d3b2a4e-8f1c",
               "us-east-1_5d3b2a4e-8f1c", "authenticated", "arn:aws:s3:::fuzz-bucket"]


class CorpusBuilder:
    """Builds the cases of one operation. ``ids`` maps member names to the lab's real values."""

    def __init__(self, service: str, ids: dict[str, Any], seed: int = 9) -> None:
        self.service = service
        self.model = validation.service_model(service)
        self.shapes = self.model["shapes"]
        self.ids = ids
        self.rng = random.Random(seed)
        self._wrong_turn = 0
        self._odd_turn = 0

    # -- plausible values -------------------------------------------------------------------
    def _fits(self, shape_name: str, value: str) -> bool:
        shape = self.shapes[shape_name]
        if not shape.get("min", 0) <= len(value) <= shape.get("max", 10 ** 9):
            return False
        if "enum" in shape and value not in shape["enum"]:
            return False
        if "pattern" in shape:
            pattern = validation.java_pattern(shape["pattern"])
            return pattern.checked and pattern.matches(value)
        return True

    def plausible(self, shape_name: str, member: str = "", depth: int = 0) -> Any:
        shape = self.shapes[shape_name]
        kind = shape["type"]
        if kind == "structure":
            if depth > 4:
                return {}
            return {name: self.plausible(ref["shape"], name, depth + 1)
                    for name, ref in shape.get("members", {}).items()
                    if name in shape.get("required", ()) or self.rng.random() < 0.6}
        if kind == "list":
            item = shape["member"]["shape"]
            count = max(shape.get("min", 0), 1) if depth <= 4 else shape.get("min", 0)
            return [self.plausible(item, member, depth + 1) for _ in range(min(count, 3))]
        if kind == "map":
            if depth > 4:
                return {}
            key = self.plausible(shape["key"]["shape"], "key", depth + 1)
            return {key: self.plausible(shape["value"]["shape"], member, depth + 1)}
        if kind == "string":
            if "enum" in shape:
                return self.rng.choice(shape["enum"])
            known = self.ids.get(member)
            for candidate in ([known] if isinstance(known, str) else []) + _CANDIDATES:
                if self._fits(shape_name, candidate):
                    return candidate
            return "a" * max(shape.get("min", 1), 1)
        if kind in ("integer", "long"):
            low, high = shape.get("min", 0), shape.get("max", 100)
            return max(low, min(high, 10))
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "timestamp":
            return 1_700_000_000
        if kind in ("double", "float"):
            return 1.0
        if kind == "blob":
            return "Zm9v"
        return None

    # -- odd values of the right type ------------------------------------------------------------
    def odd(self, shape_name: str) -> tuple[str, Any]:
        shape = self.shapes[shape_name]
        kind = shape["type"]
        self._odd_turn += 1
        turn = self._odd_turn
        if kind == "string":
            options = [("longest allowed", "é" * min(shape.get("max", 4096), 4096)),
                       ("one over the maximum", "a" * (shape["max"] + 1) if "max" in shape else "a" * 5000),
                       ("NUL, tab and newline", "ab\x00c\td\ne"),
                       ("empty", ""),
                       ("huge (300 kB)", "z" * 300_000),
                       ("emoji and combining marks", "\U0001F600e\u0301\u200b"),
                       ("leading and trailing spaces", " alice ")]
            return options[turn % len(options)]
        if kind in ("integer", "long"):
            options = [("minimum", shape.get("min", -2 ** 31)), ("maximum", shape.get("max", 2 ** 31 - 1)),
                       ("one below the minimum", shape.get("min", 0) - 1),
                       ("one over the maximum", shape.get("max", 2 ** 31 - 1) + 1),
                       ("beyond 64 bits", 2 ** 70), ("negative", -5)]
            return options[turn % len(options)]
        if kind == "list":
            item = self.plausible(shape["member"]["shape"], depth=3)
            options = [("empty list", []), ("one over the maximum items", [item] * (shape.get("max", 200) + 1)),
                       ("list holding null", [None]), ("list of lists", [[item]])]
            return options[turn % len(options)]
        if kind == "map":
            options = [("empty map", {}), ("NUL key", {"\x00": "v"}), ("huge key", {"k" * 70_000: "v"}),
                       ("map of maps", {"k": {"k": "v"}}), ("100 entries", {f"k{i}": "v" for i in range(100)})]
            return options[turn % len(options)]
        if kind == "structure":
            options = [("empty structure", {}), ("unknown members only", {"Unknown": 1, "__type": "x"}),
                       ("every member null", {name: None for name in shape.get("members", {})})]
            return options[turn % len(options)]
        if kind == "boolean":
            return ("false", False)
        if kind == "blob":
            return ("not base64", "@@@")
        if kind == "timestamp":
            return ("negative timestamp", -1)
        return ("null", None)

    def wrong(self, shape_name: str) -> tuple[str, Any]:
        kind = self.shapes[shape_name]["type"]
        right = {"string": str, "integer": int, "long": int, "boolean": bool, "list": list,
                 "structure": dict, "map": dict, "blob": str, "timestamp": (int, float)}.get(kind)
        for _ in range(len(_WRONG)):
            label, value = _WRONG[self._wrong_turn % len(_WRONG)]
            self._wrong_turn += 1
            if value is None:
                continue            # null means "absent": not a wrong type (tested as "every member null")
            if right is None or not isinstance(value, right) or (isinstance(value, bool) and kind != "boolean"):
                return label, value
        return "list", ["x"]

    def nested(self, shape_name: str, value: Any, how: str, depth: int = 0) -> tuple[str, Any]:
        """``value`` (a plausible structure, list or map) with one member inside it replaced by a
        wrong-type (``how="wrong"``) or odd value; the label names the path."""
        shape = self.shapes[shape_name]
        kind = shape["type"]
        inner: tuple[str, str, Any] | None = None        # (label step, inner shape, inner value)
        if kind == "structure" and isinstance(value, dict) and shape.get("members"):
            name = self.rng.choice(sorted(shape["members"]))
            inner = (name, shape["members"][name]["shape"], value.get(name))
        elif kind == "list" and isinstance(value, list) and value:
            inner = ("1", shape["member"]["shape"], value[0])
        elif kind == "map" and isinstance(value, dict) and value:
            key = next(iter(value))
            inner = (str(key)[:20], shape["value"]["shape"], value[key])
        if inner is None or depth > 3:
            return self.wrong(shape_name) if how == "wrong" else self.odd(shape_name)
        step, inner_shape, inner_value = inner
        if self.shapes[inner_shape]["type"] in ("structure", "list", "map") and inner_value is not None \
                and self.rng.random() < 0.5:
            label, replaced = self.nested(inner_shape, inner_value, how, depth + 1)
        else:
            label, replaced = self.wrong(inner_shape) if how == "wrong" else self.odd(inner_shape)
        copy = json.loads(json.dumps(value))
        if kind == "list":
            copy[0] = replaced
        elif kind == "map":
            copy[next(iter(copy))] = replaced
        else:
            copy[step] = replaced
        return f"{step}.{label}", copy

    # -- the cases ---------------------------------------------------------------------------
    def cases(self, operation: str, turn: int) -> list[Case]:
        input_shape = self.model["operations"][operation]["input"]["shape"]
        members = self.shapes[input_shape].get("members", {})
        base = self.plausible(input_shape)
        for name in self.shapes[input_shape].get("required", ()):
            base.setdefault(name, self.plausible(members[name]["shape"], name))
        out = [Case(self.service, operation, "plausible request", _dump(base)),
               Case(self.service, operation, "empty body", b""),
               Case(self.service, operation, "{}", b"{}")]
        for name, ref in members.items():
            label, value = self.wrong(ref["shape"])
            out.append(Case(self.service, operation, f"{name}: wrong type ({label})",
                            _dump(dict(base, **{name: value}))))
            label, value = self.odd(ref["shape"])
            out.append(Case(self.service, operation, f"{name}: {label}", _dump(dict(base, **{name: value}))))
            if self.shapes[ref["shape"]]["type"] in ("structure", "list", "map"):
                whole = base.get(name) or self.plausible(ref["shape"], name, depth=1)
                for how in ("wrong", "odd"):
                    label, value = self.nested(ref["shape"], whole, how)
                    out.append(Case(self.service, operation, f"{name}.{label} ({how})",
                                    _dump(dict(base, **{name: value}))))
        for index in range(3):
            label, body = BODIES[(3 * turn + index) % len(BODIES)]
            out.append(Case(self.service, operation, f"body: {label}", body))
        label, headers, method = HEADER_CASES[turn % len(HEADER_CASES)]
        out.append(Case(self.service, operation, f"header: {label}", b"{}", headers, method))
        return out


def _dump(params: dict) -> bytes:
    return json.dumps(params, allow_nan=True).replace("Infinity", "1e400").encode()


# Operations that change or remove what later cases use go last.
_LAST = ("Delete", "AdminDelete", "Revoke", "GlobalSignOut", "AdminUserGlobalSignOut", "AdminDisable",
         "AdminResetUserPassword", "ChangePassword", "SetUserPoolMfaConfig", "AdminSetUserPassword",
         "UpdateUserPool", "StopUserImportJob", "ForgetDevice", "UnlinkIdentity", "MergeDeveloperIdentities",
         "DeleteIdentities", "UnlinkDeveloperIdentity", "SetIdentityPoolRoles", "UpdateIdentityPool")


def ordered_operations(service: str) -> list[str]:
    names = validation.operations(service)
    return sorted(names, key=lambda name: (name.startswith(_LAST), name))


def corpus(ids: dict[str, Any]) -> list[Case]:
    """Every case, in the order they are sent."""
    cases: list[Case] = []
    turn = 0
    for service in SERVICES:
        builder = CorpusBuilder(service, ids)
        for operation in ordered_operations(service):
            cases.extend(builder.cases(operation, turn))
            turn += 1
    return cases
