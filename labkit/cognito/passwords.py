"""The user-pool password policy as Cognito checks it: the one copy of its rules in labkit.

Cognito's defaults (a pool created with no ``PasswordPolicy``): at least 8 characters with upper-
and lowercase letters, a number and a symbol. A ``PasswordPolicy`` given without a ``Require*``
flag means that flag is off. Passwords may be up to 256 characters. A refused password names the
first broken rule, in Cognito's words.

Symbols are Cognito's list ``^ $ * . [ ] { } ( ) ? " ! @ # % & / \\ , > < ' : ; | _ ~ ` = + -``
plus a space that is neither first nor last (Cognito counts such a space as a symbol).

    >>> broken_rule(DEFAULT_POLICY, "correct horse")
    'Password must have uppercase characters'
"""
from __future__ import annotations

import string

__all__ = ["SYMBOLS", "MAX_LENGTH", "DEFAULT_POLICY", "TEMPORARY_PASSWORD_DAYS", "effective_policy",
           "broken_rule", "is_symbol", "has_symbol", "CHARACTER_CLASSES"]

MAX_LENGTH = 256
#: The characters Cognito counts as symbols (an inner space counts too: see :func:`has_symbol`).
SYMBOLS = frozenset("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-")
DEFAULT_POLICY = {"MinimumLength": 8, "RequireUppercase": True, "RequireLowercase": True,
                  "RequireNumbers": True, "RequireSymbols": True}
TEMPORARY_PASSWORD_DAYS = 7


def is_symbol(char: str) -> bool:
    """True for a character on Cognito's symbol list (a space is a symbol only inside a password)."""
    return char in SYMBOLS


def has_symbol(password: str) -> bool:
    """A listed symbol anywhere, or a space that is neither the first nor the last character."""
    return any(is_symbol(c) for c in password) or " " in password[1:-1]


#: Each Require* flag: the test a password must pass, and Cognito's message when it does not.
#: Letters and digits are the basic Latin ones (A-Z, a-z, 0-9): an "Ä" is neither upper nor lower here.
CHARACTER_CLASSES = {
    "RequireUppercase": (lambda p: any(c in string.ascii_uppercase for c in p), "Password must have uppercase characters"),
    "RequireLowercase": (lambda p: any(c in string.ascii_lowercase for c in p), "Password must have lowercase characters"),
    "RequireNumbers": (lambda p: any(c in string.digits for c in p), "Password must have numeric characters"),
    "RequireSymbols": (has_symbol, "Password must have symbol characters"),
}


def effective_policy(configured: dict | None) -> dict:
    """The rules in force for a pool whose ``Policies.PasswordPolicy`` is ``configured``."""
    if configured is None:
        return dict(DEFAULT_POLICY, TemporaryPasswordValidityDays=TEMPORARY_PASSWORD_DAYS)
    return {"MinimumLength": configured.get("MinimumLength", 8),
            **{flag: bool(configured.get(flag, False)) for flag in CHARACTER_CLASSES},
            "TemporaryPasswordValidityDays": configured.get("TemporaryPasswordValidityDays",
                                                            TEMPORARY_PASSWORD_DAYS)}


def broken_rule(policy: dict, password) -> str | None:
    """The first rule ``password`` breaks, in Cognito's words, or ``None``."""
    if not isinstance(password, str) or len(password) < int(policy.get("MinimumLength", 8)):
        return "Password not long enough"
    if len(password) > MAX_LENGTH:
        return "Password is too long"
    for flag, (test, message) in CHARACTER_CLASSES.items():
        if policy.get(flag) and not test(password):
            return message
    return None
