"""Lesson 08's helpers: a user pool with a domain, the OAuth 2.0 calls an app makes, and reviews.

Everything here is what an app would send over HTTP to the hosted UI's endpoints (``requests``
for the back channel, :class:`~labkit.cognito.hosted_ui.HostedUIBrowser` for the browser); the
helpers save the ceremony, not the ideas.

    >>> from labkit import Lab
    >>> with Lab(seed=8) as lab:                                    # doctest: +SKIP
    ...     app = hosted_ui_app(lab)
    ...     pair = pkce_pair(lab)
    ...     back = app.browser().open(app.authorize_url("web", code_challenge=pair.challenge,
    ...                                                 code_challenge_method="S256"))
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from ..cognito.hosted_ui import HostedUIBrowser
from ..emulator.user_pools.oauth_settings import redirect_url_problem

__all__ = ["HostedUIApp", "hosted_ui_app", "PkcePair", "pkce_pair", "new_state", "check_state", "TokenAnswer",
           "callback_url_verdicts", "CachedClientToken", "CALLBACK", "SIGNED_OUT", "API"]

CALLBACK = "https://app.example.com/callback"
SIGNED_OUT = "https://app.example.com/signed-out"
API = "https://api.example.com"


@dataclass
class PkcePair:
    """A PKCE ``code_verifier`` (kept by the app) and its S256 ``code_challenge`` (sent to authorize)."""

    verifier: str = field(repr=False)
    challenge: str

    def __repr__(self) -> str:
        return f"PkcePair(verifier={self.verifier[:6]}… ({len(self.verifier)} chars), challenge={self.challenge[:6]}…)"


def pkce_pair(lab) -> PkcePair:
    """A fresh verifier (43 URL-safe characters from the lab's seeded generator) and its challenge
    ``BASE64URL(SHA256(verifier))`` (RFC 7636; Authlib computes it)."""
    import base64

    verifier = base64.urlsafe_b64encode(lab.random_bytes(32)).rstrip(b"=").decode()
    return PkcePair(verifier, create_s256_code_challenge(verifier))


def new_state(lab) -> str:
    """A fresh ``state`` for ``/oauth2/authorize``: 22 URL-safe characters (128 bits) from the lab's
    seeded generator (a real app uses ``secrets.token_urlsafe``). The app keeps it with the sign-in
    attempt (its session) and accepts the callback only if ``state`` comes back unchanged: an attacker
    cannot guess it, so they cannot push their own authorization code into the user's browser (CSRF)."""
    import base64

    return base64.urlsafe_b64encode(lab.random_bytes(16)).rstrip(b"=").decode()


def check_state(sent: str, returned: str | None) -> str:
    """What the app does at its callback: ``returned`` must equal the ``state`` it sent (compared in
    constant time). Returns it; raises ValueError otherwise, before any code is redeemed."""
    if not isinstance(returned, str) or not secrets.compare_digest(sent.encode(), returned.encode()):
        raise ValueError(f"state mismatch: sent {sent!r}, got back {returned!r}; refuse this callback "
                         "(it did not start with this browser's sign-in)")
    return returned


@dataclass
class TokenAnswer:
    """What the token endpoint answered: the HTTP status and the JSON body."""

    status: int
    body: dict

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def error(self) -> str | None:
        return self.body.get("error")

    def __getitem__(self, key: str) -> Any:
        return self.body[key]

    def __repr__(self) -> str:
        if not self.ok:
            return f"<TokenAnswer {self.status} error={self.error!r}>"
        kinds = [k for k in ("id_token", "access_token", "refresh_token") if k in self.body]
        return f"<TokenAnswer 200 {', '.join(kinds)} (expires_in={self.body.get('expires_in')})>"


@dataclass
class HostedUIApp:
    """A user pool with the domain ``domain``, a resource server ``API`` (scopes ``read``, ``write``)
    and app clients by name: ``web`` (public, code flow), ``spa`` (public, implicit flow) and
    ``reports`` (confidential, client credentials; add it with :meth:`add_m2m_client`)."""

    lab: Any
    pool_id: str
    domain: str
    clients: dict[str, dict] = field(default_factory=dict, repr=False)
    idp: Any = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (f"<HostedUIApp pool={self.pool_id} domain={self.domain!r} clients={sorted(self.clients)} "
                f"at {self.base}>")

    @property
    def base(self) -> str:
        return self.lab.domain_url(self.domain)

    @property
    def discovery(self) -> dict:
        """The pool's OIDC discovery document (what a standard OIDC client reads first)."""
        return requests.get(self.lab.openid_configuration_url(self.pool_id), timeout=10).json()

    def client_id(self, name: str) -> str:
        return self.clients[name]["ClientId"]

    def browser(self) -> HostedUIBrowser:
        """A new browser: its own cookie jar, so no hosted-UI session yet."""
        return HostedUIBrowser()

    def authorize_url(self, client: str, *, redirect_uri: str | None = CALLBACK, response_type: str = "code",
                      state: str | None = None, **params: str) -> str:
        """``/oauth2/authorize`` for app client ``client`` (a name), with any other parameters.
        Without ``state``, a fresh one from :func:`new_state`; pass your own to check it at the callback."""
        if state is None:
            state = new_state(self.lab)
        query = {"response_type": response_type, "client_id": self.client_id(client), "redirect_uri": redirect_uri,
                 "state": state, **params}
        return f"{self.base}/oauth2/authorize?{urlencode({k: v for k, v in query.items() if v is not None})}"

    def redeem(self, code: str, *, client: str | None = "web", client_id: str | None = None,
               redirect_uri: str = CALLBACK, code_verifier: str | None = None) -> TokenAnswer:
        """POST ``grant_type=authorization_code`` to ``/oauth2/token`` as a public client would."""
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "client_id": client_id or self.client_id(client), "code_verifier": code_verifier}
        return self._token({k: v for k, v in data.items() if v is not None})

    def client_credentials(self, client: str = "reports", scope: str | None = None) -> TokenAnswer:
        """POST ``grant_type=client_credentials`` with HTTP Basic (client id and secret)."""
        c = self.clients[client]
        data = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
        return self._token(data, auth=(c["ClientId"], c["ClientSecret"]))

    def refresh(self, refresh_token: str, client: str = "web") -> TokenAnswer:
        return self._token({"grant_type": "refresh_token", "client_id": self.client_id(client),
                            "refresh_token": refresh_token})

    def revoke(self, refresh_token: str, client: str = "web") -> int:
        """POST ``/oauth2/revoke``: the refresh token and its access tokens. Returns the HTTP status."""
        return requests.post(f"{self.base}/oauth2/revoke", data={"token": refresh_token,
                                                                 "client_id": self.client_id(client)}, timeout=10).status_code

    def logout_url(self, client: str = "web", logout_uri: str = SIGNED_OUT) -> str:
        """``/logout`` that ends the hosted-UI session and returns to ``logout_uri`` (a LogoutURL)."""
        return f"{self.base}/logout?{urlencode({'client_id': self.client_id(client), 'logout_uri': logout_uri})}"

    def user_info(self, access_token: str) -> dict:
        return requests.get(f"{self.base}/oauth2/userInfo", headers={"Authorization": f"Bearer {access_token}"},
                            timeout=10).json()

    def add_m2m_client(self, name: str, scopes: list[str]) -> dict:
        """A confidential app client for client credentials with ``scopes`` (custom scopes only)."""
        client = self.idp.create_user_pool_client(
            UserPoolId=self.pool_id, ClientName=name, GenerateSecret=True, AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["client_credentials"], AllowedOAuthScopes=scopes)["UserPoolClient"]
        self.clients[name] = client
        return client

    def _token(self, data: dict, auth=None) -> TokenAnswer:
        response = requests.post(f"{self.base}/oauth2/token", data=data, auth=auth, timeout=10)
        return TokenAnswer(response.status_code, response.json() if response.content else {})


def hosted_ui_app(lab, *, domain: str = "lesson-08", users: dict[str, str] | None = None) -> HostedUIApp:
    """Build lesson 08's pool: domain, resource server ``API`` (read, write), clients ``web`` (public,
    code, CallbackURLs [CALLBACK], LogoutURLs [SIGNED_OUT]) and ``spa`` (public, implicit), and the
    users ``users`` (username → password; email ``<name>@example.com``)."""
    idp = lab.client("cognito-idp")
    pool_id = idp.create_user_pool(PoolName="lesson-08")["UserPool"]["Id"]
    idp.create_user_pool_domain(UserPoolId=pool_id, Domain=domain)
    idp.create_resource_server(UserPoolId=pool_id, Identifier=API, Name="reports-api",
                               Scopes=[{"ScopeName": "read", "ScopeDescription": "Read reports"},
                                       {"ScopeName": "write", "ScopeDescription": "Write reports"}])
    app = HostedUIApp(lab, pool_id, domain, idp=idp)
    common = dict(UserPoolId=pool_id, AllowedOAuthFlowsUserPoolClient=True, CallbackURLs=[CALLBACK],
                  SupportedIdentityProviders=["COGNITO"])
    app.clients["web"] = idp.create_user_pool_client(
        ClientName="web", AllowedOAuthFlows=["code"], LogoutURLs=[SIGNED_OUT],
        AllowedOAuthScopes=["openid", "email", "profile", f"{API}/read"], **common)["UserPoolClient"]
    app.clients["spa"] = idp.create_user_pool_client(
        ClientName="spa", AllowedOAuthFlows=["implicit"], AllowedOAuthScopes=["openid", "email"], **common)["UserPoolClient"]
    for username, password in (users or {}).items():
        idp.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS", UserAttributes=[
            {"Name": "email", "Value": f"{username}@example.com"}, {"Name": "email_verified", "Value": "true"}])
        idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)
    return app


# -- callback URLs ----------------------------------------------------------------------------
_REDIRECT_PARAMETERS = ("next", "redirect", "redirect_uri", "return", "returnto", "return_to", "url", "goto", "continue")


def callback_url_verdicts(urls: list[str]) -> dict[str, str]:
    """For each candidate CallbackURL: ``"ok"``, or why it must not be registered.

    Cognito refuses a non-absolute URL, a fragment, plain HTTP anywhere but loopback (localhost,
    127.0.0.1, [::1]) (CreateUserPoolClient; app schemes such as myapp:// are fine), and compares
    redirect_uri exactly, so ``*`` is just a character
    that never matches a real host. Beyond what Cognito refuses, a callback that forwards the browser
    wherever a parameter says (``?next=…``) turns the app into an open redirect: the lab flags
    those too.
    """
    verdicts = {}
    for url in urls:
        problem = redirect_url_problem(url)
        parts = urlsplit(url)
        if problem is None and "*" in url:
            problem = "has a wildcard: Cognito matches redirect_uri exactly, so it never matches a real URL"
        if problem is None:
            names = {pair.split("=", 1)[0].lower() for pair in parts.query.split("&") if pair}
            if names & set(_REDIRECT_PARAMETERS):
                problem = "forwards the browser to a URL taken from its query string (an open redirect)"
        verdicts[url] = "ok" if problem is None else problem
    return verdicts


# -- client credentials ---------------------------------------------------------------------------
class CachedClientToken:
    """A machine's access token, requested again only when it is about to expire.

    Machine-to-machine authorization is billed separately from monthly active users, by token
    request (the developer guide's "Monitoring costs" page, tracking-cost.html, and the Amazon
    Cognito pricing page), and the token is good for its whole lifetime: ask once, reuse it, ask
    again ``margin`` seconds before ``exp``. ``requests`` counts the token requests made.
    """

    def __init__(self, app: HostedUIApp, client: str, scope: str | None = None, *, margin: float = 60,
                 clock=None) -> None:
        self.app, self.client, self.scope, self.margin = app, client, scope, margin
        self.clock = clock or app.lab.clock
        self.requests = 0
        self._token: str | None = None
        self._expires_at = 0.0

    def __repr__(self) -> str:
        return f"<CachedClientToken client={self.client!r} scope={self.scope!r} token requests={self.requests}>"

    def token(self) -> str:
        now = self.clock.time() if hasattr(self.clock, "time") else time.time()
        if self._token is None or now >= self._expires_at - self.margin:
            answer = self.app.client_credentials(self.client, self.scope)
            if not answer.ok:
                raise RuntimeError(f"the token endpoint refused: {answer.error}")
            self.requests += 1
            self._token, self._expires_at = answer["access_token"], now + answer["expires_in"]
        return self._token
