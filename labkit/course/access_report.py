"""Who may do what? Try real S3 / DynamoDB calls with each identity's credentials and tabulate.

An access report is the quickest honest audit of an identity pool: take the credentials each kind
of caller gets (a guest, alice, bob...), try a list of calls with each, and look at the matrix of
what AWS (here: the lab's IAM evaluation) allowed::

    >>> from labkit.course.access_report import Probe, access_report
    >>> probes = [                                                          # doctest: +SKIP
    ...     Probe.s3("read the menu", "get_object", Bucket="shop", Key="public/menu.txt"),
    ...     Probe.s3("read alice's notes", "get_object", Bucket="shop", Key=f"private/{alice_id}/notes.txt"),
    ... ]
    >>> report = access_report(lab, {"guest": guest, "alice": alice}, probes,   # doctest: +SKIP
    ...                        expect={"guest": ["read the menu"]})
    >>> report                      # doctest: +SKIP
    (an HTML table in Jupyter; print(report) gives the same as text)

``expect`` states least privilege: for each principal named, the probes it *should* be allowed;
every other probe should be refused. Cells that disagree are **findings** (⚠): an over-broad role
shows up as a ⚠ on a call that should have been refused.

The calls are real: a probe that writes or deletes does so if it is allowed. Point write and delete
probes at throw-away keys (``private/<id>/audit-probe.txt``): S3 answers DeleteObject on a key
that does not exist like any other allowed delete, so nothing of value is lost.

Each call ends in one of four outcomes: ``allowed`` (it succeeded), ``denied`` (AccessDenied,
AccessDeniedException), ``expired`` (ExpiredToken: the credentials are past their Expiration) or
``error`` (any other error, such as NoSuchKey: the report can't tell whether access was granted).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .display import ShowsAsTable, Table

__all__ = ["Probe", "Outcome", "Finding", "AccessReport", "access_report", "run_probe", "action_for",
           "DENIED_CODES", "EXPIRED_CODES"]

#: Error codes that mean "IAM said no".
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                          "AuthorizationError"})
#: Error codes that mean "these credentials are past their Expiration".
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException"})

# boto3 operation -> the IAM action it needs, where the two names differ.
_S3_ACTIONS = {
    "head_object": "s3:GetObject",
    "list_objects": "s3:ListBucket",
    "list_objects_v2": "s3:ListBucket",
    "head_bucket": "s3:ListBucket",
    "list_object_versions": "s3:ListBucketVersions",
    "list_buckets": "s3:ListAllMyBuckets",
    "delete_objects": "s3:DeleteObject",
    "copy_object": "s3:PutObject",
    "get_bucket_location": "s3:GetBucketLocation",
}

_SYMBOLS = {"allowed": "✓ allowed", "denied": "✗ denied", "expired": "✗ expired"}


def _pascal(operation: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in operation.split("_"))


def action_for(service: str, operation: str) -> str:
    """The IAM action a boto3 call needs, e.g. ``action_for("s3", "list_objects_v2")`` is ``s3:ListBucket``.

    S3 operations whose action has another name are in a small table; the others (and every
    DynamoDB operation) are the operation in PascalCase: ``get_item`` needs ``dynamodb:GetItem``.
    """
    if service == "s3" and operation in _S3_ACTIONS:
        return _S3_ACTIONS[operation]
    return f"{service}:{_pascal(operation)}"


@dataclass(frozen=True)
class Probe:
    """One call to try: ``label`` (a row of the report), the boto3 ``service`` and ``operation``
    (method name, e.g. ``"get_object"``) and its ``params``. ``action`` is the IAM action it needs
    (worked out from the operation unless given)."""

    label: str
    service: str
    operation: str
    params: Mapping[str, Any] = field(default_factory=dict)
    action: str = ""

    def __post_init__(self) -> None:
        if not self.label:
            raise ValueError("a probe needs a label (the row name of the report)")
        if not self.action:
            object.__setattr__(self, "action", action_for(self.service, self.operation))
        object.__setattr__(self, "params", dict(self.params))

    @classmethod
    def s3(cls, label: str, operation: str, *, action: str = "", **params: Any) -> "Probe":
        """An S3 probe: ``Probe.s3("read the menu", "get_object", Bucket="shop", Key="public/menu.txt")``.
        ``put_object`` without a ``Body`` writes a short marker text."""
        if operation == "put_object":
            params.setdefault("Body", b"written by an access-report probe")
        return cls(label, "s3", operation, params, action)

    @classmethod
    def dynamodb(cls, label: str, operation: str, *, action: str = "", **params: Any) -> "Probe":
        """A DynamoDB probe: ``Probe.dynamodb("read my note", "get_item", TableName="Notes", Key={...})``."""
        return cls(label, "dynamodb", operation, params, action)


@dataclass(frozen=True)
class Outcome:
    """What one call did. ``status`` is ``allowed``, ``denied``, ``expired`` or ``error``;
    ``code`` and ``message`` are the error's (``None`` when the call succeeded)."""

    status: str
    code: str | None = None
    message: str | None = None

    @property
    def allowed(self) -> bool:
        return self.status == "allowed"

    def short(self) -> str:
        """The text of a report cell: ``✓ allowed``, ``✗ denied``, ``✗ expired`` or ``? <code>``."""
        return _SYMBOLS.get(self.status) or f"? {self.code}"


def _error_of(error: BaseException) -> tuple[str, str] | None:
    response = getattr(error, "response", None)
    if not isinstance(response, dict) or "Error" not in response:
        return None
    err = response["Error"]
    return str(err.get("Code", "")), str(err.get("Message", ""))


def run_probe(client, probe: Probe) -> Outcome:
    """Make ``probe``'s call with ``client`` (a boto3 client of ``probe.service``) and classify it.

    Errors that are not AWS answers (a typo in a parameter name, a bug) are raised, not tabulated.
    """
    try:
        result = getattr(client, probe.operation)(**probe.params)
    except Exception as error:   # noqa: BLE001 - ClientError and friends; anything else is re-raised
        parsed = _error_of(error)
        if parsed is None:
            raise
        code, message = parsed
        if code in DENIED_CODES:
            return Outcome("denied", code, message)
        if code in EXPIRED_CODES:
            return Outcome("expired", code, message)
        return Outcome("error", code, message)
    body = result.get("Body") if isinstance(result, dict) else None
    if hasattr(body, "close"):
        body.close()
    return Outcome("allowed")


@dataclass(frozen=True)
class Finding:
    """A cell that is not as expected: ``principal`` may do ``probe`` but should not (or the reverse)."""

    principal: str
    probe: Probe
    outcome: Outcome
    should_be_allowed: bool

    def __str__(self) -> str:
        if self.outcome.allowed:
            return f"{self.principal} may {self.probe.label} ({self.probe.action}), but should not"
        return (f"{self.principal} may not {self.probe.label} ({self.probe.action}: {self.outcome.status}), "
                "but should")


class AccessReport(ShowsAsTable):
    """The matrix of outcomes: one row per probe, one column per principal.

    ``print(report)`` (or its repr) is a text table; in Jupyter it shows as an HTML table. Look up
    cells with ``report.outcome("guest", "read the menu")`` or ``report.allowed(...)``; ``findings``
    lists the cells that are not as ``expect`` said, ``ok`` is true when there are none.
    """

    def __init__(self, principals: list[str], probes: list[Probe], outcomes: dict[tuple[str, str], Outcome],
                 expect: Mapping[str, Iterable[str]] | None = None, title: str = "Access report") -> None:
        self.principals = list(principals)
        self.probes = list(probes)
        self.outcomes = dict(outcomes)
        self.expect = {name: frozenset(labels) for name, labels in (expect or {}).items()}
        self.title = title
        labels = {p.label for p in self.probes}
        for name, wanted in self.expect.items():
            if name not in self.principals:
                raise ValueError(f"expect names {name!r}, which is not one of the principals {self.principals}")
            unknown = sorted(wanted - labels)
            if unknown:
                raise ValueError(f"expect[{name!r}] names probes that don't exist: {unknown}")

    # -- looking things up ---------------------------------------------------------------------
    def _probe(self, label: str) -> Probe:
        for probe in self.probes:
            if probe.label == label:
                return probe
        raise KeyError(f"no probe labelled {label!r}; the probes are {[p.label for p in self.probes]}")

    def outcome(self, principal: str, label: str) -> Outcome:
        """The outcome of probe ``label`` for ``principal``."""
        self._probe(label)
        if principal not in self.principals:
            raise KeyError(f"no principal {principal!r}; the principals are {self.principals}")
        return self.outcomes[(principal, label)]

    def allowed(self, principal: str, label: str) -> bool:
        return self.outcome(principal, label).allowed

    def allowed_for(self, principal: str) -> list[str]:
        """The labels of the probes ``principal`` was allowed, in report order."""
        return [p.label for p in self.probes if self.outcome(principal, p.label).allowed]

    def expected(self, principal: str, label: str) -> bool | None:
        """Whether ``principal`` should be allowed ``label`` (``None``: no expectation for it)."""
        if principal not in self.expect:
            return None
        return label in self.expect[principal]

    @property
    def findings(self) -> list[Finding]:
        """The cells where the outcome is not what ``expect`` says, row by row."""
        found = []
        for probe in self.probes:
            for name in self.principals:
                should = self.expected(name, probe.label)
                outcome = self.outcomes[(name, probe.label)]
                if should is not None and should != outcome.allowed:
                    found.append(Finding(name, probe, outcome, should))
        return found

    @property
    def ok(self) -> bool:
        """True when every principal with an expectation can do exactly what it should."""
        return not self.findings

    def matrix(self) -> dict[str, dict[str, str]]:
        """``{principal: {probe label: status}}``, in report order."""
        return {name: {p.label: self.outcomes[(name, p.label)].status for p in self.probes}
                for name in self.principals}

    def changes_since(self, before: "AccessReport") -> list[str]:
        """What changed from an earlier report of the same probes: ``"guest · read x: allowed → denied"``."""
        lines = []
        for probe in self.probes:
            for name in self.principals:
                old = before.outcomes.get((name, probe.label))
                new = self.outcomes[(name, probe.label)]
                if old is not None and old.status != new.status:
                    lines.append(f"{name} · {probe.label}: {old.status} → {new.status}")
        return lines

    # -- showing it ------------------------------------------------------------------------------
    def _cell(self, name: str, probe: Probe) -> tuple[str, bool]:
        outcome = self.outcomes[(name, probe.label)]
        should = self.expected(name, probe.label)
        finding = should is not None and should != outcome.allowed
        return ("⚠ " if finding else "") + outcome.short(), finding

    def _legend(self) -> str:
        legend = "✓ allowed, ✗ denied or expired, ? another error"
        return legend + (", ⚠ not as expected" if self.expect else "")

    def _summary(self) -> list[str]:
        if not self.expect:
            return []
        findings = self.findings
        if not findings:
            names = ", ".join(n for n in self.principals if n in self.expect)
            return [f"No findings: {names} may do exactly what is expected, no more and no less."]
        head = f"{len(findings)} finding{'s' if len(findings) != 1 else ''}:"
        return [head] + [f"  ⚠ {f}" for f in findings]

    _COLOURS = {"allowed": "#e6f4ea", "denied": "#f1f3f4", "expired": "#f1f3f4", "error": "#fef7e0"}

    def _style(self, row: int, column: str) -> str:
        """HTML colours of a cell: green allowed, grey denied, yellow unclear, red and bold a finding."""
        if column not in self.principals:
            return ""
        probe = self.probes[row]
        finding = self._cell(column, probe)[1]
        colour = "#fce8e6" if finding else self._COLOURS.get(self.outcomes[(column, probe.label)].status, "#ffffff")
        return f"background:{colour};color:#202124" + (";font-weight:bold" if finding else "")  # dark text: dark themes too

    def table(self) -> Table:
        """The report as a :class:`~labkit.cognito.display.Table` (what ``print`` and Jupyter show)."""
        rows = [[p.label, p.action] + [self._cell(n, p)[0] for n in self.principals] for p in self.probes]
        return Table(["probe", "IAM action"] + self.principals, rows, title=f"{self.title} ({self._legend()})",
                     notes=self._summary(), code=["IAM action"], style=self._style)


def _credentials(value: Any, name: str) -> dict:
    """Accept GetCredentialsForIdentity's ``Credentials``, or any dict holding them under ``Credentials``."""
    if isinstance(value, Mapping) and isinstance(value.get("Credentials"), Mapping):
        value = value["Credentials"]
    if not isinstance(value, Mapping) or not value.get("AccessKeyId"):
        raise TypeError(f"the credentials of {name!r} should be a dict with AccessKeyId, SecretKey and "
                        "SessionToken (GetCredentialsForIdentity's 'Credentials'), not "
                        f"{type(value).__name__}")
    return dict(value)


def access_report(lab, principals: Mapping[str, Any], probes: Iterable[Probe], *,
                  expect: Mapping[str, Iterable[str]] | None = None, title: str = "Access report") -> AccessReport:
    """Try every probe with every principal's credentials and return the :class:`AccessReport`.

    ``principals`` maps a column name (``"guest"``, ``"alice"``) to that caller's credentials:
    the ``Credentials`` of GetCredentialsForIdentity, or a dict holding them (what
    :meth:`labkit.course.setups.IdentityPoolSetup.credentials` returns). ``lab`` makes the clients
    (``lab.client(service, credentials=...)``). The calls run row by row, in the order given.
    ``expect`` maps a principal to the labels of the probes it should be allowed (see the module
    docstring).
    """
    probes = list(probes)
    labels = [p.label for p in probes]
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise ValueError(f"probe labels must be unique; repeated: {duplicates}")
    creds = {name: _credentials(value, name) for name, value in principals.items()}
    clients: dict[tuple[str, str], Any] = {}
    outcomes: dict[tuple[str, str], Outcome] = {}
    for probe in probes:
        for name, credentials in creds.items():
            key = (name, probe.service)
            if key not in clients:
                clients[key] = lab.client(probe.service, credentials=credentials)
            outcomes[(name, probe.label)] = run_probe(clients[key], probe)
    return AccessReport(list(creds), probes, outcomes, expect=expect, title=title)

