"""labkit.student (student copies), the course notebooks' conventions, and tools/run_notebook.py.

The slow part: for every notebook in notebooks/ with solution markers, the student copy is run
in a kernel and must stop exactly at its first exercise with NotImplementedError(hint).
"""
from __future__ import annotations

import ast
import importlib.util
import time
from pathlib import Path

import nbformat
import pytest

from labkit.course import student
from labkit.course.student import (DEFAULT_HINT, MARKDOWN_PLACEHOLDER, MarkerError, first_exercise,
                            has_solution, make_student_copy, strip_solutions, write_student_copies)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
ALL_NOTEBOOKS = sorted(NOTEBOOKS.glob("*.ipynb"))


def _has_solution(path: Path) -> bool:
    try:
        return has_solution(nbformat.read(path, as_version=4))
    except Exception:      # unreadable, or malformed markers: let its test report it
        return True


WITH_SOLUTIONS = [p for p in ALL_NOTEBOOKS if _has_solution(p)]


# -- strip_solutions ------------------------------------------------------------------------------

def test_block_becomes_raise_with_its_hint():
    source = ("x = 1\n"
              "### BEGIN SOLUTION\n"
              "### HINT: Call idp.create_user_pool(PoolName=...).\n"
              "pool = make_pool()\n"
              "### END SOLUTION\n"
              "print(pool)")
    assert strip_solutions(source) == ('x = 1\n'
                                       'raise NotImplementedError("Call idp.create_user_pool(PoolName=...).")\n'
                                       'print(pool)')


def test_indentation_of_the_block_is_kept():
    source = ("def sign_in(user, password):\n"
              "    ### BEGIN SOLUTION\n"
              "    return idp.initiate_auth(...)\n"
              "    ### END SOLUTION\n"
              "\n"
              "sign_in('ana', 'pw')\n")
    out = strip_solutions(source)
    assert out == ("def sign_in(user, password):\n"
                   f"    raise NotImplementedError({DEFAULT_HINT!r})\n".replace("'", '"') +
                   "\n"
                   "sign_in('ana', 'pw')\n")
    ast.parse(out)


def test_several_hints_and_blocks():
    source = ("### BEGIN SOLUTION\n"
              "### HINT: First part.\n"
              "### HINT:   Second part.\n"
              "### HINT:\n"
              "a = 1\n"
              "### END SOLUTION\n"
              "if True:\n"
              "\t### BEGIN SOLUTION\n"
              "\tb = 2\n"
              "\t### END SOLUTION")
    assert strip_solutions(source) == ('raise NotImplementedError("First part. Second part.")\n'
                                       'if True:\n'
                                       f'\traise NotImplementedError("{DEFAULT_HINT}")')


def test_hints_with_quotes_and_backslashes_stay_valid_python():
    for hint in ['Use response["UserPool"]', "It's the \"Id\"", r"A regex like \d+", "Ünïcode ✓"]:
        out = strip_solutions(f"### BEGIN SOLUTION\n### HINT: {hint}\nx = 1\n### END SOLUTION")
        call = ast.parse(out).body[0].exc
        assert call.func.id == "NotImplementedError" and call.args[0].value == hint


def test_cells_without_markers_are_unchanged():
    source = "print('### BEGIN SOLUTION is only a marker on a line of its own')\n# HINT: nothing"
    assert strip_solutions(source) == source


@pytest.mark.parametrize("source, message", [
    ("### END SOLUTION", "without a ### BEGIN SOLUTION"),
    ("### BEGIN SOLUTION\nx = 1", "without an ### END SOLUTION"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another solution block"),
])
def test_malformed_markers_are_errors(source, message):
    with pytest.raises(MarkerError, match=message):
        strip_solutions(source)


# -- make_student_copy ----------------------------------------------------------------------------------

def sample_notebook():
    v4 = nbformat.v4
    cells = [
        v4.new_markdown_cell("# Title\n<!-- BEGIN SOLUTION -->\nModel answer.\n<!-- END SOLUTION -->\nAfter."),
        v4.new_code_cell("import labkit", execution_count=1,
                         outputs=[v4.new_output("stream", name="stdout", text="hi\n")],
                         metadata={"tags": ["raises-exception"], "execution": {"iopub.status.busy": "x"},
                                   "nbgrader": {"solution": True}, "collapsed": False}),
        v4.new_code_cell("### BEGIN SOLUTION\n### HINT: Do it.\nx = 1\n### END SOLUTION\nx",
                         execution_count=2,
                         outputs=[v4.new_output("execute_result", data={"text/plain": "1"}, execution_count=2)]),
    ]
    nb = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}, "widgets": {"state": {}}, "celltoolbar": "Tags"})
    return nb


def test_student_copy_clears_outputs_and_metadata_noise():
    nb = sample_notebook()
    before = nbformat.writes(nb)
    copy = make_student_copy(nb)
    assert nbformat.writes(nb) == before                         # the original is untouched
    nbformat.validate(copy)
    assert [c.get("outputs") for c in copy.cells] == [None, [], []]
    assert [c.get("execution_count") for c in copy.cells] == [None, None, None]
    assert copy.cells[1].metadata == {"tags": ["raises-exception"]}
    assert copy.cells[2].metadata == {}
    assert set(copy.metadata) == {"kernelspec", "language_info"}
    assert copy.cells[2].source == 'raise NotImplementedError("Do it.")\nx'
    assert copy.cells[0].source == f"# Title\n{MARKDOWN_PLACEHOLDER}\nAfter."
    assert [c.id for c in copy.cells] == [c.id for c in nb.cells]


def test_first_exercise_and_has_solution():
    nb = sample_notebook()
    assert has_solution(nb) and first_exercise(nb) == (2, "Do it.")
    nb.cells[2].source = "x = 1"
    assert not has_solution(nb) and first_exercise(nb) is None


def test_malformed_markers_name_the_cell():
    nb = sample_notebook()
    nb.cells[2].source = "### BEGIN SOLUTION\nx = 1"
    with pytest.raises(MarkerError, match="cell 2: line 1"):
        make_student_copy(nb)
    nb.cells[2].source = "x"
    nb.cells[0].source = "<!-- BEGIN SOLUTION -->"
    with pytest.raises(MarkerError, match="cell 0"):
        make_student_copy(nb)


def test_command_writes_copies_and_support_files(tmp_path, capsys):
    src, out = tmp_path / "notebooks", tmp_path / "student"
    src.mkdir()
    nbformat.write(sample_notebook(), src / "01_sample.ipynb")
    (src / "sanitize.cfg").write_text("regex: x\nreplace: y\n")
    (src / ".hidden").write_text("x")
    (src / "img").mkdir()
    (src / "img" / "diagram.png").write_bytes(b"\x89PNG")
    (src / "data.csv").write_text("a,b\n")
    assert student.main([str(src), str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["01_sample.ipynb", "data.csv", "img"]
    assert (out / "img" / "diagram.png").read_bytes() == b"\x89PNG"
    copy = nbformat.read(out / "01_sample.ipynb", as_version=4)
    assert "raise NotImplementedError" in copy.cells[2].source
    assert student.main([str(src), str(src)]) == 2
    assert student.main([str(tmp_path / "missing"), str(out)]) == 2
    bad = sample_notebook()
    bad.cells[2].source = "### END SOLUTION"
    nbformat.write(bad, src / "02_bad.ipynb")
    assert student.main([str(src), str(out)]) == 2
    assert "02_bad.ipynb: cell 2" in capsys.readouterr().err


def test_write_student_copies_returns_the_notebooks(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    nbformat.write(sample_notebook(), src / "a.ipynb")
    assert write_student_copies(src, tmp_path / "out") == [tmp_path / "out" / "a.ipynb"]


# -- the course notebooks ------------------------------------------------------------------------------

def test_the_course_has_notebooks():
    assert (NOTEBOOKS / "00_welcome.ipynb") in ALL_NOTEBOOKS
    assert (NOTEBOOKS / "00_welcome.ipynb") in WITH_SOLUTIONS


def _python_lines(source: str) -> str:
    """The source without IPython-only lines (magics, shell escapes), for ast.parse."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_conventions(path):
    """What every course notebook must satisfy (see tools/run_notebook.py and labkit.student)."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", \
        "kernelspec must be python3: run tools/run_notebook.py"
    counts = []
    for index, cell in enumerate(nb.cells):
        for key in ("execution", "ExecuteTime"):
            assert key not in cell.metadata, f"cell {index}: volatile metadata {key!r}: run tools/run_notebook.py"
        if cell.cell_type == "code":
            if cell.execution_count is not None:
                counts.append(cell.execution_count)
    assert counts == sorted(counts), "cells were not executed top to bottom: run tools/run_notebook.py"
    copy = make_student_copy(nb)                    # markers well-formed
    for index, cell in enumerate(copy.cells):       # student copies are valid Python
        if cell.cell_type == "code" and not cell.source.lstrip().startswith("%%"):
            compile(_python_lines(cell.source), f"{path.name} cell {index}", "exec",
                    flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    starts = [i for i, s in enumerate(sources) if "new_lab(" in s]
    if starts:
        assert any("lab.stop()" in s for s in sources[starts[0]:]), "a notebook that starts a lab ends with lab.stop()"


def assert_student_copy_stops_at_first_exercise(source_nb, cwd: Path) -> float:
    """Run the student copy of ``source_nb``: every cell before the first exercise must run
    clean, and the first exercise cell must raise NotImplementedError carrying its hint."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = make_student_copy(source_nb)
    index, hint = first_exercise(source_nb)
    errors = []
    client = NotebookClient(nb, kernel_name="python3", allow_errors=False, timeout=60,
                            resources={"metadata": {"path": str(cwd)}},
                            on_cell_error=lambda cell, cell_index, execute_reply: errors.append(cell_index))
    started = time.perf_counter()
    with pytest.raises(CellExecutionError) as info:
        client.execute()
    elapsed = time.perf_counter() - started
    assert info.value.ename == "NotImplementedError", info.value
    assert info.value.evalue == hint
    tagged = [i for i, c in enumerate(nb.cells) if "raises-exception" in c.metadata.get("tags", [])]
    assert [e for e in errors if e not in tagged] == [index], f"stopped at cell {errors[-1]}, not {index}"
    assert all(c.get("execution_count") is None for c in nb.cells[index + 1:] if c.cell_type == "code")
    return elapsed


@pytest.mark.parametrize("path", WITH_SOLUTIONS, ids=lambda p: p.name)
def test_student_copy_stops_at_its_first_exercise(path):
    elapsed = assert_student_copy_stops_at_first_exercise(nbformat.read(path, as_version=4), NOTEBOOKS)
    print(f"{path.name}: stopped at its first exercise after {elapsed:.1f} s")


# -- tools/run_notebook.py -----------------------------------------------------------------------------

def load_run_notebook():
    spec = importlib.util.spec_from_file_location("run_notebook", ROOT / "tools" / "run_notebook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_run_notebook_executes_in_place_and_strips_volatile_metadata(tmp_path, capsys):
    tool = load_run_notebook()
    v4 = nbformat.v4
    nb = v4.new_notebook(cells=[
        v4.new_code_cell("import os\nprint('a'); print('b')\nprint(os.path.basename(os.getcwd()))",
                         metadata={"ExecuteTime": {"end_time": "x"}, "collapsed": True, "tags": []}),
        v4.new_code_cell("1 / 0", metadata={"tags": ["raises-exception"]}),
        v4.new_markdown_cell("text", metadata={"jupyter": {"source_hidden": True}}),
    ], metadata={"kernelspec": {"name": "other", "display_name": "x"}, "widgets": {},
                 "language_info": {"name": "python", "version": "3.11.7"}})
    folder = tmp_path / "lesson_dir"
    folder.mkdir()
    path = folder / "t.ipynb"
    nbformat.write(nb, path)
    assert tool.main([str(path)]) == 0
    assert "ran" in capsys.readouterr().out
    done = nbformat.read(path, as_version=4)
    first, second, third = done.cells
    assert first.execution_count == 1 and first.metadata == {}
    assert [o.text for o in first.outputs] == ["a\nb\nlesson_dir\n"]          # one stream, cwd = its folder
    assert second.outputs[0].ename == "ZeroDivisionError"
    assert third.metadata == {}
    assert done.metadata.kernelspec.name == "python3"
    assert "widgets" not in done.metadata and "version" not in done.metadata.language_info


def test_run_notebook_reports_failures_and_cleans_only(tmp_path, capsys):
    tool = load_run_notebook()
    v4 = nbformat.v4
    path = tmp_path / "bad.ipynb"
    nbformat.write(v4.new_notebook(cells=[v4.new_code_cell("1 / 0", metadata={"execution": {}})]), path)
    before = path.read_text()
    assert tool.main([str(path)]) == 1
    assert "FAILED" in capsys.readouterr().err and path.read_text() == before
    assert tool.main(["--clean-only", str(path)]) == 0
    assert nbformat.read(path, as_version=4).cells[0].metadata == {}


def test_coalesce_streams():
    tool = load_run_notebook()
    outputs = [{"output_type": "stream", "name": "stdout", "text": "a"},
               {"output_type": "stream", "name": "stdout", "text": "b"},
               {"output_type": "stream", "name": "stderr", "text": "c"},
               {"output_type": "execute_result", "data": {}},
               {"output_type": "stream", "name": "stdout", "text": "d"}]
    assert [o.get("text") for o in tool.coalesce_streams(outputs)] == ["ab", "c", None, "d"]


def test_new_notebook_skeleton_runs_and_follows_the_conventions(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("new_notebook", ROOT / "tools" / "new_notebook.py")
    new_notebook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(new_notebook)
    path = tmp_path / "09_sample_lesson.ipynb"
    assert new_notebook.main(["09", "Sample lesson", "--out", str(path)]) == 0
    assert new_notebook.main(["09", "Sample lesson", "--out", str(path)]) == 1     # no overwrite
    assert load_run_notebook().main([str(path)]) == 0                               # solutions run
    nb = nbformat.read(path, as_version=4)
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "✓ Exercise 9.1 passed: short title" in outputs and "1/1 right" in outputs
    test_notebook_conventions(path)
    assert_student_copy_stops_at_first_exercise(nb, tmp_path)
