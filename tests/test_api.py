"""labkit.api: the protected API (API Gateway + Cognito authorizer look-alike) and its broken twins.

The battery: each forged or misused token is rejected by CognitoVerifier and by the safe API, and
accepted by exactly the one vulnerable variant built to show that mistake.
"""
import re
import socket
import urllib.request

import pytest

from labkit import Lab
from labkit.cognito import jwt as jwt_view
from labkit.course import forgeries
from labkit.course.api import FLAG_CHECK, VULNERABILITIES
from labkit.cognito.jwt import (
    AlgorithmNotAllowed,
    CognitoVerifier,
    InvalidSignature,
    TokenExpired,
    UnknownKey,
    WrongClient,
    WrongIssuer,
    WrongTokenUse,
)

CHALLENGE = re.compile(r'^Bearer realm="labkit", error="(?P<error>[a-z_]+)", error_description="(?P<why>[^"\\]*)"')


def start_all_variants(cognito) -> dict:
    """The safe API, one API per vulnerable flag, and one per combination the battery needs."""
    apis = {"safe": cognito.lab.protected_api(cognito.pool_id, cognito.client_id)}
    for flag in VULNERABILITIES:
        apis[flag] = cognito.lab.protected_api(cognito.pool_id, cognito.client_id, **{flag: True})
    for _, _, flags in BATTERY:
        if len(flags) > 1:
            apis["+".join(flags)] = cognito.lab.protected_api(cognito.pool_id, cognito.client_id,
                                                              **{flag: True for flag in flags})
    return apis


def forge(cognito, kind: str) -> str:
    """One bad token of each kind, made from real lab tokens."""
    lab = cognito.lab
    if kind == "alg none":
        return forgeries.forge_alg_none(cognito.sign_in()["AccessToken"])
    if kind == "HS256 with the public key":
        token = cognito.sign_in()["AccessToken"]
        kid = jwt_view.inspect(token).header["kid"]       # the attacker picks the key the token names
        pem = forgeries.public_key_pem(lab.user_pool_jwks(cognito.pool_id), kid=kid)
        return forgeries.forge_hs256(token, pem)
    if kind == "tampered payload":
        return forgeries.tamper(cognito.sign_in()["AccessToken"], {"cognito:groups": ["admin"]})
    if kind == "expired":
        token = cognito.sign_in()["AccessToken"]
        lab.clock.advance(minutes=61)
        return token
    if kind == "another pool":
        return cognito.sign_in(client_id=cognito.other_pool_client_id)["AccessToken"]
    if kind == "ID token":
        return cognito.sign_in()["IdToken"]
    if kind == "wrong client":
        return cognito.sign_in(client_id=cognito.other_client_id)["AccessToken"]
    admin = {"cognito:groups": ["admin"], "username": "mallory"}
    if kind == "embedded jwk":
        return forgeries.forge_embedded_jwk(cognito.sign_in()["AccessToken"], claims=admin)
    if kind == "jku injection":
        attacker = forgeries.AttackerKey()
        lab.on_stop(attacker.stop)
        return forgeries.forge_jku(cognito.sign_in()["AccessToken"], attacker, claims=admin)
    if kind == "kid traversal to /dev/null":
        return forgeries.forge_kid_traversal(cognito.sign_in()["AccessToken"], claims=admin)
    if kind == "cracked session secret":
        weak = lab.protected_api(cognito.pool_id, cognito.client_id, weak_session_secret=True)
        session_token = weak.call("/session", cognito.sign_in()["AccessToken"]).body["session_token"]
        secret = forgeries.crack_hs256(session_token)
        return forgeries.forge_hs256(session_token, secret, claims=admin)
    raise AssertionError(kind)


BATTERY = [   # forgery, the error CognitoVerifier raises, the flags of the one variant that falls for it
    ("alg none", AlgorithmNotAllowed, ("accept_alg_none",)),
    ("HS256 with the public key", AlgorithmNotAllowed, ("trust_header_alg",)),
    ("tampered payload", InvalidSignature, ("skip_signature",)),
    ("expired", TokenExpired, ("ignore_expiry",)),
    # Another pool's token names another client too: only an API that checks neither falls for it.
    ("another pool", WrongIssuer, ("ignore_issuer", "ignore_client")),
    ("ID token", WrongTokenUse, ("accept_id_tokens",)),
    ("wrong client", WrongClient, ("ignore_client",)),
    ("embedded jwk", UnknownKey, ("trust_header_jwk",)),
    ("jku injection", UnknownKey, ("trust_header_jku",)),
    ("kid traversal to /dev/null", AlgorithmNotAllowed, ("kid_path_traversal",)),
    ("cracked session secret", AlgorithmNotAllowed, ("weak_session_secret",)),
]

# A verifier that skips the signature believes every RS256 token, the attacker's own keys included.
ALSO_FOOLED = {"embedded jwk": {"skip_signature"}, "jku injection": {"skip_signature"}}


def test_the_battery_covers_every_vulnerable_flag():
    assert {flag for _, _, flags in BATTERY for flag in flags} == set(VULNERABILITIES)


@pytest.mark.parametrize("kind, error, flags", BATTERY, ids=[b[0] for b in BATTERY])
def test_forgery_is_rejected_by_the_verifier_and_safe_api_and_fools_only_its_variant(
        cognito, kind, error, flags):
    weak_variant = "+".join(flags)
    apis = start_all_variants(cognito)
    assert weak_variant in apis
    token = forge(cognito, kind)

    verifier = CognitoVerifier.for_lab(cognito.lab, cognito.pool_id, cognito.client_id)
    with pytest.raises(error):
        verifier.verify(token)

    statuses = {name: api.call("/hello", token).status for name, api in apis.items()}
    # accepted by exactly the variants that have every flaw it needs (safe has none)
    also = ALSO_FOOLED.get(kind, set())
    assert statuses == {name: 200 if set(flags) <= set(name.split("+")) or name in also else 401 for name in apis}
    assert statuses[weak_variant] == 200

    safe = apis["safe"].call("/hello", token)
    assert safe.body["reason"] == error.__name__
    challenge = CHALLENGE.match(safe.www_authenticate)
    assert challenge and challenge["error"] == "invalid_token" and error.summary in challenge["why"]


@pytest.mark.parametrize("flag", sorted(VULNERABILITIES))
def test_each_flag_replaces_exactly_its_one_named_check(cognito, flag):
    safe = cognito.lab.protected_api(cognito.pool_id, cognito.client_id)
    weak = cognito.lab.protected_api(cognito.pool_id, cognito.client_id, **{flag: True})
    assert safe.verifier.replaced_checks == []
    assert weak.verifier.replaced_checks == [FLAG_CHECK[flag]]
    changed = [name for name in safe.verifier.checks if safe.verifier.checks[name] is not weak.verifier.checks[name]]
    assert changed == [FLAG_CHECK[flag]]
    assert FLAG_CHECK[flag] in repr(weak.verifier)


def test_a_check_that_does_not_exist_cannot_be_replaced(cognito):
    verifier = cognito.lab.verifier(cognito.pool_id, cognito.client_id)
    with pytest.raises(ValueError, match="no check named 'expiry_check'.*expiry"):
        verifier.replacing(expiry_check=lambda v: None)


def test_ignoring_the_issuer_alone_still_refuses_another_pools_token_by_its_client(cognito):
    """Defence in depth: the client check catches what the missing issuer check lets through."""
    weak = cognito.lab.protected_api(cognito.pool_id, cognito.client_id, ignore_issuer=True)
    token = forge(cognito, "another pool")
    response = weak.call("/hello", token)
    assert response.status == 401 and response.body["reason"] == "WrongClient"


def test_tampered_groups_get_into_admin_only_where_the_signature_is_skipped(cognito):
    safe = cognito.lab.protected_api(cognito.pool_id, cognito.client_id)
    weak = cognito.lab.protected_api(cognito.pool_id, cognito.client_id, skip_signature=True)
    forged = forgeries.tamper(cognito.sign_in("alice")["AccessToken"], {"cognito:groups": ["admin"]})
    assert weak.call("/admin", forged).status == 200
    assert safe.call("/admin", forged).status == 401


def test_hello_me_and_admin_for_a_valid_access_token(cognito):
    api = cognito.lab.protected_api(cognito.pool_id, cognito.client_id)
    alice, root = cognito.sign_in("alice")["AccessToken"], cognito.sign_in("root")["AccessToken"]

    assert api.call("/hello", alice).body == {"message": "Hello, alice!"}
    me = api.call("/me", root)
    assert me.status == 200 and me.body["username"] == "root" and me.body["groups"] == ["admin"]
    assert me.body["sub"] == jwt_view.inspect(root).claims["sub"]
    assert api.call("/admin", root).status == 200

    denied = api.call("/admin", alice)
    assert denied.status == 403 and denied.body["reason"] == "MissingGroup"
    challenge = CHALLENGE.match(denied.www_authenticate)
    assert challenge["error"] == "insufficient_scope" and "admin" in challenge["why"]


def test_the_api_takes_the_raw_token_too_like_api_gateway(cognito):
    api = cognito.lab.protected_api(cognito.pool_id, cognito.client_id)
    assert api.call("/hello", authorization=cognito.sign_in()["AccessToken"]).status == 200


def test_missing_or_garbage_token_is_401(cognito):
    api = cognito.lab.protected_api(cognito.pool_id, cognito.client_id)
    missing = api.call("/hello")
    assert missing.status == 401 and missing.www_authenticate == 'Bearer realm="labkit"'
    assert "Authorization: Bearer" in missing.body["error_description"]
    garbage = api.call("/me", "not-a-token")
    assert garbage.status == 401 and CHALLENGE.match(garbage.www_authenticate)["error"] == "invalid_token"
    refresh = api.call("/hello", cognito.sign_in()["RefreshToken"])
    assert refresh.status == 401 and refresh.body["reason"] == "MalformedToken"


def test_expiry_follows_the_lab_clock(cognito):
    api = cognito.lab.protected_api(cognito.pool_id, cognito.client_id)
    token = cognito.sign_in()["AccessToken"]
    cognito.lab.clock.advance(minutes=59)
    assert api.call("/hello", token).status == 200
    cognito.lab.clock.advance(minutes=2)
    expired = api.call("/hello", token)
    assert expired.status == 401 and "expired" in CHALLENGE.match(expired.www_authenticate)["why"]


def test_required_scopes_answer_403_insufficient_scope(cognito):
    api = cognito.lab.protected_api(cognito.pool_id, cognito.client_id, required_scopes=["orders/read"])
    response = api.call("/hello", cognito.sign_in()["AccessToken"])
    assert response.status == 403 and response.body["reason"] == "MissingScope"
    assert 'error="insufficient_scope"' in response.www_authenticate
    assert 'scope="orders/read"' in response.www_authenticate
    ok = cognito.lab.protected_api(cognito.pool_id, cognito.client_id,
                                   required_scopes="aws.cognito.signin.user.admin")
    assert ok.call("/hello", cognito.sign_in()["AccessToken"]).status == 200


def test_several_app_clients_can_be_allowed(cognito):
    api = cognito.lab.protected_api(cognito.pool_id, [cognito.client_id, cognito.other_client_id])
    assert api.call("/hello", cognito.sign_in(client_id=cognito.other_client_id)["AccessToken"]).status == 200


def test_id_tokens_work_on_the_weak_variant_only_for_the_right_client(cognito):
    weak = cognito.lab.protected_api(cognito.pool_id, cognito.client_id, accept_id_tokens=True)
    assert weak.call("/me", cognito.sign_in()["IdToken"]).body["username"] == "alice"
    other = cognito.sign_in(client_id=cognito.other_client_id)["IdToken"]
    assert weak.call("/me", other).status == 401


def test_the_api_fetches_the_jwks_once(cognito):
    api = cognito.lab.protected_api(cognito.pool_id, cognito.client_id)
    token = cognito.sign_in()["AccessToken"]
    for _ in range(10):
        assert api.call("/hello", token).status == 200
    assert api.verifier.jwks_fetches == 1


def test_a_response_shows_as_a_status_line_and_its_body(cognito):
    """What a learner sees of api.call: the HTTP status line, the WWW-Authenticate challenge that
    says why a token was refused (RFC 6750 §3), and the JSON body indented; HTML in Jupyter."""
    api = cognito.lab.protected_api(cognito.pool_id, cognito.client_id)
    good = api.call("/hello", cognito.sign_in()["AccessToken"])
    assert repr(good).splitlines()[0] == "HTTP 200 OK" and good.ok
    assert '"message"' in repr(good) and "<ApiResponse" not in repr(good)
    refused = api.call("/hello", "not-a-token")
    lines = repr(refused).splitlines()
    assert lines[0] == "HTTP 401 Unauthorized" and not refused.ok
    assert lines[1].startswith("WWW-Authenticate: Bearer") and 'error="invalid_token"' in lines[1]
    html = refused._repr_html_()
    assert "HTTP 401 Unauthorized" in html and "<pre" in html and "WWW-Authenticate" in html
    assert str(refused) == repr(refused)


def test_repr_says_safe_or_which_flags_are_on(cognito):
    safe = cognito.lab.protected_api(cognito.pool_id, cognito.client_id)
    weak = cognito.lab.protected_api(cognito.pool_id, cognito.client_id, skip_signature=True,
                                     ignore_expiry=True)
    assert "SAFE" in repr(safe) and safe.url in repr(safe) and safe.vulnerabilities == []
    assert "VULNERABLE" in repr(weak) and "skip_signature" in repr(weak) and "ignore_expiry" in repr(weak)
    assert "accept_alg_none" not in repr(weak)
    assert weak.vulnerabilities == ["skip_signature", "ignore_expiry"]
    index = weak.call("/")
    assert index.status == 200 and set(index.body["vulnerable"]) == {"skip_signature", "ignore_expiry"}
    with pytest.raises(TypeError, match="skip_signature"):
        cognito.lab.protected_api(cognito.pool_id, cognito.client_id, skip_signature="yes")


def test_the_api_is_quiet_and_stops_with_the_lab(capfd):
    with Lab() as lab:
        idp = lab.client("cognito-idp")
        pool = idp.create_user_pool(PoolName="quiet")["UserPool"]["Id"]
        client = idp.create_user_pool_client(UserPoolId=pool, ClientName="c")["UserPoolClient"]["ClientId"]
        api = lab.protected_api(pool, client)
        assert api.url.startswith("http://127.0.0.1:")
        assert api.call("/hello").status == 401
        port = int(api.url.rsplit(":", 1)[1])
    out, err = capfd.readouterr()
    assert "GET /hello" not in out + err and "HTTP/1.1" not in out + err
    assert not api.running and "stopped" in repr(api)
    with socket.socket() as s:          # the port is free again
        s.bind(("127.0.0.1", port))
    with pytest.raises(OSError):
        urllib.request.urlopen(api.url + "/", timeout=2)


def test_stop_is_idempotent(cognito):
    api = cognito.lab.protected_api(cognito.pool_id, cognito.client_id)
    api.stop()
    api.stop()
    assert not api.running


@pytest.mark.parametrize("junk", ["eyJhbGciOiJSUzI1NiJ9.!!!.x", "eyJhbGciOiJub25lIn0.W10.", "a.b.c", "x" * 50])
def test_every_variant_answers_junk_with_401_not_a_crash(cognito, junk):
    apis = start_all_variants(cognito)
    assert {name: api.call("/me", junk).status for name, api in apis.items()} == {name: 401 for name in apis}


def test_header_attacks_reach_admin_only_on_their_variant(cognito):
    """jwk / jku injection, kid traversal and a cracked session secret each forge an admin: the
    vulnerable variant lets mallory into /admin, the safe API answers 401."""
    safe = cognito.lab.protected_api(cognito.pool_id, cognito.client_id)
    for kind, flag in [("embedded jwk", "trust_header_jwk"), ("jku injection", "trust_header_jku"),
                       ("kid traversal to /dev/null", "kid_path_traversal"),
                       ("cracked session secret", "weak_session_secret")]:
        weak = cognito.lab.protected_api(cognito.pool_id, cognito.client_id, **{flag: True})
        token = forge(cognito, kind)
        response = weak.call("/admin", token)
        assert response.status == 200 and "mallory" in response.body["message"], (kind, response)
        assert safe.call("/admin", token).status == 401, kind


def test_the_session_secret_is_in_the_word_list_and_a_strong_one_is_not_cracked(cognito):
    """crack_hs256 finds the weak variant's secret offline; a random 32-byte secret survives the
    same list; RS256 tokens cannot be cracked this way (a plain-words error)."""
    import secrets

    import jwt as pyjwt

    weak = cognito.lab.protected_api(cognito.pool_id, cognito.client_id, weak_session_secret=True)
    access = cognito.sign_in()["AccessToken"]
    session_token = weak.call("/session", access).body["session_token"]
    assert forgeries.crack_hs256(session_token) == "changeme"
    assert weak.call("/hello", session_token).status == 200
    strong = pyjwt.encode({"sub": "x"}, secrets.token_hex(32), algorithm="HS256")
    assert forgeries.crack_hs256(strong) is None
    with pytest.raises(ValueError, match="only an HS256 token"):
        forgeries.crack_hs256(access)
    safe = cognito.lab.protected_api(cognito.pool_id, cognito.client_id)
    assert safe.call("/session", access).status == 404


def test_a_jku_off_loopback_or_a_kid_naming_a_device_is_refused_not_fetched(cognito):
    """The vulnerable variants stay inside the lab: a jku outside 127.0.0.1 is never fetched, and a
    kid naming a device (/dev/zero) or a missing file is refused at once, not read."""
    access = cognito.sign_in()["AccessToken"]
    attacker = forgeries.AttackerKey()
    jku = cognito.lab.protected_api(cognito.pool_id, cognito.client_id, trust_header_jku=True)
    outside = attacker.sign(access, header={"jku": "https://attacker.example/jwks.json"})
    response = jku.call("/hello", outside)
    assert response.status == 401 and "only fetches from 127.0.0.1" in response.body["error_description"]
    kid = cognito.lab.protected_api(cognito.pool_id, cognito.client_id, kid_path_traversal=True)
    for path in ["../" * 12 + "dev/zero", "no-such-key"]:
        response = kid.call("/hello", forgeries.forge_kid_traversal(access, kid=path), timeout=5)
        assert response.status == 401 and response.body["reason"] == "UnknownKey"
