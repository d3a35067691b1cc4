"""Build a user pool, an app client and users in a call or two, through plain boto3.

    >>> from labkit import Lab
    >>> from labkit.userpool import create_user_pool
    >>> with Lab(seed=1) as lab:
    ...     up = create_user_pool(lab, "shop")
    ...     up.add_user("alice", "Passw0rd!", email="alice@example.com")
    ...     tokens = up.sign_in("alice", "Passw0rd!")
    ...     sorted(tokens)
    ['AccessToken', 'ExpiresIn', 'IdToken', 'RefreshToken', 'TokenType']

Everything here is what a learner could type with ``lab.client("cognito-idp")``; the helpers only
save the ceremony when a lesson is about something else.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import srp
from . import tokens
from .tokens import secret_hash   # SECRET_HASH = Base64(HMAC-SHA256(client secret, username + client id))

ALL_CLIENT_FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
                    "ALLOW_ADMIN_USER_PASSWORD_AUTH"]


@dataclass
class UserPoolSetup:
    """A user pool with one app client in a lab. ``idp`` is the boto3 cognito-idp client."""

    lab: Any
    pool_id: str
    client_id: str
    client_secret: str | None = None
    idp: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.idp is None:
            self.idp = self.lab.client("cognito-idp")

    @property
    def issuer(self) -> str:
        return self.lab.issuer(self.pool_id)

    @property
    def jwks_url(self) -> str:
        return self.lab.jwks_url(self.pool_id)

    def _hash(self, username: str) -> dict:
        return {"SECRET_HASH": secret_hash(username, self.client_id, self.client_secret)} if self.client_secret else {}

    def add_user(self, username: str, password: str, *, email: str | None = None, phone: str | None = None,
                 groups: tuple[str, ...] | list[str] = (), attributes: dict | None = None) -> dict:
        """An admin-created, confirmed user with a permanent password (no invitation is sent)."""
        attrs = dict(attributes or {})
        if email:
            attrs.update({"email": email, "email_verified": "true"})
        if phone:
            attrs.update({"phone_number": phone, "phone_number_verified": "true"})
        user = self.idp.admin_create_user(
            UserPoolId=self.pool_id, Username=username, MessageAction="SUPPRESS",
            UserAttributes=[{"Name": k, "Value": v} for k, v in attrs.items()])["User"]
        self.idp.admin_set_user_password(UserPoolId=self.pool_id, Username=username, Password=password,
                                         Permanent=True)
        for group in groups:
            try:
                self.idp.create_group(UserPoolId=self.pool_id, GroupName=group)
            except self.idp.exceptions.GroupExistsException:
                pass
            self.idp.admin_add_user_to_group(UserPoolId=self.pool_id, Username=username, GroupName=group)
        return user

    def sign_in(self, username: str, password: str) -> dict:
        """USER_PASSWORD_AUTH: the password travels (over TLS on AWS). Returns AuthenticationResult."""
        response = self.idp.initiate_auth(
            ClientId=self.client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password, **self._hash(username)})
        return _tokens_or_challenge(response)

    def sign_in_srp(self, username: str, password: str, *, timestamp=None) -> dict:
        """USER_SRP_AUTH: only A, then a signature, travel; the password never does."""
        client = srp.CognitoSRP(self.pool_id, username, password, rng=self.lab.rng)
        challenge = self.idp.initiate_auth(
            ClientId=self.client_id, AuthFlow="USER_SRP_AUTH",
            AuthParameters={**client.auth_parameters(), **self._hash(username)})
        params = challenge["ChallengeParameters"]
        responses = client.challenge_responses(params, timestamp=timestamp or self.lab.clock.now())
        responses.update(self._hash(params["USERNAME"]))
        response = self.idp.respond_to_auth_challenge(
            ClientId=self.client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=responses)
        return _tokens_or_challenge(response)

    def refresh(self, refresh_token: str, username: str | None = None) -> dict:
        """REFRESH_TOKEN_AUTH: new ID and access tokens (see :func:`labkit.tokens.refresh`)."""
        return tokens.refresh(self.idp, self.client_id, refresh_token, self.client_secret, username)


def _tokens_or_challenge(response: dict) -> dict:
    """AuthenticationResult when sign-in finished, else the whole response (a challenge)."""
    return response.get("AuthenticationResult") or response


def create_user_pool(lab, name: str = "lab-pool", *, client_name: str = "web-app",
                     explicit_auth_flows: list[str] | None = None, generate_secret: bool = False,
                     prevent_user_existence_errors: str | None = None, client_options: dict | None = None,
                     **pool_options: Any) -> UserPoolSetup:
    """Create a user pool and an app client; return a :class:`UserPoolSetup`.

    ``pool_options`` go to CreateUserPool (e.g. ``AutoVerifiedAttributes=["email"]``,
    ``MfaConfiguration="ON"``); ``client_options`` to CreateUserPoolClient (e.g.
    ``AccessTokenValidity=5, TokenValidityUnits={"AccessToken": "minutes"}``).
    """
    idp = lab.client("cognito-idp")
    pool = idp.create_user_pool(PoolName=name, **pool_options)["UserPool"]
    options = dict(client_options or {})
    options.setdefault("ExplicitAuthFlows", explicit_auth_flows or ALL_CLIENT_FLOWS)
    if prevent_user_existence_errors:
        options["PreventUserExistenceErrors"] = prevent_user_existence_errors
    client = idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName=client_name,
                                         GenerateSecret=generate_secret, **options)["UserPoolClient"]
    return UserPoolSetup(lab, pool["Id"], client["ClientId"], client.get("ClientSecret"), idp)
