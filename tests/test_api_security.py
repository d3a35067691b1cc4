"""labkit.course.api_security and the demo API's lesson-10 options: which token a route takes,
groups, custom scopes from a resource server, AppSync-style field rules, and the revocation gap.

Sources: API Gateway API reference ``Method.authorizationScopes`` ("When the method scope is
configured, the client must provide an access token instead of an identity token"); API Gateway
developer guide "Control access to REST APIs using Amazon Cognito user pools as an authorizer";
Cognito developer guide "Revoking tokens" (revoked tokens still verify with a JWT library, Cognito's
APIs refuse them), ResourceServerScopeType (scopes written ``resourceServerIdentifier/ScopeName``).
"""
import re
from types import SimpleNamespace

import pytest
from authlib.integrations.base_client import OAuthError

from labkit import Lab
from labkit.cognito.jwt import CognitoVerifier, inspect
from labkit.cognito.session import refresh, revoke, sign_in_password
from labkit.course import api_security as sec
from labkit.course.api_security import FieldRule, FieldRules, RevokedSessions, TokenRevoked

PASSWORD = "Correct-Horse-9"
RS = "https://photos.example.com"
CALLBACK = "http://localhost:8080/callback"
CHALLENGE = re.compile(r'^Bearer realm="labkit", error="(?P<error>[a-z_]+)"')
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


@pytest.fixture(scope="module")
def photo_lab():
    """A pool with alice, bob, mia (moderators) and root (admin); a resource server RS with scopes
    read and write; a domain; app clients web (API flows), photo-web (code flow, user scopes) and
    thumbnailer (client credentials, RS/read)."""
    with Lab(seed=1010) as lab:
        idp = lab.client("cognito-idp")
        pool_id = idp.create_user_pool(PoolName="photos")["UserPool"]["Id"]
        web = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=FLOWS)
        subs = {}
        for name, group in [("alice", None), ("bob", None), ("mia", "moderators"), ("root", "admin")]:
            user = idp.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS")["User"]
            subs[name] = next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")
            idp.admin_set_user_password(UserPoolId=pool_id, Username=name, Password=PASSWORD, Permanent=True)
            if group:
                try:
                    idp.create_group(UserPoolId=pool_id, GroupName=group)
                except idp.exceptions.GroupExistsException:
                    pass
                idp.admin_add_user_to_group(UserPoolId=pool_id, Username=name, GroupName=group)
        idp.create_resource_server(UserPoolId=pool_id, Identifier=RS, Name="photos-api", Scopes=[
            {"ScopeName": "read", "ScopeDescription": "see photos"},
            {"ScopeName": "write", "ScopeDescription": "upload photos"}])
        idp.create_user_pool_domain(UserPoolId=pool_id, Domain="photo-lab")
        photo_web = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="photo-web", AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid", f"{RS}/read", f"{RS}/write"],
            CallbackURLs=[CALLBACK], SupportedIdentityProviders=["COGNITO"])["UserPoolClient"]
        m2m = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="thumbnailer", GenerateSecret=True, AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["client_credentials"], AllowedOAuthScopes=[f"{RS}/read"])["UserPoolClient"]
        client_id = web["UserPoolClient"]["ClientId"]

        def sign_in(name):
            return sign_in_password(idp, client_id, name, PASSWORD)

        yield SimpleNamespace(lab=lab, idp=idp, pool_id=pool_id, client_id=client_id, photo_web=photo_web,
                              m2m=m2m, subs=subs, sign_in=sign_in)


def challenge_error(response) -> str:
    return CHALLENGE.match(response.www_authenticate).group("error")


# -- which token a route takes ---------------------------------------------------------------------
def test_authorizer_rule_and_scope_names():
    """A method without scopes authorizes an ID token, one with scopes an access token; Cognito
    writes a custom scope as <resource server identifier>/<scope name>."""
    assert sec.authorizer_rule(None) == sec.authorizer_rule([]) == "id"
    assert sec.authorizer_rule("photos/read") == sec.authorizer_rule(["a/b", "a/c"]) == "access"
    assert sec.scope_name(RS, "read") == f"{RS}/read"
    with pytest.raises(ValueError):
        sec.scope_name("", "read")


def test_api_gateway_authorizer_takes_id_tokens_without_scopes_and_access_tokens_with_them(photo_lab):
    """authorizer="api_gateway": an unscoped route answers an ID token and refuses an access token
    (401 invalid_token, WrongTokenUse); a scoped route refuses an ID token and wants an access token
    carrying one of its scopes (403 insufficient_scope naming the scope otherwise)."""
    lab, alice = photo_lab.lab, photo_lab.sign_in("alice")
    api = lab.protected_api(photo_lab.pool_id, [photo_lab.client_id, photo_lab.m2m["ClientId"]],
                            authorizer="api_gateway", route_scopes={"/photos": f"{RS}/read"}, photos=[])
    assert (api.token_use_for("/hello"), api.token_use_for("/photos")) == ("id", "access")
    assert api.call("/hello", alice["IdToken"]).body == {"message": "Hello, alice!"}
    refused = api.call("/hello", alice["AccessToken"])
    assert (refused.status, challenge_error(refused), refused.body["reason"]) == (401, "invalid_token", "WrongTokenUse")
    assert "an ID token on a method without OAuth scopes" in refused.body["error_description"]
    id_on_scoped = api.call("/photos", alice["IdToken"])
    assert (id_on_scoped.status, id_on_scoped.body["reason"]) == (401, "WrongTokenUse")
    no_scope = api.call("/photos", alice["AccessToken"])       # API-flow token: aws.cognito.signin.user.admin only
    assert (no_scope.status, challenge_error(no_scope)) == (403, "insufficient_scope")
    assert f'scope="{RS}/read"' in no_scope.www_authenticate
    machine = sec.client_credentials_token(lab, "photo-lab", photo_lab.m2m["ClientId"], photo_lab.m2m["ClientSecret"])
    assert api.call("/photos", machine["access_token"]).status == 200
    assert "/photos" in str(api.routes()) and "id token" in str(api.routes())


def test_the_default_api_is_unchanged_by_the_new_options(photo_lab):
    """Without the lesson-10 options every route takes access tokens only, as before."""
    alice = photo_lab.sign_in("alice")
    api = photo_lab.lab.protected_api(photo_lab.pool_id, photo_lab.client_id)
    assert api.call("/hello", alice["AccessToken"]).status == 200
    assert api.call("/hello", alice["IdToken"]).body["reason"] == "WrongTokenUse"
    assert api.call("/photos", alice["AccessToken"]).status == 404        # no photos given


def test_wrong_group_is_403_with_either_token(photo_lab):
    """cognito:groups is in ID and access tokens: /admin answers 403 insufficient_scope to a user
    outside the admin group and 200 to root, under both authorizers."""
    lab = photo_lab.lab
    gateway = lab.protected_api(photo_lab.pool_id, photo_lab.client_id, authorizer="api_gateway")
    plain = lab.protected_api(photo_lab.pool_id, photo_lab.client_id)
    alice, root = photo_lab.sign_in("alice"), photo_lab.sign_in("root")
    for api, kind in ((gateway, "IdToken"), (plain, "AccessToken")):
        denied = api.call("/admin", alice[kind])
        assert (denied.status, challenge_error(denied), denied.body["reason"]) == (403, "insufficient_scope",
                                                                                  "MissingGroup")
        assert api.call("/admin", root[kind]).status == 200


@pytest.mark.parametrize("options, message", [
    ({"route_scopes": {"/nowhere": "a/b"}}, "no route '/nowhere'"),
    ({"route_scopes": {"/hello": []}}, "non-empty list"),
    ({"authorizer": "lambda"}, "authorizer must be"),
    ({"ask_cognito": ["/nowhere"]}, "no route '/nowhere'"),
])
def test_bad_options_are_refused_with_a_clear_message(photo_lab, options, message):
    with pytest.raises(ValueError, match=message):
        photo_lab.lab.protected_api(photo_lab.pool_id, photo_lab.client_id, **options)


# -- custom scopes -----------------------------------------------------------------------------------
def test_client_credentials_token_carries_the_resource_server_scope(photo_lab):
    """client_credentials: an access token whose scope is <identifier>/<scope> and whose sub is the
    app client (no user); a scope the client was not allowed is invalid_scope."""
    m2m = photo_lab.m2m
    token = sec.client_credentials_token(photo_lab.lab, "photo-lab", m2m["ClientId"], m2m["ClientSecret"])
    claims = CognitoVerifier.for_lab(photo_lab.lab, photo_lab.pool_id, m2m["ClientId"],
                                     scopes=[f"{RS}/read"]).verify(token["access_token"])
    assert claims["scope"] == f"{RS}/read" and claims["sub"] == m2m["ClientId"] and "username" not in claims
    with pytest.raises(OAuthError, match="invalid_scope"):
        sec.client_credentials_token(photo_lab.lab, "photo-lab", m2m["ClientId"], m2m["ClientSecret"],
                                     scope=[f"{RS}/write"])


def test_code_flow_tokens_give_a_user_the_custom_scope_asked_for(photo_lab):
    """A user's access token carries a custom scope only from the OAuth endpoints: the code flow
    grants what was asked (and the client allows); InitiateAuth's tokens never have it."""
    tokens = sec.code_flow_tokens(photo_lab.lab, "photo-lab", photo_lab.photo_web["ClientId"], "alice", PASSWORD,
                                  redirect_uri=CALLBACK, scope=["openid", f"{RS}/write"])
    assert inspect(tokens["access_token"]).claims["scope"] == f"openid {RS}/write"
    assert inspect(photo_lab.sign_in("alice")["AccessToken"]).claims["scope"] == "aws.cognito.signin.user.admin"
    with pytest.raises(RuntimeError, match="did not sign alice in"):
        sec.code_flow_tokens(photo_lab.lab, "photo-lab", photo_lab.photo_web["ClientId"], "alice", "wrong",
                             redirect_uri=CALLBACK)


# -- field rules -------------------------------------------------------------------------------------
def photo_rules(identity_claim="sub"):
    return FieldRules("Photo", ["id", "title", "owner", "location", "original_url"], [
        FieldRule("location", owner_field="owner", identity_claim=identity_claim, groups="moderators"),
        FieldRule("original_url", owner_field="owner", identity_claim=identity_claim)])


def test_field_rules_return_owner_fields_to_the_owner_and_group_fields_to_the_group(photo_lab):
    """Owner rule: the record's owner field equals the caller's sub; group rule: cognito:groups holds
    the group; either is enough; a field without a rule goes to every signed-in caller."""
    rules = photo_rules()
    photo = {"id": "p1", "title": "Sunset", "owner": photo_lab.subs["alice"], "location": "Lisbon",
             "original_url": "s3://photos/p1"}
    claims = {name: inspect(photo_lab.sign_in(name)["AccessToken"]).claims for name in ("alice", "bob", "mia")}
    assert rules.resolve(photo, claims["alice"]) == photo
    assert rules.resolve(photo, claims["bob"]) == {"id": "p1", "title": "Sunset", "owner": photo_lab.subs["alice"]}
    assert sorted(rules.resolve(photo, claims["mia"])) == ["id", "location", "owner", "title"]
    why = dict((row[0], row[2]) for row in rules.explain(photo, claims["mia"]).rows)
    assert why["location"] == "group moderators" and why["original_url"] == "sub is not its owner"
    assert '@aws_cognito_user_pools' in rules.schema() and "$ctx.identity.sub" in rules.schema()


def test_an_owner_rule_on_the_wrong_claim_never_matches_a_sub_owner(photo_lab):
    """Records keyed on sub (never reused) need rules testing sub: username or email find no owner."""
    photo = {"id": "p1", "owner": photo_lab.subs["alice"], "original_url": "s3://photos/p1"}
    alice = inspect(photo_lab.sign_in("alice")["AccessToken"]).claims
    for wrong in ("username", "email", "cognito:username"):
        assert "original_url" not in photo_rules(wrong).resolve(photo, alice)
    assert "original_url" in photo_rules("sub").resolve(photo, alice)


def test_field_rules_are_checked_when_built():
    with pytest.raises(ValueError, match="no field 'secret'"):
        FieldRules("Photo", ["id"], [FieldRule("secret", groups=["admin"])])
    with pytest.raises(ValueError, match="two rules"):
        FieldRules("Photo", ["id"], [FieldRule("id"), FieldRule("id")])
    with pytest.raises(ValueError, match="group names"):
        FieldRule("id", groups=[""])
    with pytest.raises(ValueError, match="needs both owner_field"):
        FieldRule("id", owner_field="owner")
    with pytest.raises(TypeError):
        FieldRules("Photo", ["id"], ["id"])


def test_the_api_serves_photos_through_the_field_rules(photo_lab):
    """GET /photos answers each photo with the fields the caller may read, per its verified claims."""
    photo = {"id": "p1", "title": "Sunset", "owner": photo_lab.subs["alice"], "location": "Lisbon",
             "original_url": "s3://photos/p1"}
    api = photo_lab.lab.protected_api(photo_lab.pool_id, photo_lab.client_id, photos=[photo], photo_rules=photo_rules())
    assert api.call("/photos", photo_lab.sign_in("alice")["AccessToken"]).body == [photo]
    assert "location" not in api.call("/photos", photo_lab.sign_in("bob")["AccessToken"]).body[0]


# -- revocation ----------------------------------------------------------------------------------------
def test_a_revoked_access_token_still_verifies_locally_but_not_at_cognito(photo_lab):
    """RevokeToken: CognitoVerifier (signature + claims) still accepts the access token; GetUser
    refuses it, so an ask_cognito route answers 401 with Cognito's message while others answer 200."""
    lab, idp = photo_lab.lab, photo_lab.idp
    api = lab.protected_api(photo_lab.pool_id, photo_lab.client_id, ask_cognito=["/admin"])
    root = photo_lab.sign_in("root")
    assert sec.ask_cognito(idp, root["AccessToken"]) == "root"
    revoke(idp, photo_lab.client_id, root["RefreshToken"])
    assert lab.verifier(photo_lab.pool_id, photo_lab.client_id).verify(root["AccessToken"])["username"] == "root"
    with pytest.raises(TokenRevoked, match="Access Token has been revoked"):
        sec.ask_cognito(idp, root["AccessToken"])
    assert api.call("/hello", root["AccessToken"]).status == 200
    denied = api.call("/admin", root["AccessToken"])
    assert (denied.status, denied.body["reason"]) == (401, "TokenRevoked")
    assert "Access Token has been revoked" in denied.body["error_description"]


def test_revoked_sessions_refuse_every_token_of_the_sign_in_by_origin_jti(photo_lab):
    """All tokens of one sign-in share origin_jti (refreshes get new jti): the list refuses the
    refreshed token too, leaves another sign-in alone, and forgets the entry after keep_seconds."""
    lab, idp = photo_lab.lab, photo_lab.idp
    revoked = RevokedSessions(lab.clock, keep_seconds=2 * 3600)
    api = lab.protected_api(photo_lab.pool_id, photo_lab.client_id, revoked_sessions=revoked)
    first, other = photo_lab.sign_in("bob"), photo_lab.sign_in("bob")
    renewed = refresh(idp, photo_lab.client_id, first["RefreshToken"])
    claims = inspect(first["AccessToken"]).claims
    assert inspect(renewed["AccessToken"]).claims["jti"] != claims["jti"]
    assert revoked.revoke(claims["origin_jti"]) == claims["origin_jti"] and claims["origin_jti"] in revoked
    for token in (first["AccessToken"], renewed["AccessToken"]):
        refused = api.call("/hello", token)
        assert (refused.status, refused.body["reason"], challenge_error(refused)) == (401, "TokenRevoked",
                                                                                     "invalid_token")
    assert api.call("/hello", other["AccessToken"]).status == 200
    machine = sec.client_credentials_token(lab, "photo-lab", photo_lab.m2m["ClientId"], photo_lab.m2m["ClientSecret"])
    assert "origin_jti" not in inspect(machine["access_token"]).claims
    revoked.check(inspect(machine["access_token"]).claims)          # no origin_jti: never refused
    lab.clock.advance(hours=2, seconds=1)
    assert len(revoked) == 0 and claims["origin_jti"] not in revoked


def test_revoked_sessions_take_a_claim_value(photo_lab):
    revoked = RevokedSessions(photo_lab.lab.clock)
    with pytest.raises(TypeError, match="the value of one claim"):
        revoked.revoke({"origin_jti": "x"})
    with pytest.raises(ValueError):
        revoked.revoke("")
    with pytest.raises(ValueError):
        RevokedSessions(photo_lab.lab.clock, keep_seconds=0)


# -- Node -------------------------------------------------------------------------------------------
def test_node_verifier_source_names_the_pool_client_and_checks():
    """The aws-jwt-verify module: CognitoJwtVerifier for AWS; JwtRsaVerifier with the pool's issuer,
    the given JWKS URL and Cognito's field checks for a lab (scope is JwtRsaVerifier's own option)."""
    aws = sec.node_verifier_source("eu-west-1_AbC", "client123", scope=f"{RS}/read")
    assert 'CognitoJwtVerifier.create' in aws and '"eu-west-1_AbC"' in aws and 'tokenUse: "access"' in aws
    assert f'scope: "{RS}/read"' in aws
    lab = sec.node_verifier_source("eu-west-1_AbC", "client123", token_use="id", groups=["admin"],
                                   scope="x/y", jwks_uri="https://127.0.0.1:1/eu-west-1_AbC/.well-known/jwks.json")
    assert "JwtRsaVerifier.create" in lab and '"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC"' in lab
    assert 'validateCognitoJwtFields(payload, { tokenUse: "id", clientId: "client123", groups: ["admin"] })' in lab
    assert '  scope: "x/y",' in lab and 'payload["cognito:username"]' in lab
    assert 'clientId: ["a", "b"],' in sec.node_verifier_source("eu-west-1_AbC", ["a", "b"])
    assert "err.constructor.name" in aws           # aws-jwt-verify's errors leave err.name as "Error"
    with pytest.raises(ValueError):
        sec.node_verifier_source("eu-west-1_AbC", "c", token_use="refresh")
