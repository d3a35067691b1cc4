"""The course's lessons, in one place: numbers, titles, times, what each teaches.

The README's course table, the map in lesson 00 (:func:`labkit.course.maps.course_map`) and each
notebook's title are checked against :data:`LESSONS` by ``tests/test_course_catalog.py``, so a
lesson renamed or re-timed here must be renamed or re-timed everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Lesson", "LESSONS", "lesson", "total_minutes"]


@dataclass(frozen=True)
class Lesson:
    """One notebook: ``notebooks/{number}_*.ipynb`` titled ``# {number} · {title}``."""

    number: str
    title: str
    minutes: int
    learn: str
    part: str       # "start", "user pools", "identity pools", "hosted ui", "security", "operations" or "review"


#: The course, in order. Minutes are estimates for a first pass including the exercises, made from
#: each notebook's length: prose at 175-180 words a minute, half a minute per code cell to run and read
#: its output, 3 to 6 minutes per exercise (with its check), 3 to 4 for the self-check. Sections marked
#: "Optional" are not counted in 00-03 (their notebook's time line says how much they add).
LESSONS: tuple[Lesson, ...] = (
    Lesson("00", "Welcome", 25, "the lab, exercises and checks; your first user pool", "start"),
    Lesson("01", "User pools vs identity pools", 35,
           "who you are (tokens) vs what you may do in AWS (credentials)", "user pools"),
    Lesson("02", "Sign-up, sign-in and recovery", 45,
           "sign-up, confirmation codes, sign-in, forgotten passwords", "user pools"),
    Lesson("03", "SRP deep dive", 40, "proving a password without sending it", "user pools"),
    Lesson("04", "MFA", 45, "SMS codes and authenticator apps (TOTP)", "user pools"),
    Lesson("05", "Token lifecycle", 50, "ID, access and refresh tokens: verify, expire, refresh, revoke",
           "user pools"),
    Lesson("06", "Identity pools", 50, "trading a token for temporary AWS credentials", "identity pools"),
    Lesson("07", "Customizing the auth flow with Lambda triggers", 40,
           "your code in Cognito's flows: allow-lists, profiles, claims, migration, wallet sign-in", "user pools"),
    Lesson("08", "Hosted UI, OAuth 2.0 and social sign-in", 35,
           "the code flow with PKCE, client credentials, Sign in with Google, logout", "hosted ui"),
    Lesson("09", "Passwordless and passkeys", 40,
           "choice-based sign-in, email codes, passkeys vs phishing, feature plans and their price",
           "user pools"),
    Lesson("10", "Securing an API: tokens, groups and scopes", 40,
           "which token a route takes; groups, custom scopes, field rules; revocation", "security"),
    Lesson("11", "Common mistakes: exploit, then fix", 45,
           "forged tokens, CloudGoat's chain, takeovers, leaks; each fixed, then audited", "security"),
    Lesson("12", "Running Cognito: cost, migration, monitoring and alternatives", 40,
           "the bill by plan, bulk import, a CloudTrail-shaped log, the exit plan, alternatives", "operations"),
    Lesson("13", "Interview preparation", 40,
           "interview questions, a mock round, designs", "review"),
)


def lesson(number: str) -> Lesson:
    """The lesson numbered ``number`` ("00", "05", ...)."""
    for item in LESSONS:
        if item.number == number:
            return item
    raise KeyError(f"no lesson {number!r}; the lessons are {', '.join(x.number for x in LESSONS)}")


def total_minutes() -> int:
    return sum(item.minutes for item in LESSONS)
