"""How long something lasts, in words: the one place labkit turns seconds into text.

Three styles, because they answer different questions:

* :func:`duration` – *about how long?* Rounded so that a few seconds of drift between two notebook
  cells never changes the text: ``45 s``, ``59 min``, ``1 h 30 min``, ``3 days``.
* :func:`exact` – *exactly how long?* Every second counts: ``1 s``, ``1 min 04 s``, ``15 min``.
* :func:`lifetime` – a configured lifetime, in the words Cognito's settings use: ``5 minutes``,
  ``60 minutes``, ``2 hours``, ``1 day``, ``3650 days (10 years)``.

and :func:`relative` (``in 59 min`` / ``3 min ago``) and :func:`utc` for points in time.

    >>> duration(5400), exact(128), lifetime(3600), lifetime(3650 * 86400)
    ('1 h 30 min', '2 min 08 s', '60 minutes', '3650 days (10 years)')
"""
from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["duration", "exact", "lifetime", "relative", "utc", "approximately"]

MINUTE, HOUR, DAY = 60, 3600, 86400


def duration(seconds: float) -> str:
    """Rounded: under a minute in seconds, under 90 minutes in minutes, under two days in hours and
    minutes, then in days. The sign is ignored (``relative`` adds "in" / "ago")."""
    s = abs(seconds)
    if s < 59.5:
        return f"{s:.0f} s"
    if s < 90 * MINUTE:
        return f"{s / MINUTE:.0f} min"
    if s < 48 * HOUR:
        h, m = divmod(round(s / MINUTE), 60)
        return f"{h} h {m} min" if m else f"{h} h"
    return f"{s / DAY:.0f} days"


def approximately(seconds: float) -> str:
    """Like :func:`duration`, but a minute either way of one minute reads as words, so that a value
    that drifts by a few seconds between runs ("61 s", "59 s") always prints the same."""
    s = abs(seconds)
    if s < 90:
        return "about a minute" if s >= 30 else "less than a minute"
    return duration(s)


def exact(seconds: float) -> str:
    """To the second: ``1 s``, ``59 s``, ``1 min 04 s``, ``15 min``, ``2 h 05 min``."""
    s = int(abs(seconds))
    if s < MINUTE:
        return f"{s} s"
    hours, rest = divmod(s, HOUR)
    minutes, secs = divmod(rest, MINUTE)
    parts = ([f"{hours} h"] if hours else []) + ([f"{minutes:02d} min" if hours else f"{minutes} min"]
                                                  if minutes or (hours and secs) else [])
    if secs:
        parts.append(f"{secs:02d} s")
    return " ".join(parts)


def lifetime(seconds: float) -> str:
    """A configured lifetime as Cognito's settings word it (whole units, the largest that fits;
    minutes up to two hours, as the console shows a one-hour token as 60 minutes)."""
    s = int(seconds)
    if s >= DAY and s % DAY == 0:
        days = s // DAY
        text = f"{days} day{'s' if days != 1 else ''}"
        if days >= 365 and days % 365 == 0:
            years = days // 365
            text += f" ({years} year{'s' if years != 1 else ''})"
        return text
    if s % MINUTE == 0 and 0 < s < 2 * HOUR:
        return f"{s // MINUTE} minute{'s' if s != MINUTE else ''}"
    if s % HOUR == 0 and s > 0:
        return f"{s // HOUR} hours"
    if s % MINUTE == 0 and s > 0:
        return f"{s // MINUTE} minutes"
    return f"{s} second{'s' if s != 1 else ''}"


def relative(ts: float, now: float) -> str:
    """``in 59 min`` / ``3 min ago`` / ``now``: ``ts`` against ``now`` (both epoch seconds)."""
    delta = ts - now
    if abs(delta) < 1:
        return "now"
    return f"in {duration(delta)}" if delta > 0 else f"{duration(delta)} ago"


def utc(ts: float) -> str:
    """Epoch seconds as ``2026-12-02 18:23:31 UTC``."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
