"""RSA signing keys and their JWKs: one way to make them, for user pools and identity pools.

On AWS every user pool has its own RSA key pairs (one for ID tokens, one for access tokens); the
public halves are published at ``https://cognito-idp.{region}.amazonaws.com/{pool_id}/.well-known/jwks.json``
and each token's header names its key by ``kid``. Raw moto signs every pool's tokens with one
static key (``kid: dummy``), whose private half ships with moto, so a token of pool A would verify
against pool B: the lab gives each pool keys of its own.
"""
from __future__ import annotations

import base64
import hashlib
import json
import queue
import threading
from dataclasses import dataclass, field

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["new_rsa_key", "prefetch_keys", "public_jwk", "thumbprint", "PoolSigningKey", "KeyRing"]

# Generating a 2048-bit key takes ~70 ms, and the first sign-in of a new pool needs two. OpenSSL
# releases the GIL while it works, so a background thread can make them while the lab starts
# (importing moto holds the other core for ~0.4 s): the learner's first token does not wait.
_spare_keys: "queue.SimpleQueue[rsa.RSAPrivateKey]" = queue.SimpleQueue()
_prefetch_lock = threading.Lock()
_prefetching = 0


def _generate() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def prefetch_keys(count: int = 2) -> None:
    """Make up to ``count`` spare keys in a background thread (keys are random, never reused)."""
    global _prefetching
    with _prefetch_lock:
        wanted = count - _spare_keys.qsize() - _prefetching
        if wanted <= 0:
            return
        _prefetching += wanted

    def work() -> None:
        global _prefetching
        for _ in range(wanted):
            key = _generate()
            with _prefetch_lock:
                _prefetching -= 1
            _spare_keys.put(key)

    threading.Thread(target=work, name="labkit-keygen", daemon=True).start()


def new_rsa_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit RSA key (e = 65537), as Cognito uses for RS256: a spare one if ready."""
    try:
        return _spare_keys.get_nowait()
    except queue.Empty:
        return _generate()


def thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """RFC 7638 thumbprint: SHA-256 over the required members (e, kty, n) in lexicographic order."""
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public_key, as_dict=True)
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
    return base64.b64encode(hashlib.sha256(canonical.encode()).digest()).decode()


def public_jwk(private_key: rsa.RSAPrivateKey, kid: str) -> dict:
    """The public JWK of ``private_key`` as a JWKS lists it: ``kid``, ``alg`` RS256, ``use`` sig."""
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return jwk


@dataclass
class PoolSigningKey:
    """One RSA key pair of a user pool. ``kid`` is the RFC 7638 thumbprint of the public key."""

    private_key: rsa.RSAPrivateKey
    kid: str
    public_jwk: dict = field(repr=False)

    @classmethod
    def generate(cls) -> "PoolSigningKey":
        private_key = new_rsa_key()
        kid = thumbprint(private_key.public_key())
        return cls(private_key=private_key, kid=kid, public_jwk=public_jwk(private_key, kid))

    def sign(self, claims: dict) -> str:
        # Cognito's header carries only kid and alg (PyJWT would add typ).
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid, "typ": None})


class KeyRing:
    """The signing keys of each user pool, made on first use (RSA key generation takes ~50 ms).

    Like AWS, each pool has two key pairs in its JWKS: one signs ID tokens, the other access
    tokens, so the two tokens of one sign-in carry different ``kid``s.
    """

    USES = ("id", "access")

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str], PoolSigningKey] = {}
        self._lock = threading.Lock()

    def key_for(self, pool_id: str, token_use: str) -> PoolSigningKey:
        if token_use not in self.USES:
            raise ValueError(f"token_use must be 'id' or 'access', not {token_use!r}")
        with self._lock:
            key = self._keys.get((pool_id, token_use))
            if key is None:
                key = self._keys[(pool_id, token_use)] = PoolSigningKey.generate()
            return key

    def jwks(self, pool_id: str) -> dict:
        return {"keys": [dict(self.key_for(pool_id, use).public_jwk) for use in self.USES]}

    def forget(self, pool_id: str) -> None:
        with self._lock:
            for use in self.USES:
                self._keys.pop((pool_id, use), None)
