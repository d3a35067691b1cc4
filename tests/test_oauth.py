"""The hosted UI and the OAuth 2.0 endpoints of a user-pool domain, as Cognito answers them.

Sources (developer guide, "User pool endpoints and managed login reference"): the authorize,
token, userInfo, revoke and logout endpoint pages; API reference CreateUserPoolClient,
CreateUserPoolDomain. Each test's docstring names the rule it checks.
"""
from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from botocore.exceptions import ClientError

from labkit import Lab
from labkit.cognito.hosted_ui import AppRedirect, HostedUIBrowser, HostedUIPage

PASSWORD = "Correct-Horse-9"
CALLBACK = "http://localhost:8080/callback"
SIGNED_OUT = "http://localhost:8080/signed-out"
API = "https://api.example.com"
VERIFIER = "x" * 20 + "-verifier-" + "y" * 30          # 60 characters of the unreserved set


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@pytest.fixture
def oauth():
    """A pool with the domain ``lab-app``, a resource server ``https://api.example.com`` (scopes
    read, write), app clients ``web`` (public, code), ``spa`` (public, implicit), ``server``
    (secret, code) and ``m2m`` (secret, client credentials), and the user alice."""
    with Lab(seed=11) as lab:
        idp = lab.client("cognito-idp")
        pool_id = idp.create_user_pool(PoolName="oauth")["UserPool"]["Id"]
        idp.create_resource_server(UserPoolId=pool_id, Identifier=API, Name="api",
                                   Scopes=[{"ScopeName": "read", "ScopeDescription": "Read"},
                                           {"ScopeName": "write", "ScopeDescription": "Write"}])
        idp.create_user_pool_domain(UserPoolId=pool_id, Domain="lab-app")
        user_scopes = ["openid", "email", "phone", "profile", "aws.cognito.signin.user.admin", f"{API}/read"]

        def client(name, flows, scopes=user_scopes, secret=False, **extra):
            return idp.create_user_pool_client(
                UserPoolId=pool_id, ClientName=name, GenerateSecret=secret, AllowedOAuthFlowsUserPoolClient=True,
                AllowedOAuthFlows=flows, AllowedOAuthScopes=scopes, SupportedIdentityProviders=["COGNITO"],
                ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"], **extra)["UserPoolClient"]

        web = client("web", ["code"], CallbackURLs=[CALLBACK], LogoutURLs=[SIGNED_OUT])
        spa = client("spa", ["implicit"], CallbackURLs=[CALLBACK])
        server = client("server", ["code"], secret=True, CallbackURLs=[CALLBACK])
        m2m = client("m2m", ["client_credentials"], scopes=[f"{API}/read", f"{API}/write"], secret=True)
        idp.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS", UserAttributes=[
            {"Name": "email", "Value": "alice@example.com"}, {"Name": "email_verified", "Value": "true"},
            {"Name": "given_name", "Value": "Alice"}, {"Name": "phone_number", "Value": "+15555550100"}])
        idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password=PASSWORD, Permanent=True)
        conf = requests.get(f"{lab.endpoint_url}/{pool_id}/.well-known/openid-configuration").json()

        def authorize_url(client_id=web["ClientId"], **params):
            query = {"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "state": "st-1",
                     **params}
            return f"{conf['authorization_endpoint']}?{urlencode({k: v for k, v in query.items() if v is not None})}"

        def sign_in(url=None, username="alice", password=PASSWORD, browser=None):
            browser = browser or HostedUIBrowser()
            page = browser.open(url or authorize_url(code_challenge=s256(VERIFIER), code_challenge_method="S256"))
            assert isinstance(page, HostedUIPage) and page.has_sign_in_form, page
            return browser.sign_in(username, password)

        def redeem(code, client_id=web["ClientId"], verifier=VERIFIER, **extra):
            data = {"grant_type": "authorization_code", "client_id": client_id, "code": code,
                    "redirect_uri": CALLBACK, "code_verifier": verifier, **extra}
            return requests.post(conf["token_endpoint"], data={k: v for k, v in data.items() if v is not None})

        yield SimpleNamespace(lab=lab, idp=idp, pool_id=pool_id, conf=conf, web=web, spa=spa, server=server,
                              m2m=m2m, authorize_url=authorize_url, sign_in=sign_in, redeem=redeem)


def tokens_for(oauth, **authorize_params) -> dict:
    params = {"code_challenge": s256(VERIFIER), "code_challenge_method": "S256", **authorize_params}
    back = oauth.sign_in(oauth.authorize_url(**params))
    response = oauth.redeem(back.params["code"])
    assert response.status_code == 200, response.text
    return response.json()


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def get(url, **kwargs):
    return requests.get(url, allow_redirects=False, **kwargs)


# -- domains and discovery ----------------------------------------------------------------------
def test_discovery_document_names_the_domains_endpoints(oauth):
    """The pool's openid-configuration (at the issuer path) names the authorization, token,
    userInfo, revocation and logout endpoints of its domain; the lab serves them under /_domain/."""
    base = oauth.lab.domain_url("lab-app")
    assert base == f"{oauth.lab.endpoint_url}/_domain/lab-app"
    assert requests.get(oauth.lab.openid_configuration_url(oauth.pool_id)).json() == oauth.conf
    assert oauth.conf["authorization_endpoint"] == f"{base}/oauth2/authorize"
    assert oauth.conf["token_endpoint"] == f"{base}/oauth2/token"
    assert oauth.conf["userinfo_endpoint"] == f"{base}/oauth2/userInfo"
    assert oauth.conf["revocation_endpoint"] == f"{base}/oauth2/revoke"
    assert oauth.conf["end_session_endpoint"] == f"{base}/logout"
    assert oauth.conf["issuer"] == oauth.lab.issuer(oauth.pool_id)


def test_a_pool_has_one_domain_and_a_prefix_is_taken_once(oauth):
    """CreateUserPoolDomain: a taken prefix, or a second domain for a pool, is InvalidParameterException."""
    other = oauth.idp.create_user_pool(PoolName="other")["UserPool"]["Id"]
    with pytest.raises(ClientError) as taken:
        oauth.idp.create_user_pool_domain(UserPoolId=other, Domain="lab-app")
    assert taken.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as second:
        oauth.idp.create_user_pool_domain(UserPoolId=oauth.pool_id, Domain="lab-app-two")
    assert second.value.response["Error"]["Code"] == "InvalidParameterException"
    assert taken.value.response["Error"]["Message"] == "Domain already associated with another user pool."
    described = oauth.idp.describe_user_pool_domain(Domain="lab-app")["DomainDescription"]
    assert (described["UserPoolId"], described["AWSAccountId"]) == (oauth.pool_id, oauth.lab.account_id)


def test_deleting_the_domain_takes_its_endpoints_away(oauth):
    """A pool with a domain cannot be deleted; DeleteUserPoolDomain names the owning pool;
    afterwards the endpoints answer 404 and the discovery document no longer lists them."""
    with pytest.raises(ClientError) as has_domain:
        oauth.idp.delete_user_pool(UserPoolId=oauth.pool_id)
    assert has_domain.value.response["Error"]["Message"] == (
        "User pool cannot be deleted. It has a domain configured that should be deleted first.")
    other = oauth.idp.create_user_pool(PoolName="other")["UserPool"]["Id"]
    with pytest.raises(ClientError) as wrong_pool:
        oauth.idp.delete_user_pool_domain(UserPoolId=other, Domain="lab-app")
    assert wrong_pool.value.response["Error"]["Code"] == "InvalidParameterException"
    oauth.idp.delete_user_pool_domain(UserPoolId=oauth.pool_id, Domain="lab-app")
    assert get(oauth.authorize_url()).status_code == 404
    conf = requests.get(f"{oauth.lab.endpoint_url}/{oauth.pool_id}/.well-known/openid-configuration").json()
    assert "authorization_endpoint" not in conf


def test_client_oauth_settings_are_checked(oauth):
    """CreateUserPoolClient: client_credentials alone and only with a secret (InvalidOAuthFlowException),
    scopes must exist (ScopeDoesNotExistException), callback URLs HTTPS except loopback (localhost, 127.0.0.1, [::1])."""
    server = oauth.idp.describe_resource_server(UserPoolId=oauth.pool_id, Identifier=API)["ResourceServer"]
    assert [scope["ScopeName"] for scope in server["Scopes"]] == ["read", "write"]

    def create(**settings):
        with pytest.raises(ClientError) as refused:
            oauth.idp.create_user_pool_client(UserPoolId=oauth.pool_id, ClientName="bad",
                                              AllowedOAuthFlowsUserPoolClient=True, **settings)
        return refused.value.response["Error"]["Code"]

    assert create(AllowedOAuthFlows=["client_credentials"], AllowedOAuthScopes=[f"{API}/read"]) == \
        "InvalidOAuthFlowException"
    assert create(AllowedOAuthFlows=["client_credentials", "code"], AllowedOAuthScopes=[f"{API}/read"],
                  GenerateSecret=True) == "InvalidOAuthFlowException"
    assert create(AllowedOAuthFlows=["code"], AllowedOAuthScopes=[f"{API}/delete"],
                  CallbackURLs=[CALLBACK]) == "ScopeDoesNotExistException"
    assert create(AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid"],
                  CallbackURLs=["http://app.example.com/cb"]) == "InvalidParameterException"


# -- the authorize endpoint -------------------------------------------------------------------
@pytest.mark.parametrize("redirect_uri", ["https://evil.example.com/callback", CALLBACK + "/more", CALLBACK + "?x=1"])
def test_a_redirect_uri_not_registered_gets_an_error_page_never_a_redirect(oauth, redirect_uri):
    """redirect_uri must equal one of the client's CallbackURLs exactly; otherwise no redirect
    happens at all (the browser shows an error page): no open redirect, no leaked code."""
    response = get(oauth.authorize_url(redirect_uri=redirect_uri))
    assert response.status_code == 400 and "Location" not in response.headers
    assert "redirect_mismatch" in response.text


def test_an_unknown_client_gets_an_error_page(oauth):
    """An authorize request for a client that is not the pool's cannot be redirected anywhere."""
    response = get(oauth.authorize_url(client_id="nobody"))
    assert response.status_code == 400 and "Location" not in response.headers


@pytest.mark.parametrize("params, error", [
    ({"response_type": None}, "invalid_request"),
    ({"scope": f"{API}/write"}, "invalid_scope"),                  # not among the client's scopes
    ({"scope": "email"}, "invalid_scope"),                          # email needs openid
    ({"response_type": "token"}, "unauthorized_client"),            # web allows the code flow only
    ({"code_challenge": s256(VERIFIER), "code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge": s256(VERIFIER)}, "invalid_request"),       # a challenge names its method
])
def test_bad_authorize_requests_go_back_to_the_app_with_cognitos_error(oauth, params, error):
    """With a valid client and redirect_uri, other problems are redirected to the app as
    ?error=... with the state: invalid_request (no response_type; PKCE other than S256, or no
    method), invalid_scope, unauthorized_client (a flow the client does not allow)."""
    response = get(oauth.authorize_url(**params))
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    assert parse_qs(urlsplit(location).query) == {"error": [error], "state": ["st-1"]}


def test_authorize_sends_the_browser_to_the_sign_in_page_with_the_same_parameters(oauth):
    """Without a hosted-UI session, /oauth2/authorize redirects to /login with the request's
    parameters; that page is a plain HTML form with username and password fields."""
    url = oauth.authorize_url()
    response = get(url)
    assert response.status_code == 302
    login = response.headers["Location"]
    assert urlsplit(login).path == "/_domain/lab-app/login" and urlsplit(login).query == urlsplit(url).query
    page = HostedUIBrowser().open(url)
    assert page.has_sign_in_form and "<script" not in page.text


# -- signing in ---------------------------------------------------------------------------------
def test_sign_in_redirects_to_the_app_with_a_code_and_the_state(oauth):
    """The right password: 302 to the redirect_uri with code and state in the query string."""
    back = oauth.sign_in()
    assert isinstance(back, AppRedirect)
    assert back.url.startswith(CALLBACK + "?") and back.params["state"] == "st-1" and back.params["code"]


def test_a_wrong_password_stays_on_the_page_and_counts_toward_the_lockout(oauth):
    """The hosted UI uses the API flows' rules: "Incorrect username or password.", and after five
    failures the user is locked even with the right password ("Password attempts exceeded")."""
    browser = HostedUIBrowser()
    for _ in range(5):
        browser.open(oauth.authorize_url())
        page = browser.sign_in("alice", "Wrong-Horse-0")
        assert isinstance(page, HostedUIPage) and page.errors == ["Incorrect username or password."]
    browser.open(oauth.authorize_url())
    locked = browser.sign_in("alice", PASSWORD)
    assert isinstance(locked, HostedUIPage) and locked.errors == ["Password attempts exceeded"]


def test_an_unconfirmed_user_cannot_sign_in(oauth):
    """User status as in InitiateAuth: an UNCONFIRMED user gets "User is not confirmed."."""
    oauth.idp.sign_up(ClientId=oauth.web["ClientId"], Username="bob", Password=PASSWORD)
    page = oauth.sign_in(username="bob")
    assert isinstance(page, HostedUIPage) and page.errors == ["User is not confirmed."]


def test_a_temporary_password_leads_to_the_new_password_page(oauth):
    """NEW_PASSWORD_REQUIRED in the hosted UI: a user created by an admin signs in with the
    temporary password, must choose a new one that meets the policy, and is then signed in."""
    oauth.idp.admin_create_user(UserPoolId=oauth.pool_id, Username="carol", TemporaryPassword="Temp-Pass-1",
                                MessageAction="SUPPRESS")
    browser = HostedUIBrowser()
    browser.open(oauth.authorize_url())
    page = browser.sign_in("carol", "Temp-Pass-1")
    assert isinstance(page, HostedUIPage) and "new_password" in page.fields
    weak = browser.submit(new_password="short")
    assert isinstance(weak, HostedUIPage) and weak.errors[0].startswith("Password did not conform with policy")
    back = browser.submit(new_password="Brand-New-Pass-2")
    assert isinstance(back, AppRedirect) and back.params["code"]
    assert oauth.idp.admin_get_user(UserPoolId=oauth.pool_id, Username="carol")["UserStatus"] == "CONFIRMED"


def test_the_mfa_step_asks_for_the_totp_code(oauth):
    """With TOTP MFA, the password is not enough: the next page asks for the code; a wrong one
    is "Invalid code received for user", the right one signs in."""
    import pyotp

    idp = oauth.idp
    idp.set_user_pool_mfa_config(UserPoolId=oauth.pool_id, SoftwareTokenMfaConfiguration={"Enabled": True},
                                 MfaConfiguration="ON")
    api = idp.initiate_auth(ClientId=oauth.web["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
                            AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD})
    secret = idp.associate_software_token(Session=api["Session"])["SecretCode"]
    totp = pyotp.TOTP(secret)
    now = oauth.lab.clock.time()
    idp.verify_software_token(Session=api["Session"], UserCode=totp.at(now))
    idp.admin_set_user_mfa_preference(UserPoolId=oauth.pool_id, Username="alice",
                                      SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    browser = HostedUIBrowser()
    browser.open(oauth.authorize_url())
    page = browser.sign_in("alice", PASSWORD)
    assert isinstance(page, HostedUIPage) and "code" in page.fields and "username" not in page.fields
    wrong = browser.submit(code=str((int(totp.at(now)) + 1) % 1_000_000).zfill(6))
    assert isinstance(wrong, HostedUIPage) and wrong.errors == ["Invalid code received for user"]
    oauth.lab.clock.advance(seconds=30)
    back = browser.submit(code=totp.at(oauth.lab.clock.time()))
    assert isinstance(back, AppRedirect) and back.params["code"]


def test_the_mfa_step_sends_an_sms_code(oauth):
    """With SMS MFA, the hosted UI texts a code (lab.inbox) and signs in with it."""
    idp = oauth.idp
    idp.set_user_pool_mfa_config(UserPoolId=oauth.pool_id, MfaConfiguration="OPTIONAL", SmsMfaConfiguration={
        "SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::123456789012:role/sns", "ExternalId": "x"}})
    idp.admin_set_user_mfa_preference(UserPoolId=oauth.pool_id, Username="alice",
                                      SMSMfaSettings={"Enabled": True, "PreferredMfa": True})
    browser = HostedUIBrowser()
    browser.open(oauth.authorize_url())
    page = browser.sign_in("alice", PASSWORD)
    assert isinstance(page, HostedUIPage) and "code" in page.fields
    back = browser.submit(code=oauth.lab.inbox("+15555550100").latest.code)
    assert isinstance(back, AppRedirect) and back.params["code"]


def test_the_sign_in_form_needs_its_csrf_token(oauth):
    """A form posted without the page's _csrf token (a cross-site post) signs nobody in."""
    url = oauth.authorize_url()
    login = get(url).headers["Location"]
    response = requests.post(oauth.lab.endpoint_url + login, data={"username": "alice", "password": PASSWORD},
                             allow_redirects=False)
    assert response.status_code == 403 and "Location" not in response.headers


def test_the_hosted_ui_session_skips_the_form_until_prompt_login_or_logout(oauth):
    """A browser that signed in gets its next code without the form (the hosted UI's cookie);
    prompt=login shows the form again; prompt=none without a session is login_required."""
    browser = HostedUIBrowser()
    oauth.sign_in(browser=browser)
    again = browser.open(oauth.authorize_url())
    assert isinstance(again, AppRedirect) and again.params["code"]
    assert isinstance(browser.open(oauth.authorize_url(prompt="login")), HostedUIPage)
    fresh = HostedUIBrowser().open(oauth.authorize_url(prompt="none"))
    assert isinstance(fresh, AppRedirect) and fresh.params == {"error": "login_required", "state": "st-1"}


# -- the token endpoint: authorization code -------------------------------------------------------
def test_code_with_pkce_gives_id_access_and_refresh_tokens_the_verifier_accepts(oauth):
    """authorization_code + code_verifier: ID, access and refresh tokens; the access token's scope
    is what was granted; the ID token echoes the nonce; labkit's CognitoVerifier accepts both."""
    tokens = tokens_for(oauth, scope="openid email aws.cognito.signin.user.admin", nonce="n-42")
    assert set(tokens) == {"id_token", "access_token", "refresh_token", "expires_in", "token_type"}
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    access = oauth.lab.verifier(oauth.pool_id, oauth.web["ClientId"], scopes=["openid"]).verify(tokens["access_token"])
    assert access["scope"].split() == ["openid", "email", "aws.cognito.signin.user.admin"]
    id_claims = oauth.lab.verifier(oauth.pool_id, oauth.web["ClientId"], token_use="id").verify(tokens["id_token"])
    assert id_claims["nonce"] == "n-42" and id_claims["email"] == "alice@example.com"


def test_a_code_works_once(oauth):
    """Authorization codes are single use: the second redemption is invalid_grant."""
    back = oauth.sign_in()
    assert oauth.redeem(back.params["code"]).status_code == 200
    again = oauth.redeem(back.params["code"])
    assert (again.status_code, again.json()) == (400, {"error": "invalid_grant"})


def test_a_wrong_verifier_fails_and_burns_the_code(oauth):
    """PKCE: an intercepted code is useless without the verifier (invalid_grant), and the failed
    attempt consumes it, so the attacker cannot try again."""
    back = oauth.sign_in()
    wrong = oauth.redeem(back.params["code"], verifier="z" * 60)
    assert (wrong.status_code, wrong.json()) == (400, {"error": "invalid_grant"})
    assert oauth.redeem(back.params["code"]).json() == {"error": "invalid_grant"}


def test_a_pkce_code_without_a_verifier_is_invalid_request(oauth):
    """"code_verifier: Required if ... the authorization code was requested with PKCE"."""
    back = oauth.sign_in()
    response = oauth.redeem(back.params["code"], verifier=None)
    assert (response.status_code, response.json()) == (400, {"error": "invalid_request"})


def test_a_code_expires_after_five_minutes(oauth):
    """"a one time use code that is valid for five minutes" (on the lab clock)."""
    back = oauth.sign_in()
    oauth.lab.clock.advance(minutes=5, seconds=1)
    assert oauth.redeem(back.params["code"]).json() == {"error": "invalid_grant"}


def test_the_token_request_must_repeat_the_redirect_uri(oauth):
    """redirect_uri "Must be the same redirect_uri that was used to get authorization_code"."""
    back = oauth.sign_in()
    assert oauth.redeem(back.params["code"], redirect_uri="http://localhost:9999/x").json() == {"error": "invalid_grant"}


def test_a_code_belongs_to_its_client(oauth):
    """A code issued to one app client cannot be redeemed by another (invalid_grant), and the
    attempt consumes it."""
    back = oauth.sign_in()
    response = requests.post(oauth.conf["token_endpoint"], auth=(oauth.server["ClientId"], oauth.server["ClientSecret"]),
                             data={"grant_type": "authorization_code", "code": back.params["code"],
                                   "redirect_uri": CALLBACK, "code_verifier": VERIFIER})
    assert (response.status_code, response.json()) == (400, {"error": "invalid_grant"})
    assert oauth.redeem(back.params["code"]).json() == {"error": "invalid_grant"}


def test_a_client_with_a_secret_must_authenticate(oauth):
    """A client with a secret authenticates with HTTP Basic or client_id + client_secret in the
    body; without it the token endpoint answers invalid_client."""
    server = oauth.server

    def code():
        return oauth.sign_in(oauth.authorize_url(client_id=server["ClientId"])).params["code"]

    bare = oauth.redeem(code(), client_id=server["ClientId"], verifier=None)
    assert bare.json() == {"error": "invalid_client"}
    wrong = requests.post(oauth.conf["token_endpoint"], auth=(server["ClientId"], "not-the-secret"),
                          data={"grant_type": "authorization_code", "code": code(), "redirect_uri": CALLBACK})
    assert (wrong.status_code, wrong.json()) == (401, {"error": "invalid_client"})
    basic = requests.post(oauth.conf["token_endpoint"], auth=(server["ClientId"], server["ClientSecret"]),
                          data={"grant_type": "authorization_code", "code": code(), "redirect_uri": CALLBACK})
    assert basic.status_code == 200 and "refresh_token" in basic.json()
    posted = oauth.redeem(code(), client_id=server["ClientId"], verifier=None, client_secret=server["ClientSecret"])
    assert posted.status_code == 200


def test_token_endpoint_request_shape(oauth):
    """POST with application/x-www-form-urlencoded only; a grant type Cognito lacks is
    unsupported_grant_type; no grant_type at all is invalid_request."""
    endpoint = oauth.conf["token_endpoint"]
    assert requests.get(endpoint).status_code == 405
    assert requests.post(endpoint, json={"grant_type": "authorization_code"}).json() == {"error": "invalid_request"}
    assert requests.post(endpoint, data={"client_id": oauth.web["ClientId"]}).json() == {"error": "invalid_request"}
    password = requests.post(endpoint, data={"grant_type": "password", "client_id": oauth.web["ClientId"],
                                             "username": "alice", "password": PASSWORD})
    assert (password.status_code, password.json()) == (400, {"error": "unsupported_grant_type"})


# -- scopes and what the tokens carry -----------------------------------------------------------
def test_without_openid_there_is_no_id_token_and_no_user_info(oauth):
    """"An ID token is only returned if openid scope is requested"; userInfo needs openid too."""
    tokens = tokens_for(oauth, scope="aws.cognito.signin.user.admin")
    assert "id_token" not in tokens and "refresh_token" in tokens
    response = requests.get(oauth.conf["userinfo_endpoint"],
                            headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert response.status_code == 401 and 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_user_info_answers_by_scope(oauth):
    """userInfo: openid alone returns every attribute the client can read; openid email only the
    email and its verified flag (plus sub and username)."""
    everything = tokens_for(oauth, scope="openid")
    info = requests.get(oauth.conf["userinfo_endpoint"],
                        headers={"Authorization": f"Bearer {everything['access_token']}"}).json()
    assert {"email", "email_verified", "given_name", "phone_number"} <= set(info)
    assert info["username"] == "alice" and info["sub"] == claims(everything["id_token"])["sub"]
    only_email = tokens_for(oauth, scope="openid email")
    info = requests.get(oauth.conf["userinfo_endpoint"],
                        headers={"Authorization": f"Bearer {only_email['access_token']}"}).json()
    assert set(info) == {"sub", "username", "email", "email_verified"}


def test_user_info_refuses_api_tokens_and_missing_tokens(oauth):
    """Access tokens from InitiateAuth carry no openid scope: userInfo refuses them (401
    invalid_token); a request without a bearer token is invalid_request (400)."""
    api = oauth.idp.initiate_auth(ClientId=oauth.web["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD})["AuthenticationResult"]
    refused = requests.get(oauth.conf["userinfo_endpoint"], headers={"Authorization": f"Bearer {api['AccessToken']}"})
    assert refused.status_code == 401
    assert requests.get(oauth.conf["userinfo_endpoint"]).status_code == 400


def test_the_user_pool_api_needs_the_admin_scope(oauth):
    """aws.cognito.signin.user.admin: an OAuth access token without it cannot call GetUser
    ("Access Token does not have required scopes"); with it, it can."""
    without = tokens_for(oauth, scope="openid email")
    with pytest.raises(ClientError) as refused:
        oauth.idp.get_user(AccessToken=without["access_token"])
    assert refused.value.response["Error"]["Message"] == "Access Token does not have required scopes"
    with_admin = tokens_for(oauth, scope="openid aws.cognito.signin.user.admin")
    assert oauth.idp.get_user(AccessToken=with_admin["access_token"])["Username"] == "alice"


def test_a_user_token_can_carry_a_custom_scope(oauth):
    """Custom scopes of a resource server can be granted to a user too (code flow), beside the
    OIDC ones; the access token lists what was granted, nothing more."""
    tokens = tokens_for(oauth, scope=f"openid {API}/read")
    assert claims(tokens["access_token"])["scope"] == f"openid {API}/read"


def test_oauth_needs_allowed_oauth_flows_user_pool_client(oauth):
    """AllowedOAuthFlowsUserPoolClient false: "only SDK-based API sign-in is permitted", so the
    authorize and token endpoints refuse the client (unauthorized_client)."""
    off = oauth.idp.create_user_pool_client(
        UserPoolId=oauth.pool_id, ClientName="api-only", GenerateSecret=True, AllowedOAuthFlowsUserPoolClient=False,
        AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid"], CallbackURLs=[CALLBACK])["UserPoolClient"]
    response = get(oauth.authorize_url(client_id=off["ClientId"]))
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == ["unauthorized_client"]
    token = requests.post(oauth.conf["token_endpoint"], auth=(off["ClientId"], off["ClientSecret"]),
                          data={"grant_type": "authorization_code", "code": "x", "redirect_uri": CALLBACK})
    assert token.json() == {"error": "unauthorized_client"}


def test_implicit_grant_puts_tokens_in_the_fragment_and_never_a_refresh_token(oauth):
    """response_type=token: access token (and ID token with openid) and state in the fragment,
    no refresh token, no code."""
    back = oauth.sign_in(oauth.authorize_url(client_id=oauth.spa["ClientId"], response_type="token",
                                             scope="openid profile"))
    fragment = dict(parse_qs(urlsplit(back.url).fragment))
    assert urlsplit(back.url).query == ""
    assert {"access_token", "id_token", "token_type", "expires_in", "state"} <= set(fragment)
    assert "refresh_token" not in fragment and "code" not in fragment
    assert claims(fragment["access_token"][0])["scope"] == "openid profile"


# -- refresh and revoke ---------------------------------------------------------------------------
def test_refresh_keeps_the_scopes_and_revoke_ends_the_family(oauth):
    """grant_type=refresh_token: new ID and access tokens with the original scopes, no new refresh
    token. /oauth2/revoke revokes the refresh token and the access tokens issued from it."""
    tokens = tokens_for(oauth, scope="openid aws.cognito.signin.user.admin")
    data = {"grant_type": "refresh_token", "client_id": oauth.web["ClientId"], "refresh_token": tokens["refresh_token"]}
    refreshed = requests.post(oauth.conf["token_endpoint"], data=data).json()
    assert set(refreshed) == {"id_token", "access_token", "expires_in", "token_type"}
    assert claims(refreshed["access_token"])["scope"] == "openid aws.cognito.signin.user.admin"
    revoke = requests.post(oauth.conf["revocation_endpoint"],
                           data={"token": tokens["refresh_token"], "client_id": oauth.web["ClientId"]})
    assert (revoke.status_code, revoke.content) == (200, b"")
    assert requests.post(oauth.conf["token_endpoint"], data=data).json() == {"error": "invalid_grant"}
    with pytest.raises(ClientError) as revoked:
        oauth.idp.get_user(AccessToken=refreshed["access_token"])
    assert revoked.value.response["Error"]["Message"] == "Access Token has been revoked"


def test_revoke_endpoint_errors(oauth):
    """/oauth2/revoke: no token is invalid_request, an access token is unsupported_token_type,
    an unknown token is 200 (RFC 7009), bad client credentials are 401 invalid_client."""
    endpoint = oauth.conf["revocation_endpoint"]
    web = oauth.web["ClientId"]
    assert requests.post(endpoint, data={"client_id": web}).json() == {"error": "invalid_request"}
    access = tokens_for(oauth)["access_token"]
    unsupported = requests.post(endpoint, data={"client_id": web, "token": access})
    assert (unsupported.status_code, unsupported.json()) == (400, {"error": "unsupported_token_type"})
    assert requests.post(endpoint, data={"client_id": web, "token": "no-such-token"}).status_code == 200
    bad = requests.post(endpoint, auth=(oauth.server["ClientId"], "wrong"), data={"token": "x"})
    assert (bad.status_code, bad.json()) == (401, {"error": "invalid_client"})


# -- client credentials ---------------------------------------------------------------------------
def test_client_credentials_gives_an_access_token_for_the_client_alone(oauth):
    """client_credentials with HTTP Basic: an access token with the resource-server scopes, sub =
    the client id, no user, and no ID or refresh token; the verifier accepts it with its scopes."""
    m2m = oauth.m2m
    response = requests.post(oauth.conf["token_endpoint"], auth=(m2m["ClientId"], m2m["ClientSecret"]),
                             data={"grant_type": "client_credentials", "scope": f"{API}/read"})
    token = response.json()
    assert set(token) == {"access_token", "expires_in", "token_type"}
    verified = oauth.lab.verifier(oauth.pool_id, m2m["ClientId"], scopes=[f"{API}/read"]).verify(token["access_token"])
    assert verified["sub"] == m2m["ClientId"] and "username" not in verified
    everything = requests.post(oauth.conf["token_endpoint"], data={
        "grant_type": "client_credentials", "client_id": m2m["ClientId"], "client_secret": m2m["ClientSecret"]}).json()
    assert set(claims(everything["access_token"])["scope"].split()) == {f"{API}/read", f"{API}/write"}


def test_client_credentials_errors(oauth):
    """A scope the client lacks is invalid_scope; a client without client_credentials among its
    flows is unauthorized_client; a public client cannot authenticate (invalid_client)."""
    m2m, server = oauth.m2m, oauth.server
    other = requests.post(oauth.conf["token_endpoint"], auth=(m2m["ClientId"], m2m["ClientSecret"]),
                          data={"grant_type": "client_credentials", "scope": "openid"})
    assert other.json() == {"error": "invalid_scope"}
    not_m2m = requests.post(oauth.conf["token_endpoint"], auth=(server["ClientId"], server["ClientSecret"]),
                            data={"grant_type": "client_credentials"})
    assert not_m2m.json() == {"error": "unauthorized_client"}
    public = requests.post(oauth.conf["token_endpoint"],
                           data={"grant_type": "client_credentials", "client_id": oauth.web["ClientId"]})
    assert public.json() == {"error": "invalid_client"}


# -- logout ---------------------------------------------------------------------------------------
def test_logout_ends_the_session_and_returns_to_a_registered_url(oauth):
    """/logout?client_id&logout_uri: the hosted-UI session ends (the next authorize shows the form)
    and the browser goes to logout_uri, which must be one of the client's LogoutURLs."""
    browser = HostedUIBrowser()
    oauth.sign_in(browser=browser)
    base = oauth.conf["end_session_endpoint"]
    unknown = get(f"{base}?{urlencode({'client_id': oauth.web['ClientId'], 'logout_uri': 'https://evil.example.com'})}")
    assert unknown.status_code == 400 and "Location" not in unknown.headers
    out = browser.open(f"{base}?{urlencode({'client_id': oauth.web['ClientId'], 'logout_uri': SIGNED_OUT})}")
    assert isinstance(out, AppRedirect) and out.url == SIGNED_OUT
    assert isinstance(browser.open(oauth.authorize_url()), HostedUIPage)


def test_logout_with_redirect_uri_goes_to_the_sign_in_page(oauth):
    """/logout with redirect_uri (and the other authorize parameters) signs out and shows the
    sign-in page for a new sign-in."""
    query = urlencode({"client_id": oauth.web["ClientId"], "redirect_uri": CALLBACK, "response_type": "code"})
    response = get(f"{oauth.conf['end_session_endpoint']}?{query}")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/_domain/lab-app/login"


# -- a standard OAuth client, from the discovery document alone ---------------------------------
def test_authlib_client_completes_code_with_pkce_from_discovery(oauth):
    """Authlib's OAuth2Session, given only the discovery document, runs the code flow with PKCE
    (S256) and gets tokens whose ID token verifies against the published JWKS."""
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.common.security import generate_token

    conf = requests.get(f"{oauth.lab.endpoint_url}/{oauth.pool_id}/.well-known/openid-configuration").json()
    client = OAuth2Session(oauth.web["ClientId"], scope="openid email", redirect_uri=CALLBACK,
                           code_challenge_method="S256")
    verifier = generate_token(64)
    url, state = client.create_authorization_url(conf["authorization_endpoint"], code_verifier=verifier,
                                                 nonce="n-1")
    browser = HostedUIBrowser()
    browser.open(url)
    back = browser.sign_in("alice", PASSWORD)
    token = client.fetch_token(conf["token_endpoint"], authorization_response=back.url, code_verifier=verifier)
    keys = jwt.PyJWKClient(conf["jwks_uri"])
    id_claims = jwt.decode(token["id_token"], keys.get_signing_key_from_jwt(token["id_token"]).key,
                           algorithms=conf["id_token_signing_alg_values_supported"],
                           audience=oauth.web["ClientId"], issuer=conf["issuer"])
    assert id_claims["nonce"] == "n-1" and back.params["state"] == state
    assert client.get(conf["userinfo_endpoint"]).json()["email"] == "alice@example.com"


def test_authlib_client_credentials_from_discovery(oauth):
    """Authlib's OAuth2Session fetches a client-credentials token with HTTP Basic authentication."""
    from authlib.integrations.requests_client import OAuth2Session

    conf = oauth.conf
    assert "client_secret_basic" in conf["token_endpoint_auth_methods_supported"]
    client = OAuth2Session(oauth.m2m["ClientId"], oauth.m2m["ClientSecret"], scope=f"{API}/write",
                           token_endpoint_auth_method="client_secret_basic")
    token = client.fetch_token(conf["token_endpoint"], grant_type="client_credentials")
    assert claims(token["access_token"])["scope"] == f"{API}/write"


def test_the_code_flow_over_https(oauth):
    """With Lab(https=True) the same flow runs over TLS (the hosted-UI cookies are then Secure)."""
    oauth.lab.stop()
    with Lab(seed=12, https=True) as lab:
        idp = lab.client("cognito-idp")
        pool_id = idp.create_user_pool(PoolName="tls")["UserPool"]["Id"]
        idp.create_user_pool_domain(UserPoolId=pool_id, Domain="tls-app")
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="web", AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid"], CallbackURLs=[CALLBACK])["UserPoolClient"]["ClientId"]
        idp.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS")
        idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password=PASSWORD, Permanent=True)
        conf = requests.get(lab.openid_configuration_url(pool_id), verify=lab.ca_bundle).json()
        assert conf["token_endpoint"].startswith("https://127.0.0.1:")
        browser = HostedUIBrowser(verify=lab.ca_bundle)
        browser.open(f"{conf['authorization_endpoint']}?"
                     f"{urlencode({'response_type': 'code', 'client_id': client_id, 'redirect_uri': CALLBACK})}")
        assert all(cookie.secure for cookie in browser.session.cookies)
        back = browser.sign_in("alice", PASSWORD)
        tokens = requests.post(conf["token_endpoint"], verify=lab.ca_bundle, data={
            "grant_type": "authorization_code", "client_id": client_id, "code": back.params["code"],
            "redirect_uri": CALLBACK}).json()
        assert lab.verifier(pool_id, client_id, token_use="id").verify(tokens["id_token"])["cognito:username"] == "alice"


# -- cold start -----------------------------------------------------------------------------------
COLD = r"""
import json, sys
import labkit
with labkit.Lab(seed=1) as lab:
    idp = lab.client("cognito-idp")
    pool = idp.create_user_pool(PoolName="p")["UserPool"]["Id"]
    idp.create_user_pool_client(UserPoolId=pool, ClientName="c")
    before = sorted(m for m in ("authlib", "labkit.emulator.user_pools.hosted_ui", "labkit.emulator.user_pools.oauth")
                    if m in sys.modules)
print(json.dumps(before))
"""


def test_the_oauth_code_loads_only_when_a_domain_is_used():
    """A lab that never calls a domain's endpoints imports neither Authlib nor the hosted UI."""
    out = subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
