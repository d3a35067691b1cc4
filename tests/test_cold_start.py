"""What the first cell of a lesson pays for: only what it uses (timings live in benchmarks/)."""
import json
import subprocess
import sys

SCRIPT = r"""
import json, sys
import labkit
with labkit.Lab(seed=1) as lab:
    idp = lab.client("cognito-idp")
    pool = idp.create_user_pool(PoolName="p")["UserPool"]["Id"]
    user_pools_only = sorted(m for m in ("moto.cognitoidentity.models", "moto.dynamodb.models",
                                         "labkit.emulator.identity_pools", "labkit.emulator.iam")
                             if m in sys.modules)
    lab.client("cognito-identity").list_identity_pools(MaxResults=5)
    after_identity_call = "labkit.emulator.identity_pools" in sys.modules and lab.identity_pools is not None
print(json.dumps({"user_pools_only": user_pools_only, "after_identity_call": after_identity_call}))
"""


def test_a_user_pool_lesson_does_not_load_the_identity_pool_emulator():
    """Identity pools (the lab's model, its IAM evaluator, moto's cognito-identity and DynamoDB
    models) load on the first request that needs them, so a lesson about user pools starts
    without them. (moto itself loads its S3 and STS models on the first request of any service.)"""
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"user_pools_only": [], "after_identity_call": True}


def test_lab_clients_share_one_botocore_session_across_labs():
    """Every lab client in a process reads botocore's data files (endpoints, service models)
    through one session and moto's own loader: each file is parsed once per process."""
    from moto.core.base_backend import AccountSpecificBackend

    from labkit import Lab
    from labkit import lab as lab_module

    with Lab():
        first = lab_module._shared_botocore_session()
    with Lab():
        second = lab_module._shared_botocore_session()
    assert first is second
    moto_loader = AccountSpecificBackend.get_session()._session.get_component("data_loader")
    assert first.get_component("data_loader") is moto_loader


def test_importing_labkit_does_not_load_the_pool_auditor():
    """The auditor loads when first asked for (labkit.audit_user_pool), not in a lesson's first cell."""
    import subprocess
    import sys as _sys

    code = ("import sys, labkit; loaded = 'labkit.cognito.audit' in sys.modules; "
            "labkit.audit_user_pool; print(loaded, 'labkit.cognito.audit' in sys.modules)")
    out = subprocess.run([_sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
