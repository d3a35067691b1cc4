"""Federation through the hosted UI: signing in with an external OIDC identity provider ("Google").

Sources: developer guide "Adding user pool sign-in through a third party" (social and OIDC IdPs),
"Specifying identity provider attribute mappings", the authorize endpoint reference
(``identity_provider``, ``idp_identifier``); API reference CreateIdentityProvider, UserType
(``EXTERNAL_PROVIDER`` — "User signed in with a third-party IdP"), AdminLinkProviderForUser
(Cognito reads Google's ``sub``). Each test's docstring names the rule it checks.
"""
from __future__ import annotations

import base64
import hashlib
from types import SimpleNamespace
from urllib.parse import urlencode

import jwt
import pytest
import requests
from botocore.exceptions import ClientError

from labkit import Lab
from labkit.cognito.hosted_ui import AppRedirect, HostedUIBrowser, HostedUIPage

CALLBACK = "http://localhost:8080/callback"
VERIFIER = "v" * 48 + "-federation"
MAPPING = {"email": "email", "email_verified": "email_verified", "name": "name", "username": "sub"}


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@pytest.fixture
def fed():
    """A pool with the domain ``fed-app``, the lab's "Google" with the user bob@gmail.com, an
    identity provider Google (mapping email, email_verified, name), and the app client ``web``
    (public, code flow, COGNITO and Google)."""
    with Lab(seed=21) as lab:
        google = lab.social_provider("Google")
        bob = google.add_user("bob@gmail.com", "bob-at-google", name="Bob Example", given_name="Bob")
        idp = lab.client("cognito-idp")
        pool_id = idp.create_user_pool(PoolName="fed")["UserPool"]["Id"]
        idp.create_user_pool_domain(UserPoolId=pool_id, Domain="fed-app")
        base = lab.domain_url("fed-app")
        google.allow_redirect_uri(f"{base}/oauth2/idpresponse")
        idp.create_identity_provider(UserPoolId=pool_id, ProviderName="Google", ProviderType="Google",
                                     ProviderDetails=google.provider_details(), AttributeMapping=MAPPING,
                                     IdpIdentifiers=["gmail.com"])
        web = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="web", AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid", "email", "profile"], CallbackURLs=[CALLBACK],
            SupportedIdentityProviders=["COGNITO", "Google"])["UserPoolClient"]

        def authorize_url(client_id=web["ClientId"], **params):
            query = {"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "state": "st-9",
                     "code_challenge": s256(VERIFIER), "code_challenge_method": "S256", **params}
            return f"{base}/oauth2/authorize?{urlencode({k: v for k, v in query.items() if v is not None})}"

        def sign_in(email="bob@gmail.com", password="bob-at-google", **params):
            browser = HostedUIBrowser()
            page = browser.open(authorize_url(**({"identity_provider": "Google"} | params)))
            assert isinstance(page, HostedUIPage) and page.has_sign_in_form, page
            return browser.sign_in(email, password)

        def redeem(code):
            return requests.post(f"{base}/oauth2/token", data={
                "grant_type": "authorization_code", "client_id": web["ClientId"], "code": code,
                "redirect_uri": CALLBACK, "code_verifier": VERIFIER})

        yield SimpleNamespace(lab=lab, idp=idp, pool_id=pool_id, web=web, google=google, bob=bob, base=base,
                              authorize_url=authorize_url, sign_in=sign_in, redeem=redeem)


def test_identity_provider_google_signs_in_at_the_provider_and_returns_cognitos_code(fed):
    """identity_provider=Google sends the browser to the IdP's sign-in page (another origin); back
    at /oauth2/idpresponse Cognito redirects to the app with its own code and the app's state."""
    browser = HostedUIBrowser()
    page = browser.open(fed.authorize_url(identity_provider="Google"))
    assert page.url.startswith(fed.google.issuer + "/authorize?")
    assert "redirect_uri=" + requests.utils.quote(f"{fed.base}/oauth2/idpresponse", safe="") in page.url
    back = browser.sign_in("bob@gmail.com", "bob-at-google")
    assert isinstance(back, AppRedirect) and back.url.startswith(CALLBACK + "?")
    assert back.params["state"] == "st-9" and back.params["code"]
    assert fed.redeem(back.params["code"]).status_code == 200


def test_the_federated_user_is_named_after_the_provider_and_its_sub(fed):
    """Cognito creates the user <ProviderName>_<sub at the IdP>, status EXTERNAL_PROVIDER, with the
    mapped attributes; its ID token (Cognito's, verifiable with the pool's keys) carries the
    identities claim: an array of {userId, providerName, providerType, issuer, primary, dateCreated}."""
    back = fed.sign_in()
    tokens = fed.redeem(back.params["code"]).json()
    claims = fed.lab.verifier(fed.pool_id, fed.web["ClientId"], token_use="id").verify(tokens["id_token"])
    assert claims["cognito:username"] == f"Google_{fed.bob.sub}"
    assert claims["email"] == "bob@gmail.com" and claims["name"] == "Bob Example"
    assert claims["email_verified"] is True
    assert "given_name" not in claims                      # not in the AttributeMapping: not copied
    [identity] = claims["identities"]
    assert identity["userId"] == fed.bob.sub and identity["providerName"] == "Google"
    assert identity["providerType"] == "Google" and identity["primary"] == "true"
    assert set(identity) == {"userId", "providerName", "providerType", "issuer", "primary", "dateCreated"}
    user = fed.idp.admin_get_user(UserPoolId=fed.pool_id, Username=f"Google_{fed.bob.sub}")
    assert user["UserStatus"] == "EXTERNAL_PROVIDER"
    assert claims["sub"] != fed.bob.sub                    # the user pool's own sub, not Google's


def test_signing_in_again_finds_the_same_user_and_updates_mapped_attributes(fed):
    """A second sign-in with the same IdP account is the same user-pool user (same sub); mapped
    attributes are written again from the IdP's claims at each sign-in."""
    first = fed.lab.verifier(fed.pool_id, fed.web["ClientId"], token_use="id").verify(
        fed.redeem(fed.sign_in().params["code"]).json()["id_token"])
    fed.bob.claims["name"] = "Robert Example"
    second = fed.lab.verifier(fed.pool_id, fed.web["ClientId"], token_use="id").verify(
        fed.redeem(fed.sign_in().params["code"]).json()["id_token"])
    assert second["sub"] == first["sub"]
    assert second["name"] == "Robert Example"
    assert len(fed.idp.list_users(UserPoolId=fed.pool_id)["Users"]) == 1


def test_idp_identifier_picks_the_provider(fed):
    """idp_identifier names one of a provider's IdpIdentifiers (e.g. an email domain) instead of its name."""
    browser = HostedUIBrowser()
    page = browser.open(fed.authorize_url(idp_identifier="gmail.com"))
    assert page.url.startswith(fed.google.issuer + "/authorize?")
    back = browser.open(fed.authorize_url(idp_identifier="unknown.example"))
    assert isinstance(back, AppRedirect) and back.error == "invalid_request"


def test_a_provider_the_app_client_does_not_support_is_refused(fed):
    """identity_provider must be one of the app client's SupportedIdentityProviders."""
    other = fed.idp.create_user_pool_client(
        UserPoolId=fed.pool_id, ClientName="cognito-only", AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid"], CallbackURLs=[CALLBACK],
        SupportedIdentityProviders=["COGNITO"])["UserPoolClient"]
    back = HostedUIBrowser().open(fed.authorize_url(client_id=other["ClientId"], identity_provider="Google"))
    assert isinstance(back, AppRedirect) and back.error == "unauthorized_client"
    assert fed.google.sign_ins == 0


def test_wrong_password_at_the_provider_creates_nobody(fed):
    """The IdP checks its own users' passwords; Cognito learns nothing until the IdP says yes."""
    page = fed.sign_in(password="wrong")
    assert isinstance(page, HostedUIPage) and page.errors == ["Wrong email or password."]
    assert fed.idp.list_users(UserPoolId=fed.pool_id)["Users"] == []


def test_the_provider_only_returns_to_registered_redirect_uris(fed):
    """At the IdP, Cognito's /oauth2/idpresponse must be a registered redirect URI of the OAuth
    client (at Google, "Authorized redirect URIs"); otherwise the IdP refuses and redirects nowhere."""
    fed.google.redirect_uris.clear()
    page = HostedUIBrowser().open(fed.authorize_url(identity_provider="Google"))
    assert isinstance(page, HostedUIPage) and page.status == 400 and not page.has_sign_in_form


def test_a_forged_or_replayed_state_at_idpresponse_is_refused(fed):
    """Cognito's state to the IdP is single-use: an idpresponse with an unknown state gets an
    error page, never a redirect to the app."""
    response = requests.get(f"{fed.base}/oauth2/idpresponse?code=abc&state=made-up", allow_redirects=False)
    assert response.status_code == 400 and "Location" not in response.headers


def test_the_login_page_links_to_the_clients_providers(fed):
    """The hosted UI's sign-in page offers the app client's external providers ("Sign in with Google")."""
    browser = HostedUIBrowser()
    page = browser.open(fed.authorize_url())
    assert page.has_sign_in_form and 'id="idp-Google"' in page.text and "identity_provider=Google" in page.text


def test_an_oidc_provider_is_found_through_its_issuers_discovery_document(fed):
    """ProviderType OIDC: Cognito reads oidc_issuer's /.well-known/openid-configuration for the
    endpoints; the user is <ProviderName>_<sub> with providerType OIDC."""
    fed.idp.create_identity_provider(
        UserPoolId=fed.pool_id, ProviderName="Corp", ProviderType="OIDC",
        ProviderDetails={**fed.google.provider_details(), "oidc_issuer": fed.google.issuer,
                         "attributes_request_method": "GET"}, AttributeMapping={"email": "email"})
    fed.idp.update_user_pool_client(
        UserPoolId=fed.pool_id, ClientId=fed.web["ClientId"], AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid", "email"], CallbackURLs=[CALLBACK],
        SupportedIdentityProviders=["Corp"])
    back = fed.sign_in(identity_provider="Corp")
    claims = jwt.decode(fed.redeem(back.params["code"]).json()["id_token"], options={"verify_signature": False})
    assert claims["cognito:username"] == f"Corp_{fed.bob.sub}"
    assert claims["identities"][0]["providerType"] == "OIDC"


def test_google_needs_the_labs_local_provider(fed):
    """In the lab, ProviderType Google means the local provider: without lab.social_provider the
    hosted UI says what to do instead of redirecting anywhere."""
    fed.lab._social.clear()
    page = HostedUIBrowser().open(fed.authorize_url(identity_provider="Google"))
    assert isinstance(page, HostedUIPage) and page.status == 400
    assert "lab.social_provider('Google')" in " ".join(page.errors)


@pytest.mark.parametrize("kwargs, error", [
    ({"ProviderName": "Google", "ProviderType": "Google", "ProviderDetails": {"client_id": "x"}},
     "InvalidParameterException"),
    ({"ProviderName": "Gmail", "ProviderType": "Google",
      "ProviderDetails": {"client_id": "x", "client_secret": "y", "authorize_scopes": "openid"}},
     "InvalidParameterException"),
    ({"ProviderName": "Corp", "ProviderType": "OIDC",
      "ProviderDetails": {"client_id": "x", "authorize_scopes": "openid", "oidc_issuer": "https://idp.example"}},
     "InvalidParameterException"),
    ({"ProviderName": "Corp", "ProviderType": "LDAP", "ProviderDetails": {}}, "InvalidParameterException"),
])
def test_create_identity_provider_checks_the_details_each_type_needs(fed, kwargs, error):
    """CreateIdentityProvider: Google needs client_id, client_secret, authorize_scopes and is named
    Google; OIDC needs client_id, authorize_scopes, oidc_issuer, attributes_request_method."""
    fed.idp.delete_identity_provider(UserPoolId=fed.pool_id, ProviderName="Google")
    with pytest.raises(ClientError) as caught:
        fed.idp.create_identity_provider(UserPoolId=fed.pool_id, **kwargs)
    assert caught.value.response["Error"]["Code"] == error


def test_a_second_provider_with_the_same_name_is_a_duplicate(fed):
    """Provider names are unique in a pool: DuplicateProviderException."""
    with pytest.raises(ClientError) as caught:
        fed.idp.create_identity_provider(UserPoolId=fed.pool_id, ProviderName="Google", ProviderType="Google",
                                         ProviderDetails=fed.google.provider_details())
    assert caught.value.response["Error"]["Code"] == "DuplicateProviderException"


def test_a_federated_user_has_no_password_to_sign_in_with(fed):
    """An EXTERNAL_PROVIDER user signs in through its IdP only: the API's password flows refuse it."""
    fed.sign_in()
    client = fed.idp.create_user_pool_client(UserPoolId=fed.pool_id, ClientName="api",
                                             ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])["UserPoolClient"]
    with pytest.raises(ClientError) as caught:
        fed.idp.initiate_auth(ClientId=client["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={"USERNAME": f"Google_{fed.bob.sub}", "PASSWORD": "bob-at-google"})
    assert caught.value.response["Error"]["Code"] == "NotAuthorizedException"



def test_cancelling_at_the_provider_returns_access_denied_to_the_app(fed):
    """When the IdP answers /oauth2/idpresponse with an error instead of a code (the user cancelled),
    the app gets an error redirect with its own state, and nobody is created."""
    from urllib.parse import parse_qs, urlsplit

    browser = HostedUIBrowser()
    page = browser.open(fed.authorize_url(identity_provider="Google"))
    ours = parse_qs(urlsplit(page.url).query)["state"][0]          # Cognito's state at the IdP
    back = browser.open(f"{fed.base}/oauth2/idpresponse?error=access_denied&state={ours}")
    assert isinstance(back, AppRedirect) and back.error == "access_denied" and back.params["state"] == "st-9"
    assert fed.idp.list_users(UserPoolId=fed.pool_id)["Users"] == []


def test_a_saml_provider_is_stored_but_not_run(fed):
    """SAML providers can be created; the lab's hosted UI says it does not run SAML (README)."""
    fed.idp.create_identity_provider(UserPoolId=fed.pool_id, ProviderName="Corp", ProviderType="SAML",
                                     ProviderDetails={"MetadataURL": "https://idp.example/metadata"})
    fed.idp.update_user_pool_client(
        UserPoolId=fed.pool_id, ClientId=fed.web["ClientId"], AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid"], CallbackURLs=[CALLBACK],
        SupportedIdentityProviders=["Corp"])
    page = HostedUIBrowser().open(fed.authorize_url(identity_provider="Corp"))
    assert isinstance(page, HostedUIPage) and page.status == 400 and "SAML" in " ".join(page.errors)


# -- Lambda triggers on federated sign-in ---------------------------------------------------------
FEDERATION_RECORDER = """
import json
def handler(event, context):
    print('EVENT ' + json.dumps(event))
    if event["triggerSource"] == "PreSignUp_ExternalProvider" and event["request"]["userAttributes"].get(
            "email", "").endswith("@blocked.example"):
        raise Exception("This address may not sign up")
    return event
"""


def _trigger_events(lab, name):
    import json

    return [json.loads(line.message[6:]) for line in lab.lambda_logs(name) if line.message.startswith("EVENT ")]


def test_the_first_federated_sign_in_runs_pre_sign_up_and_post_confirmation(fed):
    """"Lambda triggers for federated users" (developer guide, Customizing user pool workflows with
    Lambda triggers): the first sign-in runs pre sign-up (PreSignUp_ExternalProvider, with the mapped
    attributes) and post confirmation (PostConfirmation_ConfirmSignUp); later sign-ins run pre
    authentication (PreAuthentication_Authentication) instead."""
    from labkit.course.triggers import deploy_function

    arn = deploy_function(fed.lab, FEDERATION_RECORDER, name="federation-recorder")
    fed.idp.update_user_pool(UserPoolId=fed.pool_id, LambdaConfig={
        "PreSignUp": arn, "PostConfirmation": arn, "PreAuthentication": arn})
    assert isinstance(fed.sign_in(), AppRedirect)
    assert isinstance(fed.sign_in(), AppRedirect)
    events = _trigger_events(fed.lab, "federation-recorder")
    username = f"Google_{fed.bob.sub}"
    assert [(e["triggerSource"], e["userName"]) for e in events] == [
        ("PreSignUp_ExternalProvider", username), ("PostConfirmation_ConfirmSignUp", username),
        ("PreAuthentication_Authentication", username)]
    assert events[0]["request"]["userAttributes"]["email"] == "bob@gmail.com"
    assert events[0]["callerContext"]["clientId"] == fed.web["ClientId"]


def test_a_pre_sign_up_trigger_can_refuse_a_federated_user(fed):
    """A pre sign-up trigger that raises refuses the first sign-in: nobody is created, and the app
    hears it at its redirect_uri (error=invalid_request, error_description "PreSignUp failed with
    error …", the trigger error's wording)."""
    from labkit.course.triggers import deploy_function

    fed.google.add_user("eve@blocked.example", "eve-at-google", name="Eve")
    arn = deploy_function(fed.lab, FEDERATION_RECORDER, name="federation-gate")
    fed.idp.update_user_pool(UserPoolId=fed.pool_id, LambdaConfig={"PreSignUp": arn})
    back = fed.sign_in(email="eve@blocked.example", password="eve-at-google")
    assert isinstance(back, AppRedirect) and back.params["error"] == "invalid_request"
    assert back.params["error_description"] == "PreSignUp failed with error This address may not sign up."
    assert back.params["state"] == "st-9"
    assert fed.idp.list_users(UserPoolId=fed.pool_id)["Users"] == []


def test_each_identity_provider_has_a_group_its_users_join(fed):
    """"Amazon Cognito creates a user group for each OIDC, SAML, and social identity provider … in the
    format [user pool ID]_[IdP name] … Each unique automatically-generated IdP user profile is
    automatically added to this group" (developer guide, "Adding groups to a user pool")."""
    group = f"{fed.pool_id}_Google"
    assert group in [g["GroupName"] for g in fed.idp.list_groups(UserPoolId=fed.pool_id)["Groups"]]
    tokens = fed.redeem(fed.sign_in().params["code"]).json()
    claims = fed.lab.verifier(fed.pool_id, fed.web["ClientId"], token_use="id").verify(tokens["id_token"])
    assert claims["cognito:groups"] == [group]
    members = fed.idp.list_users_in_group(UserPoolId=fed.pool_id, GroupName=group)["Users"]
    assert [m["Username"] for m in members] == [f"Google_{fed.bob.sub}"]
