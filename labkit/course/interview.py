"""Lesson 13's interview practice: the question bank, its checker, and a timed mock round.

The bank is ``data/interview_questions.toml`` (read with :mod:`tomllib`): one ``[[question]]``
table per question, each tied to a lesson (01-12), a kind (``concept``, ``what-happens-if``,
``scenario``, ``spot-the-bug``), the AWS page that states the fact (``source``) and the lesson's
notebook and section to go back to (``link``)::

    bank = load_bank()                 # validated: BankError names the entry and the field
    bank.ask("05-validity-units")      # the prompt, the code under review, lettered choices
    bank.check("05-validity-units", "a")   # ✓, or ✗ with the explanation and the link back

    mock = bank.mock_round(n=8, minutes=12, seed=13)   # the same 8 questions for the same seed
    mock                               # the questions and the time budget
    mock.answer(1, "b") ...
    mock.report()                      # score by lesson, what to re-read (no clock in it)
    mock.timing()                      # elapsed vs budget: real time, so keep it out of nbval

Free-form questions have a ``rule`` instead of choices: ``{any = [...]}`` (one of the phrases must
appear in the answer, case and spacing ignored) or ``{all = [...]}``.
"""
from __future__ import annotations

import random
import re
import textwrap
import time
import tomllib
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .exercises import ExerciseNotPassed

__all__ = ["Question", "QuestionBank", "BankError", "Verdict", "MockRound", "load_bank", "BANK_PATH",
           "KINDS", "PARALLEL_LESSONS", "LESSON_NOTEBOOKS"]

BANK_PATH = Path(__file__).resolve().parents[2] / "data" / "interview_questions.toml"
KINDS = ("concept", "what-happens-if", "scenario", "spot-the-bug")
#: Lessons written in parallel with this one: their notebooks may not be in this checkout yet.
PARALLEL_LESSONS = {"09": "09_passwordless_passkeys.ipynb", "12": "12_running_cognito.ipynb"}
WIDTH = 100
_REQUIRED = ("id", "lesson", "kind", "prompt", "answer", "explanation", "link", "source")
_OPTIONAL = ("choices", "rule", "code")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _lesson_notebooks() -> dict[str, str]:
    """Lesson number → notebook file name, for the lessons of the catalog and the parallel ones."""
    from .lessons import LESSONS

    notebooks = Path(__file__).resolve().parents[2] / "notebooks"
    names = {p.name[:2]: p.name for p in notebooks.glob("[0-9][0-9]_*.ipynb")}
    known = {item.number: names.get(item.number) for item in LESSONS}
    for number, name in PARALLEL_LESSONS.items():
        known[number] = known.get(number) or name
    return {k: v for k, v in known.items() if v}


LESSON_NOTEBOOKS = _lesson_notebooks()


def short_source(url: str) -> str:
    """``developer guide: token-revocation.html`` for a long AWS URL (outputs stay 100 columns wide)."""
    guides = {"/cognito/latest/developerguide/": "Cognito developer guide",
              "/cognito-user-identity-pools/latest/APIReference/": "Cognito API reference",
              "/apigateway/latest/developerguide/": "API Gateway developer guide"}
    for part, name in guides.items():
        if part in url:
            return f"{name}, {url.rsplit('/', 1)[-1]}"
    return url


class AnswerNotUnderstood(ExerciseNotPassed, ValueError):
    """An answer that is neither a choice's letter nor its text; shown as a short ✗ message in Jupyter."""

    def __init__(self, message: str) -> None:
        super().__init__(None, message)


class BankError(ValueError):
    """The question bank is malformed; the message names the entry and what is wrong with it."""


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def _wrap(text: str, indent: str = "", first: str | None = None) -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent if first is None else first,
                         subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)


@dataclass(frozen=True)
class Question:
    """One interview question. ``choices`` is empty for a free-form question with a ``rule``."""

    id: str
    lesson: str
    kind: str
    prompt: str
    answer: str
    explanation: str
    notebook: str
    section: str
    source: str
    choices: tuple[str, ...] = ()
    rule: dict = field(default_factory=dict)
    code: str = ""

    @property
    def link(self) -> str:
        """Where to read again: ``notebooks/05_token_lifecycle.ipynb, section "5 · Lifetimes…"``."""
        return f'notebooks/{self.notebook}, section "{self.section}"'

    @property
    def free_form(self) -> bool:
        return not self.choices

    def text(self, number: int | None = None) -> str:
        """The question as a learner sees it (no answer)."""
        head = f"{number}. " if number is not None else ""
        lines = [_wrap(f"{head}[{self.lesson} · {self.kind}] {self.prompt}", "   ", first="")]
        if self.code:
            lines += ["      " + line for line in self.code.strip("\n").splitlines()]
        if self.choices:
            lines += [_wrap(f"{letter}) {choice}", "      ", first="   ")
                      for letter, choice in zip(_LETTERS, self.choices)]
        else:
            lines.append("   (free answer: a short text)")
        return "\n".join(lines)

    def is_right(self, response: str) -> bool:
        """``response``: a choice's letter (or its exact text); for free-form questions, the text."""
        if self.choices:
            given = str(response).strip().strip(")")
            letters = _LETTERS[:len(self.choices)]
            if len(given) == 1 and given.lower() in letters:
                given = self.choices[_LETTERS.index(given.lower())]
            elif len(given) <= 1 or _norm(given) not in {_norm(c) for c in self.choices}:
                raise AnswerNotUnderstood(f"{self.id}: answer with one letter ({', '.join(letters)}) or the text of a "
                                 f"choice, not {response!r}")
            return _norm(given) == _norm(self.answer)
        said = _norm(response)
        if "any" in self.rule:
            return any(_norm(p) in said for p in self.rule["any"])
        return all(_norm(p) in said for p in self.rule["all"])

    def letter_of_answer(self) -> str | None:
        return _LETTERS[self.choices.index(self.answer)] if self.choices else None


@dataclass(frozen=True)
class Verdict:
    """The result of :meth:`QuestionBank.check`; prints as one ✓ line, or ✗ with why and where to read."""

    question: Question
    response: str
    right: bool

    def __bool__(self) -> bool:
        return self.right

    def __repr__(self) -> str:
        q = self.question
        if self.right:
            return _wrap(f"✓ {q.id}: right. {q.explanation}", "  ", first="")
        lines = [_wrap(f"✗ {q.id}: not quite. {q.explanation}", "  ", first=""),
                 _wrap(f"Read again: {q.link}", "  ", first="  "),
                 f"  Source: {short_source(q.source)}"]
        return "\n".join(lines)


def _validate(entry: Any, index: int, notebooks: dict[str, str]) -> Question:
    where = f"question #{index + 1}" + (f" ({entry.get('id')!r})" if isinstance(entry, dict) and entry.get("id") else "")
    if not isinstance(entry, dict):
        raise BankError(f"{where}: each [[question]] must be a table, not {type(entry).__name__}")
    missing = [k for k in _REQUIRED if k not in entry]
    if missing:
        raise BankError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise BankError(f"{where}: unknown field(s) {', '.join(unknown)} (allowed: "
                        f"{', '.join(_REQUIRED + _OPTIONAL)})")
    for key in ("id", "lesson", "kind", "prompt", "answer", "explanation", "source"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise BankError(f"{where}: {key} must be a non-empty string")
    qid, lesson = entry["id"], entry["lesson"]
    if lesson not in notebooks:
        raise BankError(f"{where}: lesson {lesson!r} is not a lesson of the course "
                        f"({', '.join(sorted(notebooks))})")
    if not re.fullmatch(r"\d\d-[a-z0-9-]+", qid) or not qid.startswith(lesson + "-"):
        raise BankError(f"{where}: id must look like '{lesson}-some-slug' (its lesson, a dash, lowercase words)")
    if entry["kind"] not in KINDS:
        raise BankError(f"{where}: kind {entry['kind']!r} is not one of {', '.join(KINDS)}")
    if not entry["source"].startswith("https://docs.aws.amazon.com/"):
        raise BankError(f"{where}: source must be an AWS documentation page (https://docs.aws.amazon.com/...)")
    link = entry["link"]
    if not isinstance(link, dict) or set(link) != {"notebook", "section"}:
        raise BankError(f"{where}: link must be {{notebook = \"NN_x.ipynb\", section = \"...\"}}")
    if link["notebook"] != notebooks[lesson]:
        raise BankError(f"{where}: link.notebook {link['notebook']!r} is not lesson {lesson}'s notebook "
                        f"({notebooks[lesson]!r})")
    choices, rule = entry.get("choices"), entry.get("rule")
    if (choices is None) == (rule is None):
        raise BankError(f"{where}: give either choices (with answer = the right choice's text) or a rule "
                        "(for a free answer), not both or neither")
    if choices is not None:
        if not isinstance(choices, list) or not 2 <= len(choices) <= 6 or not all(isinstance(c, str) for c in choices):
            raise BankError(f"{where}: choices must be a list of 2 to 6 strings")
        if len({_norm(c) for c in choices}) != len(choices):
            raise BankError(f"{where}: two choices are the same")
        if entry["answer"] not in choices:
            raise BankError(f"{where}: answer {entry['answer']!r} is not one of its choices")
    else:
        if (not isinstance(rule, dict) or len(rule) != 1 or next(iter(rule)) not in ("any", "all")
                or not isinstance(next(iter(rule.values())), list) or not next(iter(rule.values()))):
            raise BankError(f"{where}: rule must be {{any = [\"...\", ...]}} or {{all = [\"...\", ...]}}")
    question = Question(id=qid, lesson=lesson, kind=entry["kind"], prompt=entry["prompt"].strip(),
                        answer=entry["answer"], explanation=entry["explanation"].strip(),
                        notebook=link["notebook"], section=link["section"], source=entry["source"],
                        choices=_shuffled(choices or (), qid), rule=dict(rule or {}), code=entry.get("code", ""))
    if rule is not None and not question.is_right(entry["answer"]):
        raise BankError(f"{where}: its own answer {entry['answer']!r} does not pass its rule")
    return question


def _shuffled(choices, qid: str) -> tuple[str, ...]:
    """The choices in an order fixed by the question's id (the file may list the right one anywhere:
    the letters learners see don't give it away, and stay the same on every run)."""
    order = list(choices)
    random.Random(zlib.crc32(qid.encode())).shuffle(order)
    return tuple(order)


class QuestionBank:
    """The validated questions, by id. Build it with :func:`load_bank`."""

    def __init__(self, questions: Iterable[Question], path: Path | None = None) -> None:
        self.questions = list(questions)
        self.path = path
        self._by_id = {q.id: q for q in self.questions}

    def __len__(self) -> int:
        return len(self.questions)

    def __getitem__(self, qid: str) -> Question:
        try:
            return self._by_id[qid]
        except KeyError:
            raise KeyError(f"no question {qid!r} in the bank") from None

    @property
    def lessons(self) -> list[str]:
        return sorted({q.lesson for q in self.questions})

    def by_lesson(self) -> dict[str, int]:
        return dict(sorted(Counter(q.lesson for q in self.questions).items()))

    def by_kind(self) -> dict[str, int]:
        counts = Counter(q.kind for q in self.questions)
        return {k: counts[k] for k in KINDS}

    def summary(self) -> str:
        lessons = "  ".join(f"{k}:{v}" for k, v in self.by_lesson().items())
        kinds = ", ".join(f"{v} {k}" for k, v in self.by_kind().items())
        return "\n".join([f"{len(self)} questions from {len(self.by_lesson())} lessons", _wrap(f"by lesson  {lessons}"),
                          _wrap(f"by kind    {kinds}")])

    def __repr__(self) -> str:
        return self.summary()

    def ask(self, qid: str) -> None:
        """Print one question (prompt, code under review, lettered choices)."""
        print(self[qid].text())

    def check(self, qid: str, response: str) -> Verdict:
        """Check ``response`` (a letter, or the text for a free answer). Wrong: why, and where to read again."""
        question = self[qid]
        return Verdict(question, response, question.is_right(response))

    def draw(self, n: int, *, seed: int, lessons: Iterable[str] | None = None) -> list[Question]:
        """``n`` questions drawn at random with ``seed``, spread over the lessons (round robin by lesson)."""
        pool = [q for q in self.questions if lessons is None or q.lesson in set(lessons)]
        if not 1 <= n <= len(pool):
            raise ValueError(f"a round takes 1 to {len(pool)} questions, not {n}")
        rng = random.Random(seed)
        groups: dict[str, list[Question]] = defaultdict(list)
        for q in pool:
            groups[q.lesson].append(q)
        order = sorted(groups)
        rng.shuffle(order)
        for lesson in order:
            rng.shuffle(groups[lesson])
        picked: list[Question] = []
        while len(picked) < n:
            for lesson in order:
                if groups[lesson] and len(picked) < n:
                    picked.append(groups[lesson].pop())
        rng.shuffle(picked)
        return picked

    def mock_round(self, n: int = 8, minutes: float = 12, *, seed: int, lessons: Iterable[str] | None = None,
                   clock=time.monotonic) -> "MockRound":
        """A timed round: ``n`` questions for ``seed``, ``minutes`` to answer them. The clock starts now."""
        return MockRound(self.draw(n, seed=seed, lessons=lessons), minutes=minutes, seed=seed, clock=clock)


class MockRound:
    """Questions numbered 1..n, a time budget, answers and a report by lesson.

    Everything shown is the same for the same seed and answers; only :meth:`timing` reads the clock
    (real time, ``time.monotonic`` unless another ``clock`` is given)."""

    def __init__(self, questions: list[Question], *, minutes: float, seed: int, clock=time.monotonic) -> None:
        if minutes <= 0:
            raise ValueError("the time budget must be positive")
        self.questions = questions
        self.minutes = minutes
        self.seed = seed
        self._clock = clock
        self._started = clock()
        self._finished: float | None = None
        self.answers: dict[int, Verdict] = {}

    @property
    def ids(self) -> list[str]:
        return [q.id for q in self.questions]

    def __repr__(self) -> str:
        head = (f"Mock round (seed {self.seed}): {len(self.questions)} questions, {self.minutes:g} minutes "
                f"(about {60 * self.minutes / len(self.questions):.0f} s a question, as in a screening call)")
        body = "\n\n".join(q.text(i) for i, q in enumerate(self.questions, 1))
        return f"{head}\n\n{body}\n\nAnswer with mock.answer(number, \"letter\" or text); then mock.report()."

    def answer(self, number: int, response: str) -> Verdict:
        """Record the answer to question ``number``; the verdict shows at once (✓, or ✗ and where to read)."""
        if not isinstance(number, int) or not 1 <= number <= len(self.questions):
            raise ValueError(f"this round has questions 1 to {len(self.questions)}, not {number!r}")
        question = self.questions[number - 1]
        verdict = Verdict(question, response, question.is_right(response))
        self.answers[number] = verdict
        if len(self.answers) == len(self.questions) and self._finished is None:
            self._finished = self._clock()
        return verdict

    def score(self) -> str:
        right = sum(v.right for v in self.answers.values())
        return f"{right}/{len(self.questions)} right"

    def report(self) -> "RoundReport":
        return RoundReport(self)

    def elapsed(self) -> float:
        """Seconds from the start to the last answer (or to now, while answering)."""
        end = self._finished if self._finished is not None else self._clock()
        return end - self._started

    def timing(self) -> str:
        """Elapsed time against the budget. Real time: print it in a cell nbval ignores."""
        used = self.elapsed()
        budget = 60 * self.minutes
        verdict = "within the budget" if used <= budget else f"{used - budget:.1f} s over the budget"
        return f"{used:.1f} s of {budget:.0f} s: {verdict}"


class RoundReport:
    """Score by lesson, and for each wrong or unanswered question where to read again."""

    def __init__(self, mock: MockRound) -> None:
        self.mock = mock

    def rows(self) -> list[tuple[str, int, int]]:
        total: Counter = Counter()
        right: Counter = Counter()
        for i, q in enumerate(self.mock.questions, 1):
            total[q.lesson] += 1
            right[q.lesson] += bool(self.mock.answers.get(i))
        return [(lesson, right[lesson], total[lesson]) for lesson in sorted(total)]

    def __repr__(self) -> str:
        lines = [f"Mock round (seed {self.mock.seed}): {self.mock.score()}", "", "lesson  score   "]
        for lesson, right, total in self.rows():
            bar = "█" * right + "░" * (total - right)
            lines.append(f"  {lesson}    {right}/{total}    {bar}")
        todo = [(i, q) for i, q in enumerate(self.mock.questions, 1) if not self.mock.answers.get(i)]
        if todo:
            lines += ["", "Read again:"]
            for i, q in todo:
                state = "unanswered" if i not in self.mock.answers else "wrong"
                lines.append(_wrap(f"{i}. {q.id} ({state}): {q.link}", "     ", first="  "))
        else:
            lines += ["", "Nothing to re-read: every answer was right."]
        return "\n".join(lines)


def load_bank(path: str | Path | None = None) -> QuestionBank:
    """Read and validate the bank (``data/interview_questions.toml`` by default).

    Raises :class:`BankError` naming the entry and the field for anything malformed: a missing field,
    an unknown lesson or kind, an answer that is not among the choices, a duplicate id, a link to
    another lesson's notebook, a source that is not an AWS documentation page."""
    path = Path(path) if path is not None else BANK_PATH
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise BankError(f"{path.name} is not valid TOML: {err}") from None
    entries = data.get("question")
    if not isinstance(entries, list) or not entries:
        raise BankError(f"{path.name} has no [[question]] tables")
    questions = [_validate(entry, i, LESSON_NOTEBOOKS) for i, entry in enumerate(entries)]
    seen: set[str] = set()
    for q in questions:
        if q.id in seen:
            raise BankError(f"question {q.id!r} appears twice: ids must be unique")
        seen.add(q.id)
    return QuestionBank(questions, path)
