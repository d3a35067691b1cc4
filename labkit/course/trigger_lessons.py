"""Lesson 07's helpers: the trigger map, a timeline of the triggers that really fired, the checks of
the exercises, a legacy user store, and a wallet for Sign-In with Ethereum.

    >>> from labkit.course.trigger_lessons import trigger_map, TriggerTrace
    >>> trigger_map()                                   # doctest: +SKIP
    >>> trace = TriggerTrace(lab, "trace")              # reads lab.lambda_logs("trace")  # doctest: +SKIP
    >>> with trace.step("SignUp", phase="sign-up"):     # doctest: +SKIP
    ...     idp.sign_up(...)
    >>> trace.plot()                                    # doctest: +SKIP

Nothing here is hard-coded about *what fired*: :class:`TriggerTrace` reads the ``TRIGGER <source>``
lines that :func:`labkit.course.trigger_handlers.trace` prints into the function's log.
Sources: developer guide, "Customizing user pool workflows with Lambda triggers" and each trigger's page.
"""
from __future__ import annotations

import contextlib
import hashlib
import inspect
import re
import secrets
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from botocore.exceptions import ClientError

from ..cognito.display import Table
from ..emulator.user_pools.triggers import GROUP_CLAIMS, RESERVED_ACCESS_CLAIMS, RESERVED_ID_CLAIMS

__all__ = ["TriggerInfo", "TRIGGER_INFO", "trigger_map", "trigger_of", "TriggerTrace", "Step", "show_handler",
           "SignUpCase", "try_sign_ups", "allow_list_reference", "REQUIREMENTS", "Requirement",
           "claim_verdict", "legacy_hash", "create_legacy_store", "lab_wallet", "siwe_fields",
           "wallet_should_sign"]


# -- the map --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TriggerInfo:
    """One trigger: its LambdaConfig key, when Cognito runs it, and what its answer can do."""

    key: str
    prefix: str            # of its triggerSource values
    when: str
    effect: str            # "can refuse", "shapes the result", "after the fact"
    use: str


TRIGGER_INFO: tuple[TriggerInfo, ...] = (
    TriggerInfo("PreSignUp", "PreSignUp_", "SignUp, AdminCreateUser, a federated user's first sign-in "
                "(before the user exists)", "can refuse", "allow-lists, invitations, auto-confirm"),
    TriggerInfo("CustomMessage", "CustomMessage_", "before each code or invitation is sent", "shapes the result",
                "the message's subject and text, its language"),
    TriggerInfo("PostConfirmation", "PostConfirmation_", "ConfirmSignUp, AdminConfirmSignUp, ConfirmForgotPassword",
                "after the fact", "create the profile row, add to a group"),
    TriggerInfo("UserMigration", "UserMigration_", "sign-in or ForgotPassword of a user the pool lacks",
                "can refuse", "lazy migration from an old user store"),
    TriggerInfo("PreAuthentication", "PreAuthentication_", "each sign-in, before the password is checked",
                "can refuse", "block accounts, extra checks"),
    TriggerInfo("DefineAuthChallenge", "DefineAuthChallenge_", "CUSTOM_AUTH: at the start and after each answer",
                "can refuse", "decide the next challenge or issue tokens"),
    TriggerInfo("CreateAuthChallenge", "CreateAuthChallenge_", "CUSTOM_AUTH: for each challenge",
                "shapes the result", "the question (nonce, message) and its secret answer"),
    TriggerInfo("VerifyAuthChallengeResponse", "VerifyAuthChallengeResponse_", "CUSTOM_AUTH: for each answer",
                "can refuse", "check the answer (a signature, a code)"),
    TriggerInfo("PostAuthentication", "PostAuthentication_", "each successful sign-in (not a refresh)",
                "after the fact", "audit records, last-seen"),
    TriggerInfo("PreTokenGeneration", "TokenGeneration_", "before tokens are issued: sign-in and refresh",
                "shapes the result", "add or suppress claims (tenant, plan), groups, scopes"),
)


def trigger_of(source: str) -> TriggerInfo:
    """The trigger a ``triggerSource`` value belongs to (``"TokenGeneration_Authentication"`` → PreTokenGeneration)."""
    for info in TRIGGER_INFO:
        if source.startswith(info.prefix):
            return info
    raise KeyError(f"{source!r} is not a user-pool triggerSource")


class TriggerMap:
    """The table of triggers (display it)."""

    def __init__(self, infos: Iterable[TriggerInfo]) -> None:
        self.infos = list(infos)

    def table(self) -> Table:
        """The map as a :class:`~labkit.cognito.display.Table`, wrapped to about 105 characters."""
        return Table(["trigger (LambdaConfig key)", "runs on", "its answer", "typical use"],
                     [(i.key, i.when, i.effect, i.use) for i in self.infos], widths=[None, 34, 10, 26])

    def __repr__(self) -> str:
        return self.table().text()


def trigger_map() -> TriggerMap:
    """Every user-pool trigger, in the order a user meets them: when it runs, whether it can refuse."""
    return TriggerMap(TRIGGER_INFO)


def show_handler(handler: Callable) -> "HandlerSource":
    """A handler's source, to read in a notebook (``show_handler(trace)``)."""
    return HandlerSource(inspect.getsource(handler))


class HandlerSource(str):
    def __repr__(self) -> str:
        return str(self).rstrip("\n")


# -- the timeline of what fired -----------------------------------------------------------------
TRIGGER_LINE = re.compile(r"^TRIGGER (\w+)")
_EFFECT_COLOURS = {"can refuse": "#d9534f", "shapes the result": "#5b8def", "after the fact": "#5cb85c"}


@dataclass
class Step:
    """One API call of the app and the triggers it made Cognito run (triggerSource values, in order)."""

    call: str
    phase: str
    sources: list[str] = field(default_factory=list)
    error: str | None = None


class TriggerTrace:
    """Records, for each API call made inside :meth:`step`, which triggers fired: it reads the
    ``TRIGGER <triggerSource>`` lines the ``trace`` function printed into its log during the call."""

    def __init__(self, lab, function_name: str = "trace", title: str = "One sign-up and one sign-in") -> None:
        self.lab = lab
        self.function_name = function_name
        self.title = title
        self.steps: list[Step] = []

    def _sources(self) -> list[str]:
        found = (TRIGGER_LINE.match(line) for line in self.lab.lambda_logs(self.function_name).output)
        return [m.group(1) for m in found if m]

    @contextlib.contextmanager
    def step(self, call: str, phase: str):
        """``with trace.step("SignUp", phase="sign-up"): idp.sign_up(...)``. An error is recorded and raised."""
        before = len(self._sources())
        step = Step(call, phase)
        try:
            yield step
        except Exception as error:
            step.error = getattr(error, "response", {}).get("Error", {}).get("Code") or type(error).__name__
            raise
        finally:
            step.sources = self._sources()[before:]
            self.steps.append(step)

    @property
    def fired(self) -> list[str]:
        """Every triggerSource that fired, in order."""
        return [source for step in self.steps for source in step.sources]

    def not_fired(self) -> list[str]:
        """The triggers (LambdaConfig keys) that never fired during the recorded calls."""
        seen = {trigger_of(s).key for s in self.fired}
        return [i.key for i in TRIGGER_INFO if i.key not in seen]

    def __repr__(self) -> str:
        lines = [self.title]
        for step in self.steps:
            fired = ", ".join(step.sources) or "(no trigger)"
            outcome = f"  -> {step.error}" if step.error else ""
            lead = f"  {step.phase:<8} {step.call:<32} "
            lines += textwrap.wrap(fired + outcome, 105, initial_indent=lead, subsequent_indent=" " * len(lead),
                                   break_long_words=False, break_on_hyphens=False)
        return "\n".join(lines)

    def plot(self, ax: Any = None):
        """Draw the calls (top lane) and the triggers each one ran (bottom lane) from left to right,
        coloured by what a trigger's answer can do. Returns the figure."""
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch

        if ax is None:
            slots = sum(max(1, len(s.sources)) for s in self.steps)
            fig, ax = plt.subplots(figsize=(max(8.0, 1.45 * slots), 3.4))
            plt.close(fig)                    # shown once, by returning it, not twice
        else:
            fig = ax.figure
        x = 0.0
        phases: dict[str, list[float]] = {}
        for step in self.steps:
            width = max(1, len(step.sources))
            colour = "#f2dede" if step.error else "#eeeeee"
            ax.add_patch(plt.Rectangle((x + 0.05, 1.15), width - 0.1, 0.7, facecolor=colour, edgecolor="#555555"))
            label = step.call.replace(" ", "\n") + (f"\n✗ {step.error}" if step.error else "")
            # A one-slot box holds about 14 characters at size 8: a longer word (REFRESH_TOKEN_AUTH) is set smaller.
            longest = max(len(line) for line in label.splitlines())
            ax.text(x + width / 2, 1.5, label, ha="center", va="center",
                    fontsize=min(8.0, 8.0 * 14 * width / longest))
            for i, source in enumerate(step.sources):
                info = trigger_of(source)
                ax.add_patch(plt.Rectangle((x + i + 0.08, 0.1), 0.84, 0.75, facecolor=_EFFECT_COLOURS[info.effect],
                                           alpha=0.85, edgecolor="white"))
                ax.text(x + i + 0.5, 0.475, source.replace("_", "\n", 1), ha="center", va="center",
                        fontsize=7, color="white")
                ax.annotate("", xy=(x + i + 0.5, 0.87), xytext=(x + i + 0.5, 1.13),
                            arrowprops={"arrowstyle": "->", "color": "#777777"})
            phases.setdefault(step.phase, [x, x + width])
            phases[step.phase][1] = x + width
            x += width
        for phase, (start, end) in phases.items():
            ax.annotate("", xy=(start + 0.05, 2.05), xytext=(end - 0.05, 2.05),
                        arrowprops={"arrowstyle": "<->", "color": "#333333"})
            ax.text((start + end) / 2, 2.15, phase, ha="center", va="bottom", fontsize=9, weight="bold")
        ax.set_xlim(0, max(x, 1))
        ax.set_ylim(0, 2.5)
        ax.set_yticks([0.475, 1.5], ["Cognito → Lambda", "your app → Cognito"])
        ax.set_xticks([])
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
        ax.set_title(self.title + " (time runs left to right)")
        ax.legend(handles=[Patch(color=c, label=f"its answer {e}" if e != "after the fact" else "runs after the fact")
                           for e, c in _EFFECT_COLOURS.items()], loc="upper center", bbox_to_anchor=(0.5, -0.02),
                  ncol=3, fontsize=8, frameon=False)
        fig.tight_layout()
        return fig


# -- exercise 7.1: an allow-list pre sign-up --------------------------------------------------------
@dataclass(frozen=True)
class SignUpCase:
    """One sign-up to try: an email and, optionally, an invitation code (ValidationData ``invite``)."""

    email: str | None
    invite: str | None = None


def allow_list_reference(email: str | None, invite: str | None, domains: Iterable[str], codes: Iterable[str]) -> bool:
    """The rule of exercise 7.1: the email's domain is exactly one of ``domains`` (case does not matter
    in a domain), or the invitation code is one of ``codes``."""
    if invite is not None and invite in set(codes):
        return True
    if not email or "@" not in email:
        return False
    return email.rpartition("@")[2].lower() in {d.lower() for d in domains}


def try_sign_ups(idp, client_id: str, pool_id: str, cases: Iterable[SignUpCase], password: str) -> dict[str, str]:
    """Sign each case up (then delete whoever got in, so it can run again) and say what happened:
    ``{"ana@acme.example": "allowed", "eve@evil.test": "refused: PreSignUp failed with error …"}``."""
    outcomes: dict[str, str] = {}
    for number, case in enumerate(cases):
        username = f"try-{number}-{secrets.token_hex(3)}"
        attributes = [{"Name": "email", "Value": case.email}] if case.email else []
        extra = {"ValidationData": [{"Name": "invite", "Value": case.invite}]} if case.invite else {}
        label = f"{case.email or '(no email)'}" + (f" + invite {case.invite}" if case.invite else "")
        try:
            idp.sign_up(ClientId=client_id, Username=username, Password=password, UserAttributes=attributes, **extra)
        except ClientError as error:
            outcomes[label] = f"refused: {error.response['Error']['Message']}"
            continue
        outcomes[label] = "allowed"
        idp.admin_delete_user(UserPoolId=pool_id, Username=username)
    return outcomes


# -- exercise 7.2: which trigger for a requirement ----------------------------------------------
@dataclass(frozen=True)
class Requirement:
    key: str
    text: str
    trigger: str
    why: str


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("language", "Send the sign-up code in the user's own language (locale attribute).",
                "CustomMessage", "only the custom message trigger sees and rewrites the message before it is sent"),
    Requirement("contract", "Refuse sign-in to users of a customer whose contract has ended, without deleting them.",
                "PreAuthentication", "it runs before every sign-in and can refuse it; the user stays in the pool"),
    Requirement("audit", "Write an audit record after every successful sign-in.",
                "PostAuthentication", "it runs after a sign-in succeeded, and only then (not on refresh)"),
    Requirement("old-system", "Bring users over from the old system at their first sign-in, password and all.",
                "UserMigration", "it runs for a user the pool does not have, with the password they typed"),
    Requirement("plan-claim", "Let APIs read the user's plan from the access token.",
                "PreTokenGeneration", "only pre token generation (V2_0 for access tokens) changes claims"),
    Requirement("disposable", "Turn away sign-ups with a throw-away email address.",
                "PreSignUp", "it runs before the user exists, so a refusal leaves nothing behind"),
)


# -- exercise 7.3: claims ----------------------------------------------------------------------------
def claim_verdict(claim: str, token: str = "access") -> str:
    """What a V2_0 pre token generation trigger gets when it puts ``claim`` in ``claimsToAddOrOverride``
    of the ``token`` ("access" or "id"): ``"reserved"`` (Cognito keeps its own value),
    ``"groups"`` (only through groupOverrideDetails) or ``"added"``."""
    reserved = RESERVED_ACCESS_CLAIMS if token == "access" else RESERVED_ID_CLAIMS
    if claim in GROUP_CLAIMS:
        return "groups"
    return "reserved" if claim in reserved else "added"


# -- the legacy store of section 6 -------------------------------------------------------------------
def legacy_hash(password: str, salt: bytes, iterations: int = 10_000) -> str:
    """How the old system stored passwords: PBKDF2-HMAC-SHA256, hex (the lab keeps iterations low to stay fast)."""
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations).hex()


def create_legacy_store(lab, table: str, users: dict[str, tuple[str, str]], *, seed: int = 0,
                        iterations: int = 10_000) -> int:
    """A DynamoDB table standing for the old system's users: ``users`` maps username to (password,
    email); only salted hashes are stored. Returns the number of users. Safe to run twice."""
    ddb = lab.client("dynamodb")
    if table not in ddb.list_tables()["TableNames"]:
        ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "username", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "username", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
    for username, (password, email) in sorted(users.items()):
        salt = hashlib.sha256(f"legacy-salt|{seed}|{username}".encode()).digest()[:16]
        ddb.put_item(TableName=table, Item={
            "username": {"S": username}, "email": {"S": email}, "salt": {"S": salt.hex()},
            "iterations": {"N": str(iterations)}, "hash": {"S": legacy_hash(password, salt, iterations)}})
    return len(users)


# -- Sign-In with Ethereum -----------------------------------------------------------------------------
def lab_wallet(name: str, seed: int = 0):
    """A local Ethereum account (an ``eth_account`` LocalAccount: a secp256k1 key pair) made from a name
    and a seed, so the lesson's addresses are the same every run. A real wallet makes its key at random."""
    from eth_account import Account

    return Account.from_key(hashlib.sha256(f"labkit-wallet|{seed}|{name}".encode()).digest())


_SIWE = re.compile(
    r"^(?P<domain>\S+) wants you to sign in with your Ethereum account:\n(?P<address>0x[0-9a-fA-F]{40})\n\n"
    r"(?:(?P<statement>[^\n]*)\n\n)?(?P<fields>(?:[A-Za-z ]+: [^\n]*\n?)+)$")


def siwe_fields(message: str) -> dict[str, str]:
    """The fields of a Sign-In with Ethereum (EIP-4361) message: domain, address, statement, URI,
    Version, Chain ID, Nonce, Issued At… Raises ValueError for text that is not one."""
    match = _SIWE.match(message)
    if match is None:
        raise ValueError("This is not a Sign-In with Ethereum (EIP-4361) message.")
    fields = {"domain": match["domain"], "address": match["address"], "statement": match["statement"] or ""}
    for line in match["fields"].strip("\n").split("\n"):
        name, _, value = line.partition(": ")
        fields[name] = value
    return fields


def wallet_should_sign(message: str, *, origin_domain: str, address: str, chain_id: int = 1) -> bool:
    """What a careful wallet checks before it signs (EIP-4361's security considerations): the message
    is for the site the user is on, for this wallet's address, on the expected chain, with a nonce."""
    try:
        fields = siwe_fields(message)
    except ValueError:
        return False
    return (fields["domain"] == origin_domain and fields["address"].lower() == address.lower()
            and fields.get("Chain ID") == str(chain_id) and len(fields.get("Nonce", "")) >= 8
            and fields.get("Nonce", "").isalnum())
