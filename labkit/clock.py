"""The lab clock: real time plus an offset you control.

Every time-dependent behaviour of the lab (token ``exp``, code expiry, TOTP windows, lockout,
identity-pool credential expiry) reads this clock, so a lesson can jump an hour ahead with
``lab.clock.advance(hours=1)`` instead of sleeping.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone


class LabClock:
    """Real time plus an offset. ``now()`` is an aware UTC datetime; ``time()`` is epoch seconds."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._frozen_at: float | None = None
        self._lock = threading.Lock()

    @property
    def offset(self) -> timedelta:
        """How far the lab clock runs ahead of real time."""
        frozen = self._frozen_at
        return timedelta(seconds=frozen - time.time() if frozen is not None else self._offset)

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def time(self) -> float:
        """Epoch seconds on the lab clock (like ``time.time()``)."""
        frozen = self._frozen_at
        return frozen if frozen is not None else time.time() + self._offset

    def freeze(self) -> None:
        """Stop the clock: only ``advance`` moves it. Timing-sensitive demos and tests use this so
        that a slow machine cannot slip past a 1-second lock or a 30-second TOTP step."""
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = time.time() + self._offset

    def unfreeze(self) -> None:
        """Let the clock run again from where it stands."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None

    def now(self) -> datetime:
        """The lab's current time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time(), tz=timezone.utc)

    def advance(self, seconds: float = 0, *, minutes: float = 0, hours: float = 0,
                days: float = 0) -> datetime:
        """Move the lab clock forward and return the new ``now()``.

        >>> clock = LabClock(); before = clock.now()
        >>> (clock.advance(minutes=5) - before).total_seconds() >= 300
        True
        """
        delta = seconds + 60 * minutes + 3600 * hours + 86400 * days
        if not isinstance(delta, (int, float)) or delta != delta:
            raise TypeError("advance() takes numbers, e.g. lab.clock.advance(minutes=5)")
        if delta < 0:
            raise ValueError(
                "The lab clock only moves forward (tokens and codes that were issued would "
                "otherwise come from the future). Start a new lab to go back in time."
            )
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += delta
            else:
                self._offset += delta
        return self.now()

    def __repr__(self) -> str:
        state = ", frozen" if self.frozen else ""
        return f"<LabClock {self.now():%Y-%m-%d %H:%M:%S} UTC, real time +{self.offset}{state}>"
