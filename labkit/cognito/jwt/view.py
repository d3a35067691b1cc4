"""Reading a token, never trusting it: :func:`inspect` and the :class:`TokenView` it returns.

``inspect(token, clock=lab.clock)`` decodes a JWT *without verifying it* and shows its header and
claims, with ``exp`` / ``iat`` / ``auth_time`` in UTC and relative to the clock ("expires in 59
min"). Refresh tokens are opaque: you get a view that says so instead of an error. To *trust* a
token, verify it with :class:`labkit.cognito.jwt.CognitoVerifier`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import jwt

from ..display import ShowsAsTable, Table
from ..durations import relative, utc
from .issuers import ALGORITHM, Clock, clock_time

__all__ = ["inspect", "TokenView", "show_claim"]

_TIME_CLAIMS = ("exp", "iat", "auth_time", "nbf")
_NOT_VERIFIED = ("decoded, NOT verified: inspect() only reads the token; anyone can write these "
                 "claims. Use CognitoVerifier before trusting them.")
_OPAQUE = ("this is not a JWT you can read. Cognito refresh tokens are encrypted for "
           "Cognito alone (in the lab: a random id). Keep it secret and send it only to Cognito "
           "(InitiateAuth REFRESH_TOKEN_AUTH, RevokeToken).")
# What an opaque refresh token is, line by line: shown instead of an (empty) claims table.
_REFRESH_FACTS = (
    ("what", "opaque: not a JWT, nothing in it to decode; Cognito encrypts it for itself "
             "(on AWS a five-part JWE, in the lab a random string)"),
    ("lives", "the app client's RefreshTokenValidity (30 days by default), counted from the sign-in; "
              "refreshing does not extend it"),
    ("buys", "new ID and access tokens: InitiateAuth with REFRESH_TOKEN_AUTH, no password"),
    ("send it to", "Cognito only (REFRESH_TOKEN_AUTH, RevokeToken); never to your API"),
    ("ends with", "RevokeToken (this sign-in), GlobalSignOut / AdminUserGlobalSignOut (all of them), "
                  "or its expiry"),
)


@dataclass(repr=False)

class TokenView(ShowsAsTable):
    """What :func:`inspect` returns: a readable view of a token. Nothing here is verified."""

    token: str
    kind: str                    # "access", "id", "refresh (opaque)", "JWT", "not a token"
    header: dict | None
    claims: dict | None
    now: float                   # the clock reading the relative times are computed against
    note: str
    error: str | None = None

    @property
    def is_jwt(self) -> bool:
        return self.claims is not None

    @property
    def expires_at(self) -> datetime | None:
        exp = (self.claims or {}).get("exp")
        return datetime.fromtimestamp(exp, tz=timezone.utc) if isinstance(exp, (int, float)) else None

    @property
    def expires_in(self) -> float | None:
        """Seconds until ``exp`` on the clock (negative once expired); ``None`` without ``exp``."""
        exp = (self.claims or {}).get("exp")
        return exp - self.now if isinstance(exp, (int, float)) else None

    @property
    def expired(self) -> bool | None:
        left = self.expires_in
        return None if left is None else left <= 0

    def _time_note(self, name: str, value: Any) -> str:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return ""
        rel = relative(value, self.now)
        if name == "exp":
            return f"expires {rel}" if value > self.now else f"expired {rel}"
        if name == "iat":
            return f"issued {rel}" + (" (in the future!)" if value > self.now + 1 else "")
        if name == "auth_time":
            return f"signed in {rel}"
        return f"not before: {rel}"

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(section, name, value, note) rows: what ``__str__`` and ``_repr_html_`` show."""
        out: list[tuple[str, str, str, str]] = []
        for key, value in (self.header or {}).items():
            out.append(("header", key, show_claim(value), ""))
        for key, value in (self.claims or {}).items():
            if key in _TIME_CLAIMS and isinstance(value, (int, float)) and not isinstance(value, bool):
                out.append(("claims", key, f"{value}  ({utc(value)})", self._time_note(key, value)))
            else:
                out.append(("claims", key, show_claim(value), ""))
        return out

    @property
    def is_refresh(self) -> bool:
        return self.kind.startswith("refresh")

    def _title(self) -> str:
        names = {"access": "Access token", "id": "ID token", "refresh token (opaque)": "Refresh token"}
        return names.get(self.kind, self.kind[:1].upper() + self.kind[1:])

    def facts(self) -> list[tuple[str, str]]:
        """For a refresh token: (aspect, description) lines that describe it, since it can't be read."""
        if not self.is_refresh:
            return []
        return [("length", f"{len(self.token)} characters")] + list(_REFRESH_FACTS)

    def _repr_html_(self) -> str:
        if self.rows():
            return self.table()._repr_html_()
        from html import escape

        if self.is_refresh:
            items = "".join(f"<li><b>{escape(k)}</b>: {escape(v)}</li>" for k, v in self.facts())
            return f"<div><b>Refresh token</b><ul style='margin-top:2px'>{items}</ul></div>"
        extra = f"<br><code>{escape(self.error)}</code>" if self.error else ""
        return f"<div><b>{escape(self._title())}</b>: {escape(self.note)}{extra}</div>"

    def table(self) -> Table:
        """The header and the claims as a :class:`~labkit.cognito.display.Table` (what ``print`` and Jupyter show)."""
        rows, section = [], None
        for sec, name, value, note in self.rows():
            rows.append([sec if sec != section else "", name, note, value])
            section = sec
        return Table(["", "name", "meaning", "value"], rows, title=f"{self._title()} ({self.note})",
                     notes=[self.error] if self.error else [], code=["name", "value"])

    def text(self) -> str:
        if self.is_refresh:        # opaque: describe it rather than tabulate nothing
            import textwrap

            width = max(len(k) for k, _ in self.facts())
            lines = ["Refresh token"]
            for key, value in self.facts():
                lines += textwrap.wrap(value, 96, break_on_hyphens=False, initial_indent=f"  {key:<{width}}  ",
                                       subsequent_indent=" " * (width + 4))
            return "\n".join(lines)
        if not self.rows():        # not a token: no table to show
            return "\n".join([f"{self._title()} ({self.note})"] + ([f"  {self.error}"] if self.error else []))
        return self.table().text()


def show_claim(value: Any) -> str:
    """A claim value as text: lists joined with commas, strings as they are, the rest as JSON."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "[]"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def inspect(token: str, clock: Clock | None = None) -> TokenView:
    """Decode ``token`` for reading. **Does not verify anything** (see :class:`CognitoVerifier`).

    Times are shown in UTC and relative to ``clock`` (``lab.clock`` in the notebooks; real time by
    default). Refresh tokens are opaque: you get a view that says so instead of an error.
    """
    now = clock_time(clock)
    if not isinstance(token, str) or not token:
        return TokenView(str(token), "not a token", None, None, now,
                         "expected a token string, e.g. tokens['AccessToken']")
    if token.count(".") != 2:
        kind = "refresh token (opaque)" if token.count(".") in (0, 4) else "not a JWT"
        return TokenView(token, kind, None, None, now, _OPAQUE if "refresh" in kind else
                         "a JWT has three dot-separated parts; this has "
                         f"{token.count('.') + 1}")
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        return TokenView(token, "not a JWT", None, None, now, "could not be decoded", error=str(exc))
    kind = claims.get("token_use") if claims.get("token_use") in ("access", "id") else "JWT"
    warning = None
    if header.get("alg") != ALGORITHM:
        warning = (f"Warning: alg is {header.get('alg')!r}; Cognito signs with RS256. "
                   "A verifier that pins RS256 rejects this token.")
    return TokenView(token, kind, header, claims, now, _NOT_VERIFIED, error=warning)

