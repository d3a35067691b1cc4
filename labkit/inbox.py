"""What Cognito would have emailed or texted: sign-up and recovery codes, MFA codes, invitations.

The lab sends nothing. Each message lands in an in-memory inbox keyed by the email address or
phone number it was addressed to; ``lab.inbox(address)`` reads it.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Message:
    """One email or text message the lab delivered instead of Cognito."""

    to: str
    channel: str          # "EMAIL" or "SMS", as in Cognito's CodeDeliveryDetails.DeliveryMedium
    kind: str             # "sign-up", "forgot-password", "sms-mfa", "invitation", "resend"
    text: str
    code: str | None
    sent_at: datetime
    subject: str | None = None    # an email's subject, when Cognito (or a custom message trigger) set one

    def __repr__(self) -> str:
        return (f"<Message {self.kind} to {self.to} by {self.channel} at "
                f"{self.sent_at:%H:%M:%S}: code={self.code!r}>")


class Inbox(list):
    """The messages for one address, oldest first. ``.latest`` is the newest one."""

    def __init__(self, address: str, messages):
        super().__init__(messages)
        self.address = address

    @property
    def latest(self) -> Message:
        if not self:
            raise LookupError(
                f"No message has been sent to {self.address!r} in this lab. Check the address "
                "(sign-up codes go to the user's email or phone attribute) and that the call "
                "that sends the code succeeded."
            )
        return self[-1]

    def __repr__(self) -> str:
        return f"<Inbox {self.address}: {len(self)} message(s)>"


class Mailroom:
    """Thread-safe store of every message the lab delivered (the server runs in threads)."""

    def __init__(self) -> None:
        self._messages: list[Message] = []
        self._lock = threading.Lock()

    def deliver(self, message: Message) -> None:
        with self._lock:
            self._messages.append(message)

    def inbox(self, address: str) -> Inbox:
        if not isinstance(address, str) or not address:
            raise TypeError("lab.inbox() takes an email address or a phone number, as a string")
        key = address.strip().lower()
        with self._lock:
            return Inbox(address, [m for m in self._messages if m.to.lower() == key])

    def all(self) -> list[Message]:
        with self._lock:
            return list(self._messages)
