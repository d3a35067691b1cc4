"""labkit.pools: the decision table, exercise 1.1's checks, the side-by-side view and watch()."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from labkit.course import pools, setups
from labkit.course.exercises import ExerciseNotPassed, exercise

RIGHT = {"a": "user pool", "b": "both", "c": "identity pool", "d": "neither", "e": "user pool"}


# -- decision table ----------------------------------------------------------------------------------
def test_decision_table_covers_every_choice_and_the_issue_scenarios():
    uses = {s.use for s in pools.DECISIONS}
    assert uses == set(pools.CHOICES)
    rows = pools.decision_table().rows
    situations = " ".join(row[0] for row in rows)
    for phrase in ("user pool authorizer", "upload photos", "never sign in", "no person is involved",
                   "Lambda function"):
        assert phrase in situations
    assert "Situation" in str(pools.decision_table()) and "<table>" in pools.decision_table()._repr_html_()
    assert ["identity pool (guests)"] == [r[1] for r in rows if "never sign in" in r[0]]
    assert ["both"] == [r[1] for r in rows if "upload photos" in r[0]]


def test_a_scenario_must_use_one_of_the_choices():
    with pytest.raises(ValueError, match="use must be one of"):
        pools.Scenario("x", "cognito", "y")


def test_practice_table_does_not_show_the_answers():
    table = pools.practice_table()
    assert [row[0] for row in table.rows] == ["a", "b", "c", "d", "e"]
    assert all(len(row) == 2 for row in table.rows)
    assert "Why" not in table.columns


# -- exercise 1.1 -------------------------------------------------------------------------------------
def test_each_practice_hash_matches_exactly_one_choice():
    for practice in pools.PRACTICE:
        assert [c for c in pools.CHOICES if practice.is_right(c)] == [RIGHT[practice.key]]
    assert not pools.Practice("x", "s", "not-a-hash", "t", "w").is_right("both")


def test_practice_situations_are_not_in_the_decision_table():
    shown = {s.situation for s in pools.DECISIONS}
    assert not shown & {p.situation for p in pools.PRACTICE}


@pytest.mark.parametrize("raw, normalised", [("User Pool", "user pool"), (" user_pools ", "user pool"),
                                             ("Identity-Pool", "identity pool"), ("BOTH", "both"),
                                             ("guests", "guests")])
def test_normalise_choice(raw, normalised):
    assert pools.normalise_choice(raw) == normalised


def test_right_choices_return_the_reasons():
    why = pools.check_choices({"A)": "User Pool", "b": "Both", "c": "identity_pools", "d": "neither",
                               "e": "user pool"})
    assert isinstance(why, pools.Table)
    assert [row[0] for row in why.rows] == ["a", "b", "c", "d", "e"]
    assert why.rows[3][2].startswith("Neither")


def test_wrong_missing_unknown_and_extra_answers_are_all_reported():
    with pytest.raises(ExerciseNotPassed) as info:
        pools.check_choices({"a": "user pool", "b": "identity pool", "c": "guests", "z": "both"})
    problem = info.value.problem
    assert problem.splitlines()[0] == "1 of 5 situations answered right."
    assert "'z' is not one of the situations (a, b, c, d, e)." in problem
    assert "b) not 'identity pool'. Two things happen here" in problem
    assert "c) 'guests' is not one of 'user pool', 'identity pool', 'both', 'neither'." in problem
    assert "d) has no answer yet." in problem and "e) has no answer yet." in problem
    assert "a)" not in problem                                  # right answers are not listed
    assert "user pool" not in problem.split("b) not")[1].split("c)")[0]   # no answer given away


def test_extra_keys_alone_fail_too():
    with pytest.raises(ExerciseNotPassed, match="Some keys are not situations"):
        pools.check_choices({**RIGHT, "f": "both"})


def test_not_a_dict_is_explained():
    with pytest.raises(ExerciseNotPassed, match="choices should be a dict"):
        pools.check_choices(["user pool"])


def test_inside_an_exercise_block_the_message_gets_the_id_and_hint(capsys):
    with pytest.raises(ExerciseNotPassed) as info:
        with exercise("1.1", "pick", hint="Two questions per situation."):
            pools.check_choices({**RIGHT, "d": "user pool"})
    message = str(info.value)
    assert message.startswith("✗ Exercise 1.1 not passed yet")
    assert "d) not 'user pool'." in message and message.endswith("Hint: Two questions per situation.")
    with exercise("1.1", "pick"):
        pools.check_choices(RIGHT)
    assert capsys.readouterr().out == "✓ Exercise 1.1 passed: pick\n"


# -- signed requests ------------------------------------------------------------------------------------
def test_parse_sigv4_authorization():
    headers = {"Authorization": b"AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE000000000/20261122/us-east-1/s3/aws4_request, "
                                b"SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=abc123",
               "X-Amz-Security-Token": "token"}
    request = pools.parse_authorization("get", "http://127.0.0.1:5000/bucket/private/us-east-1%3Aabc/a.txt", headers)
    assert request.method == "GET" and request.path == "/bucket/private/us-east-1:abc/a.txt"
    assert (request.scheme, request.access_key_id, request.date, request.region, request.service) == \
        ("AWS4-HMAC-SHA256", "ASIAEXAMPLE000000000", "20261122", "us-east-1", "s3")
    assert request.signed_headers == ["host", "x-amz-date", "x-amz-security-token"]
    assert request.signature == "abc123" and request.session_token
    text = str(request)
    assert "20261122" not in text                      # the date would change every day in a notebook
    assert "access key id   ASIAEXAMPLE000000000" in text and "present" in text


def test_parse_bearer_and_anonymous_requests():
    bearer = pools.parse_authorization("GET", "http://h/me", {"authorization": "Bearer eyJabc.def.ghi"})
    assert bearer.scheme == "Bearer" and bearer.bearer == "eyJabc.def.ghi" and not bearer.session_token
    assert "Authorization: Bearer eyJabc.def.ghi" in str(bearer) and "X-Amz-Security-Token: absent" in str(bearer)
    anonymous = pools.parse_authorization("GET", "http://h", {})
    assert anonymous.scheme is None and anonymous.path == "/" and "anonymous" in str(anonymous)
    other = pools.parse_authorization("GET", "http://h/x", {"Authorization": "Basic Zm9v"})
    assert "Authorization: Basic ..." in str(other)


# -- against the lab ----------------------------------------------------------------------------------
def test_compare_and_watch_with_a_real_sign_in_and_real_credentials(cognito):
    lab = cognito.lab
    ids = setups.identity_pool(lab, cognito.pool_id, cognito.client_id)
    files = setups.private_s3_prefix(lab, ids)
    tokens = cognito.sign_in("alice")
    identity = ids.credentials(tokens["IdToken"])

    table = pools.compare(tokens, identity, clock=lab.clock)
    cells = {row[0]: row[1:] for row in table.rows}
    assert cells["Valid for"] == ["60 min (ID and access tokens)", "60 min (until Expiration)"]
    assert cells["You get"][0].startswith("IdToken, AccessToken, RefreshToken (JWTs")
    assert cells["You get"][1].startswith("AccessKeyId, SecretKey, SessionToken (temporary")
    assert cells["The user is"][0].startswith("alice, sub ")
    assert identity["IdentityId"] in cells["The user is"][1]
    assert identity["IdentityId"] in str(table) and identity["IdentityId"] in table._repr_html_()
    lab.clock.advance(minutes=30)
    assert pools.compare(tokens, identity, clock=lab.clock).rows[5][2] == "30 min (until Expiration)"

    s3 = lab.client("s3", credentials=identity["Credentials"])
    key = files.key_for(identity["IdentityId"], "notes.txt")
    with pools.watch(s3) as seen:
        s3.put_object(Bucket=files.bucket, Key=key, Body=b"hi")
        s3.get_object(Bucket=files.bucket, Key=key)
    assert [r.method for r in seen.requests] == ["PUT", "GET"] and seen.last is seen.requests[1]
    last = seen.last
    assert last.path == f"/{files.bucket}/{key}"
    assert last.access_key_id == identity["Credentials"]["AccessKeyId"]
    assert (last.region, last.service, last.session_token) == ("us-east-1", "s3", True)
    assert re.fullmatch(r"[0-9a-f]{64}", last.signature)
    assert tokens["IdToken"] not in repr(vars(last))          # no JWT travels to S3
    s3.get_object(Bucket=files.bucket, Key=key)                # after the block: no longer watched
    assert len(seen.requests) == 2 and repr(seen) == "<Watcher: 2 request(s)>"


def test_compare_accepts_an_epoch_expiration_and_real_time():
    import jwt as pyjwt

    now = datetime.now(timezone.utc).timestamp()
    id_token = pyjwt.encode({"sub": "s-1", "cognito:username": "ana", "iat": int(now), "exp": int(now) + 300},
                            "k" * 32, algorithm="HS256")
    table = pools.compare({"IdToken": id_token, "AccessToken": "x"},
                          {"IdentityId": "us-east-1:x", "Credentials": {"AccessKeyId": "A", "SecretKey": "S",
                                                                        "SessionToken": "T", "Expiration": now + 600}})
    cells = {row[0]: row[1:] for row in table.rows}
    assert cells["Valid for"] == ["5 min (ID and access tokens)", "10 min (until Expiration)"]
    assert cells["You get"][0].startswith("IdToken, AccessToken (JWTs")
