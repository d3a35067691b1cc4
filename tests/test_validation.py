"""Requests checked as AWS checks them, before the operation runs (labkit.emulator.validation), and
the lab's HTTP side never answering with a 500 page, a Python name or a hang (labkit.emulator.server).

Each test's docstring names the rule. Requests boto3 would refuse on the client side (wrong types,
missing required members) go over raw HTTP, as any other client could send them.
"""
from __future__ import annotations

import base64
import http.client
import json
import logging
import time

import pytest

from labkit.cognito.lifetimes import token_validity_seconds
from labkit.emulator import validation
from labkit.emulator.server import MAX_BODY_BYTES, json_too_deep
from cognito_errors import error_of

IDP = "AWSCognitoIdentityProviderService"
IDENTITY = "AWSCognitoIdentityService"


def raw(lab, operation: str, body, *, headers: dict | None = None, prefix: str = IDP,
        method: str = "POST") -> tuple[int, dict, float]:
    """POST ``body`` (a dict, str or bytes) to the lab; (status, JSON answer, seconds taken)."""
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    host, port = lab.endpoint_url.split("//")[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=15)
    all_headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"{prefix}.{operation}"}
    all_headers.update(headers or {})
    started = time.perf_counter()
    try:
        connection.request(method, "/", body=body, headers=all_headers)
        response = connection.getresponse()
        answer = response.read()
        elapsed = time.perf_counter() - started
        return response.status, (json.loads(answer) if answer else {}), elapsed
    finally:
        connection.close()


def refused(lab, operation, body, **kwargs) -> tuple[str, str]:
    status, answer, _ = raw(lab, operation, body, **kwargs)
    assert status == 400, (status, answer)
    return answer["__type"], answer["message"]


def one_error(message: str) -> str:
    return f"1 validation error detected: {message}"


# -- the wrong acceptances of issue 9 ---------------------------------------------------------------
@pytest.mark.parametrize("call", ["admin_create_user", "sign_up"])
def test_a_username_of_129_characters_is_refused(cognito, call):
    """UsernameType: length 1-128 (AdminCreateUser, SignUp). Usernames are sensitive: not quoted."""
    idp = cognito.idp
    params = ({"UserPoolId": cognito.pool_id} if call == "admin_create_user"
              else {"ClientId": cognito.client_id, "Password": cognito.password})
    assert error_of(getattr(idp, call), Username="u" * 129, **params) == ("InvalidParameterException", one_error(
        "Value at 'username' failed to satisfy constraint: Member must have length less than or equal to 128"))
    idp.admin_create_user(UserPoolId=cognito.pool_id, Username="u" * 128, MessageAction="SUPPRESS")


def test_a_username_of_a_megabyte_is_refused_without_echoing_it(cognito):
    """A 1 MB username breaks the 128 limit; the message stays short and never repeats the value."""
    status, answer, elapsed = raw(cognito.lab, "AdminCreateUser",
                                  {"UserPoolId": cognito.pool_id, "Username": "m" * 1_000_000})
    assert status == 400 and answer["__type"] == "InvalidParameterException"
    assert len(answer["message"]) < 200 and elapsed < 1


@pytest.mark.parametrize("username", ["ali\x00ce", "ali\tce", "ali\nce", "alice ", "al ice"])
def test_usernames_with_nul_tab_newline_or_spaces_are_refused(cognito, username):
    """UsernameType pattern [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+, matched against the whole value (no
    control characters, no whitespace)."""
    assert error_of(cognito.idp.admin_create_user, UserPoolId=cognito.pool_id, Username=username) == (
        "InvalidParameterException", one_error(
            "Value at 'username' failed to satisfy constraint: Member must satisfy regular expression "
            "pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+"))


@pytest.mark.parametrize("username", ["josé", "用户", "ålice@example.com", "a+b_c-d.e", "😀"])
def test_usernames_in_any_script_are_accepted(cognito, username):
    """The same pattern admits letters, marks, symbols, numbers and punctuation of every script."""
    cognito.idp.admin_create_user(UserPoolId=cognito.pool_id, Username=username, MessageAction="SUPPRESS")
    assert cognito.idp.admin_get_user(UserPoolId=cognito.pool_id, Username=username)["Username"] == username


def test_auth_session_validity_1000_is_refused(cognito):
    """AuthSessionValidity: 3-15 minutes (AuthSessionValidityType)."""
    assert error_of(cognito.idp.create_user_pool_client, UserPoolId=cognito.pool_id, ClientName="c",
                    AuthSessionValidity=1000) == ("InvalidParameterException", one_error(
        "Value '1000' at 'authSessionValidity' failed to satisfy constraint: Member must have value "
        "less than or equal to 15"))
    # botocore checks minimums itself, so the one below goes over raw HTTP
    assert refused(cognito.lab, "CreateUserPoolClient", {
        "UserPoolId": cognito.pool_id, "ClientName": "c", "AuthSessionValidity": 2})[1].endswith(
        "Member must have value greater than or equal to 3")


def test_token_validity_units_weeks_is_refused(cognito):
    """TokenValidityUnits: seconds | minutes | hours | days (TimeUnitsType)."""
    code, message = refused(cognito.lab, "CreateUserPoolClient", {
        "UserPoolId": cognito.pool_id, "ClientName": "c", "AccessTokenValidity": 1,
        "TokenValidityUnits": {"AccessToken": "weeks"}})
    assert (code, message) == ("InvalidParameterException", one_error(
        "Value 'weeks' at 'tokenValidityUnits.accessToken' failed to satisfy constraint: Member must "
        "satisfy enum value set: [seconds, minutes, hours, days]"))


@pytest.mark.parametrize("value", ["1.5", "1e400", "-1e400", "1E2", "2147483648", "\"1\"", "true"])
def test_access_token_validity_must_be_a_whole_number(cognito, value):
    """AccessTokenValidity is an Integer: a fraction, an exponent, a number beyond 32 bits, a string or
    a boolean does not deserialise (SerializationException, before any rule is checked)."""
    body = '{"UserPoolId": "%s", "ClientName": "c", "AccessTokenValidity": %s}' % (cognito.pool_id, value)
    code, message = refused(cognito.lab, "CreateUserPoolClient", body)
    assert code == "SerializationException" and "Integer" in message


def test_admin_create_user_without_username_is_refused(cognito):
    """AdminCreateUser requires Username (required members: 'Member must not be null')."""
    assert refused(cognito.lab, "AdminCreateUser", {"UserPoolId": cognito.pool_id}) == (
        "InvalidParameterException",
        one_error("Value at 'username' failed to satisfy constraint: Member must not be null"))


def test_create_user_pool_client_without_client_name_is_refused(cognito):
    """CreateUserPoolClient requires ClientName."""
    assert refused(cognito.lab, "CreateUserPoolClient", {"UserPoolId": cognito.pool_id}) == (
        "InvalidParameterException",
        one_error("Value null at 'clientName' failed to satisfy constraint: Member must not be null"))


def test_an_access_token_whose_jti_is_a_list_is_an_invalid_access_token(cognito):
    """A token the pool never issued (here unsigned, with a list for jti) is 'Invalid Access Token'."""
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    forged = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'jti': ['a'], 'token_use': 'access'})}."
    for call in (cognito.idp.get_user, cognito.idp.global_sign_out):
        assert error_of(call, AccessToken=forged) == ("NotAuthorizedException", "Invalid Access Token")


@pytest.mark.parametrize("length", ["-1", "abc", "1.5", "+2", "0x10", "1e3"])
def test_a_content_length_that_is_not_a_non_negative_integer_gets_a_400_at_once(cognito, length):
    """HTTP: Content-Length is 1*DIGIT. Anything else is refused before the body is read (no hang)."""
    status, answer, elapsed = raw(cognito.lab, "ListUserPools", b'{"MaxResults": 1}',
                                  headers={"Content-Length": length})
    assert status == 400 and answer["__type"] == "BadRequestException" and elapsed < 1
    assert raw(cognito.lab, "ListUserPools", {"MaxResults": 1})[0] == 200      # still serving


# -- wrong JSON types: SerializationException ---------------------------------------------------------
@pytest.mark.parametrize("operation, params, expected", [
    ("ListUsers", {"Limit": "abc"}, "STRING_VALUE can not be converted to an Integer"),
    ("ListUsers", {"Filter": 123}, "NUMBER_VALUE can not be converted to a String"),
    ("AdminGetUser", {"Username": ["alice"]}, "Start of list found where not expected."),
    ("AdminUpdateUserAttributes", {"Username": "alice", "UserAttributes": "x"},
     "STRING_VALUE can not be converted to a List"),
    ("UpdateUserPool", {"Policies": {"PasswordPolicy": {"MinimumLength": "abc"}}},
     "STRING_VALUE can not be converted to an Integer"),
    ("CreateGroup", {"GroupName": "g", "Precedence": "x"}, "STRING_VALUE can not be converted to an Integer"),
    ("AdminGetUser", {"Username": {"a": 1}}, "Start of structure or map found where not expected."),
    ("AdminEnableUser", {"Username": True}, "BOOLEAN_VALUE can not be converted to a String"),
    ("CreateUserPoolClient", {"ClientName": "c", "GenerateSecret": "yes"},
     "STRING_VALUE can not be converted to a Boolean"),
])
def test_values_of_the_wrong_json_type_are_serialization_exceptions(cognito, operation, params, expected):
    """A member of the wrong JSON type fails deserialisation: SerializationException, HTTP 400."""
    body = dict(params, UserPoolId=cognito.pool_id)
    assert refused(cognito.lab, operation, body) == ("SerializationException", expected)


@pytest.mark.parametrize("body, fragment", [
    (b"\xff\xfe{}", "not valid UTF-8"),
    (b"{", "not valid JSON"),
    (b"[]", "Start of list found where not expected."),
    (b"[" * 100_000 + b"]" * 100_000, "more than 64 deep"),
    (b'{"MaxResults": NaN}', "NaN is not a JSON value"),
    (b'{"MaxResults": 1' + b"0" * 5000 + b"}", "out of range"),
])
def test_bodies_that_are_not_a_json_object_are_serialization_exceptions(cognito, body, fragment):
    """Not UTF-8, not JSON, not an object, nested without end, NaN, 5,000 digits: SerializationException."""
    code, message = refused(cognito.lab, "ListUserPools", body)
    assert code == "SerializationException" and fragment in message


def test_create_user_pool_with_an_empty_object_names_the_missing_member(cognito):
    """CreateUserPool {}: PoolName is required."""
    assert refused(cognito.lab, "CreateUserPool", b"{}") == ("InvalidParameterException", one_error(
        "Value null at 'poolName' failed to satisfy constraint: Member must not be null"))


# -- the wording of constraint errors ------------------------------------------------------------
def test_several_problems_are_reported_together(cognito):
    """'N validation errors detected: a; b', in the order of the model's members."""
    code, message = refused(cognito.lab, "CreateUserPoolClient",
                            {"UserPoolId": cognito.pool_id, "AuthSessionValidity": 1})
    assert code == "InvalidParameterException"
    assert message == (
        "2 validation errors detected: Value null at 'clientName' failed to satisfy constraint: Member must "
        "not be null; Value '1' at 'authSessionValidity' failed to satisfy constraint: Member must have "
        "value greater than or equal to 3")


def test_an_unknown_auth_flow_in_a_list_is_reported_at_the_list(cognito):
    """List members: 'Member must satisfy constraint: [Member must satisfy enum value set: [...]]'."""
    code, message = error_of(cognito.idp.create_user_pool_client, UserPoolId=cognito.pool_id,
                             ClientName="c", ExplicitAuthFlows=["ADMIN_USER_PASSWORD_AUTH"])
    assert code == "InvalidParameterException"
    assert message.startswith("1 validation error detected: Value '[ADMIN_USER_PASSWORD_AUTH]' at "
                              "'explicitAuthFlows' failed to satisfy constraint: Member must satisfy "
                              "constraint: [Member must satisfy enum value set: [")


def test_nested_members_are_named_by_their_path(cognito):
    """Members inside lists of structures: 'userAttributes.1.member.name'."""
    code, message = refused(cognito.lab, "AdminCreateUser", {
        "UserPoolId": cognito.pool_id, "Username": "nia", "UserAttributes": [{"Value": "x"}]})
    assert message == one_error(
        "Value null at 'userAttributes.1.member.name' failed to satisfy constraint: Member must not be null")


def test_a_long_value_is_quoted_cut_short(cognito):
    """A refused value that is not sensitive is quoted, at most 64 characters of it."""
    code, message = error_of(cognito.idp.create_group, UserPoolId=cognito.pool_id, GroupName="g",
                             Description="d" * 5000)
    assert message == one_error(f"Value '{'d' * 64}...' at 'description' failed to satisfy constraint: "
                                "Member must have length less than or equal to 2048")


def test_members_the_model_does_not_know_are_ignored(cognito):
    """Unknown members are ignored, as AWS's JSON services ignore them."""
    status, answer, _ = raw(cognito.lab, "ListUserPools", {"MaxResults": 1, "Shoe": {"size": 44}})
    assert status == 200 and "UserPools" in answer


def test_json_null_means_an_absent_member(cognito):
    """A member sent as null is absent: optional ones are ignored, required ones 'must not be null'."""
    status, answer, _ = raw(cognito.lab, "ListUsers", {"UserPoolId": cognito.pool_id, "Limit": None})
    assert status == 200 and {u["Username"] for u in answer["Users"]} == {"alice", "root"}
    assert refused(cognito.lab, "ListUsers", {"UserPoolId": None})[1] == one_error(
        "Value null at 'userPoolId' failed to satisfy constraint: Member must not be null")


def test_an_unknown_operation_is_refused(cognito):
    """An X-Amz-Target the service does not have: UnknownOperationException."""
    assert refused(cognito.lab, "TakeOverTheWorld", b"{}")[0] == "UnknownOperationException"
    assert refused(cognito.lab, "", b"{}", headers={"X-Amz-Target": "nodot"})[0] == "UnknownOperationException"


def test_cognito_identity_requests_are_checked_too(cognito):
    """cognito-identity: IdentityPoolName 1-128 characters, pattern [\\w\\s+=,.@-]+; Java's \\w is ASCII."""
    identity = cognito.lab.client("cognito-identity")
    code, message = error_of(identity.create_identity_pool, IdentityPoolName="Café",
                             AllowUnauthenticatedIdentities=False)
    assert (code, message) == ("InvalidParameterException", one_error(
        "Value 'Café' at 'identityPoolName' failed to satisfy constraint: Member must satisfy regular "
        "expression pattern: [\\w\\s+=,.@-]+"))


def test_an_action_moto_lacks_is_unsupported_not_a_crash(cognito):
    """cognito-identity actions moto lacks: UnsupportedOperationException (400), as for user pools."""
    code, message = refused(cognito.lab, "ListTagsForResource",
                            {"ResourceArn": "arn:aws:cognito-identity:us-east-1:123456789012:identitypool/x"},
                            prefix=IDENTITY)
    assert code == "UnsupportedOperationException" and "ListTagsForResource" in message


# -- rules Cognito documents beyond the model -------------------------------------------------------
def test_token_validity_must_fit_its_unit(cognito):
    """AccessTokenValidity: 5 minutes to 1 day in whatever TokenValidityUnits says (the model only
    knows 1-86400)."""
    code, message = error_of(cognito.idp.create_user_pool_client, UserPoolId=cognito.pool_id, ClientName="c",
                             AccessTokenValidity=2, TokenValidityUnits={"AccessToken": "days"})
    assert code == "InvalidParameterException" and "AccessTokenValidity must be between 5 minutes and" in message


def test_refresh_token_validity_zero_means_the_default_30_days(cognito):
    """API reference: 'You can't set RefreshTokenValidity to 0. If you do, Amazon Cognito overrides the
    value with the default value of 30 days.'"""
    client = cognito.idp.create_user_pool_client(
        UserPoolId=cognito.pool_id, ClientName="zero", RefreshTokenValidity=0,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
    assert token_validity_seconds(client, "RefreshToken") == 30 * 86400
    assert "AccessToken" in cognito.sign_in(client_id=client["ClientId"])


def test_legacy_and_allow_auth_flows_cannot_be_mixed(cognito):
    """API reference, CreateUserPoolClient: the legacy ExplicitAuthFlows values can't be assigned at the
    same time as values that begin with ALLOW_."""
    code, message = error_of(cognito.idp.create_user_pool_client, UserPoolId=cognito.pool_id, ClientName="c",
                             ExplicitAuthFlows=["USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"])
    assert code == "InvalidParameterException" and "ALLOW_" in message
    cognito.idp.create_user_pool_client(UserPoolId=cognito.pool_id, ClientName="legacy",
                                        ExplicitAuthFlows=["USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"])


def test_passwords_may_hold_inner_spaces(cognito):
    """Developer guide (password policies): the space character counts as a special character, so the
    model's pattern [\\S]+ is not read literally; tabs and line breaks are still refused."""
    cognito.idp.admin_set_user_password(UserPoolId=cognito.pool_id, Username="alice",
                                        Password="Correct Horse 9", Permanent=True)
    code, message = error_of(cognito.idp.admin_set_user_password, UserPoolId=cognito.pool_id,
                             Username="alice", Password="Correct\tHorse 9", Permanent=True)
    assert message == one_error("Value at 'password' failed to satisfy constraint: Member must satisfy "
                                "regular expression pattern: [\\S]+")


def test_client_secrets_satisfy_the_models_pattern(cognito):
    """ClientSecretType: 24-64 characters of [\\w+]+ (moto's UUID secrets had hyphens, so every call
    that sends the secret back was refused)."""
    client = cognito.idp.create_user_pool_client(UserPoolId=cognito.pool_id, ClientName="server",
                                                 GenerateSecret=True)["UserPoolClient"]
    assert validation.java_pattern("[\\w+]+").matches(client["ClientSecret"])
    assert 24 <= len(client["ClientSecret"]) <= 64
    described = cognito.idp.describe_user_pool_client(UserPoolId=cognito.pool_id, ClientId=client["ClientId"])
    assert described["UserPoolClient"]["ClientSecret"] == client["ClientSecret"]


# -- the HTTP side -----------------------------------------------------------------------------------
def test_a_body_over_one_mebibyte_is_refused_with_413(cognito):
    """The lab reads at most 1 MiB of body; more is answered 413 in AWS's JSON error shape."""
    status, answer, elapsed = raw(cognito.lab, "ListUserPools", b'{"x": "' + b"a" * MAX_BODY_BYTES + b'"}')
    assert status == 413 and answer["__type"] == "RequestEntityTooLargeException" and elapsed < 1


def test_an_unexpected_exception_is_a_json_internal_error_logged_on_the_labs_side(cognito, caplog):
    """A bug in the lab: InternalErrorException (HTTP 500, JSON, no traceback); the traceback goes to
    the 'labkit.emulator.server' logger."""
    def broken_hook(request):
        raise RuntimeError("deliberately broken hook")

    cognito.lab.add_request_hook(broken_hook)
    with caplog.at_level(logging.ERROR, logger="labkit.emulator.server"):
        status, answer, _ = raw(cognito.lab, "ListUserPools", {"MaxResults": 1})
    assert status == 500 and answer["__type"] == "InternalErrorException"
    assert "Traceback" not in answer["message"] and "RuntimeError" not in answer["message"]
    assert "deliberately broken hook" in caplog.text


def test_errors_moto_raises_pass_through_unchanged(cognito):
    """moto's own JSON errors (here ResourceNotFoundException) reach the client as moto wrote them."""
    code, message = error_of(cognito.idp.describe_user_pool, UserPoolId="us-east-1_nothere")
    assert code == "ResourceNotFoundException" and "us-east-1_nothere" in message


def test_json_depth_is_measured_outside_strings():
    """Brackets inside JSON strings do not count towards the nesting limit."""
    assert not json_too_deep(b'{"a": "' + b"[" * 1000 + b'"}')
    assert json_too_deep(b"[" * 65 + b"]" * 65) and not json_too_deep(b"[" * 64 + b"]" * 64)


# -- Java patterns ------------------------------------------------------------------------------------
@pytest.mark.parametrize("pattern, value, matches", [
    ("[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+", "José", True),
    ("[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+", "a b", False),
    ("[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+", "a\u00a0b", False),       # no-break space: \p{Z}
    ("[\\w\\s+=,.@-]+", "Café", False),                              # Java's \w is ASCII
    ("[^_\\p{Z}][\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}][^_\\p{Z}]+", "Google", True),
    ("[^_\\p{Z}][\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}][^_\\p{Z}]+", "_oogle", False),
    ("^[0-9A-Za-z\\.\\-_]*(?<!\\.)$", "abc.", False),
    ("[a-z&&[def]]+", "zzz", True),                                  # intersection: not translated, fails open
    ("\\p{javaLowerCase}+", "ABC", True),                            # unknown class: fails open
])
def test_java_patterns_match_the_whole_value(pattern, value, matches):
    """Model patterns are Java regexes matched against the whole value; unknown constructs fail open."""
    assert validation.java_pattern(pattern).matches(value) is matches


def test_every_model_pattern_is_understood():
    """Every pattern of both models translates (none silently skipped today)."""
    for service in validation.SERVICES.values():
        shapes = validation.service_model(service)["shapes"]
        for name, shape in shapes.items():
            if "pattern" in shape:
                assert validation.java_pattern(shape["pattern"]).checked, (service, name, shape["pattern"])
