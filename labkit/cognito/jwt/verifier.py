"""Verify Cognito user-pool JWTs the way a backend must: :class:`CognitoVerifier`.

Modelled on awslabs' ``aws-jwt-verify``: one verifier per user pool, keys from the pool's JWKS
(fetched once and cached, one rate-limited refetch for an unknown ``kid``), and each check explicit
and named. ``verifier.checks`` lists them in the order they run::

    header      the token is three base64url parts of JSON               MalformedToken
    issuer      iss is this user pool (read first: it says whose keys)    WrongIssuer
    signature   alg is RS256, the kid is a key of the pool, the RS256     AlgorithmNotAllowed, UnknownKey,
                signature holds                                           JwksUnavailable, InvalidSignature
    token_use   "access" (or "id", as configured)                         WrongTokenUse
    client      client_id (access) / aud (id) is an allowed app client    WrongClient
    expiry      exp has not passed, on the clock and in real time         TokenExpired
    issued_at   iat / nbf are not in the future                           TokenNotYetValid
    groups      cognito:groups holds a required group (if configured)     MissingGroup
    scopes      scope holds a required scope (if configured)              MissingScope

Each check is a public function of one :class:`Verification` (the token on its way through);
:meth:`CognitoVerifier.replacing` builds a verifier with some of them swapped, by name, which is
how :mod:`labkit.course.api` builds its deliberately vulnerable variants: a name that does not
exist is an error, so a renamed check cannot silently turn a variant into the safe verifier.

Where the keys come from is the caller's choice: ``jwks_url=`` (the lab's: ``lab.verifier(...)``
or :meth:`CognitoVerifier.for_lab`), ``jwks=`` (a JWKS document you already hold: nothing is
fetched, as aws-jwt-verify's ``cacheJwks``), or by default AWS's own URL for the pool.

The signature math and JWKS fetching are PyJWT's (its RS256 algorithm, ``PyJWKClient``); this
module parses the token once, adds the Cognito rules on top and says, in words, which one a token
broke.
"""
from __future__ import annotations

import copy
import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import jwt
from jwt import PyJWKClient
from jwt.exceptions import (
    PyJWKClientConnectionError,
    PyJWKClientError,
    PyJWKError,
    PyJWKSetError,
)
from jwt.utils import base64url_decode

from ..durations import duration, utc
from .errors import (
    AlgorithmNotAllowed,
    InvalidSignature,
    JwksUnavailable,
    MalformedToken,
    MissingGroup,
    MissingScope,
    TokenExpired,
    TokenNotYetValid,
    UnknownKey,
    WrongClient,
    WrongIssuer,
    WrongTokenUse,
)
from .issuers import ALGORITHM, REAL_TIME, Clock, issuer_for, jwks_url_for, region_of

__all__ = ["CognitoVerifier", "Verification", "Check", "JwksKeys", "CHECKS", "require_groups",
           "require_scopes", "check_header", "check_issuer", "check_signature", "check_token_use",
           "check_client", "check_expiry", "check_issued_at", "check_groups", "check_scopes",
           "read_claims_unverified"]


# ---------------------------------------------------------------------------------------------
# The pool's keys: fetched from a URL (cached, counted) and/or handed over as a document
# ---------------------------------------------------------------------------------------------
class _CountingJwksClient(PyJWKClient):
    """PyJWKClient that counts its fetches and remembers (on the verifier's clock) the last one."""

    def __init__(self, uri: str, clock: Clock, **kwargs: Any) -> None:
        super().__init__(uri, **kwargs)
        self.clock = clock
        self.fetches = 0
        self.last_fetch: float | None = None

    def fetch_data(self) -> Any:
        data = super().fetch_data()
        self.fetches += 1
        self.last_fetch = self.clock.time()
        return data


class JwksKeys:
    """The RSA signing keys of one user pool, by ``kid``.

    ``url``: fetched on first use and cached (``lifespan`` seconds); ``document``: a JWKS you
    already hold, used without any fetch (a ``url`` as well lets an unknown ``kid`` refetch).
    """

    def __init__(self, url: str | None, clock: Clock, *, document: Mapping | None = None,
                 cache: bool = True, lifespan: float = 300.0, timeout: float = 10.0, ssl_context=None) -> None:
        if url is None and document is None:
            raise ValueError("JwksKeys needs a JWKS url or a JWKS document")
        self.url = url
        self._client = (_CountingJwksClient(url, clock, cache_jwk_set=cache, lifespan=lifespan, timeout=timeout,
                                            ssl_context=ssl_context) if url else None)
        self._document = _usable_keys(_jwk_set(document, "the JWKS document")) if document is not None else None
        self._last_set: Any = None
        self._last_keys: dict[str, Any] = {}

    @property
    def fetches(self) -> int:
        """How many times the JWKS has been fetched over HTTP."""
        return self._client.fetches if self._client else 0

    @property
    def last_fetch(self) -> float | None:
        return self._client.last_fetch if self._client else None

    @property
    def can_refetch(self) -> bool:
        return self._client is not None

    def keys(self, *, refresh: bool = False) -> dict[str, Any]:
        """``{kid: public key}``; ``refresh=True`` fetches the URL again."""
        if self._document is not None and not refresh:
            return self._document
        try:
            jwk_set = self._client.get_jwk_set(refresh=refresh)
        except PyJWKClientConnectionError as exc:
            hint = (" (offline, or in the lab? Use lab.verifier(pool_id, client_id), or pass jwks_url= "
                    "or jwks=)" if ".amazonaws.com/" in self.url else "")
            raise JwksUnavailable(f"could not fetch {self.url} ({exc}){hint}") from None
        except (PyJWKClientError, PyJWKSetError, PyJWKError) as exc:
            raise JwksUnavailable(f"{self.url} did not return a usable JWKS ({exc})") from None
        if jwk_set is not self._last_set:      # PyJWKClient hands back its cached set: convert it once
            self._last_set, self._last_keys = jwk_set, _usable_keys(jwk_set)
        if self._document is not None:
            self._document = self._last_keys    # a fresher copy of the keys you handed over
        return self._last_keys

    def __repr__(self) -> str:
        if self._client is None:
            return f"<JwksKeys from a document: {len(self._document)} key(s)>"
        return f"<JwksKeys {self.url} (fetched {self.fetches}x)>"


def _jwk_set(document: Any, what: str) -> jwt.PyJWKSet:
    if isinstance(document, (str, bytes)):
        document = json.loads(document)
    try:
        return jwt.PyJWKSet.from_dict(dict(document))
    except (PyJWKSetError, PyJWKError, TypeError, ValueError) as exc:
        raise ValueError(f"{what} is not a usable JWKS ({exc})") from None


def _usable_keys(jwk_set: jwt.PyJWKSet) -> dict[str, Any]:
    # Only RSA signing keys can verify RS256.
    return {k.key_id: k.key for k in jwk_set.keys
            if k.key_id and k.public_key_use in ("sig", None) and k.key_type == "RSA"}


# ---------------------------------------------------------------------------------------------
# One token on its way through the checks
# ---------------------------------------------------------------------------------------------
@dataclass
class Verification:
    """What the checks have established so far about one token.

    ``claims`` are read by the header check, *unverified* (the issuer check needs ``iss`` to know
    whose keys to use); the signature check then proves them (``signature_verified``). ``keys``: whose keys the signature is checked with (chosen by the
    issuer check; the verifier's own by default).
    """

    token: str
    verifier: "CognitoVerifier"
    header: dict | None = None
    claims: dict | None = None
    signature_verified: bool = False
    keys: JwksKeys | None = None


Check = Callable[[Verification], None]


def check_header(v: Verification) -> None:
    """MalformedToken unless the token is three base64url parts whose header and payload are JSON objects."""
    token = v.token
    if isinstance(token, bytes):
        token = v.token = token.decode("ascii", "replace")
    if not isinstance(token, str) or not token:
        raise MalformedToken("expected a JWT string (header.payload.signature)")
    if token.count(".") != 2:
        raise MalformedToken(f"a JWT has 3 dot-separated parts, this has {token.count('.') + 1}"
                             + (" (a refresh token or an AWS key is not an API credential)"
                                if token.count(".") in (0, 4) else ""))
    try:
        header = json.loads(base64url_decode(token.split(".", 1)[0]))
    except (ValueError, TypeError) as exc:
        raise MalformedToken(f"the header is not base64url-encoded JSON ({exc})") from None
    if not isinstance(header, dict):
        raise MalformedToken("the header is not a JSON object")
    try:
        claims = json.loads(base64url_decode(token.split(".", 2)[1]))
    except (ValueError, TypeError) as exc:
        raise MalformedToken(f"the payload is not base64url-encoded JSON ({exc})", header=header) from None
    if not isinstance(claims, dict):
        raise MalformedToken("the payload is not a JSON object", header=header)
    v.header, v.claims = header, claims


def check_issuer(v: Verification) -> None:
    """WrongIssuer unless ``iss`` is this pool. Read before the signature (as aws-jwt-verify does):
    the issuer says whose keys to check with, and a token of another issuer must not make the
    verifier fetch anything. The signature check then proves the issuer."""
    expected = v.verifier.issuer
    iss = v.claims.get("iss")
    if iss != expected:
        raise WrongIssuer(f"iss is {iss!r}, expected {expected} (a token from another issuer: its key is "
                          "not in this pool's JWKS)", claim="iss", expected=expected, actual=iss,
                          header=v.header, claims=v.claims)
    v.keys = v.verifier.keys


def check_signature(v: Verification) -> None:
    """AlgorithmNotAllowed unless ``alg`` is RS256 (the token never chooses: checked before any key
    is looked up); UnknownKey / JwksUnavailable unless ``kid`` is a key of the pool; InvalidSignature
    unless the RS256 signature matches. On success the claims read by ``check_header`` are proven
    (``signature_verified``)."""
    alg = v.header.get("alg")
    if alg != ALGORITHM:
        hint = {"none": "an unsigned token: anyone could have written it",
                "HS256": "HS256 uses a shared secret; Cognito never signs user-pool tokens with one. "
                         "A classic forgery uses the public key as that secret."}.get(str(alg), "")
        raise AlgorithmNotAllowed(f"alg is {alg!r}, only RS256 is accepted" + (f" ({hint})" if hint else ""),
                                  header=v.header)
    key = v.verifier.signing_key(v.header, v.keys or v.verifier.keys)
    signing_input, _, signature_b64 = v.token.rpartition(".")
    try:
        signature = base64url_decode(signature_b64)
    except (ValueError, TypeError) as exc:
        raise MalformedToken(f"the signature is not base64url ({exc})", header=v.header) from None
    # PyJWT's RS256 (RSASSA-PKCS1-v1_5 with SHA-256) over header.payload, as the JWS spec defines it;
    # the header and payload were parsed by check_header, so they are not parsed twice.
    if not _RS256.verify(signing_input.encode(), key, signature):
        raise InvalidSignature("the signature does not match the header and payload under the "
                               f"pool's key {v.header.get('kid')!r}: the token was altered or forged",
                               header=v.header, claims=v.claims)
    v.signature_verified = True


def check_token_use(v: Verification) -> None:
    """WrongTokenUse unless ``token_use`` is the configured one."""
    expected, use = v.verifier.token_use, v.claims.get("token_use")
    if use != expected:
        why = (" (an ID token says who the user is, for the app; APIs take access tokens)"
               if use == "id" and expected == "access" else "")
        raise WrongTokenUse(f"token_use is {use!r}, expected {expected!r}{why}", claim="token_use",
                            expected=expected, actual=use, header=v.header, claims=v.claims)


def check_client(v: Verification) -> None:
    """WrongClient unless ``client_id`` (access token) / ``aud`` (ID token) is an allowed app client."""
    allowed = v.verifier.client_ids
    field = "aud" if v.claims.get("token_use") == "id" else "client_id"
    value = v.claims.get(field)
    values = value if isinstance(value, list) else [value]
    if not any(x in allowed for x in values):
        shown = allowed[0] if len(allowed) == 1 else f"one of {list(allowed)}"
        raise WrongClient(f"{field} is {value!r}, expected {shown} (a token issued to another app client)",
                          claim=field, expected=list(allowed), actual=value, header=v.header, claims=v.claims)


def check_expiry(v: Verification) -> None:
    """TokenExpired once ``exp`` has passed on the verifier's clock or in real time (plus leeway)."""
    exp = _numeric_claim(v, "exp")
    for clock_name, now in (("on the verifier's clock", v.verifier.clock.time()), ("in real time", time.time())):
        if now >= exp + v.verifier.leeway:
            raise TokenExpired(f"exp is {utc(exp)}, {duration(now - exp)} ago {clock_name}", claim="exp",
                               expected=f"after {utc(now - v.verifier.leeway)}", actual=exp,
                               header=v.header, claims=v.claims)


def check_issued_at(v: Verification) -> None:
    """TokenNotYetValid if ``iat`` or ``nbf`` lies in the future (beyond the leeway)."""
    now = v.verifier.clock.time()
    for name in ("iat", "nbf"):
        if name == "nbf" and name not in v.claims:
            continue
        value = _numeric_claim(v, name)
        if value > now + v.verifier.leeway:
            raise TokenNotYetValid(f"{name} is {utc(value)}, {duration(value - now)} in the future "
                                   "on the verifier's clock", claim=name, expected=f"before {utc(now)}",
                                   actual=value, header=v.header, claims=v.claims)


def check_groups(v: Verification) -> None:
    """MissingGroup unless ``cognito:groups`` holds one of the verifier's ``groups`` (if it has any)."""
    if v.verifier.groups:
        require_groups(v.claims, v.verifier.groups)


def check_scopes(v: Verification) -> None:
    """MissingScope unless ``scope`` holds one of the verifier's ``scopes`` (if it has any)."""
    if v.verifier.scopes:
        require_scopes(v.claims, v.verifier.scopes)


#: The checks every CognitoVerifier runs, in order.
CHECKS: dict[str, Check] = {
    "header": check_header, "issuer": check_issuer, "signature": check_signature,
    "token_use": check_token_use, "client": check_client, "expiry": check_expiry,
    "issued_at": check_issued_at, "groups": check_groups, "scopes": check_scopes,
}


def _as_tuple(value: str | Iterable[str] | None, what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    values = tuple(value)
    if not values or not all(isinstance(x, str) for x in values):
        raise ValueError(f"{what} must be a string or a non-empty list of strings")
    return values


def require_groups(claims: dict, groups: str | Iterable[str]) -> None:
    """Raise :class:`MissingGroup` unless ``cognito:groups`` holds at least one of ``groups``."""
    wanted = _as_tuple(groups, "groups") or ()
    have = claims.get("cognito:groups") or []
    if isinstance(have, str):
        have = [have]
    if not any(g in have for g in wanted):
        raise MissingGroup(f"requires group {' or '.join(wanted)}; the token's cognito:groups is "
                           f"{list(have) or 'empty'}", claim="cognito:groups", expected=list(wanted),
                           actual=list(have), claims=claims)


def require_scopes(claims: dict, scopes: str | Iterable[str]) -> None:
    """Raise :class:`MissingScope` unless the ``scope`` claim holds at least one of ``scopes``."""
    wanted = _as_tuple(scopes, "scopes") or ()
    have = str(claims.get("scope") or "").split()
    if not any(s in have for s in wanted):
        raise MissingScope(f"requires scope {' or '.join(wanted)}; the token's scope is "
                           f"{' '.join(have) or 'empty'}", claim="scope", expected=list(wanted),
                           actual=claims.get("scope"), claims=claims)


_RS256 = jwt.algorithms.RSAAlgorithm(jwt.algorithms.RSAAlgorithm.SHA256)


class CognitoVerifier:
    """Verify Cognito user-pool JWTs the way a backend must (cf. awslabs ``aws-jwt-verify``).

    Parameters
    ----------
    user_pool_id:
        The pool whose tokens you accept; the expected ``iss`` and the region come from it.
    client_id:
        An app client id, or a list of them: the access token's ``client_id`` / ID token's ``aud``
        must be one of these.
    token_use:
        ``"access"`` (what APIs should accept) or ``"id"``.
    jwks_url:
        Where the pool's public keys are; default AWS's URL ``{issuer}/.well-known/jwks.json``.
        In the lab use ``lab.verifier(pool_id, client_id)`` (or :meth:`for_lab`).
    jwks:
        A JWKS document (dict or JSON text) you already hold: used without fetching anything.
        With ``jwks_url`` as well, an unknown ``kid`` may still refetch from the URL.
    clock:
        Anything with ``.time()``; default real time. ``exp`` must not have passed on this clock
        *nor* on real time.
    groups, scopes:
        Optional: the token must carry at least one of these groups (``cognito:groups``) /
        scopes (``scope``).
    leeway:
        Seconds of clock skew tolerated for ``exp``, ``iat`` and ``nbf`` (default 5).
    refetch_interval:
        An unknown ``kid`` refetches the JWKS once, but at most once per this many seconds on
        ``clock`` (default 10, as aws-jwt-verify), so junk tokens cannot cause a fetch storm.
    cache_jwks:
        Keep the fetched JWKS (for ``jwks_lifespan`` seconds, default 300). ``False`` fetches it
        for every token: only the benchmark wants that.
    ssl_context:
        The ``ssl.SSLContext`` the JWKS fetch uses (an https lab's: ``lab.verifier`` passes it).

    ``verify(token)`` returns the claims or raises a
    :class:`~labkit.cognito.jwt.errors.JwtVerificationError` subclass.
    """

    def __init__(self, user_pool_id: str, client_id: str | Iterable[str], token_use: str = "access",
                 jwks_url: str | None = None, clock: Clock | None = None,
                 groups: str | Iterable[str] | None = None, scopes: str | Iterable[str] | None = None,
                 leeway: float = 5.0, *, jwks: Mapping | str | None = None, refetch_interval: float = 10.0,
                 cache_jwks: bool = True, jwks_lifespan: float = 300.0, jwks_timeout: float = 10.0,
                 ssl_context=None) -> None:
        if token_use not in ("access", "id"):
            raise ValueError(f'token_use must be "access" or "id", not {token_use!r}')
        if leeway < 0 or refetch_interval < 0:
            raise ValueError("leeway and refetch_interval must be >= 0")
        self.user_pool_id = user_pool_id
        self.region = region_of(user_pool_id)
        self.issuer = issuer_for(user_pool_id)
        self.client_ids = _as_tuple(client_id, "client_id")
        if not self.client_ids:
            raise ValueError("client_id is required: the app client id(s) whose tokens you accept")
        self.token_use = token_use
        self.jwks_url = jwks_url or (None if jwks is not None else jwks_url_for(user_pool_id))
        self.clock: Clock = clock or REAL_TIME
        self.groups = _as_tuple(groups, "groups")
        self.scopes = _as_tuple(scopes, "scopes")
        self.leeway = float(leeway)
        self.refetch_interval = float(refetch_interval)
        self.keys = JwksKeys(self.jwks_url, self.clock, document=jwks, cache=cache_jwks,
                             lifespan=jwks_lifespan, timeout=jwks_timeout, ssl_context=ssl_context)
        self.checks: dict[str, Check] = dict(CHECKS)
        self._lock = threading.Lock()

    @classmethod
    def for_lab(cls, lab: Any, user_pool_id: str, client_id: str | Iterable[str], **options: Any
                ) -> "CognitoVerifier":
        """A verifier for a lab pool: its JWKS URL on the lab and the lab's clock (``lab.verifier``)."""
        options.setdefault("jwks_url", lab.jwks_url(user_pool_id))
        options.setdefault("clock", lab.clock)
        if getattr(lab, "ssl_context", None) is not None:      # an https lab: trust its own CA
            options.setdefault("ssl_context", lab.ssl_context)
        return cls(user_pool_id, client_id, **options)

    def replacing(self, **checks: Check) -> "CognitoVerifier":
        """A copy with the named checks replaced (same keys, clock and settings).

        ``verifier.replacing(expiry=lambda v: None)`` is a verifier that never checks ``exp``.
        Naming a check that does not exist raises ``ValueError``, so a variant cannot silently
        fall back to the safe check when a name changes.
        """
        unknown = sorted(set(checks) - set(self.checks))
        if unknown:
            raise ValueError(f"no check named {', '.join(map(repr, unknown))}; the checks are "
                             f"{', '.join(self.checks)}")
        variant = copy.copy(self)
        variant.checks = {name: checks.get(name, check) for name, check in self.checks.items()}
        variant._lock = threading.Lock()
        return variant

    @property
    def replaced_checks(self) -> list[str]:
        """The names of the checks that are not the standard ones (empty for a safe verifier)."""
        return [name for name, check in self.checks.items() if CHECKS.get(name) is not check]

    @property
    def jwks_fetches(self) -> int:
        """How many times this verifier has fetched the JWKS over HTTP."""
        return self.keys.fetches

    def __repr__(self) -> str:
        # One setting per line: a verifier's repr is read in notebooks, where one long line is unreadable.
        clients = self.client_ids[0] if len(self.client_ids) == 1 else list(self.client_ids)
        lines = [f"<CognitoVerifier {self.token_use} tokens of {self.user_pool_id}", f"  client={clients}"]
        lines += [f"  {name}={list(x)}" for name, x in (("groups", self.groups), ("scopes", self.scopes)) if x]
        lines += ["  alg=RS256", f"  clock={self.clock!r}",
                  f"  jwks={self.jwks_url} (fetched {self.jwks_fetches}x)" if self.jwks_url
                  else "  jwks=the document you gave"]
        if self.replaced_checks:
            lines.append(f"  REPLACED CHECKS: {', '.join(self.replaced_checks)}")
        return "\n".join(lines) + ">"

    def verify(self, token: str) -> dict:
        """Return the token's claims if every check passes; else raise the failed check's error."""
        v = Verification(token, self)
        for check in self.checks.values():
            check(v)
        return v.claims

    def signing_key(self, header: dict, keys: JwksKeys) -> Any:
        """The key for ``header["kid"]`` in ``keys`` (cached); an unknown kid refetches the JWKS at
        most once per ``refetch_interval`` on the verifier's clock, else UnknownKey."""
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise UnknownKey("the header has no kid, so no key of the pool can be chosen", header=header)
        key = keys.keys().get(kid)
        if key is not None:
            return key
        with self._lock:
            key = keys.keys().get(kid)       # another thread may have refetched meanwhile
            if key is not None:
                return key
            if not keys.can_refetch:
                raise UnknownKey(f"kid {kid!r} is not in the JWKS you gave the verifier", header=header)
            last, now = keys.last_fetch, self.clock.time()
            if last is not None and 0 <= now - last < self.refetch_interval:
                raise UnknownKey(f"kid {kid!r} is not in the pool's JWKS (fetched {now - last:.0f} s ago; "
                                 f"no refetch within {self.refetch_interval:g} s)", header=header)
            key = keys.keys(refresh=True).get(kid)
            if key is None:
                raise UnknownKey(f"kid {kid!r} is not in the pool's JWKS, even after refetching it",
                                 header=header)
            return key


def _numeric_claim(v: Verification, name: str) -> float:
    value = v.claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MalformedToken(f"claim {name!r} is {'missing' if value is None else repr(value)}; "
                             "Cognito tokens carry it as epoch seconds", header=v.header, claims=v.claims)
    return value


def read_claims_unverified(token: str, header: dict | None = None) -> dict:
    """The payload as a dict, signature NOT checked; MalformedToken if it is not a JSON object."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise MalformedToken(f"could not decode the token ({exc})", header=header) from None
    if not isinstance(claims, dict):
        raise MalformedToken("the payload is not a JSON object", header=header)
    return claims
