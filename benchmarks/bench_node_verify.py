"""Does aws-jwt-verify (Node) agree with CognitoVerifier? Lesson 10's Node verifier, run for real.

Lesson 10 shows ``api_security.node_verifier_source(...)`` as text: the notebook must run offline
and without Node. This script runs that very module with Node against an https lab
(``Lab(https=True)``: aws-jwt-verify refuses http JWKS URLs) and checks, token by token, that
aws-jwt-verify and :class:`labkit.cognito.jwt.CognitoVerifier` give the same verdict and the same
error (each labkit error names its aws-jwt-verify twin in ``aws_jwt_verify``). It also times one
``node verify.mjs`` run (start-up, JWKS fetch, verification).

It needs Node.js and the npm package, installed outside the repository::

    mkdir -p /tmp/ajv && (cd /tmp/ajv && npm install aws-jwt-verify@5)
    AWS_JWT_VERIFY_DIR=/tmp/ajv python benchmarks/bench_node_verify.py

Without them it says what is missing and does nothing else.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):                      # run as a script: make `labkit` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _package_dir() -> Path | None:
    where = os.environ.get("AWS_JWT_VERIFY_DIR")
    if where and (Path(where) / "node_modules" / "aws-jwt-verify").is_dir():
        return Path(where)
    return None


def run(*, repeats: int = 3) -> dict:
    """Run the comparison and print it; returns the verdicts and timings (or why it was skipped)."""
    node, package = shutil.which("node"), _package_dir()
    if node is None or package is None:
        reason = "node is not on PATH" if node is None else \
            "set AWS_JWT_VERIFY_DIR to a directory where `npm install aws-jwt-verify@5` ran"
        print(f"skipped: {reason} (see this module's docstring)")
        return {"skipped": reason}

    from labkit import Lab
    from labkit.cognito.jwt import CognitoVerifier, JwtVerificationError
    from labkit.cognito.session import sign_in_password
    from labkit.course import api_security, forgeries

    password = "Correct-Horse-9"
    results: dict = {"cases": {}}
    with Lab(seed=10, https=True) as lab, tempfile.TemporaryDirectory() as work:
        idp = lab.client("cognito-idp")
        pool_id = idp.create_user_pool(PoolName="node")["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=[
            "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
        idp.create_group(UserPoolId=pool_id, GroupName="admin")
        for name in ("root", "alice"):
            idp.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS")
            idp.admin_set_user_password(UserPoolId=pool_id, Username=name, Password=password, Permanent=True)
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username="root", GroupName="admin")
        root = sign_in_password(idp, client_id, "root", password)
        alice = sign_in_password(idp, client_id, "alice", password)
        cases = {
            "root's access token": root["AccessToken"],
            "alice's access token (not in admin)": alice["AccessToken"],
            "root's ID token": root["IdToken"],
            "a tampered access token": forgeries.tamper(alice["AccessToken"], {"cognito:groups": ["admin"]}),
        }
        script = Path(work) / "verify.mjs"
        script.write_text(api_security.node_verifier_source(pool_id, client_id, groups=["admin"],
                                                            jwks_uri=lab.jwks_url(pool_id)))
        env = {**os.environ, "NODE_EXTRA_CA_CERTS": lab.ca_bundle, "NODE_PATH": str(package / "node_modules")}
        # ES modules ignore NODE_PATH: link the package next to the script instead.
        (Path(work) / "node_modules").symlink_to(package / "node_modules", target_is_directory=True)
        python = CognitoVerifier.for_lab(lab, pool_id, client_id, groups=["admin"])
        # A second module requiring a custom scope, for a client-credentials token and a user's token.
        api = "https://photos.example.com"
        idp.create_resource_server(UserPoolId=pool_id, Identifier=api, Name="photos",
                                   Scopes=[{"ScopeName": "read", "ScopeDescription": "read"}])
        idp.create_user_pool_domain(UserPoolId=pool_id, Domain="node-lab")
        job = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="job", GenerateSecret=True,
                                          AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["client_credentials"],
                                          AllowedOAuthScopes=[f"{api}/read"])["UserPoolClient"]
        job_token = api_security.client_credentials_token(lab, "node-lab", job["ClientId"], job["ClientSecret"])
        scoped = Path(work) / "verify_scope.mjs"
        scoped.write_text(api_security.node_verifier_source(pool_id, [client_id, job["ClientId"]], scope=f"{api}/read",
                                                            jwks_uri=lab.jwks_url(pool_id)))
        scoped_python = CognitoVerifier.for_lab(lab, pool_id, [client_id, job["ClientId"]], scopes=[f"{api}/read"])
        runs = [(label, token, script, python) for label, token in cases.items()] + [
            ("the job's client-credentials token (scope read)", job_token["access_token"], scoped, scoped_python),
            ("root's access token, scope read required", root["AccessToken"], scoped, scoped_python)]
        agree = True
        for label, token, script_path, verifier in runs:
            started = time.perf_counter()
            out = subprocess.run([node, str(script_path), token], capture_output=True, text=True, env=env,
                                 timeout=60, cwd=work)
            seconds = time.perf_counter() - started
            node_says = (out.stdout.strip() or out.stderr.strip()).splitlines()[-1]
            try:
                verifier.verify(token)
                python_says = "valid"
            except JwtVerificationError as error:
                python_says = error.aws_jwt_verify
            same = (node_says.startswith("valid") and python_says == "valid") or \
                (node_says.startswith("rejected:") and node_says.split()[1] == python_says)
            agree &= same
            results["cases"][label] = {"node": node_says, "python": python_says, "agree": same,
                                       "seconds": round(seconds, 3)}
            print(f"{'✓' if same else '✗'} {label:48} node: {node_says[:60]:60} python: {python_says}")
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            subprocess.run([node, str(script), root["AccessToken"]], capture_output=True, env=env, timeout=60, cwd=work)
            times.append(time.perf_counter() - started)
        results["node_run_seconds_median"] = round(statistics.median(times), 3)
        results["agree"] = agree
        print(f"one `node verify.mjs` run (start, JWKS fetch, verify): median {results['node_run_seconds_median']} s "
              f"over {repeats}; verdicts {'agree' if agree else 'DISAGREE'}")
    return results


def main(argv: list[str] | None = None) -> int:
    result = run()
    return 0 if result.get("skipped") or result.get("agree") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
