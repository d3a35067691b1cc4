"""Every JSON request to the lab's Cognito services, checked against botocore's service model first.

AWS checks a request in two steps before its service code runs, and so does the lab (as the first
request hook, :func:`request_hook`):

1. **Deserialising.** A body that is not UTF-8, not JSON, or holds a value of the wrong JSON type
   for its member (a string where an integer belongs, a list where a string belongs, a fraction or
   ``1e400`` for an integer) is answered ``SerializationException``, before any rule is checked.
2. **Constraints.** Every constraint the model carries is checked, all at once: required members,
   length (strings, lists, maps, blobs), numeric ranges, enums and patterns. The answer is the
   operation's validation exception, ``InvalidParameterException``, worded as AWS words it::

       1 validation error detected: Value at 'username' failed to satisfy constraint: Member must
       have length less than or equal to 128

   Several problems: ``2 validation errors detected: ...; ...``. Values of members the model marks
   sensitive (usernames, passwords, tokens) are not quoted, as on AWS; others are quoted, cut to
   :data:`MAX_QUOTED` characters. Members the model does not know are ignored.

The model's patterns are Java regular expressions, matched against the whole value (AWS refuses a
username with a trailing space). :func:`java_pattern` translates them: ``\\p{L}`` and the other
Unicode categories become character ranges built from :mod:`unicodedata`; ``\\w``, ``\\d``, ``\\s``
stay ASCII as in Java. A construct it does not know fails open (the value passes), never closed.

Only cognito-idp and cognito-identity are checked here (:data:`SERVICES`); other services the lab
serves keep moto's own checks. Rules Cognito documents but the model does not carry (token
lifetimes per unit, legacy vs ALLOW_ auth flows) are checked by the user-pool code after this.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
import re
import threading
import unicodedata
from itertools import groupby
from typing import Any, Iterator

__all__ = ["SERVICES", "MAX_QUOTED", "shared_loader", "service_model", "operations", "validate", "request_hook",
           "java_pattern", "JavaPattern", "RequestRejected"]

#: X-Amz-Target prefix -> botocore service name, for the services whose requests are checked here.
SERVICES = {
    "AWSCognitoIdentityProviderService": "cognito-idp",
    "AWSCognitoIdentityService": "cognito-identity",
}
#: How many characters of a refused value a message quotes.
MAX_QUOTED = 64

_JAVA_INT = (-2 ** 31, 2 ** 31 - 1)
_JAVA_LONG = (-2 ** 63, 2 ** 63 - 1)
_MAX_DIGITS = 40           # longer integer literals are out of range for any member

_lock = threading.Lock()
_loader = None
_models: dict[str, dict] = {}


class RequestRejected(Exception):
    """A request AWS would refuse before running the operation: ``error_type`` and ``message``."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


def _serialization(message: str) -> RequestRejected:
    return RequestRejected("SerializationException", message)


# -- the service models ---------------------------------------------------------------------------
def shared_loader():
    """The process's one ``botocore.loaders.Loader`` (parsing a model costs ~0.1 s; it caches them).

    :meth:`labkit.Lab.client` gives it to the lab's botocore session too, so the lab's clients and
    these checks parse each model once per process.
    """
    global _loader
    with _lock:
        if _loader is None:
            # moto's own boto3 session reads the same files (endpoints, models): share its loader.
            from moto.core.base_backend import AccountSpecificBackend

            _loader = AccountSpecificBackend.get_session()._session.get_component("data_loader")
        return _loader


def service_model(service: str) -> dict:
    """botocore's service model of ``service`` ("cognito-idp", "cognito-identity"), loaded once."""
    model = _models.get(service)
    if model is None:
        loader = shared_loader()
        with _lock:
            model = _models.get(service)
            if model is None:
                # api_version=None as botocore's clients pass it: the loader's cache key is the same,
                # so a model a lab client already parsed is not parsed again (never mutate it)
                model = _models[service] = loader.load_service_model(service, "service-2", api_version=None)
    return model


def operations(service: str) -> list[str]:
    """Every operation of ``service`` in the model, e.g. ``["AddCustomAttributes", ...]``."""
    return sorted(service_model(service)["operations"])


# -- Java patterns --------------------------------------------------------------------------------
# Unicode general categories, as \p{..} names them (one letter: the whole group).
_CATEGORY_NAMES = {"L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No",
                   "P", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "S", "Sm", "Sc", "Sk", "So",
                   "Z", "Zs", "Zl", "Zp", "C", "Cc", "Cf", "Cs", "Co", "Cn"}
# Escapes Java has and Python lacks or reads differently: a pattern using one is not checked.
_UNSUPPORTED_ESCAPES = set("QEZGRhHvVXkcN")
_full_ranges: dict[str, list[tuple[int, int]]] | None = None


def _ranges(code_points: range) -> dict[str, list[tuple[int, int]]]:
    """``{category: [(first, last), ...]}`` over ``code_points``."""
    table: dict[str, list[tuple[int, int]]] = {}
    first = code_points.start
    for category, run in groupby(map(unicodedata.category, map(chr, code_points))):
        size = sum(1 for _ in run)
        table.setdefault(category, []).append((first, first + size - 1))
        first += size
    return table


_ASCII_RANGES = _ranges(range(128))


def _unicode_ranges() -> dict[str, list[tuple[int, int]]]:
    """The table for all of Unicode: built once, on the first non-ASCII value (about 0.3 s)."""
    global _full_ranges
    with _lock:
        if _full_ranges is None:
            _full_ranges = _ranges(range(0x110000))
        return _full_ranges


def _class_body(category: str, table: dict[str, list[tuple[int, int]]]) -> str:
    spans = sorted(span for name, spans in table.items() if name == category or name[0] == category
                   for span in spans)
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in spans)


def _translate(source: str, table: dict[str, list[tuple[int, int]]]) -> str | None:
    """``source`` (a Java regex) as a Python regex, or None for a construct this does not know."""
    out: list[str] = []
    i, n, in_class = 0, len(source), False
    while i < n:
        char = source[i]
        if char == "\\":
            if i + 1 >= n:
                return None
            nxt = source[i + 1]
            if nxt in "pP":
                match = re.match(r"\{(?:Is)?([A-Za-z]{1,2})\}|([LMNPSZC])", source[i + 2:])
                name = match and (match.group(1) or match.group(2))
                if not name or name not in _CATEGORY_NAMES:
                    return None
                body = _class_body(name, table)
                if in_class:
                    if nxt == "P":          # a negated category inside a class: not translated
                        return None
                    # An empty category (none of it in ASCII): a noncharacter no value holds keeps
                    # the class well-formed and matching nothing more.
                    out.append(body or "\uffff")
                elif body:
                    out.append(("[^" if nxt == "P" else "[") + body + "]")
                else:                       # an empty category: matches nothing (or anything)
                    out.append(r"[^\s\S]" if nxt == "p" else r"[\s\S]")
                i += 2 + match.end()
                continue
            if nxt in _UNSUPPORTED_ESCAPES:
                return None
            out.append(source[i:i + 2] if nxt != "z" else r"\Z")   # Java \z is Python's \Z
            i += 2
            continue
        if in_class:
            if char == "[" or (char == "&" and source[i + 1:i + 2] == "&"):
                return None                 # Java's nested classes and intersections
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            out.append(char)
            i += 1
            if source[i:i + 1] == "^":
                out.append("^")
                i += 1
            if source[i:i + 1] == "]":      # "[]" / "[^]": Java and Python disagree
                return None
            continue
        out.append(char)
        i += 1
    return None if in_class else "".join(out)


def _compile(source: str, table) -> "re.Pattern[str] | None":
    translated = _translate(source, table)
    if translated is None:
        return None
    try:
        # ASCII: \w, \d, \s and \b are ASCII-only in Java unless a flag says otherwise.
        return re.compile(translated, re.ASCII)
    except (re.error, OverflowError, RecursionError):
        return None                         # fail open: an unknown construct never refuses a value


class JavaPattern:
    """A model pattern, matched as Java's ``String.matches`` does (the whole value).

    ASCII values are matched with a small translation (the ``\\p{..}`` classes cut to ASCII, which
    decides the same for them); the full Unicode one is built when a non-ASCII value first needs it.
    ``source`` is what a message quotes; ``python``, if given, is the Python regex matched instead
    (see ``_PATTERN_OVERRIDES``); ``checked`` says whether the pattern could be translated.
    """

    def __init__(self, source: str, python: str | None = None) -> None:
        self.source = source
        self._ascii = re.compile(python, re.ASCII) if python else _compile(source, _ASCII_RANGES)
        self._unicode: Any = None if "\\p" in source or "\\P" in source else self._ascii
        self.checked = self._ascii is not None

    def matches(self, value: str) -> bool:
        if self._ascii is None:
            return True
        regex = self._ascii
        if not value.isascii():
            if self._unicode is None:
                self._unicode = _compile(self.source, _unicode_ranges()) or False
            regex = self._unicode
            if regex is False:
                return True
        return regex.fullmatch(value) is not None


_patterns: dict[tuple[str, str | None], JavaPattern] = {}


def java_pattern(source: str, python: str | None = None) -> JavaPattern:
    """The (cached) :class:`JavaPattern` for a model pattern."""
    key = (source, python)
    pattern = _patterns.get(key)
    if pattern is None:
        pattern = _patterns[key] = JavaPattern(source, python)
    return pattern


# Where Cognito's documentation allows more than the published pattern: the model's PasswordType
# pattern [\S]+, read as Java reads it, refuses every space, but the developer guide's password
# policy page counts "the space character" as a special character, so a password may hold spaces
# (never tabs or line breaks). Messages still quote the model's pattern.
_PATTERN_OVERRIDES = {("cognito-idp", "PasswordType"): r"[\S ]*\S[\S ]*"}

# Members the model leaves optional that the lab cannot do without (moto would fail on them):
# refused like a missing required member. AWS's answer to a nameless schema attribute is not
# documented; it cannot create one either.
_LAB_REQUIRED = {("cognito-idp", "SchemaAttributeType"): ("Name",)}
# Members filled in when absent. AdminUpdateUserAttributes documents that "a blank value" deletes an
# attribute; an attribute sent without Value is read as that blank value (moto needs a Value).
_DEFAULTS = {("cognito-idp", "AttributeType"): {"Value": ""}}


# -- showing values in messages ---------------------------------------------------------------------
def _escape(text: str) -> str:
    if text.isprintable():
        return text
    special = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return "".join(special.get(c, f"\\u{ord(c):04x}") if not c.isprintable() else c for c in text)


def _pieces(value: Any) -> Iterator[str]:
    """``value`` as Java's toString writes it ([a, b], {k=v}), lazily, so a huge value costs little."""
    if value is None:
        yield "null"
    elif isinstance(value, bool):
        yield "true" if value else "false"
    elif isinstance(value, str):
        yield value
    elif isinstance(value, (int, float)):
        yield str(value)
    elif isinstance(value, list):
        yield "["
        for index, item in enumerate(value):
            if index:
                yield ", "
            yield from _pieces(item)
        yield "]"
    elif isinstance(value, dict):
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            yield (", " if index else "") + f"{key}="
            yield from _pieces(item)
        yield "}"
    else:
        yield "?"


def _quote(value: Any) -> str:
    """``'value'``: at most MAX_QUOTED characters, control characters escaped."""
    text, size = [], 0
    for piece in _pieces(value):
        text.append(piece)
        size += len(piece)
        if size > MAX_QUOTED:
            break
    shown = "".join(text)
    if size > MAX_QUOTED:
        shown = shown[:MAX_QUOTED] + "..."
    return f"'{_escape(shown)}'"


def _member_path(path: str, member: str) -> str:
    name = member[:1].lower() + member[1:]
    return f"{path}.{name}" if path else name


# -- the checks -----------------------------------------------------------------------------------
_TYPE_NAMES = {"string": "a String", "integer": "an Integer", "long": "a Long", "boolean": "a Boolean",
               "timestamp": "a Timestamp", "blob": "a Blob", "double": "a Double", "float": "a Float",
               "structure": "a Structure", "list": "a List", "map": "a Map"}


def _mismatch(value: Any, type_name: str) -> RequestRejected:
    """SerializationException for a JSON value of the wrong type, worded as AWS's deserialiser."""
    if isinstance(value, dict):
        return _serialization("Start of structure or map found where not expected.")
    if isinstance(value, list):
        return _serialization("Start of list found where not expected.")
    if value is None:
        return _serialization(f"null can not be converted to {_TYPE_NAMES.get(type_name, type_name)}")
    token = ("BOOLEAN_VALUE" if isinstance(value, bool) else "STRING_VALUE" if isinstance(value, str)
             else "NUMBER_VALUE")
    return _serialization(f"{token} can not be converted to {_TYPE_NAMES.get(type_name, type_name)}")


class _Checker:
    def __init__(self, service: str, shapes: dict) -> None:
        self.service = service
        self.shapes = shapes
        self.errors: list[str] = []
        self.changed = False          # nulls dropped or defaults filled in: the body must be rewritten

    # one member: its constraint messages are reported at its own path
    def member(self, shape_name: str, value: Any, path: str, required: bool) -> None:
        shape = self.shapes[shape_name]
        if value is None:
            if required:
                lead = "Value" if shape.get("sensitive") else "Value null"
                self.errors.append(f"{lead} at '{path}' failed to satisfy constraint: Member must not be null")
            return
        kind = shape["type"]
        if kind == "structure":
            self.structure(shape, value, path, shape_name)
        elif kind == "list":
            self.list(shape, value, path)
        elif kind == "map":
            self.map(shape, value, path)
        else:
            self._report(shape, value, path, self.scalar(shape_name, value))

    def _report(self, shape: dict, value: Any, path: str, problems: list[str]) -> None:
        lead = "Value" if shape.get("sensitive") else f"Value {_quote(value)}"
        for problem in problems:
            self.errors.append(f"{lead} at '{path}' failed to satisfy constraint: {problem}")

    def structure(self, shape: dict, value: Any, path: str, shape_name: str = "") -> None:
        if not isinstance(value, dict):
            raise _mismatch(value, "structure")
        required = set(shape.get("required", ())) | set(_LAB_REQUIRED.get((self.service, shape_name), ()))
        for name, ref in shape.get("members", {}).items():
            if name in value and value[name] is None:      # JSON null: the member is absent
                del value[name]
                self.changed = True
            self.member(ref["shape"], value.get(name), _member_path(path, name), name in required)
        for name, default in _DEFAULTS.get((self.service, shape_name), {}).items():
            if name not in value:
                value[name] = default
                self.changed = True

    def list(self, shape: dict, value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise _mismatch(value, "list")
        item_name = shape["member"]["shape"]
        item_shape = self.shapes[item_name]
        problems = self._length(shape, len(value))
        if item_shape["type"] in ("structure", "list", "map"):
            self._report(shape, value, path, problems)
            for index, item in enumerate(value, 1):
                if item is None:
                    raise _mismatch(item, item_shape["type"])
                self.member(item_name, item, f"{path}.{index}.member", False)
            return
        inner = self._scalar_problems(item_name, value)
        if inner:
            problems.append(f"Member must satisfy constraint: [{', '.join(inner)}]")
        self._report(item_shape if item_shape.get("sensitive") else shape, value, path, problems)

    def map(self, shape: dict, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise _mismatch(value, "map")
        key_name, value_name = shape["key"]["shape"], shape["value"]["shape"]
        value_shape = self.shapes[value_name]
        problems = self._length(shape, len(value))
        keys = self._scalar_problems(key_name, value)
        if keys:
            problems.append(f"Map keys must satisfy constraint: [{', '.join(keys)}]")
        values: list[str] = []
        for key, item in value.items():
            if value_shape["type"] in ("structure", "list", "map"):
                if item is None:
                    raise _mismatch(item, value_shape["type"])
                self.member(value_name, item, f"{path}.{_escape(key[:MAX_QUOTED])}.member", False)
                continue
            for problem in self.scalar(value_name, item):
                if problem not in values:
                    values.append(problem)
        if values:
            problems.append(f"Map value must satisfy constraint: [{', '.join(values)}]")
        sensitive = self.shapes[key_name].get("sensitive") or value_shape.get("sensitive")
        self._report(dict(shape, sensitive=shape.get("sensitive") or sensitive), value, path, problems)

    def _scalar_problems(self, shape_name: str, items) -> list[str]:
        """Each distinct problem of any of ``items`` against the scalar shape, in first-seen order."""
        found: list[str] = []
        for item in items:
            for problem in self.scalar(shape_name, item):
                if problem not in found:
                    found.append(problem)
        return found

    @staticmethod
    def _length(shape: dict, size: int) -> list[str]:
        problems = []
        if "max" in shape and size > shape["max"]:
            problems.append(f"Member must have length less than or equal to {shape['max']}")
        if "min" in shape and size < shape["min"]:
            problems.append(f"Member must have length greater than or equal to {shape['min']}")
        return problems

    def scalar(self, shape_name: str, value: Any) -> list[str]:
        """Type check (raises SerializationException) and the value's constraint problems."""
        shape = self.shapes[shape_name]
        kind = shape["type"]
        if value is None:
            raise _mismatch(value, kind)
        if kind == "string":
            if not isinstance(value, str):
                raise _mismatch(value, kind)
            _valid_unicode(value)
            problems = self._length(shape, len(value))
            if "enum" in shape and value not in shape["enum"]:
                problems.append(f"Member must satisfy enum value set: [{', '.join(shape['enum'])}]")
            if "pattern" in shape:
                override = _PATTERN_OVERRIDES.get((self.service, shape_name))
                if not java_pattern(shape["pattern"], override).matches(value):
                    problems.append(f"Member must satisfy regular expression pattern: {shape['pattern']}")
            return problems
        if kind in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _mismatch(value, kind)
            low, high = _JAVA_INT if kind == "integer" else _JAVA_LONG
            if isinstance(value, float):
                if not math.isfinite(value) or not low <= value <= high:
                    raise _serialization(f"NUMBER_VALUE is out of range for {_TYPE_NAMES[kind]}")
                raise _serialization(f"NUMBER_VALUE with a fraction or exponent can not be converted to "
                                     f"{_TYPE_NAMES[kind]}")
            if not low <= value <= high:
                raise _serialization(f"NUMBER_VALUE is out of range for {_TYPE_NAMES[kind]}")
            problems = []
            if "max" in shape and value > shape["max"]:
                problems.append(f"Member must have value less than or equal to {shape['max']}")
            if "min" in shape and value < shape["min"]:
                problems.append(f"Member must have value greater than or equal to {shape['min']}")
            return problems
        if kind == "boolean":
            if not isinstance(value, bool):
                raise _mismatch(value, kind)
            return []
        if kind in ("double", "float", "timestamp"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _mismatch(value, kind)
            if isinstance(value, float) and not math.isfinite(value):
                raise _serialization(f"NUMBER_VALUE is out of range for {_TYPE_NAMES[kind]}")
            return []
        if kind == "blob":
            if not isinstance(value, str):
                raise _mismatch(value, kind)
            try:
                data = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise _serialization("A Blob must be base64-encoded.") from None
            return self._length(shape, len(data))
        if kind in ("structure", "list", "map"):     # a nested shape where a scalar was expected
            raise _mismatch(value, kind)
        return []                                     # documents and anything newer: unchecked


def _valid_unicode(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _serialization("Invalid UTF-16 surrogate in a string: a \\ud800-\\udfff escape "
                             "must be part of a pair.") from None


def _parse(body: bytes) -> Any:
    if not body:
        return {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _serialization("The request body is not valid UTF-8.") from None

    def no_constant(name: str):
        raise _serialization(f"{name} is not a JSON value.")

    def integer(digits: str) -> int:
        if len(digits) > _MAX_DIGITS:
            raise _serialization("NUMBER_VALUE is out of range.")
        return int(digits)

    try:
        return json.loads(text, parse_constant=no_constant, parse_int=integer)
    except json.JSONDecodeError as exc:
        raise _serialization(f"The request body is not valid JSON (line {exc.lineno}, column {exc.colno}).") from None
    except RecursionError:
        raise _serialization("The JSON body nests arrays and objects too deep.") from None
    except ValueError:
        raise _serialization("The request body is not valid JSON.") from None


def validate(service: str, operation: str, body: bytes) -> tuple[dict, bool]:
    """``(parameters, changed)``, or :class:`RequestRejected` as AWS would answer.

    ``UnknownOperationException`` for an operation the model lacks, ``SerializationException`` for
    a body that does not deserialise, ``InvalidParameterException`` for broken constraints.
    ``changed``: JSON nulls were dropped (AWS reads a null member as absent) or a default filled in,
    so the parameters differ from the body.
    """
    model = service_model(service)
    operation_model = model["operations"].get(operation)
    if operation_model is None:
        raise RequestRejected("UnknownOperationException",
                              f"{operation[:MAX_QUOTED] or 'The empty name'} is not an operation of "
                              f"{model['metadata']['serviceId']}.")
    params = _parse(body)
    checker = _Checker(service, model["shapes"])
    input_shape = operation_model["input"]["shape"]
    checker.structure(model["shapes"][input_shape], params, "", input_shape)
    if checker.errors:
        count = len(checker.errors)
        raise RequestRejected("InvalidParameterException",
                              f"{count} validation error{'s' if count > 1 else ''} detected: "
                              + "; ".join(checker.errors))
    return params, checker.changed


def request_hook(request):
    """The lab's first request hook: refuse what AWS would refuse before the operation runs."""
    target = request.target
    if not target:
        return None
    prefix, dot, operation = target.partition(".")
    service = SERVICES.get(prefix)
    if service is None and dot:
        return None                   # another service: moto's own checks
    from .server import json_error

    if service is None:
        return json_error("UnknownOperationException",
                          f"X-Amz-Target must be Service.Operation, not {_quote(target)}.")
    try:
        params, changed = validate(service, operation, request.body)
    except RequestRejected as rejected:
        return json_error(rejected.error_type, rejected.message)
    if changed:
        request.body = json.dumps(params).encode()
    return None
