"""A protected HTTP API on 127.0.0.1, like API Gateway with a Cognito authorizer in front.

    >>> api = lab.protected_api(pool_id, client_id)                  # doctest: +SKIP
    >>> api.call("/hello", tokens["AccessToken"])                     # doctest: +SKIP
    HTTP 200 OK
    {"message": "Hello, alice!"}

Routes
------
``GET /hello``  any valid access token.
``GET /me``     JSON with the caller's ``sub``, ``username`` and ``groups``.
``GET /admin``  requires the group ``admin`` (else 403).
``GET /``       lists the routes and which checks are switched off (no token needed).
``GET /session`` (``weak_session_secret`` variant only) an access token in, the API's own HS256
                session token out.

A missing, invalid or expired token gets **401** with
``WWW-Authenticate: Bearer error="invalid_token", error_description="…why…"``; a valid token that
lacks the group or scope gets **403** (``error="insufficient_scope"``). A request with no token at
all gets 401 with a bare ``Bearer`` challenge, as RFC 6750 §3.1 asks.

By default the API checks tokens with :class:`labkit.cognito.jwt.CognitoVerifier` on the lab clock.
For the security lessons each classic verification mistake can be switched on with one named
flag (all off by default); ``repr(api)`` says which are on:

========================== =====================================================================
``accept_id_tokens``       ID tokens are accepted like access tokens
``skip_signature``         the signature is never checked (tampered payloads pass)
``accept_alg_none``        unsigned tokens (``alg: none``) are accepted
``trust_header_alg``       the token's header picks the algorithm: HS256 is checked with the
                           pool's public key (PEM) as the HMAC secret (key confusion)
``ignore_expiry``          ``exp`` is not checked
``ignore_issuer``          any Cognito user pool's tokens are accepted (keys from the pool the token names)
``ignore_client``          tokens of any app client of the pool are accepted
``trust_header_jwk``       a token whose header carries a ``jwk`` is checked with *that* key
``trust_header_jku``       keys are fetched from the URL in the token's ``jku`` header
``kid_path_traversal``     HS256 "service tokens" are checked with the key file named by ``kid``,
                           and the path is not confined to the key directory
``weak_session_secret``    ``GET /session`` trades an access token for the API's own HS256 session
                           token, signed with a secret from a common-secrets list; those are accepted
========================== =====================================================================

Each flag replaces exactly one named check of :class:`~labkit.cognito.jwt.CognitoVerifier`
(:data:`FLAG_CHECK`), with :meth:`~labkit.cognito.jwt.CognitoVerifier.replacing`; ``repr(api.verifier)``
lists the replaced checks.
"""
from __future__ import annotations

import hmac
import json
import os
import shutil
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Iterable

from jwt.utils import base64url_decode

from ..cognito.jwt import (
    ALGORITHM,
    CognitoVerifier,
    InsufficientPermissions,
    InvalidSignature,
    JwtVerificationError,
    UnknownKey,
    Verification,
    WrongTokenUse,
    check_signature,
    check_token_use,
    pool_id_of_issuer,
    read_claims_unverified,
    require_groups,
    require_scopes,
)

from ..cognito.display import Table
from .forgeries import hs256_signature, pem_of

__all__ = ["start_protected_api", "ProtectedApi", "ApiResponse", "VULNERABILITIES", "vulnerable_verifier"]

#: Every vulnerable flag: the mistake it reproduces, and the one check of CognitoVerifier it replaces.
VULNERABILITIES: dict[str, str] = {
    "accept_id_tokens": "accepts ID tokens as if they were access tokens",
    "skip_signature": "never checks the signature, so edited tokens pass",
    "accept_alg_none": "accepts unsigned tokens (alg none)",
    "trust_header_alg": "lets the token header choose the algorithm (HS256 checked with the public key as secret)",
    "ignore_expiry": "accepts expired tokens",
    "ignore_issuer": "accepts tokens of any Cognito user pool, fetching keys from the pool the token names",
    "ignore_client": "accepts tokens issued to any app client of the pool",
    "trust_header_jwk": "verifies with the public key the token's own header carries (jwk injection)",
    "trust_header_jku": "fetches verification keys from the URL in the token's header (jku injection)",
    "kid_path_traversal": "reads HS256 keys from the file kid names, without confining the path",
    "weak_session_secret": "signs its own HS256 session tokens with a guessable secret",
}
#: Which named check of CognitoVerifier each flag replaces (tests/test_api.py proves one each).
FLAG_CHECK: dict[str, str] = {
    "accept_id_tokens": "token_use", "skip_signature": "signature", "accept_alg_none": "signature",
    "trust_header_alg": "signature", "ignore_expiry": "expiry", "ignore_issuer": "issuer",
    "ignore_client": "client", "trust_header_jwk": "signature", "trust_header_jku": "signature",
    "kid_path_traversal": "signature", "weak_session_secret": "signature",
}
#: The flaws that live in the signature check.
SIGNATURE_FLAWS = frozenset(name for name, check in FLAG_CHECK.items() if check == "signature")

#: The session secret of the ``weak_session_secret`` variant: a word of the common-secrets list,
#: so :func:`labkit.course.forgeries.crack_hs256` finds it, as real word lists find real ones.
WEAK_SESSION_SECRET = "changeme"
SESSION_KID = "api-session"
SERVICE_KID = "service-2024"          # the one legitimate key file of the kid_path_traversal variant
_MAX_KEY_BYTES = 64 * 1024

ADMIN_GROUP = "admin"
#: The routes a scope or a Cognito check can be set on.
ROUTES = ("/hello", "/me", "/admin", "/photos", "/session")


def _scope_tuple(value: Any, what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    values = (value,) if isinstance(value, str) else tuple(value)
    if not values or not all(isinstance(v, str) and v for v in values):
        raise ValueError(f"{what} must be a scope string or a non-empty list of them, not {value!r}")
    return values


# -- the broken checks: each is the bug a real API might ship -------------------------------------
def _any_token_use(v: Verification) -> None:
    """BUG (accept_id_tokens): "it is a Cognito token, that will do": ID tokens pass as access tokens."""
    if v.claims.get("token_use") not in ("id", "access"):
        check_token_use(v)


def _no_expiry_check(v: Verification) -> None:
    """BUG (ignore_expiry): ``exp`` is never looked at; a token lives forever."""


def _any_client(v: Verification) -> None:
    """BUG (ignore_client): whichever app client the token was issued to is fine."""


def _hs256_matches(v: Verification, secret: bytes) -> None:
    signing_input, _, signature_b64 = v.token.rpartition(".")
    try:
        signature = base64url_decode(signature_b64)
    except ValueError:
        signature = b""
    if not hmac.compare_digest(hs256_signature(signing_input, secret), signature):
        raise InvalidSignature("HS256 signature does not match", header=v.header)
    v.claims = read_claims_unverified(v.token, v.header)


def _rs256_with(v: Verification, jwk: Any, source: str) -> None:
    import jwt as pyjwt

    try:
        key = pyjwt.PyJWK(jwk, algorithm=ALGORITHM).key
        # Only the signature here: time claims are the verifier's own checks, on the lab clock
        # (PyJWT would compare iat with the wall clock, and refuse tokens of a lab clock moved on).
        pyjwt.decode(v.token, key, algorithms=[ALGORITHM],
                     options={"verify_aud": False, "verify_exp": False, "verify_iat": False, "verify_nbf": False})
    except (pyjwt.PyJWTError, TypeError, ValueError) as exc:
        raise InvalidSignature(f"RS256 signature does not match the key from {source} ({exc})",
                               header=v.header) from None
    v.claims = read_claims_unverified(v.token, v.header)


def _fetch_jku(url: Any) -> dict:
    """The vulnerable fetch, kept on loopback: the lab never reaches out, whatever a token says."""
    parsed = urllib.parse.urlsplit(str(url))
    if parsed.scheme not in ("http", "https") or parsed.hostname not in ("127.0.0.1", "localhost"):
        raise UnknownKey(f"jku {url!r}: this lab only fetches from 127.0.0.1 (a real vulnerable API "
                         "would fetch from anywhere)")
    try:
        with urllib.request.urlopen(str(url), timeout=2) as response:
            return json.loads(response.read(_MAX_KEY_BYTES))
    except (OSError, ValueError) as exc:
        raise UnknownKey(f"could not fetch keys from jku {url!r} ({exc})") from None


def _read_key_file(key_dir: str, kid: Any) -> bytes:
    # BUG (kid_path_traversal): kid is joined to the directory as it comes; "../" climbs out.
    path = os.path.join(key_dir, str(kid))
    # The lab's own guard, not part of the bug: read only regular files or /dev/null, at most 64 KiB,
    # so a kid naming a device or a pipe cannot hang the API.
    if not (os.path.isfile(path) or os.path.realpath(path) == os.devnull):
        raise UnknownKey(f"no key file for kid {kid!r}")
    with open(path, "rb") as handle:
        return handle.read(_MAX_KEY_BYTES)


def _signature_with_flaws(flaws: set[str], key_dir: str | None = None):
    """The signature check with the named flaws (see :data:`SIGNATURE_FLAWS`)."""

    def check(v: Verification) -> None:
        alg = v.header.get("alg")
        if ("skip_signature" in flaws and alg == ALGORITHM) or ("accept_alg_none" in flaws and alg == "none"):
            # BUG: the header looks right (skip_signature) or says there is no signature
            # (accept_alg_none): read the claims and believe them.
            v.claims = read_claims_unverified(v.token, v.header)
            return
        if "trust_header_jwk" in flaws and alg == ALGORITHM and isinstance(v.header.get("jwk"), dict):
            # BUG (trust_header_jwk): the token brought its own key, and the API used it.
            _rs256_with(v, v.header["jwk"], "the token's own jwk header")
            return
        if "trust_header_jku" in flaws and alg == ALGORITHM and v.header.get("jku"):
            # BUG (trust_header_jku): the token says where its keys are, and the API believed it.
            keys = _fetch_jku(v.header["jku"]).get("keys") or []
            jwk = next((k for k in keys if isinstance(k, dict) and k.get("kid") == v.header.get("kid")), None)
            if jwk is None:
                raise UnknownKey(f"kid {v.header.get('kid')!r} is not in the JWKS at the token's jku",
                                 header=v.header)
            _rs256_with(v, jwk, "the token's jku URL")
            return
        if "kid_path_traversal" in flaws and alg == "HS256" and v.header.get("kid") != SESSION_KID:
            # BUG (kid_path_traversal): HS256 service tokens keyed by a file that kid names.
            _hs256_matches(v, _read_key_file(key_dir, v.header.get("kid")))
            return
        if "weak_session_secret" in flaws and alg == "HS256" and v.header.get("kid") == SESSION_KID:
            # BUG (weak_session_secret): the API's own session tokens, under a guessable secret.
            _hs256_matches(v, WEAK_SESSION_SECRET.encode())
            return
        if "trust_header_alg" in flaws and alg == "HS256":
            # BUG (trust_header_alg): the header said HS256, so "the key" becomes an HMAC secret. The
            # key an API holds is the pool's RSA *public* key, which anyone can download; as PEM text
            # it is the HMAC secret, so anyone can sign. PyJWT refuses PEM keys as HMAC secrets
            # (precisely to stop this), so the broken check is written by hand here.
            pem = pem_of(v.verifier.signing_key(v.header, v.keys or v.verifier.keys))
            try:
                _hs256_matches(v, pem)
            except InvalidSignature:
                raise InvalidSignature("HS256 signature does not match (HMAC with the public key PEM)",
                                       header=v.header) from None
            return
        check_signature(v)

    check.__doc__ = f"BUG ({', '.join(sorted(flaws))}): the signature check, broken."
    return check


def _any_cognito_issuer(lab: Any):
    """BUG (ignore_issuer): any Cognito user pool is trusted, and its keys are fetched from the pool
    the token itself names, so tokens of a pool the attacker controls verify."""
    others: dict[str, CognitoVerifier] = {}

    def check(v: Verification) -> None:
        pool_id = pool_id_of_issuer(v.claims.get("iss"))
        if pool_id is None:
            raise UnknownKey(f"iss {v.claims.get('iss')!r} names no Cognito user pool", header=v.header)
        if pool_id == v.verifier.user_pool_id:
            v.keys = v.verifier.keys
            return
        other = others.get(pool_id)
        if other is None:
            try:
                other = others[pool_id] = lab.verifier(pool_id, "any")
            except ValueError as exc:
                raise UnknownKey(f"the token names no user pool of this lab ({exc})") from None
        v.keys = other.keys

    return check


def vulnerable_verifier(lab: Any, verifier: CognitoVerifier, **flags: bool) -> CognitoVerifier:
    """``verifier`` with the checks the flags name replaced by their broken versions."""
    on = {name for name, value in flags.items() if value}
    unknown = on - set(VULNERABILITIES)
    if unknown:
        raise ValueError(f"unknown vulnerable flag(s) {sorted(unknown)}; the flags are {sorted(VULNERABILITIES)}")
    replacements = {}
    if "accept_id_tokens" in on:
        replacements["token_use"] = _any_token_use
    if "ignore_expiry" in on:
        replacements["expiry"] = _no_expiry_check
    if "ignore_client" in on:
        replacements["client"] = _any_client
    if "ignore_issuer" in on:
        replacements["issuer"] = _any_cognito_issuer(lab)
    flaws = on & SIGNATURE_FLAWS
    if flaws:
        key_dir = None
        if "kid_path_traversal" in flaws:
            key_dir = tempfile.mkdtemp(prefix="labkit-api-keys-")
            with open(os.path.join(key_dir, SERVICE_KID), "wb") as handle:
                handle.write(os.urandom(32))
            lab.on_stop(lambda: shutil.rmtree(key_dir, ignore_errors=True))
        replacements["signature"] = _signature_with_flaws(flaws, key_dir)
    return verifier.replacing(**replacements)


@dataclass
class ApiResponse:
    """What :meth:`ProtectedApi.call` returns."""

    status: int
    headers: dict
    body: Any          # parsed JSON, or the text if it is not JSON

    @property
    def www_authenticate(self) -> str | None:
        return self.headers.get("WWW-Authenticate")

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def status_line(self) -> str:
        """``HTTP 401 Unauthorized``: the status code and its standard reason phrase."""
        from http import HTTPStatus

        try:
            reason = HTTPStatus(self.status).phrase
        except ValueError:
            reason = ""
        return f"HTTP {self.status} {reason}".rstrip()

    def body_text(self) -> str:
        """The body as a reader wants it: JSON indented, text as it is."""
        if isinstance(self.body, (dict, list)):
            return json.dumps(self.body, indent=2, ensure_ascii=False)
        return "" if self.body is None else str(self.body)

    def text(self) -> str:
        """Status line, the WWW-Authenticate challenge if any (it says why a token was refused), body."""
        lines = [self.status_line()]
        if self.www_authenticate:
            lines.append(f"WWW-Authenticate: {self.www_authenticate}")
        body = self.body_text()
        return "\n".join(lines + ([body] if body else []))

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        from html import escape

        colour = "#1a7f37" if self.ok else "#cf222e"
        challenge = (f"<div><code>WWW-Authenticate: {escape(self.www_authenticate)}</code></div>"
                     if self.www_authenticate else "")
        body = self.body_text()
        body_html = f"<pre style='margin:2px 0'>{escape(body)}</pre>" if body else ""
        return f"<div><b style='color:{colour}'>{escape(self.status_line())}</b>{challenge}{body_html}</div>"


class ProtectedApi:
    """A running protected API: ``.url``, ``.call(path, token)``, ``.stop()``. Stops with the lab."""

    def __init__(self, lab: Any, user_pool_id: str, client_ids: tuple[str, ...], verifier: CognitoVerifier,
                 flags: dict[str, bool], required_scopes: tuple[str, ...] | None, *,
                 route_scopes: dict[str, tuple[str, ...]] | None = None, authorizer: str = "verifier",
                 id_verifier: CognitoVerifier | None = None, revoked_sessions: Any = None,
                 ask_cognito: tuple[str, ...] = (), photos: list[dict] | None = None,
                 photo_rules: Any = None) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            """No access log: it would spill into notebook outputs."""

            def log(self, *args: Any, **kwargs: Any) -> None:
                pass

        self.lab = lab
        self.user_pool_id = user_pool_id
        self.client_ids = client_ids
        self.verifier = verifier
        self.flags = dict(flags)
        self.required_scopes = required_scopes
        self.route_scopes = dict(route_scopes or {})
        self.authorizer = authorizer
        self.id_verifier = id_verifier
        self.revoked_sessions = revoked_sessions
        self.ask_cognito = tuple(ask_cognito)
        self.photos = photos
        self.photo_rules = photo_rules
        self._idp = None
        self._stop_lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, _make_app(self), threaded=True,
                                   request_handler=QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"labkit-api-{self._server.server_port}", daemon=True)
        self._thread.start()

    def scopes_for(self, path: str) -> tuple[str, ...] | None:
        """The OAuth scopes ``path`` requires (one of them), or ``None``."""
        return self.route_scopes.get(path, self.required_scopes)

    def token_use_for(self, path: str) -> str:
        """Which token ``path`` takes: ``"access"``, or ``"id"`` on a route without scopes of an
        ``authorizer="api_gateway"`` API."""
        from .api_security import authorizer_rule

        return authorizer_rule(self.scopes_for(path)) if self.authorizer == "api_gateway" else "access"

    def routes(self) -> Table:
        """Each route: the token it takes, the scopes and group it requires, whether it asks Cognito."""
        rows = []
        for path, group in (("/hello", None), ("/me", None), ("/admin", ADMIN_GROUP), ("/photos", None)):
            if path == "/photos" and self.photos is None:
                continue
            scopes = self.scopes_for(path)
            rows.append([path, f"{self.token_use_for(path)} token", " or ".join(scopes) if scopes else "-",
                         group or "-", "yes" if path in self.ask_cognito else "no"])
        return Table(["route", "takes", "scope (one of)", "group", "asks Cognito"], rows,
                     title=f"Routes of {self.url} (authorizer={self.authorizer!r})")

    @property
    def vulnerabilities(self) -> list[str]:
        """The names of the vulnerable flags that are on (empty: the safe API)."""
        return [name for name, on in self.flags.items() if on]

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def idp(self):
        """The cognito-idp client the ``ask_cognito`` routes call GetUser with."""
        if self._idp is None:
            self._idp = self.lab.client("cognito-idp")
        return self._idp

    def stop(self) -> None:
        """Stop the server and free the port. Idempotent; the lab calls it when it stops."""
        with self._stop_lock:
            server, self._server = self._server, None
            if server is None:
                return
            server.shutdown()
            server.server_close()
            self._thread.join(timeout=10)

    def __enter__(self) -> "ProtectedApi":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def call(self, path: str, token: str | None = None, *, authorization: str | None = None,
             timeout: float = 10) -> ApiResponse:
        """GET ``path`` with ``Authorization: Bearer <token>`` (or a raw ``authorization`` header)."""
        request = urllib.request.Request(self.url + path)
        if authorization is not None:
            request.add_header("Authorization", authorization)
        elif token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, headers, raw = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            status, headers, raw = error.code, dict(error.headers), error.read()
            error.close()
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        return ApiResponse(status, headers, body)

    def __repr__(self) -> str:
        state = "" if self.running else " (stopped)"
        clients = self.client_ids[0] if len(self.client_ids) == 1 else list(self.client_ids)
        head = f"<ProtectedApi {self.url}{state} for {self.user_pool_id}, client={clients}"
        if not self.vulnerabilities:
            return head + ", SAFE: every token checked by CognitoVerifier on the lab clock>"
        flaws = "; ".join(f"{name} ({VULNERABILITIES[name]})" for name in self.vulnerabilities)
        return head + f", VULNERABLE: {flaws}>"


def _header_value(text: str) -> str:
    """RFC 6750 allows only printable ASCII without '"' and '\\' in error_description."""
    text = text.replace('"', "'").replace("\\", "/")
    return "".join(c if 0x20 <= ord(c) <= 0x7E else "?" for c in text)


def _make_app(api: ProtectedApi):
    from flask import Flask, jsonify, request

    app = Flask(f"labkit-api-{id(api)}")
    app.json.sort_keys = False

    def reject(status: int, error: str | None, description: str, reason: str, scope: str | None = None):
        challenge = 'Bearer realm="labkit"'
        if error:
            challenge += f', error="{error}", error_description="{_header_value(description)}"'
        if scope:
            challenge += f', scope="{scope}"'
        body = {"message": "Unauthorized" if status == 401 else "Forbidden", "reason": reason,
                "error_description": description}
        response = jsonify(body)
        response.status_code = status
        response.headers["WWW-Authenticate"] = challenge
        return response

    def authorize(groups: Iterable[str] | None = None):
        """(claims, None) for a good token, else (None, the 401/403 response)."""
        header = request.headers.get("Authorization", "").strip()
        path = request.path
        token_use = api.token_use_for(path)
        if not header:
            return None, reject(401, None, f"no token: send 'Authorization: Bearer <{token_use.replace('id', 'ID')} token>'",
                                "MissingToken")
        # API Gateway's Cognito authorizer takes the raw token; most clients send "Bearer <token>".
        token = header[7:].strip() if header[:7].lower() == "bearer " else header
        scopes = api.scopes_for(path)
        try:
            if token_use == "id":
                claims = api.id_verifier.verify(token)
            else:
                claims = api.verifier.verify(token)
                if scopes:
                    require_scopes(claims, scopes)
            if groups:
                require_groups(claims, groups)
            if api.revoked_sessions is not None:
                api.revoked_sessions.check(claims)
            if path in api.ask_cognito:
                from .api_security import ask_cognito

                ask_cognito(api.idp, token)
        except JwtVerificationError as error:
            status = 403 if isinstance(error, InsufficientPermissions) else 401
            description = str(error)
            if api.authorizer == "api_gateway" and isinstance(error, WrongTokenUse):
                description += (" (API Gateway's Cognito authorizer: an ID token on a method without OAuth "
                                "scopes, an access token on a method with scopes)")
            scope = " ".join(scopes) if status == 403 and scopes else None
            return None, reject(status, error.www_authenticate_error, description, type(error).__name__, scope)
        return claims, None

    def username(claims: dict) -> str | None:
        return claims.get("username") or claims.get("cognito:username")

    @app.get("/")
    def index():
        return jsonify({"routes": {"/hello": "any valid access token",
                                   "/me": "your sub, username and groups",
                                   "/admin": f"group {ADMIN_GROUP!r} required",
                                   **({"/photos": "the photos, each field only for whom it is meant"}
                                      if api.photos is not None else {}),
                                   **({"/session": "your access token for an HS256 session token"}
                                      if api.flags.get("weak_session_secret") else {})},
                        "user_pool_id": api.user_pool_id,
                        "vulnerable": {name: VULNERABILITIES[name] for name in api.vulnerabilities}})

    @app.get("/hello")
    def hello():
        claims, denied = authorize()
        if denied is not None:
            return denied
        return jsonify({"message": f"Hello, {username(claims)}!"})

    @app.get("/me")
    def me():
        claims, denied = authorize()
        if denied is not None:
            return denied
        return jsonify({"sub": claims.get("sub"), "username": username(claims),
                        "groups": claims.get("cognito:groups", []), "token_use": claims.get("token_use"),
                        "client_id": claims.get("client_id") or claims.get("aud"),
                        "scope": claims.get("scope")})

    @app.get("/session")
    def session():
        """The weak_session_secret variant's own session tokens: an access token in, an HS256 token
        with the same claims out (a pattern real backends use to avoid calling Cognito again)."""
        if not api.flags.get("weak_session_secret"):
            return jsonify({"message": "Not Found"}), 404
        claims, denied = authorize()
        if denied is not None:
            return denied
        import warnings

        import jwt as pyjwt

        with warnings.catch_warnings():      # PyJWT warns that the key is short: that is the bug here
            warnings.simplefilter("ignore")
            token = pyjwt.encode(claims, WEAK_SESSION_SECRET, algorithm="HS256", headers={"kid": SESSION_KID})
        return jsonify({"session_token": token})

    @app.get("/photos")
    def photos():
        """AppSync-style field rules: each photo with the fields this caller may read."""
        if api.photos is None:
            return jsonify({"message": "Not Found"}), 404
        claims, denied = authorize()
        if denied is not None:
            return denied
        if api.photo_rules is None:
            return jsonify(api.photos)
        return jsonify([api.photo_rules.resolve(photo, claims) for photo in api.photos])

    @app.get("/admin")
    def admin():
        claims, denied = authorize(groups=[ADMIN_GROUP])
        if denied is not None:
            return denied
        return jsonify({"message": f"Welcome to the admin area, {username(claims)}.",
                        "groups": claims.get("cognito:groups", [])})

    return app


def start_protected_api(lab: Any, *, user_pool_id: str, client_id: str | Iterable[str],
                        accept_id_tokens: bool = False, skip_signature: bool = False,
                        accept_alg_none: bool = False, trust_header_alg: bool = False,
                        ignore_expiry: bool = False, ignore_issuer: bool = False, ignore_client: bool = False,
                        trust_header_jwk: bool = False, trust_header_jku: bool = False,
                        kid_path_traversal: bool = False, weak_session_secret: bool = False,
                        required_scopes: str | Iterable[str] | None = None,
                        route_scopes: dict[str, str | Iterable[str]] | None = None,
                        authorizer: str = "verifier", revoked_sessions: Any = None,
                        ask_cognito: Iterable[str] = (), photos: Iterable[dict] | None = None,
                        photo_rules: Any = None) -> ProtectedApi:
    """Start the API for ``user_pool_id``'s tokens issued to ``client_id`` (one or a list).

    Every vulnerable flag is off by default. ``required_scopes``: tokens must carry at least one
    of these scopes (else 403), as an API Gateway method with authorization scopes does;
    ``route_scopes`` sets them per route. ``authorizer``, ``revoked_sessions``, ``ask_cognito``,
    ``photos`` and ``photo_rules``: see the module docstring.
    """
    flags = {"accept_id_tokens": accept_id_tokens, "skip_signature": skip_signature,
             "accept_alg_none": accept_alg_none, "trust_header_alg": trust_header_alg,
             "ignore_expiry": ignore_expiry, "ignore_issuer": ignore_issuer, "ignore_client": ignore_client,
             "trust_header_jwk": trust_header_jwk, "trust_header_jku": trust_header_jku,
             "kid_path_traversal": kid_path_traversal, "weak_session_secret": weak_session_secret}
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False, not {value!r}")
    client_ids = (client_id,) if isinstance(client_id, str) else tuple(client_id)
    scopes = _scope_tuple(required_scopes, "required_scopes")
    per_route = {}
    for path, value in (route_scopes or {}).items():
        if path not in ROUTES:
            raise ValueError(f"route_scopes: no route {path!r}; the routes are {', '.join(ROUTES)}")
        per_route[path] = _scope_tuple(value, f"route_scopes[{path!r}]")
    if authorizer not in ("verifier", "api_gateway"):
        raise ValueError(f'authorizer must be "verifier" or "api_gateway", not {authorizer!r}')
    ask_cognito = (ask_cognito,) if isinstance(ask_cognito, str) else tuple(ask_cognito)
    for path in ask_cognito:
        if path not in ROUTES:
            raise ValueError(f"ask_cognito: no route {path!r}; the routes are {', '.join(ROUTES)}")
    if revoked_sessions is not None and not callable(getattr(revoked_sessions, "check", None)):
        raise TypeError("revoked_sessions must be a labkit.course.api_security.RevokedSessions")
    if photo_rules is not None and not callable(getattr(photo_rules, "resolve", None)):
        raise TypeError("photo_rules must be a labkit.course.api_security.FieldRules")
    verifier = vulnerable_verifier(lab, lab.verifier(user_pool_id, client_ids, token_use="access"), **flags)
    id_verifier = None
    if authorizer == "api_gateway":
        id_verifier = vulnerable_verifier(lab, lab.verifier(user_pool_id, client_ids, token_use="id"), **flags)
    api = ProtectedApi(lab, user_pool_id, client_ids, verifier, flags, scopes, route_scopes=per_route,
                       authorizer=authorizer, id_verifier=id_verifier, revoked_sessions=revoked_sessions,
                       ask_cognito=ask_cognito, photos=None if photos is None else [dict(p) for p in photos],
                       photo_rules=photo_rules)
    lab.on_stop(api.stop)
    return api
