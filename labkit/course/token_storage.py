"""Lesson 05's tables: where tokens should live on each kind of client, how long they live, and
what is inside them.

* **Where they live** – :data:`GUIDE` is the advice as data: for each kind of client (a single-page
  app in a browser, a mobile app, a server-rendered web app or backend-for-frontend, a CLI or
  desktop app, a backend service) and each token (ID, access, refresh), the best places, the
  acceptable ones, the ones to never use, and why. :func:`storage_guide` shows it (an HTML table in
  Jupyter, text for ``print``); :func:`where_to_store` looks one cell up; :func:`review_plan` checks
  a storage plan against it (what lesson 05's exercise does).
* **How long they live** – :func:`lifetimes` renders the app-client token lifetimes, their ranges
  and defaults, straight from the lab's own rules (:mod:`labkit.cognito.lifetimes`), optionally beside the
  lifetimes of one app client.
* **What is inside** – :func:`anatomy` puts the claims of an ID token and an access token side by
  side (decoded with :func:`labkit.cognito.jwt.inspect`, *not* verified) and says which claim is in which
  token. The key id (``kid``) is not printed: keys are random on every run of the lab.

    >>> where_to_store("spa", "refresh").best                     # doctest: +SKIP
    ('memory',)
    >>> review_plan("mobile", {"id": "memory", "access": "memory", "refresh": "local-storage"})
    ...                                                           # doctest: +SKIP
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable

from .display import ShowsAsTable, Table
from ..cognito.durations import approximately, lifetime
from ..cognito.jwt import show_claim as _show_claim   # one formatter for claim values
from ..cognito.lifetimes import DEFAULT_UNITS, DEFAULT_VALUES, RANGES, UNIT_SECONDS, token_validity_seconds

__all__ = [
    "PLACES", "TOKENS", "GUIDE", "ClientKind", "Placement", "StorageGuide",
    "where_to_store", "review_plan", "storage_guide", "client_kind", "place_key",
    "human_duration", "lifetimes", "LifetimeTable", "LifetimeRow",
    "anatomy", "TokenAnatomy", "AnatomyRow", "CLAIM_MEANINGS",
]

# ---------------------------------------------------------------------------------------------
# The vocabulary: places a token can be kept, and the three tokens
# ---------------------------------------------------------------------------------------------
#: Where a token can be kept. Keys are what :func:`review_plan` and :func:`where_to_store` take.
PLACES: dict[str, str] = {
    "memory": "in memory only (a variable of the running app)",
    "local-storage": "the browser's localStorage",
    "session-storage": "the browser's sessionStorage",
    "js-cookie": "a cookie that JavaScript can read (no HttpOnly)",
    "httponly-cookie": "an HttpOnly; Secure; SameSite cookie set by your server",
    "server-session": "your server's session store (the browser keeps only a session-id cookie)",
    "os-secure-storage": "the OS's secure storage (Keychain, Android Keystore, Credential Manager...)",
    "private-file": "a file only the user can read (chmod 600)",
    "plain-file": "a plain file, app preferences or settings",
    "database": "a database or shared cache",
    "command-line": "command-line arguments, environment variables or shell history",
    "logs": "logs, analytics or crash reports",
    "url": "a URL or query string",
    "nowhere": "nowhere: use it and drop it, or never hold one",
}

_PLACE_ALIASES = {   # normalised without hyphens -> PLACES key
    "localstorage": "local-storage", "sessionstorage": "session-storage",
    "keychain": "os-secure-storage", "keystore": "os-secure-storage", "securestorage": "os-secure-storage",
    "credentialmanager": "os-secure-storage", "session": "server-session", "serversidesession": "server-session",
    "inmemory": "memory", "ram": "memory", "variable": "memory", "httponlycookie": "httponly-cookie",
    "file": "plain-file", "none": "nowhere", "env": "command-line", "envvar": "command-line",
    "environmentvariable": "command-line", "cookie": "js-cookie", "documentcookie": "js-cookie",
}

#: The three tokens of a user-pool sign-in: key -> (display name, key in AuthenticationResult).
TOKENS: dict[str, tuple[str, str]] = {
    "id": ("ID token", "IdToken"),
    "access": ("access token", "AccessToken"),
    "refresh": ("refresh token", "RefreshToken"),
}

def _norm(text: Any) -> str:
    """Lower case, every run of other characters one hyphen: "Local Storage" -> "local-storage"."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def place_key(place: str) -> str:
    """The :data:`PLACES` key for ``place`` ("localStorage" -> "local-storage"); ValueError if unknown."""
    key = _norm(place)
    if key not in PLACES:
        key = _PLACE_ALIASES.get(key.replace("-", ""), key)
    if key not in PLACES:
        raise ValueError(f"{place!r} is not one of the places this guide knows: "
                         + ", ".join(repr(k) for k in PLACES))
    return key


def _token_key(token: str) -> str:
    """"id", "access" or "refresh" for "id", "IdToken", "ID token", "access_token"..."""
    squashed = _norm(token).replace("-", "")
    key = squashed.removesuffix("token") or squashed
    if key not in TOKENS:
        raise ValueError(f"{token!r} is not a token kind: use 'id', 'access' or 'refresh'")
    return key


# ---------------------------------------------------------------------------------------------
# The guide
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Placement:
    """Where one kind of token should live on one kind of client."""

    client: str                    # ClientKind.key
    token: str                     # "id" | "access" | "refresh"
    best: tuple[str, ...]          # recommended places (PLACES keys), best first
    ok: tuple[str, ...]            # acceptable, with care
    never: tuple[str, ...]         # places to never use
    why: str

    @property
    def token_name(self) -> str:
        return TOKENS[self.token][0]

    @property
    def where(self) -> str:
        """The recommendation in words."""
        text = " or ".join(PLACES[p] for p in self.best)
        if self.ok:
            text += "; acceptable: " + " or ".join(PLACES[p] for p in self.ok)
        return text

    def verdict(self, place: str) -> str:
        """"best", "ok", "never" or "not recommended" for keeping this token in ``place``."""
        key = place_key(place)
        if key in self.best:
            return "best"
        if key in self.ok:
            return "ok"
        if key in self.never:
            return "never"
        return "not recommended"

    def __str__(self) -> str:
        return (f"{_client(self.client).name} · {self.token_name}: {self.where}.\n"
                f"  Why: {self.why}\n  Never: " + ", ".join(PLACES[p] for p in self.never) + ".")

    __repr__ = __str__


@dataclass(frozen=True)
class ClientKind:
    """One kind of client, its examples, and a :class:`Placement` per token."""

    key: str
    name: str
    examples: str
    note: str
    placements: tuple[Placement, ...] = field(repr=False)

    def placement(self, token: str) -> Placement:
        key = _token_key(token)
        return next(p for p in self.placements if p.token == key)


_BROWSER_NEVER = ("local-storage", "session-storage", "js-cookie", "url", "logs")


def _kind(key: str, name: str, examples: str, note: str, **placements: tuple) -> ClientKind:
    return ClientKind(key, name, examples, note, tuple(
        Placement(key, token, *placements[token]) for token in TOKENS))


#: The advice, one :class:`ClientKind` per kind of client.
GUIDE: tuple[ClientKind, ...] = (
    _kind(
        "spa", "Single-page app in a browser", "React, Vue or Angular code calling Cognito and your API "
        "from the browser, with no backend of its own",
        "Any script on the page (yours, a dependency's, an injected one) can read localStorage, "
        "sessionStorage and JavaScript cookies: one XSS bug and the tokens are gone. Amplify JS keeps "
        "tokens in localStorage unless you configure another storage. The safer design is a "
        "backend-for-frontend (see its table in this guide), which keeps the tokens off the browser.",
        id=(("memory",), (), _BROWSER_NEVER,
            "Read its claims to show who is signed in; keep it in a variable (a closure or a Web "
            "Worker), not in storage scripts can read."),
        access=(("memory",), (), _BROWSER_NEVER,
                "Sent as 'Authorization: Bearer' to your API. Keep it in memory and short-lived: a stolen "
                "access token works until exp, even after sign-out."),
        refresh=(("memory",), (), _BROWSER_NEVER,
                 "It lives for days and mints new access tokens: the prize for an attacker. Memory only "
                 "(a reload means signing in again), a short RefreshTokenValidity, and RevokeToken on "
                 "sign-out. Better: don't give the browser one (use a backend-for-frontend)."),
    ),
    _kind(
        "mobile", "Mobile app", "an iOS or Android app",
        "The OS gives each app a secure store that other apps cannot read and that survives restarts; "
        "use it for what must persist, and nothing else.",
        id=(("memory",), ("os-secure-storage",), ("plain-file", "logs", "url"),
            "Get a fresh one from the refresh token at start-up and keep it in memory; caching it in "
            "the secure store is fine."),
        access=(("memory",), ("os-secure-storage",), ("plain-file", "logs", "url"),
                "In memory, refreshed when it expires; caching it in the secure store is fine. Never in "
                "plain preferences (SharedPreferences, UserDefaults) or logs."),
        refresh=(("os-secure-storage",), (), ("plain-file", "logs", "url"),
                 "The iOS Keychain or an Android Keystore-backed encrypted store: the user stays signed "
                 "in across restarts, and no other app can read it. Memory alone would sign the user out "
                 "at every restart."),
    ),
    _kind(
        "web-server", "Server-rendered web app or backend-for-frontend (BFF)",
        "a web app whose server signs users in (often an app client with a secret)",
        "The server keeps the tokens; the browser gets only an HttpOnly; Secure; SameSite cookie "
        "holding a random session id, which no script can read. The client secret, if any, stays "
        "on the server too.",
        id=(("server-session",), ("httponly-cookie",), _BROWSER_NEVER,
            "The server reads the claims and renders the page; the browser never needs the token."),
        access=(("server-session",), ("httponly-cookie",), _BROWSER_NEVER,
                "The server (or the BFF, as a proxy) attaches it to API calls. An encrypted HttpOnly "
                "cookie also works, within the browser's 4 KB cookie limit."),
        refresh=(("server-session",), ("httponly-cookie",), _BROWSER_NEVER,
                 "Server-side, encrypted at rest, tied to the session; revoke it (RevokeToken) when the "
                 "user signs out."),
    ),
    _kind(
        "cli", "CLI or desktop app", "a command-line tool or desktop program the user runs",
        "The user's own machine: use the OS credential store, fall back to a file only the user can "
        "read, and keep tokens out of arguments, environment variables and shell history "
        "(other processes and users can see those).",
        id=(("memory",), ("os-secure-storage", "private-file"), ("command-line", "plain-file", "logs"),
            "Read it for the user's name; cache it with the refresh token if you like."),
        access=(("memory",), ("os-secure-storage", "private-file"), ("command-line", "plain-file", "logs"),
                "In memory for one run; cache it in the credential store so the next command does not "
                "refresh needlessly."),
        refresh=(("os-secure-storage",), ("private-file",), ("command-line", "plain-file", "logs"),
                 "The OS credential store (macOS Keychain, Windows Credential Manager, Linux Secret "
                 "Service); a chmod-600 file is the usual fallback."),
    ),
    _kind(
        "backend", "Backend service or API", "your API receiving tokens from apps, or a service calling "
        "another service",
        "An API receives access tokens: verify each one (CognitoVerifier), use its claims, then drop "
        "it. A service calling another service on its own behalf uses an app client of its own "
        "(client-credentials grant) and caches that access token in memory until it expires.",
        id=(("nowhere",), (), ("logs", "database", "url"),
            "An API should not accept ID tokens at all: they say who the user is, for the app. "
            "CognitoVerifier(token_use='access') refuses them."),
        access=(("memory",), (), ("logs", "database", "url"),
                "Verify it on every request and keep it only while handling that request. Never log "
                "it: whoever reads the logs could replay it until exp."),
        refresh=(("nowhere",), (), ("logs", "url", "plain-file"),
                 "A service has no business holding a user's refresh token: it would let the service "
                 "act as the user for days, after the user has left."),
    ),
)

_CLIENT_ALIASES = {   # normalised without hyphens -> ClientKind.key
    "singlepageapp": "spa", "singlepageapplication": "spa", "browser": "spa", "browserapp": "spa",
    "mobileapp": "mobile", "ios": "mobile", "android": "mobile",
    "webserver": "web-server", "bff": "web-server", "backendforfrontend": "web-server",
    "serverrendered": "web-server", "serverrenderedwebapp": "web-server", "webapp": "web-server",
    "desktop": "cli", "desktopapp": "cli", "commandline": "cli",
    "service": "backend", "api": "backend", "backendservice": "backend",
}


def client_kind(client: str) -> ClientKind:
    """The :class:`ClientKind` for ``client``: "spa", "mobile", "web-server", "cli", "backend"
    (or an alias such as "bff", "desktop", "api")."""
    key = _norm(client)
    key = _CLIENT_ALIASES.get(key.replace("-", ""), key)
    for kind in GUIDE:
        if kind.key == key:
            return kind
    raise ValueError(f"{client!r} is not a kind of client in the guide: use one of "
                     + ", ".join(repr(k.key) for k in GUIDE))


_client = client_kind


def where_to_store(client: str, token: str) -> Placement:
    """Where ``token`` ("id", "access", "refresh") should live on ``client`` (see :data:`GUIDE`)."""
    return client_kind(client).placement(token)


def review_plan(client: str, plan: dict) -> list[str]:
    """Check a storage plan ``{"id": place, "access": place, "refresh": place}`` for ``client``.

    Returns a list of problems, one readable line each; an empty list means every token is in a
    best or acceptable place. A missing token is a problem; an unknown place raises ValueError
    (with the list of known places).
    """
    if not isinstance(plan, dict):
        raise TypeError('a plan is a dict such as {"id": "memory", "access": "memory", "refresh": ...}')
    kind = client_kind(client)
    given = {_token_key(token): place for token, place in plan.items()}
    problems = []
    for token in TOKENS:
        placement = kind.placement(token)
        if token not in given:
            problems.append(f"the {placement.token_name} has no place in the plan")
            continue
        place = place_key(given[token])
        verdict = placement.verdict(place)
        if verdict == "never":
            problems.append(f"never keep the {placement.token_name} of a {kind.name.lower()} in "
                            f"{PLACES[place]}: {placement.why}")
        elif verdict == "not recommended":
            problems.append(f"{PLACES[place]} is not a good place for the {placement.token_name} of a "
                            f"{kind.name.lower()}; the guide says {placement.where}")
    return problems


class StorageGuide:
    """The guide (or some of its rows) as HTML tables in Jupyter and as text for ``print``: one
    table per kind of client, where each token should live and why, then where never to keep one."""

    TITLE = "Where tokens should live"

    def __init__(self, kinds: Iterable[ClientKind]) -> None:
        self.kinds = tuple(kinds)

    def tables(self) -> list[Table]:
        """One :class:`~labkit.cognito.display.Table` per kind of client."""
        tables = []
        for kind in self.kinds:
            rows = [[p.token_name, p.where, p.why] for p in kind.placements]
            never = sorted({p for placement in kind.placements for p in placement.never}, key=list(PLACES).index)
            rows.append(["never", ", ".join(PLACES[p] for p in never), kind.note])
            tables.append(Table(["token", "keep it in", "why"], rows, title=f"{kind.name}: {kind.examples}",
                                widths=[13, 40, 60]))
        return tables

    def summary(self) -> Table:
        """One row per kind of client: the best place for each token, by its :data:`PLACES` key."""
        rows = [[kind.key, kind.name] + [" or ".join(kind.placement(t).best) for t in TOKENS]
                for kind in self.kinds]
        return Table(["key", "client", "ID token", "access token", "refresh token"], rows,
                     title=f"{self.TITLE}: the best place for each token (keys of token_storage.PLACES)",
                     code=["key", "ID token", "access token", "refresh token"])

    _MORE = ('Each client\'s why and never-list: storage_guide("spa") (a key from the first column), '
             'or where_to_store("spa", "refresh") for one token.')

    def __str__(self) -> str:
        if len(self.kinds) == 1:      # one client: its whole table
            return "\n\n".join([self.TITLE, self.tables()[0].text()])
        return "\n\n".join([self.summary().text(), self._MORE])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """The summary, then each client's full table folded in a <details> (click to open)."""
        from html import escape

        if len(self.kinds) == 1:
            return f"<div><h4>{self.TITLE}</h4>{self.tables()[0]._repr_html_()}</div>"
        folded = "".join(
            f"<details><summary>{escape(kind.name)}: why, and where never</summary>{table._repr_html_()}</details>"
            for kind, table in zip(self.kinds, self.tables()))
        return f"<div>{self.summary()._repr_html_()}{folded}</div>"


def storage_guide(*clients: str) -> StorageGuide:
    """The guide for ``clients`` (keys or aliases), or for every kind of client."""
    return StorageGuide(client_kind(c) for c in clients) if clients else StorageGuide(GUIDE)


# ---------------------------------------------------------------------------------------------
# Lifetimes
# ---------------------------------------------------------------------------------------------
def human_duration(seconds: float) -> str:
    """"5 minutes", "60 minutes", "2 hours", "1 day", "3650 days (10 years)", "90 seconds"
    (:func:`labkit.cognito.durations.lifetime`)."""
    return lifetime(seconds)


_LIFETIME_KINDS = (("IdToken", "ID token", "IdTokenValidity"),
                   ("AccessToken", "access token", "AccessTokenValidity"),
                   ("RefreshToken", "refresh token", "RefreshTokenValidity"))


@dataclass(frozen=True)
class LifetimeRow:
    kind: str            # "IdToken", "AccessToken", "RefreshToken"
    name: str            # "ID token"
    setting: str         # "IdTokenValidity"
    minimum: int         # seconds
    maximum: int
    default: int
    default_unit: str    # TokenValidityUnits default: "hours" or "days"
    client: int | None   # this client's lifetime in seconds, if a client was given


class LifetimeTable(ShowsAsTable):
    """Token lifetimes, ranges and defaults (HTML in Jupyter, text for ``print``)."""

    def __init__(self, rows: Iterable[LifetimeRow], client_name: str | None = None) -> None:
        self.rows = tuple(rows)
        self.client_name = client_name

    def row(self, kind: str) -> LifetimeRow:
        key = {"id": "IdToken", "access": "AccessToken", "refresh": "RefreshToken"}.get(_norm(kind), kind)
        return next(r for r in self.rows if r.kind == key)

    _FOOT = ("Set them on the app client (CreateUserPoolClient / UpdateUserPoolClient) with "
             "TokenValidityUnits (seconds, minutes, hours or days); a value outside the range is "
             "refused with InvalidParameterException.")

    def table(self) -> Table:
        head = ["token", "setting", "minimum", "maximum", "default", "default unit"]
        with_client = any(r.client is not None for r in self.rows)
        if with_client:
            head.append(f"client {self.client_name}" if self.client_name else "this client")
        body = []
        for r in self.rows:
            cells = [r.name, r.setting, human_duration(r.minimum), human_duration(r.maximum),
                     human_duration(r.default), r.default_unit]
            if with_client:
                cells.append(human_duration(r.client) if r.client is not None else "")
            body.append(cells)
        return Table(head, body, title="Token lifetimes (app client settings)", notes=self._FOOT,
                     code=["setting"])


def lifetimes(client: dict | None = None) -> LifetimeTable:
    """The ranges and defaults of token lifetimes; with ``client`` (a ``UserPoolClient`` dict from
    Create/Describe/UpdateUserPoolClient), a column with that client's lifetimes too."""
    rows = []
    for kind, name, setting in _LIFETIME_KINDS:
        low, high = RANGES[kind]
        default = DEFAULT_VALUES[kind] * UNIT_SECONDS[DEFAULT_UNITS[kind]]
        mine = token_validity_seconds(client, kind) if client is not None else None
        rows.append(LifetimeRow(kind, name, setting, low, high, default, DEFAULT_UNITS[kind], mine))
    return LifetimeTable(rows, (client or {}).get("ClientName"))


# ---------------------------------------------------------------------------------------------
# Anatomy: which claim is in which token
# ---------------------------------------------------------------------------------------------
#: What each claim of a Cognito user-pool token means (the order is the order of :func:`anatomy`).
CLAIM_MEANINGS: dict[str, str] = {
    "alg": "signature algorithm: RS256 for Cognito",
    "kid": "which of the pool's keys signed it (look it up in the JWKS)",
    "sub": "the user's id in the pool: unique, never reused; key your data on it",
    "cognito:username": "the user's username (ID token's name for it)",
    "username": "the user's username (access token's name for it)",
    "email": "user attribute (ID token only)",
    "email_verified": "user attribute (ID token only)",
    "phone_number": "user attribute (ID token only)",
    "phone_number_verified": "user attribute (ID token only)",
    "cognito:groups": "the user's groups",
    "cognito:roles": "IAM roles of the user's groups (for identity pools)",
    "cognito:preferred_role": "the role of the user's group with the lowest precedence",
    "iss": "issuer: the user pool's URL; a verifier checks it",
    "aud": "the app client the ID token was issued to",
    "client_id": "the app client the access token was issued to",
    "token_use": "which kind of token; a verifier checks it",
    "scope": "OAuth scopes; this one lets the user call Cognito's own user APIs (GetUser...)",
    "auth_time": "when the user signed in (refreshes keep it)",
    "iat": "when this token was issued",
    "exp": "when it expires: iat + the app client's validity",
    "jti": "this token's own unique id",
    "origin_jti": "the sign-in (refresh token) it comes from: what revocation cuts",
    "event_id": "the sign-in event",
}


@dataclass(frozen=True)
class AnatomyRow:
    section: str            # "header" or "claims"
    name: str
    in_id: bool
    in_access: bool
    id_value: str
    access_value: str
    meaning: str

    @property
    def where(self) -> str:
        """"both", "ID only" or "access only"."""
        return "both" if self.in_id and self.in_access else "ID only" if self.in_id else "access only"

    @property
    def value(self) -> str:
        if self.in_id and self.in_access and self.id_value != self.access_value:
            return f"ID: {self.id_value} | access: {self.access_value}"
        return self.id_value if self.in_id else self.access_value


class TokenAnatomy(ShowsAsTable):
    """The claims of an ID token and an access token side by side; see :func:`anatomy`."""

    def __init__(self, rows: Iterable[AnatomyRow], refresh_note: str) -> None:
        self.rows = tuple(rows)
        self.refresh_note = refresh_note

    def only_in(self, token: str) -> list[str]:
        """Claims only the ``"id"`` (or ``"access"``) token has."""
        key = _token_key(token)
        return [r.name for r in self.rows if r.section == "claims"
                and (r.in_id and not r.in_access if key == "id" else r.in_access and not r.in_id)]

    def in_both(self) -> list[str]:
        return [r.name for r in self.rows if r.section == "claims" and r.in_id and r.in_access]

    def table(self) -> Table:
        rows, section = [], None
        for r in self.rows:
            rows.append([r.section if r.section != section else "", r.name, r.where, r.meaning, r.value])
            section = r.section
        return Table(["", "claim", "in", "meaning", "value"], rows,
                     title="ID token and access token, side by side (decoded, NOT verified)",
                     notes=f"refresh token: {self.refresh_note}", widths=[None, None, None, 40, 60],
                     code=["claim", "value"])


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _time_value(name: str, value: Any, claims: dict, view) -> str:
    """A time claim: epoch seconds, UTC, and how it relates to ``iat`` (stable: no "now" / "1 s ago")."""
    text = f"{value} ({_utc(value)})"
    iat = claims.get("iat")
    if not isinstance(iat, (int, float)) or name == "iat":
        return text
    delta = int(value - iat)
    if name == "exp":
        text += f" = iat + {delta} s ({human_duration(delta)})" if delta > 0 else " (before iat!)"
        left = view.expires_in
        if left is not None:
            text += f"; expired {approximately(-left)} ago" if left <= 0 else f"; expires in {approximately(left)}"
    elif name == "auth_time":
        text += " = iat: signed in when issued" if delta == 0 else f" = iat - {-delta} s: signed in earlier"
    return text


def _values(view) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for key, value in (view.header or {}).items():
        out[("header", key)] = _show_claim(value)
    for key, value in (view.claims or {}).items():
        if key in ("exp", "iat", "auth_time", "nbf") and isinstance(value, (int, float)) \
                and not isinstance(value, bool):
            out[("claims", key)] = _time_value(key, value, view.claims, view)
        else:
            out[("claims", key)] = _show_claim(value)
    return out


def anatomy(auth_result: dict, clock: Any = None) -> TokenAnatomy:
    """Compare the ID and access tokens of an ``AuthenticationResult`` claim by claim.

    Uses :func:`labkit.cognito.jwt.inspect` (decoding only, nothing is verified). Times are shown in
    UTC and against ``iat`` (``exp = iat + 3600 s``); ``exp`` also against ``clock`` (``lab.clock``),
    in whole minutes so that the text stays the same from run to run. The ``kid`` is described, not
    printed (the lab's keys are random on every run). The refresh token, if present, is opaque: only
    its length is reported.
    """
    from ..cognito.jwt import inspect

    if not isinstance(auth_result, dict) or "IdToken" not in auth_result or "AccessToken" not in auth_result:
        raise TypeError("pass an AuthenticationResult: a dict with IdToken and AccessToken")
    id_view = inspect(auth_result["IdToken"], clock=clock)
    access_view = inspect(auth_result["AccessToken"], clock=clock)
    if not (id_view.is_jwt and access_view.is_jwt):
        raise ValueError("IdToken and AccessToken must be JWTs")
    id_values, access_values = _values(id_view), _values(access_view)
    id_kid, access_kid = id_view.header.get("kid"), access_view.header.get("kid")
    if id_kid and access_kid:
        which = "the same key for both" if id_kid == access_kid else "one key for ID tokens, another for access"
        id_values[("header", "kid")] = access_values[("header", "kid")] = \
            f"{which} (not printed: random on every run of the lab)"
    order = list(CLAIM_MEANINGS)
    keys = list(dict.fromkeys(list(id_values) + list(access_values)))
    keys.sort(key=lambda k: (k[0] != "header", order.index(k[1]) if k[1] in order else len(order), k[1]))
    rows = []
    for section, name in keys:
        meaning = CLAIM_MEANINGS.get(name, "custom attribute" if name.startswith("custom:") else "")
        if section == "header" and name not in ("alg", "kid"):
            meaning = ""
        rows.append(AnatomyRow(section, name, (section, name) in id_values, (section, name) in access_values,
                               id_values.get((section, name), ""), access_values.get((section, name), ""),
                               meaning))
    refresh_token = auth_result.get("RefreshToken")
    if refresh_token:
        refresh_view = inspect(refresh_token, clock=clock)
        kind = "opaque" if "opaque" in refresh_view.kind else refresh_view.kind
        refresh_note = (f"{kind}, {len(refresh_token)} characters, no claims anyone but Cognito can read. "
                        "Send it only to Cognito (REFRESH_TOKEN_AUTH, RevokeToken).")
    else:
        refresh_note = "none in this result (REFRESH_TOKEN_AUTH returns new ID and access tokens only)."
    return TokenAnatomy(rows, refresh_note)
