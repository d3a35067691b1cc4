"""Passwords in a user pool: the policy beside OWASP and NIST, what it accepts, lockout, user enumeration.

Lesson 02 uses these to *show* things that would otherwise take a screen of glue code::

    >>> from labkit import Lab                                            # doctest: +SKIP
    >>> from labkit.course import passwords
    >>> from labkit.course.userpool import create_user_pool
    >>> with Lab(seed=2) as lab:
    ...     shop = create_user_pool(lab, "shop")
    ...     passwords.policy_report(shop.idp.describe_user_pool(UserPoolId=shop.pool_id))
    ...     passwords.probe_passwords(shop, ["P@ssw0rd", "correct horse battery staple"])
    ...     passwords.enumeration_probe(shop, known="ana", unknown="zoe")

* :func:`policy_report` — a user pool's ``PasswordPolicy`` (from DescribeUserPool) beside OWASP ASVS
  4.0.3 (V2.1) and NIST SP 800-63B-4, one verdict per row.
* :func:`probe_passwords` — tries candidate passwords with SignUp and tabulates accepted / refused.
* :func:`lockout_seconds`, :func:`lockout_schedule`, :func:`lockout_chart` — how long the lab locks a
  user after each failed sign-in (computed by the lab's own code, not a copy of its formula).
* :func:`sign_in_outcome` — one sign-in attempt summed up as a line: tokens, a challenge, or the error.
* :func:`enumeration_probe` — asks the same questions about a user who exists and one who doesn't,
  and shows whether the answers differ (PreventUserExistenceErrors LEGACY vs ENABLED).
* :func:`client_update` — the arguments of UpdateUserPoolClient that change one setting and keep the
  others (AWS resets every setting you leave out to its default).

Every call goes through the boto3 client a learner would use; nothing here reaches inside the lab
except :func:`lockout_seconds`, which reads the lab's own lockout schedule.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from ..cognito.durations import exact
from ..cognito.passwords import CHARACTER_CLASSES, MAX_LENGTH
from ..cognito.session import secret_hash
from ..emulator.user_pools.state import lockout_seconds as _lab_lockout_seconds
from .display import Diagram, Table

__all__ = ["ASVS", "NIST", "COMMON_BREACHED", "Table", "PolicyReport", "policy_report", "probe_passwords",
           "character_classes", "lockout_seconds", "lockout_schedule", "lockout_chart", "sign_in_outcome",
           "EnumerationReport", "ENUMERATION_CALLS", "OTHER_ENUMERATION_CALLS", "enumeration_probe",
           "client_update", "settings_changed"]

#: Where the guidance comes from (the table cites sections of these).
ASVS = "OWASP ASVS 4.0.3, V2.1"
NIST = "NIST SP 800-63B-4, §3.1.1.2"

#: A few passwords from the top of public lists of breached passwords: most satisfy Cognito's default
#: policy (8+ characters, upper, lower, number, symbol), one satisfies a length-only policy.
#: Illustrative only: a real check compares against hundreds of millions of leaked passwords.
COMMON_BREACHED: tuple[str, ...] = ("P@ssw0rd", "Password1!", "Passw0rd!", "Password123!", "Qwerty123!",
                                    "Welcome1!", "passwordpassword")

_RULES = (("RequireUppercase", "upper"), ("RequireLowercase", "lower"), ("RequireNumbers", "number"),
          ("RequireSymbols", "symbol"))


# -- the password policy beside the guidance -----------------------------------------------------

class PolicyReport(Table):
    """:func:`policy_report`'s table; ``verdicts`` maps each row's topic to ✓, ✗, ≈ or –."""

    def __init__(self, *args: Any, verdicts: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.verdicts = dict(verdicts or {})


def _pool_of(description: Mapping) -> Mapping:
    if not isinstance(description, Mapping):
        raise TypeError("policy_report takes what idp.describe_user_pool(UserPoolId=...) returns "
                        "(or its 'UserPool' entry)")
    return description.get("UserPool", description)


def policy_report(description: Mapping) -> PolicyReport:
    """The pool's password policy, row by row, beside OWASP ASVS 4.0.3 and NIST SP 800-63B-4.

    ``description`` is DescribeUserPool's response (or its ``UserPool``). Verdicts: ✓ in line with
    the guidance, ✗ against it, ≈ partly, – neither asks for it.
    """
    pool = _pool_of(description)
    policy = dict((pool.get("Policies") or {}).get("PasswordPolicy") or {})
    rows, verdicts = [], {}

    def add(topic, value, asvs, nist, verdict):
        rows.append((topic, value, asvs, nist, verdict))
        verdicts[topic] = verdict

    minimum = policy.get("MinimumLength")
    if minimum is None:
        add("Minimum length", "not set", "12 or more (2.1.1)", "15 or more; 8 with MFA", "?")
    else:
        verdict = "✓" if minimum >= 15 else "≈" if minimum >= 12 else "✗"
        add("Minimum length", f"{minimum} characters", "12 or more (2.1.1)", "15 or more; 8 with MFA", verdict)

    required = [name for key, name in _RULES if policy.get(key)]
    add("Composition rules", ", ".join(required) + " required" if required else "none",
        "none (2.1.9)", "SHALL NOT impose", "✗" if required else "✓")
    add("Longest password", f"{MAX_LENGTH} characters (fixed)", "64 or more (2.1.2)", "64 or more", "✓")

    days = policy.get("TemporaryPasswordValidityDays")
    temporary = f"; temporary ones after {days} days" if days else ""
    add("Expiry / rotation", f"passwords never expire{temporary}", "no periodic rotation (2.1.10)",
        "SHALL NOT force periodic changes", "✓")

    history = policy.get("PasswordHistorySize") or 0
    add("Password history", f"last {history} refused" if history else "off",
        "no history rule (2.1.10)", "not required", "–")

    mode = (pool.get("UserPoolAddOns") or {}).get("AdvancedSecurityMode", "OFF")
    if mode == "ENFORCED":
        breach, verdict = "threat protection ENFORCED: compromised-credentials check (Plus plan)", "✓"
    elif mode == "AUDIT":
        breach, verdict = "threat protection AUDIT: compromised credentials logged, not blocked", "≈"
    else:
        breach, verdict = "none (needs threat protection, Plus plan)", "✗"
    add("Breached-password check", breach, "required (2.1.7)", "SHALL check a blocklist", verdict)
    add("Failed sign-ins", "temporary lock after 5 failures", "anti-automation (2.2.1)",
        "SHALL rate-limit (at most 100 failures)", "✓")

    name = pool.get("Name") or pool.get("Id") or "user pool"
    return PolicyReport(["topic", "this pool", "OWASP ASVS", "NIST 800-63B", "verdict"], rows,
                        title=f"Password policy of {name} vs {ASVS} and {NIST}",
                        notes="✓ in line  ✗ against the guidance  ≈ partly  – asked for by neither",
                        verdicts=verdicts)


# -- what the pool accepts -----------------------------------------------------------------------

def character_classes(password: str) -> str:
    """Which of Cognito's four character classes ``password`` uses, e.g. ``'a A 1 #'``.

    Symbols are Cognito's list (``^ $ * . [ ] { } ( ) ? " ! @ # % & / \\ , > < ' : ; | _ ~ ` = + -``)
    plus a space that is neither first nor last, which Cognito (and the lab) also count as a symbol.
    """
    marks = zip(("A", "a", "1", "#"), CHARACTER_CLASSES.values())   # upper, lower, number, symbol
    present = {mark: test(password) for mark, (test, _message) in marks}
    return " ".join(mark if present[mark] else "." for mark in ("a", "A", "1", "#"))


def _secret_hash(setup, username: str) -> dict:
    if not getattr(setup, "client_secret", None):
        return {}
    return {"SecretHash": secret_hash(username=username, client_id=setup.client_id,
                                      client_secret=setup.client_secret)}


def _error(exc: BaseException) -> tuple[str, str] | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        return response["Error"].get("Code", ""), response["Error"].get("Message", "")
    return None


def probe_passwords(setup, candidates: Iterable[str], *, breached: Iterable[str] = COMMON_BREACHED,
                    username_prefix: str = "probe") -> Table:
    """Try each candidate with SignUp on ``setup``'s app client; tabulate accepted or refused.

    ``setup`` is a :class:`~labkit.course.userpool.UserPoolSetup`. Each candidate signs up a throwaway user
    (``probe-1``, ``probe-2``…, no email, so no code is sent) that is deleted at once with
    AdminDeleteUser when the password was accepted. The last column says whether the candidate is
    on ``breached``, a tiny illustrative list (:data:`COMMON_BREACHED`).
    """
    idp, leaked = setup.idp, set(breached)
    rows = []
    for number, password in enumerate(candidates, 1):
        if not isinstance(password, str):
            raise TypeError(f"candidate passwords are strings, not {type(password).__name__}")
        username = f"{username_prefix}-{number}"
        try:
            idp.sign_up(ClientId=setup.client_id, Username=username, Password=password,
                        **_secret_hash(setup, username))
        except Exception as exc:   # botocore ClientError: the pool refused
            error = _error(exc)
            if error is None:
                raise
            verdict = f"refused ({error[0]})"
        else:
            verdict = "accepted"
            idp.admin_delete_user(UserPoolId=setup.pool_id, Username=username)
        rows.append((password, len(password), character_classes(password), verdict,
                     "yes" if password in leaked else "no"))
    return Table(["password", "length", "classes", "the pool says", "on a breach list?"], rows,
                 title="What the pool accepts at sign-up",
                 notes="classes: a lower, A upper, 1 number, # symbol or inner space ('.' = none)")


# -- lockout ---------------------------------------------------------------------------------------

def lockout_seconds(failures: int) -> float:
    """How long the lab locks a user right after their ``failures``-th failed sign-in in a row.

    The lab's own schedule (:func:`labkit.emulator.user_pools.state.lockout_seconds`), so this
    follows the lab if it changes. 0 means no lock.
    """
    return _lab_lockout_seconds(failures)


def _duration(seconds: float) -> str:
    return exact(seconds) if seconds > 0 else "no lock"


def lockout_schedule(failures: int = 16) -> Table:
    """The lock after each failed sign-in in a row, from 1 to ``failures`` (the lab's schedule)."""
    rows = [(n, _duration(lockout_seconds(n))) for n in range(1, failures + 1)]
    return Table(["failures in a row", "locked for"], rows,
                 title="How long the lab locks a user after each failed sign-in in a row",
                 notes="While locked, every sign-in (even with the right password) gets NotAuthorizedException "
                       "'Password attempts exceeded'. A successful sign-in resets the count.")


def lockout_chart(failures: int = 16):
    """:func:`lockout_schedule` as a bar chart (log scale); its text form is the table."""
    import logging

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    from matplotlib.figure import Figure

    counts = list(range(1, failures + 1))
    seconds = [lockout_seconds(n) for n in counts]
    figure = Figure(figsize=(7, 3), dpi=100)
    ax = figure.add_subplot()
    bars = ax.bar(counts, [max(s, 0.0) for s in seconds], color=["#c7c7c7" if s <= 0 else "#d9534f"
                                                                   for s in seconds])
    ax.set_yscale("symlog", linthresh=1)
    ax.set_xticks(counts)
    ax.set_xlabel("failed sign-ins in a row")
    ax.set_ylabel("lock (seconds, log scale)")
    first = next((n for n, s in zip(counts, seconds) if s > 0), None)
    cap = _duration(lockout_seconds(64))
    ax.set_title(f"The lab's lockout: from failure {first}, 1 s, doubling, at most {cap}")
    for bar, s in zip(bars, seconds):
        label = _duration(s).replace(" min", "m").replace(" s", "s").replace(" ", "") if s > 0 else "none"
        ax.annotate(label, (bar.get_x() + bar.get_width() / 2, max(s, 0.0)), ha="center", va="bottom",
                    fontsize=7, color="#333333" if s > 0 else "#888888")
    figure.subplots_adjust(left=0.1, right=0.98, bottom=0.16, top=0.88)   # tight_layout costs ~0.5 s
    return Diagram(figure, lockout_schedule(failures).text())


# -- sign-in outcomes and user enumeration ---------------------------------------------------------

def sign_in_outcome(setup, username: str, password: str, *, flow: str = "USER_PASSWORD_AUTH") -> str:
    """Sign in once and sum up the answer: ``'tokens'``, ``'challenge NEW_PASSWORD_REQUIRED'``, or
    ``'NotAuthorizedException: Incorrect username or password.'``. ``flow``: USER_PASSWORD_AUTH or
    USER_SRP_AUTH."""
    try:
        if flow == "USER_PASSWORD_AUTH":
            result = setup.sign_in(username, password)
        elif flow == "USER_SRP_AUTH":
            result = setup.sign_in_srp(username, password)
        else:
            raise ValueError("flow is USER_PASSWORD_AUTH or USER_SRP_AUTH")
    except Exception as exc:
        error = _error(exc)
        if error is None:
            raise
        return f"{error[0]}: {error[1]}"
    if "AccessToken" in result:
        return "tokens"
    return f"challenge {result.get('ChallengeName')}"


def _delivery_outcome(call, setup, username: str) -> str:
    """What a code-sending call (ForgotPassword, ResendConfirmationCode) answered, in a few words."""
    try:
        response = call(ClientId=setup.client_id, Username=username, **_secret_hash(setup, username))
    except Exception as exc:
        error = _error(exc)
        if error is None:
            raise
        return f"{error[0]}: {error[1]}"
    medium = (response.get("CodeDeliveryDetails") or {}).get("DeliveryMedium", "?")
    return f"a code was sent ({medium})"


def _forgot_password_outcome(setup, username: str) -> str:
    return _delivery_outcome(setup.idp.forgot_password, setup, username)


class EnumerationReport(Table):
    """:func:`enumeration_probe`'s table. ``leaks``: the calls whose answers differ."""

    def __init__(self, *args: Any, mode: str = "LEGACY", leaks: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mode = mode
        self.leaks = list(leaks)

    @property
    def same(self) -> bool:
        """True when no call tells the two users apart."""
        return not self.leaks


ENUMERATION_CALLS = ("InitiateAuth USER_PASSWORD_AUTH", "InitiateAuth USER_SRP_AUTH", "ForgotPassword")
#: Calls the probe can also make when asked (``calls=``); not in the default set.
OTHER_ENUMERATION_CALLS = ("ResendConfirmationCode",)


def _resend_outcome(setup, username: str) -> str:
    return _delivery_outcome(setup.idp.resend_confirmation_code, setup, username)


def enumeration_probe(setup, known: str, unknown: str, *, password: str = "Not-the-Passw0rd",
                      known_password: str | None = None, calls: Sequence[str] = ENUMERATION_CALLS
                      ) -> EnumerationReport:
    """Ask the app client the same questions about ``known`` (a user who exists) and ``unknown``.

    ``calls`` (default: all three): sign-in with ``password`` (a wrong one) by USER_PASSWORD_AUTH and
    by USER_SRP_AUTH, and ForgotPassword (which really sends ``known`` a reset code). ForgotPassword's
    answer is summed up by its delivery medium: the masked address is the user's own. Also possible:
    ResendConfirmationCode (:data:`OTHER_ENUMERATION_CALLS`), summed up the same way.

    Each wrong sign-in counts towards ``known``'s lockout. Give ``known_password`` and the probe
    ends with a successful sign-in, which resets the count, so that probing again and again never
    locks the user out (a lock would change the answers).
    """
    known_calls = ENUMERATION_CALLS + OTHER_ENUMERATION_CALLS
    unknown_calls = [c for c in calls if c not in known_calls]
    if unknown_calls:
        raise ValueError(f"calls are among {list(known_calls)}, not {unknown_calls}")
    described = setup.idp.describe_user_pool_client(UserPoolId=setup.pool_id, ClientId=setup.client_id)
    client = described["UserPoolClient"]
    mode = client.get("PreventUserExistenceErrors") or "LEGACY"

    def ask(call: str, username: str) -> str:
        if call == "ForgotPassword":
            return _forgot_password_outcome(setup, username)
        if call == "ResendConfirmationCode":
            return _resend_outcome(setup, username)
        return sign_in_outcome(setup, username, password, flow=call.split()[-1])

    rows, leaks = [], []
    for call in calls:
        a, b = ask(call, known), ask(call, unknown)
        rows.append((call, a, b, "same" if a == b else "DIFFERENT"))
        if a != b:
            leaks.append(call)
    if known_password is not None:
        outcome = sign_in_outcome(setup, known, known_password)
        if outcome != "tokens":
            raise ValueError(f"known_password did not sign {known!r} in: {outcome}")
    if leaks:
        note = (f"An attacker learns that {known!r} exists and {unknown!r} does not from: "
                + ", ".join(leaks) + ".")
    else:
        note = f"Nothing here tells {known!r} (exists) from {unknown!r} (does not)."
    return EnumerationReport(
        ["call", f"{known} (exists)", f"{unknown} (does not)", "answers"], rows,
        title=f"App client {client.get('ClientName', setup.client_id)}: PreventUserExistenceErrors = {mode}",
        notes=note, mode=mode, leaks=leaks)


# -- changing one app-client setting without resetting the others ---------------------------------

def client_update(idp, described_client: Mapping, **changes: Any) -> dict:
    """Arguments for ``idp.update_user_pool_client(**...)``: the client as described, plus ``changes``.

    UpdateUserPoolClient resets every setting you leave out to its default (AWS's API reference says
    so), so the safe way to change one is to send back all of them. ``described_client`` is
    DescribeUserPoolClient's response or its ``UserPoolClient``; only the fields UpdateUserPoolClient
    accepts are kept (not ClientSecret, CreationDate…).
    """
    client = described_client.get("UserPoolClient", described_client)
    accepted = set(idp.meta.service_model.operation_model("UpdateUserPoolClient").input_shape.members)
    unknown = sorted(set(changes) - accepted)
    if unknown:
        raise ValueError(f"UpdateUserPoolClient has no parameter {unknown[0]!r}; it takes {sorted(accepted)}")
    request = {k: v for k, v in client.items() if k in accepted and v is not None}
    request.update(changes)
    return request


def settings_changed(before: Mapping, after: Mapping, *, ignore: Iterable[str] = ("LastModifiedDate",)) -> list[str]:
    """What differs between two DescribeUserPoolClient answers (or their ``UserPoolClient``), in words:
    ``["ExplicitAuthFlows: was [...], now not set", ...]``; ``ignore``: fields not compared.

    Used to check that an UpdateUserPoolClient changed only what it meant to: the call resets every
    setting left out of it to its default.
    """
    before = before.get("UserPoolClient", before)
    after = after.get("UserPoolClient", after)
    skip = set(ignore)
    changes = []
    for key in sorted((set(before) | set(after)) - skip):
        was, now = before.get(key), after.get(key)
        if was != now:
            changes.append(f"{key}: was {'not set' if was is None else repr(was)}, "
                           f"now {'not set' if now is None else repr(now)}")
    return changes
