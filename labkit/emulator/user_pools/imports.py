"""Bulk import of users from a CSV file: GetCSVHeader and the user import jobs (moto lacks them).

Sources (Cognito developer guide): "Importing users into a user pool" (cognito-user-pools-import-users),
"Creating the user import .csv file" (cognito-user-pools-using-import-tool-csv-header), "Creating and
running the Amazon Cognito user pool import job" (cognito-user-pools-creating-import-job), "Viewing the
user pool import results in the CloudWatch console" (cognito-user-pools-using-import-tool-cloudwatch),
"Requiring imported users to reset their passwords" (…-import-tool-password-reset); API reference
GetCSVHeader, CreateUserImportJob, StartUserImportJob, StopUserImportJob, DescribeUserImportJob,
ListUserImportJobs.

What the guide says, and the lab does:

- GetCSVHeader lists the pool's attributes and ends with ``cognito:mfa_enabled`` and ``cognito:username``.
- CreateUserImportJob returns a ``PreSignedUrl`` "valid for 15 minutes"; the CSV is PUT there (the guide's
  ``curl -T file -H "x-amz-server-side-encryption:aws:kms" URL``). The lab serves that URL on its own
  port, ``{endpoint}/_import/<job id>?X-Amz-Expires=900&X-Amz-Signature=…``.
- The file: every column of the header present (order free), values unquoted, a comma inside a value
  escaped with a backslash, white space trimmed; ``cognito:username`` required, unique, no spaces or
  tabs; ``cognito:mfa_enabled`` required (``true`` for every user when MFA is ON, ``false`` when OFF,
  either when OPTIONAL); ``email_verified`` or ``phone_number_verified``; ``email`` when
  ``email_verified`` is true, ``phone_number`` when ``phone_number_verified`` is; the pool's required
  attributes; birthdate ``mm/dd/yyyy``; ``updated_at`` epoch seconds. The pool must auto-verify email or
  phone ("If the user pool has no auto-verified attributes, the import job will not start"); each user
  sets one of the auto-verified attributes' flags to true (the pool's only one, if it has one).
- A row that breaks a rule fails (FailedUsers), an existing user is skipped (SkippedUsers), the job goes
  on; the results go to CloudWatch Logs by line number ("No user data is written to the log"), in the
  group ``/aws/cognito/userpools/<pool id>/<pool name>``, stream ``<job id>/<job name>``, lines such as
  ``[FAILED] Line Number 3 - The User Record does not set any of the auto verified attributes to true.``
- Imported users are RESET_REQUIRED with no password: signing in gives PasswordResetRequiredException
  (NotAuthorizedException with PreventUserExistenceErrors ENABLED); ForgotPassword then
  ConfirmForgotPassword sets a password and confirms them.
- Stop: "After you stop the job, it cannot be restarted"; CompletionMessage "The Import Job was stopped
  by the developer."; a job not started in time is Expired.

The lab's choices (README, "Differs from AWS"): the import runs when the job is next read after
StartUserImportJob (DescribeUserImportJob, ListUserImportJobs), so StartUserImportJob answers Pending, as
in the guide's sample, and a StopUserImportJob before that stops it with nothing imported; a created job
expires 24 hours after creation (the guide says "24-48 hours"); the upload must carry the
``x-amz-server-side-encryption: aws:kms`` header the guide's command sends; the CloudWatch Logs role is
not assumed (its ARN must only be well formed); a file that cannot be read (missing or unknown columns,
no CSV uploaded) fails the job with a message of the lab's wording; the job fails when every row failed
("Too many users have failed or been skipped during the import.", the guide's sample message) — AWS
does not publish its threshold; one job at a time per account is not enforced; the per-line messages
beside the three the guide quotes are the lab's.
"""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs

from .. import errors as E
from . import attributes as A
from .state import IdpState

PRESIGNED_URL_SECONDS = 15 * 60          # "valid for 15 minutes"
EXPIRES_AFTER_SECONDS = 24 * 3600        # "did not start the job within 24-48 hours"
SSE_HEADER = "x-amz-server-side-encryption"
PATH_PREFIX = "/_import/"
STOPPED_MESSAGE = "The Import Job was stopped by the developer."
TOO_MANY_FAILED = "Too many users have failed or been skipped during the import."
MFA_COLUMN, USERNAME_COLUMN = "cognito:mfa_enabled", "cognito:username"
LINE_SUCCEEDED = "The import succeeded."
LINE_EXISTS = "The user already exists."
LINE_NO_VERIFIED = ("The User Record does not set any of the auto verified attributes to true. "
                    "(Example: email_verified to true).")
# Attributes GetCSVHeader never lists: Cognito sets them itself.
_NOT_IN_HEADER = {"sub", "identities"}


@dataclass
class ImportJob:
    job_id: str
    job_name: str
    pool_id: str
    role_arn: str
    created: float
    url_secret: str
    status: str = "Created"
    started: float | None = None
    completed: float | None = None
    imported: int = 0
    skipped: int = 0
    failed: int = 0
    message: str | None = None
    csv: bytes | None = None
    log: list[str] = field(default_factory=list)

    def describe(self, endpoint_url: str) -> dict:
        job = {"JobName": self.job_name, "JobId": self.job_id, "UserPoolId": self.pool_id,
               "PreSignedUrl": presigned_url(endpoint_url, self), "CreationDate": self.created,
               "Status": self.status, "CloudWatchLogsRoleArn": self.role_arn,
               "ImportedUsers": self.imported, "SkippedUsers": self.skipped, "FailedUsers": self.failed}
        if self.started is not None:
            job["StartDate"] = self.started
        if self.completed is not None:
            job["CompletionDate"] = self.completed
        if self.message:
            job["CompletionMessage"] = self.message
        return job


def jobs(state: IdpState) -> dict[str, ImportJob]:
    """The lab's import jobs, by job id."""
    return state.import_jobs


def presigned_url(endpoint_url: str, job: ImportJob) -> str:
    return (f"{endpoint_url}{PATH_PREFIX}{job.job_id}?X-Amz-Expires={PRESIGNED_URL_SECONDS}"
            f"&X-Amz-Signature={job.url_secret}")


# -- the header --------------------------------------------------------------------------------
def csv_header(pool) -> list[str]:
    """GetCSVHeader's list: the pool's standard and custom attributes, then cognito:mfa_enabled and
    cognito:username (the guide's sample response ends with those two)."""
    names = [name for name in A.schema(pool) if name not in _NOT_IN_HEADER and not name.startswith("dev:")]
    standard = [n for n in names if not n.startswith("custom:")]
    custom = sorted(n for n in names if n.startswith("custom:"))
    return standard + custom + [MFA_COLUMN, USERNAME_COLUMN]


def get_csv_header(state: IdpState, backend, params: dict) -> dict:
    pool = _pool(backend, params.get("UserPoolId"))
    return {"UserPoolId": pool.id, "CSVHeader": csv_header(pool)}


# -- the actions -------------------------------------------------------------------------------
def _pool(backend, pool_id):
    from .flows import find_pool

    return find_pool(backend, pool_id)


def _job(state: IdpState, backend, params: dict, *, advance: bool = True) -> ImportJob:
    pool = _pool(backend, params.get("UserPoolId"))
    job = jobs(state).get(params.get("JobId") or "")
    if job is None or job.pool_id != pool.id:
        raise E.resource_not_found(f"Import job {params.get('JobId')} does not exist in user pool {pool.id}.")
    if advance:
        _advance(state, backend, job)
    return job


def create_user_import_job(state: IdpState, backend, params: dict) -> dict:
    pool = _pool(backend, params.get("UserPoolId"))
    suffix = "".join(state.lab.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(14))
    job = ImportJob(job_id=f"import-{suffix}", job_name=params.get("JobName", ""), pool_id=pool.id,
                    role_arn=params.get("CloudWatchLogsRoleArn", ""), created=_rounded(state.now()),
                    url_secret=state.opaque(24))
    jobs(state)[job.job_id] = job
    return {"UserImportJob": job.describe(state.lab.endpoint_url)}


def start_user_import_job(state: IdpState, backend, params: dict) -> dict:
    job = _job(state, backend, params)
    pool = _pool(backend, job.pool_id)
    if job.status != "Created":
        raise E.CognitoError("PreconditionNotMetException",
                             f"Import job {job.job_id} is {job.status}: only a Created job can be started.")
    if not _auto_verified(pool):
        raise E.CognitoError("PreconditionNotMetException",
                             "The user pool has no auto-verified attributes (email or phone_number): "
                             "imported users could not reset their passwords, so the job cannot start.")
    job.status, job.started = "Pending", _rounded(state.now())
    return {"UserImportJob": job.describe(state.lab.endpoint_url)}


def stop_user_import_job(state: IdpState, backend, params: dict) -> dict:
    job = _job(state, backend, params, advance=False)       # a Pending job stops before it runs
    if job.status not in ("Pending", "InProgress"):
        raise E.CognitoError("PreconditionNotMetException",
                             f"Import job {job.job_id} is {job.status}: only a Pending or InProgress job can "
                             "be stopped.")
    job.status, job.completed, job.message = "Stopped", _rounded(state.now()), STOPPED_MESSAGE
    return {"UserImportJob": job.describe(state.lab.endpoint_url)}


def describe_user_import_job(state: IdpState, backend, params: dict) -> dict:
    return {"UserImportJob": _job(state, backend, params).describe(state.lab.endpoint_url)}


def list_user_import_jobs(state: IdpState, backend, params: dict) -> dict:
    pool = _pool(backend, params.get("UserPoolId"))
    mine = [job for job in jobs(state).values() if job.pool_id == pool.id]
    for job in mine:
        _advance(state, backend, job)
    mine.sort(key=lambda job: job.created, reverse=True)      # "from last created to first created"
    start = 0
    token = params.get("PaginationToken")
    if token:
        ids = [job.job_id for job in mine]
        if token not in ids:
            raise E.invalid_parameter("Invalid pagination token.")
        start = ids.index(token)
    limit = int(params.get("MaxResults") or 60)
    page = mine[start:start + limit]
    result = {"UserImportJobs": [job.describe(state.lab.endpoint_url) for job in page]}
    if start + limit < len(mine):
        result["PaginationToken"] = mine[start + limit].job_id
    return result


def _rounded(t: float) -> float:
    return round(t, 3)


# -- the upload (the pre-signed URL, served by a request hook) ------------------------------------
def upload_answer(state: IdpState, request):
    """``PUT /_import/<job id>?…`` stores the job's CSV; None for any other path."""
    if not request.path.startswith(PATH_PREFIX):
        return None
    from werkzeug.wrappers import Response

    def s3_error(code: str, message: str, status: int = 403):
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>{message}</Message></Error>")
        return Response(body, status=status, content_type="application/xml")

    with state.lock:
        job = jobs(state).get(request.path[len(PATH_PREFIX):])
        query = parse_qs(request.environ.get("QUERY_STRING", ""))
        signature = (query.get("X-Amz-Signature") or [""])[0]
        if job is None or not hmac.compare_digest(signature, job.url_secret):
            return s3_error("SignatureDoesNotMatch", "The request signature we calculated does not match "
                            "the signature you provided.")
        if request.method != "PUT":
            return s3_error("MethodNotAllowed", "The specified method is not allowed against this resource.",
                            405)
        if state.now() > job.created + PRESIGNED_URL_SECONDS:
            return s3_error("AccessDenied", "Request has expired")
        if request.headers.get(SSE_HEADER) != "aws:kms":
            return s3_error("AccessDenied", f"The URL was signed with the header {SSE_HEADER}: aws:kms; "
                            "send it with the upload (curl -H \"x-amz-server-side-encryption:aws:kms\").")
        if job.status != "Created":
            return s3_error("AccessDenied", f"Import job {job.job_id} is {job.status}: upload before starting it.")
        job.csv = request.body
    return Response(b"", status=200)


# -- running the import --------------------------------------------------------------------------
def _advance(state: IdpState, backend, job: ImportJob) -> None:
    if job.status == "Created" and state.now() > job.created + EXPIRES_AFTER_SECONDS:
        job.status, job.csv = "Expired", None        # "All data associated with the job was deleted"
    elif job.status == "Pending":
        _run(state, backend, job)


def split_line(line: str) -> list[str]:
    """One CSV line into values: commas separate, a backslash escapes a comma, values are trimmed."""
    values, current, i = [], [], 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line) and line[i + 1] == ",":
            current.append(",")
            i += 2
            continue
        if ch == ",":
            values.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        i += 1
    values.append("".join(current).strip())
    return values


def _auto_verified(pool) -> list[str]:
    return list(pool.extended_config.get("AutoVerifiedAttributes") or [])


def _fail_job(state: IdpState, job: ImportJob, message: str) -> None:
    job.status, job.completed, job.message = "Failed", _rounded(state.now()), message


def _run(state: IdpState, backend, job: ImportJob) -> None:
    job.status = "InProgress"
    if job.pool_id not in backend.user_pools:
        return _fail_job(state, job, "The user pool has been deleted.")
    pool = _pool(backend, job.pool_id)
    if not job.csv:
        return _fail_job(state, job, "No .csv file was uploaded to the job's PreSignedUrl before it started.")
    try:
        text = job.csv.decode("utf-8")
    except UnicodeDecodeError:
        return _fail_job(state, job, "The .csv file is not UTF-8.")
    if text.startswith("\ufeff"):
        return _fail_job(state, job, "The .csv file starts with a byte order mark; save it as UTF-8 without one.")
    lines = text.splitlines()
    if not lines:
        return _fail_job(state, job, "The .csv file is empty.")
    header = split_line(lines[0])
    expected = csv_header(pool)
    missing = [c for c in expected if c not in header]
    unknown = [c for c in header if c not in expected]
    if missing or unknown:
        parts = ([f"missing columns {missing}"] if missing else []) + ([f"unknown columns {unknown}"] if unknown else [])
        return _fail_job(state, job, "The .csv header does not match GetCSVHeader: " + "; ".join(parts) + ".")
    schema = A.schema(pool)
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        values = split_line(line)
        if len(values) != len(header):
            _record(job, number, "FAILED", f"The row has {len(values)} values for {len(header)} columns.")
            continue
        row = dict(zip(header, values))
        problem = _row_problem(pool, schema, row, line)
        if problem == LINE_EXISTS:
            _record(job, number, "SKIPPED", problem)
        elif problem:
            _record(job, number, "FAILED", problem)
        else:
            _create_user(state, pool, row)
            _record(job, number, "SUCCEEDED", LINE_SUCCEEDED)
    job.completed = _rounded(state.now())
    if job.imported == 0 and job.failed > 0:
        job.status, job.message = "Failed", TOO_MANY_FAILED
    else:
        job.status, job.message = "Succeeded", "Import Job Completed Successfully."
    _write_log(state, pool, job)


def _record(job: ImportJob, number: int, outcome: str, message: str) -> None:
    job.log.append(f"[{outcome}] Line Number {number} - {message}")
    if outcome == "SUCCEEDED":
        job.imported += 1
    elif outcome == "SKIPPED":
        job.skipped += 1
    else:
        job.failed += 1


def _true(value: str) -> bool:
    return value.strip().lower() == "true"


def _row_problem(pool, schema, row: dict, line: str) -> str | None:
    username = row.get(USERNAME_COLUMN, "")
    if len(line) > 16000:
        return "The row is longer than 16,000 characters."
    if not username:
        return "cognito:username is required."
    if re.search(r"[ \t]", username):
        return "cognito:username cannot contain spaces or tabs."
    if pool._get_user(username) is not None:
        return LINE_EXISTS
    mfa = row.get(MFA_COLUMN, "").lower()
    if mfa not in ("true", "false"):
        return "cognito:mfa_enabled is required: true or false."
    pool_mfa = pool.mfa_config or "OFF"
    if pool_mfa == "ON" and mfa != "true":
        return "cognito:mfa_enabled must be true: the user pool requires MFA."
    if pool_mfa == "OFF" and mfa != "false":
        return "cognito:mfa_enabled must be false: MFA is off in the user pool."
    for flag in ("email_verified", "phone_number_verified"):
        if row.get(flag) and row[flag].lower() not in ("true", "false"):
            return f"{flag} must be true or false."
    if not (row.get("email_verified") or row.get("phone_number_verified")):
        return "email_verified or phone_number_verified is required."
    if _true(row.get("email_verified", "")) and not row.get("email"):
        return "email is required when email_verified is true."
    if _true(row.get("phone_number_verified", "")) and not row.get("phone_number"):
        return "phone_number is required when phone_number_verified is true."
    auto = _auto_verified(pool)
    flags = [A.VERIFIED_FLAG[a] for a in auto if a in A.VERIFIED_FLAG]
    if not any(_true(row.get(flag, "")) for flag in flags):
        return LINE_NO_VERIFIED
    for name, attr in schema.items():
        if attr.required and name in row and not row[name]:
            return f"{name} is required in this user pool."
    if row.get("birthdate"):
        try:
            datetime.strptime(row["birthdate"], "%m/%d/%Y")
        except ValueError:
            return "birthdate must be in the format mm/dd/yyyy."
    if row.get("updated_at") and not row["updated_at"].isdigit():
        return "updated_at must be epoch time in seconds."
    for name, value in row.items():
        if name in schema and value and name != "birthdate":
            problem = A._value_problem(schema[name], value)
            if problem:
                return f"The user data doesn't match the schema: {name}: {problem}"
    return None


def _create_user(state: IdpState, pool, row: dict):
    from moto.cognitoidp.models import CognitoIdpUser, UserStatus

    pairs = [{"Name": name, "Value": value.lower() if name in A.VERIFIED_FLAGS else value}
             for name, value in row.items() if value and name not in (MFA_COLUMN, USERNAME_COLUMN)]
    user = CognitoIdpUser(pool.id, row[USERNAME_COLUMN], None, UserStatus.RESET_REQUIRED, pairs)
    if _true(row[MFA_COLUMN]) and row.get("phone_number"):
        user.sms_mfa_enabled = True          # lab's choice: the one factor a CSV can set up is SMS
    pool.users[user.username] = user
    return user


def _write_log(state: IdpState, pool, job: ImportJob) -> None:
    """The per-line results in CloudWatch Logs, as the guide describes (by line number, no user data)."""
    from moto.logs.models import logs_backends

    logs = logs_backends[state.lab.account_id][state.lab.region]
    group = f"/aws/cognito/userpools/{pool.id}/{pool.name}"
    stream = f"{job.job_id}/{job.job_name}"
    if group not in logs.groups:
        logs.create_log_group(group, {})
    logs.create_log_stream(group, stream)
    now_ms = int(state.now() * 1000)
    logs.put_log_events(group, stream, [{"timestamp": now_ms, "message": line} for line in job.log])
