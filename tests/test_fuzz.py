"""Fuzzing the lab over raw HTTP: whatever a client sends, the answer is AWS-shaped and prompt.

The corpus (tests/fuzz_corpus.py) covers every cognito-idp and cognito-identity operation of
botocore's model. Each request must get, within a second: a status below 500, a JSON body, and
for an error a ``__type`` and a ``message`` with no Python type name or traceback in it; after
each request the lab must still answer a normal call (ListUserPools).
"""
from __future__ import annotations

import contextlib
import http.client
import json
import re
import time

import pytest

from labkit import Lab

from fuzz_corpus import Case, corpus

PASSWORD = "Fuzz-Passw0rd!"
DEADLINE = 1.0                 # seconds a single answer may take
CLIENT_TIMEOUT = 15            # http.client gives up later, so a hang fails the test instead of stalling it
LEAKS = re.compile(r"Traceback|\b[A-Z]\w*Error\b|NoneType|<class |object has no attribute|"
                   r"\b(?:dict|list|str|int|float|bool|tuple)\b(?: object|\(\))|unhashable|subscriptable|"
                   r"File \"|line \d+, in ")


def send(lab: Lab, case: Case) -> tuple[int, bytes, float]:
    host, port = lab.endpoint_url.split("//")[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=CLIENT_TIMEOUT)
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": case.target}
    headers.update(case.headers)
    headers = {k: v for k, v in headers.items() if v != ""}
    started = time.perf_counter()
    try:
        if headers.get("Transfer-Encoding") == "chunked":
            connection.putrequest(case.method, "/")
            for key, value in headers.items():
                connection.putheader(key, value)
            connection.endheaders()
            connection.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(case.body), case.body))
        else:
            connection.request(case.method, "/", body=case.body, headers=headers)
        response = connection.getresponse()
        body = response.read()
        return response.status, body, time.perf_counter() - started
    finally:
        connection.close()


def healthy(lab: Lab) -> bool:
    status, body, _ = send(lab, Case("cognito-idp", "ListUserPools", "health", b'{"MaxResults": 1}'))
    return status == 200 and "UserPools" in json.loads(body)


@contextlib.contextmanager
def fuzz_setup():
    """A lab with a pool, an app client, a group, user alice signed in, an identity pool and an
    identity; yields ``(lab, ids)``, ``ids`` naming them by the model's member names."""
    with Lab(seed=99) as lab:
        idp = lab.client("cognito-idp")
        pool_id = idp.create_user_pool(PoolName="fuzz")["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="fuzz-web",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
        idp.create_group(UserPoolId=pool_id, GroupName="admin")
        idp.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": "alice@example.com"}])
        idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password=PASSWORD, Permanent=True)
        tokens = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD})["AuthenticationResult"]
        identity = lab.client("cognito-identity")
        provider = f"cognito-idp.{lab.region}.amazonaws.com/{pool_id}"
        identity_pool_id = identity.create_identity_pool(
            IdentityPoolName="fuzz", AllowUnauthenticatedIdentities=True,
            CognitoIdentityProviders=[{"ProviderName": provider, "ClientId": client_id}])["IdentityPoolId"]
        identity_id = identity.get_id(IdentityPoolId=identity_pool_id)["IdentityId"]
        ids = {"UserPoolId": pool_id, "ClientId": client_id, "Username": "alice", "GroupName": "admin",
               "AccessToken": tokens["AccessToken"], "RefreshToken": tokens["RefreshToken"],
               "Token": tokens["RefreshToken"], "Password": PASSWORD, "PreviousPassword": PASSWORD,
               "ProposedPassword": PASSWORD, "IdentityPoolId": identity_pool_id, "IdentityId": identity_id,
               "ProviderName": provider, "IdentityPoolName": "fuzz", "PoolName": "fuzz2"}
        yield lab, ids


@pytest.fixture(scope="module")
def fuzz_lab():
    with fuzz_setup() as setup:
        yield setup


def test_every_operation_answers_malformed_requests_like_aws(fuzz_lab):
    """Rule: no request, however malformed, gets a 500, HTML, a Python name or a hang; the lab keeps serving."""
    lab, ids = fuzz_lab
    cases = corpus(ids)
    assert len(cases) > 2900
    problems: list[str] = []
    slowest = 0.0
    started = time.perf_counter()
    for case in cases:
        status, body, elapsed = send(lab, case)
        assert healthy(lab), f"the lab stopped serving after {case.operation} [{case.label}]"
        slowest = max(slowest, elapsed)
        where = f"{case.service} {case.operation} [{case.label}]"
        if elapsed > DEADLINE:
            problems.append(f"{where}: answered after {elapsed:.2f} s")
        if status >= 500:
            problems.append(f"{where}: HTTP {status} {body[:300]!r}")
            continue
        try:
            document = json.loads(body) if body else None
        except ValueError:
            problems.append(f"{where}: HTTP {status}, body is not JSON: {body[:200]!r}")
            continue
        if status >= 400:
            if not (isinstance(document, dict) and document.get("__type")
                    and isinstance(document.get("message", document.get("Message")), str)):
                problems.append(f"{where}: HTTP {status} without __type and message: {body[:200]!r}")
                continue
            message = document.get("message", document.get("Message"))
            if LEAKS.search(message) or len(message) > 2000:
                problems.append(f"{where}: message leaks or is too long: {message[:300]!r}")
        elif document is not None and not isinstance(document, dict):   # no output: an empty body
            problems.append(f"{where}: HTTP {status} with a body that is not a JSON object: {body[:200]!r}")
    assert healthy(lab)
    total = time.perf_counter() - started
    assert not problems, f"{len(problems)} of {len(cases)} requests misbehaved:\n" + "\n".join(problems[:60])
    print(f"\nfuzz: {len(cases)} requests in {total:.1f} s, slowest answer {slowest * 1000:.0f} ms")
