"""The user pool's password policy, checked the way Cognito checks it (moto's check differs).

Cognito's defaults (no PasswordPolicy at all): at least 8 characters with upper- and lowercase
letters, a number and a symbol. A PasswordPolicy given without a Require* flag means that flag is
off. Passwords may be up to 256 characters. A refused password names the first broken rule.
"""
from __future__ import annotations

from .errors import CognitoError

MAX_LENGTH = 256
SYMBOLS = set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ")
DEFAULT_POLICY = {"MinimumLength": 8, "RequireUppercase": True, "RequireLowercase": True,
                  "RequireNumbers": True, "RequireSymbols": True}
TEMPORARY_PASSWORD_DAYS = 7


def password_policy(pool) -> dict:
    policy = (pool.extended_config.get("Policies") or {}).get("PasswordPolicy")
    if policy is None:
        return dict(DEFAULT_POLICY)
    return {"MinimumLength": policy.get("MinimumLength", 8),
            **{flag: bool(policy.get(flag, False)) for flag in
               ("RequireUppercase", "RequireLowercase", "RequireNumbers", "RequireSymbols")},
            "TemporaryPasswordValidityDays": policy.get("TemporaryPasswordValidityDays", TEMPORARY_PASSWORD_DAYS)}


def broken_rule(policy: dict, password) -> str | None:
    """The first rule ``password`` breaks, in Cognito's words, or None."""
    if not isinstance(password, str) or len(password) < int(policy.get("MinimumLength", 8)):
        return "Password not long enough"
    if len(password) > MAX_LENGTH:
        return "Password is too long"
    checks = (("RequireUppercase", str.isupper, "Password must have uppercase characters"),
              ("RequireLowercase", str.islower, "Password must have lowercase characters"),
              ("RequireNumbers", str.isdigit, "Password must have numeric characters"),
              ("RequireSymbols", lambda c: c in SYMBOLS, "Password must have symbol characters"))
    for flag, test, message in checks:
        if policy.get(flag) and not any(test(c) for c in password):
            return message
    return None


def validate_password(pool, password) -> None:
    rule = broken_rule(password_policy(pool), password)
    if rule:
        raise CognitoError("InvalidPasswordException", f"Password did not conform with policy: {rule}")
