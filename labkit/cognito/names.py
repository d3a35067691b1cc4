"""Cognito's names for sign-in flows and challenges, spelled once.

``AuthFlow`` values go to InitiateAuth / AdminInitiateAuth; ``ALLOW_*`` values to an app client's
``ExplicitAuthFlows``; a ``ChallengeName`` comes back when sign-in needs another step and goes
back with RespondToAuthChallenge.
"""
from __future__ import annotations

__all__ = ["AuthFlow", "ExplicitAuthFlow", "Challenge", "AuthFactor", "FeaturePlan"]


class AuthFlow:
    """InitiateAuth's ``AuthFlow``."""
    USER_SRP_AUTH = "USER_SRP_AUTH"
    USER_PASSWORD_AUTH = "USER_PASSWORD_AUTH"
    REFRESH_TOKEN_AUTH = "REFRESH_TOKEN_AUTH"
    REFRESH_TOKEN = "REFRESH_TOKEN"                       # legacy spelling of REFRESH_TOKEN_AUTH
    CUSTOM_AUTH = "CUSTOM_AUTH"
    ADMIN_USER_PASSWORD_AUTH = "ADMIN_USER_PASSWORD_AUTH"
    ADMIN_NO_SRP_AUTH = "ADMIN_NO_SRP_AUTH"                # legacy spelling of ADMIN_USER_PASSWORD_AUTH
    USER_AUTH = "USER_AUTH"                                # choice-based: password, SRP, one-time code, passkey


class ExplicitAuthFlow:
    """An app client's ``ExplicitAuthFlows``: which AuthFlows it accepts."""
    ALLOW_USER_SRP_AUTH = "ALLOW_USER_SRP_AUTH"
    ALLOW_USER_PASSWORD_AUTH = "ALLOW_USER_PASSWORD_AUTH"
    ALLOW_REFRESH_TOKEN_AUTH = "ALLOW_REFRESH_TOKEN_AUTH"
    ALLOW_CUSTOM_AUTH = "ALLOW_CUSTOM_AUTH"
    ALLOW_ADMIN_USER_PASSWORD_AUTH = "ALLOW_ADMIN_USER_PASSWORD_AUTH"
    ALLOW_USER_AUTH = "ALLOW_USER_AUTH"    # USER_AUTH, and with it password and SRP sign-in (Essentials plan)


class Challenge:
    """``ChallengeName``: the next step Cognito asks for."""
    PASSWORD_VERIFIER = "PASSWORD_VERIFIER"                # SRP: prove the password
    NEW_PASSWORD_REQUIRED = "NEW_PASSWORD_REQUIRED"        # first sign-in with a temporary password
    SOFTWARE_TOKEN_MFA = "SOFTWARE_TOKEN_MFA"              # a TOTP code
    SMS_MFA = "SMS_MFA"                                    # a code sent by text message
    SELECT_MFA_TYPE = "SELECT_MFA_TYPE"                    # the user has both: which one?
    MFA_SETUP = "MFA_SETUP"                                # MFA is required and the user has none yet
    CUSTOM_CHALLENGE = "CUSTOM_CHALLENGE"
    # Choice-based sign-in (USER_AUTH): pick a first factor, then prove it.
    SELECT_CHALLENGE = "SELECT_CHALLENGE"                  # answer with ANSWER=<one of AvailableChallenges>
    PASSWORD = "PASSWORD"                                  # the password itself (PASSWORD)
    PASSWORD_SRP = "PASSWORD_SRP"                          # SRP: send SRP_A, then PASSWORD_VERIFIER
    EMAIL_OTP = "EMAIL_OTP"                                # a one-time code sent by email (EMAIL_OTP_CODE)
    SMS_OTP = "SMS_OTP"                                    # a one-time code sent by text message (SMS_OTP_CODE)
    WEB_AUTHN = "WEB_AUTHN"                                # a passkey assertion (CREDENTIAL)


class AuthFactor:
    """A user pool's ``Policies.SignInPolicy.AllowedFirstAuthFactors``: what USER_AUTH may offer."""
    PASSWORD = "PASSWORD"          # offers both PASSWORD and PASSWORD_SRP
    EMAIL_OTP = "EMAIL_OTP"
    SMS_OTP = "SMS_OTP"
    WEB_AUTHN = "WEB_AUTHN"


class FeaturePlan:
    """A user pool's ``UserPoolTier``: each plan has every feature of the one before it."""
    LITE = "LITE"
    ESSENTIALS = "ESSENTIALS"      # the default for new pools
    PLUS = "PLUS"
