"""How much does a Lambda function cost in the lab? Per-invocation times, medians of many calls.

* ``deploy``        IAM role + CreateFunction through boto3 (the first one also loads Lambda support);
* ``cold``          the first Invoke: a new Python process imports the handler's module;
* ``cold_boto3``    the same when the module imports boto3 (most real triggers do);
* ``warm_invoke``   Invoke through boto3 and the lab's HTTP server, environment reused;
* ``warm_direct``   ``lab.lambdas.invoke`` without HTTP: the subprocess round trip alone;
* ``per_trigger``   what one trigger adds to a USER_PASSWORD_AUTH sign-in (three triggers, divided).

No goal: the numbers go into the README. ``run()`` takes about 5 s.

    python benchmarks/bench_lambda.py
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):                      # run as a script: make `labkit` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "Correct-Horse-9"


def _ms(fn, times: int) -> float:
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def run() -> dict:
    from labkit import Lab
    from labkit.course.triggers import deploy_function
    from labkit.emulator.moto_patches import awslambda

    results: dict[str, float] = {}
    with Lab(seed=1) as lab:
        lam = lab.client("lambda")
        start = time.perf_counter()
        arn = deploy_function(lab, "def handler(event, context):\n    return event\n", name="echo")
        results["deploy"] = (time.perf_counter() - start) * 1000
        results["cold"] = _ms(lambda: lam.invoke(FunctionName="echo", Payload=b"{}"), 1)
        deploy_function(lab, "import boto3\ndef handler(event, context):\n    return event\n", name="echo_boto3")
        results["cold_boto3"] = _ms(lambda: lam.invoke(FunctionName="echo_boto3", Payload=b"{}"), 1)
        results["warm_invoke"] = _ms(lambda: lam.invoke(FunctionName="echo", Payload=b"{}"), 100)
        fn = awslambda.backend(lab).get_function("echo")
        results["warm_direct"] = _ms(lambda: lab.lambdas.invoke(fn, {}), 200)

        idp = lab.client("cognito-idp")

        def client_for(config: dict) -> str:
            pool_id = idp.create_user_pool(PoolName="bench", LambdaConfig=config)["UserPool"]["Id"]
            client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web",
                                                    ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH",
                                                                       "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
            idp.admin_create_user(UserPoolId=pool_id, Username="u", MessageAction="SUPPRESS")
            idp.admin_set_user_password(UserPoolId=pool_id, Username="u", Password=PASSWORD, Permanent=True)
            return client_id

        def sign_in(client_id: str):
            return lambda: idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                             AuthParameters={"USERNAME": "u", "PASSWORD": PASSWORD})

        plain = client_for({})
        three = client_for({"PreAuthentication": arn, "PostAuthentication": arn, "PreTokenGeneration": arn})
        _ms(sign_in(plain), 20), _ms(sign_in(three), 20)          # warm both paths first
        without = statistics.median(_ms(sign_in(plain), 50) for _ in range(3))
        with_three = statistics.median(_ms(sign_in(three), 50) for _ in range(3))
        results["sign_in_without_triggers"] = without
        results["sign_in_with_three_triggers"] = with_three
        results["per_trigger"] = (with_three - without) / 3
    for name, value in results.items():
        print(f"{name:>28}: {value:8.2f} ms")
    return results


if __name__ == "__main__":
    run()
