"""Our patches on moto, one module per service, pinned to the tested moto version.

Each module has ``install(lab)``, ``uninstall()`` and ``check_internals()``. ``check_internals``
raises :class:`MotoInternalsChanged` when a moto attribute a patch relies on has moved, so an
upgrade of moto fails loudly in ``tests/test_moto_internals.py`` instead of silently teaching
moto's behaviour instead of Cognito's.
"""
from __future__ import annotations

import importlib
from importlib.metadata import version

TESTED_MOTO = "5.2"          # the minor version these patches were written against
SERVICES = ("cognitoidp", "cognitoidentity")


class MotoInternalsChanged(RuntimeError):
    """A moto internal that a labkit patch relies on is missing or has changed shape."""


def moto_version() -> str:
    return version("moto")


def _modules():
    return [importlib.import_module(f"{__name__}.{name}") for name in SERVICES]


def check_all() -> None:
    if not moto_version().startswith(TESTED_MOTO + "."):
        raise MotoInternalsChanged(
            f"labkit's moto patches are tested with moto {TESTED_MOTO}.x, found {moto_version()}. "
            "Reinstall with `make test` (it installs the pinned range)."
        )
    for module in _modules():
        module.check_internals()


def install_all(lab) -> dict:
    """Patch moto for ``lab``; return each service's per-lab state, by service name."""
    check_all()
    return {name: module.install(lab) for name, module in zip(SERVICES, _modules())}


def uninstall_all() -> None:
    for module in reversed(_modules()):
        module.uninstall()
