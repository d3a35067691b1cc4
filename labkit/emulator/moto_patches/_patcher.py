"""Replace attributes on moto's classes and put the originals back."""
from __future__ import annotations

from typing import Any

from . import MotoInternalsChanged

_MISSING = object()


class Patcher:
    """Records each replaced attribute so ``undo()`` restores moto exactly."""

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any]] = []

    def replace(self, owner: Any, name: str, new: Any, *, must_exist: bool = True) -> Any:
        old = owner.__dict__.get(name, _MISSING) if isinstance(owner, type) else getattr(owner, name, _MISSING)
        if must_exist and old is _MISSING and not hasattr(owner, name):
            raise MotoInternalsChanged(f"{owner.__module__}.{owner.__qualname__}.{name} is gone")
        self._saved.append((owner, name, old))
        setattr(owner, name, new)
        return old

    def undo(self) -> None:
        while self._saved:
            owner, name, old = self._saved.pop()
            if old is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, old)

    @property
    def active(self) -> bool:
        return bool(self._saved)


def require(owner: Any, *names: str) -> None:
    """Raise MotoInternalsChanged unless every name exists on owner."""
    missing = [n for n in names if not hasattr(owner, n)]
    if missing:
        where = getattr(owner, "__qualname__", repr(owner))
        raise MotoInternalsChanged(f"moto internals moved: {where} has no {', '.join(missing)}")
