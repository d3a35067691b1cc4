"""Lesson 10's helpers: securing an API with Cognito tokens, groups, scopes and claims.

What an API behind Cognito decides, and where each rule comes from:

* **Which token** (:func:`authorizer_rule`): API Gateway's Cognito user pool authorizer
  (``COGNITO_USER_POOLS``) takes an **ID token** on a method *without* OAuth scopes and an
  **access token** carrying one of the method's scopes on a method *with* them. The demo API
  (``lab.protected_api(..., authorizer="api_gateway", route_scopes={...})``) answers the same way.
* **Custom scopes** (:func:`client_credentials_token`, :func:`code_flow_tokens`): a resource server
  (``CreateResourceServer``) defines scopes that Cognito writes as ``<identifier>/<scope name>``;
  an app client allowed them (``AllowedOAuthScopes``) gets them in its access token from the
  OAuth 2.0 token endpoint, never from ``InitiateAuth``.
* **Field rules** (:class:`FieldRule`, :class:`FieldRules`): what an AppSync resolver returns to
  whom, decided on the verified claims (``sub`` for owners, ``cognito:groups`` for groups).
* **Revocation** (:class:`RevokedSessions`, :func:`ask_cognito`): a revoked access token still
  verifies locally until ``exp``; a backend either keeps the signed-out sessions' ``origin_jti``
  or asks Cognito (``GetUser``) where it matters.
* **A backend in Node** (:func:`node_verifier_source`): the same checks with awslabs' aws-jwt-verify.

Sources (cited again in lesson 10's markdown): API Gateway developer guide "Control access to REST
APIs using Amazon Cognito user pools as an authorizer" and API reference ``Method.authorizationScopes``;
Cognito developer guide "Scopes, M2M, and API authorization with resource servers", "Revoking tokens",
"Understanding the access token"; AppSync developer guide "Configuring authorization and
authentication to secure your GraphQL APIs" and "Access control use cases".
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from ..cognito.display import ShowsAsTable, Table
from ..cognito.jwt import InvalidClaim

__all__ = ["TokenRevoked", "RevokedSessions", "ask_cognito", "authorizer_rule", "FieldRule", "FieldRules",
           "client_credentials_token", "code_flow_tokens", "node_verifier_source", "scope_name",
           "MAX_ACCESS_TOKEN_SECONDS"]

#: The longest an access token can live (AccessTokenValidity at most 1 day): a signed-out session
#: need not be remembered longer than this after its sign-out.
MAX_ACCESS_TOKEN_SECONDS = 24 * 3600


# -- which token a route takes ---------------------------------------------------------------------
def authorizer_rule(scopes: Iterable[str] | str | None) -> str:
    """What API Gateway's Cognito user pool authorizer wants on a method with these OAuth ``scopes``:
    ``"id"`` (no scopes: an ID token, authorized by the user's identity claims) or ``"access"``
    (scopes: an access token whose ``scope`` holds at least one of them).

    >>> authorizer_rule(None), authorizer_rule(["photos/read"])
    ('id', 'access')
    """
    if isinstance(scopes, str):
        scopes = [scopes]
    return "access" if scopes and list(scopes) else "id"


def scope_name(resource_server: str, scope: str) -> str:
    """How Cognito writes a custom scope in a token: ``<resource server identifier>/<scope name>``.

    >>> scope_name("https://photos.example.com", "read")
    'https://photos.example.com/read'
    """
    for what, value in (("resource_server", resource_server), ("scope", scope)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{what} must be a non-empty string, not {value!r}")
    return f"{resource_server}/{scope}"


# -- revocation ------------------------------------------------------------------------------------
class TokenRevoked(InvalidClaim):
    """The token's sign-in was signed out: its ``origin_jti`` is on the backend's list, or Cognito
    (``GetUser``) refused the token. The signature and ``exp`` were fine: only state knows."""
    summary = "Token revoked"
    aws_jwt_verify = "(none: aws-jwt-verify checks only signature and claims)"


class RevokedSessions:
    """A backend's list of signed-out sign-ins, by ``origin_jti``.

    Every ID and access token minted from one sign-in (the first ones and every refresh) carries
    the same ``origin_jti``; ``RevokeToken`` ends them all at Cognito. A backend that signs a user
    out calls Cognito's ``RevokeToken`` *and* :meth:`revoke` with that session's ``origin_jti``
    (from its verified tokens); :meth:`check` then refuses every token of the session, even those
    still unexpired. A token without ``origin_jti`` (token revocation off) is never refused.
    An entry is kept ``keep_seconds`` after the sign-out (default one day, the longest an access
    token lives), on ``clock`` (the lab clock in lessons).
    """

    def __init__(self, clock: Any, *, keep_seconds: float = MAX_ACCESS_TOKEN_SECONDS) -> None:
        if keep_seconds <= 0:
            raise ValueError("keep_seconds must be positive")
        self.clock = clock
        self.keep_seconds = float(keep_seconds)
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def revoke(self, origin_jti: str) -> str:
        """Remember the sign-in whose tokens carry this ``origin_jti`` as signed out (read it from the
        session's verified access or ID token); returns it."""
        if not isinstance(origin_jti, str):
            raise TypeError("revoke() takes the value of one claim (a string), e.g. claims[\"...\"], "
                            f"not {type(origin_jti).__name__}")
        if not origin_jti:
            raise ValueError("revoke() needs a non-empty value")
        with self._lock:
            self._until[origin_jti] = self.clock.time() + self.keep_seconds
        return origin_jti

    def _live(self) -> dict[str, float]:
        now = self.clock.time()
        with self._lock:
            for origin in [o for o, until in self._until.items() if until <= now]:
                del self._until[origin]
            return dict(self._until)

    def __contains__(self, origin_jti: object) -> bool:
        return origin_jti in self._live()

    def __len__(self) -> int:
        return len(self._live())

    def check(self, claims: Mapping) -> None:
        """Raise :class:`TokenRevoked` if these claims belong to a signed-out session."""
        origin = claims.get("origin_jti")
        if origin is not None and origin in self:
            raise TokenRevoked(f"origin_jti {origin} belongs to a sign-in that was signed out; the token "
                               "still has a good signature and exp, but this backend refuses it",
                               claim="origin_jti", actual=origin, claims=dict(claims))

    def __repr__(self) -> str:
        return f"<RevokedSessions: {len(self)} signed-out session(s), each kept {self.keep_seconds / 3600:g} h>"


def ask_cognito(idp: Any, access_token: str) -> str:
    """Ask Cognito whether ``access_token`` is still good: ``GetUser`` returns the username, or this
    raises :class:`TokenRevoked` with Cognito's own message ("Access Token has been revoked",
    "Access Token has expired", "Access Token does not have required scopes"...).

    One call per request: keep it for the routes where a revoked token must not pass (payments,
    admin actions). GetUser takes only access tokens with ``aws.cognito.signin.user.admin``.
    """
    from botocore.exceptions import ClientError

    try:
        return idp.get_user(AccessToken=access_token)["Username"]
    except ClientError as error:
        code = error.response["Error"]["Code"]
        message = error.response["Error"].get("Message", "")
        raise TokenRevoked(f"Cognito's GetUser refused it: {code}: {message}", claim="origin_jti") from None


# -- AppSync-style field rules ---------------------------------------------------------------------
#: Claims a rule may test, and why some of them must not decide anything.
_CLAIM_ADVICE = {
    "sub": "the user's id in the pool: in every ID and access token, unique, never reused",
    "cognito:groups": "groups only an administrator can change (AdminAddUserToGroup)",
    "username": "the access token's name for the username (an ID token calls it cognito:username)",
    "cognito:username": "the ID token's name for the username (an access token calls it username)",
    "email": "an attribute the user may change (UpdateUserAttributes), and only in ID tokens",
}


@dataclass(frozen=True)
class FieldRule:
    """Who may read one field of a record, as an AppSync resolver decides it.

    ``groups``: callers whose ``group_claim`` (``cognito:groups``) holds one of these may read it,
    like ``@aws_cognito_user_pools(cognito_groups: [...])`` on the field. ``owner_field``: the
    record's field holding its owner's id; callers whose ``identity_claim`` (the claim you trust to
    identify them) equals it may read it, like a resolver testing ``$ctx.identity.sub``. Both
    given: either one is enough. Neither: every signed-in caller.
    """

    field: str
    groups: tuple[str, ...] = ()
    owner_field: str | None = None
    identity_claim: str | None = None
    group_claim: str = "cognito:groups"

    def __post_init__(self) -> None:
        if isinstance(self.groups, str):
            object.__setattr__(self, "groups", (self.groups,))
        else:
            object.__setattr__(self, "groups", tuple(self.groups))
        for name in ("field", "group_claim"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"FieldRule.{name} must be a non-empty string, not {value!r}")
        if (self.owner_field is None) != (self.identity_claim is None):
            raise ValueError(f"FieldRule({self.field!r}): an owner rule needs both owner_field (the record's "
                             "field holding its owner) and identity_claim (the caller's claim compared with it)")
        if self.identity_claim is not None and (not isinstance(self.identity_claim, str) or not self.identity_claim):
            raise ValueError(f"FieldRule.identity_claim must be a claim name, not {self.identity_claim!r}")
        if not all(isinstance(g, str) and g for g in self.groups):
            raise ValueError(f"FieldRule.groups must be group names (strings), not {self.groups!r}")
        if self.owner_field is not None and (not isinstance(self.owner_field, str) or not self.owner_field):
            raise ValueError(f"FieldRule.owner_field must be a field name or None, not {self.owner_field!r}")

    def decide(self, record: Mapping, claims: Mapping) -> tuple[bool, str]:
        """(may read, why) for the caller of these verified claims."""
        if not self.groups and self.owner_field is None:
            return True, "any signed-in caller"
        reasons = []
        if self.owner_field is not None:
            mine = claims.get(self.identity_claim)
            if mine is not None and mine == record.get(self.owner_field):
                return True, f"owner: {self.owner_field} == {self.identity_claim}"
            reasons.append(f"{self.identity_claim} is not its {self.owner_field}")
        if self.groups:
            have = claims.get(self.group_claim) or []
            have = [have] if isinstance(have, str) else list(have)
            hit = next((g for g in self.groups if g in have), None)
            if hit is not None:
                return True, f"group {hit}"
            reasons.append(f"{self.group_claim} has none of {', '.join(self.groups)}")
        return False, "; ".join(reasons)

    def describe(self) -> str:
        """The rule in resolver terms: ``owner == $ctx.identity.sub or cognito:groups has moderators``."""
        parts = []
        if self.owner_field is not None:
            parts.append(f"{self.owner_field} == {_identity(self.identity_claim)}")
        if self.groups:
            parts.append(f"{_identity(self.group_claim)} has {' or '.join(self.groups)}")
        return " or ".join(parts) or "any signed-in caller"


def _identity(claim: str) -> str:
    # AppSync's resolver context: $ctx.identity.sub, .username, .groups; other claims under .claims.
    simple = {"sub": "$ctx.identity.sub", "cognito:groups": "$ctx.identity.groups"}
    return simple.get(claim, f'$ctx.identity.claims.get("{claim}")')


class FieldRules(ShowsAsTable):
    """The field rules of one GraphQL type: ``resolve(record, claims)`` returns what the caller may
    read (a field without a rule: every signed-in caller), ``explain(record, claims)`` says why,
    field by field, and ``schema()`` writes the type as an AppSync schema with its rules."""

    def __init__(self, type_name: str, fields: Iterable[str], rules: Iterable[FieldRule] = ()) -> None:
        self.type_name = type_name
        self.fields = list(fields)
        self.rules: dict[str, FieldRule] = {}
        for rule in rules:
            if not isinstance(rule, FieldRule):
                raise TypeError(f"rules must be FieldRule objects, not {rule!r}")
            if rule.field not in self.fields:
                raise ValueError(f"{type_name} has no field {rule.field!r}; its fields are {', '.join(self.fields)}")
            if rule.field in self.rules:
                raise ValueError(f"two rules for {type_name}.{rule.field}: give one rule per field")
            self.rules[rule.field] = rule

    def rule(self, name: str) -> FieldRule:
        return self.rules.get(name) or FieldRule(name)

    def resolve(self, record: Mapping, claims: Mapping) -> dict:
        """The record as this caller sees it: the fields they may read, in schema order."""
        return {name: record[name] for name in self.fields
                if name in record and self.rule(name).decide(record, claims)[0]}

    def explain(self, record: Mapping, claims: Mapping) -> Table:
        who = claims.get("username") or claims.get("cognito:username") or claims.get("sub")
        rows = []
        for name in self.fields:
            allowed, why = self.rule(name).decide(record, claims)
            rows.append([name, "✓ returned" if allowed else "✗ null", why])
        return Table(["field", "for " + str(who), "why"], rows,
                     title=f"{self.type_name} {record.get('id', '')} resolved for {who}".rstrip())

    def schema(self) -> str:
        lines = [f"type {self.type_name} @aws_cognito_user_pools {{"]
        for name in self.fields:
            rule = self.rule(name)
            if rule.groups and rule.owner_field is None:
                groups = ", ".join(json.dumps(g) for g in rule.groups)
                lines.append(f"  {name}: String @aws_cognito_user_pools(cognito_groups: [{groups}])")
            elif rule.owner_field is not None:
                lines.append(f"  {name}: String   # resolver: only if {rule.describe()}")
            else:
                lines.append(f"  {name}: String")
        return "\n".join(lines + ["}"])

    def table(self) -> Table:
        rows = []
        for name in self.fields:
            rule = self.rule(name)
            trusted = ([rule.identity_claim] if rule.owner_field else []) + ([rule.group_claim] if rule.groups else [])
            advice = "; ".join(f"{claim}: {_CLAIM_ADVICE.get(claim, 'check who can change it')}" for claim in trusted)
            rows.append([name, rule.describe(), advice])
        return Table(["field", "returned when", "the claim it trusts"], rows, title=f"Field rules of {self.type_name}",
                     widths=[None, 50, 50])


# -- getting tokens with custom scopes -------------------------------------------------------------
def _session(lab: Any, oauth_session: Any) -> Any:
    oauth_session.trust_env = False            # never send the lab's traffic through a proxy
    if getattr(lab, "ca_bundle", None):
        oauth_session.verify = lab.ca_bundle
    return oauth_session


def _token_endpoint(lab: Any, domain: str) -> str:
    return f"{lab.domain_url(domain)}/oauth2/token"


def client_credentials_token(lab: Any, domain: str, client_id: str, client_secret: str,
                             scope: str | Iterable[str] | None = None) -> dict:
    """A machine's access token: ``grant_type=client_credentials`` at the domain's ``/oauth2/token``
    (Authlib's ``OAuth2Session``, HTTP Basic). ``scope``: the custom scopes to ask for (default:
    every scope the app client is allowed). Returns the token response (``access_token``,
    ``expires_in``, ``token_type``); an error answer raises Authlib's ``OAuthError``."""
    from authlib.integrations.requests_client import OAuth2Session

    if scope is not None and not isinstance(scope, str):
        scope = " ".join(scope)
    with _session(lab, OAuth2Session(client_id, client_secret, scope=scope,
                                     token_endpoint_auth_method="client_secret_basic")) as client:
        return dict(client.fetch_token(_token_endpoint(lab, domain), grant_type="client_credentials"))


def code_flow_tokens(lab: Any, domain: str, client_id: str, username: str, password: str, *,
                     redirect_uri: str, scope: str | Iterable[str] = "openid") -> dict:
    """A user's tokens from the authorization code flow with PKCE: the hosted UI's sign-in page
    (:class:`~labkit.cognito.hosted_ui.HostedUIBrowser`), then the code redeemed at ``/oauth2/token``
    (Authlib). The only way for a user's access token to carry a custom scope without a trigger."""
    from authlib.common.security import generate_token
    from authlib.integrations.requests_client import OAuth2Session

    from ..cognito.hosted_ui import AppRedirect, HostedUIBrowser

    if not isinstance(scope, str):
        scope = " ".join(scope)
    base = lab.domain_url(domain)
    with _session(lab, OAuth2Session(client_id, scope=scope, redirect_uri=redirect_uri,
                                     code_challenge_method="S256")) as client:
        verifier = generate_token(64)
        url, _ = client.create_authorization_url(f"{base}/oauth2/authorize", code_verifier=verifier)
        browser = HostedUIBrowser(verify=lab.ca_bundle or True)
        browser.open(url)
        back = browser.sign_in(username, password)
        if not isinstance(back, AppRedirect) or back.error:
            problem = back.error if isinstance(back, AppRedirect) else "; ".join(back.errors) or back.url
            raise RuntimeError(f"the hosted UI did not sign {username} in: {problem}")
        return dict(client.fetch_token(f"{base}/oauth2/token", authorization_response=back.url,
                                       code_verifier=verifier))


# -- a backend in Node.js --------------------------------------------------------------------------
def node_verifier_source(user_pool_id: str, client_id: str | Iterable[str], *, token_use: str = "access",
                         scope: str | None = None, groups: Iterable[str] | None = None,
                         jwks_uri: str | None = None) -> str:
    """The same checks with awslabs' aws-jwt-verify (npm ``aws-jwt-verify``), as an ES module.

    Without ``jwks_uri``: ``CognitoJwtVerifier``, which fetches the keys from AWS's JWKS URL of
    the pool (what you deploy). With it (an https lab's ``lab.jwks_url(pool_id)``): the generic
    ``JwtRsaVerifier`` with the pool's issuer and Cognito's field checks, because
    ``CognitoJwtVerifier`` always derives the URL from the pool id. ``client_id``: one app client id
    or a list. ``benchmarks/bench_node_verify.py`` runs it with Node and compares the verdicts.
    """
    if token_use not in ("access", "id"):
        raise ValueError('token_use must be "access" or "id"')
    options = {"tokenUse": token_use, "clientId": client_id if isinstance(client_id, str) else list(client_id)}
    if scope:
        options["scope"] = scope
    if groups:
        options["groups"] = list(groups)
    opts = "\n".join(f"  {k}: {json.dumps(v)}," for k, v in options.items())
    # A client-credentials token has no username: its sub is the app client.
    who = "payload.username ?? payload.sub" if token_use == "access" else 'payload["cognito:username"]'
    if jwks_uri is None:
        return "\n".join([
            '// verify.mjs: node verify.mjs <token>   (npm install aws-jwt-verify)',
            'import { CognitoJwtVerifier } from "aws-jwt-verify";',
            "",
            "const verifier = CognitoJwtVerifier.create({",
            f"  userPoolId: {json.dumps(user_pool_id)},",
            opts,
            "});",
            "try {",
            "  const payload = await verifier.verify(process.argv[2]);   // signature, iss, token_use, client, exp",
            f"  console.log(\"valid token of\", {who});",
            "} catch (err) {",
            "  console.log(\"rejected:\", err.constructor.name, err.message);        // answer 401 (403 for group or scope)",
            "}",
        ])
    region = user_pool_id.split("_")[0]
    # validateCognitoJwtFields checks tokenUse, clientId and groups; scope is JwtRsaVerifier's own.
    fields = ", ".join(f"{k}: {json.dumps(v)}" for k, v in options.items() if k != "scope")
    scope_line = [f"  scope: {json.dumps(scope)},"] if scope else []
    return "\n".join([
        "// verify.mjs: NODE_EXTRA_CA_CERTS=<lab.ca_bundle> node verify.mjs <token>",
        'import { JwtRsaVerifier } from "aws-jwt-verify";',
        'import { validateCognitoJwtFields } from "aws-jwt-verify/cognito-verifier";',
        "",
        "const verifier = JwtRsaVerifier.create({",
        f"  issuer: {json.dumps(f'https://cognito-idp.{region}.amazonaws.com/{user_pool_id}')},",
        "  audience: null,                      // Cognito's field checks below test client_id / aud",
        f"  jwksUri: {json.dumps(jwks_uri)},",
        *scope_line,
        f"  customJwtCheck: ({{ payload }}) => validateCognitoJwtFields(payload, {{ {fields} }}),",
        "});",
        "try {",
        "  const payload = await verifier.verify(process.argv[2]);",
        f"  console.log(\"valid token of\", {who});",
        "} catch (err) {",
        "  console.log(\"rejected:\", err.constructor.name, err.message);",
        "}",
    ])
