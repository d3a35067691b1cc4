"""A small OpenID Connect identity provider on 127.0.0.1 that plays a social provider ("Google").

Cognito's federation needs a second party: an identity provider with its own issuer, signing keys,
sign-in page, users and token endpoint. AWS talks to the real Google; the lab, offline, talks to
this one. It is a real OIDC provider (Authlib's authorization server, ``authlib.oidc.core`` for the
ID token), on its own port, so a browser sees two origins as it would in production:

=====================================  ===============================================================
``GET  /.well-known/openid-configuration``  its discovery document (issuer, endpoints, ``jwks_uri``)
``GET  /jwks``                          its public signing key
``GET  /authorize``                     a plain HTML sign-in form (``username``, ``password``)
``POST /authorize``                     checks the password, back to the ``redirect_uri`` with a code
``POST /token``                         ``authorization_code`` → ``id_token`` + ``access_token``
``GET  /userinfo``                      the user's claims for its access token
=====================================  ===============================================================

One OAuth client is registered (``client_id`` / ``client_secret``); the redirect URIs it accepts
are added with :meth:`SocialProvider.allow_redirect_uri` (at Google: the "Authorized redirect URIs"
of the OAuth client, where you enter ``https://<your domain>/oauth2/idpresponse``).

Times come from the lab's clock; ``sub`` values and secrets from a generator seeded by the lab's
seed, so a seeded lab gives the same users the same ``sub`` every run.
"""
from __future__ import annotations

import hashlib
import hmac
import html
import json
import random
import threading
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode

__all__ = ["SocialProvider", "SocialUser", "SOCIAL_PROVIDERS"]

#: The social providers the lab can play, with the scopes each one's OIDC answers.
SOCIAL_PROVIDERS = ("Google",)
CODE_TTL = 600
TOKEN_TTL = 3600
_CLAIMS = ("email", "email_verified", "name", "given_name", "family_name", "picture", "locale")


@dataclass
class SocialUser:
    """A user of the social provider (not of Cognito): ``sub`` is the provider's id for them."""

    sub: str
    email: str
    password: str = field(repr=False)
    claims: dict[str, Any] = field(default_factory=dict)

    def get_user_id(self) -> str:
        return self.sub


@dataclass
class _Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    sub: str
    nonce: str | None
    auth_time: int
    expires_at: float

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None


class _Client(ClientMixin):
    def __init__(self, provider: "SocialProvider") -> None:
        self.provider = provider

    def get_client_id(self):
        return self.provider.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        allowed = {"openid", "email", "profile"}
        return " ".join(s for s in (scope or "openid").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.provider.redirect_uris

    def check_client_secret(self, client_secret):
        return hmac.compare_digest(self.provider.client_secret, str(client_secret))

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


class _Payload(OAuth2Payload):
    def __init__(self, values) -> None:
        self._values = values

    @property
    def data(self):
        return {k: self._values.get(k) for k in self._values}

    @property
    def datalist(self):
        return {k: self._values.getlist(k) for k in self._values}


class _Request(OAuth2Request):
    def __init__(self, request) -> None:
        super().__init__(request.method, request.url, headers=request.headers)
        self._request = request
        self.payload = _Payload(request.args if request.method == "GET" else request.form)

    @property
    def args(self):
        return self._request.args

    @property
    def form(self):
        return self._request.form


class _CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code, request):
        p = self.server.provider
        p._codes[code] = _Code(code, request.client.get_client_id(), request.payload.redirect_uri,
                               request.scope, request.user.sub, request.payload.data.get("nonce"),
                               int(p.now()), p.now() + CODE_TTL)

    def query_authorization_code(self, code, client):
        record = self.server.provider._codes.pop(code, None)        # single use
        if record is None or self.server.provider.now() >= record.expires_at:
            return None
        return record

    def delete_authorization_code(self, authorization_code):
        pass

    def authenticate_user(self, authorization_code):
        return self.server.provider._users_by_sub.get(authorization_code.sub)


class _OpenIDCode(OpenIDCode):
    def __init__(self, provider: "SocialProvider") -> None:
        super().__init__(require_nonce=False)
        self.provider = provider

    def exists_nonce(self, nonce, request):
        return False

    def resolve_client_private_key(self, client):
        return self.provider._jwk_private

    def get_client_algorithm(self, client):
        return "RS256"

    def get_encode_header(self, client):
        return {"alg": "RS256", "kid": self.provider.kid}

    def get_client_claims(self, client):
        now = int(self.provider.now())
        return {"iss": self.provider.issuer, "aud": client.get_client_id(), "iat": now, "exp": now + TOKEN_TTL}

    def generate_user_info(self, user: SocialUser, scope):
        return UserInfo(self.provider.claims_for(user, scope))


class _Server(AuthorizationServer):
    def __init__(self, provider: "SocialProvider") -> None:
        super().__init__()
        self.provider = provider
        self.register_grant(_CodeGrant, [_OpenIDCode(provider)])
        self.register_token_generator("default", self._token)

    def query_client(self, client_id):
        return _Client(self.provider) if client_id == self.provider.client_id else None

    def save_token(self, token, request):
        self.provider._access_tokens[token["access_token"]] = (request.user.sub, token.get("scope", ""),
                                                               self.provider.now() + TOKEN_TTL)

    def send_signal(self, *args, **kwargs):
        pass

    def create_oauth2_request(self, request):
        return request if isinstance(request, OAuth2Request) else _Request(request)

    def handle_response(self, status, body, headers):
        from werkzeug.wrappers import Response

        if isinstance(body, dict):
            return Response(json.dumps(body), status=status, headers=headers)
        return Response(body or "", status=status, headers=headers)

    def _token(self, grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True):
        return {"access_token": self.provider._opaque(24), "token_type": "Bearer", "expires_in": TOKEN_TTL,
                "scope": scope or ""}


class SocialProvider:
    """An OIDC identity provider on ``http://127.0.0.1:<port>`` playing ``name`` (e.g. "Google").

    Get one with ``lab.social_provider("Google")``; give it users with :meth:`add_user`; point a
    user pool at it with CreateIdentityProvider (see :meth:`provider_details`).
    """

    def __init__(self, lab, name: str) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa
        from joserfc.jwk import RSAKey

        self.lab = lab
        self.name = name
        self._rng = random.Random(f"labkit:{lab.seed}:social:{name}") if lab.seed is not None else random.SystemRandom()
        self.client_id = f"{self._digits(12)}-{self._opaque(16).lower()}.apps.lab.local"
        self.client_secret = self._opaque(24)
        self.redirect_uris: set[str] = set()
        self._users: dict[str, SocialUser] = {}
        self._users_by_sub: dict[str, SocialUser] = {}
        self._codes: dict[str, _Code] = {}
        self._access_tokens: dict[str, tuple[str, str, float]] = {}
        self._lock = threading.Lock()
        self.sign_ins = 0                      # how many times a user signed in here (for lessons)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._jwk_private = RSAKey.import_key(key)
        self.kid = hashlib.sha256(self._jwk_private.as_dict(private=False)["n"].encode()).hexdigest()[:16]
        self._server = _Server(self)
        self._http = None
        self._thread = None
        self.issuer = ""

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> "SocialProvider":
        from werkzeug.serving import make_server

        from .server import _quiet_handler_class

        self._http = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_quiet_handler_class())
        self.issuer = f"http://127.0.0.1:{self._http.server_port}"
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"labkit-social-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None

    def __repr__(self) -> str:
        return (f"<SocialProvider {self.name!r} at {self.issuer or '(stopped)'}, {len(self._users)} user(s), "
                f"client_id={self.client_id!r}>")

    # -- what an administrator configures ------------------------------------------------------
    def add_user(self, email: str, password: str, **claims: Any) -> SocialUser:
        """A user of this provider (``email`` signs in with ``password``). ``claims``: what the
        provider says about them (``name``, ``given_name``, ``family_name``, ``picture``, …)."""
        if email in self._users:
            raise ValueError(f"{self.name} already has a user {email!r}")
        sub = self._digits(21)                 # Google's subs are 21 digits
        user = SocialUser(sub, email, password, {"email": email, "email_verified": True, **claims})
        self._users[email] = user
        self._users_by_sub[sub] = user
        return user

    def allow_redirect_uri(self, uri: str) -> None:
        """Accept ``uri`` as a redirect URI of the OAuth client (Cognito's ``…/oauth2/idpresponse``)."""
        self.redirect_uris.add(uri)

    def provider_details(self, scopes: str = "openid email profile") -> dict[str, str]:
        """``ProviderDetails`` for CreateIdentityProvider: ``client_id``, ``client_secret``, ``authorize_scopes``."""
        return {"client_id": self.client_id, "client_secret": self.client_secret, "authorize_scopes": scopes}

    @property
    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token", "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks", "response_types_supported": ["code"],
            "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        }

    def jwks(self) -> dict:
        return {"keys": [{**self._jwk_private.as_dict(private=False), "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def claims_for(self, user: SocialUser, scope: str) -> dict[str, Any]:
        scopes = set((scope or "").split())
        claims: dict[str, Any] = {"sub": user.sub}
        for name, value in user.claims.items():
            if name in ("email", "email_verified"):
                if "email" in scopes:
                    claims[name] = value
            elif "profile" in scopes or name not in _CLAIMS:
                claims[name] = value
        return claims

    # -- helpers ----------------------------------------------------------------------------
    def now(self) -> float:
        return self.lab.clock.time()

    def _digits(self, n: int) -> str:
        return "".join(str(self._rng.randrange(10)) for _ in range(n))

    def _opaque(self, n: int) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(self._rng.choice(alphabet) for _ in range(n))

    # -- HTTP ---------------------------------------------------------------------------------
    def _wsgi(self, environ, start_response):
        from werkzeug.wrappers import Request

        request = Request(environ)
        with self._lock:
            response = self._route(request)
        return response(environ, start_response)

    def _route(self, request):
        from werkzeug.wrappers import Response

        path = request.path.rstrip("/")
        if path == "/.well-known/openid-configuration":
            return Response(json.dumps(self.discovery), content_type="application/json")
        if path == "/jwks":
            return Response(json.dumps(self.jwks()), content_type="application/json")
        if path == "/authorize":
            return self._authorize(request)
        if path == "/token" and request.method == "POST":
            return self._server.create_token_response(request)
        if path == "/userinfo":
            return self._userinfo(request)
        return Response("Not found", status=404)

    def _page(self, request, message: str | None = None, status: int = 200):
        from werkzeug.wrappers import Response

        error = f'<p class="error" id="error">{html.escape(message)}</p>\n' if message else ""
        action = html.escape(f"/authorize?{request.query_string.decode('latin-1')}")
        body = (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in with {self.name}"
                f"</title></head><body>\n<h1>Sign in with {html.escape(self.name)} (the lab's local provider)</h1>\n"
                f"{error}<form method=\"post\" action=\"{action}\">\n"
                '<label for="username">Email</label>\n<input id="username" name="username" type="email" required>\n'
                '<label for="password">Password</label>\n<input id="password" name="password" type="password" required>\n'
                '<input type="submit" name="signInSubmitButton" value="Sign in">\n</form>\n</body></html>\n')
        return Response(body, status=status, content_type="text/html; charset=utf-8")

    def _authorize(self, request):
        from authlib.oauth2.rfc6749.errors import OAuth2Error
        from werkzeug.wrappers import Response

        oauth_request = _Request(request)
        oauth_request.payload = _Payload(request.args)          # the parameters stay in the query
        try:
            grant = self._server.get_consent_grant(oauth_request)
        except OAuth2Error as error:
            return Response(f"{self.name}: {error.error} ({error.description or 'invalid request'})", status=400)
        if request.method == "GET":
            return self._page(request)
        user = self._users.get(request.form.get("username") or "")
        if user is None or not hmac.compare_digest(user.password, request.form.get("password") or ""):
            return self._page(request, "Wrong email or password.", 200)
        self.sign_ins += 1
        return self._server.create_authorization_response(oauth_request, grant_user=user, grant=grant)

    def _userinfo(self, request):
        from werkzeug.wrappers import Response

        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        entry = self._access_tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if entry is None or self.now() >= entry[2]:
            return Response(json.dumps({"error": "invalid_token"}), status=401, content_type="application/json")
        user = self._users_by_sub[entry[0]]
        return Response(json.dumps(self.claims_for(user, entry[1])), content_type="application/json")
