"""The daily email quota of Cognito's built-in email sender (EmailSendingAccount COGNITO_DEFAULT).

"Maximum number of email messages sent daily per AWS account: 50", a quota that cannot be
adjusted and that "applies only if you are using the default email feature for an Amazon Cognito
User Pool" (developer guide, Quotas in Amazon Cognito, non-adjustable resource quotas). A pool that
sends through its own Amazon SES identity (EmailSendingAccount DEVELOPER) is not counted here; SES's
own sending limits are not modelled.

A message over the quota is refused with ``LimitExceededException`` and the wording Cognito
answers with. The lab is one AWS account, so the count is shared by every pool of the lab; the day
is the UTC calendar day on the lab clock (AWS documents a daily quota, not when the day starts: the
lab's choice). Counted: the codes Cognito emails (sign-up, resend, forgotten password, attribute
verification, EMAIL_OTP sign-in); not counted: invitations of AdminCreateUser (the lab does not count them yet).
"""
from __future__ import annotations

from datetime import datetime, timezone

from .. import errors as E

#: Emails a day, per AWS account, through the default sender (not adjustable).
DAILY_EMAIL_QUOTA = 50
EXCEEDED = ("Exceeded daily email limit for the operation or the account. If a higher limit is required, "
            "please configure your user pool to use your own Amazon SES configuration for sending email.")


def uses_default_sender(pool) -> bool:
    """True unless the pool sends through its own SES identity (EmailSendingAccount DEVELOPER)."""
    email = pool.extended_config.get("EmailConfiguration") or {}
    return email.get("EmailSendingAccount", "COGNITO_DEFAULT") != "DEVELOPER"


def _day(state) -> str:
    return datetime.fromtimestamp(state.now(), timezone.utc).date().isoformat()


def sent_today(state) -> int:
    """Emails the default sender has sent today in this lab (the account)."""
    counts = getattr(state, "_default_emails_sent", {})
    return counts.get(_day(state), 0)


def check(state, pool) -> None:
    """LimitExceededException if ``pool`` may send no more email today (nothing is counted).

    SignUp checks first, so that a refused sign-up leaves no user behind."""
    if uses_default_sender(pool) and sent_today(state) >= DAILY_EMAIL_QUOTA:
        raise E.CognitoError("LimitExceededException", EXCEEDED)


def spend(state, pool) -> None:
    """Count one email about to be sent for ``pool``; LimitExceededException past the quota.

    Called before the code is made, so a refused request leaves no code behind.
    """
    if not uses_default_sender(pool):
        return
    check(state, pool)
    counts = state.__dict__.setdefault("_default_emails_sent", {})
    day = _day(state)
    if day not in counts:
        counts.clear()                               # a new day: only today's count is kept
    counts[day] = counts.get(day, 0) + 1
