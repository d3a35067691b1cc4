"""A user pool's OAuth 2.0 authorization server, as Cognito runs it, built on Authlib.

Authlib does the protocol work (grant types, client authentication, PKCE, error shapes); this
module tells it what Cognito decides:

- **clients** (:class:`LabClient`): an app client takes part only with
  ``AllowedOAuthFlowsUserPoolClient``; ``AllowedOAuthFlows`` decide ``response_type=code`` /
  ``token`` and ``grant_type=client_credentials``; a redirect URI must equal one of its
  ``CallbackURLs`` exactly; a client with a secret authenticates with HTTP Basic or
  ``client_id`` / ``client_secret`` in the body, a public one with ``client_id`` alone;
- **scopes**: none requested means every scope the client allows; one it does not allow, or
  ``email`` / ``phone`` / ``profile`` without ``openid``, is ``invalid_scope``; an ID token only
  with ``openid``; client credentials only with custom (resource-server) scopes;
- **codes** (:class:`AuthorizationCode`): single use (consumed by the first redemption attempt,
  whatever happens next), valid five minutes on the lab clock, bound to client and redirect URI;
- **PKCE**: ``S256`` only (Cognito's authorize endpoint reference: "Amazon Cognito authentication
  server supports only S256"); a ``code_challenge`` without ``code_challenge_method``, or
  ``plain``, is ``invalid_request``;
- **tokens**: minted by :func:`labkit.emulator.user_pools.flows.mint_tokens` (the API flows'
  minting, with the granted scopes and the nonce), so verification, revocation and expiry work as
  for every other token of the lab. Client-credentials tokens carry no user (``sub`` is the client
  id) and come without ID or refresh token.

The token endpoint's errors are Cognito's: HTTP 400 (401 for ``invalid_client`` with HTTP Basic)
and a JSON body ``{"error": "invalid_grant"}``.
"""
from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import (InvalidClientError, InvalidGrantError, InvalidRequestError,
                                           InvalidScopeError, OAuth2Error)
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge

from ...cognito.lifetimes import token_validity_seconds
from . import flows, oauth_settings, rotation
from .oauth_settings import ADMIN_SCOPE, is_custom

__all__ = ["AUTHORIZATION_CODE_TTL", "HOSTED_UI_SESSION_TTL", "OAuthState", "LabClient", "LabUser",
           "AuthorizationCode", "CognitoAuthorizationServer", "oauth_state", "server_for", "user_info"]

#: "The response returns a one time use code that is valid for five minutes." (authorize endpoint)
AUTHORIZATION_CODE_TTL = 300
#: How long the hosted UI remembers a signed-in browser (its session cookie): one hour.
HOSTED_UI_SESSION_TTL = 3600


@dataclass
class AuthorizationCode:
    """What an authorization code stands for until it is redeemed (once) or expires."""

    code: str
    pool_id: str
    client_id: str
    redirect_uri: str
    scope: str
    username: str
    sub: str
    expires_at: float
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class HostedSession:
    """A browser signed in to a domain's hosted UI (its ``cognito`` cookie)."""

    pool_id: str
    username: str
    sub: str
    expires_at: float


@dataclass
class OAuthState:
    """The authorization server's memory, kept on the lab's user-pool state (``state.oauth``)."""

    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    sessions: dict[str, HostedSession] = field(default_factory=dict)
    csrf: dict[str, float] = field(default_factory=dict)              # login-form tokens, by value
    pending: dict[str, "PendingSignIn"] = field(default_factory=dict)  # sign-ins awaiting a step
    scopes_by_origin: dict[str, list[str]] = field(default_factory=dict)   # refresh family -> scopes
    federation: dict[str, Any] = field(default_factory=dict)   # IdP sign-ins under way, by our state


def oauth_state(state) -> OAuthState:
    if state.oauth is None:
        state.oauth = OAuthState()
    return state.oauth


# -- Authlib's models ---------------------------------------------------------------------------
class LabClient(ClientMixin):
    """An app client as Authlib sees it; every answer comes from the client's Cognito settings."""

    def __init__(self, pool, client) -> None:
        self.pool = pool
        self.client = client
        self.config = oauth_settings.oauth_config(client)

    def __repr__(self) -> str:
        return f"<LabClient {self.client.id} flows={self.config['flows']} scopes={self.config['scopes']}>"

    def get_client_id(self) -> str:
        return self.client.id

    def get_default_redirect_uri(self) -> str | None:
        return self.config["default_redirect_uri"]

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.config["callback_urls"]          # exact match, no prefixes

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The scopes granted for a user sign-in: all the client allows if none requested."""
        allowed = self.config["scopes"]
        requested = scope_to_list(scope) if scope else list(allowed)
        if not requested or any(s not in allowed for s in requested):
            return None
        if any(s in ("email", "phone", "profile") for s in requested) and "openid" not in requested:
            return None          # "can only be requested if openid scope is also requested"
        return list_to_scope(requested)

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(self.client.generate_secret) and hmac.compare_digest(str(self.client.secret), str(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.client.generate_secret:
            return method in ("client_secret_basic", "client_secret_post")
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        flow = {"code": "code", "token": "implicit"}.get(response_type)
        return self.config["enabled"] and flow in self.config["flows"]

    def check_grant_type(self, grant_type: str) -> bool:
        if not self.config["enabled"]:
            return False
        if grant_type == "refresh_token":
            # "Users who sign in with an authorization code grant ... can always refresh their tokens"
            return "client_credentials" not in self.config["flows"]
        flow = {"authorization_code": "code", "client_credentials": "client_credentials"}.get(grant_type)
        return flow in self.config["flows"]


class LabUser:
    """The signed-in user a grant issues tokens for (with what the grant carries along)."""

    def __init__(self, user, *, nonce: str | None = None, refresh=None, scopes: list[str] | None = None) -> None:
        self.user = user
        self.nonce = nonce
        self.refresh = refresh           # the RefreshRecord, for the refresh_token grant
        self.scopes = scopes             # the refresh family's scopes (None: issued by the API flows)

    def get_user_id(self) -> str:
        return self.user.id


class _RefreshToken:
    def __init__(self, record, scopes: list[str] | None) -> None:
        self.record = record
        self.scopes = scopes

    def check_client(self, client: LabClient) -> bool:
        return self.record.client_id == client.client.id

    def get_scope(self) -> str | None:
        return list_to_scope(self.scopes) if self.scopes is not None else None


# -- requests -----------------------------------------------------------------------------------
class _Payload(OAuth2Payload):
    def __init__(self, values) -> None:
        self._values = values

    @property
    def data(self) -> dict:
        return {key: self._values.get(key) for key in self._values}

    @property
    def datalist(self) -> dict:
        return {key: self._values.getlist(key) for key in self._values}


class LabOAuth2Request(OAuth2Request):
    """A werkzeug request as Authlib reads it. The authorize endpoint reads the query string, the
    token and revocation endpoints the form body (as Cognito does)."""

    def __init__(self, request, values=None) -> None:
        super().__init__(request.method, request.url, headers=request.headers)
        self._request = request
        if values is None:
            values = request.args if request.method == "GET" else request.form
        self.payload = _Payload(values)

    @property
    def args(self):
        return self._request.args

    @property
    def form(self):
        return self._request.form


# -- grants -------------------------------------------------------------------------------------
class CognitoCodeChallenge(CodeChallenge):
    """PKCE as Cognito runs it: S256 only, and a challenge always names its method."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if data.get("code_challenge") and not data.get("code_challenge_method"):
            raise InvalidRequestError("code_challenge_method is required with code_challenge")
        if data.get("code_challenge_method") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        return super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def generate_authorization_code(self) -> str:
        return self.server.idp.uuid()            # Cognito's codes are UUIDs; the lab's are seeded

    def save_authorization_code(self, code, request) -> None:
        data = request.payload.data
        lab_user: LabUser = request.user
        self.server.oauth.codes[code] = AuthorizationCode(
            code=code, pool_id=self.server.pool.id, client_id=request.client.client.id,
            redirect_uri=request.payload.redirect_uri or request.client.get_default_redirect_uri(),
            scope=request.scope, username=lab_user.user.username, sub=lab_user.user.id,
            expires_at=self.server.idp.now() + AUTHORIZATION_CODE_TTL, nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"), code_challenge_method=data.get("code_challenge_method"))

    def query_authorization_code(self, code, client):
        # Consumed by the first attempt to redeem it, whatever happens next: an intercepted code
        # cannot be tried again with another verifier or redirect URI.
        record = self.server.oauth.codes.pop(code, None)
        if record is None or record.client_id != client.client.id or record.pool_id != self.server.pool.id:
            return None
        if self.server.idp.now() >= record.expires_at:
            return None
        return record

    def delete_authorization_code(self, authorization_code) -> None:
        pass                                     # already consumed by query_authorization_code

    def authenticate_user(self, authorization_code):
        user = self.server.pool._get_user(authorization_code.username)
        if user is None or user.id != authorization_code.sub or not user.enabled:
            return None
        return LabUser(user, nonce=authorization_code.nonce)


class ImplicitTokenGrant(grants.ImplicitGrant):
    """``response_type=token``: tokens in the redirect's fragment, never a refresh token."""

    def authenticate_token_endpoint_client(self):
        client = self.server.query_client(self.request.payload.client_id)
        if client is None:
            raise InvalidClientError()
        return client


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    # Cognito returns no new refresh token, unless the app client rotates them (developer guide,
    # "Refresh tokens": the grant issues "optionally (with refresh token rotation) refresh tokens");
    # _generate_token adds it then.
    INCLUDE_NEW_REFRESH_TOKEN = False

    def authenticate_refresh_token(self, refresh_token):
        idp = self.server.idp
        record = idp.refresh_tokens.get(refresh_token)
        if record is None or record.pool_id != self.server.pool.id:
            return None
        if rotation.refresh_problem(idp, self.server.pool, record) is not None:
            return None      # revoked, rotated out, expired or no longer that user: invalid_grant
        return _RefreshToken(record, self.server.oauth.scopes_by_origin.get(record.origin_jti))

    def authenticate_user(self, refresh_token: _RefreshToken):
        user = self.server.pool._get_user(refresh_token.record.username)
        return LabUser(user, refresh=refresh_token.record, scopes=refresh_token.scopes)

    def revoke_old_credential(self, refresh_token) -> None:
        # Without rotation the refresh token stays valid; with it, it works for RetryGracePeriodSeconds
        # more (the lab applies the client's grace period here as in GetTokensFromRefreshToken).
        client = self.request.client.client
        if rotation.enabled(client):
            rotation.mark_rotated(self.server.idp, refresh_token.record, client)


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """Machine to machine: custom scopes only; no scope requested means all the client allows."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def validate_token_request(self):
        super().validate_token_request()
        allowed = [s for s in self.request.client.config["scopes"] if is_custom(s)]
        requested = scope_to_list(self.request.payload.scope) if self.request.payload.scope else allowed
        if not requested or any(s not in allowed for s in requested):
            raise InvalidScopeError()
        self.request.scope = list_to_scope(requested)

    def create_token_response(self):
        token = self.generate_token(scope=self.request.scope, include_refresh_token=False)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class CognitoRevocation(RevocationEndpoint):
    """``/oauth2/revoke``: revokes a refresh token and every access token issued from it."""

    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def authenticate_token(self, request, client):
        token = request.form.get("token")
        if not token:
            raise InvalidRequestError()
        if client.client.extended_config.get("EnableTokenRevocation") is False:
            raise InvalidRequestError()          # "if the feature is disabled for the app client"
        if token.count(".") == 2:
            raise UnsupportedTokenType()         # an access or ID token: only refresh tokens revoke
        record = self.server.idp.refresh_tokens.get(token)
        if record is None:
            return None                          # RFC 7009: an unknown token is answered 200
        if record.client_id != client.client.id:
            raise InvalidGrantError()
        return record

    def revoke_token(self, token, request) -> None:
        self.server.idp.revoked_origins.add(token.origin_jti)


class UnsupportedTokenType(OAuth2Error):
    error = "unsupported_token_type"
    status_code = 400


# -- the server ---------------------------------------------------------------------------------
class CognitoAuthorizationServer(AuthorizationServer):
    """Authlib's authorization server for one user pool (the one that owns the domain)."""

    def __init__(self, idp_state, backend, pool) -> None:
        super().__init__()
        self.idp = idp_state
        self.backend = backend
        self.pool = pool
        self.oauth = oauth_state(idp_state)
        self.register_grant(CodeGrant, [CognitoCodeChallenge(required=False)])
        self.register_grant(ImplicitTokenGrant)
        self.register_grant(RefreshGrant)
        self.register_grant(ClientCredentialsGrant)
        self.register_endpoint(CognitoRevocation)
        self.register_token_generator("default", self._generate_token)

    # Authlib's framework hooks
    def query_client(self, client_id):
        client = self.pool.clients.get(client_id) if isinstance(client_id, str) else None
        return LabClient(self.pool, client) if client is not None else None

    def save_token(self, token, request) -> None:
        pass                                     # mint_tokens already recorded what it issued

    def send_signal(self, name, *args, **kwargs) -> None:
        pass

    def create_oauth2_request(self, request):
        return request if isinstance(request, OAuth2Request) else LabOAuth2Request(request)

    def validate_requested_scope(self, scope) -> None:
        pass                                     # each client's AllowedOAuthScopes decide (LabClient)

    def handle_response(self, status, body, headers):
        from werkzeug.wrappers import Response

        headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
        if isinstance(body, dict):
            if "error" in body:
                body = {"error": body["error"]}  # Cognito answers the error code alone
            return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")
        return Response(body or "", status=status, headers=headers)

    # tokens
    def _generate_token(self, grant_type, client: LabClient, user: LabUser | None = None, scope=None,
                        expires_in=None, include_refresh_token=True) -> dict:
        scopes = scope_to_list(scope) if scope else []
        if grant_type == "client_credentials":
            return self._client_credentials_token(client, scopes)
        refresh = user.refresh if grant_type == "refresh_token" else None
        if grant_type == "refresh_token" and user.scopes is None:
            scopes = None                        # a refresh token from the API flows refreshes as they do
        rotate = refresh is not None and rotation.enabled(client.client)
        result = flows.mint_tokens(self.idp, self.pool, client.client, user.user, refresh=refresh,
                                   scopes=scopes, nonce=user.nonce,
                                   trigger_source=None if refresh else "TokenGeneration_HostedAuth",
                                   rotate=rotate)["AuthenticationResult"]
        token: dict[str, Any] = {}
        if scopes is None or "openid" in scopes:
            token["id_token"] = result["IdToken"]
        token.update({"access_token": result["AccessToken"], "expires_in": result["ExpiresIn"],
                      "token_type": "Bearer"})
        new_refresh = result.get("RefreshToken")
        if new_refresh is not None:
            record = self.idp.refresh_tokens[new_refresh]
            if grant_type == "refresh_token":
                token["refresh_token"] = new_refresh     # rotation: same family, same scopes
            elif grant_type == "authorization_code" and include_refresh_token:
                token["refresh_token"] = new_refresh
                self.oauth.scopes_by_origin[record.origin_jti] = list(scopes or [])
            else:
                # The implicit grant gets no refresh token: keep its family (GlobalSignOut still
                # revokes its access token) under a key no client ever holds.
                del self.idp.refresh_tokens[new_refresh]
                self.pool.refresh_tokens.pop(new_refresh, None)
                self.idp.refresh_tokens["(implicit grant) " + self.idp.opaque()] = record
        return token

    def _client_credentials_token(self, client: LabClient, scopes: list[str]) -> dict:
        """An access token for the app client itself: no user, no ID or refresh token."""
        now = int(self.idp.now())
        ttl = token_validity_seconds(client.client.extended_config, "AccessToken")
        claims = {"sub": client.client.id, "token_use": "access", "scope": " ".join(scopes),
                  "auth_time": now, "iss": self.idp.lab.issuer(self.pool.id), "exp": now + ttl, "iat": now,
                  "version": 2, "jti": self.idp.uuid(), "client_id": client.client.id}
        from . import triggers

        triggers.pre_token_generation_machine(self.idp, self.pool, client.client, claims)
        access_token = self.idp.keys.key_for(self.pool.id, "access").sign(claims)
        return {"access_token": access_token, "expires_in": ttl, "token_type": "Bearer"}


def server_for(idp_state, backend, pool) -> CognitoAuthorizationServer:
    return CognitoAuthorizationServer(idp_state, backend, pool)


# -- userInfo -----------------------------------------------------------------------------------
PROFILE_ATTRIBUTES = frozenset({
    "name", "family_name", "given_name", "middle_name", "nickname", "preferred_username", "profile",
    "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at", "address"})
SCOPE_ATTRIBUTES = {"email": {"email", "email_verified"}, "phone": {"phone_number", "phone_number_verified"}}


def user_info(pool, client, user, scopes: list[str]) -> dict:
    """What ``/oauth2/userInfo`` answers for an access token with ``scopes`` (it has ``openid``).

    userInfo endpoint reference: ``openid`` alone returns every attribute the app client can read;
    ``profile`` the profile attributes and custom ones; ``email`` / ``phone`` add those attributes
    and their verified flags. Always ``sub`` and ``username``; never more than the client may read.
    """
    from . import attributes

    readable = attributes.readable(pool, client)
    wanted = {s for s in scopes if s in ("profile", "email", "phone")}
    answer: dict[str, Any] = {"sub": user.id}
    for name, value in user.attribute_lookup.items():
        if name == "sub" or name not in readable:
            continue
        if wanted:
            in_scope = (("profile" in wanted and (name in PROFILE_ATTRIBUTES or name.startswith("custom:")))
                        or any(name in SCOPE_ATTRIBUTES[s] for s in wanted if s in SCOPE_ATTRIBUTES))
            if not in_scope:
                continue
        answer[name] = value
    answer["username"] = user.username
    return answer


def mfa_step(state, pool, user) -> str | None:
    """Which MFA step signing in stops at, by the rule of the API flows' MFA step: None (no MFA),
    ``SOFTWARE_TOKEN_MFA``, ``SMS_MFA`` or ``MFA_SETUP`` (MFA required, no factor yet). Where the
    API would ask the user to choose (both factors, no preference), the hosted UI takes TOTP."""
    mfa = pool.mfa_config or "OFF"
    totp_ready = user.software_token_mfa_enabled and (pool.id, user.username) in state.totp
    phone = user.attribute_lookup.get("phone_number")
    sms_ready = user.sms_mfa_enabled and phone
    if mfa == "OFF" or (mfa == "OPTIONAL" and not (totp_ready or sms_ready)):
        return None
    if totp_ready and (user.preferred_mfa_setting != "SMS_MFA" or not sms_ready):
        return "SOFTWARE_TOKEN_MFA"
    if sms_ready or (mfa == "ON" and pool.sms_mfa_config and phone):
        return "SMS_MFA"
    return "MFA_SETUP"


@dataclass
class PendingSignIn:
    """A sign-in between its password and its last step (new password, MFA code)."""

    pool_id: str
    client_id: str
    username: str
    sub: str
    step: str                     # NEW_PASSWORD_REQUIRED, SOFTWARE_TOKEN_MFA, SMS_MFA or MFA_SETUP;
    expires_at: float             # CONFIRM_SIGN_UP / CONFIRM_FORGOT_PASSWORD for the hosted UI's code pages
    sms_code: str | None = None
    totp_secret: str | None = None   # MFA_SETUP: the authenticator secret the page shows
    details: dict | None = None      # the code pages: CodeDeliveryDetails (where the code went)


__all__ += ["mfa_step", "PendingSignIn", "ADMIN_SCOPE"]
