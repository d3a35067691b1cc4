"""labkit: a faithful local Amazon Cognito (moto + a fidelity layer) and the course built on it.

Three layers, imports pointing one way only (``tests/test_layers.py`` walks them):

- :mod:`labkit.cognito`   a small Cognito client library (SRP, JWT verification, sign-in helpers);
  imports nothing else of labkit.
- :mod:`labkit.emulator`  moto plus the fidelity layer; never imports the course.
- :mod:`labkit.course`    lesson helpers, exercises, displays, student copies, the demo API.

:class:`Lab` (``with Lab(seed=7) as lab:``) is the entry point; notebooks use :func:`new_lab`.
:func:`audit_user_pool` / :func:`audit_identity_pool` check a pool against the sound-setup
checklist with read-only calls, against the lab or a real account (``python -m labkit audit``).
"""
from .clock import LabClock
from .inbox import Inbox, Message
from .lab import Lab, LabAlreadyRunning, LabError, LabNotRunning, current_lab, new_lab

__all__ = ["Lab", "LabClock", "Inbox", "Message", "LabError", "LabAlreadyRunning", "LabNotRunning",
           "current_lab", "new_lab", "audit_user_pool", "audit_identity_pool"]


def __getattr__(name: str):
    # The auditor is imported on first use, not with labkit: a lesson's first cell does not need it.
    if name in ("audit_user_pool", "audit_identity_pool"):
        from .cognito import audit

        return getattr(audit, name)
    raise AttributeError(f"module 'labkit' has no attribute {name!r}")
