"""``python -m labkit serve [--port N] [--seed N] [--https]``: run a lab standalone until Ctrl-C.

``python -m labkit audit --pool ID [--identity-pool ID] [--endpoint-url URL] [--region R] [--json]``:
audit user pools and identity pools with read-only calls (see :mod:`labkit.cognito.audit`); the
exit status is 1 when a finding is high, 2 when the audit could not run, else 0. Without
``--endpoint-url`` it uses your AWS credentials and region like the AWS CLI does.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading

from .lab import ADMIN_ACCESS_KEY_ID, ADMIN_SECRET_ACCESS_KEY, Lab, LabError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run a lab on 127.0.0.1 until interrupted")
    serve.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    serve.add_argument("--seed", type=int, default=None, help="make codes and ids reproducible")
    serve.add_argument("--https", action="store_true",
                       help="serve TLS with a throwaway CA (its certificate's path is printed)")
    audit = sub.add_parser("audit", help="audit user pools / identity pools (read-only calls)")
    audit.add_argument("--pool", action="append", default=[], metavar="USER_POOL_ID")
    audit.add_argument("--identity-pool", action="append", default=[], metavar="IDENTITY_POOL_ID")
    audit.add_argument("--endpoint-url", help="a lab's endpoint (default: AWS)")
    audit.add_argument("--region", help="default: the pool id's region prefix, else your AWS config")
    audit.add_argument("--json", action="store_true", help="print JSON (a list of reports)")
    args = parser.parse_args(argv)
    if args.command == "audit":
        return _audit(args, parser)
    return _serve(args)


def _audit(args, parser) -> int:
    import json

    import boto3
    import botocore.exceptions

    from .cognito.audit import audit_identity_pool, audit_user_pool

    if not args.pool and not args.identity_pool:
        parser.error("audit needs --pool and/or --identity-pool")
    first = (args.pool + args.identity_pool)[0]
    region = args.region or first.split("_")[0].split(":")[0]
    session = boto3.session.Session(region_name=region)
    keys = {}
    if args.endpoint_url and session.get_credentials() is None:     # a lab: its fake admin keys
        keys = dict(aws_access_key_id=ADMIN_ACCESS_KEY_ID, aws_secret_access_key=ADMIN_SECRET_ACCESS_KEY)
    client = lambda name: session.client(name, endpoint_url=args.endpoint_url, **keys)  # noqa: E731
    reports = []
    try:
        for pool_id in args.pool:
            reports.append(audit_user_pool(client("cognito-idp"), pool_id))
        for pool_id in args.identity_pool:
            # With cognito-idp too: a role rule on an attribute is checked against the pool's clients.
            reports.append(audit_identity_pool(client("cognito-identity"), client("iam"), pool_id,
                                               idp=client("cognito-idp")))
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        print(f"python -m labkit audit: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([r.as_dict() for r in reports], indent=2))
    else:
        print("\n\n".join(r.text() for r in reports))
    return max(r.exit_code for r in reports)


def _serve(args) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        lab = Lab(seed=args.seed, port=args.port, https=args.https).start()
    except LabError as exc:
        print(f"python -m labkit serve: {exc}", file=sys.stderr)
        return 2
    with lab:
        print(f"Cognito lab running at {lab.endpoint_url} (region {lab.region}). Ctrl-C stops it.")
        if lab.ca_bundle:
            print(f"TLS: trust {lab.ca_bundle} (AWS CLI: --ca-bundle; Node: NODE_EXTRA_CA_CERTS; "
                  "curl: --cacert). It is deleted when the lab stops.")
        print("Try it with the AWS CLI (fake keys: the lab never reaches AWS):\n")
        print(f"  AWS_ACCESS_KEY_ID={ADMIN_ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY={ADMIN_SECRET_ACCESS_KEY} \\\n"
              f"  aws --endpoint-url {lab.endpoint_url} --region {lab.region} \\\n"
              f"      cognito-idp create-user-pool --pool-name demo\n")
        print(f"JWKS of a pool: {lab.endpoint_url}/<pool id>/.well-known/jwks.json", flush=True)
        while not stop.wait(0.2):
            pass
    print("Lab stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
