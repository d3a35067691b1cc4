"""labkit.wire: recording what crosses the wire, the eavesdropper's view, SRP step tables."""
import base64
import hashlib
import json
import random
from types import SimpleNamespace

import pytest

from labkit import Lab
from labkit.cognito import srp
from labkit.course import wire
from labkit.course.exercises import ExerciseNotPassed
from labkit.course.userpool import create_user_pool

PASSWORD = "Passw0rd!-wire"


@pytest.fixture(scope="module")
def signed_in():
    """One lab, alice signed in once with each flow, both recorded."""
    with Lab(seed=33) as lab:
        up = create_user_pool(lab, "wire")
        up.add_user("alice", PASSWORD)
        recorder = wire.WireRecorder(up.idp)
        with recorder.capture("USER_PASSWORD_AUTH") as password_flow:
            up.sign_in("alice", PASSWORD)
        with recorder.capture("USER_SRP_AUTH") as srp_flow:
            up.sign_in_srp("alice", PASSWORD)
        yield SimpleNamespace(lab=lab, up=up, recorder=recorder, password_flow=password_flow,
                              srp_flow=srp_flow)
        recorder.close()


def paths(capture, direction=None):
    return [f.path for f in capture.fields() if direction in (None, f.direction)]


# -- the recorder -------------------------------------------------------------------------------

def test_password_flow_sends_the_password_in_the_request_body(signed_in):
    cap = signed_in.password_flow
    assert cap.operations == ["→ InitiateAuth", "← InitiateAuth"]
    request = cap.messages[0]
    assert request.direction == "request" and request.status is None
    assert request.data["AuthParameters"] == {"USERNAME": "alice", "PASSWORD": PASSWORD}
    assert cap.messages[1].status == 200
    assert cap.contains(PASSWORD)
    leaks = [f for f in cap.fields() if f.value == PASSWORD]
    assert [(f.arrow, f.operation, f.path, f.name) for f in leaks] == [
        ("→", "InitiateAuth", "AuthParameters.PASSWORD", "PASSWORD")]
    assert str(leaks[0]) == "→ InitiateAuth AuthParameters.PASSWORD"


def test_srp_flow_never_sends_the_password_in_any_form(signed_in):
    cap = signed_in.srp_flow
    assert cap.operations == ["→ InitiateAuth", "← InitiateAuth",
                              "→ RespondToAuthChallenge", "← RespondToAuthChallenge"]
    for form in (PASSWORD, hashlib.sha256(PASSWORD.encode()).hexdigest(),
                 base64.b64encode(PASSWORD.encode()).decode(), PASSWORD.encode().hex()):
        assert not cap.contains(form)
    assert "AuthParameters.SRP_A" in paths(cap, "request")
    assert {"ChallengeParameters.SALT", "ChallengeParameters.SRP_B", "ChallengeParameters.SECRET_BLOCK",
            "ChallengeParameters.USER_ID_FOR_SRP"} <= set(paths(cap, "response"))
    assert "ChallengeResponses.PASSWORD_CLAIM_SIGNATURE" in paths(cap, "request")
    # both flows end with the same tokens
    for flow in (signed_in.password_flow, cap):
        assert {"AuthenticationResult.AccessToken", "AuthenticationResult.IdToken",
                "AuthenticationResult.RefreshToken"} <= set(paths(flow, "response"))


def test_recorded_bytes_are_what_boto3_got(signed_in):
    body = signed_in.srp_flow.messages[1].data
    assert body["ChallengeName"] == "PASSWORD_VERIFIER"
    assert signed_in.srp_flow.nbytes == sum(len(m.body) for m in signed_in.srp_flow)
    assert len(signed_in.srp_flow) == 4


def test_contains_finds_json_escaped_text_and_rejects_empty():
    cap = wire.Capture("x", [wire.WireMessage("request", "Op", json.dumps({"P": 'a"b/é'}).encode())])
    assert cap.contains('a"b/é')
    assert not cap.contains("zzz")
    with pytest.raises(ValueError):
        cap.contains("")


def test_errors_are_recorded_and_still_raised(signed_in):
    up, recorder = signed_in.up, signed_in.recorder
    with pytest.raises(up.idp.exceptions.NotAuthorizedException):
        with recorder.capture("wrong password") as cap:
            up.sign_in("alice", "not-the-password")
    assert cap.operations == ["→ InitiateAuth", "← InitiateAuth"]
    assert cap.messages[1].status == 400
    assert cap.messages[1].data.get("message") == "Incorrect username or password."


def test_since_and_only_this_client_is_recorded(signed_in):
    recorder, lab = signed_in.recorder, signed_in.lab
    mark = len(recorder.messages)
    lab.client("cognito-idp").list_user_pools(MaxResults=5)      # another client: not recorded
    assert len(recorder.since(mark)) == 0
    signed_in.up.idp.list_user_pools(MaxResults=5)
    assert recorder.since(mark, "list").operations == ["→ ListUserPools", "← ListUserPools"]


def test_close_unregisters_and_capture_after_close_is_refused(signed_in):
    idp = signed_in.lab.client("cognito-idp")      # one lab per process: reuse the fixture's
    with wire.WireRecorder(idp) as recorder:
        idp.list_user_pools(MaxResults=1)
    assert "closed" in repr(recorder) and len(recorder.messages) == 2
    idp.list_user_pools(MaxResults=1)
    assert len(recorder.messages) == 2
    recorder.close()                                   # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        recorder.capture()


def test_capture_repr_is_short_and_stable(signed_in):
    text = repr(signed_in.srp_flow)
    assert text.startswith("USER_SRP_AUTH: 4 messages")
    assert "→ RespondToAuthChallenge (to Cognito)" in text and "← InitiateAuth (from Cognito)" in text
    assert max(len(line) for line in text.splitlines()) <= 100        # fits a notebook, one table per message
    assert "<table>" in signed_in.srp_flow._repr_html_()
    assert "eyJ… (JWT)" in text and "-bit number)" in text
    assert "bytes, base64" in text
    for f in signed_in.srp_flow.fields():              # no long random value printed whole
        if isinstance(f.value, str) and len(f.value) > 40:
            assert f.value not in text


# -- classification and previews ----------------------------------------------------------------

def field(name, value, path=None):
    return wire.WireField("request", "Op", path or f"P.{name}", value)


@pytest.mark.parametrize("name, value, expected", [
    ("PASSWORD", "anything", "password"),
    ("Note", "my hunter2-x!", "password"),               # found by value
    ("ProposedPassword", "whatever", "password"),        # found by name
    ("AccessToken", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "token"),
    ("RefreshToken", "opaque-refresh", "token"),
    ("Other", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "token"),
    ("SRP_A", "abc123", "nothing reusable"),
    ("PASSWORD_CLAIM_SIGNATURE", "c2ln", "nothing reusable"),
    ("SECRET_HASH", "c2VjcmV0", "other"),
])
def test_classify(name, value, expected):
    assert wire.classify(field(name, value), secret="hunter2-x") == expected


def test_preview_is_short_and_never_prints_random_blobs():
    big = format(random.Random(1).getrandbits(3072) | (1 << 3071), "x")
    assert wire.preview(big, name="SRP_A") == f"{big[:8]}… (3072-bit number)"
    assert wire.preview("00b48d03ed3034ef8590e4d26399aec2bd", name="SALT") == "00b48d03… (128-bit number)"
    assert wire.preview("651c52536d4b4adbabcd1f5ec9", name="ClientId") == "'651c52536d4b4adbabcd1f5ec9'"
    assert wire.preview(base64.b64encode(random.Random(2).randbytes(96)).decode()) == "96 bytes, base64"
    assert wire.preview("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "token") == "eyJ… (JWT)"
    assert wire.preview("r" * 100, "token") == "opaque, 100 characters"
    assert wire.preview("Passw0rd!", "password") == "'Passw0rd!'"
    assert wire.preview(3600) == "3600"
    assert len(wire.preview("not base64! " * 10, width=20)) == 20


def test_eavesdropper_view_text_and_picture(signed_in):
    view = wire.eavesdropper_view(signed_in.password_flow, signed_in.srp_flow, secret=PASSWORD)
    assert view.summary(signed_in.password_flow)["password"] == 1
    assert view.summary(signed_in.srp_flow)["password"] == 0
    assert view.summary(signed_in.srp_flow)["token"] == 3 == view.summary(signed_in.password_flow)["token"]
    text = repr(view)
    assert "USER_PASSWORD_AUTH, 2 messages: the password crossed the wire" in text
    assert "USER_SRP_AUTH, 4 messages: the password never crossed the wire" in text
    assert f"PASSWORD          1       AuthParameters.PASSWORD = {PASSWORD!r}" in text
    assert text.count(PASSWORD) == 1
    groups = dict(view.groups(signed_in.srp_flow))
    assert "password" not in groups and sorted(groups["token"]) == ["AccessToken", "IdToken", "RefreshToken"]
    assert "USERNAME\N{NO-BREAK SPACE}×3" in groups["nothing reusable"]         # named once, counted: no repeated table
    for f in signed_in.srp_flow.fields():                      # values are the capture's, not repeated here
        if f.name in ("SRP_A", "SRP_B", "SALT"):
            assert wire.preview(f.value, name=f.name) not in text
    assert max(len(line) for line in text.splitlines()) <= 100
    png = view._repr_png_()
    assert png.startswith(b"\x89PNG") and png == view.png()    # drawn once, cached
    with pytest.raises(ValueError):
        wire.eavesdropper_view()


# -- SRP step table and the lab's side ----------------------------------------------------------------

def offline_exchange(password="Correct horse 1!", stored="Correct horse 1!"):
    rng = random.Random(5)
    pool = "us-east-1_AbC123"
    salt = srp.new_salt(rng)
    verifier = srp.compute_verifier(pool, "alice", stored, salt)
    client = srp.CognitoSRP(pool, "alice", password, rng=rng)
    server = srp.SRPServerSession(pool, "alice", salt, verifier, client.srp_a, rng=rng)
    client.challenge_responses(server.challenge_parameters(srp.new_secret_block(rng)),
                               timestamp="Sat Jan 1 00:00:00 UTC 2022")
    return client, server


def test_srp_steps_right_password_all_same():
    client, server = offline_exchange()
    table = wire.srp_steps(client, server)
    assert [s.name for s in table] == ["salt", "v", "a", "A", "B", "u", "x", "S", "key", "signature"]
    assert {s.name for s in table if s.on_the_wire == "never"} == {"v", "a", "u", "x", "S", "key"}
    assert all(s.server_agrees in (True, None) for s in table)
    assert table["S"].value == server.S and table["x"].value == client.x
    text = repr(table)
    assert srp.int_to_hex(client.S)[:16] + "…" in text
    assert srp.int_to_hex(client.S)[:17] not in text          # only 16 digits
    assert client.signature[:8] not in text and "(changes with TIMESTAMP)" in text
    assert "DIFFERENT" not in text
    assert max(len(line) for line in text.splitlines()) <= 100        # values, then formulas: two tables
    assert "Caldera Derived Key" in text and "Caldera" not in repr(wire.srp_steps(client, server, formulas=False))
    with pytest.raises(KeyError):
        table["nope"]


def test_srp_steps_wrong_password_shows_where_it_diverges():
    client, server = offline_exchange(password="wrong")
    table = wire.srp_steps(client, server)
    assert table["A"].server_agrees and table["B"].server_agrees and table["u"].server_agrees
    assert table["v"].server_agrees is False and table["S"].server_agrees is False
    assert table["key"].server_agrees is False and "DIFFERENT" in repr(table)
    assert "server" not in repr(wire.srp_steps(client)).splitlines()[0]   # no server column


def test_srp_steps_needs_a_finished_client():
    with pytest.raises(ValueError, match="challenge_responses"):
        wire.srp_steps(srp.CognitoSRP("us-east-1_X", "alice", "pw", a=12345))


def test_stored_verifier_and_server_session_match_the_client(signed_in):
    lab, up = signed_in.lab, signed_in.up
    stored = wire.stored_verifier(lab, up.pool_id, "alice")
    assert stored.matches(PASSWORD) and not stored.matches(PASSWORD + "x")
    assert len(stored.salt) == 16 and PASSWORD not in repr(stored) and "not stored" in repr(stored)
    with pytest.raises(KeyError, match="no password verifier"):
        wire.stored_verifier(lab, up.pool_id, "nobody")

    client = srp.CognitoSRP(up.pool_id, "alice", PASSWORD, rng=lab.rng)
    challenge = up.idp.initiate_auth(ClientId=up.client_id, AuthFlow="USER_SRP_AUTH",
                                     AuthParameters=client.auth_parameters())["ChallengeParameters"]
    server = wire.server_session(lab, challenge["SECRET_BLOCK"])
    client.challenge_responses(challenge, timestamp=lab.clock.now())
    assert server.S == client.S and server.key == client.key and server.verifier == stored.verifier
    assert all(s.server_agrees in (True, None) for s in wire.srp_steps(client, server))
    with pytest.raises(KeyError):
        wire.server_session(lab, "bm90IGEgYmxvY2s=")


def test_lab_helpers_need_a_running_lab():
    lab = Lab(seed=1)
    with pytest.raises(Exception, match="not running"):
        wire.stored_verifier(lab, "us-east-1_X", "alice")


# -- exercise 3.1: what a log must not keep ----------------------------------------------------------

def test_must_not_log_check_passes_the_password_and_the_tokens(signed_in):
    """The password (USER_PASSWORD_AUTH only) and the three tokens (both flows) are reusable by whoever
    reads a log; SRP's values are public or single-use."""
    flows = (signed_in.password_flow, signed_in.srp_flow)
    wire.check_must_not_log({"PASSWORD", "AccessToken", "IdToken", "RefreshToken"}, *flows, secret=PASSWORD)
    wire.check_must_not_log(["AuthParameters.PASSWORD", "AuthenticationResult.AccessToken", "IdToken",
                             "RefreshToken"], *flows, secret=PASSWORD)       # whole paths are fine too


@pytest.mark.parametrize("names, expected", [
    ({"PASSWORD"}, "AccessToken, RefreshToken, IdToken are missing: a bearer token"),
    ({"PASSWORD", "AccessToken", "RefreshToken"}, "IdToken is missing: a bearer token"),
    ({"PASSWORD", "AccessToken", "IdToken", "RefreshToken", "SRP_A"}, "SRP_A can stay in the log: public"),
    ({"PASSWORD", "AccessToken", "IdToken", "RefreshToken", "PASSWORD_CLAIM_SIGNATURE"},
     "PASSWORD_CLAIM_SIGNATURE can stay in the log: single-use"),
    ({"AccessToken", "IdToken", "RefreshToken"}, "PASSWORD is missing: the password itself"),
    ({"PASSWORD", "AccessToken", "IdToken", "RefreshToken", "Password1"}, "'Password1' is not a field"),
    ("PASSWORD", "should be a set of field names"),
])
def test_must_not_log_check_explains_each_wrong_decision(signed_in, names, expected):
    with pytest.raises(ExerciseNotPassed) as info:
        wire.check_must_not_log(names, signed_in.password_flow, signed_in.srp_flow, secret=PASSWORD)
    assert expected in str(info.value)
