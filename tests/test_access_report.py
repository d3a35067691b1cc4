"""labkit.access_report: the who-may-do-what matrix of lesson 06.

Most tests use fake boto3 clients (fast, exact); the last ones run against a real lab with an
identity pool, a private S3 prefix per user, an over-broad guest role and its fix.
"""
from types import SimpleNamespace

import botocore.exceptions
import pytest

from labkit import Lab
from labkit.course import setups
from labkit.course.access_report import (AccessReport, Outcome, Probe, access_report, action_for, run_probe)
from labkit.course.userpool import create_user_pool


def client_error(code, message="nope", operation="GetObject"):
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": message}}, operation)


class FakeClient:
    """A boto3-like client whose operations answer from ``rules``: (principal, operation, params) -> result."""

    def __init__(self, principal, rules, calls):
        self.principal, self.rules, self.calls = principal, rules, calls

    def __getattr__(self, operation):
        def call(**params):
            self.calls.append((self.principal, operation, params))
            answer = self.rules(self.principal, operation, params)
            if isinstance(answer, BaseException):
                raise answer
            return answer
        return call


class FakeLab:
    def __init__(self, rules):
        self.rules, self.calls, self.made = rules, [], []

    def client(self, service, *, credentials):
        self.made.append((service, credentials["AccessKeyId"]))
        return FakeClient(credentials["AccessKeyId"], self.rules, self.calls)


CREDS = {name: {"AccessKeyId": f"ASIA{name.upper()}", "SecretKey": "s", "SessionToken": "t"}
         for name in ("guest", "alice")}


def only_alice_reads_private(principal, operation, params):
    if params.get("Key", "").startswith("private/") and principal != "ASIAALICE":
        return client_error("AccessDenied", f"{principal} may not")
    return {"ok": True}


PROBES = [Probe.s3("read the menu", "get_object", Bucket="b", Key="public/menu.txt"),
          Probe.s3("read alice's notes", "get_object", Bucket="b", Key="private/alice/notes.txt")]


# -- probes and actions ---------------------------------------------------------------------------
@pytest.mark.parametrize("service, operation, action", [
    ("s3", "get_object", "s3:GetObject"),
    ("s3", "head_object", "s3:GetObject"),
    ("s3", "put_object", "s3:PutObject"),
    ("s3", "delete_object", "s3:DeleteObject"),
    ("s3", "list_objects_v2", "s3:ListBucket"),
    ("s3", "list_objects", "s3:ListBucket"),
    ("s3", "list_buckets", "s3:ListAllMyBuckets"),
    ("s3", "get_bucket_policy", "s3:GetBucketPolicy"),
    ("dynamodb", "get_item", "dynamodb:GetItem"),
    ("dynamodb", "batch_write_item", "dynamodb:BatchWriteItem"),
    ("dynamodb", "scan", "dynamodb:Scan"),
])
def test_the_iam_action_of_a_boto3_operation(service, operation, action):
    assert action_for(service, operation) == action


def test_probes_work_out_their_action_and_put_object_gets_a_body():
    put = Probe.s3("write", "put_object", Bucket="b", Key="k")
    assert put.action == "s3:PutObject"
    assert put.params == {"Bucket": "b", "Key": "k", "Body": b"written by an access-report probe"}
    assert Probe.s3("write", "put_object", Bucket="b", Key="k", Body=b"x").params["Body"] == b"x"
    assert Probe.dynamodb("scan", "scan", TableName="t").action == "dynamodb:Scan"
    assert Probe.s3("copy", "copy_object", action="s3:GetObject", Bucket="b").action == "s3:GetObject"
    with pytest.raises(ValueError, match="label"):
        Probe("", "s3", "get_object")


# -- one call -------------------------------------------------------------------------------------
@pytest.mark.parametrize("answer, status, code", [
    ({"Body": SimpleNamespace(close=lambda: None)}, "allowed", None),
    (client_error("AccessDenied"), "denied", "AccessDenied"),
    (client_error("AccessDeniedException"), "denied", "AccessDeniedException"),
    (client_error("ExpiredToken"), "expired", "ExpiredToken"),
    (client_error("ExpiredTokenException"), "expired", "ExpiredTokenException"),
    (client_error("NoSuchKey"), "error", "NoSuchKey"),
])
def test_run_probe_classifies_the_answer(answer, status, code):
    client = FakeClient("p", lambda *a: answer, [])
    outcome = run_probe(client, PROBES[0])
    assert (outcome.status, outcome.code, outcome.allowed) == (status, code, status == "allowed")
    assert outcome.short() == {"allowed": "✓ allowed", "denied": "✗ denied", "expired": "✗ expired",
                               "error": "? NoSuchKey"}[status]


def test_run_probe_raises_errors_that_are_not_aws_answers():
    client = FakeClient("p", lambda *a: TypeError("unexpected keyword Bucket"), [])
    with pytest.raises(TypeError):
        run_probe(client, PROBES[0])


# -- the report -----------------------------------------------------------------------------------
def test_the_report_tries_every_probe_with_every_principal_row_by_row():
    lab = FakeLab(only_alice_reads_private)
    report = access_report(lab, CREDS, PROBES)
    assert [(p, op, params["Key"]) for p, op, params in lab.calls] == [
        ("ASIAGUEST", "get_object", "public/menu.txt"), ("ASIAALICE", "get_object", "public/menu.txt"),
        ("ASIAGUEST", "get_object", "private/alice/notes.txt"), ("ASIAALICE", "get_object", "private/alice/notes.txt")]
    assert lab.made == [("s3", "ASIAGUEST"), ("s3", "ASIAALICE")]      # one client per principal and service
    assert report.matrix() == {"guest": {"read the menu": "allowed", "read alice's notes": "denied"},
                               "alice": {"read the menu": "allowed", "read alice's notes": "allowed"}}
    assert report.allowed("alice", "read alice's notes") and not report.allowed("guest", "read alice's notes")
    assert report.outcome("guest", "read alice's notes").message == "ASIAGUEST may not"
    assert report.allowed_for("guest") == ["read the menu"]
    assert report.findings == [] and report.ok           # no expectations, nothing to find


def test_the_report_accepts_what_get_credentials_for_identity_returns():
    lab = FakeLab(only_alice_reads_private)
    report = access_report(lab, {"alice": {"IdentityId": "us-east-1:x", "Credentials": CREDS["alice"]}}, PROBES)
    assert report.principals == ["alice"]
    with pytest.raises(TypeError, match="AccessKeyId"):
        access_report(lab, {"alice": "ASIA..."}, PROBES)


def test_probe_labels_must_be_unique():
    with pytest.raises(ValueError, match="unique"):
        access_report(FakeLab(only_alice_reads_private), CREDS, PROBES + PROBES[:1])


def test_expectations_name_known_principals_and_probes():
    lab = FakeLab(only_alice_reads_private)
    with pytest.raises(ValueError, match="'bob'"):
        access_report(lab, CREDS, PROBES, expect={"bob": []})
    with pytest.raises(ValueError, match="read the mnu"):
        access_report(lab, CREDS, PROBES, expect={"guest": ["read the mnu"]})


def over_broad(principal, operation, params):
    return {}       # everyone may do everything


def test_findings_are_the_cells_that_break_the_expectations():
    report = access_report(FakeLab(over_broad), CREDS, PROBES,
                           expect={"guest": ["read the menu"], "alice": ["read the menu", "read alice's notes"]})
    assert not report.ok
    assert [str(f) for f in report.findings] == [
        "guest may read alice's notes (s3:GetObject), but should not"]
    assert report.expected("guest", "read alice's notes") is False
    assert report.expected("alice", "read alice's notes") is True

    too_tight = access_report(FakeLab(lambda *a: client_error("AccessDenied")), CREDS, PROBES,
                              expect={"alice": ["read alice's notes"]})
    assert [str(f) for f in too_tight.findings] == [
        "alice may not read alice's notes (s3:GetObject: denied), but should"]
    assert too_tight.expected("guest", "read the menu") is None     # no expectation for guest


def test_the_text_table():
    report = access_report(FakeLab(over_broad), CREDS, PROBES, expect={"guest": ["read the menu"]},
                           title="Guest audit")
    assert str(report) == repr(report) == report.text()
    assert report.text() == "\n".join([
        "Guest audit (✓ allowed, ✗ denied or expired, ? another error, ⚠ not as expected)",
        "",
        "probe               IAM action    guest        alice",
        "------------------  ------------  -----------  ---------",
        "read the menu       s3:GetObject  ✓ allowed    ✓ allowed",
        "read alice's notes  s3:GetObject  ⚠ ✓ allowed  ✓ allowed",
        "",
        "1 finding:",
        "  ⚠ guest may read alice's notes (s3:GetObject), but should not",
    ])
    fixed = access_report(FakeLab(only_alice_reads_private), CREDS, PROBES, expect={"guest": ["read the menu"]})
    assert fixed.text().splitlines()[-1] == "No findings: guest may do exactly what is expected, no more and no less."
    plain = access_report(FakeLab(only_alice_reads_private), CREDS, PROBES)
    assert plain.text().splitlines()[0] == "Access report (✓ allowed, ✗ denied or expired, ? another error)"
    assert plain.text().splitlines()[-1].startswith("read alice's notes")


def test_the_html_table_escapes_and_highlights_findings():
    probes = [Probe.s3("read <script>", "get_object", Bucket="b", Key="private/x")]
    report = access_report(FakeLab(over_broad), CREDS, probes, expect={"guest": []})
    page = report._repr_html_()
    assert "<script>" not in page and "read &lt;script&gt;" in page
    assert page.count("<tr>") == 2                                   # header + one probe
    assert 'background:#fce8e6;color:#202124;font-weight:bold">⚠ ✓ allowed</td>' in page   # the guest's finding
    assert 'background:#e6f4ea;color:#202124">✓ allowed</td>' in page                     # alice: no expectation
    assert "⚠ guest may read &lt;script&gt; (s3:GetObject), but should not</i></p>" in page


def test_changes_since_an_earlier_report():
    before = access_report(FakeLab(over_broad), CREDS, PROBES)
    after = access_report(FakeLab(only_alice_reads_private), CREDS, PROBES)
    assert after.changes_since(before) == ["guest · read alice's notes: allowed → denied"]
    assert after.changes_since(after) == []


def test_lookups_name_what_exists():
    report = AccessReport(["guest"], PROBES[:1], {("guest", "read the menu"): Outcome("allowed")})
    with pytest.raises(KeyError, match="read the menu"):
        report.outcome("guest", "read the mnu")
    with pytest.raises(KeyError, match="guest"):
        report.outcome("bob", "read the menu")


# -- against a real lab ---------------------------------------------------------------------------
PASSWORD = "Correct-Horse-9"


@pytest.fixture(scope="module")
def photo_app():
    with Lab(seed=66) as lab:
        up = create_user_pool(lab, "photos")
        for name in ("alice", "bob"):
            up.add_user(name, PASSWORD)
        ids = setups.identity_pool(lab, up)
        files = setups.private_s3_prefix(lab, ids, bucket="photo-app")
        who = {name: ids.credentials(up.sign_in(name, PASSWORD)["IdToken"]) for name in ("alice", "bob")}
        admin = lab.client("s3")
        admin.put_object(Bucket="photo-app", Key="public/welcome.txt", Body=b"hi")
        alice_key = files.key_for(who["alice"]["IdentityId"], "cat.jpg")
        admin.put_object(Bucket="photo-app", Key=alice_key, Body=b"meow")
        probes = [
            Probe.s3("read public/welcome.txt", "get_object", Bucket="photo-app", Key="public/welcome.txt"),
            Probe.s3("list the whole bucket", "list_objects_v2", Bucket="photo-app"),
            Probe.s3("read alice's cat.jpg", "get_object", Bucket="photo-app", Key=alice_key),
            Probe.s3("delete in alice's folder", "delete_object", Bucket="photo-app",
                     Key=files.key_for(who["alice"]["IdentityId"], "audit-probe.txt")),
        ]
        yield SimpleNamespace(lab=lab, ids=ids, files=files, who=who, probes=probes, alice_key=alice_key)


def test_a_private_prefix_per_user_in_a_real_lab(photo_app):
    report = access_report(photo_app.lab, photo_app.who, photo_app.probes,
                           expect={"alice": ["read alice's cat.jpg", "delete in alice's folder"], "bob": []})
    assert report.ok, report.text()
    denied = report.outcome("bob", "read alice's cat.jpg")
    assert denied.code == "AccessDenied"
    assert denied.message.startswith("User: arn:aws:sts::123456789012:assumed-role/LabAuthenticatedRole/"
                                     "CognitoIdentityCredentials is not authorized to perform: s3:GetObject")


def test_an_over_broad_guest_role_is_found_and_its_fix_verified(photo_app):
    lab, ids = photo_app.lab, photo_app.ids
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": [
        "arn:aws:s3:::photo-app", "arn:aws:s3:::photo-app/*"]}]}
    setups.guest_read_only(lab, ids, bucket="photo-app")
    setups.create_role(lab, "LabGuestRole", ids.id, everything, amr="unauthenticated", policy_name="everything")
    principals = {"guest": ids.credentials(), **photo_app.who}
    expect = {"guest": ["read public/welcome.txt"]}
    before = access_report(lab, principals, photo_app.probes, expect=expect)
    assert [str(f) for f in before.findings] == [
        "guest may list the whole bucket (s3:ListBucket), but should not",
        "guest may read alice's cat.jpg (s3:GetObject), but should not",
        "guest may delete in alice's folder (s3:DeleteObject), but should not"]
    assert lab.client("s3").get_object(Bucket="photo-app", Key=photo_app.alice_key)["Body"].read() == b"meow"

    lab.client("iam").delete_role_policy(RoleName="LabGuestRole", PolicyName="everything")
    after = access_report(lab, principals, photo_app.probes, expect=expect)
    assert after.ok, after.text()
    assert after.changes_since(before) == [
        "guest · list the whole bucket: allowed → denied", "guest · read alice's cat.jpg: allowed → denied",
        "guest · delete in alice's folder: allowed → denied"]


def test_expired_credentials_show_as_expired(photo_app):
    lab = photo_app.lab
    lab.clock.advance(hours=1, seconds=1)
    report = access_report(lab, {"alice": photo_app.who["alice"]}, photo_app.probes[2:3])
    assert report.outcome("alice", "read alice's cat.jpg") == Outcome(
        "expired", "ExpiredToken", "The provided token has expired.")
