"""The pool auditor (labkit.audit_user_pool / audit_identity_pool): each check id both ways, a
hardened pool with no high finding, and proof that it never sends a mutating call."""
import copy
import json

import pytest

from labkit import Lab
from labkit.__main__ import main as labkit_main
from labkit.cognito.audit import (IDENTITY_POOL_CHECKS, USER_POOL_CHECKS, AuditRefusedCall, Finding,
                                  audit_identity_pool, audit_user_pool, is_read_only)


@pytest.fixture(scope="module")
def lab():
    with Lab(seed=11) as lab:
        yield lab


# A pool set up as the developer guide recommends. Each case below weakens one setting.
HARDENED_POOL = dict(
    PoolName="hardened",
    Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireUppercase": True, "RequireLowercase": True,
                                 "RequireNumbers": True, "RequireSymbols": True,
                                 "TemporaryPasswordValidityDays": 3}},
    AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
    DeletionProtection="ACTIVE",
    UsernameAttributes=["email"],
    AutoVerifiedAttributes=["email"],
    UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]},
    AccountRecoverySetting={"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]},
    EmailConfiguration={"EmailSendingAccount": "DEVELOPER",
                        "SourceArn": "arn:aws:ses:us-east-1:123456789012:identity/example.com"},
    UserPoolTier="PLUS",                       # threat protection (UserPoolAddOns) needs the Plus plan
    UserPoolAddOns={"AdvancedSecurityMode": "ENFORCED"},
    Schema=[{"Name": "access", "AttributeDataType": "String", "Mutable": True},
            {"Name": "nickname2", "AttributeDataType": "String", "Mutable": True}],
)
HARDENED_CLIENT = dict(
    ClientName="web",
    ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    PreventUserExistenceErrors="ENABLED",
    EnableTokenRevocation=True,
    WriteAttributes=["email", "name"],
    AccessTokenValidity=15, IdTokenValidity=15, RefreshTokenValidity=7,
    TokenValidityUnits={"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"},
)


def build(lab, pool_changes=None, client_changes=None, mfa="ON"):
    idp = lab.client("cognito-idp")
    pool_kwargs, client_kwargs = copy.deepcopy(HARDENED_POOL), copy.deepcopy(HARDENED_CLIENT)
    for key, value in (pool_changes or {}).items():
        if value is None:
            pool_kwargs.pop(key, None)
        else:
            pool_kwargs[key] = value
    for key, value in (client_changes or {}).items():
        if value is None:
            client_kwargs.pop(key, None)
        else:
            client_kwargs[key] = value
    pool_id = idp.create_user_pool(**pool_kwargs)["UserPool"]["Id"]
    idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration=mfa,
                                 SoftwareTokenMfaConfiguration={"Enabled": mfa != "OFF"})
    idp.create_user_pool_client(UserPoolId=pool_id, **client_kwargs)
    return idp, pool_id


def test_a_hardened_pool_has_no_high_or_medium_finding(lab):
    """The sound setup (MFA on, strong policy, admin-only creation, SRP only, user-existence errors
    prevented, revocation on, short tokens, deletion protection, verify-before-update, email
    recovery, SES, threat protection enforced, custom attributes not writable) passes the audit."""
    idp, pool_id = build(lab)
    report = audit_user_pool(idp, pool_id)
    assert report.high == [] and report.by_severity("medium") == [], report.text()
    assert report.exit_code == 0


UNSAFE = [   # (check id, severity, pool changes, client changes, mfa)
    ("mfa-off", "high", {}, {}, "OFF"),
    ("mfa-off", "low", {}, {}, "OPTIONAL"),
    ("weak-password-policy", "high", {"Policies": {"PasswordPolicy": {"MinimumLength": 6}}}, {}, "ON"),
    ("weak-password-policy", "medium",
     {"Policies": {"PasswordPolicy": {"MinimumLength": 8, "RequireSymbols": False}}}, {}, "ON"),
    ("user-existence-errors", "medium", {}, {"PreventUserExistenceErrors": None}, "ON"),
    ("self-sign-up", "medium", {"AdminCreateUserConfig": None}, {}, "ON"),
    ("writable-custom-attribute", "high", {}, {"WriteAttributes": ["email", "custom:access"]}, "ON"),
    ("writable-custom-attribute", "low", {}, {"WriteAttributes": ["custom:nickname2"]}, "ON"),
    ("password-auth-flow", "medium", {},
     {"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}, "ON"),
    ("token-revocation-off", "medium", {}, {"EnableTokenRevocation": False}, "ON"),
    ("long-lived-tokens", "medium", {}, {"AccessTokenValidity": 24 * 60}, "ON"),
    ("long-lived-tokens", "low", {}, {"RefreshTokenValidity": 3650}, "ON"),
    ("deletion-protection-off", "low", {"DeletionProtection": None}, {}, "ON"),
    ("unverified-attribute-update", "high", {"UserAttributeUpdateSettings": None}, {}, "ON"),
    ("no-account-recovery", "medium", {"AccountRecoverySetting": None}, {}, "ON"),
    ("no-account-recovery", "low",
     {"AccountRecoverySetting": {"RecoveryMechanisms": [{"Priority": 1, "Name": "admin_only"}]}}, {}, "ON"),
    ("default-email-sender", "low", {"EmailConfiguration": None}, {}, "ON"),
    ("threat-protection-off", "medium", {"UserPoolAddOns": None}, {}, "ON"),
    ("threat-protection-off", "low", {"UserPoolAddOns": {"AdvancedSecurityMode": "AUDIT"}}, {}, "ON"),
    ("client-secret-missing-for-server", "medium", {},
     {"ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}, "ON"),
    ("implicit-flow", "medium", {},
     {"AllowedOAuthFlows": ["implicit"], "AllowedOAuthScopes": ["openid"], "AllowedOAuthFlowsUserPoolClient": True,
      "CallbackURLs": ["https://app.example.com/cb"], "SupportedIdentityProviders": ["COGNITO"]}, "ON"),
]


@pytest.mark.parametrize("check, severity, pool_changes, client_changes, mfa", UNSAFE,
                         ids=[f"{c[0]}-{c[1]}" for c in UNSAFE])
def test_each_user_pool_check_finds_its_weakness(lab, check, severity, pool_changes, client_changes, mfa):
    """One weakened setting gives its check id, at its severity, with a fix and a source page."""
    idp, pool_id = build(lab, pool_changes, client_changes, mfa)
    report = audit_user_pool(idp, pool_id)
    found = [f for f in report.findings if f.check == check]
    assert [f.severity for f in found] == [severity], report.text()
    assert found[0].fix and found[0].source.startswith("https://docs.aws.amazon.com/")
    assert report.exit_code == (1 if severity == "high" else 0)


def test_every_user_pool_check_id_is_exercised_both_ways():
    """The table above covers every check the auditor documents (and nothing it does not)."""
    assert {case[0] for case in UNSAFE} == set(USER_POOL_CHECKS)


def test_a_secret_client_for_server_flows_is_not_flagged(lab):
    """A confidential client (GenerateSecret) may use admin password auth without that finding."""
    idp, pool_id = build(lab, client_changes={
        "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"], "GenerateSecret": True})
    assert "client-secret-missing-for-server" not in audit_user_pool(idp, pool_id).checks


def test_the_cloudgoat_escalation_is_found_and_the_fix_clears_it(lab):
    """custom:access writable by the app client → high; after UpdateUserPoolClient with explicit
    WriteAttributes that leave it out, the finding is gone (and the user can no longer write it)."""
    idp, pool_id = build(lab, client_changes={"WriteAttributes": None})
    client = idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=10)["UserPoolClients"][0]
    assert "writable-custom-attribute" in {f.check for f in audit_user_pool(idp, pool_id).high}
    idp.update_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"],
                                **{**HARDENED_CLIENT, "WriteAttributes": ["email", "name"]})
    assert "writable-custom-attribute" not in audit_user_pool(idp, pool_id).checks


def test_the_auditor_sends_only_reads_and_refuses_anything_else(lab):
    """Every operation recorded on the client's own event hook is Describe/List/Get, and the guard
    refuses a write before it is sent."""
    idp, pool_id = build(lab, client_changes={"WriteAttributes": None})
    sent = []
    idp.meta.events.register("before-call", lambda model, **_: sent.append(model.name), unique_id="t-audit")
    try:
        report = audit_user_pool(idp, pool_id)
    finally:
        idp.meta.events.unregister("before-call", unique_id="t-audit")
    assert sent and all(is_read_only(name) for name in sent), sent
    assert [c.split(":")[1] for c in report.calls] == sent

    from labkit.cognito.audit import AuditReport, _ReadOnlyGuard
    with _ReadOnlyGuard(AuditReport("x"), [idp]), pytest.raises(AuditRefusedCall, match="DeleteUserPool"):
        idp.delete_user_pool(UserPoolId=pool_id)
    assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Id"] == pool_id


def test_a_report_reads_as_text_html_and_json(lab):
    """Text for a terminal (each finding with its fix), HTML for Jupyter, JSON with the stable fields."""
    idp, pool_id = build(lab, client_changes={"WriteAttributes": None}, mfa="OFF")
    report = audit_user_pool(idp, pool_id)
    text = report.text()
    assert text.splitlines()[0].startswith(f"Audit of {pool_id}: 2 high")
    assert "fix: " in text and max(len(line) for line in text.splitlines()) <= 110
    assert "<table" in report._repr_html_() and "writable-custom-attribute" in report._repr_html_()
    data = json.loads(report.as_json())
    assert data["counts"]["high"] == 2
    assert set(data["findings"][0]) == {"check", "severity", "resource", "detail", "fix", "source"}
    assert repr(report).startswith("<AuditReport ") and "high=2" in repr(report)
    with pytest.raises(ValueError, match="severity"):
        Finding("x", "critical", "r", "d", "f", "s")


# -- identity pools ----------------------------------------------------------------------------------
def _trust(pool_id, *, aud=True, amr="authenticated"):
    condition = {}
    if aud:
        condition["StringEquals"] = {"cognito-identity.amazonaws.com:aud": pool_id}
    if amr:
        condition["ForAnyValue:StringLike"] = {"cognito-identity.amazonaws.com:amr": amr}
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
        "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}]})


def _identity_pool(lab, name, *, guests=False, classic=False, trust=None, actions=("s3:GetObject",),
                   resource="arn:aws:s3:::app-bucket/${cognito-identity.amazonaws.com:sub}/*", attach=False):
    identity, iam = lab.client("cognito-identity"), lab.client("iam")
    pool_id = identity.create_identity_pool(IdentityPoolName=name, AllowUnauthenticatedIdentities=guests,
                                            AllowClassicFlow=classic)["IdentityPoolId"]
    role = iam.create_role(RoleName=f"{name}-auth", AssumeRolePolicyDocument=(trust or _trust)(pool_id))["Role"]
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": list(actions), "Resource": resource}]})
    if attach:
        arn = iam.create_policy(PolicyName=f"{name}-managed", PolicyDocument=policy)["Policy"]["Arn"]
        iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
    else:
        iam.put_role_policy(RoleName=role["RoleName"], PolicyName="app", PolicyDocument=policy)
    identity.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": role["Arn"]})
    return identity, iam, pool_id


def test_a_least_privilege_identity_pool_has_no_finding(lab):
    """No guests, enhanced flow only, a role pinned to the pool and to authenticated identities,
    rights on the caller's own prefix only."""
    identity, iam, pool_id = _identity_pool(lab, "tidy")
    report = audit_identity_pool(identity, iam, pool_id)
    assert report.findings == [], report.text()


IDENTITY_UNSAFE = [   # (check, severity, keyword arguments of _identity_pool)
    ("guest-access", "medium", {"guests": True}),
    ("classic-flow", "medium", {"classic": True}),
    ("broad-role", "high", {"actions": ("s3:*",), "resource": "*"}),
    ("broad-role", "high", {"actions": ("*",), "resource": "*", "attach": True}),
    ("trust-policy-conditions", "high", {"trust": lambda pool_id: _trust(pool_id, aud=False)}),
    ("trust-policy-conditions", "medium", {"trust": lambda pool_id: _trust(pool_id, amr=None)}),
]


@pytest.mark.parametrize("check, severity, kwargs", IDENTITY_UNSAFE,
                         ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(IDENTITY_UNSAFE)])
def test_each_identity_pool_check_finds_its_weakness(lab, check, severity, kwargs):
    """Guests allowed, the classic flow, a wildcard role (inline or attached) and a trust policy
    without aud (another pool's identities) or amr (guests too) are each reported."""
    name = f"weak-{check}-{severity}-{IDENTITY_UNSAFE.index((check, severity, kwargs))}"
    identity, iam, pool_id = _identity_pool(lab, name, **kwargs)
    report = audit_identity_pool(identity, iam, pool_id)
    assert [f.severity for f in report.findings if f.check == check] == [severity], report.text()
    assert {c.split(":")[1] for c in report.calls} <= {
        "DescribeIdentityPool", "GetIdentityPoolRoles", "GetRole", "ListRolePolicies", "GetRolePolicy",
        "ListAttachedRolePolicies", "GetPolicy", "GetPolicyVersion"}


def test_every_identity_pool_check_id_is_exercised():
    # role-rule-on-user-attribute needs a user pool and its clients: its own tests, below.
    assert {case[0] for case in IDENTITY_UNSAFE} | {"role-rule-on-user-attribute"} == set(IDENTITY_POOL_CHECKS)


# -- the command line ------------------------------------------------------------------------------
def test_the_command_line_exits_non_zero_on_a_high_finding(lab, capsys):
    """`python -m labkit audit --pool ID --endpoint-url URL` prints the report (or JSON) and exits 1
    when a finding is high, 0 otherwise, so a team can put it in CI."""
    _, weak = build(lab, mfa="OFF")
    _, strong = build(lab)
    common = ["--endpoint-url", lab.endpoint_url, "--region", lab.region]
    assert labkit_main(["audit", "--pool", weak, *common]) == 1
    assert "mfa-off" in capsys.readouterr().out
    assert labkit_main(["audit", "--pool", strong, "--json", *common]) == 0
    assert json.loads(capsys.readouterr().out)[0]["counts"]["high"] == 0
    assert labkit_main(["audit", "--pool", "us-east-1_Missing", *common]) == 2
    assert "ResourceNotFoundException" in capsys.readouterr().err


# -- role mapping rules on user attributes (CloudGoat's custom:access) ------------------------------
def _role_rule_findings(app, with_idp=True):
    lab = app.lab
    report = audit_identity_pool(lab.client("cognito-identity"), lab.client("iam"), app.ids.id,
                                 idp=lab.client("cognito-idp") if with_idp else None)
    return [f for f in report.findings if f.check == "role-rule-on-user-attribute"], report


def test_a_role_rule_on_a_user_writable_attribute_is_high_until_roles_come_from_groups(lab):
    """CloudGoat's mapping (custom:access equals admin -> admin role) with a client that writes
    custom:access: high, naming the client. Closing WriteAttributes leaves it medium (a value written
    before stays; lesson 11 shows it); a Token mapping from groups clears it."""
    from labkit.course import mistakes as M
    app = M.cloudgoat_app(lab)
    found, report = _role_rule_findings(app)
    assert [f.severity for f in found] == ["high"], report.text()
    assert "custom:access" in found[0].detail and "portal" in found[0].detail
    assert {c.split(":")[1] for c in report.calls} <= {
        "DescribeIdentityPool", "GetIdentityPoolRoles", "GetRole", "ListRolePolicies", "GetRolePolicy",
        "ListAttachedRolePolicies", "GetPolicy", "GetPolicyVersion", "DescribeUserPool",
        "ListUserPoolClients", "DescribeUserPoolClient"}

    M.set_write_attributes(app, ["email", "name"])
    found, report = _role_rule_findings(app)
    assert [f.severity for f in found] == ["medium"], report.text()
    assert "stays" in found[0].detail

    M.map_roles_by_group(app)
    found, report = _role_rule_findings(app)
    assert found == [], report.text()


def test_without_the_user_pool_client_a_role_rule_on_an_attribute_is_medium(lab):
    from labkit.course import mistakes as M
    app = M.cloudgoat_app(lab)
    found, report = _role_rule_findings(app, with_idp=False)
    assert [f.severity for f in found] == ["medium"], report.text()
    assert "idp=" in found[0].detail


def test_a_role_rule_on_cognito_groups_is_not_flagged(lab):
    from labkit.course import mistakes as M
    app = M.cloudgoat_app(lab)
    ci = lab.client("cognito-identity")
    roles = ci.get_identity_pool_roles(IdentityPoolId=app.ids.id)["Roles"]
    ci.set_identity_pool_roles(IdentityPoolId=app.ids.id, Roles=roles, RoleMappings={
        app.ids.role_mapping_key: {"Type": "Rules", "AmbiguousRoleResolution": "AuthenticatedRole",
                                   "RulesConfiguration": {"Rules": [{
                                       "Claim": "cognito:groups", "MatchType": "Contains",
                                       "Value": "admins", "RoleARN": app.admin_role}]}}})
    found, report = _role_rule_findings(app)
    assert found == [], report.text()


def test_the_command_line_reads_role_rules_with_the_user_pool(lab, capsys):
    from labkit.course import mistakes as M
    app = M.cloudgoat_app(lab)
    assert labkit_main(["audit", "--identity-pool", app.ids.id, "--endpoint-url", lab.endpoint_url,
                        "--region", lab.region]) == 1
    assert "role-rule-on-user-attribute" in capsys.readouterr().out
