"""Lab vs raw moto: start + first pool and client, USER_PASSWORD_AUTH sign-in, SRP sign-in.

    .venv/bin/python -m benchmarks.bench_lab

Medians of repeated runs (time.perf_counter). Goals (issue 2): the lab's start at most 1.6x raw
moto's, USER_PASSWORD_AUTH at most 2x. Raw moto's SRP "sign-in" accepts any signature, so it is
shown for scale only: the lab's does the real math (see bench_srp for the math's own budget).
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time

PASSWORD = "Passw0rd!"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def _setup(idp):
    pool = idp.create_user_pool(PoolName="bench")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="c", ExplicitAuthFlows=FLOWS)["UserPoolClient"]
    return pool, client["ClientId"]


def _add_user(idp, pool):
    idp.admin_create_user(UserPoolId=pool, Username="bench", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="bench", Password=PASSWORD, Permanent=True)


def _password_sign_in(idp, client):
    idp.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
                      AuthParameters={"USERNAME": "bench", "PASSWORD": PASSWORD})


def _srp_sign_in(idp, pool, client, raw=False):
    from labkit.cognito.srp import CognitoSRP, format_timestamp

    srp = CognitoSRP(pool, "bench", PASSWORD)
    challenge = idp.initiate_auth(ClientId=client, AuthFlow="USER_SRP_AUTH", AuthParameters=srp.auth_parameters())
    params = challenge["ChallengeParameters"]
    if raw:   # moto's SECRET_BLOCK is a UUID and any signature passes: send one without the math
        responses = {"USERNAME": "bench", "PASSWORD_CLAIM_SECRET_BLOCK": params["SECRET_BLOCK"],
                     "PASSWORD_CLAIM_SIGNATURE": "not-checked", "TIMESTAMP": format_timestamp()}
    else:
        responses = srp.challenge_responses(params)
    idp.respond_to_auth_challenge(ClientId=client, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=responses)


def _timed(fn, n):
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _raw_moto_round():
    import boto3
    from moto.moto_api._internal.models import moto_api_backend
    from moto.server import ThreadedMotoServer

    start = time.perf_counter()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    idp = boto3.client("cognito-idp", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
                       aws_access_key_id="x", aws_secret_access_key="x")
    pool, client = _setup(idp)
    started = time.perf_counter() - start
    _add_user(idp, pool)
    password = _timed(lambda: _password_sign_in(idp, client), 30)
    srp = _timed(lambda: _srp_sign_in(idp, pool, client, raw=True), 10)
    server.stop()
    moto_api_backend.reset()
    return started, password, srp


def _lab_round():
    from labkit import Lab

    start = time.perf_counter()
    lab = Lab().start()
    idp = lab.client("cognito-idp")
    pool, client = _setup(idp)
    started = time.perf_counter() - start
    _add_user(idp, pool)
    password = _timed(lambda: _password_sign_in(idp, client), 30)
    srp = _timed(lambda: _srp_sign_in(idp, pool, client), 10)
    lab.stop()
    return started, password, srp


def _import_seconds(statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def run(repeats: int = 5) -> dict:
    import logging

    import labkit  # noqa: F401  (import cost measured separately below)

    logging.getLogger("werkzeug").setLevel(logging.ERROR)   # raw moto's server logs every request

    raw, lab = [], []
    for _ in range(repeats):
        raw.append(_raw_moto_round())
        lab.append(_lab_round())
    med = lambda rows, i: statistics.median(r[i] for r in rows)  # noqa: E731
    result = {
        "import_moto_server_s": _import_seconds("import boto3, moto.server"),
        "import_labkit_s": _import_seconds("import labkit, labkit.lab, moto.server"),
        "start_first_pool_s": (med(raw, 0), med(lab, 0)),
        "user_password_auth_ms": (1000 * med(raw, 1), 1000 * med(lab, 1)),
        "srp_sign_in_ms": (1000 * med(raw, 2), 1000 * med(lab, 2)),
    }
    print(f"imports: boto3+moto.server {result['import_moto_server_s']:.2f} s, "
          f"labkit {result['import_labkit_s']:.2f} s")
    print(f"{'':32}{'raw moto':>12}{'lab':>12}{'ratio':>8}")
    for label, key, unit in (("start + first pool & client", "start_first_pool_s", "s"),
                             ("USER_PASSWORD_AUTH sign-in", "user_password_auth_ms", "ms"),
                             ("SRP sign-in (both sides)", "srp_sign_in_ms", "ms")):
        raw_v, lab_v = result[key]
        print(f"{label:32}{raw_v:>10.3f}{unit:>2}{lab_v:>10.3f}{unit:>2}{lab_v / raw_v:>7.2f}x")
    print(f"medians of {repeats} rounds (sign-ins: median of 30 / 10 calls per round)")
    return result


if __name__ == "__main__":
    run()
