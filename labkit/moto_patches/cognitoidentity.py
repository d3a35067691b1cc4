"""Patches on moto's cognito-identity (identity pools). Placeholder until issue 4 fills it in."""
from __future__ import annotations

from ._patcher import Patcher

_patcher = Patcher()


def check_internals() -> None:
    return None


def install(lab) -> None:
    return None


def uninstall() -> None:
    _patcher.undo()
