"""A CloudTrail-shaped record of the lab's Amazon Cognito calls: ``lab.cloudtrail``.

Every cognito-idp and cognito-identity API call (management and sign-in alike) and every request to a
user pool domain's hosted UI / OAuth 2.0 endpoints becomes one event shaped like CloudTrail's, on
the lab clock, with secrets redacted as CloudTrail does for Cognito.

Sources (Cognito developer guide): "Logging Amazon Cognito API calls with AWS CloudTrail"
(logging-using-cloudtrail) and "Amazon Cognito information in CloudTrail" (amazon-cognito-info-in-cloudtrail):
Cognito logs the user pool actions of the API reference's operations page and the requests to the hosted
UI; "Amazon Cognito records UserSub but not UserName in CloudTrail logs for requests that are specific
to a user" (find the user with ListUsers and a ``sub`` filter). "Example Amazon Cognito events"
(understanding-amazon-cognito-entries): hosted-UI events are named ``<Page>_<METHOD>`` (``Login_GET``,
``Signup_POST``, ``Token_POST``), ``eventType`` ``AwsServiceEvent``, ``requestParameters`` null and the
form in ``additionalEventData.requestParameters`` (lists of values), with passwords, user names, codes,
``_csrf`` and SAML responses as ``HIDDEN_DUE_TO_SECURITY_REASONS``, the status in
``additionalEventData.responseParameters``, and ``userPoolDomain`` / ``userPoolId``; ``userIdentity`` is
``{"accountId": …}`` for them.

The lab's choices, where the guide shows no example (README, "Differs from AWS"): unsigned API calls
(InitiateAuth, SignUp, … which boto3 sends without a signature) get the hosted-UI events' ``userIdentity``
``{"accountId": …}``; signed ones ``{"type": "IAMUser" | "AssumedRole", "accountId", "accessKeyId"}``;
the ``sub`` of a user-specific call goes in ``additionalEventData.sub`` when the user exists (also when
the call fails); read-only calls (Describe*, Get*, List*) keep no ``responseElements``; the redacted
fields are those in :data:`SENSITIVE` (every value that is a secret, a token, a code, a user name or a
user attribute's value); hosted-UI page names other than the guide's are the lab's (``Authorize_GET``,
``UserInfo_GET``, ``Revoke_POST``, ``Logout_GET``, ``IdpResponse_GET``); ``sourceIPAddress`` is the first
address in an ``X-Forwarded-For`` header when there is one (so a lesson can play several hosts on
127.0.0.1), else the connection's.
"""
from __future__ import annotations

import json
import random
import threading
from datetime import datetime, timezone
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
EVENT_VERSION = "1.08"
SOURCES = {"AWSCognitoIdentityProviderService": "cognito-idp.amazonaws.com",
           "AWSCognitoIdentityService": "cognito-identity.amazonaws.com"}
IDP_SOURCE = SOURCES["AWSCognitoIdentityProviderService"]

#: Request and response members whose values never reach the log (compared case-insensitively).
SENSITIVE = frozenset(name.lower() for name in (
    "Password", "PreviousPassword", "ProposedPassword", "TemporaryPassword", "ConfirmationCode", "Code",
    "UserCode", "AccessToken", "RefreshToken", "IdToken", "Token", "Session", "SecretHash", "SECRET_HASH",
    "ClientSecret", "client_secret", "SecretCode", "Username", "USERNAME", "PASSWORD", "NEW_PASSWORD",
    "SRP_A", "SRP_B", "SALT", "SECRET_BLOCK", "PASSWORD_CLAIM_SECRET_BLOCK", "PASSWORD_CLAIM_SIGNATURE",
    "USER_ID_FOR_SRP", "REFRESH_TOKEN", "SMS_MFA_CODE", "SOFTWARE_TOKEN_MFA_CODE", "EMAIL_OTP_CODE",
    "SMS_OTP_CODE", "ANSWER", "CREDENTIAL", "Credential", "SecretKey", "SessionToken", "Destination",
    "DEVICE_KEY", "code", "code_verifier", "username", "password", "new_password", "_csrf", "session",
    "refresh_token", "token", "state", "SAMLResponse", "RelayState", "Logins", "DeveloperUserIdentifier",
    "PublicKeyCredential", "CredentialCreationOptions", "CredentialRequestOptions", "CREDENTIAL_REQUEST_OPTIONS"))
#: Members holding a whole token set or challenge: every value inside is hidden.
SENSITIVE_CONTAINERS = frozenset(name.lower() for name in (
    "AuthenticationResult", "ChallengeParameters", "ChallengeResponses", "AuthParameters", "Credentials"))
#: Lists of {"Name", "Value"} user attributes: names kept, values hidden.
ATTRIBUTE_LISTS = frozenset(name.lower() for name in (
    "UserAttributes", "Attributes", "ValidationData", "UserContextData", "requiredAttributes"))

# The hosted UI's pages: path after the domain -> the page name in eventName.
PAGES = {"login": "Login", "signup": "Signup", "confirm": "Confirm", "logout": "Logout",
         "oauth2/authorize": "Authorize", "oauth2/token": "Token", "oauth2/userInfo": "UserInfo",
         "oauth2/userinfo": "UserInfo", "oauth2/revoke": "Revoke", "oauth2/idpresponse": "IdpResponse",
         "saml2/idpresponse": "SAML2Response"}


def redact(value: Any, key: str = "") -> Any:
    """``value`` as CloudTrail would log it under ``key``: secrets and user data hidden, the rest kept."""
    lowered = key.lower()
    if lowered in SENSITIVE_CONTAINERS and isinstance(value, dict):
        return {k: HIDDEN for k in value}
    if lowered in SENSITIVE and value not in (None, "", [], {}):
        return HIDDEN
    if lowered in ATTRIBUTE_LISTS and isinstance(value, list):
        return [{"name": item.get("Name"), "value": HIDDEN} if isinstance(item, dict) else HIDDEN
                for item in value]
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    return value


def _camel(params: Any) -> Any:
    """CloudTrail writes request and response members in lowerCamelCase (``userPoolId``)."""
    if isinstance(params, dict):
        return {(k[:1].lower() + k[1:] if isinstance(k, str) and not k.isupper() else k): _camel(v)
                for k, v in params.items()}
    if isinstance(params, list):
        return [_camel(v) for v in params]
    return params


def _json(body: bytes) -> dict | None:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


class CloudTrail:
    """The lab's Cognito events, oldest first (``lab.cloudtrail``).

    ``events`` is the list; :meth:`lookup` filters it as CloudTrail's LookupEvents does (by event name,
    source, error code, read-only flag, source address, time range); :meth:`clear` empties it.
    """

    def __init__(self, lab, sub_of: Callable[[dict, str], str | None] | None = None) -> None:
        self.lab = lab
        self.events: list[dict] = []
        self._lock = threading.Lock()
        # Event ids from a generator of their own, so recording never changes the lab's seeded codes.
        self._rng = random.Random(f"cloudtrail-{lab.seed}")
        self._sub_of = sub_of

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self):
        return iter(list(self.events))

    def __repr__(self) -> str:
        return f"<CloudTrail: {len(self.events)} Cognito events; .lookup(event_name=…, error_code=…)>"

    def clear(self) -> None:
        with self._lock:
            self.events.clear()

    def lookup(self, *, event_name: str | Iterable[str] | None = None, event_source: str | None = None,
               error_code: str | None = None, read_only: bool | None = None, source_ip: str | None = None,
               start_time: datetime | None = None, end_time: datetime | None = None,
               failed: bool | None = None) -> list[dict]:
        """The events matching every filter given, oldest first."""
        names = {event_name} if isinstance(event_name, str) else set(event_name or ())
        found = []
        for event in list(self.events):
            if names and event["eventName"] not in names:
                continue
            if event_source and event["eventSource"] != event_source:
                continue
            if error_code and event.get("errorCode") != error_code:
                continue
            if failed is not None and bool(event.get("errorCode")) != failed:
                continue
            if read_only is not None and event["readOnly"] != read_only:
                continue
            if source_ip and event["sourceIPAddress"] != source_ip:
                continue
            when = parse_time(event["eventTime"])
            if start_time and when < _aware(start_time):
                continue
            if end_time and when > _aware(end_time):
                continue
            found.append(event)
        return found

    # -- recording (called by the lab's HTTP server) ------------------------------------------
    def observe(self, request) -> Callable[[int, bytes], None] | None:
        """Before the lab answers ``request``: what to record once the answer is known (or None)."""
        target = request.target
        prefix, _, action = target.partition(".")
        if prefix in SOURCES and action:
            params = _json(request.body) or {}
            sub = self._sub_of(params, action) if self._sub_of else None
            return lambda status, body: self._record_api(request, SOURCES[prefix], action, params, sub, status, body)
        if request.path.startswith("/_domain/"):
            return lambda status, body: self._record_page(request, status, body)
        return None

    def _base(self, request, source: str, name: str) -> dict:
        forwarded = request.headers.get("x-forwarded-for", "")
        address = forwarded.split(",")[0].strip() or request.environ.get("REMOTE_ADDR", "127.0.0.1")
        stamp = datetime.fromtimestamp(self.lab.clock.time(), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"eventVersion": EVENT_VERSION, "userIdentity": None, "eventTime": stamp,
                "eventSource": source, "eventName": name, "awsRegion": self.lab.region,
                "sourceIPAddress": address, "userAgent": request.headers.get("user-agent", "")}

    def _identity(self, request) -> dict:
        key = request.access_key_id
        if not key:
            return {"accountId": self.lab.account_id}
        return {"type": "AssumedRole" if key.startswith("ASIA") else "IAMUser",
                "accountId": self.lab.account_id, "accessKeyId": key}

    def _uuid(self) -> str:
        h = "%032x" % self._rng.getrandbits(128)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"

    def _finish(self, event: dict, read_only: bool, event_type: str) -> None:
        event.update({"requestID": self._uuid(), "eventID": self._uuid(), "readOnly": read_only,
                      "eventType": event_type, "managementEvent": True,
                      "recipientAccountId": self.lab.account_id, "eventCategory": "Management"})
        with self._lock:
            self.events.append(event)

    def _record_api(self, request, source, action, params, sub, status, body) -> None:
        event = self._base(request, source, action)
        event["userIdentity"] = self._identity(request)
        answer = _json(body) or {}
        read_only = action.removeprefix("Admin").startswith(("Describe", "Get", "List"))
        if status >= 400:
            code = str(answer.get("__type", "")).rpartition("#")[2] or "InternalErrorException"
            event["errorCode"] = code
            event["errorMessage"] = str(answer.get("message") or answer.get("Message") or "")
        event["requestParameters"] = _camel(redact(params)) or None
        event["responseElements"] = None if (read_only or status >= 400) else (_camel(redact(answer)) or None)
        if sub:
            event["additionalEventData"] = {"sub": sub}
        self._finish(event, read_only, "AwsApiCall")

    def _record_page(self, request, status, body) -> None:
        rest = request.path[len("/_domain/"):]
        domain, _, page = rest.partition("/")
        page = page.strip("/")
        name = PAGES.get(page) or (page.rpartition("/")[2][:1].upper() + page.rpartition("/")[2][1:] or "Root")
        event = self._base(request, IDP_SOURCE, f"{name}_{request.method}")
        event["userIdentity"] = {"accountId": self.lab.account_id}
        form = parse_qs(request.environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if "form-urlencoded" in request.headers.get("content-type", ""):
            for key, values in parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True).items():
                form.setdefault(key, []).extend(values)
        shown = {key: ([HIDDEN] * len(values) if key.lower() in SENSITIVE else values) for key, values in form.items()}
        event["requestParameters"] = None
        event["responseElements"] = None
        extra = {"responseParameters": {"status": status}, "requestParameters": shown,
                 "userPoolDomain": domain}
        pool_id = self._pool_of_domain(domain)
        if pool_id:
            extra["userPoolId"] = pool_id
        event["additionalEventData"] = extra
        if status >= 400:
            event["errorCode"], event["errorMessage"] = str(status), ""
        self._finish(event, request.method == "GET", "AwsServiceEvent")

    def _pool_of_domain(self, domain: str) -> str | None:
        try:
            from moto.cognitoidp.models import cognitoidp_backends

            entry = cognitoidp_backends[self.lab.account_id][self.lab.region].user_pool_domains.get(domain)
            return getattr(entry, "user_pool_id", None)
        except Exception:
            return None


def parse_time(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
