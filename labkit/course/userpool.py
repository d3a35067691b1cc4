"""Build a user pool, an app client and users in a call or two, through plain boto3.

    >>> from labkit import Lab
    >>> from labkit.course.userpool import create_user_pool
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

from ..cognito import session
from ..cognito.names import ExplicitAuthFlow

ALL_CLIENT_FLOWS = [ExplicitAuthFlow.ALLOW_USER_PASSWORD_AUTH, ExplicitAuthFlow.ALLOW_USER_SRP_AUTH,
                    ExplicitAuthFlow.ALLOW_REFRESH_TOKEN_AUTH, ExplicitAuthFlow.ALLOW_ADMIN_USER_PASSWORD_AUTH]


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
        """USER_PASSWORD_AUTH: the password travels (over TLS on AWS). Returns ``AuthenticationResult``,
        or Cognito's whole response when it asks for another step (``ChallengeName``, ``Session``)."""
        return session.sign_in_password(self.idp, self.client_id, username, password, self.client_secret,
                                        on_challenge="return")

    def sign_in_srp(self, username: str, password: str, *, timestamp=None) -> dict:
        """USER_SRP_AUTH: only A, then a signature, travel; the password never does. Returns as
        :meth:`sign_in` does. The TIMESTAMP signed is the lab clock's now unless given."""
        return session.sign_in_srp(self.idp, self.pool_id, self.client_id, username, password,
                                   self.client_secret, timestamp=timestamp or self.lab.clock.now(),
                                   rng=self.lab.rng, on_challenge="return")

    def refresh(self, refresh_token: str, username: str | None = None, *, via: str = "REFRESH_TOKEN_AUTH") -> dict:
        """New ID and access tokens (see :func:`labkit.cognito.session.refresh`): REFRESH_TOKEN_AUTH, or
        with ``via="GetTokensFromRefreshToken"`` the call that also works (and rotates the refresh
        token) when the app client has refresh-token rotation on."""
        return session.refresh(self.idp, self.client_id, refresh_token, self.client_secret, username, via=via)


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
