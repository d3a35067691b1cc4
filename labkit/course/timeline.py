"""A picture of a session on the lab clock: token lifetimes, refreshes, sign-out, revocation.

    >>> timeline = SessionTimeline(lab.clock)                                  # doctest: +SKIP
    >>> timeline.tokens(sign_in_password(idp, client_id, "alice", pw), label="sign-in")
    >>> lab.clock.advance(minutes=70)
    >>> timeline.tokens(refresh(idp, client_id, refresh_token), label="refresh")
    >>> timeline.event("revoke")
    >>> timeline.plot()                     # a matplotlib Figure: ID, access, one row per refresh token

Each call to :meth:`SessionTimeline.tokens` records one bar per token in the result (ID, access
and, on sign-in, refresh), from its ``iat`` to its ``exp``. The refresh token is opaque, so its
lifetime comes from the app client's ``RefreshTokenValidity`` (pass ``refresh_validity``; the
default is Cognito's 30 days). :meth:`SessionTimeline.event` adds a marker; ``"revoke"`` and
``"sign-out"`` also cut the bars they revoke: the refresh token and the access and ID tokens
issued from it. The rest of a cut bar is drawn hatched: Cognito refuses those tokens, but a backend
that verifies JWTs locally still accepts them until ``exp``. Each sign-in's refresh token gets a
row of its own, so that two sessions' bars (and their hatches) never overlap.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt

__all__ = ["SessionTimeline"]

ROWS = ("ID token", "access token", "refresh token")     # with one sign-in; more add refresh rows
_ROW_OF = {"id": 0, "access": 1, "refresh": 2}
_COLORS = {"id": "#4C72B0", "access": "#55A868", "refresh": "#8172B2"}
_EVENT_STYLE = {            # marker, colour
    "sign-in": ("o", "#333333"),
    "refresh": ("^", "#DD8452"),
    "sign-out": ("s", "#C44E52"),
    "revoke": ("X", "#C44E52"),
}
DEFAULT_REFRESH_VALIDITY = timedelta(days=30)   # Cognito's default RefreshTokenValidity


@dataclass
class TokenBar:
    kind: str                  # "id", "access", "refresh"
    start: float               # epoch seconds
    end: float
    label: str
    session: int               # which refresh token (sign-in) the token belongs to
    revoked_at: float | None = None


@dataclass
class Event:
    kind: str
    at: float
    note: str


class SessionTimeline:
    """Records a session as it happens on ``clock`` (``lab.clock``) and plots it."""

    def __init__(self, clock: Any, title: str = "Session on the lab clock") -> None:
        self.clock = clock
        self.title = title
        self.bars: list[TokenBar] = []
        self.events: list[Event] = []
        self._session = -1

    # -- recording -------------------------------------------------------------------------
    def tokens(self, auth_result: dict, label: str | None = None,
               refresh_validity: timedelta | float | None = None) -> None:
        """Record the tokens of an ``AuthenticationResult`` (sign-in or refresh).

        ``refresh_validity`` (a timedelta or seconds) is the app client's refresh-token lifetime;
        only used when the result holds a ``RefreshToken``.
        """
        if not isinstance(auth_result, dict):
            raise TypeError("pass the AuthenticationResult dict (AccessToken, IdToken, ...)")
        now = self.clock.time()
        if "RefreshToken" in auth_result or self._session < 0:
            self._session += 1
        label = label or ("sign-in" if not self.bars else "refresh")
        if auth_result.get("RefreshToken"):
            validity = refresh_validity if refresh_validity is not None else DEFAULT_REFRESH_VALIDITY
            seconds = validity.total_seconds() if isinstance(validity, timedelta) else float(validity)
            self.bars.append(TokenBar("refresh", now, now + seconds, label, self._session))
        for kind, key in (("id", "IdToken"), ("access", "AccessToken")):
            token = auth_result.get(key)
            if not token:
                continue
            claims = jwt.decode(token, options={"verify_signature": False})
            start = float(claims.get("iat", now))
            end = float(claims.get("exp", start + auth_result.get("ExpiresIn", 3600)))
            self.bars.append(TokenBar(kind, start, end, label, self._session))

    def event(self, kind: str, note: str | None = None, at: float | datetime | None = None) -> None:
        """Mark ``kind`` ("sign-in", "refresh", "sign-out", "revoke", or any word) at ``at``/now.

        "revoke" (RevokeToken) cuts the latest refresh token and the tokens issued from it;
        "sign-out" (GlobalSignOut) cuts every token recorded so far.
        """
        if isinstance(at, datetime):
            at = at.timestamp()
        when = float(at) if at is not None else self.clock.time()
        self.events.append(Event(kind, when, note or ""))
        if kind == "revoke":
            sessions = {max((b.session for b in self.bars if b.kind == "refresh"), default=self._session)}
        elif kind == "sign-out":
            sessions = {b.session for b in self.bars}
        else:
            return
        for bar in self.bars:
            if (bar.session in sessions
                    and bar.start <= when < bar.end and bar.revoked_at is None):
                bar.revoked_at = when

    # -- drawing ---------------------------------------------------------------------------
    def rows(self) -> list[str]:
        """The picture's rows, bottom up: ID token, access token, then one row per sign-in's
        refresh token ("refresh token" alone when there is one)."""
        sessions = self._refresh_sessions()
        if len(sessions) <= 1:
            return list(ROWS)
        return list(ROWS[:2]) + [f"refresh token {n} ({self._first_label(s)})" for n, s in
                                 enumerate(sessions, 1)]

    def _refresh_sessions(self) -> list[int]:
        return sorted({b.session for b in self.bars if b.kind == "refresh"})

    def _first_label(self, session: int) -> str:
        return next(b.label for b in self.bars if b.session == session and b.kind == "refresh")

    def _row(self, bar: TokenBar) -> int:
        if bar.kind != "refresh":
            return _ROW_OF[bar.kind]
        return 2 + self._refresh_sessions().index(bar.session)

    def plot(self, ax: Any = None):
        """Draw the timeline; returns the matplotlib Figure (displayed by Jupyter)."""
        if ax is None:
            import matplotlib.pyplot as plt   # pyplot sets up Jupyter's inline display

            fig, ax = plt.subplots(figsize=(10, 3.0 + 0.6 * (len(self.rows()) - 2)))
            plt.close(fig)                    # shown once, by returning it, not twice
        else:
            fig = ax.figure
        now = self.clock.time()
        times = [b.start for b in self.bars] + [e.at for e in self.events] + [now]
        t0 = min(times)
        short = [b.end for b in self.bars if b.kind != "refresh"] + [e.at for e in self.events] + [now]
        span = max(max(short) - t0, 60.0)
        unit, per = (("min", 60.0) if span <= 6 * 3600 else ("h", 3600.0) if span <= 7 * 86400
                     else ("days", 86400.0))
        right = (max(short) - t0 + 0.08 * span) / per
        left = -0.04 * span / per

        def x(t: float) -> float:
            return (t - t0) / per

        rows = self.rows()
        n_rows = len(rows)

        for index, bar in enumerate(self.bars):
            row = self._row(bar)
            end = bar.revoked_at if bar.revoked_at is not None else bar.end
            drawn = ax.barh(row, x(end) - x(bar.start), left=x(bar.start), height=0.5,
                            color=_COLORS[bar.kind], alpha=0.85, edgecolor="white")
            drawn.patches[0].set_gid(f"{bar.kind}-token-{index}")
            if bar.revoked_at is not None:
                rest = ax.barh(row, x(bar.end) - x(bar.revoked_at), left=x(bar.revoked_at), height=0.5,
                               color="none", edgecolor=_COLORS[bar.kind], hatch="///", alpha=0.6)
                rest.patches[0].set_gid(f"revoked-{bar.kind}-token-{index}")
            if x(bar.end) > right:     # a refresh token outlives the picture: say until when
                stamp = datetime.fromtimestamp(bar.end, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
                ax.text(right, row, f"valid until {stamp} ->  ", ha="right", va="center",
                        fontsize=8, color="white" if bar.revoked_at is None else "black")

        for index, event in enumerate(self.events):
            marker, color = _EVENT_STYLE.get(event.kind, ("D", "#555555"))
            line = ax.axvline(x(event.at), color=color, linestyle=":", linewidth=1)
            line.set_gid(f"event-line-{index}")
            (point,) = ax.plot([x(event.at)], [n_rows - 0.35], marker=marker, color=color,
                               markersize=9, linestyle="none")
            point.set_gid(f"event-{event.kind}-{index}")
            ax.annotate(event.kind + (f"\n{event.note}" if event.note else ""), (x(event.at), n_rows - 0.35),
                        xytext=(5, 2 + 14 * (index % 2)), textcoords="offset points", fontsize=8,
                        color=color, va="bottom")   # alternate heights: close events stay legible

        now_line = ax.axvline(x(now), color="black", linestyle="--", linewidth=1)
        now_line.set_gid("now")
        ax.annotate("now", (x(now), -0.55), xytext=(3, 0), textcoords="offset points", fontsize=8)

        ax.set_yticks(range(n_rows), rows)
        ax.set_ylim(-0.7, n_rows + 0.6)
        ax.set_xlim(left, right)
        start = datetime.fromtimestamp(t0, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        ax.set_xlabel(f"{unit} since {start} (lab clock)")
        ax.set_title(self.title + ("   (hatched: revoked, yet unexpired)"
                                   if any(b.revoked_at is not None for b in self.bars) else ""))
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        return fig

    def __repr__(self) -> str:
        return (f"<SessionTimeline {len(self.bars)} token(s), {len(self.events)} event(s); "
                "call .plot() to draw it>")
