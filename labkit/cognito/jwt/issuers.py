"""Who signs Cognito user-pool tokens, and with what: the issuer URL, the region, RS256, a clock.

    >>> issuer_for("eu-west-1_AbC123")
    'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123'
"""
from __future__ import annotations

import re
import time
from typing import Any, Protocol

__all__ = ["ALGORITHM", "Clock", "REAL_TIME", "clock_time", "region_of", "issuer_for", "jwks_url_for",
           "pool_id_of_issuer"]

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


def clock_time(clock: Any) -> float:
    """``clock.time()``, or real time when ``clock`` is None."""
    return (clock or REAL_TIME).time()


_POOL_ID = re.compile(r"^(?P<region>[a-z]{2}(-gov)?-[a-z]+-\d)_[a-zA-Z0-9]+$")
_ISSUER = re.compile(r"^https://cognito-idp\.[a-z0-9-]+\.amazonaws\.com/(?P<pool>[a-z]{2}(-gov)?-[a-z]+-\d_[a-zA-Z0-9]+)$")


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


def jwks_url_for(user_pool_id: str) -> str:
    """Where AWS publishes the pool's public keys: ``{issuer}/.well-known/jwks.json``."""
    return f"{issuer_for(user_pool_id)}/.well-known/jwks.json"


def pool_id_of_issuer(issuer: Any) -> str | None:
    """The user pool id in a Cognito issuer URL, or ``None`` if ``issuer`` is not one."""
    match = _ISSUER.match(issuer) if isinstance(issuer, str) else None
    return match["pool"] if match else None
