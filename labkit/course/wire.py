"""What crosses the wire when an app signs in to Cognito: the view of lesson 03 (SRP).

Record the requests a boto3 client sends to Cognito and the answers it gets, exactly as bytes::

    from labkit.course.wire import WireRecorder, eavesdropper_view
    wire = WireRecorder(idp)                       # idp = lab.client("cognito-idp")
    with wire.capture("USER_PASSWORD_AUTH") as password_flow:
        up.sign_in("alice", "Passw0rd!")
    password_flow                                  # a table: every field, both directions
    password_flow.contains("Passw0rd!")            # True: the password itself travelled
    eavesdropper_view(password_flow, srp_flow, secret="Passw0rd!")   # picture + table

The recorder hooks botocore's events on that one client (``before-send`` for each request body,
``after-call`` for each response body, errors included), so it sees what a network eavesdropper
would see once TLS is taken away. On AWS, TLS hides all of it from the network; the point of
SRP is that even the *receiver* (or anything that logs request bodies on the way, such as a
proxy or a debugging hook like this one) never gets the password.

For the protocol itself:

* :func:`srp_steps` tabulates a finished :class:`~labkit.cognito.srp.CognitoSRP` exchange step by step
  (formula, short hex prefix, bit length, whether the value ever crosses the wire, and whether
  the server computed the same value);
* :func:`stored_verifier` shows what the lab keeps for a user instead of a password;
* :func:`server_session` is the lab's own side of an SRP attempt, found by its SECRET_BLOCK.

Printed values are short prefixes and bit lengths only: with ``Lab(seed=…)`` they are the same on
every run, except anything that depends on the TIMESTAMP (the signature), which is never shown.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any, Iterator

from ..cognito import srp
from .display import ShowsAsTable, Table
from .exercises import ExerciseNotPassed

__all__ = ["WireMessage", "WireField", "Capture", "WireRecorder", "CATEGORIES", "classify",
           "preview", "eavesdropper_view", "EavesdropperView", "why_not_logged", "check_must_not_log", "srp_steps", "SRPStep", "StepTable",
           "StoredVerifier", "stored_verifier", "server_session"]

REQUEST, RESPONSE = "request", "response"
_ARROWS = {REQUEST: "→", RESPONSE: "←"}


# -- what was recorded ----------------------------------------------------------------------------

@dataclass(frozen=True)
class WireMessage:
    """One HTTP body that crossed the wire: a request (app → Cognito) or a response (Cognito → app)."""

    direction: str          # "request" or "response"
    operation: str          # e.g. "InitiateAuth"
    body: bytes             # exactly the bytes sent or received
    status: int | None = None   # HTTP status of a response

    @property
    def arrow(self) -> str:
        return _ARROWS[self.direction]

    @property
    def data(self) -> dict:
        """The body parsed as JSON (Cognito's protocol); {} if empty or not JSON."""
        try:
            value = json.loads(self.body.decode("utf-8")) if self.body else {}
        except (UnicodeDecodeError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class WireField:
    """One leaf value of a message body, e.g. ``→ InitiateAuth AuthParameters.PASSWORD``."""

    direction: str
    operation: str
    path: str               # dotted path inside the JSON body, e.g. "AuthParameters.SRP_A"
    value: Any

    @property
    def arrow(self) -> str:
        return _ARROWS[self.direction]

    @property
    def name(self) -> str:
        """The last part of the path: "PASSWORD", "SRP_A", "AccessToken"..."""
        return self.path.rsplit(".", 1)[-1]

    def __str__(self) -> str:
        return f"{self.arrow} {self.operation} {self.path}"


#: The heading of the previews' column, last in a table. It is longer than a TIMESTAMP's preview,
#: whose width varies (the day is not zero-padded), so that the column and its rule do not.
_PREVIEW = "what crossed the wire (shortened)"


def _leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{prefix}[{index}]")
    else:
        yield prefix, value


class Capture(ShowsAsTable):
    """The messages recorded during one ``with recorder.capture(name):`` block, in order."""

    def __init__(self, name: str, messages: list[WireMessage] | None = None) -> None:
        self.name = name
        self.messages: list[WireMessage] = list(messages or [])

    def fields(self) -> list[WireField]:
        """Every leaf value of every body, in the order they crossed the wire.

        Each has ``.direction`` ("request"/"response"), ``.operation``, ``.path`` (such as
        ``"AuthParameters.USERNAME"``), ``.name`` (its last part) and ``.value``.
        """
        return [WireField(m.direction, m.operation, path, value)
                for m in self.messages for path, value in _leaves(m.data)]

    def contains(self, text: str) -> bool:
        """True if ``text`` appears anywhere in the recorded bytes (as is or JSON-escaped)."""
        if not isinstance(text, str) or not text:
            raise ValueError("contains() needs a non-empty string")
        needles = {text.encode("utf-8"), json.dumps(text)[1:-1].encode("utf-8")}
        return any(needle in m.body for m in self.messages for needle in needles)

    @property
    def nbytes(self) -> int:
        """How many body bytes crossed the wire, both directions."""
        return sum(len(m.body) for m in self.messages)

    @property
    def operations(self) -> list[str]:
        """``["→ InitiateAuth", "← InitiateAuth", ...]``: the messages in order."""
        return [f"{m.arrow} {m.operation}" for m in self.messages]

    def __len__(self) -> int:
        return len(self.messages)

    def __iter__(self):
        return iter(self.messages)

    def table(self) -> Table:
        """One row per field: direction (→ to Cognito, ← back) and operation, path, a short preview."""
        return Table(["message", "field", _PREVIEW],
                     [(f"{f.arrow} {f.operation}", f.path, preview(f.value, classify(f), name=f.name))
                      for f in self.fields()],
                     title=f"{self.name}: {len(self.messages)} messages",
                     notes=[] if self.messages else ["(nothing recorded)"], code=["field", _PREVIEW])

    def tables(self) -> list[Table]:
        """What the capture shows: one two-column table per message (field, preview), titled with the
        message, so that no line is wider than a notebook (about 80 characters)."""
        tables = []
        for m in self.messages:
            where = "to Cognito" if m.direction == REQUEST else "from Cognito"
            tables.append(Table(["field", _PREVIEW],
                                [(path, preview(value, classify(WireField(m.direction, m.operation, path, value)),
                                                name=path.rsplit(".", 1)[-1]))
                                 for path, value in _leaves(m.data)],
                                title=f"{m.arrow} {m.operation} ({where})", code=["field", _PREVIEW]))
        return tables

    def _heading(self) -> str:
        return f"{self.name}: {len(self.messages)} messages" + ("" if self.messages else " (nothing recorded)")

    def text(self) -> str:
        return "\n\n".join([self._heading()] + [t.text() for t in self.tables()])

    def _repr_html_(self) -> str:
        import html
        return (f"<div><p><b>{html.escape(self._heading())}</b></p>"
                + "".join(t._repr_html_() for t in self.tables()) + "</div>")


class WireRecorder:
    """Records every request body a boto3 client sends and every response body it receives.

    It registers two handlers on that client only (``client.meta.events``): other clients,
    even of the same lab, are not recorded. ``close()`` (or leaving ``with WireRecorder(idp)``)
    unregisters them. ``.messages`` holds everything since the recorder was made;
    ``capture(name)`` collects what one block of code sent and received.
    """

    def __init__(self, client: Any, service: str = "cognito-idp") -> None:
        self.client = client
        self.messages: list[WireMessage] = []
        self._events = (f"before-send.{service}.*", f"after-call.{service}.*")
        self._open = True
        client.meta.events.register(self._events[0], self._on_send, unique_id=self._uid("send"))
        client.meta.events.register(self._events[1], self._on_answer, unique_id=self._uid("answer"))

    def _uid(self, what: str) -> str:
        return f"labkit.course.wire.{what}.{id(self)}"

    @staticmethod
    def _operation(event_name: str) -> str:
        return event_name.rsplit(".", 1)[-1]

    def _on_send(self, request, event_name: str = "", **_: Any) -> None:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, (bytes, bytearray)):      # a stream: not used by Cognito
            body = b""
        self.messages.append(WireMessage(REQUEST, self._operation(event_name), bytes(body)))

    def _on_answer(self, http_response, event_name: str = "", **_: Any) -> None:
        self.messages.append(WireMessage(RESPONSE, self._operation(event_name),
                                         bytes(http_response.content or b""),
                                         http_response.status_code))

    def capture(self, name: str = "capture") -> "_CaptureBlock":
        """``with recorder.capture("USER_SRP_AUTH") as cap:`` — ``cap`` holds what the block sent
        and received (also when the block fails with an error: the error's body is recorded)."""
        if not self._open:
            raise RuntimeError("this WireRecorder is closed; make a new one")
        return _CaptureBlock(self, name)

    def since(self, mark: int, name: str = "capture") -> Capture:
        """A :class:`Capture` of everything recorded after ``mark`` (``mark = len(recorder.messages)``)."""
        return Capture(name, self.messages[mark:])

    def close(self) -> None:
        """Stop recording (unregister the handlers). Idempotent."""
        if self._open:
            self.client.meta.events.unregister(self._events[0], unique_id=self._uid("send"))
            self.client.meta.events.unregister(self._events[1], unique_id=self._uid("answer"))
            self._open = False

    def __enter__(self) -> "WireRecorder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "recording" if self._open else "closed"
        return f"<WireRecorder {state}, {len(self.messages)} messages>"


class _CaptureBlock:
    def __init__(self, recorder: WireRecorder, name: str) -> None:
        self.recorder = recorder
        self.capture = Capture(name)

    def __enter__(self) -> Capture:
        self._mark = len(self.recorder.messages)
        return self.capture

    def __exit__(self, *exc) -> bool:
        self.capture.messages[:] = self.recorder.messages[self._mark:]
        return False


# -- what an eavesdropper learns --------------------------------------------------------------------

#: category -> (colour, what it means for someone who copies it)
CATEGORIES: dict[str, tuple[str, str]] = {
    "password": ("#e45756", "the password itself: signs in again, until the password is changed"),
    "token": ("#f2a541", "a bearer token: usable until it expires or is revoked (in both flows)"),
    "nothing reusable": ("#7fbf7b", "public or single-use: nothing to sign in with"),
    "other": ("#c8c8c8", "not classified"),
}

_NOTHING_REUSABLE = {
    # public: identifiers, protocol names, and SRP's public values
    "ClientId", "AuthFlow", "ChallengeName", "USERNAME", "USER_ID_FOR_SRP", "SALT", "SRP_A",
    "SRP_B", "TokenType", "ExpiresIn", "__type", "message", "Message",
    # single-use: bound to one SECRET_BLOCK (one attempt) and one TIMESTAMP
    "SECRET_BLOCK", "PASSWORD_CLAIM_SECRET_BLOCK", "PASSWORD_CLAIM_SIGNATURE", "TIMESTAMP",
}
_TOKENS = {"AccessToken", "IdToken", "RefreshToken"}
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def classify(field: WireField, secret: str | None = None) -> str:
    """"password" if the field contains ``secret`` or is named like a password (PASSWORD,
    NEW_PASSWORD, ProposedPassword...); "token" for JWTs and refresh tokens;
    "nothing reusable" for public or single-use values; "other" for anything not analysed (such as
    SECRET_HASH, which is the same on every sign-in of a user)."""
    text = field.value if isinstance(field.value, str) else json.dumps(field.value)
    if secret and secret in text:
        return "password"
    if field.name.upper().endswith("PASSWORD"):   # PASSWORD, NEW_PASSWORD, ProposedPassword...
        return "password"
    if field.name in _TOKENS or (isinstance(field.value, str) and _JWT.fullmatch(field.value)):
        return "token"
    if field.name in _NOTHING_REUSABLE:
        return "nothing reusable"
    return "other"


def _is_hex(text: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-fA-F]+", text))


_NUMBERS = {"SRP_A", "SRP_B", "SALT"}


def preview(value: Any, category: str = "other", width: int = 40, *, name: str | None = None) -> str:
    """A short, stable rendering of a wire value (``name``: the field's name, if known).

    The password is shown whole (that is the point). JWTs become ``eyJ… (JWT)``, SRP's numbers
    (and any hex string of 32+ digits) their first 8 digits and bit length, long base64 blobs
    their size, so that nothing random or long is printed.
    """
    if category == "password":
        return repr(value)
    if not isinstance(value, str):
        return json.dumps(value)
    if _JWT.fullmatch(value):
        return "eyJ… (JWT)"
    if category == "token":
        return f"opaque, {len(value)} characters"
    if _is_hex(value) and (len(value) >= 32 or (name in _NUMBERS and len(value) > 8)):
        return f"{value[:8]}… ({int(value, 16).bit_length()}-bit number)"
    if len(value) >= 24 and re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", value):
        try:
            return f"{len(base64.b64decode(value, validate=True))} bytes, base64"
        except (binascii.Error, ValueError):
            pass
    text = repr(value)
    return text if len(text) <= width else text[:width - 1] + "…"


# -- exercise 3.1: what a log of these bodies must never keep ---------------------------------------

_WHY = {
    "password": "the password itself: whoever reads it signs in as the user, from anywhere, until the "
                "password changes (and on every site where it was reused)",
    "token": "a bearer token: whoever copies it acts as the user (API calls with the access or ID token, new "
             "tokens with the refresh token) until it expires or is revoked",
    "public": "public: an identifier, a protocol name, a lifetime, or one of SRP's public numbers, from which "
              "nobody can compute the password or sign in",
    "single-use": "single-use: bound to one SECRET_BLOCK, which Cognito accepts once, and to one TIMESTAMP; "
                  "replaying it signs nobody in",
}
_SINGLE_USE = {"SECRET_BLOCK", "PASSWORD_CLAIM_SECRET_BLOCK", "PASSWORD_CLAIM_SIGNATURE", "TIMESTAMP"}


def why_not_logged(field: WireField, secret: str | None = None) -> tuple[bool, str]:
    """``(must_not_log, why)`` for one field: True for the password and tokens, with the reason in words."""
    category = classify(field, secret)
    if category in ("password", "token"):
        return True, _WHY[category]
    if category == "nothing reusable":
        return False, _WHY["single-use" if field.name in _SINGLE_USE else "public"]
    return False, "not analysed by this lesson"


def check_must_not_log(names: Any, *captures: Capture, secret: str | None = None) -> None:
    """Check exercise 3.1: ``names`` are the fields (last part of the path, such as ``"SRP_A"``; a whole
    path is accepted too) that a log of these captures must never keep.

    Raises :class:`~labkit.course.exercises.ExerciseNotPassed` listing, in plain words, every field
    missing (and why it must go) and every field that need not be hidden (and why it is safe).
    """
    if isinstance(names, str) or not isinstance(names, (set, frozenset, list, tuple)):
        raise ExerciseNotPassed(None, "must_not_log should be a set of field names, such as {\"SRP_A\", ...}, "
                                      f"not {type(names).__name__} {names!r}.")
    given = {str(n).rsplit(".", 1)[-1] for n in names}
    verdicts: dict[str, tuple[bool, str]] = {}
    for capture in captures:
        for f in capture.fields():
            verdicts.setdefault(f.name, why_not_logged(f, secret))
    problems = [f"{name!r} is not a field of these sign-ins (use the last part of a path, such as 'SRP_A')."
                for name in sorted(given - set(verdicts))]
    missing: dict[str, list[str]] = {}      # reason -> names, so that each reason is said once
    extra: dict[str, list[str]] = {}
    for name, (hide, why) in verdicts.items():
        if hide and name not in given:
            missing.setdefault(why, []).append(name)
        elif not hide and name in given:
            extra.setdefault(why, []).append(name)
    for why, group in missing.items():
        problems.append(f"{', '.join(group)} {'is' if len(group) == 1 else 'are'} missing: {why}.")
    for why, group in extra.items():
        problems.append(f"{', '.join(group)} can stay in the log: {why}.")
    if problems:
        right = sum(1 for name, (hide, _) in verdicts.items() if hide == (name in given))
        raise ExerciseNotPassed(None, "\n".join([f"{right} of {len(verdicts)} fields decided right."] + problems))


class EavesdropperView:
    """What someone reading the wire gets from each sign-in: a picture in Jupyter, a table as text."""

    def __init__(self, captures: list[Capture], secret: str | None) -> None:
        self.captures = captures
        self.secret = secret
        self._figure = None

    def rows(self, capture: Capture) -> list[tuple[WireField, str]]:
        return [(f, classify(f, self.secret)) for f in capture.fields()]

    def summary(self, capture: Capture) -> dict[str, int]:
        """How many fields of each category the capture holds, e.g. {"password": 1, ...}."""
        counts = {name: 0 for name in CATEGORIES}
        for _, category in self.rows(capture):
            counts[category] += 1
        return counts

    def groups(self, capture: Capture) -> list[tuple[str, list[str]]]:
        """``[(category, [what crossed, ...]), ...]`` for the categories present, password first.

        The password is shown with its path and value (that is the point); every other field by its
        name only, repeated names counted (``USERNAME ×3``, with a no-break space): the values are in the capture's own table.
        """
        found: dict[str, dict[str, int]] = {}
        for f, category in self.rows(capture):
            label = f"{f.path} = {preview(f.value, category, name=f.name)}" if category == "password" else f.name
            names = found.setdefault(category, {})
            names[label] = names.get(label, 0) + 1
        return [(category, [name if n == 1 else f"{name}\N{NO-BREAK SPACE}×{n}" for name, n in found[category].items()])
                for category in CATEGORIES if category in found]

    def _verdict(self, capture: Capture) -> str:
        return ("the password crossed the wire" if self.summary(capture)["password"]
                else "the password never crossed the wire")

    def text(self) -> str:
        """Per flow, what each kind of field gives away, by category; then the legend. The fields'
        values are not repeated here: print the captures for them."""
        parts = ["What an eavesdropper gets"]
        for capture in self.captures:
            parts.append(str(Table(
                ["category", "fields", "what crossed the wire"],
                [(c.upper() if c == "password" else c, sum(int(n.rsplit("×", 1)[1]) if "×" in n else 1
                                                           for n in names), ", ".join(names))
                 for c, names in self.groups(capture)],
                title=f"{capture.name}, {len(capture)} messages: {self._verdict(capture)}",
                widths=[None, None, 62])))
        parts.append(str(Table(["category", "what it means for someone who copies it"],
                               [(name, meaning) for name, (_, meaning) in CATEGORIES.items()], title="Legend")))
        return "\n\n".join(parts)

    def figure(self):
        """The picture, a matplotlib Figure (not attached to pyplot): one column per flow, one box per
        category of field, naming the fields (not their values, which the capture tables show)."""
        if self._figure is None:
            self._figure = self._draw()
        return self._figure

    def _draw(self):
        import logging
        import textwrap

        logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyBboxPatch

        line, column_width, chars = 0.22, 5.2, 58
        boxes = []          # per capture: [(category, title, wrapped lines)]
        for capture in self.captures:
            entries = []
            for category, names in self.groups(capture):
                count = sum(int(n.rsplit("×", 1)[1]) if "×" in n else 1 for n in names)
                label = "the PASSWORD" if category == "password" else category
                title = f"{label}: {count} field{'s' * (count != 1)}"
                entries.append((category, title, textwrap.wrap(", ".join(names), chars)))
            boxes.append(entries)
        tallest = max(sum((len(lines) + 1) * line + 0.25 for _, _, lines in entries) for entries in boxes)
        legend_height = 0.3 * (len(CATEGORIES) - 1) + 0.2
        height = 1.0 + tallest + legend_height
        width = column_width * len(self.captures) + 0.2
        figure = Figure(figsize=(width, height), dpi=100)
        ax = figure.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, width)
        ax.set_ylim(0, height)
        ax.axis("off")
        for index, (capture, entries) in enumerate(zip(self.captures, boxes)):
            x0 = 0.2 + index * column_width
            leaked = self.summary(capture)["password"] > 0
            ax.text(x0 + (column_width - 0.2) / 2, height - 0.3, f"{capture.name} ({len(capture)} messages)",
                    ha="center", va="center", fontsize=12.5, fontweight="bold")
            ax.text(x0 + (column_width - 0.2) / 2, height - 0.62, self._verdict(capture),
                    ha="center", va="center", fontsize=10.5,
                    color=CATEGORIES["password"][0] if leaked else "#2e7d32", fontweight="bold")
            y = height - 0.95
            for category, title, lines in entries:
                box = (len(lines) + 1) * line + 0.1
                ax.add_patch(FancyBboxPatch((x0, y - box), column_width - 0.2, box,
                                            boxstyle="round,pad=0.01,rounding_size=0.06",
                                            facecolor=CATEGORIES[category][0], edgecolor="none", alpha=0.85))
                ax.text(x0 + 0.1, y - 0.05 - line / 2, title, va="center", fontsize=10, fontweight="bold")
                for n, text in enumerate(lines, start=1):
                    ax.text(x0 + 0.1, y - 0.05 - line / 2 - n * line, text, va="center", fontsize=8.5,
                            family="monospace", fontweight="bold" if category == "password" else "normal")
                y -= box + 0.15
        y = legend_height - 0.15
        for name, (colour, meaning) in CATEGORIES.items():
            if name == "other":
                continue
            ax.add_patch(FancyBboxPatch((0.25, y - 0.09), 0.3, 0.18, boxstyle="round,pad=0.01",
                                        facecolor=colour, edgecolor="none", alpha=0.85))
            ax.text(0.7, y, f"{name}: {meaning}", va="center", fontsize=9)
            y -= 0.3
        return figure

    def png(self) -> bytes:
        import io

        from matplotlib.backends.backend_agg import FigureCanvasAgg

        buffer = io.BytesIO()
        FigureCanvasAgg(self.figure()).print_png(buffer, metadata={"Software": None})
        return buffer.getvalue()

    def _repr_png_(self) -> bytes:
        return self.png()

    def __repr__(self) -> str:
        return self.text()


def eavesdropper_view(*captures: Capture, secret: str | None = None) -> EavesdropperView:
    """Side by side, what each capture gives away; ``secret`` is the password to look for.

    Each field is coloured: red if it contains the password, orange for tokens (they come back
    in *both* flows: SRP protects the password, not the session, so TLS still matters), green
    for public or single-use values.
    """
    if not captures:
        raise ValueError("eavesdropper_view needs at least one Capture")
    return EavesdropperView(list(captures), secret)


# -- SRP, step by step -------------------------------------------------------------------------------

def _hex_prefix(value: int | bytes | None, digits: int = 16) -> str:
    if value is None:
        return "-"
    text = value.hex() if isinstance(value, bytes) else srp.int_to_hex(value)
    return text[:digits] + ("…" if len(text) > digits else "")


def _bits(value: int | bytes | None) -> str:
    if value is None:
        return "-"
    return str(len(value) * 8) if isinstance(value, bytes) else str(value.bit_length())


@dataclass(frozen=True)
class SRPStep:
    step: str           # "1", "2"...
    who: str            # "client", "server", "both"
    name: str           # "A", "B", "u"...
    formula: str
    value: int | bytes | None
    on_the_wire: str    # "SRP_A", "SRP_B", "SALT", "PASSWORD_CLAIM_SIGNATURE" or "never"
    server_agrees: bool | None = None   # client and server computed the same value (if known)


class StepTable(ShowsAsTable):
    """The steps of one USER_SRP_AUTH, as :func:`srp_steps` returns them."""

    def __init__(self, steps: list[SRPStep], client: srp.CognitoSRP, *, formulas: bool = True) -> None:
        self.steps = steps
        self.client = client
        self.show_formulas = formulas

    def __iter__(self):
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, name: str) -> SRPStep:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    def table(self) -> Table:
        """The values, one row per step: who computes it, its first hex digits and size, whether it goes
        on the wire, and (when the lab's side was given) whether the server computed the same value.
        The formulas are in :meth:`formulas`."""
        with_server = any(s.server_agrees is not None for s in self.steps)
        columns = ["step", "who", "value", "first hex digits", "bits", "on the wire"]
        rows = []
        for s in self.steps:
            if s.name == "signature":
                shown, bits = "(changes with TIMESTAMP)", "256"
            elif s.name == "salt":      # as hashed and sent: padded hex ("00b4…")
                text = srp.pad_hex(s.value)
                shown, bits = text[:16] + ("…" if len(text) > 16 else ""), _bits(s.value)
            else:
                shown, bits = _hex_prefix(s.value), _bits(s.value)
            row = [s.step, s.who, s.name, shown, bits, s.on_the_wire]
            if with_server:
                row.append({True: "same", False: "DIFFERENT", None: ""}[s.server_agrees])
            rows.append(row)
        return Table(columns + ["server"] * with_server, rows, code=["value", "first hex digits"])

    def formulas(self) -> Table:
        """How each value is computed, one row per step."""
        return Table(["step", "value", "formula"], [(s.step, s.name, s.formula) for s in self.steps],
                     code=["value", "formula"])

    def _tables(self) -> list[Table]:
        return [self.table()] + ([self.formulas()] if self.show_formulas else [])

    def text(self) -> str:
        return "\n\n".join(t.text() for t in self._tables())

    def _repr_html_(self) -> str:
        return "".join(t._repr_html_() for t in self._tables())


def srp_steps(client: srp.CognitoSRP, server: srp.SRPServerSession | None = None, *,
              formulas: bool = True) -> StepTable:
    """Tabulate a finished exchange of ``client`` (after ``challenge_responses``).

    With ``server`` (the lab's side, see :func:`server_session`), each value the server also
    computes is compared. Values are shown as their first 16 hex digits and bit length; below them,
    a second table gives each value's formula (``formulas=False`` leaves it out, when it was shown before).
    """
    if client.S is None:
        raise ValueError("the client has not answered a challenge yet: call "
                         "client.challenge_responses(challenge_parameters) first")
    salt = srp._salt_to_int(client.salt)

    def agree(name: str):
        return None if server is None else getattr(server, name) == getattr(client, name)

    steps = [
        SRPStep("0", "server", "salt", "random, chosen at sign-up", salt, "SALT",
                None if server is None else srp.pad_hex(salt) == server.salt_hex),
        SRPStep("0", "both", "v", "g^x mod N (the server's: kept at sign-up)", client.v, "never",
                None if server is None else server.verifier == client.v),
        SRPStep("1", "client", "a", "random, up to 1024 bits", client.a, "never"),
        SRPStep("1", "client", "A", "g^a mod N", client.A, "SRP_A", agree("A")),
        SRPStep("2", "server", "B", "k·v + g^b mod N", client.B, "SRP_B", agree("B")),
        SRPStep("3", "both", "u", "H(pad(A) ‖ pad(B))", client.u, "never", agree("u")),
        SRPStep("4", "client", "x", "H(pad(salt) ‖ H(pool ‖ user ‖ ':' ‖ password))", client.x, "never"),
        SRPStep("5", "both", "S", "client (B − k·g^x)^(a+u·x); server (A·v^u)^b", client.S, "never",
                agree("S")),
        SRPStep("6", "both", "key", "HKDF(pad(S), salt=pad(u), 'Caldera Derived Key')[:16]",
                client.key, "never", agree("key")),
        SRPStep("7", "client", "signature", "HMAC(key, pool ‖ user ‖ SECRET_BLOCK ‖ TIMESTAMP)",
                None, "PASSWORD_CLAIM_SIGNATURE"),
    ]
    return StepTable(steps, client, formulas=formulas)


# -- the lab's side -----------------------------------------------------------------------------------

def _idp_state(lab):
    return lab.user_pools         # raises LabNotRunning with a clear message if the lab stopped


@dataclass(frozen=True)
class StoredVerifier:
    """What the lab keeps for a user's password: a salt and the verifier v = g^x mod N.

    (The lab also keeps a SHA-256 digest of x, to check USER_PASSWORD_AUTH without a 3072-bit
    exponentiation; like v, it cannot be turned back into the password.)
    """

    pool_id: str
    username: str
    salt: bytes
    verifier: int

    def matches(self, password: str) -> bool:
        """Recompute g^x from a candidate password: True if it gives the stored verifier."""
        return srp.compute_verifier(self.pool_id, self.username, password, self.salt) == self.verifier

    def __repr__(self) -> str:
        return (f"StoredVerifier for {self.username!r}\n"
                f"  salt      {self.salt.hex()[:16]}… ({len(self.salt)} bytes)\n"
                f"  verifier  {_hex_prefix(self.verifier)} ({self.verifier.bit_length()} bits)\n"
                f"  password  not stored")


def stored_verifier(lab, pool_id: str, username: str) -> StoredVerifier:
    """The salt and verifier the lab keeps for ``username`` (the user's internal name)."""
    state = _idp_state(lab)
    try:
        salt, verifier, _ = state.srp_verifiers[(pool_id, username)]
    except KeyError:
        raise KeyError(f"the lab keeps no password verifier for {username!r} in pool {pool_id}: "
                       "is the user there, with a password?") from None
    return StoredVerifier(pool_id, username, salt, verifier)


def server_session(lab, secret_block: str) -> srp.SRPServerSession:
    """The lab's side of the SRP attempt that sent ``secret_block`` (``SECRET_BLOCK``): its
    ``b``, ``B``, ``u``, ``S`` and ``key``, to compare with the client's."""
    attempt = _idp_state(lab).srp_attempts.get(secret_block)
    if attempt is None or attempt.server is None:
        raise KeyError("no SRP attempt of a known user has this SECRET_BLOCK in this lab")
    return attempt.server
