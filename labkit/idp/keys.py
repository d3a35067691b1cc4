"""Per-pool signing keys, token lifetimes and token minting.

On AWS every user pool has its own RSA key pairs (one for ID tokens, one for access tokens); the public half is published at
``https://cognito-idp.{region}.amazonaws.com/{pool_id}/.well-known/jwks.json`` and each token's
header names its key by ``kid``. Raw moto signs every pool's tokens with one static key
(``kid: dummy``), so a token of pool A would verify against pool B: here each pool gets its own.
"""
from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from .errors import invalid_parameter

# Units and ranges of app client token validity (API_TokenValidityUnitsType, CreateUserPoolClient).
UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
DEFAULT_UNITS = {"AccessToken": "hours", "IdToken": "hours", "RefreshToken": "days"}
DEFAULT_VALUES = {"AccessToken": 1, "IdToken": 1, "RefreshToken": 30}   # 60 min, 60 min, 30 days
RANGES = {   # seconds: (min, max)
    "AccessToken": (5 * 60, 86400),
    "IdToken": (5 * 60, 86400),
    "RefreshToken": (60 * 60, 10 * 365 * 86400),
}
_CONFIG_KEY = {"AccessToken": "AccessTokenValidity", "IdToken": "IdTokenValidity",
               "RefreshToken": "RefreshTokenValidity"}


def token_validity_seconds(client_config: dict, kind: str) -> int:
    """Lifetime in seconds of ``kind`` ("AccessToken" | "IdToken" | "RefreshToken") for a client.

    A value without units uses Cognito's default units (hours for access and ID tokens, days for
    refresh tokens); no value at all means the default lifetime (60 min, 60 min, 30 days).
    """
    value = client_config.get(_CONFIG_KEY[kind])
    if value is None:
        return DEFAULT_VALUES[kind] * UNIT_SECONDS[DEFAULT_UNITS[kind]]
    units = (client_config.get("TokenValidityUnits") or {}).get(kind) or DEFAULT_UNITS[kind]
    if units not in UNIT_SECONDS:
        raise invalid_parameter(
            f"TokenValidityUnits.{kind} must be one of seconds, minutes, hours or days, not {units!r}.")
    return int(value) * UNIT_SECONDS[units]


def validate_token_validity(client_config: dict) -> None:
    """Refuse lifetimes outside Cognito's ranges, as CreateUserPoolClient/UpdateUserPoolClient do."""
    for kind, (low, high) in RANGES.items():
        seconds = token_validity_seconds(client_config, kind)
        if not low <= seconds <= high:
            raise invalid_parameter(
                f"Invalid range for token validity: {_CONFIG_KEY[kind]} must be between "
                f"{_human(low)} and {_human(high)}; this client asks for {_human(seconds)}.")


def _human(seconds: int) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit[:-1] if n == 1 else unit}"
    return f"{seconds} seconds"


@dataclass
class PoolSigningKey:
    """One user pool's RSA key pair. ``kid`` is a thumbprint of the public key."""

    private_key: rsa.RSAPrivateKey
    kid: str
    public_jwk: dict = field(repr=False)

    @classmethod
    def generate(cls) -> "PoolSigningKey":
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
        # RFC 7638 thumbprint: sha256 over the required members in lexicographic order.
        canonical = json.dumps({k: public_jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
        kid = base64.b64encode(hashlib.sha256(canonical.encode()).digest()).decode()
        public_jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
        return cls(private_key=private_key, kid=kid, public_jwk=public_jwk)

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
