"""Diagrams of the course and of Cognito: PNG pictures in Jupyter (and GitHub's notebook view),
ASCII art as text (``print``, ``repr``, nbval).

* :func:`course_map` — the lessons in order, from :data:`labkit.course.lessons.LESSONS`.
* :func:`cognito_map` — the parts of Amazon Cognito and which lesson covers what.
"""
from __future__ import annotations

import logging
import textwrap

from .display import Diagram
from .lessons import LESSONS, total_minutes

__all__ = ["course_map", "cognito_map"]


_COLOURS = {"start": "#e8e8e8", "user pools": "#d6e9f8", "identity pools": "#fde2c8", "hosted ui": "#e3f4e1", "security": "#f8d6d6", "operations": "#fff3c4", "review": "#e6e0f8",
            "app": "#eeeeee", "api": "#e3f4e1", "aws": "#f3e5f5"}


def _figure(width: float, height: float):
    # First use in a fresh environment logs "Matplotlib is building the font cache"; that line
    # must not end up in a notebook's outputs.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    return figure, ax


def _box(ax, x, y, w, h, text, colour, *, size=10, weight="normal", align="center"):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.12",
                                facecolor=colour, edgecolor="#555555", linewidth=1.2))
    tx = x + w / 2 if align == "center" else x + 0.15
    ax.text(tx, y + h / 2, text, ha=align, va="center", fontsize=size, fontweight=weight,
            linespacing=1.35)


def _arrow(ax, start, end, label=None, *, offset=(0, 0.12), style="-|>", colour="#333333"):
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=14, linewidth=1.3,
                                 color=colour, shrinkA=2, shrinkB=2))
    if label:
        mx, my = (start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1]
        ax.text(mx, my, label, ha="center", va="bottom", fontsize=8.5, color=colour)


def _course_map_text() -> str:
    lines = ["Course map (minutes)", ""]
    width = max([31] + [len(lesson.title) for lesson in LESSONS])
    for lesson in LESSONS:       # what each teaches on its own line: the map stays within 100 columns
        lines.append(f"  {lesson.number}  {lesson.title:<{width}} {lesson.minutes:>3}")
        lines += textwrap.wrap(lesson.learn, 100, initial_indent=" " * 6, subsequent_indent=" " * 6)
    total = total_minutes()
    hours = f"{total // 60} h {total % 60:02d} min"       # "5 h 00 min": whole hours keep their minutes
    pools, identity = _numbers(_runs("user pools")), _numbers(_runs("identity pools"))
    lines += ["", f"  00 starts; {pools} are about user pools (who are you?); {identity} about identity pools",
              f"  (what may you do in AWS?); 08 signs users in through the hosted UI, OAuth 2.0 and",
              f"  Google; 10 puts both behind an API's checks; 11 breaks and fixes both; 12 runs them",
              f"  (cost, migration, monitoring, the way out); 13 rehearses it all for interviews.",
              f"  About {hours} in all."]
    return "\n".join(lines)


def _runs(part: str) -> list[list[int]]:
    """The indexes in LESSONS of each run of consecutive lessons about ``part``."""
    runs: list[list[int]] = []
    for i, lesson in enumerate(LESSONS):
        if lesson.part != part:
            continue
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _numbers(runs: list[list[int]]) -> str:
    """"01-05 and 07" for the runs [[1..5], [7]]."""
    names = [LESSONS[r[0]].number if len(r) == 1 else f"{LESSONS[r[0]].number}-{LESSONS[r[-1]].number}" for r in runs]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def course_map() -> Diagram:
    """The lessons, in order, grouped by the part of Cognito they are about."""

    w, h, gap, y = 1.78, 1.45, 0.18, 0.75
    width, height = max(14.0, 0.4 + len(LESSONS) * (w + gap) - gap), 3.3
    figure, ax = _figure(width, height)
    xs = [0.2 + i * (w + gap) for i in range(len(LESSONS))]
    for x, lesson in zip(xs, LESSONS):
        title = (lesson.title.replace(" vs ", "\nvs ").replace(", sign-in", ",\nsign-in")
                 .replace(": ", ":\n"))
        if max(len(line) for line in title.splitlines()) > 18:
            title = textwrap.fill(lesson.title, 16)
        _box(ax, x, y, w, h, f"{lesson.number}\n{title}\n{lesson.minutes} min",
             _COLOURS[lesson.part], size=9.5)
    for a, b in zip(xs, xs[1:]):
        _arrow(ax, (a + w + 0.01, y + h / 2), (b - 0.01, y + h / 2))
    spans = {"user pools": "User pools: who are you?  (sign-in, MFA, JWTs)",
             "identity pools": "Identity pools", "hosted ui": "Hosted UI, OAuth", "security": "Security",
             "operations": "Operations", "review": "Review"}
    for part, label, idx in ((p, l, run) for p, l in spans.items() for run in _runs(p)):
        if len(idx) == 1:
            label = label.split(":")[0]          # one lesson's box is too narrow for the long label
        left, right = xs[idx[0]], xs[idx[-1]] + w
        ax.plot([left, left, right, right], [y + h + 0.25, y + h + 0.38, y + h + 0.38, y + h + 0.25],
                color="#555555", linewidth=1)
        ax.text((left + right) / 2, y + h + 0.48, label, ha="center", va="bottom", fontsize=10,
                fontweight="bold")
    total = total_minutes()
    ax.text(width / 2, 0.25, f"About {total // 60} h {total % 60:02d} min in all. Each notebook "
            "starts its own lab and stands on its own; do them in order the first time.",
            ha="center", va="center", fontsize=9.5, color="#333333")
    return Diagram(figure, _course_map_text())


_COGNITO_TEXT = """\
Amazon Cognito, and where the course covers it

                 1 sign up / sign in (SRP 03, MFA 04)
  +----------+  ------------------------------------>  +-----------------------------+
  | Your app |  <------------------------------------  | USER POOL           (01-05) |
  | (browser,|    2 ID, access and refresh tokens      | users, passwords, codes,    |
  |  mobile, |      (JWTs, 05)                         | MFA; issues JWTs            |
  |  script) |                                         +-----------------------------+
  |          |  3 access token      +-------------------------------------------+
  |          |  ----------------->  | Your API: checks the JWT with the pool's  |
  |          |                      | public keys (JWKS, 05)                    |
  |          |                      +-------------------------------------------+
  |          |  4 ID token                             +-----------------------------+
  |          |  ------------------------------------>  | IDENTITY POOL          (06) |
  |          |  <------------------------------------  | trades a token for          |
  |          |    5 temporary AWS credentials          | temporary AWS credentials   |
  |          |                                         +-----------------------------+
  |          |  6 signed calls      +-------------------------------------------+
  +----------+  ----------------->  | AWS services (S3, DynamoDB...)      (06)  |
                                    +-------------------------------------------+
  User pool = who are you? (authentication)   Identity pool = what may you do in AWS?"""


def cognito_map() -> Diagram:
    """The parts of Amazon Cognito, what flows between them, and which lesson covers what."""
    width, height = 13.0, 6.4
    figure, ax = _figure(width, height)
    _box(ax, 0.3, 0.9, 2.2, 4.6, "Your app\n\nbrowser,\nmobile app\nor script\n(boto3)",
         _COLOURS["app"], size=11, weight="bold")
    _box(ax, 7.6, 4.2, 5.1, 1.6, "USER POOL   (lessons 01-05)\nusers, passwords, sign-up codes,\n"
         "SRP sign-in, MFA; issues JWTs", _COLOURS["user pools"], size=10.5)
    _box(ax, 5.4, 2.85, 5.0, 1.0, "Your API: checks the access token with\nthe pool's public keys "
         "(JWKS)   (05)", _COLOURS["api"], size=10)
    _box(ax, 7.6, 1.25, 5.1, 1.35, "IDENTITY POOL   (lesson 06)\ntrades a token for temporary\n"
         "AWS credentials (STS)", _COLOURS["identity pools"], size=10.5)
    _box(ax, 4.2, 0.15, 4.6, 0.8, "AWS services: S3, DynamoDB...   (06)", _COLOURS["aws"], size=10)
    _arrow(ax, (2.55, 5.3), (7.55, 5.3), "1  sign up, sign in: SRP (03), MFA (04)")
    _arrow(ax, (7.55, 4.55), (2.55, 4.55), "2  ID, access and refresh tokens: JWTs (05)")
    _arrow(ax, (2.55, 3.35), (5.35, 3.35), "3  access token")
    _arrow(ax, (2.55, 2.2), (7.55, 2.2), "4  ID token")
    _arrow(ax, (7.55, 1.5), (2.55, 1.5), "5  temporary AWS credentials")
    _arrow(ax, (2.55, 0.55), (4.15, 0.55), "6  signed calls", offset=(0, 0.06))
    ax.text(width / 2 + 1.0, 6.15, "User pool: who are you?  (authentication)      "
            "Identity pool: what may you do in AWS?  (authorization)",
            ha="center", va="center", fontsize=10.5, fontweight="bold")
    return Diagram(figure, _COGNITO_TEXT)
