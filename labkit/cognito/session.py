"""Sign-in, refresh, revoke and sign-out with boto3's cognito-idp client: thin, documented helpers.

Each is what you would type yourself with ``boto3.client("cognito-idp")``; they save the ceremony
(SECRET_HASH, AuthParameters, reading AuthenticationResult) and say in their docstrings what
Cognito does. A sign-in that needs another step (MFA, a new password) raises
:class:`ChallengeRequired`, or, with ``on_challenge="return"``, returns Cognito's whole response.

    >>> tokens = sign_in_password(idp, client_id, "alice", "Passw0rd!")        # doctest: +SKIP
    >>> tokens = refresh(idp, client_id, tokens["RefreshToken"])               # doctest: +SKIP
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from . import srp
from .names import AuthFlow, Challenge

__all__ = ["ChallengeRequired", "secret_hash", "authentication_result", "sign_in_password", "sign_in_srp",
           "refresh", "revoke", "sign_out"]


class ChallengeRequired(Exception):
    """Sign-in needs another step (MFA, new password, ...): ``.challenge``, ``.session``, ``.parameters``."""

    def __init__(self, response: dict) -> None:
        self.response = response
        self.challenge = response.get("ChallengeName")
        self.session = response.get("Session")
        self.parameters = response.get("ChallengeParameters", {})
        super().__init__(f"Cognito answered with the {self.challenge} challenge, not tokens: answer it "
                         "with RespondToAuthChallenge(Session=err.session, ...)")


def secret_hash(username: str, client_id: str, client_secret: str) -> str:
    """SECRET_HASH = Base64(HMAC-SHA256(key=client secret, message=username + client id))."""
    digest = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def authentication_result(response: dict, on_challenge: str = "raise") -> dict:
    """The tokens of a finished sign-in (``AuthenticationResult``).

    If Cognito asks for another step instead, ``on_challenge="raise"`` (the default) raises
    :class:`ChallengeRequired`; ``on_challenge="return"`` returns the whole response, whose
    ``ChallengeName``, ``Session`` and ``ChallengeParameters`` say what to answer.
    """
    if on_challenge not in ("raise", "return"):
        raise ValueError(f'on_challenge must be "raise" or "return", not {on_challenge!r}')
    if "AuthenticationResult" in response:
        return response["AuthenticationResult"]
    if on_challenge == "return":
        return response
    raise ChallengeRequired(response)


def _hash(username: str, client_id: str, client_secret: str | None) -> dict:
    return {"SECRET_HASH": secret_hash(username, client_id, client_secret)} if client_secret else {}


def sign_in_password(idp_client: Any, client_id: str, username: str, password: str,
                     client_secret: str | None = None, *, on_challenge: str = "raise") -> dict:
    """InitiateAuth with USER_PASSWORD_AUTH; returns ``AuthenticationResult``.

    The password travels to Cognito (over TLS on AWS). ``AuthenticationResult`` holds
    ``AccessToken``, ``IdToken``, ``RefreshToken``, ``ExpiresIn`` and ``TokenType``. If Cognito asks
    for another step, see :func:`authentication_result` for ``on_challenge``; a wrong password
    raises boto3's ``NotAuthorizedException``, as Cognito answers.
    """
    response = idp_client.initiate_auth(
        ClientId=client_id, AuthFlow=AuthFlow.USER_PASSWORD_AUTH,
        AuthParameters={"USERNAME": username, "PASSWORD": password,
                        **_hash(username, client_id, client_secret)})
    return authentication_result(response, on_challenge)


def sign_in_srp(idp_client: Any, user_pool_id: str, client_id: str, username: str, password: str,
                client_secret: str | None = None, *, timestamp=None, rng=None,
                on_challenge: str = "raise") -> dict:
    """USER_SRP_AUTH, both round trips: only ``SRP_A``, then a signature, travel; never the password.

    InitiateAuth sends A and gets the ``PASSWORD_VERIFIER`` challenge (salt, B, SECRET_BLOCK);
    RespondToAuthChallenge answers it with the proof (see :mod:`labkit.cognito.srp`).
    ``timestamp``: the TIMESTAMP to sign (default now; the lab passes its clock's now).
    ``rng``: where the client's secret ``a`` comes from (default the OS's randomness).
    """
    client = srp.CognitoSRP(user_pool_id, username, password, rng=rng)
    challenge = idp_client.initiate_auth(
        ClientId=client_id, AuthFlow=AuthFlow.USER_SRP_AUTH,
        AuthParameters={**client.auth_parameters(), **_hash(username, client_id, client_secret)})
    params = challenge["ChallengeParameters"]
    responses = client.challenge_responses(params, timestamp=timestamp)
    # SECRET_HASH of the second call is over the user's internal name (USERNAME of the challenge).
    responses.update(_hash(params["USERNAME"], client_id, client_secret))
    response = idp_client.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName=Challenge.PASSWORD_VERIFIER, ChallengeResponses=responses)
    return authentication_result(response, on_challenge)


def refresh(idp_client: Any, client_id: str, refresh_token: str, client_secret: str | None = None,
            username: str | None = None, *, via: str | None = None) -> dict:
    """New ID and access tokens from a refresh token; returns the new ``AuthenticationResult``.

    ``via``: ``"GetTokensFromRefreshToken"`` (the default when your boto3 knows that operation) or
    ``"REFRESH_TOKEN_AUTH"`` (InitiateAuth, the older call). Both give a new ``AccessToken`` and
    ``IdToken``. Without refresh-token rotation Cognito sends no new ``RefreshToken``: keep using the
    one you have. With rotation on (the app client's ``RefreshTokenRotation``), only
    GetTokensFromRefreshToken works: it also returns a new ``RefreshToken``, and the one you sent stops
    working after the client's RetryGracePeriodSeconds (then ``RefreshTokenReuseException``). Store the
    new one.

    For a client with a secret, pass ``client_secret``; REFRESH_TOKEN_AUTH also needs ``username``:
    SECRET_HASH is computed over the user's Cognito *username* (for pools that sign in by email, the
    ``username`` claim of the access token, i.e. the sub).
    A revoked or expired refresh token raises ``NotAuthorizedException``.
    """
    if via is None:
        via = ("GetTokensFromRefreshToken" if hasattr(idp_client, "get_tokens_from_refresh_token")
               else AuthFlow.REFRESH_TOKEN_AUTH)
    if via == "GetTokensFromRefreshToken":
        kwargs = {"ClientId": client_id, "RefreshToken": refresh_token}
        if client_secret:
            kwargs["ClientSecret"] = client_secret
        return authentication_result(idp_client.get_tokens_from_refresh_token(**kwargs))
    if via != AuthFlow.REFRESH_TOKEN_AUTH:
        raise ValueError(f"via must be 'GetTokensFromRefreshToken' or 'REFRESH_TOKEN_AUTH', not {via!r}")
    if client_secret and not username:
        raise ValueError("a client with a secret needs SECRET_HASH: pass username= (the access "
                         "token's 'username' claim)")
    response = idp_client.initiate_auth(
        ClientId=client_id, AuthFlow=AuthFlow.REFRESH_TOKEN_AUTH,
        AuthParameters={"REFRESH_TOKEN": refresh_token, **_hash(username or "", client_id, client_secret)})
    return authentication_result(response)


def revoke(idp_client: Any, client_id: str, refresh_token: str, client_secret: str | None = None) -> None:
    """RevokeToken: the refresh token, and the access and ID tokens issued from it, are revoked.

    Only Cognito knows: its own APIs (GetUser, REFRESH_TOKEN_AUTH, ...) refuse them with
    ``NotAuthorizedException``, but a backend that verifies JWTs locally (CognitoVerifier,
    aws-jwt-verify) keeps accepting the access token until it expires. Keep access tokens short.
    """
    kwargs = {"Token": refresh_token, "ClientId": client_id}
    if client_secret:
        kwargs["ClientSecret"] = client_secret
    idp_client.revoke_token(**kwargs)


def sign_out(idp_client: Any, access_token: str) -> None:
    """GlobalSignOut: revokes all of the user's refresh tokens (every device), and their access tokens."""
    idp_client.global_sign_out(AccessToken=access_token)

