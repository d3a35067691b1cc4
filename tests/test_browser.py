"""A real browser (headless Chromium driven by Selenium) through the hosted UI: code flow + PKCE.

The hosted UI's pages are plain HTML that works without JavaScript; this checks that a real
browser — its own cookie jar, redirects, form submission — completes the authorization code flow
with PKCE, with the user pool's own sign-in, a sign-up confirmed with the emailed code, and with
"Sign in with Google" (the lab's local IdP).

Chromium is not a Python package. In CI (``.ci/run`` sets ``LABKIT_REQUIRE_BROWSER=1`` and
installs Debian's ``chromium`` and ``chromium-driver``) a missing browser fails the suite; on a
learner's machine without it these tests are skipped with the line that installs it.
"""
from __future__ import annotations

import base64
import hashlib
import os
import shutil
import threading
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from labkit import Lab

INSTALL_HINT = ("headless Chromium not found: install it with `sudo apt-get install chromium chromium-driver` "
                "(Debian/Ubuntu) to run the browser tests")
VERIFIER = "browser-" + "k" * 50


def _browser_paths() -> tuple[str | None, str | None]:
    binary = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    return binary, shutil.which("chromedriver")


@pytest.fixture(scope="module")
def driver():
    binary, chromedriver = _browser_paths()
    if binary is None or chromedriver is None:
        if os.environ.get("LABKIT_REQUIRE_BROWSER") == "1":
            pytest.fail(INSTALL_HINT + " (LABKIT_REQUIRE_BROWSER=1: CI must have it)")
        pytest.skip(INSTALL_HINT)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--no-proxy-server", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    # An explicit chromedriver: Selenium Manager never looks for (or downloads) one.
    browser = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    browser.set_page_load_timeout(30)
    yield browser
    browser.quit()


@pytest.fixture
def app():
    """The app's callback: a tiny web server on 127.0.0.1 that shows a page (the browser lands there)."""
    from werkzeug.serving import make_server
    from werkzeug.wrappers import Response

    server = make_server("127.0.0.1", 0, lambda environ, start: Response(
        "<!DOCTYPE html><title>App</title><p id='app'>Back in the app</p>", content_type="text/html")(environ, start))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_port}/callback"   # Cognito allows plain HTTP for localhost only
    server.shutdown()
    server.server_close()


@pytest.fixture
def pool(app):
    with Lab(seed=31) as lab:
        idp = lab.client("cognito-idp")
        pool_id = idp.create_user_pool(PoolName="browser", AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
        idp.create_user_pool_domain(UserPoolId=pool_id, Domain="browser-app")
        google = lab.social_provider("Google")
        google.add_user("carol@gmail.com", "carol-at-google", name="Carol")
        google.allow_redirect_uri(lab.domain_url("browser-app") + "/oauth2/idpresponse")
        idp.create_identity_provider(UserPoolId=pool_id, ProviderName="Google", ProviderType="Google",
                                     ProviderDetails=google.provider_details(),
                                     AttributeMapping={"email": "email", "name": "name"})
        client = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="web", AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid", "email", "profile"], CallbackURLs=[app],
            SupportedIdentityProviders=["COGNITO", "Google"])["UserPoolClient"]
        idp.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": "alice@example.com"}])
        idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password="Correct-Horse-9", Permanent=True)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
        query = urlencode({"response_type": "code", "client_id": client["ClientId"], "redirect_uri": app,
                           "state": "browser-state", "scope": "openid email profile",
                           "code_challenge": challenge, "code_challenge_method": "S256"})
        yield {"lab": lab, "pool_id": pool_id, "client_id": client["ClientId"], "callback": app,
               "authorize": f"{lab.domain_url('browser-app')}/oauth2/authorize?{query}",
               "token": f"{lab.domain_url('browser-app')}/oauth2/token"}


def _fill_and_send(driver, username: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.NAME, "signInSubmitButton").click()


def _code_at_callback(driver, pool) -> str:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 15).until(lambda d: d.current_url.startswith(pool["callback"] + "?"))
    params = parse_qs(urlsplit(driver.current_url).query)
    assert params["state"] == ["browser-state"]
    return params["code"][0]


def _redeem(pool, code: str) -> dict:
    answer = requests.post(pool["token"], data={"grant_type": "authorization_code", "client_id": pool["client_id"],
                                                "code": code, "redirect_uri": pool["callback"], "code_verifier": VERIFIER})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_chromium_completes_the_code_flow_with_pkce(driver, pool):
    """Authorize → the hosted UI's sign-in form → back at the app with a code and the state; the
    code and the PKCE verifier buy tokens that verify with the pool's keys."""
    driver.delete_all_cookies()
    driver.get(pool["authorize"])
    assert "/_domain/browser-app/login" in driver.current_url
    _fill_and_send(driver, "alice", "Correct-Horse-9")
    tokens = _redeem(pool, _code_at_callback(driver, pool))
    claims = pool["lab"].verifier(pool["pool_id"], pool["client_id"], token_use="id").verify(tokens["id_token"])
    assert claims["cognito:username"] == "alice" and claims["email"] == "alice@example.com"
    # The hosted UI's session cookie: a second authorize goes straight back with a new code.
    driver.get(pool["authorize"])
    assert _code_at_callback(driver, pool)


def test_chromium_signs_in_with_the_labs_google(driver, pool):
    """"Sign in with Google" on the sign-in page → the local Google's own page (another origin) →
    back through /oauth2/idpresponse to the app; the tokens are Cognito's, for Google_<sub>."""
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(pool["authorize"])
    driver.find_element(By.ID, "idp-Google").click()
    google = pool["lab"].social_provider("Google")
    assert driver.current_url.startswith(google.issuer + "/authorize?")
    _fill_and_send(driver, "carol@gmail.com", "carol-at-google")
    tokens = _redeem(pool, _code_at_callback(driver, pool))
    claims = pool["lab"].verifier(pool["pool_id"], pool["client_id"], token_use="id").verify(tokens["id_token"])
    assert claims["cognito:username"].startswith("Google_") and claims["name"] == "Carol"
    assert claims["identities"][0]["providerName"] == "Google"


def test_chromium_signs_up_and_confirms_with_the_emailed_code(driver, pool):
    """"Sign up" on the sign-in page → the sign-up form → the confirmation page → the code from the
    lab's inbox → back at the app with a code that buys the new user's tokens."""
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(pool["authorize"])
    driver.find_element(By.ID, "sign-up").click()
    assert "/_domain/browser-app/signup?" in driver.current_url and "code_challenge=" in driver.current_url
    driver.find_element(By.ID, "username").send_keys("dave")
    driver.find_element(By.ID, "requiredAttributes-email").send_keys("dave@example.com")
    driver.find_element(By.ID, "password").send_keys("Correct-Horse-10")
    driver.find_element(By.NAME, "signUpButton").click()
    driver.find_element(By.ID, "code").send_keys(pool["lab"].inbox("dave@example.com").latest.code)
    driver.find_element(By.NAME, "confirm").click()
    tokens = _redeem(pool, _code_at_callback(driver, pool))
    claims = pool["lab"].verifier(pool["pool_id"], pool["client_id"], token_use="id").verify(tokens["id_token"])
    assert claims["cognito:username"] == "dave" and claims["email_verified"] is True
