"""Bulk import of users from a CSV file (GetCSVHeader, the user import jobs), which moto lacks.

Sources: Cognito developer guide, "Creating the user import .csv file"
(cognito-user-pools-using-import-tool-csv-header), "Creating and running the Amazon Cognito user pool
import job" (cognito-user-pools-creating-import-job), "Viewing the user pool import results in the
CloudWatch console", "Requiring imported users to reset their passwords".
"""
import pytest
import requests

from labkit import Lab
from cognito_errors import error_of

ROLE = "arn:aws:iam::123456789012:role/CognitoImportLogs"
NEW_PASSWORD = "Brand-New-Pass-42"


@pytest.fixture
def lab():
    with Lab(seed=31) as lab:
        yield lab


def make_pool(lab, *, auto_verified=("email",), mfa="OFF", puee="LEGACY"):
    idp = lab.client("cognito-idp")
    pool_id = idp.create_user_pool(PoolName="imported", AutoVerifiedAttributes=list(auto_verified))["UserPool"]["Id"]
    if mfa != "OFF":
        idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration=mfa,
                                     SoftwareTokenMfaConfiguration={"Enabled": True})
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", PreventUserExistenceErrors=puee,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    return idp, pool_id, client_id


def csv_for(idp, pool_id, rows):
    """A CSV with GetCSVHeader's columns; each row a dict of the values it sets."""
    header = idp.get_csv_header(UserPoolId=pool_id)["CSVHeader"]
    lines = [",".join(header)]
    for row in rows:
        lines.append(",".join(row.get(column, "") for column in header))
    return ("\n".join(lines) + "\n").encode()


def user(name, **extra):
    row = {"cognito:username": name, "email": f"{name}@example.com", "email_verified": "true",
           "cognito:mfa_enabled": "false"}
    row.update(extra)
    return row


def run_import(idp, pool_id, body, *, sse=True):
    job = idp.create_user_import_job(UserPoolId=pool_id, JobName="first-batch",
                                     CloudWatchLogsRoleArn=ROLE)["UserImportJob"]
    headers = {"x-amz-server-side-encryption": "aws:kms"} if sse else {}
    upload = requests.put(job["PreSignedUrl"], data=body, headers=headers, timeout=10)
    idp.start_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
    return job, upload, idp.describe_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])["UserImportJob"]


def test_get_csv_header_lists_the_attributes_then_mfa_and_username(lab):
    idp, pool_id, _ = make_pool(lab)
    idp.add_custom_attributes(UserPoolId=pool_id, CustomAttributes=[{"Name": "tenant", "AttributeDataType": "String"}])
    header = idp.get_csv_header(UserPoolId=pool_id)["CSVHeader"]
    assert header[-2:] == ["cognito:mfa_enabled", "cognito:username"]
    for column in ("email", "email_verified", "phone_number", "phone_number_verified", "custom:tenant"):
        assert column in header
    assert "sub" not in header


def test_a_job_imports_users_in_reset_required_who_must_reset_their_password(lab):
    idp, pool_id, client_id = make_pool(lab)
    job, upload, done = run_import(idp, pool_id, csv_for(idp, pool_id, [user("john"), user("jane")]))
    assert job["Status"] == "Created" and job["JobId"].startswith("import-")
    assert upload.status_code == 200
    assert done["Status"] == "Succeeded" and done["ImportedUsers"] == 2 and done["FailedUsers"] == 0
    john = idp.admin_get_user(UserPoolId=pool_id, Username="john")
    assert john["UserStatus"] == "RESET_REQUIRED"
    # "Amazon Cognito returns ... PasswordResetRequiredException" at the first sign-in, whatever the password
    assert error_of(idp.initiate_auth, ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                    AuthParameters={"USERNAME": "john", "PASSWORD": "anything-1A!"})[0] == \
        "PasswordResetRequiredException"
    idp.forgot_password(ClientId=client_id, Username="john")
    code = lab.inbox("john@example.com").latest.code
    idp.confirm_forgot_password(ClientId=client_id, Username="john", ConfirmationCode=code, Password=NEW_PASSWORD)
    tokens = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "john", "PASSWORD": NEW_PASSWORD})
    assert "AccessToken" in tokens["AuthenticationResult"]
    assert idp.admin_get_user(UserPoolId=pool_id, Username="john")["UserStatus"] == "CONFIRMED"


def test_with_prevent_user_existence_errors_an_imported_user_gets_not_authorized(lab):
    idp, pool_id, client_id = make_pool(lab, puee="ENABLED")
    run_import(idp, pool_id, csv_for(idp, pool_id, [user("john")]))
    assert error_of(idp.initiate_auth, ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                    AuthParameters={"USERNAME": "john", "PASSWORD": "anything-1A!"})[0] == "NotAuthorizedException"


def test_rows_that_break_the_rules_are_counted_in_failed_users_and_logged_by_line(lab):
    idp, pool_id, _ = make_pool(lab)
    rows = [user("good"),
            user("no-verified", email_verified="false"),                # auto-verified email not true
            user("no-mfa", **{"cognito:mfa_enabled": ""}),               # cognito:mfa_enabled required
            {"cognito:username": "no-email", "email_verified": "true", "cognito:mfa_enabled": "false"},
            user("has space"),
            user("bad-birthdate", birthdate="1985-02-01")]
    _, _, done = run_import(idp, pool_id, csv_for(idp, pool_id, rows))
    assert (done["ImportedUsers"], done["FailedUsers"], done["SkippedUsers"]) == (1, 5, 0)
    assert done["Status"] == "Succeeded"
    group = f"/aws/cognito/userpools/{pool_id}/imported"
    events = lab.client("logs").filter_log_events(logGroupName=group)["events"]
    lines = [event["message"] for event in events]
    assert lines[0] == "[SUCCEEDED] Line Number 2 - The import succeeded."
    assert lines[1].startswith("[FAILED] Line Number 3 - The User Record does not set any of the auto verified")
    assert all("example.com" not in line for line in lines)      # "No user data is written to the log"


def test_an_existing_user_is_skipped_and_escaped_commas_are_kept(lab):
    idp, pool_id, _ = make_pool(lab)
    run_import(idp, pool_id, csv_for(idp, pool_id, [user("john")]))
    _, _, done = run_import(idp, pool_id, csv_for(idp, pool_id, [user("john"), user("ann", address=r"1 Main St\, Apt 2")]))
    assert (done["ImportedUsers"], done["SkippedUsers"]) == (1, 1)
    attrs = {a["Name"]: a["Value"] for a in idp.admin_get_user(UserPoolId=pool_id, Username="ann")["UserAttributes"]}
    assert attrs["address"] == "1 Main St, Apt 2" and attrs["email_verified"] == "true" and "sub" in attrs


def test_mfa_enabled_must_follow_the_pool_mfa_setting(lab):
    idp, pool_id, _ = make_pool(lab, mfa="ON")
    _, _, done = run_import(idp, pool_id, csv_for(idp, pool_id, [user("off"), user("on", **{"cognito:mfa_enabled": "true"})]))
    assert (done["ImportedUsers"], done["FailedUsers"]) == (1, 1)


def test_a_file_missing_header_columns_fails_the_job(lab):
    idp, pool_id, _ = make_pool(lab)
    body = b"cognito:username,email,email_verified,cognito:mfa_enabled\njohn,john@example.com,true,false\n"
    _, _, done = run_import(idp, pool_id, body)
    assert done["Status"] == "Failed" and "missing columns" in done["CompletionMessage"]


def test_every_row_failing_fails_the_job(lab):
    idp, pool_id, _ = make_pool(lab)
    _, _, done = run_import(idp, pool_id, csv_for(idp, pool_id, [user("x", email_verified="false")]))
    assert done["Status"] == "Failed" and done["FailedUsers"] == 1


def test_a_pool_without_auto_verified_attributes_cannot_start_a_job(lab):
    idp, pool_id, _ = make_pool(lab, auto_verified=())
    job = idp.create_user_import_job(UserPoolId=pool_id, JobName="j", CloudWatchLogsRoleArn=ROLE)["UserImportJob"]
    assert error_of(idp.start_user_import_job, UserPoolId=pool_id, JobId=job["JobId"])[0] == \
        "PreconditionNotMetException"


def test_the_presigned_url_expires_after_15_minutes_and_needs_the_kms_header(lab):
    idp, pool_id, _ = make_pool(lab)
    body = csv_for(idp, pool_id, [user("john")])
    job = idp.create_user_import_job(UserPoolId=pool_id, JobName="j", CloudWatchLogsRoleArn=ROLE)["UserImportJob"]
    assert requests.put(job["PreSignedUrl"], data=body, timeout=10).status_code == 403
    assert requests.put(job["PreSignedUrl"] + "x", data=body, timeout=10,
                        headers={"x-amz-server-side-encryption": "aws:kms"}).status_code == 403
    lab.clock.advance(minutes=16)
    late = requests.put(job["PreSignedUrl"], data=body, headers={"x-amz-server-side-encryption": "aws:kms"},
                        timeout=10)
    assert late.status_code == 403 and "expired" in late.text


def test_stop_before_the_import_runs_imports_nobody_and_cannot_restart(lab):
    idp, pool_id, _ = make_pool(lab)
    job = idp.create_user_import_job(UserPoolId=pool_id, JobName="j", CloudWatchLogsRoleArn=ROLE)["UserImportJob"]
    requests.put(job["PreSignedUrl"], data=csv_for(idp, pool_id, [user("john")]),
                 headers={"x-amz-server-side-encryption": "aws:kms"}, timeout=10)
    started = idp.start_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])["UserImportJob"]
    assert started["Status"] == "Pending"
    stopped = idp.stop_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])["UserImportJob"]
    assert stopped["Status"] == "Stopped"
    assert stopped["CompletionMessage"] == "The Import Job was stopped by the developer."
    assert error_of(idp.start_user_import_job, UserPoolId=pool_id, JobId=job["JobId"])[0] == \
        "PreconditionNotMetException"
    assert error_of(idp.admin_get_user, UserPoolId=pool_id, Username="john")[0] == "UserNotFoundException"


def test_list_user_import_jobs_newest_first_with_pagination_and_expiry(lab):
    idp, pool_id, _ = make_pool(lab)
    ids = []
    for name in ("one", "two", "three"):
        ids.append(idp.create_user_import_job(UserPoolId=pool_id, JobName=name,
                                              CloudWatchLogsRoleArn=ROLE)["UserImportJob"]["JobId"])
        lab.clock.advance(seconds=5)
    page = idp.list_user_import_jobs(UserPoolId=pool_id, MaxResults=2)
    assert [j["JobName"] for j in page["UserImportJobs"]] == ["three", "two"]
    rest = idp.list_user_import_jobs(UserPoolId=pool_id, MaxResults=2, PaginationToken=page["PaginationToken"])
    assert [j["JobName"] for j in rest["UserImportJobs"]] == ["one"] and "PaginationToken" not in rest
    lab.clock.advance(hours=25)
    assert {j["Status"] for j in idp.list_user_import_jobs(UserPoolId=pool_id, MaxResults=10)["UserImportJobs"]} \
        == {"Expired"}
    assert error_of(idp.describe_user_import_job, UserPoolId=pool_id, JobId="import-nope")[0] == \
        "ResourceNotFoundException"


def test_the_cloudwatch_logs_role_arn_is_required(lab):
    idp, pool_id, _ = make_pool(lab)
    from botocore.exceptions import ParamValidationError
    with pytest.raises(ParamValidationError):
        idp.create_user_import_job(UserPoolId=pool_id, JobName="j")
