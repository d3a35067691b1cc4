"""The learner's first cell, from a fresh Python process: import, a running server, a user pool, an
app client, a user, and the first USER_PASSWORD_AUTH tokens. Raw moto beside the lab.

    .venv/bin/python -m benchmarks.bench_cold_start [--runs 7]

Each sample is a new interpreter (``python -c``), so imports, file loads (botocore's endpoint and
service models) and first-request work all count, as they do when a notebook's setup cell runs in a
fresh kernel. Raw moto runs its ThreadedMotoServer on 127.0.0.1 and a boto3 client with fake keys.
The two are interleaved; medians of ``--runs`` samples each, and the same for each step of the lab.
Goal (issue 9): the lab at most 0.6x raw moto.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

GOAL = 0.6

_COMMON = r'''
PASSWORD = "Passw0rd!"
def first_token(idp):
    pool = idp.create_user_pool(PoolName="p")["UserPool"]["Id"]
    cid = idp.create_user_pool_client(UserPoolId=pool, ClientName="c",
                                      ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="alice", Password=PASSWORD, Permanent=True)
    mark("setup")
    result = idp.initiate_auth(ClientId=cid, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD})
    assert result["AuthenticationResult"]["AccessToken"]
    mark("first token")
'''

_CLOCK = r'''
import json, time
_t0 = time.perf_counter(); _last = [_t0]; _steps = {}
def mark(name):
    now = time.perf_counter(); _steps[name] = now - _last[0]; _last[0] = now
'''

RAW = _CLOCK + _COMMON + r'''
import boto3
from moto.server import ThreadedMotoServer
mark("import")
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
mark("start")
idp = boto3.client("cognito-idp", region_name="us-east-1", endpoint_url=f"http://{host}:{port}",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
mark("client")
first_token(idp)
print(json.dumps({"total": time.perf_counter() - _t0, **_steps}))
server.stop()
'''

LAB = _CLOCK + _COMMON + r'''
import labkit
mark("import")
lab = labkit.Lab(seed=1).start()
mark("start")
idp = lab.client("cognito-idp")
mark("client")
first_token(idp)
print(json.dumps({"total": time.perf_counter() - _t0, **_steps}))
lab.stop()
'''


def _sample(script: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                         timeout=120, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run(runs: int = 7) -> dict:
    raw, lab = [], []
    for _ in range(runs):                       # interleaved: load on the machine hits both alike
        raw.append(_sample(RAW))
        lab.append(_sample(LAB))
    med = lambda samples, key: statistics.median(s[key] for s in samples)   # noqa: E731
    steps = ["import", "start", "client", "setup", "first token", "total"]
    result = {"runs": runs, "raw": {k: med(raw, k) for k in steps}, "lab": {k: med(lab, k) for k in steps}}
    result["ratio"] = result["lab"]["total"] / result["raw"]["total"]
    result["goal_met"] = result["ratio"] <= GOAL
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_cold_start")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    result = run(args.runs)
    print(f"first cell in a fresh process (medians of {args.runs} runs each, interleaved)")
    print(f"{'':<14}{'raw moto':>10}{'lab':>10}")
    for step in ["import", "start", "client", "setup", "first token", "total"]:
        print(f"{step:<14}{result['raw'][step]:>9.3f}s{result['lab'][step]:>9.3f}s")
    print(f"ratio lab / raw moto: {result['ratio']:.2f}x (goal <= {GOAL}x) "
          + ("OK" if result["goal_met"] else "NOT MET"))
    return result


if __name__ == "__main__":
    main()
