"""The course's lessons are listed once, in labkit.course.lessons.LESSONS; the README table, the map
in lesson 00 and each notebook's title, time and neighbours must agree with it."""
import json
import re
from pathlib import Path

import pytest

from labkit.course import course_map
from labkit.course.lessons import LESSONS, lesson, total_minutes

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def first_lines(path: Path) -> list[str]:
    nb = json.loads(path.read_text())
    return "".join(nb["cells"][0]["source"]).splitlines()


def test_every_notebook_is_a_lesson_and_every_lesson_has_a_notebook():
    assert [p.name[:2] for p in NOTEBOOKS] == [item.number for item in LESSONS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_each_notebook_opens_with_its_catalog_title_time_and_neighbours(path):
    item = lesson(path.name[:2])
    heading, _, times = first_lines(path)[:3]
    assert heading.startswith(f"# {item.number} · {item.title}"), heading
    assert times.startswith(f"**Time:** about {item.minutes} minutes"), times
    index = LESSONS.index(item)
    if index > 0:
        before = LESSONS[index - 1]
        assert f"**Before:** {before.number} · {before.title}" in times
    if index + 1 < len(LESSONS):
        after = LESSONS[index + 1]
        assert f"**Next:** {after.number} · {after.title}" in times


def test_the_readme_table_lists_the_catalog():
    rows = re.findall(r"^\| (\d\d) \| (.+?) \| (\d+) min \|$", (ROOT / "README.md").read_text(), re.M)
    assert [(number, minutes) for number, _, minutes in rows] == [(i.number, str(i.minutes)) for i in LESSONS]
    for (number, title, _), item in zip(rows, LESSONS):
        assert title.startswith(item.title), f"README row {number}: {title!r} does not start with {item.title!r}"


def test_the_course_map_in_lesson_00_is_drawn_from_the_catalog():
    text = repr(course_map())
    for item in LESSONS:
        assert re.search(rf"{item.number}  {re.escape(item.title)}\s+{item.minutes}\b", text)
    assert f"About {total_minutes() // 60} h {total_minutes() % 60:02d} min in all" in text   # the sum of LESSONS' minutes
    welcome = json.loads(next(p for p in NOTEBOOKS if p.name.startswith("00_")).read_text())
    shown = [c for c in welcome["cells"] if c["cell_type"] == "code" and "course.course_map()" in "".join(c["source"])]
    assert shown, "lesson 00 shows the map with course.course_map()"
    plain = [o["data"]["text/plain"] for o in shown[0]["outputs"] if "data" in o]
    assert plain and "".join(plain[0]) == text      # the committed output is the current map
