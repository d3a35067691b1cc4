"""Replace attributes on moto's classes and put the originals back."""
from __future__ import annotations

from typing import Any

from . import MotoInternalsChanged

_MISSING = object()


class Patcher:
    """Records each replaced attribute (or dict item) so ``undo()`` restores moto exactly."""

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any, bool]] = []

    def replace(self, owner: Any, name: str, new: Any, *, must_exist: bool = True) -> Any:
        old = owner.__dict__.get(name, _MISSING) if isinstance(owner, type) else getattr(owner, name, _MISSING)
        if must_exist and old is _MISSING and not hasattr(owner, name):
            raise MotoInternalsChanged(f"{owner.__module__}.{owner.__qualname__}.{name} is gone")
        self._saved.append((owner, name, old, False))
        setattr(owner, name, new)
        return old

    def replace_item(self, mapping: dict, key: Any, new: Any) -> Any:
        """``mapping[key] = new`` (the key must exist), undone like an attribute."""
        if key not in mapping:
            raise MotoInternalsChanged(f"moto no longer has the entry {key!r}")
        old = mapping[key]
        self._saved.append((mapping, key, old, True))
        mapping[key] = new
        return old

    def undo(self) -> None:
        while self._saved:
            owner, name, old, is_item = self._saved.pop()
            if is_item:
                owner[name] = old
            elif old is _MISSING:
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
