"""Cognito user-pool JWTs: read them (:func:`inspect`), verify them (:class:`CognitoVerifier`), and
know why one was rejected (:mod:`.errors`).

    >>> verifier = lab.verifier(pool_id, client_id)              # doctest: +SKIP
    >>> claims = verifier.verify(tokens["AccessToken"])          # doctest: +SKIP
    >>> inspect(tokens["IdToken"], clock=lab.clock)              # doctest: +SKIP
"""
from .errors import *  # noqa: F401,F403  (the error hierarchy is part of this package's API)
from .errors import __all__ as _errors
from .issuers import ALGORITHM, REAL_TIME, Clock, issuer_for, jwks_url_for, pool_id_of_issuer, region_of
from .verifier import (CHECKS, Check, CognitoVerifier, JwksKeys, Verification, check_client, check_expiry,
                       check_groups, check_header, check_issued_at, check_issuer, check_scopes, check_signature,
                       check_token_use, read_claims_unverified, require_groups, require_scopes)
from .view import TokenView, inspect, show_claim

__all__ = [*_errors, "ALGORITHM", "REAL_TIME", "Clock", "issuer_for", "jwks_url_for", "pool_id_of_issuer",
           "region_of", "CHECKS", "Check", "CognitoVerifier", "JwksKeys", "Verification",
           "read_claims_unverified", "require_groups", "require_scopes", "TokenView", "inspect", "show_claim",
           "check_header", "check_issuer", "check_signature", "check_token_use", "check_client", "check_expiry",
           "check_issued_at", "check_groups", "check_scopes"]
