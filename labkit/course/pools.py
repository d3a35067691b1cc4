"""User pools vs identity pools (lesson 01): the decision table, a side-by-side view, a request's signature.

* :data:`DECISIONS` and :func:`decision_table` — common situations and which part of Cognito each
  needs: a user pool ("who are you?"), an identity pool ("what may you do in AWS?"), both, or
  neither.
* :data:`PRACTICE`, :func:`practice_table` and :func:`check_choices` — exercise 1.1: new situations
  whose answers are stored as hashes (as the quizzes' are), with a question to think about for
  each wrong answer and the reasons once all are right.
* :func:`compare` — what a user-pool sign-in and an identity-pool exchange gave you, side by side.
* :func:`watch` and :class:`SignedRequest` — what a boto3 client really sends to AWS: a Signature
  Version 4 ``Authorization`` header made with an access key, never a JWT.

Every table is a :class:`labkit.cognito.display.Table`: an HTML table in Jupyter, aligned plain text with
``print``.

    >>> from labkit import pools
    >>> print(pools.decision_table())                      # doctest: +SKIP
    >>> why = pools.check_choices({"a": "user pool", "b": "both", ...})   # doctest: +SKIP
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator, Sequence
from urllib.parse import unquote, urlsplit

import jwt

from ..cognito.durations import duration
from .display import Table
from .exercises import ExerciseNotPassed, answer_hash

__all__ = ["CHOICES", "USER_POOL", "IDENTITY_POOL", "BOTH", "NEITHER", "Table", "Scenario", "DECISIONS",
           "decision_table", "Practice", "PRACTICE", "practice_table", "check_choices", "normalise_choice",
           "compare", "SignedRequest", "parse_authorization", "Watcher", "watch"]

USER_POOL = "user pool"
IDENTITY_POOL = "identity pool"
BOTH = "both"
NEITHER = "neither"
#: The four answers to "which part of Cognito does this need?".
CHOICES: tuple[str, ...] = (USER_POOL, IDENTITY_POOL, BOTH, NEITHER)


# -- the decision table --------------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    """A situation, the part of Cognito it needs (one of :data:`CHOICES`) and why.

    ``detail`` qualifies the answer in the table, e.g. "guests" or "client credentials".
    """

    situation: str
    use: str
    why: str
    detail: str = ""

    def __post_init__(self) -> None:
        if self.use not in CHOICES:
            raise ValueError(f"use must be one of {CHOICES}, not {self.use!r}")

    @property
    def label(self) -> str:
        return f"{self.use} ({self.detail})" if self.detail else self.use


#: Common situations and what they need. :func:`decision_table` shows them.
DECISIONS: tuple[Scenario, ...] = (
    Scenario("A web app: people sign up and sign in; the app's own backend serves their data.",
             USER_POOL, "Only 'who is this?' matters. The app sends the access token to its backend, which "
             "verifies it. The browser never holds AWS credentials."),
    Scenario("An API behind API Gateway with a Cognito user pool authorizer.",
             USER_POOL, "API Gateway checks the user pool's JWT itself (signature, expiry, scopes). "
             "The caller sends a token, not AWS credentials."),
    Scenario("Only members of the group 'admin' may call /admin on your API.",
             USER_POOL, "Groups live in the user pool and arrive in the tokens as cognito:groups; "
             "the API checks the claim."),
    Scenario("A mobile app: signed-in users upload photos straight to their own folder in S3.",
             BOTH, "The user pool signs the user in (ID token); the identity pool trades that token for "
             "credentials of a role that may write only private/<identity id>/."),
    Scenario("A public page shows pictures from an S3 prefix to visitors who never sign in.",
             IDENTITY_POOL, "AllowUnauthenticatedIdentities gives each visitor credentials for a read-only "
             "guest role. Nobody signs in, so no user pool. (Files that are truly public can also be "
             "served by CloudFront, without Cognito.)", detail="guests"),
    Scenario("Users sign in with Google only, then the app reads their files in S3 directly.",
             IDENTITY_POOL, "Identity pools accept Google, Apple, Facebook, Amazon, SAML and OIDC logins "
             "directly. Add a user pool only if you want your own user directory (profiles, groups, MFA).",
             detail="Google as provider"),
    Scenario("A partner's server calls your API; no person is involved.",
             USER_POOL, "An app client with a secret gets an access token with custom scopes from the "
             "user pool's token endpoint (machine to machine; needs a user pool domain). No users, "
             "no identity pool.", detail="client credentials"),
    Scenario("A nightly Lambda function copies files between two S3 buckets.",
             NEITHER, "No person and no app outside AWS: the function runs with its own IAM role "
             "(its execution role). Cognito has nothing to add."),
)


def decision_table(scenarios: Sequence[Scenario] = DECISIONS) -> Table:
    """The scenarios as a table: situation, what to use, why."""
    return Table(["Situation", "Use", "Why"], [[s.situation, s.label, s.why] for s in scenarios],
                 title="User pool, identity pool, both or neither?", widths=[38, 20, 58],
                 note="User pool: who are you? (sign-in, JWTs). Identity pool: what may you do in AWS? "
                      "(temporary AWS credentials for an IAM role).")


# -- exercise 1.1 ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Practice:
    """A practice situation. ``answer`` is :func:`labkit.course.exercises.answer_hash` of the right choice;
    ``think`` is shown when the choice is wrong, ``why`` once every choice is right."""

    key: str
    situation: str
    answer: str
    think: str
    why: str

    def is_right(self, choice: str) -> bool:
        try:
            _, salt, _ = self.answer.split("$")
        except ValueError:
            return False
        return answer_hash(normalise_choice(choice), salt=salt) == self.answer


#: Exercise 1.1: none of these is in :data:`DECISIONS`.
PRACTICE: tuple[Practice, ...] = (
    Practice("a", "A single-page app calls your REST API on API Gateway; every user must sign in first.",
             "sha256$0101$502aa757412381d148e6",
             "Does the browser itself call an AWS service such as S3, or only your API?",
             "User pool: sign-in gives the app tokens and API Gateway's Cognito authorizer checks them. "
             "The browser never needs AWS credentials."),
    Practice("b", "A phone app lets signed-in users save their own to-do items straight into a DynamoDB table.",
             "sha256$0102$c912709017bb89db316f",
             "Two things happen here: someone signs in, and the app calls DynamoDB itself, which takes "
             "AWS credentials.",
             "Both: the user pool signs the user in; the identity pool trades the ID token for credentials "
             "whose role reaches only that identity's items (dynamodb:LeadingKeys)."),
    Practice("c", "A museum's kiosk app, with no accounts at all, plays audio guides from a private S3 bucket.",
             "sha256$0103$616a5083d8df8bdad5f2",
             "Nobody signs in, yet the app calls S3 itself: what hands an app without users AWS credentials?",
             "Identity pool with guests: AllowUnauthenticatedIdentities and a read-only guest role. "
             "No sign-in, so no user pool."),
    Practice("d", "A CI build running on EC2 uploads its artefacts to S3.",
             "sha256$0104$70c5830d9c7aa5621397",
             "Is there a person, or an app outside AWS? What gives an EC2 instance access to S3?",
             "Neither: the instance's IAM role (instance profile) gives it credentials. No user, no Cognito."),
    Practice("e", "Employees sign in to an internal tool; the tool's server, not the browser, then reads "
                  "reports from S3.",
             "sha256$0105$c3c70cf6301ac0af434c",
             "Who calls S3 here: the employee's browser, or your server with its own IAM role?",
             "User pool: it says who the employee is; the server reaches S3 with its own role, so no "
             "identity pool is needed."),
)


def practice_table(practice: Sequence[Practice] = PRACTICE) -> Table:
    """The practice situations, without their answers."""
    return Table(["", "Situation"], [[p.key, p.situation] for p in practice],
                 title="Exercise 1.1: which part of Cognito does each need?", widths=[3, 104],
                 note="Answer each with one of: " + ", ".join(repr(c) for c in CHOICES) + ".")


def normalise_choice(choice: Any) -> str:
    """``"User Pool"``, ``" user_pools "`` -> ``"user pool"``; anything else lower-cased and trimmed."""
    text = " ".join(str(choice).replace("_", " ").replace("-", " ").split()).casefold()
    if text.endswith(" pools"):
        text = text[:-1]
    return text


def check_choices(choices: Any, practice: Sequence[Practice] = PRACTICE) -> Table:
    """Check exercise 1.1: ``choices`` maps each key ("a", "b"…) to one of :data:`CHOICES`.

    Raises :class:`labkit.course.exercises.ExerciseNotPassed` listing every missing, unknown or wrong
    answer, each with a question to think about (inside ``with exercise(...)`` the message gets
    the exercise's id and hint). When all are right, returns a :class:`Table` of the reasons.
    """
    if not isinstance(choices, dict):
        raise ExerciseNotPassed(None, f"choices should be a dict such as {{\"a\": \"user pool\", ...}}, "
                                      f"not a {type(choices).__name__}.")
    keys = [p.key for p in practice]
    given = {str(k).strip().lower().strip(")"): v for k, v in choices.items()}
    problems = []
    for extra in sorted(k for k in given if k not in keys):
        problems.append(f"{extra!r} is not one of the situations ({', '.join(keys)}).")
    wrong = 0
    for p in practice:
        if p.key not in given:
            problems.append(f"{p.key}) has no answer yet.")
            wrong += 1
            continue
        choice = normalise_choice(given[p.key])
        if choice not in CHOICES:
            problems.append(f"{p.key}) {given[p.key]!r} is not one of " + ", ".join(repr(c) for c in CHOICES) + ".")
            wrong += 1
        elif not p.is_right(choice):
            problems.append(f"{p.key}) not {choice!r}. {p.think}")
            wrong += 1
    if problems:
        head = (f"{len(practice) - wrong} of {len(practice)} situations answered right."
                if wrong else "Some keys are not situations.")
        raise ExerciseNotPassed(None, "\n".join([head] + problems))
    return Table(["", "Situation", "Why"], [[p.key, p.situation, p.why] for p in practice],
                 title="Why these answers", widths=[3, 44, 64])


# -- side by side: what each gave you --------------------------------------------------------------
def _timestamp(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def compare(tokens: dict, identity: dict, *, clock: Any = None) -> Table:
    """A user pool's sign-in result beside an identity pool's credentials, as a :class:`Table`.

    ``tokens`` is an ``AuthenticationResult`` (InitiateAuth / ``UserPoolSetup.sign_in``);
    ``identity`` what GetCredentialsForIdentity returned (``IdentityId`` and ``Credentials``).
    ``clock`` (``lab.clock``) dates "valid for"; real time by default.
    """
    import time

    now = clock.time() if clock is not None else time.time()
    claims = jwt.decode(tokens["IdToken"], options={"verify_signature": False})
    credentials = identity["Credentials"]
    token_names = [name for name in ("IdToken", "AccessToken", "RefreshToken") if name in tokens]
    secret_names = [name for name in ("AccessKeyId", "SecretKey", "SessionToken") if name in credentials]
    token_life = duration(claims["exp"] - claims["iat"])
    credentials_left = duration(_timestamp(credentials["Expiration"]) - now)
    rows = [
        ["Answers", "Who are you?", "What may you do in AWS?"],
        ["API", "cognito-idp: InitiateAuth", "cognito-identity: GetId, GetCredentialsForIdentity"],
        ["You give", "a username and a password", "the user pool's ID token (nothing, for a guest)"],
        ["You get", ", ".join(token_names) + " (JWTs, signed by the pool; the refresh token is opaque)",
         ", ".join(secret_names) + " (temporary AWS credentials for one IAM role)"],
        ["The user is", f"{claims.get('cognito:username', '?')}, sub {claims['sub']}",
         f"identity id {identity['IdentityId']} (no name, no email)"],
        ["Valid for", f"{token_life} (ID and access tokens)", f"{credentials_left} (until Expiration)"],
        ["Send it to", "your app and your API, as Authorization: Bearer <token>",
         "AWS services: boto3 signs each request with it (Signature Version 4)"],
        ["Checked by", "whoever receives it: signature (the pool's JWKS), iss, client, exp",
         "AWS: the signature, then IAM evaluates the role's policies"],
    ]
    return Table(["", "User pool", "Identity pool"], rows, title="Side by side", widths=[12, 44, 50])


# -- what a boto3 client really sends ----------------------------------------------------------------
@dataclass
class SignedRequest:
    """One request as it left a boto3 client: who signed it and how (read from its headers)."""

    method: str
    path: str
    scheme: str | None                  # "AWS4-HMAC-SHA256", "Bearer", ... (None: no Authorization)
    access_key_id: str | None = None
    date: str | None = None
    region: str | None = None
    service: str | None = None
    signed_headers: list[str] = field(default_factory=list)
    signature: str | None = None
    session_token: bool = False
    bearer: str | None = None

    def __str__(self) -> str:
        lines = [f"{self.method} {self.path}"]
        if self.scheme is None:
            lines.append("Authorization: (none: an anonymous request)")
        elif self.scheme == "AWS4-HMAC-SHA256":
            lines += [
                "Authorization: AWS4-HMAC-SHA256 (Signature Version 4)",
                f"  access key id   {self.access_key_id}   <- which credentials signed",
                f"  scope           {self.region} / {self.service}",
                f"  signed headers  {', '.join(self.signed_headers)}",
                f"  signature       {self.signature}   <- HMAC made with the secret key, which never travels",
            ]
        elif self.scheme == "Bearer":
            lines.append(f"Authorization: Bearer {self.bearer}")
        else:
            lines.append(f"Authorization: {self.scheme} ...")
        lines.append("X-Amz-Security-Token: " + ("present (the SessionToken of temporary credentials)"
                                                 if self.session_token else "absent"))
        return "\n".join(lines)

    __repr__ = __str__


def parse_authorization(method: str, url: str, headers: dict) -> SignedRequest:
    """A :class:`SignedRequest` from a request's method, URL and headers (any capitalisation)."""
    lowered = {str(k).lower(): (v.decode() if isinstance(v, bytes) else str(v)) for k, v in headers.items()}
    path = unquote(urlsplit(url).path) or "/"
    auth = lowered.get("authorization")
    request = SignedRequest(method=method.upper(), path=path, scheme=None,
                            session_token="x-amz-security-token" in lowered)
    if not auth:
        return request
    scheme, _, rest = auth.strip().partition(" ")
    request.scheme = scheme
    if scheme == "Bearer":
        request.bearer = rest.strip()
    elif scheme == "AWS4-HMAC-SHA256":
        fields = {}
        for part in rest.split(","):
            name, _, value = part.strip().partition("=")
            fields[name] = value
        scope = fields.get("Credential", "").split("/")
        if len(scope) == 5:
            request.access_key_id, request.date, request.region, request.service, _ = scope
        request.signed_headers = [h for h in fields.get("SignedHeaders", "").split(";") if h]
        request.signature = fields.get("Signature")
    return request


class Watcher:
    """What :func:`watch` collects: ``requests`` in order, ``last`` the latest."""

    def __init__(self) -> None:
        self.requests: list[SignedRequest] = []

    @property
    def last(self) -> SignedRequest | None:
        return self.requests[-1] if self.requests else None

    def _record(self, request, **_: Any) -> None:
        self.requests.append(parse_authorization(request.method, request.url, dict(request.headers)))

    def __repr__(self) -> str:
        return f"<Watcher: {len(self.requests)} request(s)>"


@contextmanager
def watch(client: Any) -> Iterator[Watcher]:
    """Record the signed requests ``client`` (a boto3 client) sends inside the ``with`` block.

        >>> with watch(s3) as seen:                        # doctest: +SKIP
        ...     s3.get_object(Bucket="b", Key="k")
        >>> print(seen.last)                               # doctest: +SKIP

    The requests are still sent; this only reads them just before they leave.
    """
    watcher = Watcher()
    events = client.meta.events
    events.register("before-send", watcher._record, unique_id=f"labkit-pools-watch-{id(watcher)}")
    try:
        yield watcher
    finally:
        events.unregister("before-send", unique_id=f"labkit-pools-watch-{id(watcher)}")
