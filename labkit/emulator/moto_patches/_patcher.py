"""Replace attributes on moto's classes and put the originals back."""
from __future__ import annotations

import dis
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


def assigned_attributes(function: Any) -> list[str]:
    """The ``self.<name>`` attributes ``function`` assigns, in the order its code assigns them.

    Read from the compiled code (STORE_ATTR on ``self``), not the source file: no file read, no
    tokenizing, so the check costs microseconds at every lab start.
    """
    names, previous = [], None
    for instruction in dis.get_instructions(function):
        if instruction.opname == "STORE_ATTR" and previous is not None and previous.argval == "self":
            names.append(instruction.argval)
        if instruction.opname.startswith("LOAD"):
            previous = instruction
    return names


def require_assigned(cls: Any, *attributes: str) -> None:
    """Raise MotoInternalsChanged unless ``cls.__init__`` still assigns each ``self.<attribute>``."""
    assigned = set(assigned_attributes(cls.__init__))
    missing = [a for a in attributes if a not in assigned]
    if missing:
        raise MotoInternalsChanged(
            f"moto internals moved: {cls.__module__}.{cls.__qualname__} no longer sets {', '.join(missing)}")


def names_used(function: Any) -> set[str]:
    """Every global and attribute name ``function``'s code refers to (e.g. a class it catches)."""
    return set(function.__code__.co_names)
