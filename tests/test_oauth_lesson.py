"""Lesson 08's helpers (labkit.course.oauth_flows): what the lesson shows must be what Cognito does.

Sources: developer guide, authorize / token / revoke / logout endpoint pages; "Scopes, M2M, and
resource servers"; "Monitoring costs" (M2M token requests are billed); RFC 7636 (PKCE).
"""
from __future__ import annotations

import pytest

from labkit import Lab
from labkit.cognito.hosted_ui import AppRedirect, HostedUIBrowser, HostedUIPage
from labkit.cognito.jwt import inspect
from labkit.course import oauth_flows
from labkit.course.oauth_flows import API, SIGNED_OUT, CachedClientToken, pkce_pair

PASSWORD = "Correct-Horse-8"


@pytest.fixture
def app():
    with Lab(seed=8) as lab:
        yield oauth_flows.hosted_ui_app(lab, users={"maria": PASSWORD})


def _code(app, **params):
    browser = HostedUIBrowser()
    page = browser.open(app.authorize_url("web", **params))
    assert isinstance(page, HostedUIPage) and page.has_sign_in_form
    back = browser.sign_in("maria", PASSWORD)
    assert isinstance(back, AppRedirect)
    return back.params["code"], browser


def test_pkce_pair_is_s256_and_seeded():
    """The challenge is BASE64URL(SHA256(verifier)) (RFC 7636), the verifier 43 URL-safe
    characters; a seeded lab gives the same pairs every run (notebook outputs are compared)."""
    import base64
    import hashlib

    pairs = []
    for _ in range(2):
        with Lab(seed=8) as lab:
            pairs.append(pkce_pair(lab))
    first = pairs[0]
    assert first.verifier == pairs[1].verifier and len(first.verifier) == 43
    digest = base64.urlsafe_b64encode(hashlib.sha256(first.verifier.encode()).digest()).rstrip(b"=").decode()
    assert first.challenge == digest
    assert first.verifier not in repr(first)             # the repr never shows the whole secret


def test_state_is_fresh_and_seeded():
    """state is unguessable (128 bits, different for each sign-in) and the same for the same seed
    (notebook outputs are compared)."""
    from labkit.course.oauth_flows import new_state

    states = []
    for _ in range(2):
        with Lab(seed=8) as lab:
            states.append([new_state(lab), new_state(lab)])
    assert states[0] == states[1] and states[0][0] != states[0][1] and len(states[0][0]) == 22


def test_state_comes_back_unchanged_and_a_foreign_one_is_refused(app):
    """The redirect carries the state the app sent; a callback whose state differs from the one this
    browser sent (or has none) is refused before any code is redeemed; no constant default state."""
    from labkit.course.oauth_flows import check_state, new_state

    sent = new_state(app.lab)
    browser = HostedUIBrowser()
    browser.open(app.authorize_url("web", state=sent, scope="openid"))
    back = browser.sign_in("maria", PASSWORD)
    assert check_state(sent, back.params["state"]) == sent
    with pytest.raises(ValueError, match="state mismatch"):
        check_state(sent, new_state(app.lab))
    with pytest.raises(ValueError, match="state mismatch"):
        check_state(sent, None)
    defaults = [dict(p.split("=") for p in app.authorize_url("web").split("?")[1].split("&"))["state"]
                for _ in range(2)]
    assert defaults[0] != defaults[1]                     # no constant default state


def test_without_pkce_an_intercepted_code_buys_tokens_and_with_pkce_it_does_not(app):
    """A public client's code needs only client_id at the token endpoint; with a challenge,
    the code is refused without the verifier (and with a wrong one: invalid_grant)."""
    stolen, _ = _code(app, scope="openid email")
    assert app.redeem(stolen).ok
    pair = pkce_pair(app.lab)
    stolen, _ = _code(app, scope="openid", code_challenge=pair.challenge, code_challenge_method="S256")
    assert not app.redeem(stolen, code_verifier=pkce_pair(app.lab).verifier).ok
    pair = pkce_pair(app.lab)
    code, _ = _code(app, scope="openid", code_challenge=pair.challenge, code_challenge_method="S256")
    assert app.redeem(code, code_verifier=pair.verifier).ok


@pytest.mark.parametrize("url, verdict", [
    ("https://app.example.com/callback", "ok"),
    ("http://localhost:3000/callback", "ok"),
    ("http://127.0.0.1:8080/cb", "ok"),         # the API reference: localhost, 127.0.0.1 and [::1]
    ("http://[::1]:8080/cb", "ok"),
    ("http://127.0.0.2/cb", "HTTPS"),           # only those three loopback names
    ("myapp://callback", "ok"),                 # "App callback URLs such as myapp://example are also supported"
    ("http://app.example.com/callback", "HTTPS"),
    ("https://*.example.com/callback", "wildcard"),
    ("https://app.example.com/callback#done", "fragment"),
    ("https://app.example.com/callback?next=https://app.example.com/home", "open redirect"),
    ("https://app.example.com/callback?return_to=/home", "open redirect"),
    ("/callback", "absolute"),
])
def test_callback_url_verdicts(url, verdict):
    """Cognito's CallbackURLs rules (absolute, no fragment, HTTPS except loopback), exact matching
    (a wildcard never matches), and the app's own open-redirect mistake. HTTPS is required except for
    http://localhost, http://127.0.0.1 and http://[::1]; app schemes (myapp://) are allowed (API reference, CreateUserPoolClient)."""
    found = oauth_flows.callback_url_verdicts([url])[url]
    assert (found == "ok") if verdict == "ok" else (verdict in found)


def test_callback_urls_judged_ok_are_accepted_by_create_user_pool_client(app):
    """What the review calls ok, CreateUserPoolClient accepts; what Cognito refuses, it flags."""
    urls = ["https://app.example.com/callback", "http://localhost:3000/callback", "http://app.example.com/x",
            "https://app.example.com/x#frag"]
    verdicts = oauth_flows.callback_url_verdicts(urls)
    for url in urls:
        try:
            app.idp.create_user_pool_client(UserPoolId=app.pool_id, ClientName="c", AllowedOAuthFlowsUserPoolClient=True,
                                            AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid"], CallbackURLs=[url])
            accepted = True
        except app.idp.exceptions.InvalidParameterException:
            accepted = False
        assert accepted == (verdicts[url] == "ok"), url


def test_cached_client_token_asks_once_per_lifetime(app):
    """Client-credentials tokens last their AccessTokenValidity (an hour by default): a day of
    calls every 10 minutes needs about 24 token requests, not 144, and every token carries only
    the client's scope."""
    app.add_m2m_client("reporting", [f"{API}/read"])
    job = CachedClientToken(app, "reporting")
    tokens = set()
    for _ in range(144):
        tokens.add(job.token())
        app.lab.clock.advance(minutes=10)
    assert job.requests == len(tokens) and 20 <= job.requests <= 26
    assert all(inspect(t).claims["scope"] == f"{API}/read" for t in tokens)
    fresh = CachedClientToken(app, "reporting", margin=0)
    fresh.token()
    assert fresh.token() and fresh.requests == 1


def test_m2m_client_refuses_standard_scopes(app):
    """client_credentials can be used with custom scopes only (InvalidOAuthFlowException)."""
    with pytest.raises(app.idp.exceptions.InvalidOAuthFlowException):
        app.add_m2m_client("bad", ["openid", f"{API}/read"])


def test_logout_ends_the_session_but_not_the_refresh_token_until_revoked(app):
    """/logout ends the hosted UI's session (the next authorize shows the sign-in page) and goes
    back to a LogoutURL; the app's refresh token dies only at /oauth2/revoke."""
    code, browser = _code(app, scope="openid")
    tokens = app.redeem(code)
    assert isinstance(browser.open(app.authorize_url("web", scope="openid")), AppRedirect)
    assert browser.open(app.logout_url("web", SIGNED_OUT)).url == SIGNED_OUT
    assert isinstance(browser.open(app.authorize_url("web", scope="openid")), HostedUIPage)
    assert app.refresh(tokens["refresh_token"]).ok
    assert app.revoke(tokens["refresh_token"]) == 200
    assert app.refresh(tokens["refresh_token"]).error == "invalid_grant"


def test_token_answer_repr_names_tokens_or_the_error(app):
    """A learner reads what came back without printing secrets."""
    code, _ = _code(app, scope="openid")
    answer = app.redeem(code)
    assert repr(answer).startswith("<TokenAnswer 200 id_token, access_token, refresh_token")
    assert "eyJ" not in repr(answer)
    assert repr(app.redeem(code)) == "<TokenAnswer 400 error='invalid_grant'>"
