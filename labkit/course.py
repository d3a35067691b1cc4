"""The course around the lab: its map, its diagrams, and the checks of lesson 00.

* :data:`LESSONS` — the numbered notebooks (number, title, minutes, what you learn).
* :func:`course_map` and :func:`cognito_map` — diagrams. In Jupyter (and GitHub's notebook view)
  they show as PNG pictures; as text (``print``, ``repr``) they are ASCII art.
* :func:`check_environment`, :func:`versions` — lesson 00's checks of the installation.
* :func:`block_network` — lets this Python process connect to 127.0.0.1/localhost only, as proof
  (and guarantee) that nothing a notebook does reaches AWS.
"""
from __future__ import annotations

import io
import logging
import socket
import sys
from dataclasses import dataclass

from .display import ShowsAsPng

__all__ = ["Lesson", "LESSONS", "Diagram", "course_map", "cognito_map", "check_environment",
           "versions", "block_network", "allow_network", "NetworkBlocked", "EnvironmentProblem"]


@dataclass(frozen=True)
class Lesson:
    number: str
    title: str
    minutes: int
    learn: str
    part: str       # "start", "user pools" or "identity pools"


#: The course, in order. Minutes are estimates for a first pass including the exercises.
LESSONS: tuple[Lesson, ...] = (
    Lesson("00", "Welcome", 20, "the lab, exercises and checks; your first user pool", "start"),
    Lesson("01", "User pools vs identity pools", 25,
           "who you are (tokens) vs what you may do in AWS (credentials)", "user pools"),
    Lesson("02", "Sign-up, sign-in and recovery", 35,
           "sign-up, confirmation codes, sign-in, forgotten passwords", "user pools"),
    Lesson("03", "SRP deep dive", 35, "proving a password without sending it", "user pools"),
    Lesson("04", "MFA", 30, "SMS codes and authenticator apps (TOTP)", "user pools"),
    Lesson("05", "Token lifecycle", 35, "ID, access and refresh tokens: verify, expire, refresh, revoke",
           "user pools"),
    Lesson("06", "Identity pools", 35, "trading a token for temporary AWS credentials", "identity pools"),
)


# -- diagrams --------------------------------------------------------------------------------------

class Diagram(ShowsAsPng):
    """A matplotlib figure that displays as a PNG in Jupyter and as ASCII art as text."""

    def __init__(self, figure, text: str) -> None:
        self.figure = figure
        self.text = text

    def png(self) -> bytes:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        buffer = io.BytesIO()
        FigureCanvasAgg(self.figure).print_png(buffer, metadata={"Software": None})
        return buffer.getvalue()


    def __repr__(self) -> str:
        return self.text


_COLOURS = {"start": "#e8e8e8", "user pools": "#d6e9f8", "identity pools": "#fde2c8",
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
    for lesson in LESSONS:
        lines.append(f"  {lesson.number}  {lesson.title:<31} {lesson.minutes:>3}  {lesson.learn}")
    total = sum(lesson.minutes for lesson in LESSONS)
    lines += ["", f"  00 starts; 01-05 are about user pools (who are you?); 06 about identity pools",
              f"  (what may you do in AWS?). About {total // 60} h {total % 60:02d} min in all."]
    return "\n".join(lines)


def course_map() -> Diagram:
    """The seven lessons, in order, grouped by the part of Cognito they are about."""
    width, height = 14.0, 3.3
    figure, ax = _figure(width, height)
    w, h, gap, y = 1.78, 1.45, 0.18, 0.75
    xs = [0.2 + i * (w + gap) for i in range(len(LESSONS))]
    for x, lesson in zip(xs, LESSONS):
        title = lesson.title.replace(" vs ", "\nvs ").replace(", sign-in", ",\nsign-in")
        _box(ax, x, y, w, h, f"{lesson.number}\n{title}\n{lesson.minutes} min",
             _COLOURS[lesson.part], size=9.5)
    for a, b in zip(xs, xs[1:]):
        _arrow(ax, (a + w + 0.01, y + h / 2), (b - 0.01, y + h / 2))
    spans = {"user pools": "User pools: who are you?  (sign-in, MFA, JWTs)",
             "identity pools": "Identity pools"}
    for part, label in spans.items():
        idx = [i for i, lesson in enumerate(LESSONS) if lesson.part == part]
        left, right = xs[idx[0]], xs[idx[-1]] + w
        ax.plot([left, left, right, right], [y + h + 0.25, y + h + 0.38, y + h + 0.38, y + h + 0.25],
                color="#555555", linewidth=1)
        ax.text((left + right) / 2, y + h + 0.48, label, ha="center", va="bottom", fontsize=10,
                fontweight="bold")
    total = sum(lesson.minutes for lesson in LESSONS)
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


# -- environment -------------------------------------------------------------------------------------

class EnvironmentProblem(RuntimeError):
    """The installation is not what the course needs. Shown without a traceback in IPython."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[31m✗ {self}\x1b[0m"]


_KEY_PACKAGES = ("moto", "boto3", "botocore", "pyjwt", "cryptography", "pyotp", "matplotlib",
                 "ipykernel", "nbval")


def _requirements() -> list:
    from importlib.metadata import PackageNotFoundError, requires

    try:
        from packaging.requirements import Requirement
    except ImportError:   # pragma: no cover - packaging comes with pip/pytest/jupyter
        return []
    try:
        return [Requirement(r) for r in requires("cognito-labkit") or [] if "extra ==" not in r]
    except PackageNotFoundError:
        return []


def _installed(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def check_environment(min_python: tuple[int, int] = (3, 11)) -> None:
    """Print ✓ lines if Python, labkit and the dependencies are as the course needs.

    Raises :class:`EnvironmentProblem` listing what is wrong. The output holds no version
    numbers (those are in :func:`versions`), so it is the same on every working installation.
    """
    problems = []
    if sys.version_info[:2] < min_python:
        problems.append(f"Python {min_python[0]}.{min_python[1]} or newer is needed; this is "
                        f"{sys.version.split()[0]}.")
    else:
        print(f"✓ Python {min_python[0]}.{min_python[1]} or newer")
    import labkit

    print(f"✓ labkit imported (labkit.Lab, labkit.new_lab)" if hasattr(labkit, "new_lab")
          else "✗ labkit is incomplete")
    requirements = _requirements()
    if not requirements:
        problems.append("labkit is not installed as a package: run `make lab` (it runs "
                        "`pip install -e .` in .venv) and choose the .venv kernel.")
    wrong = []
    for req in requirements:
        found = _installed(req.name)
        if found is None:
            wrong.append(f"{req.name} is missing (need {req.specifier})")
        elif not req.specifier.contains(found, prereleases=True):
            wrong.append(f"{req.name} {found} is outside the tested range {req.specifier}")
    if requirements and not wrong:   # no count or versions: the output must not change with them
        print("✓ the dependencies are installed, in their tested ranges (moto, boto3, PyJWT, ...)")
    problems += wrong
    if problems:
        raise EnvironmentProblem("The environment needs attention:\n  - " + "\n  - ".join(problems)
                                 + "\nFix: run `make lab` from the repository (it installs the "
                                   "tested versions into .venv).")


def versions() -> None:
    """Print the versions that matter (they differ between installations)."""
    print(f"{'python':<16}{sys.version.split()[0]}")
    for name in ("cognito-labkit",) + _KEY_PACKAGES:
        print(f"{name:<16}{_installed(name) or 'not installed'}")


# -- network guard -----------------------------------------------------------------------------------

class NetworkBlocked(ConnectionRefusedError):
    """A connection to somewhere other than this machine, refused by :func:`block_network`."""


_LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "ip6-localhost", ""}
_saved: dict = {}


def _is_local(host) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).lower().strip("[]")
    return host in _LOCAL_NAMES or host.startswith("127.")


def _refuse(host, port=None):
    where = f"{host}:{port}" if port is not None else str(host)
    raise NetworkBlocked(f"labkit blocked a connection to {where}: in this course only the lab "
                         "(127.0.0.1) is reachable. A client made without lab.client(...) would "
                         "talk to real AWS: use lab.client(\"cognito-idp\").")


def block_network(quiet: bool = False) -> None:
    """Refuse every connection and name lookup from this process except to this machine.

    The lab listens on 127.0.0.1 and its clients talk only to it; with the guard on, anything
    else (a boto3 client made without ``lab.client``, a download) fails at once with
    :class:`NetworkBlocked` instead of reaching the internet. Idempotent; :func:`allow_network`
    undoes it.
    """
    if not _saved:
        _saved.update(connect=socket.socket.connect, connect_ex=socket.socket.connect_ex,
                      getaddrinfo=socket.getaddrinfo)

        def _host_port(address):
            if isinstance(address, tuple) and address:
                return address[0], address[1] if len(address) > 1 else None
            return None, None      # AF_UNIX paths and the like

        def connect(self, address):
            host, port = _host_port(address)
            if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(host):
                _refuse(host, port)
            return _saved["connect"](self, address)

        def connect_ex(self, address):
            host, port = _host_port(address)
            if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(host):
                _refuse(host, port)
            return _saved["connect_ex"](self, address)

        def getaddrinfo(host, *args, **kwargs):
            if not _is_local(host):
                _refuse(host, args[0] if args else kwargs.get("port"))
            return _saved["getaddrinfo"](host, *args, **kwargs)

        socket.socket.connect = connect
        socket.socket.connect_ex = connect_ex
        socket.getaddrinfo = getaddrinfo
    if not quiet:
        print("✓ Network guard on: this kernel can connect to 127.0.0.1 (the lab) and nowhere else.")


def allow_network() -> None:
    """Undo :func:`block_network`."""
    if _saved:
        socket.socket.connect = _saved["connect"]
        socket.socket.connect_ex = _saved["connect_ex"]
        socket.getaddrinfo = _saved["getaddrinfo"]
        _saved.clear()
