"""labkit: a faithful local Amazon Cognito (moto + a fidelity layer) and the course's helpers."""
from .clock import LabClock
from .inbox import Inbox, Message
from .lab import Lab, LabAlreadyRunning, LabNotRunning, current_lab, new_lab

__all__ = ["Lab", "LabClock", "Inbox", "Message", "LabAlreadyRunning", "LabNotRunning",
           "current_lab", "new_lab"]
