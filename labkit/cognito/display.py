"""One table for every lesson: an HTML table in Jupyter, aligned plain text with ``print``.

A lesson module that wants to *show* something tabular (a decision table, a password policy beside
the guidance, an access matrix, the steps of SRP…) builds a :class:`Table` and returns it, or
returns an object that *has* a table (:class:`ShowsAsTable`). Jupyter then calls
``_repr_html_`` and shows an HTML table; ``print`` (and ``repr``, what doctests and nbval's text
comparison see) gives aligned text::

    >>> from labkit.cognito.display import Table
    >>> t = Table(["user", "groups"], [["ana", "readers"], ["bob", "readers, writers"]],
    ...           title="Who is in which group", notes=["From AdminListGroupsForUser."])
    >>> print(t)
    Who is in which group
    <BLANKLINE>
    user  groups
    ----  ----------------
    ana   readers
    bob   readers, writers
    <BLANKLINE>
    From AdminListGroupsForUser.
    >>> t.column("user")
    ['ana', 'bob']

What it does for you:

* **Long cells wrap between words, never inside one**, when a column has a width limit
  (``widths=[20, None]``: at most 20 characters, then the next line; ``None``: as wide as its
  longest cell). An id, an ARN or a URL is never cut in two: a column is always at least as wide
  as its longest word. Once any row takes more than one line, a blank line separates the rows so
  that you can see where one ends.
* **Cells keep their values**: ``rows`` and :meth:`Table.column` give back what you put in
  (numbers stay numbers); only the rendering turns them into text.
* **HTML that is safe**: every title, heading, cell and note is escaped (a cell that says
  ``<script>`` shows the word). Columns named in ``code`` are shown in ``<code>``; ``style``, a
  function ``(row index, column name) -> CSS``, colours single cells (the text form has no
  colours: put a symbol such as ✓ or ⚠ in the cell too, so that the text says the same).
* A ``title`` above and ``notes`` below (one line each), in both forms.

:class:`ShowsAsTable` is for objects that are more than a table (they have methods of their own,
or rows that are objects): they define ``table()`` and get ``text()``, ``str``, ``repr`` and
``_repr_html_`` from it.
"""
from __future__ import annotations

import html
import textwrap
from typing import Any, Callable, Iterable, Sequence

__all__ = ["Table", "ShowsAsTable"]

_GAP = "  "           # between two columns of the text form
_NOTE_WIDTH = 100     # notes wrap at this width, or at the table's if it is wider


class Table:
    """Rows under ``columns``; ``title`` above, ``notes`` below. See the module docstring.

    ``rows``: one sequence of cells per row, as many cells as columns (any values: they are shown
    with ``str``). ``notes``: a string or a list of them; ``note`` is a shorthand for one.
    ``widths``: per column, the most characters on a line of the text form, or ``None`` for no
    limit (the default for every column). ``code``: names of columns shown as code in HTML.
    ``style``: ``style(row_index, column_name)`` returns CSS for that cell in HTML (or ``""``).
    """

    def __init__(self, columns: Sequence[Any], rows: Iterable[Sequence[Any]], *, title: str | None = None,
                 notes: str | Sequence[str] = (), note: str | None = None,
                 widths: Sequence[int | None] | None = None, code: Iterable[str] = (),
                 style: Callable[[int, str], str] | None = None) -> None:
        self.columns = [str(c) for c in columns]
        self.rows = [list(row) for row in rows]
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"a row has {len(row)} cells for {len(self.columns)} columns: {row!r}")
        if widths is not None and len(widths) != len(self.columns):
            raise ValueError("widths needs one number per column (None: no limit)")
        self.title = title
        self.notes = [notes] if isinstance(notes, str) else list(notes)
        if note:
            self.notes.insert(0, note)
        self.widths = list(widths) if widths is not None else [None] * len(self.columns)
        self.code = frozenset(code)
        self.style = style

    @property
    def headers(self) -> list[str]:
        """The column names (another name for ``columns``)."""
        return self.columns

    def column(self, name: str) -> list[Any]:
        """The values of one column, top to bottom."""
        try:
            index = self.columns.index(name)
        except ValueError:
            raise KeyError(f"no column {name!r}; the columns are {self.columns}") from None
        return [row[index] for row in self.rows]

    # -- text --------------------------------------------------------------------------------------
    def _text_widths(self, cells: list[list[str]]) -> list[int]:
        widths = []
        for i, limit in enumerate(self.widths):
            column = [row[i] for row in cells]
            natural = max(len(c) for c in column)
            longest_word = max((len(word) for c in column for word in c.split()), default=0)
            widths.append(max(1, longest_word, natural if limit is None else min(limit, natural)))
        return widths

    def text(self) -> str:
        """The aligned plain-text form (what ``print`` shows)."""
        cells = [self.columns] + [[str(c) for c in row] for row in self.rows]
        widths = self._text_widths(cells)

        def block(row: list[str]) -> list[str]:
            wrapped = [textwrap.wrap(cell, width, break_long_words=False, break_on_hyphens=False) or [""]
                       for cell, width in zip(row, widths)]
            return [_GAP.join((lines[i] if i < len(lines) else "").ljust(width)
                              for lines, width in zip(wrapped, widths)).rstrip()
                    for i in range(max(len(lines) for lines in wrapped))]

        head, *body = [block(row) for row in cells]
        rule = _GAP.join("-" * w for w in widths)
        spaced = any(len(lines) > 1 for lines in body)
        out = ([self.title, ""] if self.title else []) + head + [rule]
        for n, lines in enumerate(body):
            out += ([""] if spaced and n else []) + lines
        if self.notes:
            out.append("")
            for note in self.notes:       # wrapped; an indented note ("  ⚠ …") keeps its indent
                indent = " " * (len(note) - len(note.lstrip()))
                out += textwrap.wrap(note, max(_NOTE_WIDTH, len(rule)), subsequent_indent=indent,
                                     break_long_words=False, break_on_hyphens=False) or [""]
        return "\n".join(out)

    def __str__(self) -> str:
        return self.text()

    __repr__ = __str__

    # -- HTML --------------------------------------------------------------------------------------
    def _repr_html_(self) -> str:
        esc = html.escape
        parts = ["<div>"]
        if self.title:
            parts.append(f"<p><b>{esc(self.title)}</b></p>")
        parts.append("<table><thead><tr>")
        parts += [f'<th style="text-align:left">{esc(c)}</th>' for c in self.columns]
        parts.append("</tr></thead><tbody>")
        for i, row in enumerate(self.rows):
            parts.append("<tr>")
            for name, value in zip(self.columns, row):
                css = "text-align:left;vertical-align:top"
                extra = self.style(i, name) if self.style else ""
                if extra:
                    css += ";" + extra
                text = esc(str(value))
                if name in self.code and text:
                    text = f"<code>{text}</code>"
                parts.append(f'<td style="{css}">{text}</td>')
            parts.append("</tr>")
        parts.append("</tbody></table>")
        parts += [f"<p><i>{esc(n)}</i></p>" for n in self.notes]
        parts.append("</div>")
        return "".join(parts)


class ShowsAsTable:
    """A mixin for objects shown as a :class:`Table`: define ``table()``, get the rest.

    ``text()``, ``str()`` and ``repr()`` are the table's text; in Jupyter, its HTML.
    """

    def table(self) -> Table:
        raise NotImplementedError

    def text(self) -> str:
        return self.table().text()

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()
