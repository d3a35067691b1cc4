"""Show AWS credentials without leaking them: :func:`show_credentials`.

Printing the ``Credentials`` dict of ``GetCredentialsForIdentity`` puts the full secret key and
session token in the notebook (and in anything it is shared with), and its ``Expiration`` comes back
from boto3 as ``datetime(..., tzinfo=tzlocal())``, which says nothing about how long is left. This
view shows what a reader needs, and nothing a thief could use::

    >>> show_credentials(creds, clock=lab.clock)                  # doctest: +SKIP
    Temporary AWS credentials (from STS: the key starts with ASIA)
      AccessKeyId   ASIA…7YHW
      SecretKey     hidden (40 characters): signs every request
      SessionToken  hidden (356 characters): travels with every request
      Expiration    2026-12-02 19:42:38 UTC, in 60 min on the lab clock

The access key id keeps its first four characters (``ASIA``: temporary, ``AKIA``: an IAM user's
long-term key) and its last four (to tell two keys apart); the secret key and the session token are
never shown, not even in part.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from ..cognito.display import ShowsAsTable, Table
from ..cognito.durations import relative, utc
from ..cognito.jwt.issuers import clock_time

__all__ = ["CredentialsView", "show_credentials", "redact_key"]

_KINDS = {"ASIA": "temporary, from STS", "AKIA": "long-term: an IAM user's access key"}


def redact_key(access_key_id: str) -> str:
    """``ASIARZPUZDIKGTDC7YHW`` → ``ASIA…7YHW``: the kind of key and enough to tell two apart."""
    key = str(access_key_id or "")
    return key if len(key) <= 8 else f"{key[:4]}…{key[-4:]}"


def _epoch(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


class CredentialsView(ShowsAsTable):
    """Redacted AWS credentials: the key id shortened, the secret and session token hidden, the
    expiry in UTC and relative to a clock. It keeps no copy of the secret or the session token."""

    def __init__(self, credentials: Mapping[str, Any], clock: Any = None) -> None:
        if isinstance(credentials, Mapping) and isinstance(credentials.get("Credentials"), Mapping):
            credentials = credentials["Credentials"]       # the whole GetCredentialsForIdentity answer
        if not isinstance(credentials, Mapping) or "AccessKeyId" not in credentials:
            raise TypeError("show_credentials wants a Credentials dict (AccessKeyId, SecretKey, SessionToken, "
                            "Expiration), e.g. ci.get_credentials_for_identity(...)['Credentials']")
        self.access_key_id = redact_key(credentials["AccessKeyId"])
        self.kind = _KINDS.get(str(credentials["AccessKeyId"])[:4], "an access key")
        # GetCredentialsForIdentity says SecretKey; STS and the SDKs say SecretAccessKey.
        secret = credentials.get("SecretKey", credentials.get("SecretAccessKey"))
        self.secret_length = len(secret) if isinstance(secret, str) else None
        token = credentials.get("SessionToken")
        self.session_token_length = len(token) if isinstance(token, str) else None
        self.expiration = _epoch(credentials.get("Expiration"))
        self.clock_name = "on the lab clock" if clock is not None else "in real time"
        self.now = clock_time(clock)

    @property
    def expires_in(self) -> float | None:
        """Seconds left on the clock (negative once expired); ``None`` without an ``Expiration``."""
        return None if self.expiration is None else self.expiration - self.now

    @property
    def expired(self) -> bool | None:
        left = self.expires_in
        return None if left is None else left <= 0

    def rows(self) -> list[tuple[str, str]]:
        def hidden(length: int | None, what: str) -> str:
            return "absent" if length is None else f"hidden ({length} characters): {what}"

        if self.expiration is None:
            expiry = "none given"
        else:
            word = "expired" if self.expired else "expires"
            expiry = f"{utc(self.expiration)}, {word} {relative(self.expiration, self.now)} {self.clock_name}"
        return [("AccessKeyId", self.access_key_id),
                ("SecretKey", hidden(self.secret_length, "signs every request")),
                ("SessionToken", hidden(self.session_token_length, "travels with every request")),
                ("Expiration", expiry)]

    def table(self) -> Table:
        return Table(["", "value"], [list(row) for row in self.rows()],
                     title=f"AWS credentials ({self.kind})", code=["value"])

    def text(self) -> str:
        width = max(len(name) for name, _ in self.rows())
        return "\n".join([f"AWS credentials ({self.kind})"]
                         + [f"  {name:<{width}}  {value}" for name, value in self.rows()])


def show_credentials(credentials: Mapping[str, Any], clock: Any = None) -> CredentialsView:
    """A redacted view of AWS credentials (``Credentials`` of GetCredentialsForIdentity, of STS, or
    the whole GetCredentialsForIdentity answer), with the expiry relative to ``clock`` (``lab.clock``;
    real time by default). Safe to print, screenshot and share."""
    return CredentialsView(credentials, clock)
