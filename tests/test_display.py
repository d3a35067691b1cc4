"""labkit.display: the one Table every lesson shows (text for print, HTML for Jupyter)."""
from __future__ import annotations

import doctest

import pytest

from labkit.cognito import display
from labkit.course import passwords, pools
from labkit.cognito.display import ShowsAsTable, Table


def test_the_module_docstring_example_runs():
    assert doctest.testmod(display, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


def test_lessons_share_the_one_table():
    assert pools.Table is passwords.Table is Table


# -- text ------------------------------------------------------------------------------------------
def test_text_wraps_between_words_and_never_cuts_an_id():
    identity = "us-east-1:1ef2a4f0-4be0-4db0-9c25-74bdb94067ed"
    table = Table(["", "Value"], [["id", f"identity id {identity} (no name)"], ["short", "x"]],
                  title="T", note="N", widths=[5, 20])
    text = str(table)
    assert identity in text                       # on one line, whole
    lines = text.splitlines()
    assert lines[0] == "T" and lines[1] == "" and lines[-1] == "N"
    assert lines[2] == "       Value" and set(lines[3].replace(" ", "")) == {"-"}
    assert len(lines[3]) == 5 + 2 + len(identity)  # the column widens to its longest word
    assert repr(table) == text == table.text()
    assert all(line == line.rstrip() for line in lines)


def test_a_blank_line_separates_rows_only_once_one_wraps():
    one_line = Table(["a", "b"], [["1", "x"], ["2", "y"]])
    assert one_line.text().splitlines() == ["a  b", "-  -", "1  x", "2  y"]
    wrapped = Table(["a", "b"], [["1", "one two three"], ["2", "y"]], widths=[None, 7])
    assert wrapped.text().splitlines() == ["a  b", "-  -------", "1  one two", "   three", "", "2  y"]


def test_without_limits_cells_stay_on_one_line():
    long = "threat protection ENFORCED: compromised-credentials check (Plus plan)"
    assert Table(["x"], [[long]]).text().splitlines()[-1] == long


def test_notes_wrap_at_100_and_keep_their_indent():
    words = " ".join(["word"] * 60)
    text = Table(["a"], [["1"]], notes=[words, "  ⚠ " + words]).text()
    notes = text.splitlines()[4:]
    assert all(len(line) <= 100 for line in notes) and " ".join(notes).split().count("word") == 120
    flag = next(n for n, line in enumerate(notes) if "⚠" in line)
    assert notes[flag].startswith("  ⚠ word") and notes[flag + 1].startswith("  word")
    assert all(line.startswith("word") for line in notes[:flag])


# -- values, columns, notes ------------------------------------------------------------------------
def test_cells_keep_their_values_and_columns_can_be_read():
    table = Table(["password", "length"], [("abc", 3), ("abcdef", 6)], notes="a note")
    assert table.column("length") == [3, 6] and table.column("password") == ["abc", "abcdef"]
    assert table.rows == [["abc", 3], ["abcdef", 6]] and table.headers == table.columns == ["password", "length"]
    assert table.notes == ["a note"] and "abcdef    6" in str(table)
    with pytest.raises(KeyError, match="'size'"):
        table.column("size")


def test_note_is_a_shorthand_for_the_first_note():
    assert Table(["a"], [], note="first", notes=["second"]).notes == ["first", "second"]
    assert Table(["a"], []).notes == [] and Table(["a"], []).text() == "a\n-"


def test_rows_and_widths_must_fit_the_columns():
    with pytest.raises(ValueError, match="2 cells for 3 columns"):
        Table(["a", "b", "c"], [["1", "2"]])
    with pytest.raises(ValueError, match="one number per column"):
        Table(["a"], [["1"]], widths=[1, 2])


# -- HTML ------------------------------------------------------------------------------------------
def test_html_escapes_everything_and_has_every_cell():
    table = Table(["a", "<b>"], [["<x>", "y & z"], ["<script>", 1]], title="Title <1>", notes=["n & m", "o"])
    markup = table._repr_html_()
    assert "&lt;x&gt;" in markup and "y &amp; z" in markup and "Title &lt;1&gt;" in markup
    assert "&lt;b&gt;" in markup and "<script>" not in markup
    assert markup.count("<tr>") == 3 and markup.count("<th ") == 2 and markup.count("<td ") == 4
    assert "<i>n &amp; m</i>" in markup and "<i>o</i>" in markup


def test_html_code_columns_and_cell_styles():
    def style(row, column):
        return "background:#fce8e6" if (row, column) == (1, "status") else ""

    table = Table(["action", "status"], [["s3:GetObject", "✓"], ["s3:PutObject", "⚠"], ["", "✓"]],
                  code=["action"], style=style)
    markup = table._repr_html_()
    assert "<code>s3:GetObject</code>" in markup and "<code></code>" not in markup
    assert 'background:#fce8e6">⚠</td>' in markup and markup.count("background:") == 1
    assert "background" not in table.text()


# -- objects that show as a table ------------------------------------------------------------------
def test_shows_as_table_gives_text_repr_and_html():
    class Report(ShowsAsTable):
        def table(self):
            return Table(["k", "v"], [["a", "<1>"]], title="Report")

    report = Report()
    assert str(report) == repr(report) == report.text() == Report().table().text()
    assert report._repr_html_() == report.table()._repr_html_() and "&lt;1&gt;" in report._repr_html_()
    with pytest.raises(NotImplementedError):
        ShowsAsTable().text()
