"""Lesson 13's printable cheat sheet: ``data/cheat_sheet.toml`` as one page of HTML.

    path = write_cheat_sheet("cheat_sheet.html")     # open it in a browser, print (A4 or Letter)

The page is self-contained (no scripts, no fonts or images to fetch), laid out in three columns
with print styles (``@page``, small type), so it fits one sheet. Each section names the lessons it
draws on. ``render_cheat_sheet()`` returns the HTML as a string; :class:`CheatSheet` is what the
notebook displays (the HTML in Jupyter, a text outline for ``repr`` and nbval).
"""
from __future__ import annotations

import html
import re
import textwrap
import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CheatSheet", "load_cheat_sheet", "render_cheat_sheet", "write_cheat_sheet", "CHEAT_SHEET_PATH"]

CHEAT_SHEET_PATH = Path(__file__).resolve().parents[2] / "data" / "cheat_sheet.toml"

_CSS = """
@page { size: A4 landscape; margin: 9mm; }
* { box-sizing: border-box; }
body { font: 8.6pt/1.28 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111; margin: 0; }
header { display: flex; justify-content: space-between; align-items: baseline; border-bottom: 2px solid #333;
         margin-bottom: 5px; }
h1 { font-size: 13pt; margin: 0 0 2px 0; }
header p { margin: 0; color: #555; font-size: 7.8pt; }
main { columns: 3; column-gap: 12px; }
section { break-inside: avoid; border: 1px solid #bbb; border-radius: 5px; padding: 4px 7px; margin: 0 0 7px 0; }
h2 { font-size: 9.6pt; margin: 0 0 2px 0; display: flex; justify-content: space-between; }
h2 small { font-weight: normal; color: #666; font-size: 7.6pt; }
ul { margin: 0; padding-left: 12px; }
li { margin: 1px 0; }
code { font: 7.9pt ui-monospace, Menlo, Consolas, monospace; background: #f1f1f1; padding: 0 2px; border-radius: 2px; }
@media screen { body { max-width: 1200px; margin: 12px auto; } }
"""


@dataclass(frozen=True)
class Section:
    title: str
    lessons: tuple[str, ...]
    items: tuple[str, ...]


@dataclass(frozen=True)
class CheatSheet:
    title: str
    subtitle: str
    sections: tuple[Section, ...]

    def html(self) -> str:
        return render_cheat_sheet(self)

    def _repr_html_(self) -> str:
        body = self.html()
        return body[body.index("<header>"):body.index("</main>") + len("</main>")].replace(
            "<main>", '<main style="columns:3; column-gap:12px; font-size:85%">')

    def __repr__(self) -> str:
        lines = [self.title, ""]
        for s in self.sections:
            label = "lessons" if len(s.lessons) > 1 else "lesson"
            lines.append(f"{s.title} ({label} {', '.join(s.lessons)}): {len(s.items)} lines")
        lines.append(f"\n{sum(len(s.items) for s in self.sections)} lines in {len(self.sections)} sections")
        return "\n".join(textwrap.shorten(line, 100) if len(line) > 100 else line for line in lines)


def load_cheat_sheet(path: str | Path | None = None) -> CheatSheet:
    """Read and check ``data/cheat_sheet.toml``: a title, sections with a title, lessons and items."""
    path = Path(path) if path is not None else CHEAT_SHEET_PATH
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    sections = []
    for i, raw in enumerate(data.get("section") or []):
        if not raw.get("title") or not raw.get("items") or not raw.get("lessons"):
            raise ValueError(f"{path.name}: section #{i + 1} needs a title, lessons and items")
        sections.append(Section(raw["title"], tuple(raw["lessons"]), tuple(raw["items"])))
    if not data.get("title") or not sections:
        raise ValueError(f"{path.name}: a title and at least one [[section]] are needed")
    return CheatSheet(data["title"], data.get("subtitle", ""), tuple(sections))


def _inline(text: str) -> str:
    """Escape, then `code` and *emphasis*."""
    out = []
    for i, part in enumerate(re.split(r"`([^`]*)`", text)):
        if i % 2:
            out.append(f"<code>{html.escape(part)}</code>")
        else:
            out.append(re.sub(r"\*([^*]+)\*", r"<em>\1</em>", html.escape(part)))
    return "".join(out)


def render_cheat_sheet(sheet: CheatSheet | None = None) -> str:
    """The whole page, as a string of HTML."""
    sheet = sheet or load_cheat_sheet()
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             f"<title>{html.escape(sheet.title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
             "<header>", f"<h1>{html.escape(sheet.title)}</h1>", f"<p>{html.escape(sheet.subtitle)}</p>", "</header>",
             "<main>"]
    for s in sheet.sections:
        parts.append(f"<section><h2>{html.escape(s.title)} <small>lesson {', '.join(s.lessons)}</small></h2><ul>")
        parts += [f"<li>{_inline(item)}</li>" for item in s.items]
        parts.append("</ul></section>")
    parts += ["</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


def write_cheat_sheet(path: str | Path = "cheat_sheet.html", sheet: CheatSheet | None = None) -> Path:
    """Write the page to ``path`` (UTF-8) and return the path."""
    path = Path(path)
    path.write_text(render_cheat_sheet(sheet), encoding="utf-8")
    return path
