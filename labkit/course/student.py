"""Student copies of the course notebooks: solutions out, ``raise NotImplementedError(hint)`` in.

    python -m labkit.course.student SRC_DIR OUT_DIR      # e.g. `make student`: notebooks -> student

The committed notebooks hold the solutions, between two marker lines in a code cell::

    ### BEGIN SOLUTION
    ### HINT: Call idp.create_user_pool(PoolName=...) and keep response["UserPool"].
    response = idp.create_user_pool(PoolName="first-pool")
    pool = response["UserPool"]
    ### END SOLUTION

In the student copy the whole block (markers included) becomes one line, at the indentation of
the ``### BEGIN SOLUTION`` line::

    raise NotImplementedError("Call idp.create_user_pool(PoolName=...) and keep response[\\"UserPool\\"].")

Rules:

* Markers are whole comment lines (any indentation): ``### BEGIN SOLUTION``, ``### END SOLUTION``,
  ``### HINT: text``. Several ``### HINT:`` lines are joined with spaces. Without one the hint is
  :data:`DEFAULT_HINT`. A cell may hold several blocks; blocks do not nest.
* Markdown cells may hide a model answer between ``<!-- BEGIN SOLUTION -->`` and
  ``<!-- END SOLUTION -->``; it becomes :data:`MARKDOWN_PLACEHOLDER`.
* **Every output is cleared** and execution counts reset. Outputs after the first exercise come
  from the solutions (spoilers, ids the learner will not get); outputs before it reappear the
  moment the learner runs the cells. The committed notebooks keep their outputs for reading
  on GitHub.
* Cell metadata is reduced to ``tags`` (``raises-exception`` matters to Jupyter and nbclient);
  notebook metadata to ``kernelspec`` and ``language_info`` (nbgrader, timings, widget state and
  the like are dropped).
* Files other than notebooks in SRC_DIR (images, data) are copied alongside, except hidden
  files, ``.ipynb_checkpoints``, ``__pycache__`` and ``sanitize.cfg``.
"""
from __future__ import annotations

import argparse
import copy
import re
import shutil
import sys
from pathlib import Path

import nbformat

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
HINT = "### HINT:"
DEFAULT_HINT = "Your turn: replace this line with your solution (see the exercise above)."
MD_BEGIN = "<!-- BEGIN SOLUTION -->"
MD_END = "<!-- END SOLUTION -->"
MARKDOWN_PLACEHOLDER = "_Your answer here._"

_KEEP_NOTEBOOK_METADATA = ("kernelspec", "language_info")
_SKIP_FILES = {"sanitize.cfg", "__pycache__", ".ipynb_checkpoints"}


class MarkerError(ValueError):
    """A solution block is malformed (END without BEGIN, BEGIN without END, nested BEGIN)."""


def _py_string(text: str) -> str:
    """A Python string literal for ``text``, double-quoted where possible."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in text:
        literal = '"' + literal[1:-1].replace("\\'", "'") + '"'
    return literal


def _marker(line: str) -> str | None:
    stripped = line.strip()
    if stripped == BEGIN:
        return "begin"
    if stripped == END:
        return "end"
    if stripped.startswith(HINT):
        return "hint"
    return None


def solution_blocks(source: str) -> list[dict]:
    """The solution blocks of a code cell's source: ``[{"start", "end", "indent", "hint"}]``.

    ``start``/``end`` are the line numbers (0-based) of the BEGIN and END markers; ``hint`` is the
    block's hint text or None. Raises :class:`MarkerError` on malformed markers.
    """
    blocks, current = [], None
    for number, line in enumerate(source.splitlines()):
        kind = _marker(line)
        if kind == "begin":
            if current is not None:
                raise MarkerError(f"line {number + 1}: {BEGIN} inside another solution block "
                                  f"(opened on line {current['start'] + 1})")
            current = {"start": number, "indent": line[:len(line) - len(line.lstrip())], "hints": []}
        elif kind == "end":
            if current is None:
                raise MarkerError(f"line {number + 1}: {END} without a {BEGIN} before it")
            current["end"] = number
            hints = current.pop("hints")
            current["hint"] = " ".join(hints) if hints else None
            blocks.append(current)
            current = None
        elif kind == "hint" and current is not None:
            text = line.strip()[len(HINT):].strip()
            if text:
                current["hints"].append(text)
    if current is not None:
        raise MarkerError(f"line {current['start'] + 1}: {BEGIN} without an {END}")
    return blocks


def has_solution(nb) -> bool:
    """True if any code cell of ``nb`` has a solution block."""
    return any(cell.cell_type == "code" and solution_blocks(cell.source) for cell in nb.cells)


def first_exercise(nb) -> tuple[int, str] | None:
    """``(cell index, hint)`` of the first code cell with a solution block, or None."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            blocks = solution_blocks(cell.source)
            if blocks:
                return index, blocks[0]["hint"] or DEFAULT_HINT
    return None


def strip_solutions(source: str) -> str:
    """A code cell's source with each solution block replaced by ``raise NotImplementedError(hint)``."""
    blocks = solution_blocks(source)
    if not blocks:
        return source
    lines = source.splitlines()
    out, position = [], 0
    for block in blocks:
        out += lines[position:block["start"]]
        out.append(f"{block['indent']}raise NotImplementedError({_py_string(block['hint'] or DEFAULT_HINT)})")
        position = block["end"] + 1
    out += lines[position:]
    return "\n".join(out) + ("\n" if source.endswith("\n") else "")


def strip_markdown_solutions(source: str) -> str:
    pattern = re.compile(re.escape(MD_BEGIN) + r".*?" + re.escape(MD_END), re.DOTALL)
    if MD_BEGIN in source and not pattern.search(source):
        raise MarkerError(f"{MD_BEGIN} without {MD_END}")
    return pattern.sub(MARKDOWN_PLACEHOLDER, source)


def make_student_copy(nb):
    """A student copy of notebook ``nb`` (an nbformat NotebookNode); ``nb`` is not modified."""
    student = copy.deepcopy(nb)
    for index, cell in enumerate(student.cells):
        try:
            if cell.cell_type == "code":
                cell.source = strip_solutions(cell.source)
                cell.outputs = []
                cell.execution_count = None
            elif cell.cell_type == "markdown":
                cell.source = strip_markdown_solutions(cell.source)
        except MarkerError as err:
            raise MarkerError(f"cell {index}: {err}") from None
        tags = cell.get("metadata", {}).get("tags")
        cell.metadata = nbformat.NotebookNode({"tags": list(tags)} if tags else {})
    student.metadata = nbformat.NotebookNode(
        {k: copy.deepcopy(v) for k, v in nb.metadata.items() if k in _KEEP_NOTEBOOK_METADATA})
    return student


def write_student_copies(src: Path, out: Path) -> list[Path]:
    """Write the student copy of every ``*.ipynb`` in ``src`` to ``out``; copy other files."""
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise FileNotFoundError(f"{src} is not a directory")
    if out.resolve() == src.resolve():
        raise ValueError("OUT_DIR must differ from SRC_DIR (the copies would overwrite the solutions)")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(src.iterdir()):
        if path.name.startswith(".") or path.name in _SKIP_FILES:
            continue
        target = out / path.name
        if path.suffix == ".ipynb":
            nb = nbformat.read(path, as_version=4)
            try:
                student = make_student_copy(nb)
            except MarkerError as err:
                raise MarkerError(f"{path}: {err}") from None
            nbformat.write(student, target)
            written.append(target)
        elif path.is_dir():
            shutil.copytree(path, target, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(".*", "__pycache__"))
        else:
            shutil.copy2(path, target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m labkit.course.student",
        description="Write student copies of the course notebooks (solutions replaced by "
                    "raise NotImplementedError(hint), outputs cleared).")
    parser.add_argument("src", type=Path, help="directory with the notebooks (e.g. notebooks)")
    parser.add_argument("out", type=Path, help="directory for the copies (e.g. student)")
    args = parser.parse_args(argv)
    try:
        written = write_student_copies(args.src, args.out)
    except (MarkerError, FileNotFoundError, ValueError) as err:
        print(f"labkit.course.student: {err}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
