"""Cognito's names for sign-in flows and challenges, spelled once.

``AuthFlow`` values go to InitiateAuth / AdminInitiateAuth; ``ALLOW_*`` values to an app client's
``ExplicitAuthFlows``; a ``ChallengeName`` comes back when sign-in needs another step and goes
back with RespondToAuthChallenge.
"""
from __future__ import annotations

__all__ = ["AuthFlow", "ExplicitAuthFlow", "Challenge"]


class AuthFlow:
    """InitiateAuth's ``AuthFlow``."""
    USER_SRP_AUTH = "USER_SRP_AUTH"
    USER_PASSWORD_AUTH = "USER_PASSWORD_AUTH"
    REFRESH_TOKEN_AUTH = "REFRESH_TOKEN_AUTH"
    REFRESH_TOKEN = "REFRESH_TOKEN"                       # legacy spelling of REFRESH_TOKEN_AUTH
    CUSTOM_AUTH = "CUSTOM_AUTH"
    ADMIN_USER_PASSWORD_AUTH = "ADMIN_USER_PASSWORD_AUTH"
    ADMIN_NO_SRP_AUTH = "ADMIN_NO_SRP_AUTH"                # legacy spelling of ADMIN_USER_PASSWORD_AUTH


class ExplicitAuthFlow:
    """An app client's ``ExplicitAuthFlows``: which AuthFlows it accepts."""
    ALLOW_USER_SRP_AUTH = "ALLOW_USER_SRP_AUTH"
    ALLOW_USER_PASSWORD_AUTH = "ALLOW_USER_PASSWORD_AUTH"
    ALLOW_REFRESH_TOKEN_AUTH = "ALLOW_REFRESH_TOKEN_AUTH"
    ALLOW_CUSTOM_AUTH = "ALLOW_CUSTOM_AUTH"
    ALLOW_ADMIN_USER_PASSWORD_AUTH = "ALLOW_ADMIN_USER_PASSWORD_AUTH"


class Challenge:
    """``ChallengeName``: the next step Cognito asks for."""
    PASSWORD_VERIFIER = "PASSWORD_VERIFIER"                # SRP: prove the password
    NEW_PASSWORD_REQUIRED = "NEW_PASSWORD_REQUIRED"        # first sign-in with a temporary password
    SOFTWARE_TOKEN_MFA = "SOFTWARE_TOKEN_MFA"              # a TOTP code
    SMS_MFA = "SMS_MFA"                                    # a code sent by text message
    SELECT_MFA_TYPE = "SELECT_MFA_TYPE"                    # the user has both: which one?
    MFA_SETUP = "MFA_SETUP"                                # MFA is required and the user has none yet
    CUSTOM_CHALLENGE = "CUSTOM_CHALLENGE"
