"""A user pool's password policy, enforced with Cognito's rules (:mod:`labkit.cognito.passwords`).

moto's own check differs (at most 98 characters, one generic message); the lab refuses a password
the way Cognito does: ``InvalidPasswordException: Password did not conform with policy: <rule>``.
"""
from __future__ import annotations

from ...cognito.passwords import TEMPORARY_PASSWORD_DAYS, broken_rule, effective_policy
from ..errors import CognitoError

__all__ = ["password_policy", "validate_password", "TEMPORARY_PASSWORD_DAYS"]


def password_policy(pool) -> dict:
    """The rules in force for moto's ``pool`` (Cognito's defaults if it has no PasswordPolicy)."""
    return effective_policy((pool.extended_config.get("Policies") or {}).get("PasswordPolicy"))


def validate_password(pool, password) -> None:
    rule = broken_rule(password_policy(pool), password)
    if rule:
        raise CognitoError("InvalidPasswordException", f"Password did not conform with policy: {rule}")
