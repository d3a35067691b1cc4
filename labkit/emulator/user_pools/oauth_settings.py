"""User-pool domains, resource servers and app clients' OAuth settings, as Cognito checks them.

moto stores domains (CreateUserPoolDomain), resource servers (CreateResourceServer) and every
OAuth setting of an app client, but checks almost nothing. The checks here run before moto does:

- a user pool has at most one prefix domain, and a prefix is unique in the region;
- DeleteUserPoolDomain names the pool that owns the domain, and a pool with a domain cannot be
  deleted ("User pool cannot be deleted. It has a domain configured that should be deleted first.");
- an app client's ``AllowedOAuthScopes`` are standard scopes or custom scopes of a resource server
  of the pool (else ``ScopeDoesNotExistException``); ``client_credentials`` is the only flow of a
  client that uses it, needs a client secret and custom scopes (``InvalidOAuthFlowException``);
  ``CallbackURLs`` / ``LogoutURLs`` are absolute, without a fragment, and HTTPS except on loopback
  ("Amazon Cognito requires HTTPS over HTTP except for callback URLs to http://localhost,
  http://127.0.0.1 and http://[::1]. These callback URLs are for testing purposes only. [...] App
  callback URLs such as myapp://example are also supported.", API reference CreateUserPoolClient, as
  in botocore 1.44's service model; older copies of the page named http://localhost only).

Where AWS's exact wording is not documented, the messages are the lab's own (README says so).

The lab serves every domain on its one port under a path prefix: the prefix domain ``myapp`` that
AWS serves at ``https://myapp.auth.<region>.amazoncognito.com`` is ``{lab.endpoint_url}/_domain/myapp``
(see :func:`domain_base_url`).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from .. import errors as E

#: The path under which the lab serves each user-pool domain: ``/_domain/<prefix>/oauth2/authorize``.
#: A leading underscore cannot start an S3 bucket name, so no path-style S3 request is taken for it.
DOMAIN_PATH = "/_domain/"

#: The OIDC scopes Cognito reserves, plus the one for the user-pool API itself.
OIDC_SCOPES = ("openid", "email", "phone", "profile")
ADMIN_SCOPE = "aws.cognito.signin.user.admin"
STANDARD_SCOPES = frozenset(OIDC_SCOPES + (ADMIN_SCOPE,))
OAUTH_FLOWS = ("code", "implicit", "client_credentials")
# Plain HTTP is allowed for these hosts only (API reference, CreateUserPoolClient CallbackURLs).
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def domain_base_url(endpoint_url: str, domain: str) -> str:
    """Where the lab serves ``domain``'s endpoints (AWS: ``https://<domain>.auth.<region>.amazoncognito.com``)."""
    return f"{endpoint_url.rstrip('/')}{DOMAIN_PATH}{domain}"


def endpoints(endpoint_url: str, domain: str) -> dict[str, str]:
    """The OAuth 2.0 / OIDC endpoints of ``domain``, by their discovery-document names."""
    base = domain_base_url(endpoint_url, domain)
    return {
        "authorization_endpoint": f"{base}/oauth2/authorize",
        "token_endpoint": f"{base}/oauth2/token",
        "userinfo_endpoint": f"{base}/oauth2/userInfo",
        "revocation_endpoint": f"{base}/oauth2/revoke",
        "end_session_endpoint": f"{base}/logout",
    }


def pool_domain(backend, pool_id: str) -> str | None:
    """The domain of user pool ``pool_id``, or None."""
    for name, domain in backend.user_pool_domains.items():
        if domain.user_pool_id == pool_id:
            return name
    return None


def pool_of_domain(backend, domain: str):
    """The user pool that owns ``domain``, or None."""
    entry = backend.user_pool_domains.get(domain)
    return backend.user_pools.get(entry.user_pool_id) if entry is not None else None


# -- domains ------------------------------------------------------------------------------------
def check_create_domain(backend, params: dict) -> None:
    """CreateUserPoolDomain: the pool exists, has no domain yet, and the prefix is free."""
    pool_id, domain = params.get("UserPoolId"), params.get("Domain")
    if pool_id not in backend.user_pools:
        raise E.resource_not_found(f"User pool {pool_id} does not exist.")
    if domain in backend.user_pool_domains:
        raise E.invalid_parameter("Domain already associated with another user pool.")
    existing = pool_domain(backend, pool_id)
    if existing is not None:
        raise E.invalid_parameter(f"User pool {pool_id} already has a domain configured: {existing}.")


def check_delete_domain(backend, params: dict) -> None:
    """DeleteUserPoolDomain: the domain exists and belongs to the pool the request names."""
    pool_id, domain = params.get("UserPoolId"), params.get("Domain")
    entry = backend.user_pool_domains.get(domain)
    if entry is None:
        raise E.resource_not_found(f"Domain {domain} does not exist.")
    if entry.user_pool_id != pool_id:
        raise E.invalid_parameter(f"Domain {domain} is not the domain of user pool {pool_id}.")


def check_delete_pool(backend, params: dict) -> None:
    """DeleteUserPool: a pool with a domain cannot be deleted until its domain is."""
    if pool_domain(backend, params.get("UserPoolId")) is not None:
        raise E.invalid_parameter("User pool cannot be deleted. It has a domain configured that should be "
                                  "deleted first.")


# -- resource servers and scopes ------------------------------------------------------------------
def custom_scopes(pool) -> set[str]:
    """Every ``<resource server identifier>/<scope name>`` the pool's resource servers define."""
    return {f"{server.identifier}/{scope.get('ScopeName')}"
            for server in pool.resource_servers.values() for scope in (server.scopes or [])}


def is_custom(scope: str) -> bool:
    return scope not in STANDARD_SCOPES


# -- app clients ----------------------------------------------------------------------------------
def check_client_oauth(pool, params: dict, *, has_secret: bool) -> None:
    """CreateUserPoolClient / UpdateUserPoolClient: refuse OAuth settings Cognito refuses."""
    flows = list(params.get("AllowedOAuthFlows") or [])
    scopes = list(params.get("AllowedOAuthScopes") or [])
    known = STANDARD_SCOPES | custom_scopes(pool)
    unknown = [s for s in scopes if s not in known]
    if unknown:
        raise E.CognitoError("ScopeDoesNotExistException", f"Invalid scope requested: {unknown[0]}")
    if "client_credentials" in flows:
        if len(set(flows)) > 1:
            raise E.CognitoError("InvalidOAuthFlowException",
                                 "client_credentials flow can not be selected along with code or implicit flow.")
        if not has_secret:
            raise E.CognitoError("InvalidOAuthFlowException",
                                 "client_credentials flow can not be selected if client does not have a client secret.")
        standard = [s for s in scopes if not is_custom(s)]
        if standard:
            raise E.CognitoError("InvalidOAuthFlowException",
                                 f"client_credentials flow can be used with custom scopes only, not {standard[0]}.")
    for field in ("CallbackURLs", "LogoutURLs"):
        for url in params.get(field) or []:
            problem = redirect_url_problem(url)
            if problem:
                raise E.invalid_parameter(f"{field}: {url} {problem}.")
    default = params.get("DefaultRedirectURI")
    if default and default not in (params.get("CallbackURLs") or []):
        raise E.invalid_parameter("DefaultRedirectURI must be one of the CallbackURLs.")


def redirect_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a callback or sign-out URL (None if it can)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "is not a URL"
    if not parts.scheme:
        return "is not an absolute URI"
    if parts.fragment or "#" in url:
        return "must not include a fragment"
    if parts.scheme == "http" and (parts.hostname or "") not in LOOPBACK_HOSTS:
        return "must use HTTPS (plain HTTP only for http://localhost, http://127.0.0.1 or http://[::1], for testing)"
    if parts.scheme in ("http", "https") and not parts.hostname:
        return "has no host"
    return None


def oauth_config(client) -> dict:
    """The OAuth settings of a moto app client, with Cognito's defaults."""
    cfg = client.extended_config
    return {
        "enabled": bool(cfg.get("AllowedOAuthFlowsUserPoolClient")),
        "flows": list(cfg.get("AllowedOAuthFlows") or []),
        "scopes": list(cfg.get("AllowedOAuthScopes") or []),
        "callback_urls": list(cfg.get("CallbackURLs") or []),
        "logout_urls": list(cfg.get("LogoutURLs") or []),
        "identity_providers": list(cfg.get("SupportedIdentityProviders") or []),
        "default_redirect_uri": cfg.get("DefaultRedirectURI"),
    }
