"""Cognito's exceptions, as moto serialises them (``__type`` + ``message``, HTTP 400)."""
from __future__ import annotations

from moto.core.exceptions import JsonRESTError


class CognitoError(JsonRESTError):
    """Any cognito-idp error the lab raises: ``CognitoError("CodeMismatchException", "…")``."""

    def __init__(self, error_type: str, message: str, status: int = 400) -> None:
        super().__init__(error_type, message)
        self.code = status


# The messages Cognito returns, in one place so tests and lessons quote the same text.
INCORRECT_CREDENTIALS = "Incorrect username or password."
PASSWORD_ATTEMPTS_EXCEEDED = "Password attempts exceeded"
CODE_MISMATCH = "Invalid verification code provided, please try again."
CODE_EXPIRED = "Invalid code provided, please request a code again."
SESSION_EXPIRED = "Invalid session for the user, session is expired."
ACCESS_TOKEN_EXPIRED = "Access Token has expired"
ACCESS_TOKEN_REVOKED = "Access Token has been revoked"
INVALID_ACCESS_TOKEN = "Invalid Access Token"
REFRESH_TOKEN_EXPIRED = "Refresh Token has expired"
REFRESH_TOKEN_REVOKED = "Refresh Token has been revoked"
INVALID_REFRESH_TOKEN = "Invalid Refresh Token"
USER_NOT_FOUND = "User does not exist."
USER_DISABLED = "User is disabled."
USER_NOT_CONFIRMED = "User is not confirmed."


def not_authorized(message: str = INCORRECT_CREDENTIALS) -> CognitoError:
    return CognitoError("NotAuthorizedException", message)


def invalid_parameter(message: str) -> CognitoError:
    return CognitoError("InvalidParameterException", message)


def code_mismatch(message: str = CODE_MISMATCH) -> CognitoError:
    return CognitoError("CodeMismatchException", message)


def expired_code() -> CognitoError:
    return CognitoError("ExpiredCodeException", CODE_EXPIRED)


def user_not_found(message: str = USER_NOT_FOUND) -> CognitoError:
    return CognitoError("UserNotFoundException", message)


def resource_not_found(message: str) -> CognitoError:
    return CognitoError("ResourceNotFoundException", message)
