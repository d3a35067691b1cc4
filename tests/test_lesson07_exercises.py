"""Lesson 07's exercises, run from the committed notebook: the model answers pass, and each wrong
decision the lesson is about fails with a plain-words message (see tests/test_lesson_exercises.py)."""
import linecache

import nbformat
import pytest

from test_lesson_exercises import NOTEBOOKS, Lesson

CHECK_ALLOW_LIST, CHECK_CLAIMS, CHECK_TRIGGERS = "c07-check-7-1", "c07-check-7-2", "c07-check-7-3"


@pytest.fixture(scope="module")
def triggers_lesson():
    # deploy_function reads a handler's source, as IPython lets it in Jupyter: register the cells'
    # text under the names Lesson compiles them with.
    name = "07_lambda_triggers.ipynb"
    for cell in nbformat.read(NOTEBOOKS / name, as_version=4).cells:
        if cell.cell_type == "code":
            linecache.cache[f"{name}:{cell.id}"] = (len(cell.source), None, cell.source.splitlines(True), name)
    lesson = Lesson("07_lambda_triggers.ipynb", until=CHECK_TRIGGERS)
    yield lesson
    lesson.close()


def test_7_1_a_suffix_match_lets_a_look_alike_domain_in(triggers_lesson):
    """The model handler passes; outcomes of an allow-list that matched 'acme.example' as a suffix
    (mallory@notacme.example got in) or crashed on a sign-up without email fail."""
    assert "passed" in triggers_lesson.check(CHECK_ALLOW_LIST)
    outcomes = dict(triggers_lesson.namespace["outcomes"])
    assert "mallory@notacme.example" in triggers_lesson.fails(
        CHECK_ALLOW_LIST, outcomes={**outcomes, "mallory@notacme.example": "allowed"})
    crash = "refused: PreSignUp failed with error 'NoneType' object has no attribute 'get'."
    assert "not a crash" in triggers_lesson.fails(CHECK_ALLOW_LIST, outcomes={**outcomes, "(no email)": crash})


def test_7_2_reserved_and_group_claims(triggers_lesson):
    """Forgetting that scope is Cognito's, or putting cognito:groups among the reserved claims, fails."""
    assert "passed" in triggers_lesson.check(CHECK_CLAIMS)
    assert "scope" in triggers_lesson.fails(CHECK_CLAIMS, kept_by_cognito={"sub", "client_id"})
    assert "cognito:groups" in triggers_lesson.fails(
        CHECK_CLAIMS, kept_by_cognito={"sub", "client_id", "scope", "cognito:groups"}, needs_group_override=set())


def test_7_3_an_audit_record_after_sign_in_is_not_a_pre_authentication_job(triggers_lesson):
    choices = dict(triggers_lesson.namespace["choices"])
    assert "passed" in triggers_lesson.check(CHECK_TRIGGERS)
    message = triggers_lesson.fails(CHECK_TRIGGERS, choices={**choices, "audit": "PreAuthentication"})
    assert 'choices["audit"]' in message
