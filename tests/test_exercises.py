"""labkit.exercises (checks, quizzes, the friendly IPython display), notebooks/sanitize.cfg and
labkit.course (diagrams, environment check, network guard)."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import jwt
import nbformat
import pytest
from botocore.exceptions import ClientError

from labkit import course
from labkit.course import exercises
from labkit.course.exercises import (ExerciseNotPassed, Quiz, answer, answer_hash, check, check_contains,
                              check_equal, check_jwt_claim, check_jwt_claims, check_match,
                              check_raises, check_true, check_type, exercise, expect_error, question)

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def client_error(code="NotAuthorizedException", message="Incorrect username or password.",
                 operation="InitiateAuth"):
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


# -- one-line checks ------------------------------------------------------------------------------

def test_check_equal_passes_with_one_line(capsys):
    check_equal("1.1", 42, 42)
    assert capsys.readouterr().out == "✓ Exercise 1.1 passed\n"


def test_check_equal_fails_with_expected_actual_and_hint():
    with pytest.raises(ExerciseNotPassed) as info:
        check_equal("1.1", "my-pool", "first-pool", what='pool["Name"]', hint="Use PoolName=")
    message = str(info.value)
    assert message.splitlines()[0] == "✗ Exercise 1.1 not passed yet"
    assert "pool[\"Name\"] is 'my-pool', but it should be 'first-pool'." in message
    assert message.endswith("Hint: Use PoolName=")
    assert isinstance(info.value, AssertionError)
    assert info.value.exercise == "1.1" and info.value.hint == "Use PoolName="


def test_check_equal_points_out_look_alikes_of_another_type():
    with pytest.raises(ExerciseNotPassed, match="one is a str and the other a int"):
        check_equal("1.1", "42", 42)


def test_long_values_are_abbreviated():
    token = "eyJ" + "a" * 500
    with pytest.raises(ExerciseNotPassed) as info:
        check_equal("5.1", token, "x")
    assert len(str(info.value)) < 300 and "..." in str(info.value)


def test_check_truthiness_equality_and_predicate(capsys):
    check("1.2", [1])
    check("1.2", 3, 3)
    check("1.2", "123456", str.isdigit)
    check("1.2", {}, dict)
    check("1.2", [], (dict, list))
    check("1.2", (1,), (1,))                       # a tuple of values: equality
    assert capsys.readouterr().out.count("✓ Exercise 1.2 passed") == 6
    with pytest.raises(ExerciseNotPassed, match="should be a dict, but it is a str"):
        check("1.2", "x", dict)
    with pytest.raises(ExerciseNotPassed, match="code is '', which is not"):
        check("1.2", "", what="code")
    with pytest.raises(ExerciseNotPassed, match=r"isdigit\(code\) is not true"):
        check("1.2", "12a", str.isdigit, what="code")


def test_check_true_type_contains_match(capsys):
    check_true("1.3", True, "x")
    check_type("1.3", {}, dict)
    check_contains("1.3", ["a", "b"], "a")
    check_match("1.3", "us-east-1_abc123", r"us-east-1_\w+")
    assert capsys.readouterr().out.count("✓") == 4
    with pytest.raises(ExerciseNotPassed, match="Expected: pool_id should start with us-east-1_"):
        check_true("1.3", False, "pool_id should start with us-east-1_")
    with pytest.raises(ExerciseNotPassed, match="should be a dict or list, but it is a str"):
        check_type("1.3", "x", (dict, list), what="pool")
    with pytest.raises(ExerciseNotPassed, match="should contain 'c'"):
        check_contains("1.3", ["a"], "c")
    with pytest.raises(ExerciseNotPassed, match="should contain 'c'"):
        check_contains("1.3", 5, "c")
    with pytest.raises(ExerciseNotPassed, match="does not have the expected form"):
        check_match("1.3", "eu-west-1", r"us-east-1_\w+")
    with pytest.raises(ExerciseNotPassed, match="should be a string"):
        check_match("1.3", None, r"x")


def test_quiet_checks_print_nothing(capsys):
    check_equal("1.1", 1, 1, quiet=True)
    assert capsys.readouterr().out == ""


# -- JWTs --------------------------------------------------------------------------------------------

TOKEN = jwt.encode({"sub": "abc", "token_use": "id", "email": "ana@example.com", "exp": 1},
                   "secret-for-tests-only-32-bytes-long!", algorithm="HS256", headers={"kid": "k1"})


def test_jwt_claims_are_read_without_verification(capsys):
    check_jwt_claim("5.1", TOKEN, "token_use", "id")     # exp=1: long expired, still readable
    check_jwt_claim("5.1", TOKEN, "sub")
    check_jwt_claim("5.1", TOKEN, "email", lambda v: v.endswith("@example.com"))
    check_jwt_claim("5.1", TOKEN, "kid", "k1", header=True)
    check_jwt_claims("5.1", TOKEN, {"token_use": "id", "email": "ana@example.com"})
    check_jwt_claim("5.1", {"scope": "aws.cognito.signin.user.admin"}, "scope")
    assert capsys.readouterr().out.count("✓ Exercise 5.1 passed") == 6


def test_jwt_claim_failures_are_explained():
    with pytest.raises(ExerciseNotPassed, match=r"The token's 'token_use' is 'id', but it should be 'access'"):
        check_jwt_claim("5.1", TOKEN, "token_use", "access")
    with pytest.raises(ExerciseNotPassed, match=r"no 'cognito:groups' claim. It has: email, exp, sub, token_use"):
        check_jwt_claim("5.1", TOKEN, "cognito:groups")
    with pytest.raises(ExerciseNotPassed, match="is not a JWT"):
        check_jwt_claim("5.1", "not-a-token", "sub")
    with pytest.raises(ExerciseNotPassed, match="cannot be decoded"):
        check_jwt_claim("5.1", "eyJhbGciOi.xx.yy", "sub")
    with pytest.raises(ExerciseNotPassed, match="which is not what we are looking for"):
        check_jwt_claim("5.1", TOKEN, "email", str.isdigit)


# -- expected errors ----------------------------------------------------------------------------------

def test_expect_error_matches_cognito_error_codes(capsys):
    with expect_error("2.3", "NotAuthorizedException") as caught:
        raise client_error()
    assert caught.code == "NotAuthorizedException"
    assert caught.message == "Incorrect username or password."
    assert capsys.readouterr().out == ("✓ Exercise 2.3 passed: it failed with NotAuthorizedException, "
                                       "as it should\n")


def test_expect_error_without_exercise_is_a_demonstration(capsys):
    with expect_error("NotAuthorizedException"):
        raise client_error()
    assert capsys.readouterr().out == ("✓ Failed as expected: NotAuthorizedException: Incorrect "
                                       "username or password.\n")


def test_expect_error_matches_class_names_classes_and_alternatives(capsys):
    with expect_error("ValueError"):
        int("x")
    with expect_error(LookupError):
        {}["x"]
    with expect_error("LookupError"):          # a base class, by name
        [][1]
    with expect_error(("UserNotFoundException", "NotAuthorizedException")):
        raise client_error()
    assert capsys.readouterr().out.count("✓ Failed as expected") == 4


def test_expect_error_fails_when_the_call_succeeds_or_fails_otherwise():
    with pytest.raises(ExerciseNotPassed, match="should have failed with NotAuthorizedException, but it succeeded"):
        with expect_error("2.3", "NotAuthorizedException", hint="Use a wrong password"):
            pass
    with pytest.raises(ExerciseNotPassed) as info:
        with expect_error("2.3", "NotAuthorizedException"):
            raise client_error("UserNotFoundException", "User does not exist.")
    assert "but it failed with UserNotFoundException: User does not exist." in str(info.value)
    assert isinstance(info.value.__cause__, ClientError)
    with pytest.raises(TypeError):
        expect_error("a", "b", "c")


def test_expect_error_lets_interrupts_through():
    with pytest.raises(KeyboardInterrupt):
        with expect_error("ValueError"):
            raise KeyboardInterrupt


def test_check_raises_returns_the_error(capsys):
    def sign_in():
        raise client_error()
    error = check_raises("2.4", "NotAuthorizedException", sign_in)
    assert isinstance(error, ClientError)
    assert "✓ Exercise 2.4 passed" in capsys.readouterr().out
    with pytest.raises(ExerciseNotPassed, match="but it succeeded"):
        check_raises("2.4", "NotAuthorizedException", lambda: None)


# -- exercise blocks ---------------------------------------------------------------------------------

def test_exercise_block_prints_one_line(capsys):
    with exercise("0.1", "your first user pool") as ex:
        ex.equal(1, 1)
        ex.true(True, "x")
        ex.type({}, dict)
        ex.contains("abc", "b")
        ex.match("abc", r"a.c")
        ex.check(1)
        ex.jwt_claim(TOKEN, "sub")
        ex.jwt_claims(TOKEN, {"token_use": "id"})
        ex.raises("ValueError", int, "x")
        with ex.expect_error("NotAuthorizedException"):
            raise client_error()
    assert capsys.readouterr().out == "✓ Exercise 0.1 passed: your first user pool\n"


def test_exercise_block_failure_uses_block_hint_unless_the_check_has_one():
    with pytest.raises(ExerciseNotPassed) as info:
        with exercise("0.1", hint="block hint") as ex:
            ex.equal(1, 2)
    assert info.value.exercise == "0.1" and info.value.hint == "block hint"
    with pytest.raises(ExerciseNotPassed) as info:
        with exercise("0.1", hint="block hint") as ex:
            ex.equal(1, 2, hint="own hint")
    assert info.value.hint == "own hint"


def test_exercise_block_turns_errors_into_friendly_messages():
    with pytest.raises(ExerciseNotPassed) as info:
        with exercise("0.2", hint="Run it"):
            welcome_pool_id_never_defined  # noqa: F821
    assert "`welcome_pool_id_never_defined` is not defined yet. Run your solution cell" in str(info.value)
    assert info.value.hint == "Run it"
    with pytest.raises(ExerciseNotPassed, match="the lab answered ResourceNotFoundException: User pool x does not exist."):
        with exercise("0.2"):
            raise client_error("ResourceNotFoundException", "User pool x does not exist.", "DescribeUserPool")
    with pytest.raises(ExerciseNotPassed, match="failed with KeyError: 'Name'"):
        with exercise("0.2"):
            {}["Name"]
    from labkit import LabNotRunning
    with pytest.raises(ExerciseNotPassed, match="The lab is not running"):
        with exercise("0.2"):
            raise LabNotRunning("stopped")


def test_exercise_block_gives_anonymous_failures_its_name():
    with pytest.raises(ExerciseNotPassed) as info:
        with exercise("0.3"):
            raise ExerciseNotPassed(None, "nope")
    assert info.value.exercise == "0.3"


# -- quizzes ------------------------------------------------------------------------------------------

def make_quiz():
    return Quiz("Self-check", [
        question("Which issues JWTs?", ["An identity pool", "A user pool"],
                 answer=answer_hash("A user pool"), hint="Not credentials.", explain="User pools do."),
        question("2 + 2?", ["3", "4", "5"], answer=answer_hash("4")),
    ])


def test_answer_hash_is_salted_and_hides_the_answer():
    first, second = answer_hash("A user pool"), answer_hash("A user pool")
    assert first != second and first.startswith("sha256$")
    assert "user" not in first.lower()
    assert answer_hash("A user pool", salt="ab12") == answer_hash("  a USER   pool ", salt="ab12")
    with pytest.raises(ValueError):
        answer_hash("x", salt="not hex!")


def test_quiz_shows_questions_and_checks_answers(capsys):
    quiz = make_quiz()
    text = repr(quiz)
    assert "1. Which issues JWTs?\n   a) An identity pool\n   b) A user pool" in text
    assert 'quiz.answer(1, "a")' in text
    assert "- b) A user pool" in quiz._repr_markdown_()
    quiz.answer(1, "b")
    quiz.answer(2, "A")
    assert capsys.readouterr().out == "✓ Question 1: right. User pools do.\n✗ Question 2: not quite. Try another choice.\n"
    quiz.answer(1, "a")
    assert capsys.readouterr().out == "✗ Question 1: not quite. Not credentials.\n"
    assert quiz.score() == "0/2 right"
    answer(2, "b)")                      # the latest quiz, and "b)" is accepted
    assert capsys.readouterr().out.startswith("✓ Question 2: right.")
    assert quiz.score() == "1/2 right"


def test_quiz_rejects_bad_answers_and_bad_definitions():
    quiz = make_quiz()
    with pytest.raises(ExerciseNotPassed, match="with one letter: a, b"):
        quiz.answer(1, "c")
    with pytest.raises(ExerciseNotPassed, match="no question 3"):
        quiz.answer(3, "a")
    with pytest.raises(ValueError, match="matches 0 of its choices"):
        question("?", ["x", "y"], answer=answer_hash("z"))
    with pytest.raises(ValueError, match="matches 2 of its choices"):
        question("?", ["x", "X"], answer=answer_hash("x"))
    with pytest.raises(ValueError, match="2 to 26 choices"):
        question("?", ["x"], answer=answer_hash("x"))
    with pytest.raises(ValueError):
        Quiz("empty", [])


def test_hash_command(capsys):
    assert exercises.main(["hash", "A user pool"]) == 0
    stored = capsys.readouterr().out.strip()
    assert question("?", ["A user pool", "IAM"], answer=stored)
    assert exercises.main([]) == 2


def test_outside_ipython_friendly_errors_does_nothing():
    assert exercises.friendly_errors() is False


# -- the friendly display, in a real IPython shell -------------------------------------------------

IPYTHON_SCRIPT = r"""
import json, sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.colors = "nocolor"

def mine(self, etype, value, tb, tb_offset=None):
    print("PREVIOUS HANDLER:", value)
shell.set_custom_exc((KeyError,), mine)

cells = json.loads(sys.argv[1])
results = []
for source in cells:
    import io, contextlib
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = shell.run_cell(source, store_history=True)
    error = result.error_in_exec
    results.append({"out": out.getvalue(), "error": type(error).__name__ if error else None})
print(json.dumps(results))
"""

CELLS = {
    "bare_import": "import labkit, labkit.course, labkit.course.exercises\nprint(get_ipython().custom_exceptions)",
    "import": ("from labkit.course.exercises import *\nimport labkit.course.exercises as ex_module\n"
               "from labkit import course\ncourse.friendly_errors()"),
    "fail": "check_equal('0.1', 41, 42, what='the answer', hint='Add one.')",
    "pass": "check_equal('0.1', 42, 42)",
    "stub": "raise NotImplementedError('Call idp.create_user_pool')",
    "stub_in_function": "def sign_in():\n    raise NotImplementedError('Call initiate_auth')",
    "call_stub": "sign_in()",
    "block": "with exercise('0.2', hint='Define it first') as ex:\n    ex.equal(pool['Name'], 'a')",
    "client_error": ("import botocore.session\n"
                     "client = botocore.session.get_session().create_client('cognito-idp', "
                     "region_name='us-east-1', aws_access_key_id='a', aws_secret_access_key='b', "
                     "endpoint_url='http://127.0.0.1:9')\n"
                     "client.describe_user_pool(UserPoolId=5)"),
    "other": "1 / 0",
    "library_not_implemented": "import asyncio\nasyncio.AbstractEventLoop().run_forever()",
    "previous": "{}['missing']",
    "teardown": "ex_module.teardown()\ncheck_equal('0.1', 1, 2, hint='after teardown')",
}


def test_importing_labkit_changes_nothing_in_ipython(ipython_run):
    """No side effects at import: only course.friendly_errors() installs the handler."""
    assert ipython_run["bare_import"]["out"].strip() == "(<class 'KeyError'>,)"


@pytest.fixture(scope="module")
def ipython_run():
    sources = list(CELLS.values())
    proc = subprocess.run([sys.executable, "-c", IPYTHON_SCRIPT, json.dumps(sources)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    return {name: {"out": ANSI.sub("", r["out"]), "error": r["error"]} for name, r in zip(CELLS, results)}


def test_failed_check_shows_a_short_message_with_the_hint(ipython_run):
    run = ipython_run["fail"]
    assert run["error"] == "ExerciseNotPassed"         # the cell still counts as failed
    assert run["out"].strip() == ("✗ Exercise 0.1 not passed yet\n"
                                  "  the answer is 41, but it should be 42.\n"
                                  "  Hint: Add one.")
    assert "Traceback" not in run["out"] and "File " not in run["out"]
    assert ipython_run["pass"] == {"out": "✓ Exercise 0.1 passed\n", "error": None}


def test_exercise_stub_says_your_turn(ipython_run):
    run = ipython_run["stub"]
    assert run["error"] == "NotImplementedError"
    assert "✎ Your turn: this cell is an exercise." in run["out"]
    assert "Hint: Call idp.create_user_pool" in run["out"]
    assert "Traceback" not in run["out"]
    called = ipython_run["call_stub"]
    assert "✎ Your turn: `sign_in` (defined in cell In[" in called["out"]
    assert "Hint: Call initiate_auth" in called["out"] and "Traceback" not in called["out"]


def test_block_with_undefined_name_is_friendly(ipython_run):
    run = ipython_run["block"]
    assert run["error"] == "ExerciseNotPassed"
    assert "`pool` is not defined yet" in run["out"] and "Hint: Define it first" in run["out"]
    assert "Traceback" not in run["out"]


def test_aws_errors_keep_a_short_traceback(ipython_run):
    run = ipython_run["client_error"]
    assert run["error"] == "ParamValidationError"
    assert "client.describe_user_pool(UserPoolId=5)" in run["out"]
    assert "Invalid type for parameter UserPoolId" in run["out"]
    assert "frames inside boto3/botocore" in run["out"]
    assert "botocore/client.py" not in run["out"] and "validate.py" not in run["out"]


def test_other_errors_keep_their_usual_traceback(ipython_run):
    assert ipython_run["other"]["error"] == "ZeroDivisionError"
    assert "Traceback" in ipython_run["other"]["out"]
    deep = ipython_run["library_not_implemented"]
    assert deep["error"] == "NotImplementedError"
    assert "Your turn" not in deep["out"]


def test_a_previous_custom_handler_still_gets_its_exceptions(ipython_run):
    assert ipython_run["previous"]["out"].startswith("PREVIOUS HANDLER:")


def test_teardown_restores_the_previous_handler(ipython_run):
    run = ipython_run["teardown"]
    assert run["error"] == "ExerciseNotPassed"
    # no custom handler: IPython's own display; the exception's _render_traceback_ keeps it short
    assert "Hint: after teardown" in run["out"]


def test_friendly_display_in_a_jupyter_kernel():
    """Through ipykernel and nbclient, as in JupyterLab, nbval and tests/test_student.py."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    cells = [
        nbformat.v4.new_code_cell("from labkit.course.exercises import check_equal\n"
                                  "from labkit import course\ncourse.friendly_errors()"),
        nbformat.v4.new_code_cell("check_equal('0.1', 42, 42)"),
        nbformat.v4.new_code_cell("check_equal('0.1', 41, 42, hint='Add one.')",
                                  metadata={"tags": ["raises-exception"]}),
        nbformat.v4.new_code_cell("raise NotImplementedError('Call create_user_pool')",
                                  metadata={"tags": ["raises-exception"]}),
        nbformat.v4.new_code_cell("check_equal('0.2', 1, 2, hint='Stop here.')"),
        nbformat.v4.new_code_cell("print('never runs')"),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    client = NotebookClient(nb, kernel_name="python3", timeout=60, allow_errors=False)
    with pytest.raises(CellExecutionError) as info:
        client.execute()
    assert info.value.ename == "ExerciseNotPassed" and "Stop here." in info.value.evalue
    assert nb.cells[1].outputs[0]["text"] == "✓ Exercise 0.1 passed\n"
    error = nb.cells[2].outputs[0]
    assert error["output_type"] == "error" and error["ename"] == "ExerciseNotPassed"
    shown = ANSI.sub("", "\n".join(error["traceback"]))
    assert "Hint: Add one." in shown and "Traceback" not in shown
    stub = nb.cells[3].outputs[0]
    assert stub["ename"] == "NotImplementedError" and stub["evalue"] == "Call create_user_pool"
    assert "Your turn" in ANSI.sub("", "\n".join(stub["traceback"]))
    assert nb.cells[5].outputs == []


# -- sanitize.cfg ---------------------------------------------------------------------------------------

SANITIZE = ROOT / "notebooks" / "sanitize.cfg"


def sanitize(text: str) -> str:
    from nbval.plugin import get_sanitize_patterns

    for regex, replace in get_sanitize_patterns(SANITIZE.read_text()):
        text = re.sub(regex, replace, text)
    return text


def test_sanitize_file_is_well_formed():
    from nbval.plugin import get_sanitize_patterns

    content = SANITIZE.read_text()
    pairs = get_sanitize_patterns(content)
    assert len(pairs) == content.count("\nregex: ") >= 20
    for regex, replace in pairs:
        re.compile(regex)
        assert regex == regex.rstrip() and replace == replace.rstrip(), regex
    # every section has rules
    sections = re.split(r"^\[\w+\]$", content, flags=re.MULTILINE)[1:]
    assert all("regex: " in section for section in sections)


JWT = ("eyJraWQiOiJhYmMiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMiLCJ0b2tlbl91c2UiOiJpZCJ9."
       "c2lnbmF0dXJlLXdpdGgtbG90cy1vZi1ieXRlcw")
SAMPLES = [
    (JWT, "<JWT>"),
    (f"'IdToken': '{JWT}'", "'IdToken': '<JWT>'"),
    ("eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.a-b_c.d.e.f", "<JWT>"),
    ("token starts eyJraWQiOiJhYmMiLCJh...", "token starts <JWT>..."),
    ("us-east-1_e3e70682c2094caca29f6fbed82c07cd", "<USER_POOL_ID>"),
    ("us-east-1_AbC123xYz", "<USER_POOL_ID>"),
    ("arn:aws:cognito-idp:us-east-1:123456789012:userpool/eu-west-2_Xy9", "arn:aws:cognito-idp:us-east-1:123456789012:userpool/<USER_POOL_ID>"),
    ("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123xYz", "https://cognito-idp.us-east-1.amazonaws.com/<USER_POOL_ID>"),
    ("us-east-1:2f1e5a8c-1234-4cde-9abc-0123456789ab", "<IDENTITY_ID>"),
    ("us-gov-west-1:2f1e5a8c-1234-4cde-9abc-0123456789ab", "<IDENTITY_ID>"),
    ("'sub': '2f1e5a8c-1234-4cde-9abc-0123456789ab'", "'sub': '<UUID>'"),
    ("client 71545a137a1d40068d723104f7", "client <CLIENT_ID>"),
    ("ASIAJ7Q2X3Y4Z5A6B7C8 and AKIALABKITADMIN00000", "<ACCESS_KEY_ID> and <ACCESS_KEY_ID>"),
    ("'SecretKey': 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'", "'SecretKey': '<SECRET>'"),
    ('"SessionToken": "FQoGZXIvYXdzEBY...=="', '"SessionToken": "<SECRET>"'),
    ("'ClientSecret': '1q2w3e4r5t'", "'ClientSecret': '<SECRET>'"),
    ("'Session': 'AYABeC7f...'", "'Session': '<SECRET>'"),
    ("'RequestId': '9JEC3HqdZ6J6afU1zT0YQOaNF03vpUuT3em6KopZ9jZICffu4G7F'", "'RequestId': '<REQUEST_ID>'"),
    ("http://127.0.0.1:40765/us-east-1_abc/.well-known/jwks.json", "http://127.0.0.1:<PORT>/<USER_POOL_ID>/.well-known/jwks.json"),
    ("localhost:8080", "localhost:<PORT>"),
    ("2026-11-22T01:54:25Z", "<TIMESTAMP>"),
    ("2026-11-22T01:54:25.123456+00:00", "<TIMESTAMP>"),
    ("at 2026-11-22 01:54:25 UTC", "at <TIMESTAMP> UTC"),
    ("clock=2026-11-22 01:56:08Z (+0:00:00)", "clock=<TIMESTAMP> (+0:00:00)"),
    ("datetime.datetime(2026, 11, 22, 1, 56, 7, 368000, tzinfo=tzlocal())", "<DATETIME>"),
    ("datetime.datetime(2026, 11, 22, 1, 56, tzinfo=datetime.timezone.utc)", "<DATETIME>"),
    ("'date': 'Sun, 22 Nov 2026 01:56:07 GMT'", "'date': '<HTTP_DATE>'"),
    ("TIMESTAMP Sun Nov 2 01:54:25 UTC 2026", "TIMESTAMP <SRP_TIMESTAMP>"),
    ("expires on 2026-11-22", "expires on <DATE>"),
    ("<Message sign-up to ana@example.com by EMAIL at 01:54:25: code='123456'>",
     "<Message sign-up to ana@example.com by EMAIL at <TIME>: code='123456'>"),
    ("'exp': 1795312345, 'iat': 1795308745", "'exp': <EPOCH>, 'iat': <EPOCH>"),
    ("now 1795312345.123", "now <EPOCH>"),
    ("1795312345123 ms", "<EPOCH_MS> ms"),
    ("<labkit.Lab object at 0x7f3a2b1c4d50>", "<labkit.Lab object at <ADDRESS>>"),
    ("id 0x7f3a2b1c4d50", "id <ADDRESS>"),
    ("salt 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "salt <HEX>"),
    ("N = 0xFFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1", "N = <HEX>"),
    ("took 0.123 s", "took <DURATION>"),
    ("took 12.5 ms and 3.0µs", "took <DURATION> and <DURATION>"),
]


@pytest.mark.parametrize("text, expected", SAMPLES)
def test_sanitize_replaces_volatile_values(text, expected):
    assert sanitize(text) == expected


KEPT = [
    "first-pool", "NotAuthorizedException: Incorrect username or password.", "us-east-1",
    "valid for 3600 s", "code='123456'", "+0:00:00", "1:00:00", "ana@example.com",
    "ADMIN_USER_PASSWORD_AUTH", "abcdefghijklmnopqrstuvwxyz", "The lab now has 4 user pools.",
    "+15555550100", "sha256$e8d7163a$2923279c3cfe78bd6d52", "version 3.11", "RS256",
]


@pytest.mark.parametrize("text", KEPT)
def test_sanitize_keeps_what_is_deterministic(text):
    assert sanitize(text) == text


# -- labkit.course -------------------------------------------------------------------------------------

def test_diagrams_are_png_and_ascii():
    for diagram in (course.course_map(), course.cognito_map()):
        png = diagram._repr_png_()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000
        assert png == diagram.png()                       # deterministic
        assert b"Software" not in png[:200]
        assert len(repr(diagram).splitlines()) > 5
    assert "06  Identity pools" in repr(course.course_map())
    assert "USER POOL" in repr(course.cognito_map())


def test_course_lessons():
    numbers = [lesson.number for lesson in course.LESSONS]
    assert numbers[:7] == ["00", "01", "02", "03", "04", "05", "06"]
    assert numbers == sorted(set(numbers))          # in order, each once (later lessons may skip numbers)
    assert all(lesson.minutes > 0 and lesson.minutes % 5 == 0 for lesson in course.LESSONS)   # rounded estimates


def test_check_environment_and_versions(capsys):
    course.check_environment()
    out = capsys.readouterr().out
    assert out.count("✓") == 3 and not re.search(r"\d+\.\d+\.\d+", out)
    with pytest.raises(course.EnvironmentProblem, match="Python 9.0 or newer is needed"):
        course.check_environment(min_python=(9, 0))
    course.versions()
    assert "moto" in capsys.readouterr().out


def test_network_guard_allows_the_lab_only(capsys):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    original = (socket.getaddrinfo, socket.socket.connect)
    course.block_network()
    course.block_network(quiet=True)            # idempotent
    try:
        assert "Network guard on" in capsys.readouterr().out
        socket.create_connection(("127.0.0.1", port), timeout=5).close()   # the backlog accepts it
        server.accept()[0].close()
        with pytest.raises(course.NetworkBlocked, match="example.com:443"):
            socket.create_connection(("example.com", 443), timeout=5)
        with pytest.raises(course.NetworkBlocked):
            socket.socket().connect(("10.255.255.1", 80))
        with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
            probe.settimeout(2)      # if the guard regressed, fail fast instead of hanging
            probe.connect_ex(("192.0.2.1", 80))
    finally:
        course.allow_network()
        server.close()
    assert (socket.getaddrinfo, socket.socket.connect) == original and not course.environment._saved
