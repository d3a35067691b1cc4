"""labkit.srp: Cognito's SRP-6a, checked against pycognito and against itself."""
import base64
import random
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pycognito import aws_srp

from labkit.cognito import srp

POOL = "us-east-1_AbC123"
TS = "Sat Jan 1 00:00:00 UTC 2022"


def make_pycognito(username, password, a):
    # client=object(): a dummy, so no boto3 client and no network; only the maths is used.
    ref = aws_srp.AWSSRP(username, password, POOL, "client-id", client=object())
    ref.small_a_value = a
    ref.large_a_value = ref.calculate_a()
    return ref


def sign_in(password, *, seed=7, stored_password="Correct horse 1!", user_id="uid-42"):
    """One full exchange: our client against our server; returns (client, server, ok)."""
    rng = random.Random(seed)
    salt = srp.new_salt(rng)
    verifier = srp.compute_verifier(POOL, user_id, stored_password, salt)
    client = srp.CognitoSRP(POOL, "alice", password, rng=rng)
    server = srp.SRPServerSession(POOL, user_id, salt, verifier, client.srp_a, rng=rng)
    block = srp.new_secret_block(rng)
    resp = client.challenge_responses(server.challenge_parameters(block, "alice"), timestamp=TS)
    ok = server.verify(resp["PASSWORD_CLAIM_SIGNATURE"], resp["PASSWORD_CLAIM_SECRET_BLOCK"],
                       resp["TIMESTAMP"])
    return client, server, resp, ok


# --- constants ---------------------------------------------------------------------------
def test_group_matches_pycognito_and_srptools_prime_with_g_2():
    from srptools.constants import PRIME_3072, PRIME_3072_GEN

    assert srp.N == int(aws_srp.N_HEX, 16) == int(PRIME_3072, 16)
    assert srp.g == 2 and PRIME_3072_GEN == "5"  # srptools' generator must not leak in
    assert srp.k == make_pycognito("u", "p", 1).val_k
    assert srp.srptools_context("alice").generator in ("2", "02")


# --- interop with pycognito --------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
def test_pycognito_and_our_client_compute_the_same_A_and_signature(seed):
    rng = random.Random(seed)
    salt = srp.new_salt(rng)
    verifier = srp.compute_verifier(POOL, "uid-42", "Passw0rd!", salt)
    ours = srp.CognitoSRP(POOL, "alice", "Passw0rd!", rng=rng)
    ref = make_pycognito("alice", "Passw0rd!", ours.a)
    assert ours.srp_a == ref.get_auth_params()["SRP_A"]
    assert ours.auth_parameters() == {"USERNAME": "alice", "SRP_A": ours.srp_a}

    server = srp.SRPServerSession(POOL, "uid-42", salt, verifier, ours.srp_a, rng=rng)
    params = server.challenge_parameters(srp.new_secret_block(rng), "alice")
    ref_resp = ref.process_challenge(params, {"USERNAME": "alice"})  # stamps "now" itself
    our_resp = ours.challenge_responses(params, timestamp=ref_resp["TIMESTAMP"])
    assert our_resp == ref_resp
    # and pycognito, a real-world client, gets past our server
    assert server.verify(ref_resp["PASSWORD_CLAIM_SIGNATURE"], params["SECRET_BLOCK"],
                         ref_resp["TIMESTAMP"])


def test_key_is_the_hkdf_pycognito_and_cryptography_compute():
    client, server, _, _ = sign_in("Correct horse 1!")
    ikm = bytes.fromhex(srp.pad_hex(client.S))
    salt = bytes.fromhex(srp.pad_hex(client.u))
    assert client.key == aws_srp.compute_hkdf(ikm, salt)
    hkdf = HKDF(algorithm=hashes.SHA256(), length=16, salt=salt, info=b"Caldera Derived Key")
    assert client.key == hkdf.derive(ikm) and len(client.key) == 16


def test_verifier_and_x_match_pycognito_derivation():
    salt = bytes.fromhex("8a" + "11" * 15)  # first digit 8-f: padded with "00"
    x = srp.compute_x(POOL, "uid-42", "pw", salt)
    inner = aws_srp.hash_sha256("AbC123uid-42:pw".encode())
    assert x == int(aws_srp.hex_hash("00" + salt.hex() + inner), 16)
    assert srp.compute_x(POOL, "uid-42", "pw", salt.hex()) == x  # hex str and bytes agree
    assert srp.compute_verifier(POOL, "uid-42", "pw", salt) == pow(2, x, srp.N)


# --- client + server ---------------------------------------------------------------------
def test_right_password_signs_in():
    client, server, resp, ok = sign_in("Correct horse 1!")
    assert ok
    assert client.S == server.S and client.key == server.key and client.u == server.u
    assert resp["USERNAME"] == "alice" and resp["TIMESTAMP"] == TS


def test_wrong_password_is_refused():
    client, server, resp, ok = sign_in("Correct horse 2!")
    assert not ok
    assert client.S != server.S


def test_tampered_fields_are_refused():
    _, server, resp, ok = sign_in("Correct horse 1!")
    assert ok
    sig, block, ts = (resp["PASSWORD_CLAIM_SIGNATURE"], resp["PASSWORD_CLAIM_SECRET_BLOCK"],
                      resp["TIMESTAMP"])
    assert not server.verify(sig, block, "Sat Jan 1 00:00:01 UTC 2022")
    assert not server.verify(sig, base64.b64encode(b"another block").decode(), ts)
    assert not server.verify("not base64!", block, ts)
    assert server.verify(sig, block, ts)


def test_user_id_for_srp_not_username_goes_into_x():
    # The verifier was made for USER_ID_FOR_SRP "uid-42"; a client hashing "alice" fails.
    rng = random.Random(3)
    salt = srp.new_salt(rng)
    verifier = srp.compute_verifier(POOL, "alice", "pw", salt)
    client = srp.CognitoSRP(POOL, "alice", "pw", rng=rng)
    server = srp.SRPServerSession(POOL, "uid-42", salt, verifier, client.srp_a, rng=rng)
    resp = client.challenge_responses(server.challenge_parameters("AAAA"), timestamp=TS)
    assert not server.verify(resp["PASSWORD_CLAIM_SIGNATURE"], "AAAA", TS)


def test_full_exchange_costs_exactly_six_modular_exponentiations(monkeypatch):
    rng = random.Random(1)
    salt = srp.new_salt(rng)
    verifier = srp.compute_verifier(POOL, "uid", "pw", salt)  # sign-up, not sign-in
    calls = []

    def counting_pow(*args):
        calls.append(len(args))
        return pow(*args)

    monkeypatch.setattr(srp, "pow", counting_pow, raising=False)
    client = srp.CognitoSRP(POOL, "uid", "pw", rng=rng)
    server = srp.SRPServerSession(POOL, "uid", salt, verifier, client.srp_a, rng=rng)
    resp = client.challenge_responses(server.challenge_parameters("AAAA"), timestamp=TS)
    assert server.verify(resp["PASSWORD_CLAIM_SIGNATURE"], "AAAA", TS)
    assert calls == [3] * 6


def test_timestamp_argument_forms():
    rng = random.Random(4)
    client = srp.CognitoSRP(POOL, "alice", "pw", rng=rng)
    server = srp.SRPServerSession(POOL, "alice", srp.new_salt(rng), 12345, client.srp_a, rng=rng)
    params = server.challenge_parameters("AAAA")
    as_dt = client.challenge_responses(params, timestamp=datetime(2022, 1, 1))
    as_str = client.challenge_responses(params, timestamp=TS)
    assert as_dt == as_str
    now = client.challenge_responses(params)["TIMESTAMP"]
    assert abs(srp.parse_timestamp(now) - datetime.now(timezone.utc)) < timedelta(minutes=1)


# --- encoding rules ----------------------------------------------------------------------
@pytest.mark.parametrize("value,padded", [
    (0xABC, "0abc"),          # odd length
    ("abc", "0abc"),
    ("8f", "008f"),           # first digit 8-f: would read as negative
    ("F0", "00F0"),
    (0x80, "0080"),
    ("7f", "7f"),             # already fine
    ("0f", "0f"),
    (0, "00"),
])
def test_pad_hex_rule(value, padded):
    assert srp.pad_hex(value) == padded
    assert aws_srp.pad_hex(value) == padded


def test_pad_hex_rejects_empty_and_negative():
    with pytest.raises(ValueError):
        srp.pad_hex("")
    with pytest.raises(ValueError):
        srp.pad_hex(-1)


def test_timestamp_format():
    assert srp.format_timestamp(datetime(2022, 1, 1)) == "Sat Jan 1 00:00:00 UTC 2022"
    assert srp.format_timestamp(datetime(2024, 2, 29, 7, 5, 9)) == "Thu Feb 29 07:05:09 UTC 2024"
    plus_one = timezone(timedelta(hours=1))
    assert srp.format_timestamp(datetime(2022, 1, 1, 1, 0, tzinfo=plus_one)) == TS
    day = datetime(2023, 1, 1)
    for i in range(0, 366, 13):  # every weekday and month, against pycognito
        d = day + timedelta(days=i, hours=i % 24)
        assert srp.format_timestamp(d) == aws_srp.AWSSRP.get_cognito_formatted_timestamp(d)


def test_parse_timestamp_is_strict():
    assert srp.parse_timestamp(TS) == datetime(2022, 1, 1, tzinfo=timezone.utc)
    for bad in ("Sat Jan 01 00:00:00 UTC 2022",   # zero-padded day
                "Sun Jan 1 00:00:00 UTC 2022",    # wrong weekday
                "Sat Jan 1 00:00:00 GMT 2022",
                "2022-01-01T00:00:00Z"):
        with pytest.raises(ValueError):
            srp.parse_timestamp(bad)


def test_pool_name():
    assert srp.pool_name("us-east-1_AbC123") == "AbC123"
    assert srp.pool_name("eu-west-2_a_b") == "a_b"
    with pytest.raises(ValueError, match="_"):
        srp.pool_name("AbC123")


# --- safety checks -----------------------------------------------------------------------
@pytest.mark.parametrize("bad_a", ["0", srp.int_to_hex(srp.N), srp.int_to_hex(2 * srp.N)])
def test_server_rejects_A_divisible_by_N(bad_a):
    with pytest.raises(ValueError, match="A mod N"):
        srp.SRPServerSession(POOL, "uid", b"salt", 12345, bad_a, b=5)


@pytest.mark.parametrize("bad_b", ["0", srp.int_to_hex(srp.N)])
def test_client_rejects_B_divisible_by_N(bad_b):
    client = srp.CognitoSRP(POOL, "alice", "pw", a=12345)
    params = {"SALT": "ab", "SRP_B": bad_b, "SECRET_BLOCK": "AAAA", "USER_ID_FOR_SRP": "alice"}
    with pytest.raises(ValueError, match="B mod N"):
        client.challenge_responses(params, timestamp=TS)


def test_both_sides_reject_u_zero(monkeypatch):
    client = srp.CognitoSRP(POOL, "alice", "pw", a=12345)
    monkeypatch.setattr(srp, "compute_u", lambda A, B: 0)
    params = {"SALT": "ab", "SRP_B": "1234", "SECRET_BLOCK": "AAAA", "USER_ID_FOR_SRP": "alice"}
    with pytest.raises(ValueError, match="u == 0"):
        client.challenge_responses(params, timestamp=TS)
    with pytest.raises(ValueError, match="u == 0"):
        srp.SRPServerSession(POOL, "alice", b"salt", 12345, client.srp_a, b=5)


def test_missing_challenge_parameter_is_named():
    client = srp.CognitoSRP(POOL, "alice", "pw", a=12345)
    with pytest.raises(ValueError, match="SRP_B"):
        client.challenge_responses({"SALT": "ab", "SECRET_BLOCK": "AAAA",
                                    "USER_ID_FOR_SRP": "alice"})


# --- reproducibility and inspection ------------------------------------------------------
def test_seeded_rng_reproduces_the_whole_exchange():
    first, second, other = sign_in("pw", seed=11), sign_in("pw", seed=11), sign_in("pw", seed=12)
    assert first[0].A == second[0].A and first[1].B == second[1].B
    assert first[2] == second[2]
    assert first[0].A != other[0].A and first[2] != other[2]
    assert srp.new_salt(random.Random(5)) == srp.new_salt(random.Random(5))
    assert len(srp.new_salt()) == 16 and srp.new_salt() != srp.new_salt()


def test_repr_shows_prefixes_not_the_password():
    client, server, _, _ = sign_in("Sup3r-secret-pw")
    text = repr(client) + repr(server)
    assert "Sup3r-secret-pw" not in text
    assert srp.int_to_hex(client.A)[:8] in repr(client)
    assert srp.int_to_hex(server.B)[:8] in repr(server)


def test_standard_srp6a_demo_runs_on_g_2_and_differs_from_cognito():
    demo = srp.standard_srp6a_demo(rng=random.Random(9))
    assert demo["standard"]["client_server_agree"]
    assert demo["cognito"]["client_server_agree"]
    assert not demo["same_verifier"]
    assert demo["standard"]["k"] != demo["cognito"]["k"] == srp.k
    assert len(demo["standard"]["key"]) == 32 and len(demo["cognito"]["key"]) == 16
