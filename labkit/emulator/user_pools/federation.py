"""Federation: signing in to a user pool through an external OIDC identity provider (IdP).

What Cognito does, and the lab with it:

1. ``/oauth2/authorize?identity_provider=Google&…`` (or ``idp_identifier=…``): after the usual
   checks of the authorize request (client, exact ``redirect_uri``, scopes), the browser is sent to
   the IdP's authorization endpoint with Cognito's own ``client_id`` *at the IdP*, the provider's
   ``authorize_scopes``, a ``state`` of its own, and ``redirect_uri`` =
   ``https://<domain>/oauth2/idpresponse``.
2. The user signs in at the IdP, which redirects to ``/oauth2/idpresponse?code=…&state=…``.
3. Cognito redeems that code at the IdP's token endpoint (with the client secret), verifies the
   IdP's ID token (its issuer, its audience, its signature from the IdP's JWKS), and reads the
   claims (plus userInfo, as ``attributes_request_method`` says).
4. It finds or creates the **federated user**: username ``<ProviderName>_<sub at the IdP>``,
   status ``EXTERNAL_PROVIDER``, no password; the ``identities`` attribute records the link. The
   ``AttributeMapping`` (user-pool attribute → IdP claim) writes attributes at every sign-in.
5. It signs the browser in to the hosted UI and sends it back to the app with *Cognito's* code,
   exactly as a password sign-in would: the app never sees the IdP's tokens.

Where the IdP lives: ``ProviderType="OIDC"`` reads ``oidc_issuer`` (its discovery document, or the
explicit ``authorize_url`` / ``token_url`` / ``attributes_url`` / ``jwks_uri``).
``ProviderType="Google"`` has no issuer to configure at AWS (Cognito knows Google's endpoints); in
the lab it means the lab's local provider started by ``lab.social_provider("Google")``. SAML
providers can be created (moto stores them) but the lab's hosted UI does not run SAML.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .. import errors as E
from . import triggers

__all__ = ["PROVIDER_TYPES", "check_create_identity_provider", "provider_for_request", "federated_username",
           "PendingFederation", "start", "take_pending", "complete"]

PROVIDER_TYPES = ("SAML", "Facebook", "Google", "LoginWithAmazon", "SignInWithApple", "OIDC")
#: Required ProviderDetails by type (CreateIdentityProvider API reference).
_REQUIRED_DETAILS = {
    "Google": ("client_id", "client_secret", "authorize_scopes"),
    "OIDC": ("client_id", "authorize_scopes", "oidc_issuer", "attributes_request_method"),
}
#: How long Cognito waits for the browser to come back from the IdP (the lab's choice).
FEDERATION_TTL = 600


def check_create_identity_provider(backend, params: dict) -> None:
    """CreateIdentityProvider: a known ProviderType, a unique name, the details the type needs."""
    pool = backend.user_pools.get(params.get("UserPoolId"))
    if pool is None:
        raise E.resource_not_found(f"User pool {params.get('UserPoolId')} does not exist.")
    name, kind = params.get("ProviderName") or "", params.get("ProviderType")
    if kind not in PROVIDER_TYPES:
        raise E.invalid_parameter(f"ProviderType must be one of {', '.join(PROVIDER_TYPES)}.")
    if name in pool.identity_providers:
        raise E.CognitoError("DuplicateProviderException", "A provider with the name " + name + " already exists.")
    if name == "COGNITO" or (kind in ("Google", "Facebook", "LoginWithAmazon", "SignInWithApple") and name != kind):
        raise E.invalid_parameter(f"ProviderName for a {kind} provider must be {kind}.")
    details = params.get("ProviderDetails") or {}
    missing = [key for key in _REQUIRED_DETAILS.get(kind, ()) if not details.get(key)]
    if missing:
        raise E.invalid_parameter(f"ProviderDetails is missing {', '.join(missing)} for a {kind} provider.")
    if kind == "OIDC" and details.get("attributes_request_method") not in ("GET", "POST"):
        raise E.invalid_parameter("attributes_request_method must be GET or POST.")


def provider_group(pool, provider_name: str):
    """The group Cognito makes for each IdP: "The name of the group is in the format [user pool
    ID]_[IdP name] … Each unique automatically-generated IdP user profile is automatically added to
    this group" (developer guide, "Adding groups to a user pool"). Created if missing; returned."""
    from moto.cognitoidp.models import CognitoIdpGroup

    name = f"{pool.id}_{provider_name}"
    if name not in pool.groups:
        pool.groups[name] = CognitoIdpGroup(pool.id, name, "", None, None)
    return pool.groups[name]


def federated_username(provider_name: str, subject: str) -> str:
    """The user-pool username of a federated user: ``Google_107…`` (provider name, ``_``, the IdP's ``sub``)."""
    return f"{provider_name}_{subject}"


def provider_for_request(pool, values) -> tuple[str | None, Any]:
    """Which external IdP an authorize request names: ``identity_provider`` (a name), or
    ``idp_identifier`` (one of a provider's IdpIdentifiers). Returns (name, provider) — (None,
    None) for the user pool's own sign-in — or (name, None) when no such provider exists."""
    name = values.get("identity_provider")
    if name is None and values.get("idp_identifier"):
        wanted = values.get("idp_identifier")
        for provider_name, provider in pool.identity_providers.items():
            if wanted in (provider.extended_config.get("IdpIdentifiers") or []):
                return provider_name, provider
        return wanted, None
    if name is None or name == "COGNITO":
        return None, None
    return name, pool.identity_providers.get(name)


@dataclass
class PendingFederation:
    """A browser sent to an IdP, until it comes back to /oauth2/idpresponse (one use)."""

    pool_id: str
    provider_name: str
    values: Any               # the app's authorize parameters (a werkzeug MultiDict)
    expires_at: float


def _endpoints(state, provider) -> dict[str, str]:
    """The IdP's endpoints: the local social provider for Google, discovery for OIDC."""
    cfg = provider.extended_config
    details = cfg.get("ProviderDetails") or {}
    kind = cfg.get("ProviderType")
    if kind == "Google":
        local = getattr(state.lab, "_social", {}).get("Google")
        if local is None:
            raise E.CognitoError("FederationError", "This lab plays Google with a local provider: call "
                                 "lab.social_provider('Google') before signing in with Google.")
        return local.discovery
    if kind != "OIDC":
        raise E.CognitoError("FederationError", f"The lab's hosted UI signs in through OIDC and Google providers only, "
                             f"not {kind} (README: SAML is described, not emulated).")
    found = {"issuer": details["oidc_issuer"].rstrip("/")}
    explicit = {"authorization_endpoint": details.get("authorize_url"), "token_endpoint": details.get("token_url"),
                "userinfo_endpoint": details.get("attributes_url"), "jwks_uri": details.get("jwks_uri")}
    if not all(explicit.values()):
        response = _http().get(found["issuer"] + "/.well-known/openid-configuration", timeout=10)
        response.raise_for_status()
        found.update(response.json())
    found.update({k: v for k, v in explicit.items() if v})
    return found


def _http():
    import requests

    session = requests.Session()
    session.trust_env = False              # the IdP is on 127.0.0.1: never through a proxy
    return session


def start(call, provider_name: str, provider, values) -> str:
    """Step 1: where to send the browser — the IdP's authorization endpoint, with Cognito's
    ``client_id`` there, the provider's ``authorize_scopes``, a single-use state of Cognito's own
    and ``redirect_uri`` = ``/oauth2/idpresponse``. Raises CognitoError if the IdP is unusable."""
    from . import oauth

    endpoints = _endpoints(call.state, provider)
    details = provider.extended_config.get("ProviderDetails") or {}
    state_value = call.state.opaque(32)
    oauth.oauth_state(call.state).federation[state_value] = PendingFederation(
        call.pool.id, provider_name, values.copy(), call.state.now() + FEDERATION_TTL)
    query = urlencode({"client_id": details["client_id"], "response_type": "code",
                       "scope": details.get("authorize_scopes", "openid"), "state": state_value,
                       "redirect_uri": idp_response_url(call)})
    return f"{endpoints['authorization_endpoint']}?{query}"


def idp_response_url(call) -> str:
    """Where IdPs send the browser back: ``https://<domain>/oauth2/idpresponse``."""
    return f"{call.request.host_url.rstrip('/')}{call.base}/oauth2/idpresponse"


def take_pending(call) -> PendingFederation | None:
    """The sign-in the IdP's ``state`` names (consumed: one use), if it is this pool's and not expired."""
    from . import oauth

    pending = oauth.oauth_state(call.state).federation.pop(call.request.args.get("state") or "", None)
    if pending is None or pending.pool_id != call.pool.id or call.state.now() >= pending.expires_at:
        return None
    return pending


def complete(call, pending: PendingFederation):
    """Steps 3–4: redeem the IdP's code, verify its ID token, find or create the federated user.
    Raises CognitoError when the IdP or its token fails."""
    provider = call.pool.identity_providers.get(pending.provider_name)
    if provider is None:
        raise E.CognitoError("FederationError", f"The identity provider {pending.provider_name} no longer exists.")
    claims = _redeem(call, provider, call.request.args["code"])
    client = call.pool.clients.get(pending.values.get("client_id") or "")
    return _federated_user(call.state, call.pool, pending.provider_name, provider, claims, client)


def _redeem(call, provider, code: str) -> dict:
    """Redeem the IdP's code, verify its ID token, and return the user's claims."""
    import jwt

    endpoints = _endpoints(call.state, provider)
    details = provider.extended_config.get("ProviderDetails") or {}
    http = _http()
    answer = http.post(endpoints["token_endpoint"], timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": idp_response_url(call),
        "client_id": details["client_id"], "client_secret": details.get("client_secret", "")})
    if answer.status_code != 200 or "id_token" not in answer.json():
        raise E.CognitoError("FederationError", f"The identity provider refused the code ({answer.text[:200]}).")
    tokens = answer.json()
    jwks = jwt.PyJWKSet.from_dict(http.get(endpoints["jwks_uri"], timeout=10).json())
    header = jwt.get_unverified_header(tokens["id_token"])
    keys = [k for k in jwks.keys if k.key_id == header.get("kid")] or list(jwks.keys)
    try:
        claims = _decode_on_lab_clock(call.state, tokens["id_token"], keys[0].key, details["client_id"],
                                      endpoints["issuer"])
    except jwt.PyJWTError as problem:
        raise E.CognitoError("FederationError", f"The identity provider's ID token is not valid: {problem}.") from None
    userinfo = endpoints.get("userinfo_endpoint")
    if userinfo and tokens.get("access_token"):
        extra = http.get(userinfo, headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10)
        if extra.status_code == 200:
            claims = {**extra.json(), **claims}
    return claims


def _decode_on_lab_clock(state, token: str, key, audience: str, issuer: str) -> dict:
    """Verify an IdP's ID token on the lab's clock (signature, audience, issuer, expiry)."""
    import jwt

    claims = jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=issuer,
                        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False})
    if state.now() >= float(claims.get("exp", 0)):
        raise jwt.ExpiredSignatureError("Signature has expired")
    return claims


def _federated_user(state, pool, provider_name: str, provider, claims: dict, client=None):
    """Find or create ``<ProviderName>_<sub>`` (EXTERNAL_PROVIDER) and write the mapped attributes."""
    from moto.cognitoidp.models import CognitoIdpUser

    kind = provider.extended_config.get("ProviderType")
    mapping = dict(provider.extended_config.get("AttributeMapping") or {})
    subject = str(claims.get(mapping.get("username", "sub")) or claims["sub"])
    username = federated_username(provider_name, subject)
    mapped = []
    for attribute, claim in mapping.items():
        if attribute == "username" or claim not in claims:
            continue
        value = claims[claim]
        value = str(value).lower() if isinstance(value, bool) else str(value)
        mapped.append({"Name": attribute, "Value": value})
    user = pool.users.get(username)
    if user is None:
        # First sign-in: the pre sign-up trigger (PreSignUp_ExternalProvider) sees the mapped
        # attributes before the user exists, and may refuse; after it, the post confirmation trigger
        # (PostConfirmation_ConfirmSignUp). Developer guide, "Customizing user pool workflows with
        # Lambda triggers", Lambda triggers for federated users. Later sign-ins run pre authentication
        # instead; post authentication runs for both when the tokens are issued.
        triggers.pre_sign_up(state, pool, "PreSignUp_ExternalProvider", username,
                             {m["Name"]: m["Value"] for m in mapped})
        user = CognitoIdpUser(pool.id, username, None, "EXTERNAL_PROVIDER", [])
        identity = {"userId": subject, "providerName": provider_name, "providerType": kind,
                    "issuer": None if kind != "OIDC" else (provider.extended_config.get("ProviderDetails") or {})
                    .get("oidc_issuer"), "primary": "true", "dateCreated": str(int(state.now() * 1000))}
        user.update_attributes([{"Name": "identities", "Value": json.dumps([identity])}])
        if mapped:
            user.update_attributes(mapped)
        pool.users[username] = user
        group = provider_group(pool, provider_name)
        group.users.add(user)
        user.groups.add(group)
        triggers.post_confirmation(state, pool, user, "PostConfirmation_ConfirmSignUp")
    else:
        if client is not None:                 # later sign-ins: PreAuthentication_Authentication (same table)
            triggers.pre_authentication(state, pool, client, user)
        if mapped:
            user.update_attributes(mapped)     # "Amazon Cognito updates mapped attributes at every sign-in"
    return user
