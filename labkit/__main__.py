"""``python -m labkit serve [--port N] [--seed N] [--https]``: run a lab standalone until Ctrl-C."""
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
    args = parser.parse_args(argv)

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
