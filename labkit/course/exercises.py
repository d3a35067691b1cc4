"""Checks for the course's exercises and self-check quizzes, with friendly messages.

In a notebook::

    from labkit.course.exercises import exercise, check_equal, expect_error, Quiz, question

A right answer prints one line (``✓ Exercise 0.1 passed``). A wrong one raises
:class:`ExerciseNotPassed` (an ``AssertionError``) whose message says what was expected and gives
a hint. In IPython/Jupyter, :func:`friendly_errors` (one call in a notebook's setup cell) installs a display handler
so that the learner sees that short message, not a traceback; the cell still counts as failed,
so "Run all" stops there.

Checking an exercise
--------------------
The check cell after a solution cell is best written as a block, which turns *any* error while
checking (``NameError`` because the solution cell was not run, ``KeyError``, a ``ClientError``
from the lab...) into the same friendly message and prints one ✓ for the whole exercise::

    with exercise("0.1", hint="Call idp.create_user_pool(PoolName=...)") as ex:
        ex.equal(pool["Name"], "first-pool", what='pool["Name"]')
        ex.match(pool["Id"], r"us-east-1_\\w+", what='pool["Id"]')

One-line checks do the same for a single condition: :func:`check`, :func:`check_equal`,
:func:`check_true`, :func:`check_type`, :func:`check_contains`, :func:`check_match`,
:func:`check_jwt_claim`, :func:`check_jwt_claims`, :func:`check_raises`. All take the exercise
id first; ``what=`` names the value in the message and ``hint=`` is shown when it fails.

"This call should fail"::

    with expect_error("2.3", "NotAuthorizedException", hint="Use the wrong password on purpose"):
        idp.initiate_auth(...)

``expect_error("NotAuthorizedException")`` (no exercise id) is for lessons that *show* an error:
it prints ``✓ Failed as expected: NotAuthorizedException: …`` instead of stopping the notebook.

Self-check quizzes
------------------
Answers are stored as salted hashes so the notebook does not show them in plain text (this
stops spoilers, not a determined reader: there are only a few choices to try)::

    quiz = Quiz("Self-check", [
        question("Which part of Cognito issues JWTs?",
                 ["A user pool", "An identity pool"],
                 answer="sha256$5c1d…", hint="…", explain="…"),
    ])
    quiz            # shows the questions
    quiz.answer(1, "a")   # or answer(1, "a") for the latest quiz

Make the ``answer=`` value with ``python -m labkit.course.exercises hash "A user pool"`` (the text of the
right choice). :class:`Quiz` checks at construction that each hash matches exactly one choice.
"""
from __future__ import annotations

import hashlib
import re
import reprlib
import secrets
import sys
import textwrap
import types
from typing import Any, Callable, Iterable

__all__ = [
    "ExerciseNotPassed", "exercise", "Exercise",
    "check", "check_equal", "check_true", "check_type", "check_contains", "check_match",
    "check_jwt_claim", "check_jwt_claims", "check_raises", "expect_error", "ExpectedError",
    "Quiz", "Question", "question", "answer", "answer_hash",
    "friendly_errors", "teardown",
]

_MISSING = object()
_RED, _YELLOW, _DIM, _RESET = "\x1b[31m", "\x1b[33m", "\x1b[2m", "\x1b[0m"


# -- the exception and its message ---------------------------------------------------------------

class ExerciseNotPassed(AssertionError):
    """A check did not pass. ``str(e)`` is the friendly message (what is wrong, and a hint)."""

    def __init__(self, exercise: str | None, problem: str, hint: str | None = None) -> None:
        self.exercise = exercise
        self.problem = problem
        self.hint = hint
        super().__init__(self.friendly())

    def friendly(self) -> str:
        head = f"✗ Exercise {self.exercise} not passed yet" if self.exercise else "✗ Not as expected"
        lines = [head]
        lines += ["  " + line for line in self.problem.splitlines()]
        if self.hint:
            lines.append(f"  Hint: {self.hint}")
        return "\n".join(lines)

    def _render_traceback_(self) -> list[str]:
        """IPython shows this instead of a traceback (even where :func:`friendly_errors` did not run)."""
        head, _, rest = self.friendly().partition("\n")
        return [f"{_RED}{head}{_RESET}" + (f"\n{rest}" if rest else "")]


_repr = reprlib.Repr()
_repr.maxstring = 80
_repr.maxother = 80
_repr.maxlist = _repr.maxtuple = _repr.maxset = _repr.maxdict = 8
_repr.maxlevel = 3


def _show(value: Any) -> str:
    """A short repr: long strings (JWTs) and big dicts are abbreviated."""
    return _repr.repr(value)


#: Printed feedback wraps at this width (between words; an id or a URL is never cut), so it reads in
#: a narrow notebook and on GitHub without a horizontal scroll bar.
FEEDBACK_WIDTH = 100


def _say(text: str, indent: str = "  ") -> None:
    """Print one message, wrapped at FEEDBACK_WIDTH with continuation lines indented."""
    print(_wrap(text, indent))


def _wrap(text: str, indent: str = "  ", first: str = "") -> str:
    return textwrap.fill(text, FEEDBACK_WIDTH, initial_indent=first, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)


def _passed(exercise: str | None, detail: str | None = None) -> None:
    if exercise is None:
        return
    _say(f"✓ Exercise {exercise} passed" + (f": {detail}" if detail else ""))


def _fail(exercise, problem, hint):
    raise ExerciseNotPassed(exercise, problem, hint)


# -- one-line checks ---------------------------------------------------------------------------

def check(exercise: str, actual: Any, expected: Any = _MISSING, *, what: str = "your answer",
          hint: str | None = None, quiet: bool = False) -> None:
    """The all-purpose check.

    * ``check("1.1", value)`` passes if ``value`` is truthy;
    * ``check("1.1", value, expected)`` passes if ``value == expected``;
    * ``check("1.1", value, predicate)`` passes if ``predicate(value)`` is truthy (``expected``
      is a function, e.g. ``str.isdigit``);
    * ``check("1.1", value, dict)`` passes if ``value`` is a ``dict`` (``expected`` is a class).
    """
    if isinstance(expected, (type, tuple)) and expected and all(
            isinstance(t, type) for t in (expected if isinstance(expected, tuple) else (expected,))):
        check_type(exercise, actual, expected, what=what, hint=hint, quiet=True)
    elif expected is _MISSING:
        if not actual:
            _fail(exercise, f"{what} is {_show(actual)}, which is not what we are looking for.", hint)
    elif callable(expected) and not isinstance(expected, type):
        if not expected(actual):
            name = getattr(expected, "__name__", "the check")
            _fail(exercise, f"{what} is {_show(actual)}, and {name}({what}) is not true.", hint)
    else:
        _equal(exercise, actual, expected, what, hint)
    if not quiet:
        _passed(exercise)


def _equal(exercise, actual, expected, what, hint):
    if actual == expected:
        return
    problem = f"{what} is {_show(actual)}, but it should be {_show(expected)}."
    if type(actual) is not type(expected) and str(actual) == str(expected):
        problem += (f"\nThey look alike, but one is a {type(actual).__name__} and the other "
                    f"a {type(expected).__name__}.")
    _fail(exercise, problem, hint)


def check_equal(exercise: str, actual: Any, expected: Any, *, what: str = "your answer",
                hint: str | None = None, quiet: bool = False) -> None:
    """Pass if ``actual == expected``."""
    _equal(exercise, actual, expected, what, hint)
    if not quiet:
        _passed(exercise)


def check_true(exercise: str, condition: Any, expectation: str, *, hint: str | None = None,
               quiet: bool = False) -> None:
    """Pass if ``condition`` is truthy. ``expectation`` says what should hold, in words:

    ``check_true("1.2", pool_id.startswith("us-east-1_"), "pool_id should start with 'us-east-1_'")``
    """
    if not condition:
        _fail(exercise, f"Expected: {expectation}.", hint)
    if not quiet:
        _passed(exercise)


def check_type(exercise: str, value: Any, expected_type: type | tuple, *, what: str = "your answer",
               hint: str | None = None, quiet: bool = False) -> None:
    """Pass if ``isinstance(value, expected_type)``."""
    if not isinstance(value, expected_type):
        names = (expected_type if isinstance(expected_type, tuple) else (expected_type,))
        wanted = " or ".join(t.__name__ for t in names)
        _fail(exercise, f"{what} should be a {wanted}, but it is a {type(value).__name__}: "
                        f"{_show(value)}.", hint)
    if not quiet:
        _passed(exercise)


def check_contains(exercise: str, container: Any, item: Any, *, what: str = "your answer",
                   hint: str | None = None, quiet: bool = False) -> None:
    """Pass if ``item in container``."""
    try:
        ok = item in container
    except TypeError:
        ok = False
    if not ok:
        _fail(exercise, f"{what} should contain {_show(item)}, but it is {_show(container)}.", hint)
    if not quiet:
        _passed(exercise)


def check_match(exercise: str, text: Any, pattern: str, *, what: str = "your answer",
                hint: str | None = None, quiet: bool = False) -> None:
    """Pass if the whole of ``text`` matches the regular expression ``pattern``."""
    if not isinstance(text, str):
        _fail(exercise, f"{what} should be a string, but it is a {type(text).__name__}: {_show(text)}.",
              hint)
    if re.fullmatch(pattern, text) is None:
        _fail(exercise, f"{what} is {_show(text)}, which does not have the expected form "
                        f"(regular expression {pattern!r}).", hint)
    if not quiet:
        _passed(exercise)


# -- JWTs ----------------------------------------------------------------------------------------

def _jwt_parts(exercise, token, hint, header: bool) -> dict:
    if isinstance(token, dict):
        return token
    if isinstance(token, bytes):
        token = token.decode("ascii", "replace")
    if not isinstance(token, str) or token.count(".") != 2:
        _fail(exercise, f"{_show(token)} is not a JWT: a JWT is a string of three base64url parts "
                        "separated by dots (header.payload.signature), starting with 'eyJ'.", hint)
    import jwt

    try:
        if header:
            return jwt.get_unverified_header(token)
        return jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as err:
        _fail(exercise, f"This token cannot be decoded ({err}).", hint)


def check_jwt_claim(exercise: str, token: str | dict, claim: str, expected: Any = _MISSING, *,
                    header: bool = False, hint: str | None = None, quiet: bool = False) -> None:
    """Pass if the JWT has ``claim`` (and, if given, equal to ``expected``, or ``expected(value)``).

    The token is decoded *without* verifying its signature: this checks what it says, not whether
    to trust it (lesson 05 verifies). ``header=True`` looks in the header (``kid``, ``alg``).
    ``token`` may also be an already decoded dict of claims.
    """
    claims = _jwt_parts(exercise, token, hint, header)
    where = "header" if header else "token"
    if claim not in claims:
        _fail(exercise, f"The {where} has no {claim!r} claim. It has: {', '.join(sorted(claims))}.", hint)
    value = claims[claim]
    if expected is not _MISSING:
        if callable(expected) and not isinstance(expected, type):
            if not expected(value):
                _fail(exercise, f"The {where}'s {claim!r} is {_show(value)}, which is not what we are "
                                "looking for.", hint)
        else:
            _equal(exercise, value, expected, f"The {where}'s {claim!r}", hint)
    if not quiet:
        _passed(exercise)


def check_jwt_claims(exercise: str, token: str | dict, expected: dict, *, hint: str | None = None,
                     quiet: bool = False) -> None:
    """:func:`check_jwt_claim` for several claims: ``{"token_use": "id", "email": "ana@example.com"}``."""
    claims = _jwt_parts(exercise, token, hint, False)
    for claim, value in expected.items():
        check_jwt_claim(exercise, claims, claim, value, hint=hint, quiet=True)
    if not quiet:
        _passed(exercise)


# -- errors that should happen -----------------------------------------------------------------

def _error_code(error: BaseException) -> str:
    """The Cognito error code of a botocore ClientError, else the exception's class name."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return code
    return type(error).__name__


def _error_message(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and response.get("Error", {}).get("Message") is not None:
        return response["Error"]["Message"]
    return str(error)


def _error_matches(error: BaseException, wanted) -> bool:
    for want in wanted:
        if isinstance(want, type):
            if isinstance(error, want):
                return True
        elif want == _error_code(error) or want in {k.__name__ for k in type(error).__mro__}:
            return True
    return False


def _wanted_text(wanted) -> str:
    names = [w.__name__ if isinstance(w, type) else str(w) for w in wanted]
    return " or ".join(names)


class ExpectedError:
    """What :func:`expect_error` returns: after the block, ``.error``, ``.code`` and ``.message``."""

    def __init__(self, exercise: str | None, wanted: tuple, hint: str | None, quiet: bool) -> None:
        self.exercise = exercise
        self.wanted = wanted
        self.hint = hint
        self.quiet = quiet
        self.error: BaseException | None = None

    @property
    def code(self) -> str | None:
        return None if self.error is None else _error_code(self.error)

    @property
    def message(self) -> str | None:
        return None if self.error is None else _error_message(self.error)

    def __enter__(self) -> "ExpectedError":
        return self

    def __exit__(self, etype, error, tb) -> bool:
        if error is None:
            _fail(self.exercise, f"This should have failed with {_wanted_text(self.wanted)}, "
                                 "but it succeeded.", self.hint)
        if isinstance(error, ExerciseNotPassed) or not isinstance(error, Exception):
            return False
        if not _error_matches(error, self.wanted):
            raise ExerciseNotPassed(
                self.exercise,
                f"This should have failed with {_wanted_text(self.wanted)}, but it failed with "
                f"{_error_code(error)}: {_error_message(error)}", self.hint) from error
        self.error = error
        if not self.quiet:
            if self.exercise is None:
                _say(f"✓ Failed as expected: {self.code}: {self.message}")
            else:
                _passed(self.exercise, f"it failed with {self.code}, as it should")
        return True

    def __repr__(self) -> str:
        return f"<ExpectedError {_wanted_text(self.wanted)}: caught {self.code!r}>"


def expect_error(*args, hint: str | None = None, quiet: bool = False) -> ExpectedError:
    """``expect_error([exercise,] error)``: a ``with`` block that must fail with ``error``.

    ``error`` is a Cognito error code (``"NotAuthorizedException"``, matched against a
    ``ClientError``'s ``Error.Code``), an exception class name (``"ParamValidationError"``), an
    exception class, or a tuple of these. The error is caught; the block's ``as`` target keeps it
    (``.error``, ``.code``, ``.message``). If the block succeeds or fails differently,
    :class:`ExerciseNotPassed` is raised.
    """
    if len(args) == 1:
        exercise, error = None, args[0]
    elif len(args) == 2:
        exercise, error = args
    else:
        raise TypeError('use expect_error("NotAuthorizedException") or expect_error("2.3", '
                        '"NotAuthorizedException")')
    wanted = tuple(error) if isinstance(error, (tuple, list)) else (error,)
    return ExpectedError(exercise, wanted, hint, quiet)


def check_raises(exercise: str, error, func: Callable, *args, hint: str | None = None,
                 quiet: bool = False, **kwargs) -> BaseException:
    """Pass if ``func(*args, **kwargs)`` fails with ``error`` (see :func:`expect_error`); returns it."""
    with expect_error(exercise, error, hint=hint, quiet=quiet) as caught:
        func(*args, **kwargs)
    return caught.error


# -- a group of checks -------------------------------------------------------------------------

class Exercise:
    """The checks of one exercise (see :func:`exercise`). Its methods are the one-line checks
    without the exercise id, and print nothing: the block prints one ✓ at the end."""

    def __init__(self, name: str, title: str | None = None, hint: str | None = None) -> None:
        self.name = name
        self.title = title
        self.hint = hint

    def _h(self, hint):
        return self.hint if hint is None else hint

    def check(self, actual, expected=_MISSING, *, what="your answer", hint=None) -> None:
        check(self.name, actual, expected, what=what, hint=self._h(hint), quiet=True)

    def equal(self, actual, expected, *, what="your answer", hint=None) -> None:
        check_equal(self.name, actual, expected, what=what, hint=self._h(hint), quiet=True)

    def true(self, condition, expectation, *, hint=None) -> None:
        check_true(self.name, condition, expectation, hint=self._h(hint), quiet=True)

    def type(self, value, expected_type, *, what="your answer", hint=None) -> None:
        check_type(self.name, value, expected_type, what=what, hint=self._h(hint), quiet=True)

    def contains(self, container, item, *, what="your answer", hint=None) -> None:
        check_contains(self.name, container, item, what=what, hint=self._h(hint), quiet=True)

    def match(self, text, pattern, *, what="your answer", hint=None) -> None:
        check_match(self.name, text, pattern, what=what, hint=self._h(hint), quiet=True)

    def jwt_claim(self, token, claim, expected=_MISSING, *, header=False, hint=None) -> None:
        check_jwt_claim(self.name, token, claim, expected, header=header, hint=self._h(hint), quiet=True)

    def jwt_claims(self, token, expected: dict, *, hint=None) -> None:
        check_jwt_claims(self.name, token, expected, hint=self._h(hint), quiet=True)

    def raises(self, error, func, *args, hint=None, **kwargs) -> BaseException:
        return check_raises(self.name, error, func, *args, hint=self._h(hint), quiet=True, **kwargs)

    def expect_error(self, error, *, hint=None) -> ExpectedError:
        return expect_error(self.name, error, hint=self._h(hint), quiet=True)

    def __enter__(self) -> "Exercise":
        return self

    def __exit__(self, etype, error, tb) -> bool:
        if error is None:
            _passed(self.name, self.title)
            return False
        if isinstance(error, ExerciseNotPassed):
            if error.exercise is None:
                raise ExerciseNotPassed(self.name, error.problem, error.hint or self.hint) from None
            return False
        if not isinstance(error, Exception):   # KeyboardInterrupt, SystemExit
            return False
        raise ExerciseNotPassed(self.name, _explain_error(error), self.hint) from error

    def __repr__(self) -> str:
        return f"<Exercise {self.name}>"


def _explain_error(error: Exception) -> str:
    if isinstance(error, NameError) and getattr(error, "name", None):
        return (f"`{error.name}` is not defined yet. Run your solution cell (above) first, "
                "then this check again.")
    if type(error).__name__ == "LabNotRunning":
        return ("The lab is not running. Run the cell near the top that starts it "
                "(lab = labkit.new_lab(...)), then your solution, then this check.")
    if getattr(error, "response", None) and isinstance(error.response, dict):
        return (f"Checking your answer, the lab answered {_error_code(error)}: "
                f"{_error_message(error)}")
    return f"Checking your answer failed with {type(error).__name__}: {error}"


def exercise(name: str, title: str | None = None, *, hint: str | None = None) -> Exercise:
    """A ``with`` block holding the checks of exercise ``name``; prints one ✓ if all pass.

    Any error inside the block (a name the learner has not defined yet, a missing key, an error
    from the lab) becomes :class:`ExerciseNotPassed` with ``hint``.
    """
    return Exercise(name, title, hint)


# -- quizzes -------------------------------------------------------------------------------------

def _normalise(choice: str) -> str:
    return " ".join(str(choice).split()).casefold()


def answer_hash(choice: str, *, salt: str | None = None) -> str:
    """The stored form of a right answer: ``sha256$<salt>$<digest>`` of the choice's text."""
    salt = secrets.token_hex(4) if salt is None else salt
    if not re.fullmatch(r"[0-9a-f]{1,32}", salt):
        raise ValueError("salt must be a short lowercase hex string")
    digest = hashlib.sha256(f"labkit-quiz|{salt}|{_normalise(choice)}".encode()).hexdigest()[:20]
    return f"sha256${salt}${digest}"


def _hash_matches(stored: str, choice: str) -> bool:
    try:
        scheme, salt, _ = stored.split("$")
    except ValueError:
        return False
    return scheme == "sha256" and answer_hash(choice, salt=salt) == stored


class Question:
    """One multiple-choice question. Choices are lettered a), b), c)..."""

    def __init__(self, prompt: str, choices: Iterable[str], answer: str, *, hint: str | None = None,
                 explain: str | None = None) -> None:
        self.prompt = prompt.strip()
        self.choices = [str(c) for c in choices]
        if not 2 <= len(self.choices) <= 26:
            raise ValueError(f"a question needs 2 to 26 choices: {prompt!r}")
        self.answer = answer
        self.hint = hint
        self.explain = explain
        matches = [c for c in self.choices if _hash_matches(answer, c)]
        if len(matches) != 1:
            raise ValueError(
                f"The answer hash of {prompt!r} matches {len(matches)} of its choices (it must match "
                "exactly one). Make it with: python -m labkit.course.exercises hash \"<text of the right choice>\"")

    @property
    def letters(self) -> str:
        return "abcdefghijklmnopqrstuvwxyz"[:len(self.choices)]

    def is_right(self, letter: str) -> bool:
        return _hash_matches(self.answer, self.choices[self.letters.index(letter)])


def question(prompt: str, choices: Iterable[str], answer: str, *, hint: str | None = None,
             explain: str | None = None) -> Question:
    """A question for :class:`Quiz`. ``answer`` is :func:`answer_hash` of the right choice's text;
    ``hint`` is shown after a wrong answer, ``explain`` after the right one."""
    return Question(prompt, choices, answer, hint=hint, explain=explain)


_latest_quiz: "Quiz | None" = None


class Quiz:
    """Numbered questions (1, 2, ...). Display it to show them; ``quiz.answer(n, "b")`` checks one."""

    def __init__(self, title: str, questions: Iterable[Question]) -> None:
        global _latest_quiz
        self.title = title
        self.questions = list(questions)
        if not self.questions:
            raise ValueError("a quiz needs at least one question")
        self.results: dict[int, bool] = {}
        _latest_quiz = self

    def _question(self, number) -> Question:
        if not isinstance(number, int) or not 1 <= number <= len(self.questions):
            raise ExerciseNotPassed(None, f"There is no question {number!r}: this quiz has questions "
                                          f"1 to {len(self.questions)}.")
        return self.questions[number - 1]

    def answer(self, number: int, letter: str) -> None:
        """Print ✓ (and why) if ``letter`` is the right choice of question ``number``, else a hint."""
        q = self._question(number)
        choice = str(letter).strip().strip(")").lower()
        if len(choice) != 1 or choice not in q.letters:
            raise ExerciseNotPassed(None, f"Answer question {number} with one letter: "
                                          f"{', '.join(q.letters)}.")
        right = q.is_right(choice)
        self.results[number] = right
        if right:
            _say(f"✓ Question {number}: right." + (f" {q.explain}" if q.explain else ""))
        else:
            _say(f"✗ Question {number}: not quite." + (f" {q.hint}" if q.hint else " Try another choice."))

    def score(self) -> str:
        """E.g. ``3/4 right``, counting each question's latest answer."""
        return f"{sum(self.results.values())}/{len(self.questions)} right"

    def _lines(self, markdown: bool) -> list[str]:
        lines = [f"**{self.title}**" if markdown else self.title, ""]
        for n, q in enumerate(self.questions, 1):
            lines.append(f"{n}. {q.prompt}" if markdown else _wrap(f"{n}. {q.prompt}", "   "))
            for letter, choice in zip(q.letters, q.choices):
                lines.append(f"    - {letter}) {choice}" if markdown
                             else _wrap(f"{letter}) {choice}", "      ", first="   "))
            if markdown:
                lines.append("")
        example = 'quiz.answer(1, "a")'
        lines.append(f"Answer with `{example}`." if markdown else f"Answer with {example}.")
        return lines

    def __repr__(self) -> str:
        return "\n".join(self._lines(markdown=False))

    def _repr_markdown_(self) -> str:
        return "\n".join(self._lines(markdown=True))


def answer(number: int, letter: str) -> None:
    """``quiz.answer(number, letter)`` for the quiz created last."""
    if _latest_quiz is None:
        raise ExerciseNotPassed(None, "No quiz has been defined yet: run the cell with the questions first.")
    _latest_quiz.answer(number, letter)


# -- friendly display in IPython -----------------------------------------------------------------

_installed: dict = {}


def _aws_error_types() -> tuple:
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:   # pragma: no cover - botocore is a dependency
        return ()
    return (ClientError, BotoCoreError)


def _cell_files(shell) -> dict:
    return getattr(getattr(shell, "compile", None), "_filename_map", {}) or {}


def _frames(tb) -> list:
    out = []
    while tb is not None:
        out.append(tb)
        tb = tb.tb_next
    return out


def _exercise_stub(shell, tb) -> str | None:
    """Where a ``NotImplementedError`` came from, if it was raised by notebook code (a student
    copy's ``raise NotImplementedError(hint)``): "this cell", or "`f` (In[3])". Else None."""
    frames = _frames(tb)
    if not frames:
        return None
    code = frames[-1].tb_frame.f_code
    cells = _cell_files(shell)
    if code.co_filename not in cells:
        return None
    if code.co_name == "<module>" and len(frames) <= 2:
        return "this cell"
    return f"`{code.co_name}` (defined in cell In[{cells[code.co_filename]}])"


def _library_dirs() -> tuple:
    import os

    dirs = []
    for name in ("botocore", "boto3", "urllib3"):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__file__", None):
            dirs.append(os.path.dirname(module.__file__) + os.sep)
    return tuple(dirs)


def _short_traceback(shell, etype, value, tb, tb_offset) -> list[str]:
    """The usual IPython traceback without the frames inside boto3/botocore."""
    hidden_dirs = _library_dirs()
    kept = [t for t in _frames(tb) if not t.tb_frame.f_code.co_filename.startswith(hidden_dirs)]
    hidden = len(_frames(tb)) - len(kept)
    new_tb = None
    for t in reversed(kept):
        new_tb = types.TracebackType(new_tb, t.tb_frame, t.tb_lasti, t.tb_lineno)
    stb = shell.InteractiveTB.structured_traceback(etype, value, new_tb, tb_offset=tb_offset)
    if hidden:
        from_server = getattr(value, "response", None) is not None
        note = (": the error above is the lab's answer, as AWS would give it" if from_server
                else "")
        stb = list(stb) + [f"{_DIM}(labkit hid {hidden} frames inside boto3/botocore{note}){_RESET}"]
    return stb


def _handler(shell, etype, value, tb, tb_offset=None):
    if isinstance(value, ExerciseNotPassed):
        stb = value._render_traceback_()
    elif isinstance(value, NotImplementedError) and _exercise_stub(shell, tb):
        where = _exercise_stub(shell, tb)
        hint = str(value) or "write your solution here"
        if where == "this cell":
            head, todo = "this cell is an exercise.", "then run the cell again"
        else:
            head, todo = f"{where} is an exercise.", "run that cell, then this one again"
        stb = [f"{_YELLOW}✎ Your turn: {head}{_RESET}\n"
               f"  Replace `raise NotImplementedError(...)` with your code, {todo}.\n"
               f"  Hint: {hint}"]
    elif isinstance(value, _aws_error_types()):
        stb = _short_traceback(shell, etype, value, tb, tb_offset)
    else:
        previous = _installed.get("previous")
        if previous is not None and previous[0] and isinstance(value, previous[0]):
            return previous[1](etype, value, tb, tb_offset)
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None
    shell._showtraceback(etype, value, stb)
    return None


def friendly_errors(shell=None) -> bool:
    """Show failed checks (and a few common errors) briefly in IPython. Idempotent.

    Each notebook's setup cell calls it once (``course.friendly_errors()``); importing labkit
    changes nothing in IPython by itself. Returns False outside IPython, where nothing is needed:
    ``ExerciseNotPassed``'s message is already the friendly text. Exceptions handled:
    :class:`ExerciseNotPassed` (message only), ``NotImplementedError`` raised by an exercise cell
    itself ("your turn" and the hint), botocore errors (traceback without botocore's frames).
    Exceptions another custom handler was registered for still go to it.
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    if _installed.get("shell") is shell:
        return True
    previous = None
    if getattr(shell, "custom_exceptions", ()):
        previous = (shell.custom_exceptions, shell.CustomTB)
    _installed.update(shell=shell, previous=previous)
    handled = (ExerciseNotPassed, NotImplementedError) + _aws_error_types()
    shell.set_custom_exc(handled + (previous[0] if previous else ()), _handler)
    return True


def teardown() -> None:
    """Undo :func:`friendly_errors` (restores a previously registered custom handler, if any)."""
    shell = _installed.pop("shell", None)
    previous = _installed.pop("previous", None)
    if shell is None:
        return
    if previous is not None:
        shell.custom_exceptions, shell.CustomTB = previous
    else:
        shell.set_custom_exc((), None)



# -- authoring helper ------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """``python -m labkit.course.exercises hash "text of the right choice"``: print an ``answer=`` value."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "hash":
        print(answer_hash(argv[1]))
        return 0
    print('usage: python -m labkit.course.exercises hash "text of the right choice"', file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
