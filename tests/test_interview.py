"""Lesson 13: the interview question bank and its checker, the mock round, the design graders and
the cheat sheet. Facts in the bank carry their AWS source; these tests check the bank's shape and
that the checker and graders behave as a learner would notice."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from labkit import Lab
from labkit.course import interview_designs as D
from labkit.course.cheatsheet import load_cheat_sheet, render_cheat_sheet, write_cheat_sheet
from labkit.course.interview import BANK_PATH, KINDS, PARALLEL_LESSONS, BankError, load_bank
from labkit.course.lessons import LESSONS
from labkit.course.triggers import deploy_function

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bank():
    return load_bank()


def _headings(notebook: Path) -> set[str]:
    heads = set()
    for cell in json.loads(notebook.read_text())["cells"]:
        if cell["cell_type"] == "markdown":
            heads |= {m.group(1).strip() for m in re.finditer(r"^#{2,3} (.+)$", "".join(cell["source"]), re.M)}
    return heads


# -- the bank -------------------------------------------------------------------------------------
def test_the_bank_loads_with_at_least_60_questions_covering_lessons_01_to_12(bank):
    assert len(bank) >= 60
    assert bank.lessons == [f"{n:02d}" for n in range(1, 13)]
    assert all(count >= 4 for count in bank.by_lesson().values()), bank.by_lesson()
    assert all(bank.by_kind()[kind] >= 3 for kind in KINDS), bank.by_kind()


def test_every_question_belongs_to_a_lesson_of_the_catalog_or_a_parallel_one(bank):
    catalog = {item.number for item in LESSONS}
    for q in bank.questions:
        assert q.lesson in catalog or q.lesson in PARALLEL_LESSONS, q.id


def test_every_answer_is_among_its_choices_or_passes_its_rule(bank):
    for q in bank.questions:
        if q.choices:
            assert q.answer in q.choices and q.is_right(q.letter_of_answer()), q.id
        else:
            assert q.is_right(q.answer), q.id


def test_links_point_to_a_section_of_the_lesson_notebook(bank):
    """Sections of notebooks in this checkout must exist; 09 and 12 are written in parallel."""
    for q in bank.questions:
        path = ROOT / "notebooks" / q.notebook
        assert q.notebook.startswith(q.lesson + "_"), q.id
        if path.exists():
            assert q.section in _headings(path), f"{q.id}: no section {q.section!r} in {q.notebook}"
        else:
            assert q.lesson in PARALLEL_LESSONS, f"{q.id}: {q.notebook} does not exist"


def test_every_question_cites_an_aws_page_and_explains_itself(bank):
    for q in bank.questions:
        assert q.source.startswith("https://docs.aws.amazon.com/"), q.id
        assert len(q.explanation) > 40, q.id


def test_a_malformed_entry_is_refused_with_its_id_and_the_field(tmp_path):
    good = BANK_PATH.read_text(encoding="utf-8")
    broken = good.replace('answer = "ExpiredCodeException"', 'answer = "InvalidCodeException"', 1)
    (tmp_path / "bank.toml").write_text(broken)
    with pytest.raises(BankError, match=r"02-code-lifetime.*answer 'InvalidCodeException' is not one of its choices"):
        load_bank(tmp_path / "bank.toml")
    (tmp_path / "bank.toml").write_text(good.replace('lesson = "04"', 'lesson = "14"', 1))
    with pytest.raises(BankError, match=r"lesson '14' is not a lesson of the course"):
        load_bank(tmp_path / "bank.toml")
    (tmp_path / "bank.toml").write_text('[[question]]\nid = "01-x"\nlesson = "01"\n')
    with pytest.raises(BankError, match=r"question #1 \('01-x'\): missing kind, prompt"):
        load_bank(tmp_path / "bank.toml")
    (tmp_path / "bank.toml").write_text("[[question]\n")
    with pytest.raises(BankError, match="not valid TOML"):
        load_bank(tmp_path / "bank.toml")


# -- checking answers ----------------------------------------------------------------------------
def test_a_wrong_answer_gets_the_explanation_and_the_way_back(bank):
    q = bank["05-validity-units"]
    wrong = next(letter for letter, c in zip("abc", q.choices) if c != q.answer)
    verdict = bank.check(q.id, wrong)
    text = repr(verdict)
    assert not verdict and text.startswith("✗ 05-validity-units")
    assert "hours" in text and "05_token_lifecycle.ipynb" in text and "5 · Lifetimes and their ranges" in text
    assert "API_TokenValidityUnitsType.html" in text
    assert all(len(line) <= 100 for line in text.splitlines())
    right = bank.check(q.id, q.letter_of_answer())
    assert right and repr(right).startswith("✓")
    assert bank.check(q.id, q.answer)                                 # the text of the choice works too
    with pytest.raises(ValueError, match=r"answer with one letter \(a, b, c\)"):
        bank.check(q.id, "d")


def test_free_answers_are_checked_by_their_rule(bank):
    assert bank.check("03-srp-challenge-name", "it's password_verifier")
    assert not bank.check("03-srp-challenge-name", "SRP_A")
    assert bank.check("11-logout-call", "idp.revoke_token(Token=refresh, ClientId=...)")


def test_ask_prints_the_question_without_its_answer(bank, capsys):
    bank.ask("02-enumeration")
    shown = capsys.readouterr().out
    assert "PreventUserExistenceErrors" in shown and "a) ExplicitAuthFlows" in shown
    assert bank["02-enumeration"].explanation not in shown


# -- the mock round ------------------------------------------------------------------------------
def test_the_mock_round_is_the_same_for_the_same_seed_and_spread_over_lessons(bank):
    first, again = bank.mock_round(8, 12, seed=13), bank.mock_round(8, 12, seed=13)
    assert first.ids == again.ids and repr(first) == repr(again)
    assert bank.mock_round(8, 12, seed=14).ids != first.ids
    assert len({q.lesson for q in first.questions}) == 8          # round robin: 8 questions, 8 lessons


def test_the_report_scores_by_lesson_and_the_clock_stays_out_of_it(bank):
    ticks = iter([100.0, 130.0])          # started, then the last answer
    mock = bank.mock_round(3, 1, seed=5, clock=lambda: next(ticks))
    for number, q in enumerate(mock.questions, 1):
        wrong = next((letter for letter, c in zip("abcdef", q.choices) if c != q.answer), "no idea")
        mock.answer(number, (q.letter_of_answer() or q.answer) if number < 3 else wrong)
    report = repr(mock.report())
    assert "2/3 right" in report and "Read again:" in report and mock.questions[2].id in report
    assert "s of" not in report
    assert mock.timing() == "30.0 s of 60 s: within the budget"
    with pytest.raises(ValueError, match="questions 1 to 3"):
        mock.answer(4, "a")


# -- the design graders --------------------------------------------------------------------------
def build_b2b(lab, sso, *, tenant_attribute=False):
    idp = lab.client("cognito-idp")
    arn = deploy_function(lab, D.tenant_from_provider,
                          environment={"TENANT_OF_PROVIDER": json.dumps({sso.name: sso.tenant})})
    schema = [{"Name": "tenant", "AttributeDataType": "String", "Mutable": True}] if tenant_attribute else []
    pool_id = idp.create_user_pool(
        PoolName="b2b", AdminCreateUserConfig={"AllowAdminCreateUserOnly": True}, **({"Schema": schema} if schema else {}),
        LambdaConfig={"PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": arn}})["UserPool"]["Id"]
    idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="OPTIONAL",
                                 SoftwareTokenMfaConfiguration={"Enabled": True})
    idp.create_user_pool_domain(UserPoolId=pool_id, Domain="b2b-test")
    idp.create_identity_provider(UserPoolId=pool_id, ProviderName=sso.name, ProviderType="OIDC",
                                 ProviderDetails=sso.provider_details, AttributeMapping={"email": "email"})
    callback = "https://app.b2b.example/callback"
    client = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email"], CallbackURLs=[callback], SupportedIdentityProviders=[sso.name],
        ExplicitAuthFlows=["ALLOW_REFRESH_TOKEN_AUTH"], PreventUserExistenceErrors="ENABLED",
        **({} if tenant_attribute else {"WriteAttributes": ["email", "name"]}))["UserPoolClient"]
    return {"pool_id": pool_id, "client_id": client["ClientId"], "domain": "b2b-test", "callback": callback}


def build_passwordless(lab, *, safe=True):
    idp = lab.client("cognito-idp")
    extra = ({"AccountRecoverySetting": {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]},
              "UserAttributeUpdateSettings": {"AttributesRequireVerificationBeforeUpdate": ["email"]}} if safe else {})
    pool_id = idp.create_user_pool(
        PoolName="consumer", UsernameAttributes=["email"], AutoVerifiedAttributes=["email"],
        Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}}, **extra)["UserPool"]["Id"]
    idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="OPTIONAL",
                                 SoftwareTokenMfaConfiguration={"Enabled": True})
    client = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app", ExplicitAuthFlows=["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        PreventUserExistenceErrors="ENABLED" if safe else "LEGACY")["UserPoolClient"]
    return {"pool_id": pool_id, "client_id": client["ClientId"]}


def build_m2m(lab, *, scopes=("read",)):
    idp = lab.client("cognito-idp")
    pool_id = idp.create_user_pool(PoolName="m2m")["UserPool"]["Id"]
    idp.create_user_pool_domain(UserPoolId=pool_id, Domain="m2m-test")
    idp.create_resource_server(UserPoolId=pool_id, Identifier=D.REPORTS_API, Name="reports",
                               Scopes=[{"ScopeName": s, "ScopeDescription": s} for s in ("read", "write")])
    client = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="job", GenerateSecret=True, AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["client_credentials"], AllowedOAuthScopes=[f"{D.REPORTS_API}/{s}" for s in scopes],
        ExplicitAuthFlows=["ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
    return {"pool_id": pool_id, "domain": "m2m-test", "client_id": client["ClientId"]}


def test_the_b2b_grader_passes_the_model_and_explains_a_user_writable_tenant():
    with Lab(seed=131) as lab:
        report = D.grade_b2b_sso(lab, build_b2b)
        assert report.passed, report
        assert D.grade_b2b_sso(lab, build_b2b).passed     # re-run: the first run's pool and domain go first
    with Lab(seed=132) as lab:
        flawed = D.grade_b2b_sso(lab, lambda lab, sso: build_b2b(lab, sso, tenant_attribute=True))
        assert not flawed.passed
        [audit] = [r for r in flawed.failed]
        assert "writable-custom-attribute" in audit.detail and "auditor" in audit.name
        with pytest.raises(AssertionError, match="13.1 not passed yet"):
            flawed.require("13.1")


def test_the_passwordless_grader_passes_the_model_and_names_each_unsafe_setting():
    with Lab(seed=133) as lab:
        assert D.grade_passwordless(lab, build_passwordless).passed
        flawed = D.grade_passwordless(lab, lambda lab: build_passwordless(lab, safe=False))
    text = repr(flawed)
    assert "UserNotFoundException" in text and "PreventUserExistenceErrors to ENABLED" in text
    assert "AttributesRequireVerificationBeforeUpdate" in text and "verified_email" in text
    assert {r.name for r in flawed.failed} >= {"Sign-in doesn't tell who has an account",
                                                "Account recovery goes to a verified email only"}


def test_the_m2m_grader_passes_the_model_and_refuses_a_job_that_can_write():
    with Lab(seed=134) as lab:
        assert D.grade_m2m(lab, build_m2m).passed
        again = D.grade_m2m(lab, build_m2m)         # a learner re-runs the check: same domain prefix
        assert again.passed, again
        assert len(lab.client("cognito-idp").list_user_pools(MaxResults=10)["UserPools"]) == 1
    with Lab(seed=135) as lab:
        flawed = D.grade_m2m(lab, lambda lab: build_m2m(lab, scopes=("read", "write")))
    failed = {r.name: r.detail for r in flawed.failed}
    assert "Asking for the write scope is refused" in failed
    assert any("should hold https://reports.example.com/read and nothing else" in d for d in failed.values())


def test_a_build_that_raises_or_returns_nothing_is_explained():
    def student_copy(lab):
        raise NotImplementedError("Users sign in with their email; ...")

    with Lab(seed=136) as lab:
        raised = D.grade_m2m(lab, lambda lab: lab.client("cognito-idp").describe_user_pool(UserPoolId="us-east-1_nope"))
        empty = D.grade_passwordless(lab, lambda lab: None)
        todo = D.grade_passwordless(lab, student_copy)
    assert "ResourceNotFoundException" in repr(raised) or "InvalidParameterException" in repr(raised)
    assert "should return a dict with 'pool_id', 'client_id'" in repr(empty)
    assert "Your function is not written yet (Users sign in with their email; ...)" in repr(todo)
    assert [r.name for r in todo.requirements] == ["build(...) runs"]


# -- the cheat sheet ------------------------------------------------------------------------------
def test_the_cheat_sheet_renders_as_one_self_contained_printable_page(tmp_path):
    sheet = load_cheat_sheet()
    page = render_cheat_sheet(sheet)

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags, self.srcs = [], []

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)
            self.srcs += [v for k, v in attrs if k in ("src", "href")]

    parsed = Tags()
    parsed.feed(page)
    assert parsed.tags.count("section") == len(sheet.sections) >= 6
    assert "script" not in parsed.tags and parsed.srcs == []          # nothing to fetch, nothing to run
    assert "@page" in page and "<code>GetTokensFromRefreshToken</code>" in page
    assert "&lt;identifier&gt;/&lt;name&gt;" in page                  # escaped inside code
    covered = {n for s in sheet.sections for n in s.lessons}
    assert covered >= {f"{n:02d}" for n in range(1, 13)}
    path = write_cheat_sheet(tmp_path / "cheat_sheet.html")
    assert path.read_text(encoding="utf-8") == page
    assert all(len(line) <= 100 for line in repr(sheet).splitlines())
