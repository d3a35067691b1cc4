"""The hosted UI's sign-up, confirmation, password-reset and MFA set-up pages, driven like a browser.

Sources (developer guide): "How to sign up for a new account in the Amazon Cognito hosted UI" and
"How to reset a password with the Amazon Cognito hosted UI" (the user's steps); "Customizing user
pool workflows with Lambda triggers" (the triggers each managed-login page runs); "Example Amazon
Cognito events" (the CloudTrail events of a hosted-UI sign-up: the fields its forms post);
"Managing user existence error responses" (PreventUserExistenceErrors). Each docstring names the rule.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pyotp
import pytest
import requests
from botocore.exceptions import ClientError

from labkit import Lab
from labkit.cognito.hosted_ui import AppRedirect, HostedUIBrowser, HostedUIPage

PASSWORD = "Correct-Horse-9"
CALLBACK = "http://localhost:8080/callback"
VERIFIER = "v" * 20 + "-pages-verifier-" + "w" * 30
WEAK = "password"


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture(scope="module")
def lab():
    with Lab(seed=12) as lab:
        yield lab


_pools = iter(range(1000))


def make_site(lab, *, puee="ENABLED", alice="alice", **pool_settings):
    """A pool (email required and auto-verified, password history of 2) with a domain and a public
    code-flow client ``web`` whose PreventUserExistenceErrors is ``puee``; the user alice."""
    idp = lab.client("cognito-idp")
    n = next(_pools)
    settings = {"AutoVerifiedAttributes": ["email"],
                "Schema": [{"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True}],
                "Policies": {"PasswordPolicy": {"MinimumLength": 10, "RequireUppercase": True,
                                                "RequireLowercase": True, "RequireNumbers": True,
                                                "RequireSymbols": False, "PasswordHistorySize": 2}},
                **pool_settings}
    pool_id = idp.create_user_pool(PoolName=f"pages{n}", **settings)["UserPool"]["Id"]
    domain = f"pages-{n}"
    idp.create_user_pool_domain(UserPoolId=pool_id, Domain=domain)
    web = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email", "profile"], CallbackURLs=[CALLBACK],
        SupportedIdentityProviders=["COGNITO"], PreventUserExistenceErrors=puee,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
    idp.admin_create_user(UserPoolId=pool_id, Username=alice, MessageAction="SUPPRESS", UserAttributes=[
        {"Name": "email", "Value": "alice@example.com"}, {"Name": "email_verified", "Value": "true"}])
    idp.admin_set_user_password(UserPoolId=pool_id, Username=alice, Password=PASSWORD, Permanent=True)
    base = lab.domain_url(domain)

    def authorize_url(**params):
        query = {"response_type": "code", "client_id": web["ClientId"], "redirect_uri": CALLBACK, "state": "st-7",
                 "scope": "openid email", "code_challenge": s256(VERIFIER), "code_challenge_method": "S256",
                 **params}
        return f"{base}/oauth2/authorize?{urlencode(query)}"

    def open_page(link: str | None = None) -> HostedUIBrowser:
        browser = HostedUIBrowser()
        page = browser.open(authorize_url())
        assert isinstance(page, HostedUIPage) and page.has_sign_in_form, page
        if link:
            assert isinstance(browser.follow(link), HostedUIPage)
        return browser

    def redeem(code):
        return requests.post(f"{base}/oauth2/token", data={
            "grant_type": "authorization_code", "client_id": web["ClientId"], "code": code,
            "redirect_uri": CALLBACK, "code_verifier": VERIFIER})

    def user_exists(username):
        try:
            idp.admin_get_user(UserPoolId=pool_id, Username=username)
            return True
        except ClientError:
            return False

    return SimpleNamespace(idp=idp, pool_id=pool_id, web=web, base=base, authorize_url=authorize_url,
                           open_page=open_page, redeem=redeem, user_exists=user_exists)


@pytest.fixture
def site(lab):
    return make_site(lab)


def sign_up(site, username="bob", email="bob@example.com", password=PASSWORD):
    browser = site.open_page("sign-up")
    page = browser.submit(username=username, password=password, **{"requiredAttributes[email]": email})
    return browser, page


# -- sign-up ---------------------------------------------------------------------------------------
def test_the_pages_link_to_each_other_keeping_the_authorize_parameters(site):
    """The sign-in page links to /signup and /forgotPassword ("/signup: a direct link with the same
    parameters as /oauth2/authorize"), and they link back, with every parameter of the request."""
    browser = site.open_page()
    wanted = parse_qs(urlsplit(site.authorize_url()).query)
    for link in ("sign-up", "forgot-password"):
        assert parse_qs(urlsplit(browser.page.links[link]).query) == wanted
    page = browser.follow("sign-up")
    assert urlsplit(page.url).path.endswith("/signup")
    assert parse_qs(urlsplit(page.links["sign-in"]).query) == wanted
    assert isinstance(browser.follow("sign-in"), HostedUIPage) and browser.page.has_sign_in_form


def test_sign_up_asks_for_the_required_attributes_with_cognitos_field_names(site):
    """The form posts username, password and requiredAttributes[email] with _csrf, as the hosted UI's
    Signup_POST event shows; the button is signUpButton."""
    browser = site.open_page("sign-up")
    assert {"username", "password", "requiredAttributes[email]", "_csrf"} <= set(browser.page.fields)
    assert 'name="signUpButton"' in browser.page.text


def test_sign_up_then_the_code_from_the_inbox_signs_in_and_returns_a_code(site, lab):
    """Sign up, confirm with the emailed code (the confirmation page posts code, username, sub,
    destination, deliveryMedium), and "Amazon Cognito grants access to your app": the browser goes
    back to redirect_uri with a code (and the state) that redeems for tokens."""
    browser, page = sign_up(site)
    assert isinstance(page, HostedUIPage) and "code" in page.fields
    assert {"username", "sub", "destination", "deliveryMedium"} <= set(page.fields)
    assert page.fields["deliveryMedium"] == "EMAIL" and page.fields["destination"] == "b***@e***"
    described = site.idp.admin_get_user(UserPoolId=site.pool_id, Username="bob")
    assert described["UserStatus"] == "UNCONFIRMED"
    back = browser.submit(code=lab.inbox("bob@example.com").latest.code)
    assert isinstance(back, AppRedirect) and back.params["state"] == "st-7" and back.params["code"]
    tokens = site.redeem(back.params["code"])
    assert tokens.status_code == 200, tokens.text
    id_claims = claims(tokens.json()["id_token"])
    assert id_claims["cognito:username"] == "bob" and id_claims["email_verified"] is True
    assert site.idp.admin_get_user(UserPoolId=site.pool_id, Username="bob")["UserStatus"] == "CONFIRMED"
    # signed in to the hosted UI too: the next authorize needs no form
    assert isinstance(browser.open(site.authorize_url()), AppRedirect)


def test_a_pool_that_signs_in_with_email_asks_for_it_as_the_username(lab):
    """UsernameAttributes email: the username field takes the address (no separate email field); the
    user's username is a UUID, the address is its email, confirmed with the code sent there."""
    site = make_site(lab, UsernameAttributes=["email"], alice="alice@example.com")
    browser = site.open_page("sign-up")
    assert set(browser.page.fields) == {"_csrf", "username", "password"}
    browser.submit(username="erin@example.com", password=PASSWORD)
    back = browser.submit(code=lab.inbox("erin@example.com").latest.code)
    assert isinstance(back, AppRedirect)
    id_claims = claims(site.redeem(back.params["code"]).json()["id_token"])
    assert id_claims["email"] == "erin@example.com" and id_claims["cognito:username"] == id_claims["sub"]


def test_a_weak_password_is_refused_with_cognitos_message_and_creates_nobody(site):
    browser, page = sign_up(site, password=WEAK)
    assert isinstance(page, HostedUIPage)
    assert page.errors == ["Password did not conform with policy: Password not long enough"]
    assert not site.user_exists("bob")
    assert page.fields["username"] == "bob" and page.fields["requiredAttributes[email]"] == "bob@example.com"
    assert page.fields["password"] == ""                  # typed values kept, never the password


def test_a_required_attribute_left_out_is_refused_on_the_page_and_by_the_api(site):
    """"Attributes did not conform to the schema: email: The attribute is required" (SignUp)."""
    _, page = sign_up(site, email="")
    assert page.errors == ["Attributes did not conform to the schema: email: The attribute is required"]
    with pytest.raises(ClientError) as refused:
        site.idp.sign_up(ClientId=site.web["ClientId"], Username="carol", Password=PASSWORD)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    assert refused.value.response["Error"]["Message"] == page.errors[0] + "\n"
    assert not site.user_exists("bob") and not site.user_exists("carol")


def test_an_existing_username_is_refused(site):
    _, page = sign_up(site, username="alice", email="other@example.com")
    assert page.errors == ["User already exists"]


def test_admin_create_user_only_pools_have_no_sign_up(lab):
    """AllowAdminCreateUserOnly: no link on the sign-in page, and /signup refuses ("SignUp is not
    permitted for this user pool", SignUp's NotAuthorizedException) for GET and POST alike."""
    site = make_site(lab, AdminCreateUserConfig={"AllowAdminCreateUserOnly": True})
    browser = site.open_page()
    assert "sign-up" not in browser.page.links and "forgot-password" in browser.page.links
    signup = f"{site.base}/signup?{urlsplit(site.authorize_url()).query}"
    for method in ("GET", "POST"):
        answer = requests.request(method, signup, data={"username": "eve", "password": PASSWORD},
                                  allow_redirects=False)
        assert answer.status_code == 400 and "SignUp is not permitted for this user pool" in answer.text
    assert not site.user_exists("eve")


def test_the_sign_up_form_needs_its_csrf_token(site):
    signup = f"{site.base}/signup?{urlsplit(site.authorize_url()).query}"
    answer = requests.post(signup, data={"username": "mallory", "password": PASSWORD,
                                         "requiredAttributes[email]": "m@example.com"}, allow_redirects=False)
    assert answer.status_code == 403 and not site.user_exists("mallory")


def test_a_wrong_or_expired_confirmation_code_keeps_the_user_unconfirmed(site, lab):
    """CodeMismatchException, then (after 24 hours) ExpiredCodeException; a new code ("resend")
    confirms."""
    browser, _ = sign_up(site)
    code = lab.inbox("bob@example.com").latest.code
    wrong = browser.submit(code=str((int(code) + 1) % 1_000_000).zfill(6))
    assert wrong.errors == ["Invalid verification code provided, please try again."]
    lab.clock.advance(hours=24, seconds=1)            # the page is stale too: open it again
    browser.open(f"{site.base}/confirm?{urlsplit(site.authorize_url()).query}&username=bob")
    expired = browser.submit(code=code)
    assert expired.errors == ["Invalid code provided, please request a code again."]
    assert site.idp.admin_get_user(UserPoolId=site.pool_id, Username="bob")["UserStatus"] == "UNCONFIRMED"
    browser.submit(resend="1")
    fresh = lab.inbox("bob@example.com").latest.code
    assert fresh != code
    confirmed = browser.submit(code=fresh)          # confirmed; this page then asks for the password
    assert isinstance(confirmed, HostedUIPage) and confirmed.has_sign_in_form


def test_confirming_later_from_the_page_alone_sends_the_user_to_sign_in(site, lab):
    """/confirm opened on its own (another browser) confirms, but signs nobody in: a code is not a
    password. The user then signs in."""
    sign_up(site)
    later = HostedUIBrowser()
    page = later.open(f"{site.base}/confirm?{urlsplit(site.authorize_url()).query}&username=bob")
    assert isinstance(page, HostedUIPage) and page.fields["username"] == "bob"
    back = later.submit(code=lab.inbox("bob@example.com").latest.code)
    assert isinstance(back, HostedUIPage) and back.has_sign_in_form
    assert isinstance(later.sign_in("bob", PASSWORD), AppRedirect)


# -- forgot password --------------------------------------------------------------------------------
def ask_reset(site, username):
    browser = site.open_page("forgot-password")
    return browser, browser.submit(username=username)


def shape(page: HostedUIPage) -> str:
    """The page as a user sees it, without its one-time tokens and the masked address."""
    text = re.sub(r'value="[^"]*"', 'value=""', page.text)
    return re.sub(r"[a-z]\*\*\*@[a-z]\*\*\*", "x***@y***", text)


def test_forgot_password_looks_the_same_for_a_user_and_a_stranger(site, lab):
    """PreventUserExistenceErrors ENABLED: an unknown username gets the same next page (a simulated
    delivery) as a real one, and nothing is sent."""
    _, real = ask_reset(site, "alice")
    _, fake = ask_reset(site, "nobody")
    assert real.status == fake.status == 200 and set(real.fields) == set(fake.fields) == {
        "_csrf", "session", "code", "password", "confirmPassword"}
    assert shape(real) == shape(fake)
    assert len(lab.inbox("alice@example.com")) == 1


def test_with_legacy_errors_the_page_tells_who_exists(lab):
    """PreventUserExistenceErrors LEGACY: ForgotPassword's UserNotFoundException shows."""
    site = make_site(lab, puee="LEGACY")
    _, page = ask_reset(site, "nobody")
    assert page.errors == ["User does not exist."] and "session" not in page.fields


def test_reset_with_the_code_then_sign_in_with_the_new_password(site, lab):
    """Code + new password twice; the policy and the password history apply (the current password is
    the latest of PasswordHistorySize); then back to the sign-in page, where the new one works."""
    browser, page = ask_reset(site, "alice")
    code = lab.inbox("alice@example.com").latest.code
    assert browser.submit(code=code, password="New-Horse-10", confirmPassword="New-Horse-11").errors == [
        "The two passwords do not match."]
    assert browser.submit(code=code, password=WEAK, confirmPassword=WEAK).errors[0].startswith(
        "Password did not conform with policy")
    reused = browser.submit(code=code, password=PASSWORD, confirmPassword=PASSWORD)
    assert reused.errors == ["The password matches one of the user's last 2 passwords (PasswordHistorySize)."]
    wrong = browser.submit(code="000000" if code != "000000" else "111111", password="New-Horse-10",
                           confirmPassword="New-Horse-10")
    assert wrong.errors == ["Invalid verification code provided, please try again."]
    done = browser.submit(code=code, password="New-Horse-10", confirmPassword="New-Horse-10")
    assert isinstance(done, HostedUIPage) and done.has_sign_in_form and urlsplit(done.url).path.endswith("/login")
    assert isinstance(browser.sign_in("alice", "New-Horse-10"), AppRedirect)


def test_a_reset_code_expires_with_the_pools_lifetime(site, lab):
    """Password-reset codes last one hour (ForgotPassword)."""
    browser, _ = ask_reset(site, "alice")
    code = lab.inbox("alice@example.com").latest.code
    lab.clock.advance(hours=1, seconds=1)            # the page is stale too: open it again
    browser.open(f"{site.base}/confirmForgotPassword?{urlsplit(site.authorize_url()).query}&username=alice")
    late = browser.submit(code=code, password="New-Horse-10", confirmPassword="New-Horse-10")
    assert late.errors == ["Invalid code provided, please request a code again."]


def test_a_strangers_reset_fails_like_a_wrong_code(site):
    """ENABLED: ConfirmForgotPassword for an unknown user is CodeMismatchException, as a wrong code."""
    browser, _ = ask_reset(site, "nobody")
    page = browser.submit(code="123456", password="New-Horse-10", confirmPassword="New-Horse-10")
    assert page.errors == ["Invalid verification code provided, please try again."]


# -- triggers ---------------------------------------------------------------------------------------
RECORD_AND_CONFIRM = """
import json
def handler(event, context):
    print('EVENT ' + json.dumps(event))
    if event["triggerSource"] == "PreSignUp_SignUp" and event["userName"].startswith("auto"):
        event["response"]["autoConfirmUser"] = True
    return event
"""


def test_the_pages_run_pre_sign_up_and_post_confirmation(lab):
    """/signup runs PreSignUp_SignUp, /confirm PostConfirmation_ConfirmSignUp, /confirmForgotPassword
    PostConfirmation_ConfirmForgotPassword, /login PreAuthentication_Authentication (trigger table,
    local users in managed login); a user the pre sign-up trigger confirms is signed in without a code."""
    from labkit.course.triggers import deploy_function

    arn = deploy_function(lab, RECORD_AND_CONFIRM, name="pages-recorder")
    site = make_site(lab, LambdaConfig={"PreSignUp": arn, "PostConfirmation": arn, "PreAuthentication": arn})
    browser, _ = sign_up(site)
    browser.submit(code=lab.inbox("bob@example.com").latest.code)
    _, instant = sign_up(site, username="auto-dan", email="dan@example.com")
    assert isinstance(instant, AppRedirect) and instant.params["code"]
    browser, _ = ask_reset(site, "alice")
    browser.submit(code=lab.inbox("alice@example.com").latest.code, password="New-Horse-10",
                   confirmPassword="New-Horse-10")
    assert isinstance(site.open_page().sign_in("alice", "New-Horse-10"), AppRedirect)
    events = [json.loads(line.message[6:]) for line in lab.lambda_logs("pages-recorder")
              if line.message.startswith("EVENT ")]
    events = [e for e in events if e["triggerSource"] != "PreSignUp_AdminCreateUser"]    # alice's creation
    assert [(e["triggerSource"], e["userName"]) for e in events] == [
        ("PreSignUp_SignUp", "bob"), ("PostConfirmation_ConfirmSignUp", "bob"), ("PreSignUp_SignUp", "auto-dan"),
        ("PostConfirmation_ConfirmForgotPassword", "alice"), ("PreAuthentication_Authentication", "alice")]
    assert {e["callerContext"]["clientId"] for e in events} == {site.web["ClientId"]}


# -- MFA set-up -------------------------------------------------------------------------------------
def test_required_mfa_is_set_up_on_the_page_with_an_authenticator(lab):
    """MfaConfiguration ON with TOTP and no factor yet: the page shows a secret key (and its otpauth
    URI); the right code from it signs in, and later sign-ins ask for a TOTP code."""
    site = make_site(lab)
    site.idp.set_user_pool_mfa_config(UserPoolId=site.pool_id, MfaConfiguration="ON",
                                      SoftwareTokenMfaConfiguration={"Enabled": True})
    browser = site.open_page()
    setup = browser.sign_in("alice", PASSWORD)
    assert isinstance(setup, HostedUIPage) and "code" in setup.fields
    secret = re.search(r'<code id="secret">([A-Z2-7]+)</code>', setup.text)[1]
    totp = pyotp.TOTP(secret)
    wrong = str((int(totp.at(lab.clock.time())) + 1) % 1_000_000).zfill(6)
    assert browser.submit(code=wrong).errors == ["Code mismatch"]
    back = browser.submit(code=totp.at(lab.clock.time()))
    assert isinstance(back, AppRedirect) and back.params["code"]
    again = site.open_page()
    step = again.sign_in("alice", PASSWORD)
    assert isinstance(step, HostedUIPage) and "code" in step.fields and "secret" not in step.text
    lab.clock.advance(seconds=30)
    assert isinstance(again.submit(code=totp.at(lab.clock.time())), AppRedirect)
