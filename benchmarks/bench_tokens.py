"""How fast is CognitoVerifier? Verifications per second of one lab access token, three ways.

* ``cached``      CognitoVerifier with its JWKS cache warm (what a real API does);
* ``fetch_every`` CognitoVerifier fetching the JWKS over HTTP for every token (``cache_jwks=False``),
                  from the lab's JWKS URL: what forgetting the cache costs;
* ``bare_pyjwt``  ``jwt.decode(token, key, algorithms=["RS256"])`` with the key already in hand:
                  the floor, signature check plus PyJWT's own claim checks and nothing Cognito-specific.

Goals: cached >= 80 % of bare PyJWT, and >= 10x fetch-every-time. ``run()`` takes about 10 s.

    python benchmarks/bench_tokens.py
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Callable

if __package__ in (None, ""):                      # run as a script: make `labkit` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GOAL_VS_BARE = 0.80
GOAL_VS_FETCH = 10.0


def _rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``fn`` over about ``seconds``."""
    calls, start = 0, time.perf_counter()
    while True:
        for _ in range(50):
            fn()
        calls += 50
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls / elapsed


def _interleaved(candidates: dict[str, Callable[[], object]], rounds: int, seconds: float) -> dict[str, float]:
    """Median rate of each candidate, measured in alternation so drift hits them all alike."""
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            samples[name].append(_rate(fn, seconds))
    return {name: statistics.median(values) for name, values in samples.items()}


def run(*, rounds: int = 5, seconds: float = 0.5) -> dict:
    """Measure and print; returns the rates (verifications/s), ratios and whether goals are met."""
    import jwt

    from labkit import Lab
    from labkit.cognito.jwt import CognitoVerifier
    from labkit.cognito.session import sign_in_password

    password = "Correct-Horse-9"
    with Lab(seed=1) as lab:
        idp = lab.client("cognito-idp")
        pool_id = idp.create_user_pool(PoolName="bench")["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="bench", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
        )["UserPoolClient"]["ClientId"]
        idp.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS")
        idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password=password, Permanent=True)
        token = sign_in_password(idp, client_id, "alice", password)["AccessToken"]

        cached = CognitoVerifier.for_lab(lab, pool_id, client_id)
        fetching = CognitoVerifier.for_lab(lab, pool_id, client_id, cache_jwks=False)
        kid = jwt.get_unverified_header(token)["kid"]
        key = next(jwt.PyJWK(k).key for k in lab.user_pool_jwks(pool_id)["keys"] if k["kid"] == kid)

        def bare() -> dict:
            return jwt.decode(token, key, algorithms=["RS256"])

        for check in (lambda: cached.verify(token), lambda: fetching.verify(token), bare):
            assert check()["username"] == "alice"        # all three accept it (and are warm)

        rates = _interleaved({"bare_pyjwt": bare, "cached": lambda: cached.verify(token),
                              "fetch_every": lambda: fetching.verify(token)}, rounds, seconds)
        fetches = fetching.jwks_fetches

    result = {
        "verifications_per_second": {name: round(value, 1) for name, value in rates.items()},
        "cached_vs_bare": round(rates["cached"] / rates["bare_pyjwt"], 3),
        "cached_vs_fetch_every": round(rates["cached"] / rates["fetch_every"], 1),
        "jwks_fetches_in_fetch_every_run": fetches,
    }
    result["goals_met"] = (result["cached_vs_bare"] >= GOAL_VS_BARE
                           and result["cached_vs_fetch_every"] >= GOAL_VS_FETCH)
    per = result["verifications_per_second"]
    print("CognitoVerifier, one lab access token (verifications/second, median of rounds)")
    print(f"  bare PyJWT RS256 decode : {per['bare_pyjwt']:>10,.0f}")
    print(f"  cached JWKS             : {per['cached']:>10,.0f}   "
          f"{result['cached_vs_bare']:.0%} of bare PyJWT (goal >= {GOAL_VS_BARE:.0%})")
    print(f"  JWKS fetched every time : {per['fetch_every']:>10,.0f}   "
          f"cached is {result['cached_vs_fetch_every']:.1f}x faster (goal >= {GOAL_VS_FETCH:.0f}x)")
    print("  goals met" if result["goals_met"] else "  GOALS NOT MET")
    return result


if __name__ == "__main__":
    run()
