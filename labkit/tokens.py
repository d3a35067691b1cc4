"""Cognito tokens you can inspect, verify and break.

Three kinds of tools live here:

* **Looking** – :func:`inspect` decodes a token *without verifying it* and shows its header and
  claims, with ``exp``/``iat``/``auth_time`` in UTC and relative to a clock ("expires in 59 min").
* **Checking** – :class:`CognitoVerifier` verifies a user-pool token the way a backend must, one
  named check at a time (modelled on awslabs' ``aws-jwt-verify``). Every failure raises its own
  subclass of :class:`JwtVerificationError` whose message is one readable line.
* **Living with tokens** – thin, documented wrappers over boto3 for the session lifecycle
  (:func:`sign_in_password`, :func:`refresh`, :func:`revoke`, :func:`sign_out`), and the
  deliberately broken token makers the security lessons use (:func:`tamper`,
  :func:`forge_alg_none`, :func:`forge_hs256`).

    >>> verifier = CognitoVerifier.for_lab(lab, pool_id, client_id)          # doctest: +SKIP
    >>> claims = verifier.verify(tokens["AccessToken"])                       # doctest: +SKIP
    >>> inspect(tokens["AccessToken"], clock=lab.clock)                       # doctest: +SKIP

JWT parsing, signature checking and JWKS fetching are PyJWT's (``jwt.decode``, ``PyJWKClient``);
this module adds the Cognito rules on top and says, in words, which one a token broke.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Protocol

import jwt
from jwt import PyJWKClient
from jwt.exceptions import (
    InvalidAlgorithmError,
    InvalidSignatureError,
    PyJWKClientConnectionError,
    PyJWKClientError,
    PyJWKError,
    PyJWKSetError,
)
from jwt.utils import base64url_decode, base64url_encode

from .display import ShowsAsTable, Table

__all__ = [
    # looking
    "inspect", "TokenView",
    # checking
    "CognitoVerifier", "require_groups", "require_scopes",
    "JwtVerificationError", "MalformedToken", "AlgorithmNotAllowed", "UnknownKey", "JwksUnavailable",
    "InvalidSignature", "WrongIssuer", "WrongTokenUse", "WrongClient", "TokenExpired",
    "TokenNotYetValid", "MissingGroup", "MissingScope",
    # lifecycle
    "secret_hash", "sign_in_password", "refresh", "revoke", "sign_out", "ChallengeRequired",
    # breaking
    "tamper", "forge_alg_none", "forge_hs256", "public_key_pem",
    # helpers
    "issuer_for", "region_of",
]

ALGORITHM = "RS256"   # what Cognito signs user-pool tokens with; pinned, never read from the token


class Clock(Protocol):
    """Anything with ``time()`` -> epoch seconds: ``time`` itself, ``lab.clock``, a test double."""

    def time(self) -> float: ...


class _RealTime:
    def time(self) -> float:
        return time.time()

    def __repr__(self) -> str:
        return "real time"


REAL_TIME: Clock = _RealTime()


# ---------------------------------------------------------------------------------------------
# Errors: one class per failed check, all JwtVerificationError
# ---------------------------------------------------------------------------------------------
class JwtVerificationError(Exception):
    """Base class: the token was rejected. ``str(err)`` is one line saying why.

    Attributes: ``detail`` (the specific reason), ``header`` and ``claims`` (what could be read of
    the token, unverified unless the signature check had passed; may be ``None``),
    ``www_authenticate_error`` (the RFC 6750 error code an API answers with) and
    ``aws_jwt_verify`` (the name of the matching error in awslabs' aws-jwt-verify).
    """

    summary = "The token was rejected"
    www_authenticate_error = "invalid_token"
    aws_jwt_verify = "JwtBaseError"

    def __init__(self, detail: str = "", *, header: dict | None = None, claims: dict | None = None) -> None:
        self.detail = " ".join(detail.split())   # always one line
        self.header = header
        self.claims = claims
        super().__init__(f"{self.summary}: {self.detail}" if self.detail else self.summary)


class MalformedToken(JwtVerificationError):
    """Not a well-formed JWT (three base64url parts of JSON), or a required claim is missing."""
    summary = "Malformed token"
    aws_jwt_verify = "JwtParseError"


class AlgorithmNotAllowed(JwtVerificationError):
    """The header names an algorithm other than RS256 (e.g. ``none`` or ``HS256``)."""
    summary = "Algorithm not allowed"
    aws_jwt_verify = "JwtInvalidSignatureAlgorithmError"


class UnknownKey(JwtVerificationError):
    """The header's ``kid`` is not one of the user pool's signing keys (even after a refetch)."""
    summary = "Unknown signing key"
    aws_jwt_verify = "KidNotFoundInJwksError"


class JwksUnavailable(JwtVerificationError):
    """The pool's JWKS could not be fetched, so nothing can be verified."""
    summary = "Signing keys unavailable"
    aws_jwt_verify = "FetchError"


class InvalidSignature(JwtVerificationError):
    """The signature does not match header + payload under the pool's key: altered or forged."""
    summary = "Invalid signature"
    aws_jwt_verify = "JwtInvalidSignatureError"


class WrongIssuer(JwtVerificationError):
    """``iss`` is not this user pool."""
    summary = "Wrong issuer"
    aws_jwt_verify = "JwtInvalidIssuerError"


class WrongTokenUse(JwtVerificationError):
    """``token_use`` is not the kind this verifier accepts (an ID token where an access token belongs)."""
    summary = "Wrong token use"
    aws_jwt_verify = "CognitoJwtInvalidTokenUseError"


class WrongClient(JwtVerificationError):
    """``client_id`` (access token) or ``aud`` (ID token) is not an allowed app client."""
    summary = "Wrong app client"
    aws_jwt_verify = "CognitoJwtInvalidClientIdError"


class TokenExpired(JwtVerificationError):
    """``exp`` has passed."""
    summary = "Token expired"
    aws_jwt_verify = "JwtExpiredError"


class TokenNotYetValid(JwtVerificationError):
    """``iat`` (or ``nbf``) lies in the future: the token was minted by a clock ahead of yours."""
    summary = "Token not yet valid"
    aws_jwt_verify = "JwtNotBeforeError"


class MissingGroup(JwtVerificationError):
    """A valid token, but the user is in none of the required groups (HTTP 403, not 401)."""
    summary = "Missing group"
    www_authenticate_error = "insufficient_scope"
    aws_jwt_verify = "CognitoJwtInvalidGroupError"


class MissingScope(JwtVerificationError):
    """A valid token, but it carries none of the required OAuth scopes (HTTP 403, not 401)."""
    summary = "Missing scope"
    www_authenticate_error = "insufficient_scope"
    aws_jwt_verify = "JwtInvalidScopeError"


# ---------------------------------------------------------------------------------------------
# Pools, issuers, regions
# ---------------------------------------------------------------------------------------------
_POOL_ID = re.compile(r"^(?P<region>[a-z]{2}(-gov)?-[a-z]+-\d)_[a-zA-Z0-9]+$")


def region_of(user_pool_id: str) -> str:
    """The region in a user pool id: ``region_of("eu-west-1_AbC123") == "eu-west-1"``."""
    match = _POOL_ID.match(user_pool_id or "")
    if not match:
        raise ValueError(f"{user_pool_id!r} is not a user pool id (expected '<region>_<id>', "
                         "e.g. 'us-east-1_AbCdEf123')")
    return match["region"]


def issuer_for(user_pool_id: str) -> str:
    """The ``iss`` of the pool's tokens: ``https://cognito-idp.{region}.amazonaws.com/{pool_id}``."""
    return f"https://cognito-idp.{region_of(user_pool_id)}.amazonaws.com/{user_pool_id}"


# ---------------------------------------------------------------------------------------------
# Time formatting (shared by inspect(), the verifier's messages and the timeline)
# ---------------------------------------------------------------------------------------------
def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float) -> str:
    s = abs(seconds)
    if s < 59.5:
        return f"{s:.0f} s"
    if s < 90 * 60:
        return f"{s / 60:.0f} min"
    if s < 48 * 3600:
        h, m = divmod(round(s / 60), 60)
        return f"{h} h {m} min" if m else f"{h} h"
    return f"{s / 86400:.0f} days"


def _relative(ts: float, now: float) -> str:
    """'in 59 min' / '3 min ago' / 'now'."""
    delta = ts - now
    if abs(delta) < 1:
        return "now"
    return f"in {_duration(delta)}" if delta > 0 else f"{_duration(delta)} ago"


def _clock_time(clock: Any) -> float:
    return (clock or REAL_TIME).time()


# ---------------------------------------------------------------------------------------------
# inspect(): looking, never verifying
# ---------------------------------------------------------------------------------------------
_TIME_CLAIMS = ("exp", "iat", "auth_time", "nbf")
_NOT_VERIFIED = ("decoded, NOT verified: inspect() only reads the token; anyone can write these "
                 "claims. Use CognitoVerifier before trusting them.")
_OPAQUE = ("this is not a JWT you can read. Cognito refresh tokens are encrypted for "
           "Cognito alone (in the lab: a random id). Keep it secret and send it only to Cognito "
           "(InitiateAuth REFRESH_TOKEN_AUTH, RevokeToken).")


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
        rel = _relative(value, self.now)
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
            out.append(("header", key, _show(value), ""))
        for key, value in (self.claims or {}).items():
            if key in _TIME_CLAIMS and isinstance(value, (int, float)) and not isinstance(value, bool):
                out.append(("claims", key, f"{value}  ({_utc(value)})", self._time_note(key, value)))
            else:
                out.append(("claims", key, _show(value), ""))
        return out

    def _title(self) -> str:
        names = {"access": "Access token", "id": "ID token"}
        return names.get(self.kind, self.kind[:1].upper() + self.kind[1:])

    def table(self) -> Table:
        """The header and the claims as a :class:`~labkit.display.Table` (what ``print`` and Jupyter show)."""
        rows, section = [], None
        for sec, name, value, note in self.rows():
            rows.append([sec if sec != section else "", name, note, value])
            section = sec
        return Table(["", "name", "meaning", "value"], rows, title=f"{self._title()} ({self.note})",
                     notes=[self.error] if self.error else [], code=["name", "value"])

    def text(self) -> str:
        if not self.rows():        # an opaque token, or not a token: no table to show
            return "\n".join([f"{self._title()} ({self.note})"] + ([f"  {self.error}"] if self.error else []))
        return self.table().text()


def _show(value: Any) -> str:
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
    now = _clock_time(clock)
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


# ---------------------------------------------------------------------------------------------
# The verifier
# ---------------------------------------------------------------------------------------------
def _lab_jwks_url(user_pool_id: str) -> str | None:
    from .lab import current_lab

    lab = current_lab()
    if lab is None or not lab.running:
        return None
    try:
        lab.user_pool_jwks(user_pool_id)
    except (KeyError, RuntimeError):
        return None
    return lab.jwks_url(user_pool_id)


class _JwksClient(PyJWKClient):
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


def _as_tuple(value: str | Iterable[str] | None, what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    values = tuple(value)
    if not values or not all(isinstance(v, str) for v in values):
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
                           f"{list(have) or 'empty'}", claims=claims)


def require_scopes(claims: dict, scopes: str | Iterable[str]) -> None:
    """Raise :class:`MissingScope` unless the ``scope`` claim holds at least one of ``scopes``."""
    wanted = _as_tuple(scopes, "scopes") or ()
    have = str(claims.get("scope") or "").split()
    if not any(s in have for s in wanted):
        raise MissingScope(f"requires scope {' or '.join(wanted)}; the token's scope is "
                           f"{' '.join(have) or 'empty'}", claims=claims)


# PyJWT checks the signature; the claims are ours to check, one named step at a time.
_SIGNATURE_ONLY = {
    "verify_signature": True, "verify_exp": False, "verify_nbf": False, "verify_iat": False,
    "verify_aud": False, "verify_iss": False, "verify_sub": False, "verify_jti": False, "require": [],
}


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
        Where the pool's public keys are; default the AWS URL ``{issuer}/.well-known/jwks.json``.
        In the lab pass ``lab.jwks_url(pool_id)`` (or use :meth:`for_lab`).
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

    ``verify(token)`` returns the claims or raises a :class:`JwtVerificationError` subclass.
    """

    def __init__(self, user_pool_id: str, client_id: str | Iterable[str], token_use: str = "access",
                 jwks_url: str | None = None, clock: Clock | None = None,
                 groups: str | Iterable[str] | None = None, scopes: str | Iterable[str] | None = None,
                 leeway: float = 5.0, *, refetch_interval: float = 10.0, cache_jwks: bool = True,
                 jwks_lifespan: float = 300.0, jwks_timeout: float = 10.0) -> None:
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
        # A pool of the running lab is verified against the lab's keys: a learner who forgets
        # jwks_url must not send a request to AWS (nor wait for one that cannot succeed offline).
        self.jwks_url = jwks_url or _lab_jwks_url(user_pool_id) or f"{self.issuer}/.well-known/jwks.json"
        self.clock: Clock = clock or REAL_TIME
        self.groups = _as_tuple(groups, "groups")
        self.scopes = _as_tuple(scopes, "scopes")
        self.leeway = float(leeway)
        self.refetch_interval = float(refetch_interval)
        self._jwks = _JwksClient(self.jwks_url, self.clock, cache_jwk_set=cache_jwks,
                                 lifespan=jwks_lifespan, timeout=jwks_timeout)
        self._lock = threading.Lock()

    @classmethod
    def for_lab(cls, lab: Any, user_pool_id: str, client_id: str | Iterable[str], **options: Any
                ) -> "CognitoVerifier":
        """A verifier for a lab pool: its JWKS URL on the lab and the lab's clock."""
        options.setdefault("jwks_url", lab.jwks_url(user_pool_id))
        options.setdefault("clock", lab.clock)
        return cls(user_pool_id, client_id, **options)

    @property
    def jwks_fetches(self) -> int:
        """How many times this verifier has fetched the JWKS over HTTP."""
        return self._jwks.fetches

    def __repr__(self) -> str:
        clients = self.client_ids[0] if len(self.client_ids) == 1 else list(self.client_ids)
        extra = "".join(f", {name}={list(v)}" for name, v in (("groups", self.groups),
                                                               ("scopes", self.scopes)) if v)
        return (f"<CognitoVerifier {self.token_use} tokens of {self.user_pool_id}, client={clients}"
                f"{extra}, alg=RS256, clock={self.clock!r}, jwks={self.jwks_url} "
                f"(fetched {self.jwks_fetches}x)>")

    # -- the checks, in order ------------------------------------------------------------------
    def verify(self, token: str) -> dict:
        """Return the token's claims if every check passes; else raise the failed check's error."""
        header = self._read_header(token)
        self._check_algorithm(header)
        key = self._signing_key(token, header)
        claims = self._check_signature(token, header, key)
        self._check_issuer(claims, header)
        self._check_token_use(claims, header)
        self._check_client(claims, header)
        self._check_expiry(claims, header)
        self._check_issued_at(claims, header)
        if self.groups:
            require_groups(claims, self.groups)
        if self.scopes:
            require_scopes(claims, self.scopes)
        return claims

    def _read_header(self, token: Any) -> dict:
        """MalformedToken unless the first part decodes to a JSON object.

        Only the (short) header is peeked at here, to choose the key; PyJWT parses the whole token
        strictly in ``_check_signature``.
        """
        if isinstance(token, bytes):
            token = token.decode("ascii", "replace")
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
        return header

    def _check_algorithm(self, header: dict) -> None:
        """AlgorithmNotAllowed unless ``alg`` is RS256. The verifier never lets the token choose."""
        alg = header.get("alg")
        if alg != ALGORITHM:
            hint = {"none": "an unsigned token: anyone could have written it",
                    "HS256": "HMAC with a shared secret: Cognito never signs user-pool tokens so "
                             "(a classic forgery uses the public key as the secret)"}.get(str(alg), "")
            raise AlgorithmNotAllowed(f"alg is {alg!r}, only RS256 is accepted" + (f" ({hint})" if hint else ""),
                                      header=header)

    def _signing_key(self, token: str, header: dict) -> Any:
        """UnknownKey unless ``kid`` is in the pool's JWKS (cached; one rate-limited refetch)."""
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise UnknownKey("the header has no kid, so no key of the pool can be chosen", header=header)
        key = self._cached_key(kid)
        if key is not None:
            return key
        with self._lock:
            key = self._cached_key(kid)      # another thread may have refetched meanwhile
            if key is not None:
                return key
            # Not in the cache. A token from another issuer must not make us refetch (that is what
            # aws-jwt-verify's issuer-first order achieves): name the real problem instead.
            claims = _unverified_claims(token)
            if claims is not None and claims.get("iss") != self.issuer:
                raise WrongIssuer(f"iss is {claims.get('iss')!r}, expected {self.issuer} (this token "
                                  "comes from another issuer; its key is not in this pool's JWKS)",
                                  header=header, claims=claims)
            last = self._jwks.last_fetch
            now = self.clock.time()
            if last is not None and 0 <= now - last < self.refetch_interval:
                raise UnknownKey(f"kid {kid!r} is not in the pool's JWKS (fetched {now - last:.0f} s ago; "
                                 f"no refetch within {self.refetch_interval:g} s)", header=header)
            keys = self._fetch_keys(refresh=True)
            key = keys.get(kid)
            if key is None:
                raise UnknownKey(f"kid {kid!r} is not in the pool's JWKS, even after refetching it",
                                 header=header)
            return key

    def _cached_key(self, kid: str) -> Any:
        return self._fetch_keys(refresh=False).get(kid)

    def _fetch_keys(self, refresh: bool) -> dict[str, Any]:
        try:
            jwk_set = self._jwks.get_jwk_set(refresh=refresh)
        except PyJWKClientConnectionError as exc:
            raise JwksUnavailable(f"could not fetch {self.jwks_url} ({exc})") from None
        except (PyJWKClientError, PyJWKSetError, PyJWKError) as exc:
            raise JwksUnavailable(f"{self.jwks_url} did not return a usable JWKS ({exc})") from None
        # Only RSA signing keys can verify RS256.
        return {k.key_id: k.key for k in jwk_set.keys
                if k.key_id and k.public_key_use in ("sig", None) and k.key_type == "RSA"}

    def _check_signature(self, token: str, header: dict, key: Any) -> dict:
        """InvalidSignature unless the RS256 signature matches (PyJWT, algorithm pinned)."""
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM], options=_SIGNATURE_ONLY)
        except InvalidSignatureError:
            raise InvalidSignature("the signature does not match the header and payload under the "
                                   f"pool's key {header.get('kid')!r}: the token was altered or forged",
                                   header=header, claims=_unverified_claims(token)) from None
        except InvalidAlgorithmError as exc:   # unreachable after _check_algorithm; kept explicit
            raise AlgorithmNotAllowed(str(exc), header=header) from None
        except jwt.PyJWTError as exc:          # DecodeError and friends: not a well-formed JWS
            raise MalformedToken(f"could not decode the token ({exc})", header=header) from None
        if not isinstance(claims, dict):
            raise MalformedToken("the payload is not a JSON object", header=header)
        return claims

    def _check_issuer(self, claims: dict, header: dict) -> None:
        """WrongIssuer unless ``iss`` is this pool."""
        if claims.get("iss") != self.issuer:
            raise WrongIssuer(f"iss is {claims.get('iss')!r}, expected {self.issuer}",
                              header=header, claims=claims)

    def _check_token_use(self, claims: dict, header: dict) -> None:
        """WrongTokenUse unless ``token_use`` is the configured one."""
        use = claims.get("token_use")
        if use != self.token_use:
            why = (" (an ID token says who the user is, for the app; APIs take access tokens)"
                   if use == "id" and self.token_use == "access" else "")
            raise WrongTokenUse(f"token_use is {use!r}, expected {self.token_use!r}{why}",
                                header=header, claims=claims)

    def _check_client(self, claims: dict, header: dict) -> None:
        """WrongClient unless ``client_id`` (access) / ``aud`` (id) is an allowed app client."""
        field = "aud" if claims.get("token_use") == "id" else "client_id"
        value = claims.get(field)
        values = value if isinstance(value, list) else [value]
        if not any(v in self.client_ids for v in values):
            allowed = self.client_ids[0] if len(self.client_ids) == 1 else f"one of {list(self.client_ids)}"
            raise WrongClient(f"{field} is {value!r}, expected {allowed} (a token issued to another "
                              "app client)", header=header, claims=claims)

    def _check_expiry(self, claims: dict, header: dict) -> None:
        """TokenExpired once ``exp`` has passed on the clock or in real time (plus leeway)."""
        exp = _numeric_claim(claims, "exp", header)
        for clock_name, now in (("on the verifier's clock", self.clock.time()), ("in real time", time.time())):
            if now >= exp + self.leeway:
                raise TokenExpired(f"exp is {_utc(exp)}, {_duration(now - exp)} ago {clock_name}",
                                   header=header, claims=claims)

    def _check_issued_at(self, claims: dict, header: dict) -> None:
        """TokenNotYetValid if ``iat`` or ``nbf`` lies in the future (beyond the leeway)."""
        now = self.clock.time()
        for name in ("iat", "nbf"):
            if name not in claims and name == "nbf":
                continue
            value = _numeric_claim(claims, name, header)
            if value > now + self.leeway:
                raise TokenNotYetValid(f"{name} is {_utc(value)}, {_duration(value - now)} in the future "
                                       "on the verifier's clock", header=header, claims=claims)


def _numeric_claim(claims: dict, name: str, header: dict) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MalformedToken(f"claim {name!r} is {'missing' if value is None else repr(value)}; "
                             "Cognito tokens carry it as epoch seconds", header=header, claims=claims)
    return value


def _unverified_claims(token: str) -> dict | None:
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    return claims if isinstance(claims, dict) else None


# ---------------------------------------------------------------------------------------------
# Lifecycle: thin wrappers over boto3's cognito-idp client
# ---------------------------------------------------------------------------------------------
class ChallengeRequired(Exception):
    """Sign-in needs another step (MFA, new password, ...): ``.challenge``, ``.session``, ``.parameters``."""

    def __init__(self, response: dict) -> None:
        self.response = response
        self.challenge = response.get("ChallengeName")
        self.session = response.get("Session")
        self.parameters = response.get("ChallengeParameters", {})
        super().__init__(f"Cognito answered with the {self.challenge} challenge, not tokens: answer it "
                         "with RespondToAuthChallenge(Session=err.session, ...)")


def secret_hash(username: str, client_id: str, client_secret: str) -> str:
    """SECRET_HASH = Base64(HMAC-SHA256(key=client secret, message=username + client id))."""
    digest = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _authentication_result(response: dict) -> dict:
    """The tokens of a finished sign-in; a further challenge raises :class:`ChallengeRequired`."""
    if "AuthenticationResult" not in response:
        raise ChallengeRequired(response)
    return response["AuthenticationResult"]


def sign_in_password(idp_client: Any, client_id: str, username: str, password: str,
                     client_secret: str | None = None) -> dict:
    """InitiateAuth with USER_PASSWORD_AUTH; returns ``AuthenticationResult``.

    ``AuthenticationResult`` holds ``AccessToken``, ``IdToken``, ``RefreshToken``, ``ExpiresIn``
    and ``TokenType``. Raises :class:`ChallengeRequired` if Cognito asks for another step, and
    boto3's ``NotAuthorizedException`` etc. as Cognito does.
    """
    params = {"USERNAME": username, "PASSWORD": password}
    if client_secret:
        params["SECRET_HASH"] = secret_hash(username, client_id, client_secret)
    response = idp_client.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                        AuthParameters=params)
    return _authentication_result(response)


def refresh(idp_client: Any, client_id: str, refresh_token: str, client_secret: str | None = None,
            username: str | None = None) -> dict:
    """InitiateAuth with REFRESH_TOKEN_AUTH; returns the new ``AuthenticationResult``.

    It holds a new ``AccessToken`` and ``IdToken``; Cognito sends no new ``RefreshToken`` (unless
    refresh-token rotation is on): keep using the one you have. For a client with a secret, pass
    ``username`` too: SECRET_HASH is computed over the user's Cognito *username* (for pools that
    sign in by email, the ``username`` claim of the access token, i.e. the sub).
    A revoked or expired refresh token raises ``NotAuthorizedException``.
    """
    params = {"REFRESH_TOKEN": refresh_token}
    if client_secret:
        if not username:
            raise ValueError("a client with a secret needs SECRET_HASH: pass username= (the access "
                             "token's 'username' claim)")
        params["SECRET_HASH"] = secret_hash(username, client_id, client_secret)
    response = idp_client.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                        AuthParameters=params)
    return _authentication_result(response)


def revoke(idp_client: Any, client_id: str, refresh_token: str, client_secret: str | None = None) -> None:
    """RevokeToken: the refresh token, and the access and ID tokens issued from it, are revoked.

    Only Cognito knows: its own APIs (GetUser, REFRESH_TOKEN_AUTH, ...) refuse them with
    ``NotAuthorizedException``, but a backend that verifies JWTs locally (CognitoVerifier,
    aws-jwt-verify) keeps accepting the access token until it expires. Keep access tokens short.
    """
    kwargs = {"Token": refresh_token, "ClientId": client_id}
    if client_secret:
        kwargs["ClientSecret"] = client_secret
    idp_client.revoke_token(**kwargs)


def sign_out(idp_client: Any, access_token: str) -> None:
    """GlobalSignOut: revokes all of the user's refresh tokens (every device), and their access tokens."""
    idp_client.global_sign_out(AccessToken=access_token)


# ---------------------------------------------------------------------------------------------
# Breaking: the forgeries the security lessons throw at verifiers. None of these fool
# CognitoVerifier; each fools exactly one of labkit.api's deliberately vulnerable variants.
# ---------------------------------------------------------------------------------------------
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
    secret_bytes = secret.encode() if isinstance(secret, str) else secret
    signature = hmac.new(secret_bytes, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64url_encode(signature).decode()}"


def public_key_pem(jwks: dict, kid: str | None = None) -> bytes:
    """The PEM (SubjectPublicKeyInfo) of a JWKS key: by ``kid``, or the first key.

    Public keys are public: this is exactly what an attacker can compute from the JWKS URL.
    """
    from cryptography.hazmat.primitives import serialization

    keys = jwks.get("keys", [])
    chosen = next((k for k in keys if kid is None or k.get("kid") == kid), None)
    if chosen is None:
        raise KeyError(f"no key with kid {kid!r} in the JWKS")
    key = jwt.PyJWK(chosen, algorithm=chosen.get("alg", ALGORITHM)).key
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
