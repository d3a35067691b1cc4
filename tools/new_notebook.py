"""Write the skeleton of a course notebook, following tools/README.md.

Usage (from the repository root), once the lesson is in ``labkit/course/lessons.py``::

    .venv/bin/python tools/new_notebook.py 03                 # notebooks/03_srp_deep_dive.ipynb
    .venv/bin/python tools/new_notebook.py 03 --out /tmp/x.ipynb
    .venv/bin/python tools/new_notebook.py 09 "Sample lesson" --minutes 30   # not in LESSONS yet

Title and time come from :data:`labkit.course.lessons.LESSONS`, the one place they are kept.

It never overwrites a file. The skeleton runs as is (setup, one exercise with its check, a quiz
with one placeholder question, ``lab.stop()``); replace the placeholders, then produce the
outputs with ``tools/run_notebook.py``.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3", "file_extension": ".py",
                 "mimetype": "text/x-python", "nbconvert_exporter": "python",
                 "codemirror_mode": {"name": "ipython", "version": 3}}


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")


def skeleton(number: str, title: str, minutes: int):
    from labkit.course.exercises import answer_hash

    n = int(number)
    placeholder_answer = answer_hash("The right answer")
    cells = [
        new_markdown_cell(f"""# {number} · {title}

**Time:** about {minutes} minutes · **Before:** the previous lesson · **Next:** the next lesson

One paragraph: what this lesson is about and why it matters.

**You will**

- ...

**You need**

- ..."""),
        new_code_cell(f"""import labkit
from labkit import course
from labkit.course.exercises import exercise, expect_error, Quiz, question

lab = labkit.new_lab(seed={n})
course.block_network()
course.friendly_errors()
idp = lab.client("cognito-idp")
lab"""),
        new_markdown_cell("## 1 · First section\n\nExplain, then show with a short code cell."),
        new_markdown_cell(f"### Exercise {n}.1 · Short title\n\nWhat is given, what to do, which "
                          "variable to fill.\n\n**Your task:** ..."),
        new_code_cell("""### BEGIN SOLUTION
### HINT: One sentence that gets a stuck learner moving.
answer = 42
### END SOLUTION"""),
        new_code_cell(f"""with exercise("{n}.1", "short title", hint="Shown when a check fails.") as ex:
    ex.equal(answer, 42, what="answer")"""),
        new_markdown_cell("""> **🧪 The lab vs ☁️ Amazon Cognito**
>
> Where the lab differs from AWS for this lesson's topic, and what to expect on AWS."""),
        new_markdown_cell("""## Recap

- ...

### Self-check

Run the next cell to see the questions, then answer each one with `quiz.answer(number, "letter")`."""),
        new_code_cell(f"""quiz = Quiz("Self-check · {number} {title}", [
    question("Replace this question (make answer= with: python -m labkit.course.exercises hash \\"<right choice>\\")",
             ["A wrong answer", "The right answer", "Another wrong answer"],
             answer="{placeholder_answer}",
             hint="Shown after a wrong answer.", explain="Shown after the right one."),
])
quiz"""),
        new_code_cell("""### BEGIN SOLUTION
### HINT: Answer each question with quiz.answer(number, "letter"), for example quiz.answer(1, "a").
quiz.answer(1, "b")
### END SOLUTION
print(quiz.score())"""),
        new_markdown_cell("## Stop the lab"),
        new_code_cell("lab.stop()"),
    ]
    nb = new_notebook(cells=cells, metadata={"kernelspec": dict(KERNELSPEC),
                                             "language_info": dict(LANGUAGE_INFO)})
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{slug(title)[:40]}-{i:02d}"
    nbformat.validate(nb)
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/new_notebook.py", description=__doc__.split("\n\n")[0])
    from labkit.course.lessons import lesson

    parser.add_argument("number", help='two digits, e.g. "03"')
    parser.add_argument("title", nargs="?", help="default: the lesson's title in labkit/course/lessons.py")
    parser.add_argument("--minutes", type=int, help="default: the lesson's minutes in labkit/course/lessons.py")
    parser.add_argument("--out", type=Path, help="default: notebooks/NN_<title>.ipynb")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"\d\d", args.number):
        parser.error("number must be two digits, e.g. 03")
    try:
        entry = lesson(args.number)
    except KeyError as exc:
        if args.title is None:
            parser.error(f"{exc.args[0]}: add it to labkit/course/lessons.py first (number, title, minutes)")
        entry = None
    title = args.title or entry.title
    minutes = args.minutes or (entry.minutes if entry else 45)
    out = args.out or ROOT / "notebooks" / f"{args.number}_{slug(title)}.ipynb"
    if out.exists():
        print(f"{out} exists; not overwriting it", file=sys.stderr)
        return 1
    nbformat.write(skeleton(args.number, title, minutes), out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
