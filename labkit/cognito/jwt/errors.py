"""Why a token was rejected: one class per failed check, in one hierarchy (cf. aws-jwt-verify's ``error.ts``).

::

    JwtVerificationError                 every rejection; str(err) is one line saying why
    ├── MalformedToken                   not three base64url parts of JSON, or a claim of the wrong type
    ├── SigningKeyError                  no key to check the signature with
    │   ├── UnknownKey                   the kid is not in the pool's JWKS
    │   └── JwksUnavailable              the JWKS could not be fetched or used
    ├── SignatureError                   the signature does not prove the pool signed it
    │   ├── AlgorithmNotAllowed          alg is not RS256 (none, HS256, ...)
    │   └── InvalidSignature             the bytes were altered or forged
    └── InvalidClaim                     a readable, signed token with a claim that is not acceptable
        ├── WrongIssuer                  iss
        ├── WrongTokenUse                token_use
        ├── WrongClient                  client_id / aud
        ├── TokenExpired                 exp
        ├── TokenNotYetValid             iat / nbf
        └── InsufficientPermissions      a valid token that lacks a permission: HTTP 403, not 401
            ├── MissingGroup             cognito:groups
            └── MissingScope             scope

An API answers 401 for every class except :class:`InsufficientPermissions` (403): decide with
``isinstance``, never by reading the message.
"""
from __future__ import annotations

from typing import Any

__all__ = ["JwtVerificationError", "MalformedToken", "SigningKeyError", "UnknownKey", "JwksUnavailable",
           "SignatureError", "AlgorithmNotAllowed", "InvalidSignature", "InvalidClaim", "WrongIssuer",
           "WrongTokenUse", "WrongClient", "TokenExpired", "TokenNotYetValid", "InsufficientPermissions",
           "MissingGroup", "MissingScope"]

_UNSET: Any = object()


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


# -- keys ----------------------------------------------------------------------------------------
class SigningKeyError(JwtVerificationError):
    """No usable key to check the signature with."""
    summary = "No signing key"
    aws_jwt_verify = "JwkValidationError"


class UnknownKey(SigningKeyError):
    """The header's ``kid`` is not one of the user pool's signing keys (even after a refetch)."""
    summary = "Unknown signing key"
    aws_jwt_verify = "KidNotFoundInJwksError"


class JwksUnavailable(SigningKeyError):
    """The pool's JWKS could not be fetched, so nothing can be verified."""
    summary = "Signing keys unavailable"
    aws_jwt_verify = "FetchError"


# -- signatures ------------------------------------------------------------------------------------
class SignatureError(JwtVerificationError):
    """The signature does not prove that the user pool signed this token."""
    summary = "Signature not accepted"
    aws_jwt_verify = "JwtInvalidSignatureError"


class AlgorithmNotAllowed(SignatureError):
    """The header names an algorithm other than RS256 (e.g. ``none`` or ``HS256``)."""
    summary = "Algorithm not allowed"
    aws_jwt_verify = "JwtInvalidSignatureAlgorithmError"


class InvalidSignature(SignatureError):
    """The signature does not match header + payload under the pool's key: altered or forged."""
    summary = "Invalid signature"
    aws_jwt_verify = "JwtInvalidSignatureError"


# -- claims ----------------------------------------------------------------------------------------
class InvalidClaim(JwtVerificationError):
    """A signed token whose claim is not acceptable: ``claim``, ``expected`` and ``actual`` say which.

    ``expected`` is what the verifier wanted (a value, a list of allowed values, or a phrase such as
    "before 2026-12-02 19:00:00 UTC"); ``actual`` is what the token carries (``None`` if absent).
    """
    summary = "Invalid claim"
    aws_jwt_verify = "JwtInvalidClaimError"

    def __init__(self, detail: str = "", *, claim: str | None = None, expected: Any = _UNSET,
                 actual: Any = _UNSET, header: dict | None = None, claims: dict | None = None) -> None:
        super().__init__(detail, header=header, claims=claims)
        self.claim = claim
        self.expected = None if expected is _UNSET else expected
        self.actual = (claims or {}).get(claim) if actual is _UNSET and claim else (
            None if actual is _UNSET else actual)


class WrongIssuer(InvalidClaim):
    """``iss`` is not this user pool."""
    summary = "Wrong issuer"
    aws_jwt_verify = "JwtInvalidIssuerError"


class WrongTokenUse(InvalidClaim):
    """``token_use`` is not the kind this verifier accepts (an ID token where an access token belongs)."""
    summary = "Wrong token use"
    aws_jwt_verify = "CognitoJwtInvalidTokenUseError"


class WrongClient(InvalidClaim):
    """``client_id`` (access token) or ``aud`` (ID token) is not an allowed app client."""
    summary = "Wrong app client"
    aws_jwt_verify = "CognitoJwtInvalidClientIdError"


class TokenExpired(InvalidClaim):
    """``exp`` has passed."""
    summary = "Token expired"
    aws_jwt_verify = "JwtExpiredError"


class TokenNotYetValid(InvalidClaim):
    """``iat`` (or ``nbf``) lies in the future: the token was minted by a clock ahead of yours."""
    summary = "Token not yet valid"
    aws_jwt_verify = "JwtNotBeforeError"


class InsufficientPermissions(InvalidClaim):
    """A valid token that lacks a required group or scope: the caller is known but not allowed
    (HTTP 403 ``insufficient_scope``, not 401)."""
    summary = "Insufficient permissions"
    www_authenticate_error = "insufficient_scope"
    aws_jwt_verify = "JwtInvalidClaimError"


class MissingGroup(InsufficientPermissions):
    """The user is in none of the required groups."""
    summary = "Missing group"
    aws_jwt_verify = "CognitoJwtInvalidGroupError"


class MissingScope(InsufficientPermissions):
    """The token carries none of the required OAuth scopes."""
    summary = "Missing scope"
    aws_jwt_verify = "JwtInvalidScopeError"
