"""Lesson 00's checks and the course's network guard.

* :func:`check_environment`, :func:`versions` — is the installation what the course needs?
* :func:`block_network` — lets this Python process connect to 127.0.0.1/localhost only, as proof
  (and guarantee) that nothing a notebook does reaches AWS.
"""
from __future__ import annotations

import socket
import sys

__all__ = ["check_environment", "versions", "block_network", "allow_network", "NetworkBlocked",
           "EnvironmentProblem"]


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
    # This module runs inside the labkit package, so the package is imported; is its API whole?
    # (Read from sys.modules: the course layer never imports labkit.lab, which starts the course's API.)
    labkit = sys.modules[__name__.split(".", 1)[0]]
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
