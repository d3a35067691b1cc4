"""A protected HTTP API on 127.0.0.1, like API Gateway with a Cognito authorizer in front.

    >>> api = lab.protected_api(pool_id, client_id)                  # doctest: +SKIP
    >>> api.call("/hello", tokens["AccessToken"])                     # doctest: +SKIP
    <ApiResponse 200 {'message': 'Hello, alice!'}>

Routes
------
``GET /hello``  any valid access token.
``GET /me``     JSON with the caller's ``sub``, ``username`` and ``groups``.
``GET /admin``  requires the group ``admin`` (else 403).
``GET /``       lists the routes and which checks are switched off (no token needed).

A missing, invalid or expired token gets **401** with
``WWW-Authenticate: Bearer error="invalid_token", error_description="…why…"``; a valid token that
lacks the group or scope gets **403** (``error="insufficient_scope"``). A request with no token at
all gets 401 with a bare ``Bearer`` challenge, as RFC 6750 §3.1 asks.

By default the API checks tokens with :class:`labkit.tokens.CognitoVerifier` on the lab clock.
For the security lessons each classic verification mistake can be switched on with one named
flag (all off by default); ``repr(api)`` says which are on:

========================== =====================================================================
``accept_id_tokens``       ID tokens are accepted like access tokens
``skip_signature``         the signature is never checked (tampered payloads pass)
``accept_alg_none``        unsigned tokens (``alg: none``) are accepted
``trust_header_alg``       the token's header picks the algorithm: HS256 is checked with the
                           pool's public key (PEM) as the HMAC secret (key confusion)
``ignore_expiry``          ``exp`` is not checked
``ignore_issuer_and_client`` any user pool's and any app client's tokens are accepted
========================== =====================================================================
"""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Iterable

import jwt
from jwt.utils import base64url_decode

from .tokens import (
    ALGORITHM,
    CognitoVerifier,
    InvalidSignature,
    JwtVerificationError,
    MalformedToken,
    UnknownKey,
    require_groups,
    require_scopes,
)

__all__ = ["start_protected_api", "ProtectedApi", "ApiResponse", "VULNERABILITIES"]

#: Every vulnerable flag and the mistake it reproduces.
VULNERABILITIES: dict[str, str] = {
    "accept_id_tokens": "accepts ID tokens as if they were access tokens",
    "skip_signature": "never checks the signature, so edited tokens pass",
    "accept_alg_none": "accepts unsigned tokens (alg none)",
    "trust_header_alg": "lets the token header choose the algorithm (HS256 checked with the public key as secret)",
    "ignore_expiry": "accepts expired tokens",
    "ignore_issuer_and_client": "accepts tokens of any user pool and any app client",
}

ADMIN_GROUP = "admin"


class _VulnerableVerifier(CognitoVerifier):
    """CognitoVerifier with some of its checks deliberately broken, one flag per mistake.

    Each override below is the bug a real API might ship; the comment says which flag it is.
    """

    def __init__(self, lab: Any, flags: dict[str, bool], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lab = lab
        self.flags = dict(flags)
        self._other_pools: dict[str, CognitoVerifier] = {}

    def __repr__(self) -> str:
        on = [name for name, value in self.flags.items() if value]
        return super().__repr__()[:-1] + f", VULNERABLE: {', '.join(on)}>"

    # accept_alg_none / trust_header_alg: the allow-list grows beyond RS256.
    def _check_algorithm(self, header: dict) -> None:
        allowed = {ALGORITHM}
        if self.flags["accept_alg_none"]:
            allowed.add("none")
        if self.flags["trust_header_alg"]:
            allowed.add("HS256")
        if header.get("alg") not in allowed:
            super()._check_algorithm(header)

    def _signing_key(self, token: str, header: dict) -> Any:
        if self.flags["skip_signature"] or header.get("alg") == "none":
            return None       # BUG (skip_signature / accept_alg_none): no key, no check
        if self.flags["ignore_issuer_and_client"]:
            # BUG: "any Cognito token is fine": the key comes from whichever pool the token names.
            pool_id = _pool_named_by(token)
            if pool_id and pool_id != self.user_pool_id:
                other = self._other_pools.get(pool_id)
                if other is None:
                    try:
                        other = CognitoVerifier(pool_id, client_id="any", jwks_url=self.lab.jwks_url(pool_id),
                                                clock=self.clock)
                    except ValueError as exc:
                        raise UnknownKey(f"the token names no user pool of this lab ({exc})") from None
                    self._other_pools[pool_id] = other
                return other._signing_key(token, header)
        return super()._signing_key(token, header)

    def _check_signature(self, token: str, header: dict, key: Any) -> dict:
        if key is None:       # BUG (skip_signature / accept_alg_none): read the claims, believe them
            return _read_claims_unverified(token, header)
        if header.get("alg") == "HS256":
            # BUG (trust_header_alg): the header said HS256, so "the key" is used as an HMAC secret.
            # The key a Cognito API holds is the pool's RSA *public* key, which anyone can download;
            # as PEM text it becomes the HMAC secret, so anyone can sign. PyJWT refuses PEM keys as
            # HMAC secrets (precisely to stop this), so the broken check is written by hand here.
            from cryptography.hazmat.primitives import serialization

            pem = key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)
            signing_input, _, signature_b64 = token.rpartition(".")
            expected = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
            try:
                signature = base64url_decode(signature_b64)
            except ValueError:
                signature = b""
            if not hmac.compare_digest(expected, signature):
                raise InvalidSignature("HS256 signature does not match (HMAC with the public key PEM)",
                                       header=header)
            return _read_claims_unverified(token, header)
        return super()._check_signature(token, header, key)

    def _check_issuer(self, claims: dict, header: dict) -> None:
        if not self.flags["ignore_issuer_and_client"]:   # BUG when set: any pool's token will do
            super()._check_issuer(claims, header)

    def _check_client(self, claims: dict, header: dict) -> None:
        if not self.flags["ignore_issuer_and_client"]:   # BUG when set: any app client's token will do
            super()._check_client(claims, header)

    def _check_token_use(self, claims: dict, header: dict) -> None:
        if self.flags["accept_id_tokens"] and claims.get("token_use") in ("id", "access"):
            return                                       # BUG: an ID token is not for APIs
        super()._check_token_use(claims, header)

    def _check_expiry(self, claims: dict, header: dict) -> None:
        if not self.flags["ignore_expiry"]:              # BUG when set: tokens live forever
            super()._check_expiry(claims, header)


def _read_claims_unverified(token: str, header: dict) -> dict:
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise MalformedToken(f"could not decode the token ({exc})", header=header) from None
    if not isinstance(claims, dict):
        raise MalformedToken("the payload is not a JSON object", header=header)
    return claims


def _pool_named_by(token: str) -> str | None:
    try:
        iss = jwt.decode(token, options={"verify_signature": False}).get("iss", "")
    except jwt.PyJWTError:
        return None
    prefix, _, pool_id = str(iss).rpartition("/")
    if not prefix.startswith("https://cognito-idp.") or "_" not in pool_id:
        return None
    return pool_id


@dataclass
class ApiResponse:
    """What :meth:`ProtectedApi.call` returns."""

    status: int
    headers: dict
    body: Any          # parsed JSON, or the text if it is not JSON

    @property
    def www_authenticate(self) -> str | None:
        return self.headers.get("WWW-Authenticate")

    def __repr__(self) -> str:
        return f"<ApiResponse {self.status} {self.body!r}>"


class ProtectedApi:
    """A running protected API: ``.url``, ``.call(path, token)``, ``.stop()``. Stops with the lab."""

    def __init__(self, lab: Any, user_pool_id: str, client_ids: tuple[str, ...], verifier: CognitoVerifier,
                 flags: dict[str, bool], required_scopes: tuple[str, ...] | None) -> None:
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
        self._stop_lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, _make_app(self), threaded=True,
                                   request_handler=QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"labkit-api-{self._server.server_port}", daemon=True)
        self._thread.start()

    @property
    def vulnerabilities(self) -> list[str]:
        """The names of the vulnerable flags that are on (empty: the safe API)."""
        return [name for name, on in self.flags.items() if on]

    @property
    def running(self) -> bool:
        return self._server is not None

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
        if not header:
            return None, reject(401, None, "no token: send 'Authorization: Bearer <access token>'",
                                "MissingToken")
        # API Gateway's Cognito authorizer takes the raw token; most clients send "Bearer <token>".
        token = header[7:].strip() if header[:7].lower() == "bearer " else header
        try:
            claims = api.verifier.verify(token)
            if api.required_scopes:
                require_scopes(claims, api.required_scopes)
            if groups:
                require_groups(claims, groups)
        except JwtVerificationError as error:
            status = 403 if error.www_authenticate_error == "insufficient_scope" else 401
            scope = " ".join(api.required_scopes) if status == 403 and api.required_scopes else None
            return None, reject(status, error.www_authenticate_error, str(error), type(error).__name__,
                                scope)
        return claims, None

    def username(claims: dict) -> str | None:
        return claims.get("username") or claims.get("cognito:username")

    @app.get("/")
    def index():
        return jsonify({"routes": {"/hello": "any valid access token",
                                   "/me": "your sub, username and groups",
                                   "/admin": f"group {ADMIN_GROUP!r} required"},
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
                        ignore_expiry: bool = False, ignore_issuer_and_client: bool = False,
                        required_scopes: str | Iterable[str] | None = None) -> ProtectedApi:
    """Start the API for ``user_pool_id``'s tokens issued to ``client_id`` (one or a list).

    Every vulnerable flag is off by default. ``required_scopes``: tokens must carry at least one
    of these scopes (else 403), as an API Gateway method with authorization scopes does.
    """
    flags = {"accept_id_tokens": accept_id_tokens, "skip_signature": skip_signature,
             "accept_alg_none": accept_alg_none, "trust_header_alg": trust_header_alg,
             "ignore_expiry": ignore_expiry, "ignore_issuer_and_client": ignore_issuer_and_client}
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False, not {value!r}")
    client_ids = (client_id,) if isinstance(client_id, str) else tuple(client_id)
    scopes = None
    if required_scopes is not None:
        scopes = (required_scopes,) if isinstance(required_scopes, str) else tuple(required_scopes)
    options = dict(user_pool_id=user_pool_id, client_id=client_ids, token_use="access",
                   jwks_url=lab.jwks_url(user_pool_id), clock=lab.clock)
    verifier = (_VulnerableVerifier(lab, flags, **options) if any(flags.values())
                else CognitoVerifier(**options))
    api = ProtectedApi(lab, user_pool_id, client_ids, verifier, flags, scopes)
    lab.on_stop(api.stop)
    return api
