"""Issue 9, parts 4 and 5, through boto3 and raw HTTP against a running lab.

Each test's docstring names the Cognito behaviour (or the lab's documented choice) it checks.
"""
import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import timedelta

import jwt
import pytest

import labkit
from labkit import Lab, LabError, current_lab
from labkit.cognito import srp
from cognito_errors import error_of

PASSWORD = "Correct-Horse-9"
NEW_PASSWORD = "Battery-Staple-7"


def http(method: str, url: str, body: bytes | None = None):
    """(status, headers, body bytes) of a raw HTTP request to the lab."""
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


# -- 4. JWKS only for lab pools ---------------------------------------------------------------------
def _moto_static_private_key() -> dict:
    from moto.utilities.utils import load_resource

    return load_resource("cognitoidp/resources/jwks-private.json")


def _forged_access_token(cognito) -> str:
    """An access token for alice, shaped like the lab's, signed with the private key moto ships."""
    now = int(cognito.lab.clock.time())
    claims = {"sub": "forged", "iss": cognito.lab.issuer(cognito.pool_id), "client_id": cognito.client_id,
              "token_use": "access", "scope": "aws.cognito.signin.user.admin", "auth_time": now,
              "iat": now, "exp": now + 3600, "jti": "forged-jti", "username": "alice"}
    key = jwt.PyJWK(_moto_static_private_key()).key
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "dummy"})


WELL_KNOWN_PATHS = [
    "/{pool}/.well-known/jwks.json", "/{pool}/.well-known/openid-configuration",
    "/{pool}/.well-known/jwks.json/",
    "/us-east-1_Typo-Pool/.well-known/jwks.json", "/us-east-1_Typo-Pool/.well-known/openid-configuration",
    "/us-east-1_nope/.well-known/jwks.json", "/not-a-pool/.well-known/jwks.json",
    "/a/b/.well-known/jwks.json", "/.well-known/jwks.json",
]


def test_a_token_signed_with_motos_static_key_verifies_against_no_lab_url(cognito):
    """Tokens are signed with each pool's own key and verified against its JWKS URL: a token signed with
    moto's static key (kid "dummy", private half shipped in moto) verifies nowhere in the lab."""
    forged = _forged_access_token(cognito)
    public = {k: v for k, v in _moto_static_private_key().items() if k in ("kty", "n", "e", "alg", "kid")}
    # Control: the forgery is sound, it verifies against moto's own public key.
    assert jwt.decode(forged, jwt.PyJWK(public).key, algorithms=["RS256"],
                      options={"verify_exp": False, "verify_iat": False})["username"] == "alice"

    served_keys = []
    for template in WELL_KNOWN_PATHS:
        url = cognito.lab.endpoint_url + template.format(pool=cognito.pool_id)
        for method in ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"):
            status, _, body = http(method, url, b"{}" if method in ("POST", "PUT") else None)
            assert b"dummy" not in body and public["n"].encode() not in body, (method, url)
            if status == 200 and body:
                served_keys += json.loads(body).get("keys", [])
    assert served_keys, "the real pool's JWKS was served at least once"
    for key in served_keys:
        with pytest.raises(jwt.PyJWTError):
            jwt.decode(forged, jwt.PyJWK(key).key, algorithms=["RS256"],
                       options={"verify_exp": False, "verify_iat": False})
    with pytest.raises(Exception):
        cognito.lab.verifier(cognito.pool_id, cognito.client_id).verify(forged)
    assert error_of(cognito.idp.get_user, AccessToken=forged) == ("NotAuthorizedException", "Invalid Access Token")


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "DELETE"])
@pytest.mark.parametrize("doc", ["jwks.json", "openid-configuration"])
def test_a_pool_id_that_is_not_a_lab_pool_gets_a_json_404(cognito, method, doc):
    """The issuer URL of a pool that does not exist has no keys: 404 ResourceNotFoundException (JSON),
    whatever the pool id's shape (a hyphen included) and the method."""
    status, headers, body = http(method, f"{cognito.lab.endpoint_url}/us-east-1_Typo-Pool/.well-known/{doc}",
                                 b"{}" if method == "POST" else None)
    assert status == 404
    assert headers["Content-Type"] == "application/json"
    if method != "HEAD":
        assert json.loads(body) == {"__type": "ResourceNotFoundException",
                                    "message": "User pool us-east-1_Typo-Pool does not exist."}


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_other_methods_on_a_pools_jwks_get_405_and_no_key(cognito, method):
    """The JWKS and discovery documents are read with GET (or HEAD): any other method gets 405 with
    Allow: GET, HEAD (lab choice; AWS documents only GET), and never a key."""
    for doc in ("jwks.json", "openid-configuration"):
        status, headers, body = http(method, f"{cognito.lab.endpoint_url}/{cognito.pool_id}/.well-known/{doc}",
                                     b"{}" if method in ("POST", "PUT", "PATCH") else None)
        assert status == 405 and headers["Allow"] == "GET, HEAD"
        assert "keys" not in json.loads(body) and json.loads(body)["__type"] == "MethodNotAllowedException"
    status, headers, body = http("HEAD", cognito.lab.jwks_url(cognito.pool_id))
    assert (status, body, headers["Content-Type"]) == (200, b"", "application/json")


def test_the_jwks_url_serves_exactly_the_keys_that_sign_the_pools_tokens(cognito):
    """A pool's tokens verify against {endpoint}/{pool}/.well-known/jwks.json, and only its own keys are there."""
    token = cognito.sign_in()["AccessToken"]
    status, _, body = http("GET", cognito.lab.jwks_url(cognito.pool_id))
    keys = {k["kid"]: k for k in json.loads(body)["keys"]}
    assert status == 200 and keys.keys() == {k["kid"] for k in cognito.lab.user_pool_jwks(cognito.pool_id)["keys"]}
    kid = jwt.get_unverified_header(token)["kid"]
    assert jwt.decode(token, jwt.PyJWK(keys[kid]).key, algorithms=["RS256"],
                      options={"verify_exp": False, "verify_iat": False})["username"] == "alice"


def test_motos_static_key_routes_are_back_after_the_lab_stops():
    """The lab's replacement of moto's static-key routes lasts only while a lab runs (moto is left as found)."""
    from moto.cognitoidp import urls

    before = {path: handler for path, handler in urls.url_paths.items() if ".well-known" in path}
    with Lab() as lab:
        during = {path: handler for path, handler in urls.url_paths.items() if ".well-known" in path}
        assert during.keys() == before.keys() and all(during[p] is not before[p] for p in before)
        assert lab.running
    assert {path: handler for path, handler in urls.url_paths.items() if ".well-known" in path} == before


# -- 5a. DeleteUser -------------------------------------------------------------------------------
def test_delete_user_deletes_the_signed_in_user_and_their_tokens_stop_working(cognito):
    """DeleteUser (API reference): deletes the profile of the signed-in user, who can no longer sign in;
    the tokens they held are refused (NotAuthorizedException) and their groups no longer list them."""
    tokens = cognito.sign_in("root")
    assert cognito.idp.delete_user(AccessToken=tokens["AccessToken"])["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert error_of(cognito.idp.admin_get_user, UserPoolId=cognito.pool_id, Username="root")[0] == \
        "UserNotFoundException"
    assert error_of(cognito.sign_in, "root") == ("UserNotFoundException", "User does not exist.")
    assert error_of(cognito.idp.get_user, AccessToken=tokens["AccessToken"])[0] == "NotAuthorizedException"
    assert error_of(cognito.idp.delete_user, AccessToken=tokens["AccessToken"])[0] == "NotAuthorizedException"
    assert error_of(cognito.idp.initiate_auth, ClientId=cognito.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                    AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})[0] == "NotAuthorizedException"
    members = cognito.idp.list_users_in_group(UserPoolId=cognito.pool_id, GroupName="admin")["Users"]
    assert members == []
    assert "AccessToken" in cognito.sign_in("alice")          # other users are untouched


def test_a_user_re_created_after_delete_user_is_someone_else(cognito):
    """A deleted profile can't be restored: a new user under the same name has a new sub, the old
    tokens stay refused, and nothing of the old account (its lockout, for one) carries over."""
    old = cognito.sign_in("alice")
    old_sub = cognito.idp.get_user(AccessToken=old["AccessToken"])["UserAttributes"]
    cognito.lab.clock.freeze()
    for _ in range(5):                                  # alice is now locked out for a second
        error_of(cognito.idp.initiate_auth, ClientId=cognito.client_id, AuthFlow="USER_PASSWORD_AUTH",
                 AuthParameters={"USERNAME": "alice", "PASSWORD": "Wrong-Horse-1"})
    assert error_of(cognito.sign_in, "alice")[1] == "Password attempts exceeded"
    cognito.idp.delete_user(AccessToken=old["AccessToken"])
    cognito.idp.admin_create_user(UserPoolId=cognito.pool_id, Username="alice", MessageAction="SUPPRESS")
    cognito.idp.admin_set_user_password(UserPoolId=cognito.pool_id, Username="alice", Password=PASSWORD,
                                        Permanent=True)
    new = cognito.sign_in("alice")                      # no lockout inherited
    assert cognito.idp.get_user(AccessToken=new["AccessToken"])["UserAttributes"] != old_sub
    assert error_of(cognito.idp.get_user, AccessToken=old["AccessToken"])[0] == "NotAuthorizedException"


# -- 5b. ChangePassword ---------------------------------------------------------------------------
def test_change_password_with_a_wrong_previous_password_says_incorrect_username_or_password(cognito):
    """ChangePassword with a wrong PreviousPassword: NotAuthorizedException "Incorrect username or password."
    (as Cognito answers on the wire), and the password is unchanged."""
    token = cognito.sign_in()["AccessToken"]
    assert error_of(cognito.idp.change_password, AccessToken=token, PreviousPassword="Wrong-Horse-1",
                    ProposedPassword=NEW_PASSWORD) == ("NotAuthorizedException", "Incorrect username or password.")
    assert "AccessToken" in cognito.sign_in()           # the old password still works


def test_change_password_failures_are_not_sign_in_failures(cognito):
    """The documented lockout counts failed sign-ins; it says nothing of ChangePassword, so the lab does
    not count a wrong PreviousPassword toward it (README: where the docs are silent)."""
    token = cognito.sign_in()["AccessToken"]
    cognito.lab.clock.freeze()
    for _ in range(6):
        assert error_of(cognito.idp.change_password, AccessToken=token, PreviousPassword="Wrong-Horse-1",
                        ProposedPassword=NEW_PASSWORD)[1] == "Incorrect username or password."
    assert "AccessToken" in cognito.sign_in()


def test_change_password_checks_the_new_password_against_the_pool_policy(cognito):
    """ChangePassword: a ProposedPassword the policy refuses is InvalidPasswordException with Cognito's
    message; a good one replaces the password (the old one stops working)."""
    token = cognito.sign_in()["AccessToken"]
    code, message = error_of(cognito.idp.change_password, AccessToken=token, PreviousPassword=PASSWORD,
                             ProposedPassword="short")
    assert code == "InvalidPasswordException"
    assert message.startswith("Password did not conform with policy: ")
    cognito.idp.change_password(AccessToken=token, PreviousPassword=PASSWORD, ProposedPassword=NEW_PASSWORD)
    assert error_of(cognito.sign_in)[1] == "Incorrect username or password."
    assert "AccessToken" in cognito.idp.initiate_auth(
        ClientId=cognito.client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": NEW_PASSWORD})["AuthenticationResult"]


# -- 5c. A taken port -----------------------------------------------------------------------------
@pytest.fixture
def taken_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_a_taken_port_raises_lab_error_and_leaves_the_process_as_it_was(taken_port, monkeypatch, capfd):
    """Lab(port=N) on a port in use: LabError (a RuntimeError) naming the port and what to do; NO_PROXY,
    no_proxy and moto are left as they were, nothing is printed, and the next lab starts."""
    from moto.cognitoidp.responses import CognitoIdpResponse

    monkeypatch.setenv("NO_PROXY", "proxy.example.internal")
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(LabError) as err:
        Lab(port=taken_port).start()
    assert isinstance(err.value, RuntimeError) and labkit.LabError is LabError
    message = str(err.value)
    assert str(taken_port) in message and "already in use" in message and "port=0" in message
    assert (os.environ.get("NO_PROXY"), os.environ.get("no_proxy")) == ("proxy.example.internal", None)
    assert not hasattr(CognitoIdpResponse, "revoke_token")          # moto's patches were undone
    assert current_lab() is None
    assert capfd.readouterr().err == ""                             # no werkzeug text on stderr
    with Lab() as lab:
        assert lab.client("cognito-idp").list_user_pools(MaxResults=5)["UserPools"] == []


def test_python_m_labkit_serve_on_a_taken_port_says_so_and_exits(taken_port):
    """`python -m labkit serve --port N` on a taken port: one clear line on stderr, exit status 2."""
    proc = subprocess.run([sys.executable, "-m", "labkit", "serve", "--port", str(taken_port)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert f"Port {taken_port} on 127.0.0.1 is already in use" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- 5d/5e. SRP: TIMESTAMP on the lab clock, single-use secret blocks ------------------------------
@pytest.fixture
def srp_pool():
    with Lab(seed=9) as lab:
        idp = lab.client("cognito-idp")
        pool_id = idp.create_user_pool(PoolName="srp")["UserPool"]["Id"]
        clients = [idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName=name,
            ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
            for name in ("web", "mobile")]
        idp.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS")
        idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password=PASSWORD, Permanent=True)
        yield lab, idp, pool_id, clients


def _srp_challenge(idp, pool_id, client_id):
    client = srp.CognitoSRP(pool_id, "alice", PASSWORD)
    params = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_SRP_AUTH",
                               AuthParameters=client.auth_parameters())["ChallengeParameters"]
    return client, params


def _answer(idp, client_id, responses):
    return idp.respond_to_auth_challenge(ClientId=client_id, ChallengeName="PASSWORD_VERIFIER",
                                         ChallengeResponses=responses)


@pytest.mark.parametrize("skew, accepted", [
    (timedelta(minutes=5), True), (-timedelta(minutes=5), True),
    (timedelta(minutes=5, seconds=1), False), (-timedelta(minutes=5, seconds=1), False),
    (timedelta(hours=1), False),
])
def test_srp_timestamp_must_be_close_to_the_lab_clock(srp_pool, skew, accepted):
    """PASSWORD_VERIFIER's TIMESTAMP is checked against the (lab) clock: within 5 minutes either side it
    signs in; further off, NotAuthorizedException "Incorrect username or password." (Cognito documents no
    tolerance: 5 minutes is the lab's choice, see README)."""
    lab, idp, pool_id, (web, _) = srp_pool
    lab.clock.freeze()
    client, params = _srp_challenge(idp, pool_id, web)
    responses = client.challenge_responses(params, timestamp=lab.clock.now() + skew)
    if accepted:
        assert "AccessToken" in _answer(idp, web, responses)["AuthenticationResult"]
    else:
        assert error_of(_answer, idp, web, responses) == ("NotAuthorizedException", "Incorrect username or password.")


def test_srp_timestamp_follows_the_lab_clock_not_the_machines(srp_pool):
    """After lab.clock.advance(hours=2), a TIMESTAMP of the machine's real time is two hours stale and
    refused; one of the lab clock's now signs in."""
    lab, idp, pool_id, (web, _) = srp_pool
    lab.clock.freeze()
    real_now = lab.clock.now()
    lab.clock.advance(hours=2)
    client, params = _srp_challenge(idp, pool_id, web)
    stale = client.challenge_responses(params, timestamp=real_now)
    assert error_of(_answer, idp, web, stale)[1] == "Incorrect username or password."
    client, params = _srp_challenge(idp, pool_id, web)
    assert "AccessToken" in _answer(idp, web, client.challenge_responses(params, timestamp=lab.clock.now()))[
        "AuthenticationResult"]


@pytest.mark.parametrize("what_goes_wrong", ["answered through another app client", "TIMESTAMP missing",
                                             "TIMESTAMP stale"])
def test_a_password_verifier_attempt_is_single_use_whatever_goes_wrong(srp_pool, what_goes_wrong):
    """A SECRET_BLOCK answers one PASSWORD_VERIFIER response: after a failed one (even through the wrong
    app client, or malformed), the right answer through the right client is refused too."""
    lab, idp, pool_id, (web, mobile) = srp_pool
    lab.clock.freeze()
    client, params = _srp_challenge(idp, pool_id, web)
    good = client.challenge_responses(params, timestamp=lab.clock.now())
    if what_goes_wrong == "answered through another app client":
        assert error_of(_answer, idp, mobile, good) == ("NotAuthorizedException", "Invalid session for the user.")
    elif what_goes_wrong == "TIMESTAMP missing":
        assert error_of(_answer, idp, web, {k: v for k, v in good.items() if k != "TIMESTAMP"})[0] == \
            "InvalidParameterException"
    else:
        stale = client.challenge_responses(params, timestamp=lab.clock.now() - timedelta(hours=1))
        assert error_of(_answer, idp, web, stale)[1] == "Incorrect username or password."
    assert error_of(_answer, idp, web, good) == ("NotAuthorizedException", "Invalid session for the user.")
    client, params = _srp_challenge(idp, pool_id, web)          # a new attempt works
    assert "AccessToken" in _answer(idp, web, client.challenge_responses(params, timestamp=lab.clock.now()))[
        "AuthenticationResult"]


@pytest.mark.parametrize("change", ["a new route", "a renamed handler"])
def test_a_moto_upgrade_that_moves_the_static_key_routes_fails_loudly(monkeypatch, change):
    """check_internals() names any .well-known route of moto's that the lab does not neutralise, so a moto
    upgrade cannot quietly start serving its static key again."""
    from moto.cognitoidp import urls

    from labkit.emulator.moto_patches import MotoInternalsChanged, cognitoidp

    paths = dict(urls.url_paths)
    if change == "a new route":
        paths["{0}/(?P<user_pool_id>[^/]+)/.well-known/jwks-v2.json$"] = paths["{0}/$"]
    else:
        path = next(p for p in paths if p.endswith("jwks.json$"))
        paths[path] = lambda *args: None
    monkeypatch.setattr(urls, "url_paths", paths)
    with pytest.raises(MotoInternalsChanged, match=".well-known"):
        cognitoidp.check_internals()
