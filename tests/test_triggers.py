"""User-pool Lambda triggers through plain boto3: the events Cognito sends, the responses it honours,
and its errors when a trigger fails.

Sources (developer guide): "Customizing user pool workflows with Lambda triggers" and the page of
each trigger. Each docstring names the rule.
"""
import json
import time

import jwt
import pytest

from labkit import Lab
from labkit.course.triggers import deploy_function
from cognito_errors import error_of

PASSWORD = "Passw0rd!x"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_USER_SRP_AUTH"]
# Every test handler prints its event on one line, so a test can read what Cognito sent.
RECORD = "import json, time\ndef record(event):\n    print('EVENT ' + json.dumps(event))\n"


@pytest.fixture(scope="module")
def lab():
    with Lab(seed=41) as lab:
        yield lab


_names = iter(range(10_000))


def deploy(lab, body: str, **options) -> str:
    """Deploy ``body`` (defining ``handler``) under a fresh name; returns the ARN."""
    name = f"fn{next(_names)}"
    return deploy_function(lab, RECORD + body, name=name, **options)


def events(lab, arn: str) -> list[dict]:
    name = arn.rsplit(":", 1)[-1]
    return [json.loads(line.message[6:]) for line in lab.lambda_logs(name) if line.message.startswith("EVENT ")]


def make_pool(lab, lambda_config: dict, **settings):
    idp = lab.client("cognito-idp")
    pool_id = idp.create_user_pool(PoolName=f"pool{next(_names)}", LambdaConfig=lambda_config,
                                   **settings)["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web",
                                            ExplicitAuthFlows=FLOWS)["UserPoolClient"]["ClientId"]
    return idp, pool_id, client_id


def add_user(idp, pool_id, username, email=None, groups=()):
    attributes = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}] if email else []
    idp.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS", UserAttributes=attributes)
    idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True)
    for group in groups:
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=group)


def sign_in(idp, client_id, username, **kwargs):
    return idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD}, **kwargs)


def claims(token):
    return jwt.decode(token, options={"verify_signature": False})


# -- pre sign-up ------------------------------------------------------------------------------------
ALLOW_LIST = """
def handler(event, context):
    record(event)
    email = event["request"]["userAttributes"].get("email", "")
    if not email.endswith("@example.com"):
        raise Exception("Only example.com addresses may sign up")
    event["response"]["autoConfirmUser"] = True
    event["response"]["autoVerifyEmail"] = True
    return event
"""


def test_pre_sign_up_that_raises_refuses_the_sign_up_and_creates_nobody(lab):
    """Pre sign-up: a function that raises refuses the registration with UserLambdaValidationException
    "PreSignUp failed with error <message>."; no user is left behind."""
    idp, pool_id, client_id = make_pool(lab, {"PreSignUp": deploy(lab, ALLOW_LIST)})
    code, message = error_of(idp.sign_up, ClientId=client_id, Username="mallory", Password=PASSWORD,
                             UserAttributes=[{"Name": "email", "Value": "mallory@evil.test"}])
    assert (code, message) == ("UserLambdaValidationException",
                               "PreSignUp failed with error Only example.com addresses may sign up.")
    assert idp.list_users(UserPoolId=pool_id)["Users"] == []


def test_pre_sign_up_event_and_auto_confirm_auto_verify(lab):
    """The event has version, triggerSource PreSignUp_SignUp, region, userPoolId, userName,
    callerContext.clientId, request.userAttributes / validationData / clientMetadata. autoConfirmUser
    and autoVerifyEmail confirm the user and verify the email: no confirmation code is sent."""
    arn = deploy(lab, ALLOW_LIST)
    idp, pool_id, client_id = make_pool(lab, {"PreSignUp": arn}, AutoVerifiedAttributes=["email"])
    answer = idp.sign_up(ClientId=client_id, Username="ann", Password=PASSWORD,
                         UserAttributes=[{"Name": "email", "Value": "ann@example.com"}],
                         ValidationData=[{"Name": "invite", "Value": "X1"}], ClientMetadata={"source": "web"})
    assert answer["UserConfirmed"] is True and "CodeDeliveryDetails" not in answer
    user = idp.admin_get_user(UserPoolId=pool_id, Username="ann")
    assert user["UserStatus"] == "CONFIRMED"
    assert {"Name": "email_verified", "Value": "true"} in user["UserAttributes"]
    assert len(lab.inbox("ann@example.com")) == 0
    event = events(lab, arn)[-1]
    assert event["version"] == "1" and event["triggerSource"] == "PreSignUp_SignUp"
    assert (event["region"], event["userPoolId"], event["userName"]) == (lab.region, pool_id, "ann")
    assert event["callerContext"]["clientId"] == client_id
    assert event["request"]["userAttributes"] == {"email": "ann@example.com"}
    assert event["request"]["validationData"] == {"invite": "X1"}
    assert event["request"]["clientMetadata"] == {"source": "web"}
    assert event["response"] == {}


def test_pre_sign_up_for_admin_create_user_ignores_the_auto_flags(lab):
    """AdminCreateUser invokes pre sign-up with PreSignUp_AdminCreateUser; Cognito ignores
    autoConfirmUser / autoVerifyEmail / autoVerifyPhone there (the user must change the password)."""
    arn = deploy(lab, ALLOW_LIST)
    idp, pool_id, _ = make_pool(lab, {"PreSignUp": arn})
    idp.admin_create_user(UserPoolId=pool_id, Username="bo", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "bo@example.com"}])
    assert idp.admin_get_user(UserPoolId=pool_id, Username="bo")["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    event = events(lab, arn)[-1]
    assert event["triggerSource"] == "PreSignUp_AdminCreateUser"
    assert event["callerContext"]["clientId"] == "CLIENT_ID_NOT_APPLICABLE"
    code, _ = error_of(idp.admin_create_user, UserPoolId=pool_id, Username="eve", MessageAction="SUPPRESS",
                       UserAttributes=[{"Name": "email", "Value": "eve@evil.test"}])
    assert code == "UserLambdaValidationException"
    assert [u["Username"] for u in idp.list_users(UserPoolId=pool_id)["Users"]] == ["bo"]


# -- post confirmation ------------------------------------------------------------------------------
PROFILE = """
import boto3
def handler(event, context):
    record(event)
    boto3.client("dynamodb").put_item(TableName="trigger-profiles", Item={
        "sub": {"S": event["request"]["userAttributes"]["sub"]}, "email": {"S": event["request"]["userAttributes"]["email"]}})
    boto3.client("cognito-idp").admin_add_user_to_group(UserPoolId=event["userPoolId"], Username=event["userName"],
                                                        GroupName="members")
    return event
"""


def test_post_confirmation_writes_a_profile_row_and_can_call_the_user_pool(lab):
    """Post confirmation runs after ConfirmSignUp (PostConfirmation_ConfirmSignUp) with the confirmed
    user's attributes; boto3 in the function reaches the lab's DynamoDB and user pool."""
    ddb = lab.client("dynamodb")
    ddb.create_table(TableName="trigger-profiles", KeySchema=[{"AttributeName": "sub", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "sub", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    arn = deploy(lab, PROFILE, timeout=10)
    idp, pool_id, client_id = make_pool(lab, {"PostConfirmation": arn}, AutoVerifiedAttributes=["email"])
    idp.create_group(UserPoolId=pool_id, GroupName="members")
    sub = idp.sign_up(ClientId=client_id, Username="cy", Password=PASSWORD,
                      UserAttributes=[{"Name": "email", "Value": "cy@example.com"}])["UserSub"]
    assert events(lab, arn) == []                                 # not before confirmation
    idp.confirm_sign_up(ClientId=client_id, Username="cy", ConfirmationCode=lab.inbox("cy@example.com").latest.code)
    event = events(lab, arn)[-1]
    assert event["triggerSource"] == "PostConfirmation_ConfirmSignUp"
    assert event["request"]["userAttributes"]["cognito:user_status"] == "CONFIRMED"
    assert event["request"]["userAttributes"]["email_verified"] == "true"
    assert ddb.get_item(TableName="trigger-profiles", Key={"sub": {"S": sub}})["Item"]["email"] == {"S": "cy@example.com"}
    groups = idp.admin_list_groups_for_user(UserPoolId=pool_id, Username="cy")["Groups"]
    assert [g["GroupName"] for g in groups] == ["members"]


def test_post_confirmation_runs_for_admin_confirm_and_forgot_password(lab):
    """Post confirmation also runs on AdminConfirmSignUp (PostConfirmation_ConfirmSignUp) and
    ConfirmForgotPassword (PostConfirmation_ConfirmForgotPassword)."""
    arn = deploy(lab, "def handler(event, context):\n    record(event)\n    return event\n")
    idp, pool_id, client_id = make_pool(lab, {"PostConfirmation": arn})
    idp.sign_up(ClientId=client_id, Username="di", Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": "di@example.com"}])
    idp.admin_confirm_sign_up(UserPoolId=pool_id, Username="di")
    idp.admin_update_user_attributes(UserPoolId=pool_id, Username="di",
                                     UserAttributes=[{"Name": "email_verified", "Value": "true"}])
    idp.forgot_password(ClientId=client_id, Username="di")
    idp.confirm_forgot_password(ClientId=client_id, Username="di", Password="N3w-Passw0rd!",
                                ConfirmationCode=lab.inbox("di@example.com").latest.code)
    assert [e["triggerSource"] for e in events(lab, arn)] == ["PostConfirmation_ConfirmSignUp",
                                                            "PostConfirmation_ConfirmForgotPassword"]


# -- pre / post authentication ---------------------------------------------------------------------
def test_pre_authentication_can_refuse_a_sign_in(lab):
    """Pre authentication (PreAuthentication_Authentication) runs before the password check; a function
    that raises refuses the sign-in: "PreAuthentication failed with error <message>.", no tokens.
    InitiateAuth's ClientMetadata arrives as validationData."""
    arn = deploy(lab, """
def handler(event, context):
    record(event)
    if event["userName"] == "blocked":
        raise Exception("Account suspended")
    return event
""")
    idp, pool_id, client_id = make_pool(lab, {"PreAuthentication": arn})
    add_user(idp, pool_id, "blocked")
    add_user(idp, pool_id, "fine")
    assert error_of(sign_in, idp, client_id, "blocked") == (
        "UserLambdaValidationException", "PreAuthentication failed with error Account suspended.")
    assert "AuthenticationResult" in sign_in(idp, client_id, "fine", ClientMetadata={"device": "kiosk"})
    event = events(lab, arn)[-1]
    assert event["triggerSource"] == "PreAuthentication_Authentication"
    assert event["request"]["validationData"] == {"device": "kiosk"}


def test_post_authentication_runs_on_sign_in_not_on_refresh(lab):
    """Post authentication (PostAuthentication_Authentication) runs after a sign-in; refreshing tokens
    is not an authentication and does not invoke it."""
    arn = deploy(lab, "def handler(event, context):\n    record(event)\n    return event\n")
    idp, pool_id, client_id = make_pool(lab, {"PostAuthentication": arn})
    add_user(idp, pool_id, "ed")
    refresh = sign_in(idp, client_id, "ed")["AuthenticationResult"]["RefreshToken"]
    idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh})
    assert [e["triggerSource"] for e in events(lab, arn)] == ["PostAuthentication_Authentication"]


# -- pre token generation ---------------------------------------------------------------------------
PTG_V1 = """
def handler(event, context):
    record(event)
    event["response"]["claimsOverrideDetails"] = {
        "claimsToAddOrOverride": {"tenant_id": "acme", "plan": "gold", "sub": "forged", "email": "x@forged"},
        "claimsToSuppress": ["email"],
        "groupOverrideDetails": {"groupsToOverride": ["tenant-admins"], "iamRolesToOverride": [],
                                 "preferredRole": None}}
    return event
"""


def test_pre_token_generation_v1_adds_suppresses_and_overrides_groups(lab):
    """V1_0: claimsToAddOrOverride adds ID-token claims; a claim both suppressed and replaced is
    suppressed; claims Cognito reserves (sub, …) keep their values; groupOverrideDetails replaces
    cognito:groups in the ID and access tokens. Sources TokenGeneration_Authentication and
    TokenGeneration_RefreshTokens."""
    arn = deploy(lab, PTG_V1)
    idp, pool_id, client_id = make_pool(lab, {"PreTokenGeneration": arn})
    idp.create_group(UserPoolId=pool_id, GroupName="staff")
    add_user(idp, pool_id, "fay", email="fay@example.com", groups=["staff"])
    result = sign_in(idp, client_id, "fay")["AuthenticationResult"]
    id_token, access_token = claims(result["IdToken"]), claims(result["AccessToken"])
    user_sub = idp.admin_get_user(UserPoolId=pool_id, Username="fay")["UserAttributes"]
    assert id_token["tenant_id"] == "acme" and id_token["plan"] == "gold"
    assert "email" not in id_token
    assert {"Name": "sub", "Value": id_token["sub"]} in user_sub
    assert id_token["cognito:groups"] == access_token["cognito:groups"] == ["tenant-admins"]
    assert "tenant_id" not in access_token                      # V1 customises the ID token only
    idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                      AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]})
    sent = events(lab, arn)
    assert [e["triggerSource"] for e in sent] == ["TokenGeneration_Authentication", "TokenGeneration_RefreshTokens"]
    assert sent[0]["version"] == "1"
    assert sent[0]["request"]["groupConfiguration"]["groupsToOverride"] == ["staff"]


def test_pre_token_generation_v2_customises_the_access_token_and_scopes(lab):
    """V2_0 (PreTokenGenerationConfig LambdaVersion V2_0): claimsAndScopeOverrideDetails customises
    both tokens; scopesToAdd / scopesToSuppress change the access token's scope; the request lists
    the scopes."""
    arn = deploy(lab, """
def handler(event, context):
    record(event)
    event["response"]["claimsAndScopeOverrideDetails"] = {
        "idTokenGeneration": {"claimsToAddOrOverride": {"tenant": {"id": "acme", "plan": "gold"}}},
        "accessTokenGeneration": {"claimsToAddOrOverride": {"tenant_id": "acme", "client_id": "forged"},
                                  "scopesToAdd": ["orders/read"]}}
    return event
""")
    idp, pool_id, client_id = make_pool(lab, {"PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": arn}})
    add_user(idp, pool_id, "gus")
    result = sign_in(idp, client_id, "gus")["AuthenticationResult"]
    id_token, access_token = claims(result["IdToken"]), claims(result["AccessToken"])
    assert id_token["tenant"] == {"id": "acme", "plan": "gold"}
    assert access_token["tenant_id"] == "acme" and access_token["client_id"] == client_id
    assert access_token["scope"].split() == ["aws.cognito.signin.user.admin", "orders/read"]
    event = events(lab, arn)[-1]
    assert event["version"] == "2" and event["request"]["scopes"] == ["aws.cognito.signin.user.admin"]


M2M_CLAIMS = """
def handler(event, context):
    record(event)
    event["response"]["claimsAndScopeOverrideDetails"] = {
        "accessTokenGeneration": {"claimsToAddOrOverride": {"tenant_id": "acme", "sub": "forged"},
                                  "scopesToSuppress": ["orders/write"]}}
    return event
"""


@pytest.mark.parametrize("version", ["V2_0", "V3_0"])
def test_only_a_v3_trigger_customises_client_credentials_tokens(lab, version):
    """Pre token generation guide: "Version three event responses apply to access tokens from user
    authentication and machine authentication [client credentials] ... Aside from the circumstances
    of the resulting access tokens, version two and three events are identical." V3_0 sees the M2M
    token (triggerSource TokenGeneration_ClientCredentials, version "3", no user) and can add claims
    and drop scopes; V2_0 is not invoked for it. Reserved claims (sub) keep their values."""
    import base64
    import urllib.parse
    import urllib.request

    arn = deploy(lab, M2M_CLAIMS)
    idp, pool_id, _ = make_pool(lab, {"PreTokenGenerationConfig": {"LambdaVersion": version, "LambdaArn": arn}})
    prefix = f"m2m-{version.lower().replace('_', '')}-{next(_names)}"
    idp.create_user_pool_domain(UserPoolId=pool_id, Domain=prefix)
    idp.create_resource_server(UserPoolId=pool_id, Identifier="orders", Name="orders",
                               Scopes=[{"ScopeName": "read", "ScopeDescription": "r"},
                                       {"ScopeName": "write", "ScopeDescription": "w"}])
    machine = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="job", GenerateSecret=True, AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthScopes=["orders/read", "orders/write"], AllowedOAuthFlowsUserPoolClient=True)["UserPoolClient"]
    basic = base64.b64encode(f"{machine['ClientId']}:{machine['ClientSecret']}".encode()).decode()
    request = urllib.request.Request(
        f"{lab.domain_url(prefix)}/oauth2/token", method="POST",
        data=urllib.parse.urlencode({"grant_type": "client_credentials"}).encode(),
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=10) as response:
        token = claims(json.loads(response.read())["access_token"])
    assert token["sub"] == machine["ClientId"]
    if version == "V2_0":
        assert events(lab, arn) == [] and "tenant_id" not in token
        assert sorted(token["scope"].split()) == ["orders/read", "orders/write"]
        return
    assert token["tenant_id"] == "acme" and token["scope"].split() == ["orders/read"]
    (event,) = events(lab, arn)
    assert event["version"] == "3" and event["triggerSource"] == "TokenGeneration_ClientCredentials"
    assert event["userName"] is None and event["request"]["userAttributes"] == {}
    assert sorted(event["request"]["scopes"]) == ["orders/read", "orders/write"]
    assert event["callerContext"]["clientId"] == machine["ClientId"]


# -- custom message ---------------------------------------------------------------------------------
CUSTOM_MESSAGE = """
def handler(event, context):
    record(event)
    source = event["triggerSource"]
    if source == "CustomMessage_AdminCreateUser":
        event["response"]["emailMessage"] = ("Welcome " + event["request"]["usernameParameter"] + ", your password is "
                                             + event["request"]["codeParameter"])
    else:
        event["response"]["emailSubject"] = "Your code for " + source
        event["response"]["emailMessage"] = "Hello! Code: " + event["request"]["codeParameter"]
    return event
"""


def test_custom_message_sets_subject_and_body_of_the_codes_sent(lab):
    """Custom message: CustomMessage_SignUp / _ResendCode / _ForgotPassword / _AdminCreateUser; the
    function's emailSubject and emailMessage replace Cognito's, with {####} (codeParameter) and
    {username} (usernameParameter, AdminCreateUser only) filled in."""
    arn = deploy(lab, CUSTOM_MESSAGE)
    idp, pool_id, client_id = make_pool(lab, {"CustomMessage": arn}, AutoVerifiedAttributes=["email"])
    idp.sign_up(ClientId=client_id, Username="hal", Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": "hal@example.com"}])
    message = lab.inbox("hal@example.com").latest
    assert message.subject == "Your code for CustomMessage_SignUp"
    assert message.text == f"Hello! Code: {message.code}" and len(message.code) == 6
    idp.resend_confirmation_code(ClientId=client_id, Username="hal")
    idp.admin_confirm_sign_up(UserPoolId=pool_id, Username="hal")
    idp.admin_update_user_attributes(UserPoolId=pool_id, Username="hal",
                                     UserAttributes=[{"Name": "email_verified", "Value": "true"}])
    idp.forgot_password(ClientId=client_id, Username="hal")
    assert lab.inbox("hal@example.com").latest.subject == "Your code for CustomMessage_ForgotPassword"
    idp.admin_create_user(UserPoolId=pool_id, Username="ivy", TemporaryPassword="Temp-Passw0rd!",
                          DesiredDeliveryMediums=["EMAIL"], UserAttributes=[{"Name": "email", "Value": "ivy@example.com"}])
    assert lab.inbox("ivy@example.com").latest.text == "Welcome ivy, your password is Temp-Passw0rd!"
    sent = events(lab, arn)
    assert [e["triggerSource"] for e in sent] == ["CustomMessage_SignUp", "CustomMessage_ResendCode",
                                                 "CustomMessage_ForgotPassword", "CustomMessage_AdminCreateUser"]
    assert sent[0]["request"]["codeParameter"] == "{####}" and sent[0]["request"]["usernameParameter"] is None


# -- user migration ---------------------------------------------------------------------------------
MIGRATION = """
LEGACY = {"old-timer": ("Legacy-Passw0rd!", "old@example.com")}
def handler(event, context):
    record(event)
    known = LEGACY.get(event["userName"])
    if known is None and event["userName"] == "half-known":
        return event                      # forgets the required userAttributes
    if known is None:
        raise Exception("User not found")
    if event["triggerSource"] == "UserMigration_Authentication" and event["request"]["password"] != known[0]:
        raise Exception("Bad password")
    event["response"]["userAttributes"] = {"email": known[1], "email_verified": "true"}
    event["response"]["finalUserStatus"] = "CONFIRMED"
    event["response"]["messageAction"] = "SUPPRESS"
    return event
"""


def test_user_migration_creates_the_user_at_first_sign_in(lab):
    """Migrate user (UserMigration_Authentication): for a user the pool lacks, Cognito sends the
    password; the returned userAttributes and finalUserStatus create the user, who gets tokens and
    from then on signs in without the trigger."""
    arn = deploy(lab, MIGRATION)
    idp, pool_id, client_id = make_pool(lab, {"UserMigration": arn})
    auth = {"USERNAME": "old-timer", "PASSWORD": "Legacy-Passw0rd!"}
    result = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=auth)
    assert claims(result["AuthenticationResult"]["IdToken"])["email"] == "old@example.com"
    user = idp.admin_get_user(UserPoolId=pool_id, Username="old-timer")
    assert user["UserStatus"] == "CONFIRMED"
    idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=auth)
    sent = events(lab, arn)
    assert len(sent) == 1 and sent[0]["triggerSource"] == "UserMigration_Authentication"
    assert sent[0]["request"]["password"] == "Legacy-Passw0rd!"


def test_user_migration_refusals(lab):
    """A migration function that raises: "UserMigration failed with error <message>." and no user; one
    that leaves out userAttributes ("This field is required."): InvalidLambdaResponseException."""
    idp, pool_id, client_id = make_pool(lab, {"UserMigration": deploy(lab, MIGRATION)})
    code, message = error_of(idp.initiate_auth, ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": "old-timer", "PASSWORD": "wrong-Passw0rd!"})
    assert (code, message) == ("UserLambdaValidationException", "UserMigration failed with error Bad password.")
    assert error_of(sign_in, idp, client_id, "nobody") == ("UserLambdaValidationException",
                                                          "UserMigration failed with error User not found.")
    assert error_of(sign_in, idp, client_id, "half-known")[0] == "InvalidLambdaResponseException"
    assert idp.list_users(UserPoolId=pool_id)["Users"] == []


def test_user_migration_on_forgot_password(lab):
    """UserMigration_ForgotPassword: ForgotPassword for a user the pool lacks migrates them (no
    password in the request) and sends the reset code to the migrated, verified email."""
    arn = deploy(lab, MIGRATION)
    idp, pool_id, client_id = make_pool(lab, {"UserMigration": arn})
    details = idp.forgot_password(ClientId=client_id, Username="old-timer")["CodeDeliveryDetails"]
    assert details["DeliveryMedium"] == "EMAIL"
    code = lab.inbox("old@example.com").latest.code
    idp.confirm_forgot_password(ClientId=client_id, Username="old-timer", ConfirmationCode=code, Password=PASSWORD)
    assert "AuthenticationResult" in sign_in(idp, client_id, "old-timer")
    event = events(lab, arn)[-1]
    assert event["triggerSource"] == "UserMigration_ForgotPassword" and "password" not in event["request"]


# -- custom authentication challenge ---------------------------------------------------------------
DEFINE = """
def handler(event, context):
    record(event)
    session = event["request"]["session"]
    if session and session[-1]["challengeResult"]:
        event["response"].update(issueTokens=True, failAuthentication=False)
    elif len(session) >= 3:
        event["response"].update(issueTokens=False, failAuthentication=True)
    else:
        event["response"].update(issueTokens=False, failAuthentication=False, challengeName="CUSTOM_CHALLENGE")
    return event
"""
CREATE = """
def handler(event, context):
    record(event)
    round_number = len(event["request"]["session"]) + 1
    event["response"]["publicChallengeParameters"] = {"question": "2 + 2 = ?", "round": str(round_number)}
    event["response"]["privateChallengeParameters"] = {"answer": "4"}
    event["response"]["challengeMetadata"] = f"ARITHMETIC-{round_number}"
    return event
"""
VERIFY = """
def handler(event, context):
    record(event)
    event["response"]["answerCorrect"] = event["request"]["challengeAnswer"] == event["request"]["privateChallengeParameters"]["answer"]
    return event
"""


@pytest.fixture(scope="module")
def custom_auth(lab):
    arns = {"DefineAuthChallenge": deploy(lab, DEFINE), "CreateAuthChallenge": deploy(lab, CREATE),
            "VerifyAuthChallengeResponse": deploy(lab, VERIFY)}
    idp, pool_id, client_id = make_pool(lab, arns)
    for name in ("kim", "lou"):
        add_user(idp, pool_id, name)
    return idp, pool_id, client_id, arns


def start_custom(idp, client_id, username):
    return idp.initiate_auth(ClientId=client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": username})


def answer(idp, client_id, challenge, username, value):
    return idp.respond_to_auth_challenge(ClientId=client_id, ChallengeName="CUSTOM_CHALLENGE",
                                         Session=challenge["Session"],
                                         ChallengeResponses={"USERNAME": username, "ANSWER": value})


def test_custom_auth_define_create_verify_loop_issues_tokens(lab, custom_auth):
    """CUSTOM_AUTH: DefineAuthChallenge picks CUSTOM_CHALLENGE, CreateAuthChallenge's
    publicChallengeParameters reach the client (the private ones never do), VerifyAuthChallengeResponse
    checks the ANSWER, and the session list (challengeName, challengeResult, challengeMetadata) grows
    until DefineAuthChallenge says issueTokens."""
    idp, _, client_id, arns = custom_auth
    first = start_custom(idp, client_id, "kim")
    assert first["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert first["ChallengeParameters"]["question"] == "2 + 2 = ?"
    assert "answer" not in json.dumps(first)                       # private parameters stay with Cognito
    second = answer(idp, client_id, first, "kim", "5")
    assert second["ChallengeName"] == "CUSTOM_CHALLENGE" and second["ChallengeParameters"]["round"] == "2"
    tokens = answer(idp, client_id, second, "kim", "4")["AuthenticationResult"]
    assert claims(tokens["IdToken"])["cognito:username"] == "kim"
    last_define = events(lab, arns["DefineAuthChallenge"])[-1]
    assert last_define["triggerSource"] == "DefineAuthChallenge_Authentication"
    assert last_define["request"]["session"] == [
        {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": False, "challengeMetadata": "ARITHMETIC-1"},
        {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": True, "challengeMetadata": "ARITHMETIC-2"}]
    verify = events(lab, arns["VerifyAuthChallengeResponse"])[-1]
    assert verify["request"]["privateChallengeParameters"] == {"answer": "4"}
    assert verify["request"]["challengeAnswer"] == "4"


def test_custom_auth_fail_authentication_and_single_use_sessions(lab, custom_auth):
    """failAuthentication ends the sign-in with NotAuthorizedException; a session answers one challenge."""
    idp, _, client_id, _ = custom_auth
    challenge = start_custom(idp, client_id, "lou")
    for _ in range(2):
        challenge = answer(idp, client_id, challenge, "lou", "wrong")
    stale = dict(challenge)
    code, _ = error_of(answer, idp, client_id, challenge, "lou", "wrong")
    assert code == "NotAuthorizedException"
    assert error_of(answer, idp, client_id, stale, "lou", "4")[0] == "NotAuthorizedException"


def test_custom_auth_needs_its_triggers_and_the_client_flow(lab):
    """Without the custom auth triggers Cognito refuses CUSTOM_AUTH ("Custom auth lambda trigger is not
    configured for the user pool."); a client without ALLOW_CUSTOM_AUTH refuses the flow."""
    idp, pool_id, client_id = make_pool(lab, {})
    add_user(idp, pool_id, "max")
    assert error_of(start_custom, idp, client_id, "max") == (
        "InvalidParameterException", "Custom auth lambda trigger is not configured for the user pool.")
    other = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="pw-only",
                                        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
    assert error_of(start_custom, idp, other, "max")[0] == "InvalidParameterException"


# -- failures ---------------------------------------------------------------------------------------
def test_an_unreadable_response_is_invalid_lambda_response(lab):
    """A function whose output Cognito cannot read (here: it returns None) gives
    InvalidLambdaResponseException, and the sign-up it was asked about does not happen."""
    arn = deploy(lab, "def handler(event, context):\n    return None\n")
    idp, pool_id, client_id = make_pool(lab, {"PreSignUp": arn})
    code, _ = error_of(idp.sign_up, ClientId=client_id, Username="ned", Password=PASSWORD)
    assert code == "InvalidLambdaResponseException"
    assert idp.list_users(UserPoolId=pool_id)["Users"] == []


def test_a_trigger_past_cognitos_time_limit_is_cut_off(lab):
    """Cognito waits 5 seconds for a trigger (lowered here through lab.trigger_timeout), retries, and
    after 3 attempts fails with UnexpectedLambdaException "<Trigger> invocation failed due to error
    Socket timeout while invoking Lambda function."; the refused sign-up leaves no user."""
    arn = deploy(lab, "def handler(event, context):\n    record(event)\n    time.sleep(60)\n    return event\n",
                 timeout=30)
    idp, pool_id, client_id = make_pool(lab, {"PreSignUp": arn})
    saved, lab.trigger_timeout = lab.trigger_timeout, 0.3
    try:
        started = time.monotonic()
        code, message = error_of(idp.sign_up, ClientId=client_id, Username="ola", Password=PASSWORD)
        elapsed = time.monotonic() - started
    finally:
        lab.trigger_timeout = saved
    assert (code, message) == ("UnexpectedLambdaException", "PreSignUp invocation failed due to error Socket "
                                                            "timeout while invoking Lambda function.")
    assert elapsed < 10
    assert sum(1 for line in lab.lambda_logs(arn.rsplit(":", 1)[-1]) if line.message.startswith("START")) == 3
    assert idp.list_users(UserPoolId=pool_id)["Users"] == []
    assert saved == 5.0                                            # Cognito's limit is the default


def test_a_deleted_trigger_function_fails_the_call(lab):
    """A LambdaConfig pointing at a deleted function makes the call fail (the pool must be updated)."""
    arn = deploy(lab, "def handler(event, context):\n    return event\n")
    idp, pool_id, client_id = make_pool(lab, {"PreSignUp": arn})
    lab.client("lambda").delete_function(FunctionName=arn)
    code, message = error_of(idp.sign_up, ClientId=client_id, Username="pat", Password=PASSWORD)
    assert code == "UnexpectedLambdaException" and message.startswith("PreSignUp invocation failed")
    assert idp.list_users(UserPoolId=pool_id)["Users"] == []


def test_update_user_pool_attaches_a_trigger(lab):
    """UpdateUserPool's LambdaConfig takes effect for the next call (here: pre token generation)."""
    arn = deploy(lab, "def handler(event, context):\n    event['response']['claimsOverrideDetails'] = "
                      "{'claimsToAddOrOverride': {'plan': 'pro'}}\n    return event\n")
    idp, pool_id, client_id = make_pool(lab, {})
    add_user(idp, pool_id, "quinn")
    assert "plan" not in claims(sign_in(idp, client_id, "quinn")["AuthenticationResult"]["IdToken"])
    idp.update_user_pool(UserPoolId=pool_id, LambdaConfig={"PreTokenGeneration": arn})
    assert claims(sign_in(idp, client_id, "quinn")["AuthenticationResult"]["IdToken"])["plan"] == "pro"


def test_a_function_timeout_shorter_than_cognitos_is_a_function_error(lab):
    """A function whose own Timeout (1 s) ends it before Cognito's 5 seconds fails like any function
    error: UserLambdaValidationException "PreAuthentication failed with error … Task timed out after
    1.00 seconds."."""
    arn = deploy(lab, "def handler(event, context):\n    time.sleep(60)\n", timeout=1)
    idp, pool_id, client_id = make_pool(lab, {"PreAuthentication": arn})
    add_user(idp, pool_id, "ray")
    code, message = error_of(sign_in, idp, client_id, "ray")
    assert code == "UserLambdaValidationException"
    assert message.startswith("PreAuthentication failed with error ")
    assert message.endswith("Task timed out after 1.00 seconds.")


def test_admin_initiate_auth_runs_custom_auth_too(lab, custom_auth):
    """AdminInitiateAuth / AdminRespondToAuthChallenge take CUSTOM_AUTH as well."""
    idp, pool_id, client_id, _ = custom_auth
    first = idp.admin_initiate_auth(UserPoolId=pool_id, ClientId=client_id, AuthFlow="CUSTOM_AUTH",
                                    AuthParameters={"USERNAME": "kim"})
    done = idp.admin_respond_to_auth_challenge(UserPoolId=pool_id, ClientId=client_id,
                                               ChallengeName="CUSTOM_CHALLENGE", Session=first["Session"],
                                               ChallengeResponses={"USERNAME": "kim", "ANSWER": "4"})
    assert "IdToken" in done["AuthenticationResult"]


def test_custom_auth_for_an_unknown_user_with_prevent_user_existence_errors(lab, custom_auth):
    """With PreventUserExistenceErrors ENABLED the custom auth triggers run for an unknown user too,
    with userNotFound true, and the sign-in ends like a wrong answer: no tokens."""
    idp, pool_id, _, arns = custom_auth
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="puee", ExplicitAuthFlows=FLOWS,
                                            PreventUserExistenceErrors="ENABLED")["UserPoolClient"]["ClientId"]
    challenge = start_custom(idp, client_id, "ghost")
    assert challenge["ChallengeName"] == "CUSTOM_CHALLENGE"
    define = events(lab, arns["DefineAuthChallenge"])[-1]
    assert define["userName"] == "ghost" and define["request"]["userNotFound"] is True
    assert define["request"]["userAttributes"] == {}
    assert error_of(answer, idp, client_id, challenge, "ghost", "4") == (
        "NotAuthorizedException", "Incorrect username or password.")
    # a LEGACY client says the user does not exist, and the triggers' events carry no userNotFound
    assert error_of(start_custom, idp, custom_auth[2], "ghost")[0] == "UserNotFoundException"
    start_custom(idp, custom_auth[2], "kim")
    assert "userNotFound" not in events(lab, arns["DefineAuthChallenge"])[-1]["request"]
