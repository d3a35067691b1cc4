"""App-client token lifetimes: units, defaults and allowed ranges, as CreateUserPoolClient has them.

Cognito facts, used by the emulator (to mint and refuse) and by the lessons (to explain):
``AccessTokenValidity`` / ``IdTokenValidity`` / ``RefreshTokenValidity`` are numbers in the units
of ``TokenValidityUnits`` (default hours, hours, days); no value means 60 minutes, 60 minutes and
30 days (a ``RefreshTokenValidity`` of 0 too). Access and ID tokens may live 5 minutes to 1 day,
refresh tokens 1 hour to 3650 days.

    >>> token_validity_seconds({"AccessTokenValidity": 5, "TokenValidityUnits": {"AccessToken": "minutes"}},
    ...                        "AccessToken")
    300
"""
from __future__ import annotations

from .durations import lifetime

__all__ = ["UNIT_SECONDS", "DEFAULT_UNITS", "DEFAULT_VALUES", "RANGES", "CONFIG_KEY", "KINDS",
           "token_validity_seconds", "range_problem"]

UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
KINDS = ("AccessToken", "IdToken", "RefreshToken")
DEFAULT_UNITS = {"AccessToken": "hours", "IdToken": "hours", "RefreshToken": "days"}
DEFAULT_VALUES = {"AccessToken": 1, "IdToken": 1, "RefreshToken": 30}   # 60 min, 60 min, 30 days
RANGES = {   # seconds: (min, max)
    "AccessToken": (5 * 60, 86400),
    "IdToken": (5 * 60, 86400),
    "RefreshToken": (60 * 60, 10 * 365 * 86400),
}
CONFIG_KEY = {"AccessToken": "AccessTokenValidity", "IdToken": "IdTokenValidity",
              "RefreshToken": "RefreshTokenValidity"}


def token_validity_seconds(client_config: dict, kind: str) -> int:
    """Lifetime in seconds of ``kind`` ("AccessToken" | "IdToken" | "RefreshToken") for a client.

    A value without units uses Cognito's default units (hours for access and ID tokens, days for
    refresh tokens); no value at all means the default lifetime, and so does a
    ``RefreshTokenValidity`` of 0 (the API reference: "You can't set RefreshTokenValidity to 0. If
    you do, Amazon Cognito overrides the value with the default value of 30 days."). Raises
    ``ValueError`` for units Cognito does not know and for a value that is not a whole number.
    """
    value = client_config.get(CONFIG_KEY[kind])
    if value is None or (kind == "RefreshToken" and value == 0 and not isinstance(value, bool)):
        return DEFAULT_VALUES[kind] * UNIT_SECONDS[DEFAULT_UNITS[kind]]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{CONFIG_KEY[kind]} must be a whole number, not {value!r}.")
    units = (client_config.get("TokenValidityUnits") or {}).get(kind) or DEFAULT_UNITS[kind]
    if units not in UNIT_SECONDS:
        raise ValueError(
            f"TokenValidityUnits.{kind} must be one of seconds, minutes, hours or days, not {units!r}.")
    return value * UNIT_SECONDS[units]


def range_problem(client_config: dict) -> str | None:
    """The first lifetime outside Cognito's ranges, in Cognito's words, or ``None``."""
    for kind, (low, high) in RANGES.items():
        seconds = token_validity_seconds(client_config, kind)
        if not low <= seconds <= high:
            return (f"Invalid range for token validity: {CONFIG_KEY[kind]} must be between "
                    f"{lifetime(low)} and {lifetime(high)}; this client asks for {lifetime(seconds)}.")
    return None
