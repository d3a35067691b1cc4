"""Helpers for lesson 04 (MFA): TOTP codes on the lab clock, QR codes, the 30-second window.

The lab checks TOTP codes the way Cognito does (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps,
the previous and next step accepted too) against the *lab clock*, which runs ahead of real time
after ``lab.clock.advance(...)``. These helpers play the user's side::

    >>> from labkit import mfa
    >>> secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"            # from AssociateSoftwareToken
    >>> uri = mfa.otpauth_uri(secret, "alice", "Cognito Lab Kit")
    >>> mfa.redact(uri)
    'otpauth://totp/Cognito%20Lab%20Kit:alice?secret=<hidden>&issuer=Cognito%20Lab%20Kit'
    >>> len(mfa.code_for(secret, 1_800_000_000))                 # what an authenticator app shows
    6

* :func:`otpauth_uri`, :func:`qr_code` — what an app scans (a PNG in Jupyter; the text form never
  shows the secret).
* :func:`code_for`, :func:`app_code`, :func:`ask_code` — the current code on the lab clock (pyotp,
  never hand-written), or one typed from a real authenticator app when ``LABKIT_INTERACTIVE=1``.
  Automated runs never wait for input.
* :func:`step`, :func:`accepted_steps`, :func:`is_accepted`, :func:`align_to_step`,
  :func:`wrong_code` — the 30-second window, and :func:`totp_window_plot` to draw it.
"""
from __future__ import annotations

import io
import logging
import os
import re
from datetime import datetime
from typing import Any, Callable, Mapping

import pyotp

from .display import ShowsAsPng

__all__ = ["STEP_SECONDS", "WINDOW_STEPS", "INTERACTIVE_ENV", "otpauth_uri", "redact", "QRCode", "qr_code",
           "code_for", "interactive", "ask_code", "app_code", "step", "accepted_steps", "is_accepted",
           "align_to_step", "wrong_code", "totp_window_plot"]

STEP_SECONDS = 30          #: RFC 6238's time step, as Cognito uses it
WINDOW_STEPS = 1           #: Cognito (and the lab) accept the previous and the next step too
INTERACTIVE_ENV = "LABKIT_INTERACTIVE"   #: set to 1 to type codes from a real authenticator app


# -- clocks ---------------------------------------------------------------------------------------

def _epoch(clock: Any) -> float:
    """Epoch seconds from a LabClock, a Lab, a datetime or a number."""
    if isinstance(clock, (int, float)) and not isinstance(clock, bool):
        return float(clock)
    if isinstance(clock, datetime):
        return clock.timestamp()
    inner = getattr(clock, "clock", None)          # a Lab
    if inner is not None and hasattr(inner, "time"):
        return float(inner.time())
    if hasattr(clock, "time") and callable(clock.time):
        return float(clock.time())
    raise TypeError("clock must be the lab clock (lab.clock), a lab, a datetime or epoch seconds, "
                    f"not {type(clock).__name__}")


def _offset_seconds(clock: Any) -> float:
    """How far a lab clock runs ahead of real time (0 for anything that is not a lab clock)."""
    inner = getattr(clock, "clock", clock)
    offset = getattr(inner, "offset", None)
    return offset.total_seconds() if offset is not None else 0.0


# -- enrolment: the URI and its QR code ---------------------------------------------------------

def otpauth_uri(secret: str, account: str, issuer: str = "Cognito Lab Kit") -> str:
    """The ``otpauth://totp/...`` URI an authenticator app scans (Google's Key URI format).

    ``secret`` is the base32 ``SecretCode`` of AssociateSoftwareToken; ``account`` the user's name
    as the app should show it; ``issuer`` your app's name. Cognito's parameters are the apps'
    defaults (SHA1, 6 digits, 30 s), so the URI leaves them out.
    """
    if not isinstance(secret, str) or not secret:
        raise TypeError("secret must be the SecretCode string of AssociateSoftwareToken")
    if not account:
        raise ValueError("account must name the user, e.g. their username or email address")
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer or None)


_SECRET_PARAM = re.compile(r"(?i)([?&]secret=)[^&]*")


def redact(uri: str) -> str:
    """The URI with its secret replaced by ``<hidden>`` (safe to print, the same on every run)."""
    return _SECRET_PARAM.sub(r"\1<hidden>", uri)


class QRCode(ShowsAsPng):
    """A QR code of an ``otpauth://`` URI.

    In Jupyter it shows as a PNG to scan with an authenticator app. Its text form (``repr``) names
    the URI with the secret hidden, so notebook outputs never contain the secret; :meth:`text`
    draws the code with Unicode blocks for a terminal (that one does encode the secret).
    """

    def __init__(self, uri: str, *, box_size: int = 6, border: int = 4) -> None:
        import qrcode

        self.uri = uri
        self.box_size = box_size
        self.border = border
        qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size,
                           border=border)
        qr.add_data(uri)
        qr.make(fit=True)
        self.version = qr.version
        self._qr = qr
        #: rows of booleans (True = dark module), including the quiet border
        self.matrix: list[list[bool]] = [list(map(bool, row)) for row in qr.get_matrix()]

    @property
    def size(self) -> int:
        """Modules per side without the border (21 for version 1, +4 per version)."""
        return len(self.matrix) - 2 * self.border

    def png(self) -> bytes:
        """The QR code as PNG bytes."""
        from PIL import Image

        n, box = len(self.matrix), self.box_size
        image = Image.new("L", (n, n), 255)
        image.putdata([0 if dark else 255 for row in self.matrix for dark in row])
        image = image.resize((n * box, n * box), Image.NEAREST)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return buffer.getvalue()


    def text(self) -> str:
        """The QR code drawn with Unicode half blocks, two rows per line, for a terminal with light
        text on a dark background (``print(qr.text())``). It encodes the secret: don't share it."""
        rows = self.matrix + ([[False] * len(self.matrix[0])] if len(self.matrix) % 2 else [])
        glyph = {(False, False): "█", (True, False): "▄", (False, True): "▀", (True, True): " "}
        return "\n".join("".join(glyph[(top, bottom)] for top, bottom in zip(rows[i], rows[i + 1]))
                         for i in range(0, len(rows), 2))

    def __repr__(self) -> str:
        return f"<QR code for {redact(self.uri)}: scan it with an authenticator app>"


def qr_code(uri: str, **options: Any) -> QRCode:
    """A :class:`QRCode` of ``uri`` (from :func:`otpauth_uri`): a PNG in Jupyter, secret-free as text."""
    if not isinstance(uri, str) or not uri.startswith("otpauth://"):
        raise ValueError("qr_code() takes an otpauth:// URI: make it with mfa.otpauth_uri(secret, account)")
    return QRCode(uri, **options)


# -- codes -----------------------------------------------------------------------------------------

def code_for(secret: str, clock: Any) -> str:
    """The 6-digit TOTP code for ``secret`` at the time of ``clock`` (``lab.clock``, usually).

    This is what an authenticator app would show if its clock were the lab clock (pyotp computes
    it: RFC 6238, HMAC-SHA1, 30-second steps).
    """
    return pyotp.TOTP(secret).at(int(_epoch(clock)))


def interactive() -> bool:
    """True when ``LABKIT_INTERACTIVE`` is 1 (or true/yes): then :func:`ask_code` reads the keyboard."""
    return os.environ.get(INTERACTIVE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def ask_code(prompt: str = "Code: ", default: str | Callable[[], str] | None = None, *,
             clock: Any = None, input_func: Callable[[str], str] = input) -> str:
    """A code typed by you if ``LABKIT_INTERACTIVE=1``, else ``default`` (never waits for input).

    ``default`` is a string or a function giving one (called only when needed, so a TOTP code is
    fresh). Typed spaces are dropped ("123 456" -> "123456"); an empty answer takes the default.
    With ``clock`` (the lab clock), warns when it runs 30 s or more ahead of real time: a phone's
    authenticator app follows real time, so its codes no longer match the lab.
    """
    def fallback() -> str:
        if default is None:
            raise ValueError(f"No code: set {INTERACTIVE_ENV}=1 to type one, or give ask_code a default")
        return default() if callable(default) else str(default)

    if not interactive():
        return fallback()
    if clock is not None and _offset_seconds(clock) >= STEP_SECONDS:
        print(f"Note: the lab clock runs {_offset_seconds(clock):.0f} s ahead of real time, so your "
              "phone's code will not match. Press Enter to use pyotp's code for the lab clock.")
    typed = "".join(str(input_func(prompt)).split())
    return typed or fallback()


def app_code(secret: str, clock: Any, prompt: str = "6-digit code from your authenticator app: ") -> str:
    """The code "the authenticator app" shows now: typed by you if ``LABKIT_INTERACTIVE=1``, else
    :func:`code_for` on the lab clock. Get it right before the call that uses it: it changes every 30 s."""
    return ask_code(prompt, default=lambda: code_for(secret, clock), clock=clock)


# -- the 30-second window ------------------------------------------------------------------------

def step(clock: Any) -> int:
    """The RFC 6238 time-step counter at ``clock``: floor(epoch seconds / 30)."""
    return int(_epoch(clock) // STEP_SECONDS)


def accepted_steps(clock: Any, window: int = WINDOW_STEPS) -> list[int]:
    """The step counters whose codes the lab accepts at ``clock``: the current one ± ``window``."""
    now = step(clock)
    return list(range(now - window, now + window + 1))


def is_accepted(made_at: Any, clock: Any, window: int = WINDOW_STEPS) -> bool:
    """Would a code made at ``made_at`` (a time) still be accepted at ``clock``?"""
    return abs(step(made_at) - step(clock)) <= window


def align_to_step(clock, margin: float = 5.0) -> datetime:
    """Advance the lab clock to ``margin`` seconds after the start of the next 30-second step.

    Then the next ``30 - margin`` seconds of real time stay in one step, so a demonstration that
    advances the clock by whole steps lands in the step it expects, however long a cell takes.
    """
    if not 0 <= margin < STEP_SECONDS:
        raise ValueError(f"margin must be between 0 and {STEP_SECONDS} seconds")
    inner = getattr(clock, "clock", clock)
    now = inner.time()
    target = (step(now) + 1) * STEP_SECONDS + margin
    return inner.advance(seconds=target - now)


def wrong_code(secret: str, clock: Any, window: int = 2) -> str:
    """A 6-digit code the lab refuses at ``clock`` (not the code of any step within ±``window``)."""
    totp = pyotp.TOTP(secret)
    now = step(clock)
    valid = {totp.at((now + k) * STEP_SECONDS) for k in range(-window, window + 1)}
    candidate = int(totp.at(now * STEP_SECONDS))
    while True:
        candidate = (candidate + 500_001) % 1_000_000
        code = f"{candidate:06d}"
        if code not in valid:
            return code


def totp_window_plot(secret: str | None, clock: Any, *, window: int = WINDOW_STEPS, before: int = 3,
                     after: int = 2, marks: Mapping[str, Any] | None = None, show_codes: bool = True):
    """Draw the 30-second steps around the lab clock's now, and which codes the lab accepts.

    Each box is a step; green ones (the current step ± ``window``) are accepted. ``marks`` maps a
    label to the time a code was made (e.g. ``{"code from 60 s ago": t0}``): each is drawn with ✓
    or ✗. With ``secret`` and ``show_codes``, each box shows its code (the picture only; notebook
    text outputs never contain codes). Returns the matplotlib figure (made with pyplot: end the
    cell with ``plt.show()``).
    """
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    now = _epoch(clock)
    current = step(now)
    ok = set(accepted_steps(now, window))
    totp = pyotp.TOTP(secret) if secret else None
    first, last = current - before, current + after
    fig, ax = plt.subplots(figsize=(10, 3.2))
    for counter in range(first, last + 1):
        x0 = (counter - current) * STEP_SECONDS
        accepted = counter in ok
        ax.add_patch(Rectangle((x0, 0), STEP_SECONDS, 1, facecolor="#c8e6c9" if accepted else "#eeeeee",
                               edgecolor="#2e7d32" if counter == current else "#9e9e9e",
                               linewidth=2.2 if counter == current else 1.0))
        offset = counter - current
        name = ("current step" if offset == 0 else
                f"{-offset} step{'s' * (offset < -1)} ago" if offset < 0 else f"{offset} step{'s' * (offset > 1)} ahead")
        ax.text(x0 + STEP_SECONDS / 2, 0.78, name, ha="center", va="center", fontsize=9)
        if totp is not None and show_codes:
            ax.text(x0 + STEP_SECONDS / 2, 0.52, totp.at(counter * STEP_SECONDS), ha="center", va="center",
                    fontsize=11, family="monospace", fontweight="bold")
        ax.text(x0 + STEP_SECONDS / 2, 0.24, "accepted" if accepted else "refused", ha="center", va="center",
                fontsize=9, color="#2e7d32" if accepted else "#757575")
    ax.plot([now - current * STEP_SECONDS] * 2, [-0.04, 1.04], color="#c62828", linewidth=1.6)
    ax.text(now - current * STEP_SECONDS, 1.04, "lab clock now", ha="center", va="bottom", fontsize=9,
            color="#c62828")
    for i, (label, made_at) in enumerate((marks or {}).items()):
        t = _epoch(made_at) - current * STEP_SECONDS
        good = is_accepted(made_at, now, window)
        y = -0.16 - 0.16 * i
        ax.plot([t], [y], marker="v", color="#2e7d32" if good else "#c62828", markersize=8, clip_on=False)
        ax.text(t + 1, y, f"{label} {'✓' if good else '✗'}", va="center", fontsize=9,
                color="#2e7d32" if good else "#c62828", clip_on=False)
    ax.set_xlim(-before * STEP_SECONDS, (after + 1) * STEP_SECONDS)
    ax.set_ylim(-0.2 - 0.16 * len(marks or {}), 1.2)
    ticks = [k * STEP_SECONDS for k in range(-before, after + 2)]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:+d} s" if t else "0 s" for t in ticks])
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("lab clock, seconds from the start of the current step")
    ax.set_title(f"TOTP steps of {STEP_SECONDS} s: the lab accepts the current step ± {window}", fontsize=11)
    fig.tight_layout()
    return fig
