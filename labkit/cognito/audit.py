"""The pool auditor: a user pool's (or an identity pool's) sound-setup checklist, as code.

It only *reads*: every call it makes is a ``Describe*``, ``List*`` or ``Get*`` operation, and it
refuses to send anything else (a botocore ``before-call`` hook raises :class:`AuditRefusedCall`),
so a team can point it at a real account with read-only credentials::

    report = audit_user_pool(boto3.client("cognito-idp"), "eu-west-1_AbCdEf123")
    report                      # a table in Jupyter, text with print()
    report.as_json()            # for CI: {"target": ..., "findings": [{"check": ..., ...}]}
    report.exit_code            # 1 when there is a high finding, else 0

Each :class:`Finding` has ``check`` (a stable id, listed in :data:`USER_POOL_CHECKS` and
:data:`IDENTITY_POOL_CHECKS`), ``severity`` (high / medium / low), ``resource`` (the pool or the
app client or role it is about), ``detail`` (what was found), ``fix`` (what to change) and
``source`` (the AWS page that documents the setting or the recommendation).

Severities are this course's judgement, explained in each check's ``detail``: *high* when the
setting lets someone else act as a user or gain rights (an attribute a user can write that an app
trusts for authorization, an email change that takes over an account, a role any identity pool
may assume), *medium* when it weakens a defence AWS recommends (MFA optional, user-existence
errors, token revocation, threat protection), *low* for hygiene (deletion protection, the default
email sender's daily limit). A setting that is right for one app is wrong for another (self
sign-up is the point of a consumer app): read ``detail`` before you "fix" it.

Missing settings are read as Cognito's documented defaults for pools and clients created with the
API (for example ``PreventUserExistenceErrors`` is ``LEGACY`` and deletion protection is inactive
unless set).
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from .display import ShowsAsTable, Table
from .lifetimes import KINDS, token_validity_seconds

__all__ = ["Finding", "AuditReport", "AuditRefusedCall", "audit_user_pool", "audit_identity_pool",
           "USER_POOL_CHECKS", "IDENTITY_POOL_CHECKS", "SEVERITIES", "is_read_only"]

SEVERITIES = ("high", "medium", "low")

_GUIDE = "https://docs.aws.amazon.com/cognito/latest/developerguide/"
_API = "https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/"
_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide/cognito-controls.html"

#: Every user-pool check id, with the page that documents what it looks at.
USER_POOL_CHECKS: dict[str, str] = {
    "mfa-off": _GUIDE + "user-pool-settings-mfa.html",
    "weak-password-policy": _HUB,
    "user-existence-errors": _GUIDE + "cognito-user-pool-managing-errors.html",
    "self-sign-up": _GUIDE + "user-pool-security-best-practices.html",
    "writable-custom-attribute": _GUIDE + "user-pool-settings-attributes.html",
    "password-auth-flow": _GUIDE + "amazon-cognito-user-pools-authentication-flow-methods.html",
    "token-revocation-off": _GUIDE + "token-revocation.html",
    "long-lived-tokens": _GUIDE + "amazon-cognito-user-pools-using-tokens-with-identity-providers.html",
    "deletion-protection-off": _GUIDE + "user-pool-settings-deletion-protection.html",
    "unverified-attribute-update": _GUIDE + "user-pool-settings-email-phone-verification.html",
    "no-account-recovery": _GUIDE + "how-to-recover-a-user-account.html",
    "default-email-sender": _API + "API_EmailConfigurationType.html",
    "threat-protection-off": _GUIDE + "cognito-user-pool-settings-threat-protection.html",
    "client-secret-missing-for-server": _GUIDE + "user-pool-settings-client-apps.html",
    "implicit-flow": _GUIDE + "authorization-endpoint.html",
}

#: Every identity-pool check id, with the page that documents what it looks at.
IDENTITY_POOL_CHECKS: dict[str, str] = {
    "guest-access": _HUB,
    "classic-flow": _GUIDE + "authentication-flow.html",
    "broad-role": _GUIDE + "identity-pools-security-best-practices.html",
    "trust-policy-conditions": _GUIDE + "identity-pools-security-best-practices.html",
    "role-rule-on-user-attribute": _GUIDE + "role-based-access-control.html",
}

# ID-token claims a user cannot set: Cognito writes them (groups and roles only through admin calls).
_CLAIMS_USERS_CANNOT_SET = frozenset({
    "cognito:groups", "cognito:preferred_role", "cognito:roles", "sub", "iss", "aud", "amr",
    "token_use", "auth_time", "email_verified", "phone_number_verified", "identities", "origin_jti",
    "event_id", "cognito:username"})

_READ_ONLY = re.compile(r"^(Describe|List|Get)[A-Z]")
# Custom attributes whose names say an app decides access with them (CloudGoat's custom:access).
_AUTHZ_NAME = re.compile(r"role|access|admin|group|tenant|permission|privilege|plan|tier|level|scope"
                         r"|entitle|owner|account_type|is_", re.IGNORECASE)
_MARKS = {"high": "▲ high", "medium": "● medium", "low": "· low"}
_NOTE = "Each finding's .source names the AWS page; severities are judgements: read the detail."
_PASSWORD_CLASSES = ("RequireUppercase", "RequireLowercase", "RequireNumbers", "RequireSymbols")


def is_read_only(operation_name: str) -> bool:
    """True for the operations the auditor may call: ``Describe*``, ``List*``, ``Get*``."""
    return bool(_READ_ONLY.match(operation_name))


class AuditRefusedCall(RuntimeError):
    """The auditor was about to send an operation that is not Describe / List / Get."""


@dataclass(frozen=True)
class Finding:
    """One thing to look at. ``check`` is stable: filter or suppress on it in CI."""

    check: str
    severity: str
    resource: str
    detail: str
    fix: str
    source: str

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")


@dataclass
class AuditReport(ShowsAsTable):
    """What :func:`audit_user_pool` / :func:`audit_identity_pool` found, worst first.

    ``calls`` lists every operation the audit sent (all of them reads).
    """

    target: str
    findings: list[Finding] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def add(self, check: str, severity: str, resource: str, detail: str, fix: str) -> None:
        source = USER_POOL_CHECKS.get(check) or IDENTITY_POOL_CHECKS[check]
        self.findings.append(Finding(check, severity, resource, detail, fix, source))

    def sort(self) -> "AuditReport":
        self.findings.sort(key=lambda f: (SEVERITIES.index(f.severity), f.check, f.resource))
        return self

    # -- questions a team asks of a report ---------------------------------------------------------
    @property
    def checks(self) -> set[str]:
        """The ids of the checks that found something."""
        return {f.check for f in self.findings}

    def by_severity(self, severity: str) -> list[Finding]:
        return [f for f in self.findings if f.severity == severity]

    @property
    def high(self) -> list[Finding]:
        return self.by_severity("high")

    @property
    def exit_code(self) -> int:
        """1 when any finding is high (fail the build), else 0."""
        return 1 if self.high else 0

    def as_dict(self) -> dict[str, Any]:
        counts = {s: len(self.by_severity(s)) for s in SEVERITIES}
        return {"target": self.target, "counts": counts, "findings": [asdict(f) for f in self.findings]}

    def as_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.as_dict(), indent=indent)

    def _label(self, finding: Finding) -> str:
        return "user pool" if finding.resource == self.target else finding.resource

    def _title(self) -> str:
        counts = ", ".join(f"{len(self.by_severity(s))} {s}" for s in SEVERITIES)
        return f"Audit of {self.target}: {counts}"

    def table(self) -> Table:
        colours = {"high": "background:#fde2e1", "medium": "background:#fff4d6", "low": ""}
        rows = [[_MARKS[f.severity], f.check, self._label(f), f.detail, f.fix] for f in self.findings]
        if not rows:
            rows = [["", "", "", "nothing found by these checks", ""]]
        return Table(["severity", "check", "resource", "detail", "fix"], rows, title=self._title(),
                     widths=[9, 26, 20, 48, 40], code=["check"],
                     style=lambda i, col: colours.get(self.findings[i].severity, "")
                     if col == "severity" and self.findings else "",
                     note=_NOTE)

    def text(self) -> str:
        """One block per finding (a five-column table is too wide for a terminal)."""
        import textwrap
        lines = [self._title(), ""]
        for f in self.findings:
            lines.append(f"{_MARKS[f.severity]:<9} {f.check}  ({self._label(f)})")
            lines += textwrap.wrap(f.detail, 96, initial_indent="    ", subsequent_indent="    ")
            lines += textwrap.wrap("fix: " + f.fix, 96, initial_indent="    ", subsequent_indent="         ")
        if not self.findings:
            lines.append("nothing found by these checks")
        return "\n".join(lines + ["", _NOTE])

    def __repr__(self) -> str:   # a short repr in lists; the table is str() / Jupyter's view
        counts = ", ".join(f"{s}={len(self.by_severity(s))}" for s in SEVERITIES)
        return f"<AuditReport {self.target}: {counts}>"


# -- the read-only guard ---------------------------------------------------------------------------
class _ReadOnlyGuard:
    """While active, every operation sent through ``clients`` is recorded, and any that is not a
    read is refused before it leaves the machine."""

    def __init__(self, report: AuditReport, clients: Iterable[Any]) -> None:
        self.report, self.clients = report, [c for c in clients if c is not None]

    def _check(self, model, **_kwargs) -> None:
        name = model.name
        if not is_read_only(name):
            raise AuditRefusedCall(f"the auditor only reads, and refused to send {name}")
        self.report.calls.append(f"{model.metadata.get('endpointPrefix', '?')}:{name}")

    def __enter__(self) -> "_ReadOnlyGuard":
        for client in self.clients:
            client.meta.events.register("before-call", self._check, unique_id=f"labkit-audit-{id(self)}")
        return self

    def __exit__(self, *exc) -> None:
        for client in self.clients:
            client.meta.events.unregister("before-call", unique_id=f"labkit-audit-{id(self)}")


def _pages(client, operation: str, key: str, token_in: str, token_out: str, **params) -> list:
    items, token = [], None
    while True:
        response = getattr(client, operation)(**params, **({token_in: token} if token else {}))
        items.extend(response.get(key, []))
        token = response.get(token_out)
        if not token:
            return items


# -- user pools ------------------------------------------------------------------------------------
def audit_user_pool(idp, user_pool_id: str) -> AuditReport:
    """Audit one user pool and its app clients with ``idp`` (a boto3 ``cognito-idp`` client).

    Calls DescribeUserPool, GetUserPoolMfaConfig, ListUserPoolClients and DescribeUserPoolClient
    only. Returns an :class:`AuditReport`.
    """
    report = AuditReport(target=user_pool_id)
    with _ReadOnlyGuard(report, [idp]):
        pool = idp.describe_user_pool(UserPoolId=user_pool_id)["UserPool"]
        mfa = idp.get_user_pool_mfa_config(UserPoolId=user_pool_id)
        clients = _app_clients(idp, user_pool_id)
    writable_custom = _pool_checks(report, pool, mfa)
    for client in clients:
        _client_checks(report, client, writable_custom)
    return report.sort()


def _app_clients(idp, user_pool_id: str) -> list[dict]:
    """Every app client of the pool, described (ListUserPoolClients, then DescribeUserPoolClient)."""
    summaries = _pages(idp, "list_user_pool_clients", "UserPoolClients", "NextToken", "NextToken",
                       UserPoolId=user_pool_id, MaxResults=60)
    return [idp.describe_user_pool_client(UserPoolId=user_pool_id, ClientId=s["ClientId"])["UserPoolClient"]
            for s in summaries]


def _pool_checks(report: AuditReport, pool: dict, mfa: dict) -> list[str]:
    """The pool-wide checks; returns the custom attributes that are mutable (for the clients')."""
    pid = pool["Id"]
    mfa_mode = mfa.get("MfaConfiguration") or pool.get("MfaConfiguration") or "OFF"
    if mfa_mode == "OFF":
        report.add("mfa-off", "high", pid,
                   "MFA is OFF: a stolen or guessed password is all it takes to sign in as a user.",
                   "SetUserPoolMfaConfig with MfaConfiguration ON (or OPTIONAL) and "
                   "SoftwareTokenMfaConfiguration Enabled.")
    elif mfa_mode == "OPTIONAL":
        report.add("mfa-off", "low", pid,
                   "MFA is OPTIONAL: users who never enrol a second factor sign in with a password alone.",
                   "Make it ON, or nudge users to enrol (and watch how many have).")

    policy = (pool.get("Policies") or {}).get("PasswordPolicy") or {}
    length = policy.get("MinimumLength", 8)
    missing = [c.removeprefix("Require").lower() for c in _PASSWORD_CLASSES if not policy.get(c, True)]
    temp_days = policy.get("TemporaryPasswordValidityDays", 7)
    if length < 8:
        report.add("weak-password-policy", "high", pid,
                   f"Passwords may be {length} characters long (AWS Security Hub checks for at least 8).",
                   "UpdateUserPool Policies.PasswordPolicy.MinimumLength 8 or more (12+ if you drop classes).")
    elif missing and length < 12:
        report.add("weak-password-policy", "medium", pid,
                   f"Passwords need not contain: {', '.join(missing)} (minimum length {length}).",
                   "Require every character class, or a minimum length of 12 or more.")
    if temp_days > 7:
        report.add("weak-password-policy", "low", pid,
                   f"Temporary passwords stay valid for {temp_days} days (Security Hub's default limit is 7).",
                   "TemporaryPasswordValidityDays 7 or fewer.")

    if not (pool.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly", False):
        report.add("self-sign-up", "medium", pid,
                   "Anyone who has an app client id (it is in your web app's JavaScript) can call SignUp, "
                   "even if your own UI has no sign-up page.",
                   "If only administrators should create users: AdminCreateUserConfig.AllowAdminCreateUserOnly "
                   "true. If sign-up is intended: a pre sign-up trigger or WAF rules to limit it.")

    if pool.get("DeletionProtection", "INACTIVE") != "ACTIVE":
        report.add("deletion-protection-off", "low", pid,
                   "DeleteUserPool would delete every user at once; API-created pools start unprotected.",
                   "UpdateUserPool DeletionProtection ACTIVE.")

    auto_verified = set(pool.get("AutoVerifiedAttributes") or [])
    protected = set((pool.get("UserAttributeUpdateSettings") or {})
                    .get("AttributesRequireVerificationBeforeUpdate") or [])
    sign_in_names = set(pool.get("UsernameAttributes") or []) | set(pool.get("AliasAttributes") or [])
    for attribute in sorted(auto_verified - protected):
        used_to_sign_in = attribute in sign_in_names
        report.add("unverified-attribute-update", "high" if used_to_sign_in else "medium", pid,
                   f"A user can change {attribute} and the new, unverified value is live at once"
                   + (" and signs in: an account takeover path." if used_to_sign_in
                      else "; an app that trusts it (invites, SSO matching) can be fooled."),
                   f"UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate [{attribute!r}].")

    mechanisms = [m.get("Name") for m in (pool.get("AccountRecoverySetting") or {}).get("RecoveryMechanisms") or []]
    if not mechanisms:
        report.add("no-account-recovery", "medium", pid,
                   "No AccountRecoverySetting: Cognito uses its legacy rule, SMS before email, even for a "
                   "phone that is also the user's MFA factor.",
                   "AccountRecoverySetting with verified_email first (and verified_phone_number second if used).")
    elif mechanisms == ["admin_only"]:
        report.add("no-account-recovery", "low", pid,
                   "Only administrators can reset passwords: every forgotten password is a support ticket.",
                   "Intended? Keep it. Otherwise add verified_email.")

    email = pool.get("EmailConfiguration") or {}
    if email.get("EmailSendingAccount", "COGNITO_DEFAULT") == "COGNITO_DEFAULT":
        report.add("default-email-sender", "low", pid,
                   "Cognito's built-in email allows only a limited number of messages a day, below what "
                   "typical production needs; codes stop arriving when the limit is reached.",
                   "EmailConfiguration EmailSendingAccount DEVELOPER with a verified Amazon SES identity.")

    mode = (pool.get("UserPoolAddOns") or {}).get("AdvancedSecurityMode", "OFF")
    if mode != "ENFORCED":
        report.add("threat-protection-off", "medium" if mode == "OFF" else "low", pid,
                   f"Threat protection is {mode}: no adaptive authentication and no compromised-credential "
                   "checks" + (" are enforced (AUDIT only records risk)." if mode == "AUDIT" else "."),
                   "UserPoolAddOns.AdvancedSecurityMode ENFORCED (needs the Plus feature plan).")

    return [a["Name"] for a in pool.get("SchemaAttributes") or []
            if a.get("Name", "").startswith("custom:") and a.get("Mutable", True)]


def _client_checks(report: AuditReport, client: dict, mutable_custom: list[str]) -> None:
    where = f"app client {client.get('ClientName', '?')} ({client['ClientId']})"
    flows = set(client.get("ExplicitAuthFlows") or
                ["ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])  # API defaults
    oauth_flows = set(client.get("AllowedOAuthFlows") or [])
    has_secret = bool(client.get("ClientSecret"))

    if client.get("PreventUserExistenceErrors", "LEGACY") != "ENABLED":
        report.add("user-existence-errors", "medium", where,
                   "Sign-in and recovery answer UserNotFoundException for unknown users: anyone can test "
                   "which usernames or emails have accounts.",
                   "UpdateUserPoolClient PreventUserExistenceErrors ENABLED.")

    if {"ALLOW_USER_PASSWORD_AUTH", "USER_PASSWORD_AUTH"} & flows:
        report.add("password-auth-flow", "medium", where,
                   "USER_PASSWORD_AUTH sends the password itself to Cognito (over TLS); SRP proves it "
                   "without sending it. Useful for a user migration trigger, otherwise not needed.",
                   "Remove ALLOW_USER_PASSWORD_AUTH; sign in with USER_SRP_AUTH (or passwordless).")

    if not client.get("EnableTokenRevocation", True):
        report.add("token-revocation-off", "medium", where,
                   "RevokeToken is off: a stolen refresh token keeps minting tokens until it expires.",
                   "UpdateUserPoolClient EnableTokenRevocation true.")

    lifetimes = {kind: token_validity_seconds(client, kind) for kind in KINDS}
    for kind, label in (("AccessToken", "Access"), ("IdToken", "ID")):
        if lifetimes[kind] > 3600:
            report.add("long-lived-tokens", "medium", where,
                       f"{label} tokens live {lifetimes[kind] // 60} minutes; a stolen one works that long "
                       "and a revoked one still verifies in APIs that only check the signature.",
                       f"{kind}Validity 60 minutes or less (the default is 60).")
    if lifetimes["RefreshToken"] > 30 * 86400:
        report.add("long-lived-tokens", "low", where,
                   f"Refresh tokens live {lifetimes['RefreshToken'] // 86400} days.",
                   "RefreshTokenValidity 30 days or less unless the product needs longer sessions.")

    write = client.get("WriteAttributes")
    for name in mutable_custom:
        if write is not None and name not in write:
            continue
        authz = bool(_AUTHZ_NAME.search(name.removeprefix("custom:")))
        report.add("writable-custom-attribute", "high" if authz else "low", where,
                   f"Users can set {name} themselves (UpdateUserAttributes with their access token)"
                   + (": if an app or role rule decides access with it, they grant themselves that access."
                      if authz else "; fine for profile data, never for authorization."),
                   f"Leave {name} out of this client's WriteAttributes (set WriteAttributes explicitly); "
                   "set it with AdminUpdateUserAttributes from your backend.")

    # Admin flows are authorized with IAM credentials, so the client is a server's. Without a secret,
    # every public call the client allows (SignUp, ForgotPassword, InitiateAuth with its other flows)
    # is open to anyone who learns the client id; with one, each needs SECRET_HASH. (A
    # client_credentials client always has a secret: Cognito refuses one without.)
    if {"ALLOW_ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"} & flows and not has_secret:
        report.add("client-secret-missing-for-server", "medium", where,
                   "This client allows admin password auth, so a server uses it, but it has no client "
                   "secret: the public calls it also accepts (SignUp, ForgotPassword, InitiateAuth) need "
                   "nothing but the client id, which anyone can learn from an app that ships it.",
                   "Give the server its own confidential client (GenerateSecret); keep browser and mobile "
                   "apps on a separate public client.")

    if "implicit" in oauth_flows:
        report.add("implicit-flow", "medium", where,
                   "The implicit grant returns tokens in the redirect URL (browser history, logs, referrers) "
                   "and cannot use PKCE or refresh tokens.",
                   "AllowedOAuthFlows [\"code\"] with PKCE for browser and mobile apps.")


# -- identity pools --------------------------------------------------------------------------------
def audit_identity_pool(identity, iam, identity_pool_id: str, idp=None) -> AuditReport:
    """Audit an identity pool and its roles with ``identity`` (a ``cognito-identity`` client) and
    ``iam`` (an ``iam`` client). Calls DescribeIdentityPool, GetIdentityPoolRoles and IAM's
    GetRole, ListRolePolicies, GetRolePolicy, ListAttachedRolePolicies, GetPolicy, GetPolicyVersion.

    With ``idp`` (a ``cognito-idp`` client), a role-mapping rule on a user-pool attribute is checked
    against that pool's app clients (DescribeUserPool, ListUserPoolClients, DescribeUserPoolClient):
    a rule on an attribute some client lets users write is high, otherwise medium.
    """
    report = AuditReport(target=identity_pool_id)
    with _ReadOnlyGuard(report, [c for c in (identity, iam, idp) if c is not None]):
        pool = identity.describe_identity_pool(IdentityPoolId=identity_pool_id)
        answer = identity.get_identity_pool_roles(IdentityPoolId=identity_pool_id)
        roles = answer.get("Roles") or {}
        role_docs = {kind: _role_documents(iam, arn) for kind, arn in sorted(roles.items())}
        writers = {}
        for provider, mapping in sorted((answer.get("RoleMappings") or {}).items()):
            user_pool_id = _user_pool_of(provider)
            if idp is not None and user_pool_id and mapping.get("Type") == "Rules":
                writers[provider] = _attribute_writers(idp, user_pool_id)
    for provider, mapping in sorted((answer.get("RoleMappings") or {}).items()):
        _role_rule_checks(report, provider, mapping, writers.get(provider))
    if pool.get("AllowUnauthenticatedIdentities"):
        report.add("guest-access", "medium", identity_pool_id,
                   "Guest (unauthenticated) identities get AWS credentials: anyone who knows the pool id.",
                   "AllowUnauthenticatedIdentities false, unless the app needs guests; then a minimal role.")
    if pool.get("AllowClassicFlow"):
        report.add("classic-flow", "medium", identity_pool_id,
                   "The basic (classic) flow is on: clients can call AssumeRoleWithWebIdentity for any role "
                   "whose trust policy accepts the pool's token, not only the roles the pool chose, and "
                   "without the session policy Cognito adds to guest credentials in the enhanced flow.",
                   "AllowClassicFlow false; use the enhanced flow (GetId, GetCredentialsForIdentity).")
    for kind, (arn, trust, statements) in role_docs.items():
        where = f"{kind} role {arn.rsplit('/', 1)[-1]}"
        _trust_checks(report, where, identity_pool_id, trust, kind)
        for policy_name, statement in statements:
            broad = _broad(statement)
            if broad:
                report.add("broad-role", "high", where,
                           f"{policy_name} allows {broad} on any resource to every "
                           f"{'guest' if kind == 'unauthenticated' else 'signed-in user'}.",
                           "Grant only the actions the app uses, on the app's resources, with "
                           "${cognito-identity.amazonaws.com:sub} in the resource for per-user data.")
    return report.sort()


def _user_pool_of(provider: str) -> str | None:
    """``cognito-idp.<region>.amazonaws.com/<pool id>:<client id>`` → the pool id, else None."""
    match = re.match(r"^cognito-idp\.[^/]+/([\w-]+_[0-9A-Za-z]+):", provider)
    return match.group(1) if match else None


def _attribute_writers(idp, user_pool_id: str) -> dict[str, list[str]]:
    """Each attribute of the pool → the app clients through which a user can set it: its
    WriteAttributes (all attributes when the client has none listed), and for an immutable
    attribute only at sign-up, so only when self sign-up is open."""
    pool = idp.describe_user_pool(UserPoolId=user_pool_id)["UserPool"]
    self_sign_up = not (pool.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly", False)
    mutable = {a["Name"]: a.get("Mutable", True) for a in pool.get("SchemaAttributes") or []}
    writers: dict[str, list[str]] = {}
    for client in _app_clients(idp, user_pool_id):
        write = client.get("WriteAttributes")
        for name, is_mutable in mutable.items():
            if (write is None or name in write) and (is_mutable or self_sign_up):
                writers.setdefault(name, []).append(client.get("ClientName") or client["ClientId"])
    return writers


def _role_rule_checks(report: AuditReport, provider: str, mapping: dict,
                      writers: dict[str, list[str]] | None) -> None:
    """A Rules role mapping that picks a role from a claim users can set (CloudGoat's custom:access)."""
    if mapping.get("Type") != "Rules" or not _user_pool_of(provider):
        return
    for rule in (mapping.get("RulesConfiguration") or {}).get("Rules") or []:
        claim = rule.get("Claim", "")
        if claim in _CLAIMS_USERS_CANNOT_SET:
            continue
        role = str(rule.get("RoleARN", "?")).rsplit("/", 1)[-1]
        where = f"role mapping for {provider.split('/', 1)[-1]}"
        fix = ("Decide roles from groups, which only admin calls change: give the group the role and use "
               "a Token mapping (cognito:preferred_role), or a rule on cognito:groups.")
        by = (writers or {}).get(claim)
        if by:
            report.add("role-rule-on-user-attribute", "high", where,
                       f"A rule gives {role} when {claim} {rule.get('MatchType', '?')} "
                       f"{rule.get('Value', '?')!r}, and users can set {claim} themselves through "
                       f"app client {', '.join(by)} (UpdateUserAttributes or SignUp).", fix)
        else:
            report.add("role-rule-on-user-attribute", "medium", where,
                       f"A rule gives {role} when {claim} {rule.get('MatchType', '?')} "
                       f"{rule.get('Value', '?')!r}: a user attribute. "
                       + ("No app client lets users write it now, but a value written while one did "
                          "stays in the user's profile." if writers is not None else
                          "Audit with the user pool client (idp=...) to see whether users can write it."),
                       fix)


def _role_documents(iam, role_arn: str):
    name = role_arn.rsplit("/", 1)[-1]
    role = iam.get_role(RoleName=name)["Role"]
    trust = _document(role.get("AssumeRolePolicyDocument"))
    statements = []
    for policy_name in _pages(iam, "list_role_policies", "PolicyNames", "Marker", "Marker", RoleName=name):
        doc = _document(iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"])
        statements += [(policy_name, s) for s in _statements(doc)]
    for attached in _pages(iam, "list_attached_role_policies", "AttachedPolicies", "Marker", "Marker",
                           RoleName=name):
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(PolicyArn=attached["PolicyArn"],
                                         VersionId=policy["DefaultVersionId"])["PolicyVersion"]
        statements += [(attached["PolicyName"], s) for s in _statements(_document(version["Document"]))]
    return role_arn, trust, statements


def _document(doc) -> dict:
    if isinstance(doc, str):
        from urllib.parse import unquote
        doc = json.loads(unquote(doc))
    return doc or {}


def _statements(doc: dict) -> list[dict]:
    statements = doc.get("Statement") or []
    return [statements] if isinstance(statements, dict) else list(statements)


def _as_list(value) -> list:
    return [value] if isinstance(value, str) else list(value or [])


def _broad(statement: dict) -> str | None:
    """The wildcard actions an Allow statement grants on every resource, or None."""
    if statement.get("Effect") != "Allow":
        return None
    if "NotAction" in statement:
        return f"everything except {', '.join(_as_list(statement['NotAction']))}"
    resources = _as_list(statement.get("Resource")) or ["*"]
    if "*" not in resources and "NotResource" not in statement:
        return None
    wild = [a for a in _as_list(statement.get("Action")) if a == "*" or a.endswith(":*")]
    return ", ".join(wild) or None


def _trust_checks(report: AuditReport, where: str, pool_id: str, trust: dict, kind: str) -> None:
    for statement in _statements(trust):
        principal = statement.get("Principal") or {}
        federated = _as_list(principal.get("Federated")) if isinstance(principal, dict) else []
        if statement.get("Effect") != "Allow" or not any(f.startswith("cognito-identity.") for f in federated):
            continue
        keys = {key.lower(): (op, value) for op, block in (statement.get("Condition") or {}).items()
                for key, value in block.items()}
        aud = keys.get("cognito-identity.amazonaws.com:aud")
        if aud is None or not aud[0].startswith("StringEquals") or pool_id not in _as_list(aud[1]):
            report.add("trust-policy-conditions", "high", where,
                       "The trust policy does not pin cognito-identity.amazonaws.com:aud to this identity "
                       "pool with StringEquals: an identity from another pool could assume the role.",
                       f'"StringEquals": {{"cognito-identity.amazonaws.com:aud": "{pool_id}"}}.')
        if "cognito-identity.amazonaws.com:amr" not in keys:
            report.add("trust-policy-conditions", "medium", where,
                       "The trust policy has no cognito-identity.amazonaws.com:amr condition: guests and "
                       "signed-in users alike can assume it.",
                       f'"ForAnyValue:StringLike": {{"cognito-identity.amazonaws.com:amr": "{kind}"}}.')
