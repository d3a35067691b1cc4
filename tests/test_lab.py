"""The Lab contract notebooks and outside clients rely on."""
import json
import socket
import subprocess
import sys
import urllib.request
from datetime import timezone

import pytest

import labkit
from labkit import Lab, LabAlreadyRunning, LabNotRunning, new_lab


def test_lab_serves_on_loopback_and_frees_the_port_when_it_stops():
    with Lab() as lab:
        assert lab.endpoint_url.startswith("http://127.0.0.1:")
        port = int(lab.endpoint_url.rsplit(":", 1)[1])
        assert lab.client("cognito-idp").list_user_pools(MaxResults=5)["UserPools"] == []
    with socket.socket() as s:      # the port is free again: nothing listens, a new server can bind it
        assert s.connect_ex(("127.0.0.1", port)) != 0
    with socket.socket() as s:
        # SO_REUSEADDR as any server sets it: an old connection in TIME_WAIT on this port (the OS may
        # have used it as a client port earlier in the run) must not count as "still bound".
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
    assert "stopped" in repr(lab)


def test_next_lab_starts_empty():
    with Lab() as lab:
        lab.client("cognito-idp").create_user_pool(PoolName="leftover")
    with Lab() as lab:
        assert lab.client("cognito-idp").list_user_pools(MaxResults=5)["UserPools"] == []


def test_a_second_live_lab_is_refused_with_a_clear_message():
    with Lab() as lab:
        with pytest.raises(LabAlreadyRunning, match="already running.*new_lab"):
            Lab().start()
        assert lab.running


def test_new_lab_replaces_the_running_one_like_rerunning_a_notebook_cell():
    first = new_lab(seed=1)
    first.client("cognito-idp").create_user_pool(PoolName="old")
    second = new_lab(seed=1)
    try:
        assert not first.running
        assert second.client("cognito-idp").list_user_pools(MaxResults=5)["UserPools"] == []
    finally:
        second.stop()


def test_stopped_lab_says_how_to_start_it():
    lab = Lab()
    with pytest.raises(LabNotRunning, match="with Lab"):
        lab.client("s3")


def test_clients_ignore_aws_profile_and_real_looking_keys(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "profile-that-does-not-exist")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALLOOKING00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x" * 40)
    with Lab() as lab:
        s3 = lab.client("s3")
        assert s3.meta.endpoint_url == lab.endpoint_url
        s3.create_bucket(Bucket="lab-bucket")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["lab-bucket"]
        assert lab.client("cognito-idp").meta.region_name == "us-east-1"


def test_clock_is_aware_utc_and_moves_only_forward():
    with Lab() as lab:
        before = lab.clock.now()
        assert before.tzinfo == timezone.utc
        after = lab.clock.advance(hours=2)
        assert (after - before).total_seconds() >= 7200
        with pytest.raises(ValueError, match="only moves forward"):
            lab.clock.advance(seconds=-1)


def test_seed_makes_codes_and_ids_reproducible():
    def run():
        with Lab(seed=42) as lab:
            idp = lab.client("cognito-idp")
            pool = idp.create_user_pool(PoolName="p", AutoVerifiedAttributes=["email"])["UserPool"]
            client = idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="c")["UserPoolClient"]
            idp.sign_up(ClientId=client["ClientId"], Username="bob", Password="Passw0rd!",
                        UserAttributes=[{"Name": "email", "Value": "bob@example.com"}])
            return pool["Id"], client["ClientId"], lab.inbox("bob@example.com").latest.code
    assert run() == run()


def test_inbox_explains_an_empty_inbox():
    with Lab() as lab:
        inbox = lab.inbox("nobody@example.com")
        assert list(inbox) == []
        with pytest.raises(LookupError, match="No message has been sent"):
            inbox.latest


_AUDIT = {"on": False, "seen": []}


def _audit(event, args):
    # Audit hooks cannot be removed: this one records only while a test switches it on.
    if event == "socket.connect" and _AUDIT["on"]:
        address = args[1]
        _AUDIT["seen"].append(address[0] if isinstance(address, tuple) else address)


sys.addaudithook(_audit)


def test_lab_opens_no_connection_beyond_loopback():
    """Audit every socket connect while the lab's features run: only 127.0.0.1 may be reached."""
    from labkit.course import setups
    from labkit.cognito.jwt import CognitoVerifier
    from labkit.course.userpool import create_user_pool

    _AUDIT.update(on=True, seen=[])
    try:
        with Lab(seed=3) as lab:
            up = create_user_pool(lab, "audit")
            up.add_user("carol", "Passw0rd!", email="carol@example.com")
            tokens = up.sign_in_srp("carol", "Passw0rd!")
            lab.verifier(up.pool_id, up.client_id).verify(tokens["AccessToken"])
            assert lab.protected_api(up.pool_id, up.client_id).call("/hello", tokens["AccessToken"]).status == 200
            prefix = setups.private_s3_prefix(lab, setups.identity_pool(lab, up, name="audit"))
            assert prefix is not None
    finally:
        _AUDIT["on"] = False
    seen = _AUDIT["seen"]
    assert seen, "the audit hook saw no connection at all"
    assert {host for host in seen if isinstance(host, str)} <= {"127.0.0.1"}


def test_python_m_labkit_serve_prints_endpoint_and_cli_example():
    proc = subprocess.Popen([sys.executable, "-m", "labkit", "serve", "--seed", "1"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "Cognito lab running at http://127.0.0.1:" in line
        url = line.split(" at ")[1].split()[0]
        rest = "".join(proc.stdout.readline() for _ in range(5))
        assert f"aws --endpoint-url {url}" in rest
        request = urllib.request.Request(url + "/us-east-1_nope/.well-known/jwks.json")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=10)
        assert err.value.code == 404
        assert "does not exist" in json.loads(err.value.read())["message"]
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0


def test_labkit_exports_the_lab():
    assert labkit.Lab is Lab


def test_lab_traffic_never_goes_through_a_proxy_from_the_environment(monkeypatch):
    """A corporate HTTP(S)_PROXY must not receive the lab's requests (passwords, tokens)."""
    monkeypatch.setenv("HTTP_PROXY", "http://192.0.2.1:9")     # TEST-NET: would hang or fail if used
    monkeypatch.setenv("HTTPS_PROXY", "http://192.0.2.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    with Lab() as lab:
        from labkit.course.userpool import create_user_pool
        from labkit.cognito.jwt import CognitoVerifier

        up = create_user_pool(lab, "proxied")
        up.add_user("vic", "Passw0rd!")
        token = up.sign_in("vic", "Passw0rd!")["AccessToken"]
        verifier = CognitoVerifier.for_lab(lab, up.pool_id, up.client_id, clock=lab.clock)
        assert verifier.verify(token)["username"] == "vic"           # JWKS fetched directly
        assert lab.protected_api(up.pool_id, up.client_id).call("/hello", token).status == 200
