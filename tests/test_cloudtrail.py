"""lab.cloudtrail: the lab's Cognito calls as CloudTrail-shaped events, secrets redacted.

Sources: Cognito developer guide, "Amazon Cognito information in CloudTrail" ("Amazon Cognito records
UserSub but not UserName in CloudTrail logs for requests that are specific to a user"), "Example Amazon
Cognito events" (hosted-UI events Login_GET / Token_POST, HIDDEN_DUE_TO_SECURITY_REASONS for
passwords, user names, codes and _csrf).
"""
import json
from datetime import timedelta

import pytest
from botocore.config import Config

from labkit import Lab
from labkit.emulator.cloudtrail import HIDDEN
from cognito_errors import error_of

PASSWORD = "Good-Pass-123"


@pytest.fixture
def lab():
    with Lab(seed=41) as lab:
        yield lab


def setup(lab, puee="LEGACY"):
    idp = lab.client("cognito-idp")
    pool_id = idp.create_user_pool(PoolName="shop")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", PreventUserExistenceErrors=puee,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "alice@example.com"}])
    idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password=PASSWORD, Permanent=True)
    sub = next(a["Value"] for a in idp.admin_get_user(UserPoolId=pool_id, Username="alice")["UserAttributes"]
               if a["Name"] == "sub")
    return idp, pool_id, client_id, sub


def sign_in(idp, client_id, username="alice", password=PASSWORD):
    return idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": username, "PASSWORD": password})


def test_every_call_is_an_event_with_cloudtrails_fields_on_the_lab_clock(lab):
    idp, pool_id, client_id, _ = setup(lab)
    lab.clock.advance(hours=2)
    sign_in(idp, client_id)
    event = lab.cloudtrail.events[-1]
    for field in ("eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
                  "sourceIPAddress", "userAgent", "requestParameters", "responseElements", "requestID",
                  "eventID", "readOnly", "eventType", "managementEvent", "recipientAccountId", "eventCategory"):
        assert field in event
    assert (event["eventSource"], event["eventName"], event["awsRegion"]) == \
        ("cognito-idp.amazonaws.com", "InitiateAuth", lab.region)
    assert event["eventTime"] == lab.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert event["sourceIPAddress"] == "127.0.0.1" and event["userAgent"].startswith("Botocore")
    assert [e["eventName"] for e in lab.cloudtrail.events[:4]] == \
        ["CreateUserPool", "CreateUserPoolClient", "AdminCreateUser", "AdminSetUserPassword"]


def test_secrets_and_user_names_are_hidden_and_the_sub_is_recorded(lab):
    idp, pool_id, client_id, sub = setup(lab)
    tokens = sign_in(idp, client_id)["AuthenticationResult"]
    idp.get_user(AccessToken=tokens["AccessToken"])
    text = json.dumps(lab.cloudtrail.events)
    for secret in (PASSWORD, "alice@example.com", tokens["AccessToken"], tokens["RefreshToken"], '"alice"'):
        assert secret not in text
    auth = lab.cloudtrail.lookup(event_name="InitiateAuth")[0]
    assert auth["requestParameters"]["authParameters"] == {"USERNAME": HIDDEN, "PASSWORD": HIDDEN}
    assert auth["responseElements"]["authenticationResult"]["accessToken"] == HIDDEN
    assert auth["additionalEventData"] == {"sub": sub}
    assert lab.cloudtrail.lookup(event_name="GetUser")[0]["additionalEventData"] == {"sub": sub}
    created = lab.cloudtrail.lookup(event_name="AdminCreateUser")[0]["requestParameters"]
    assert created["username"] == HIDDEN and created["userAttributes"] == [{"name": "email", "value": HIDDEN}]


def test_failed_calls_carry_error_code_and_message(lab):
    idp, pool_id, client_id, sub = setup(lab)
    error_of(sign_in, idp, client_id, password="wrong-Pass-1")
    error_of(sign_in, idp, client_id, username="mallory")
    failed = lab.cloudtrail.lookup(failed=True)
    assert [(e["errorCode"], e["errorMessage"]) for e in failed] == [
        ("NotAuthorizedException", "Incorrect username or password."),
        ("UserNotFoundException", "User does not exist.")]
    assert failed[0]["additionalEventData"] == {"sub": sub}      # a real user: the sub, even on failure
    assert "additionalEventData" not in failed[1]                 # nobody to name
    assert failed[0]["responseElements"] is None


def test_signed_and_unsigned_calls_have_different_user_identities(lab):
    idp, pool_id, client_id, _ = setup(lab)
    sign_in(idp, client_id)
    admin = lab.cloudtrail.lookup(event_name="AdminCreateUser")[0]["userIdentity"]
    assert admin == {"type": "IAMUser", "accountId": lab.account_id, "accessKeyId": "AKIALABKITADMIN00000"}
    assert lab.cloudtrail.lookup(event_name="InitiateAuth")[0]["userIdentity"] == {"accountId": lab.account_id}


def test_lookup_filters_by_name_error_read_only_address_and_time(lab):
    idp, pool_id, client_id, _ = setup(lab)
    start = lab.clock.now()
    lab.clock.advance(minutes=10)
    attacker = lab.client("cognito-idp", config=Config(user_agent_extra="hydra"))
    attacker.meta.events.register("before-send.cognito-identity-provider.*",
                                  lambda request, **_: request.headers.__setitem__("X-Forwarded-For", "203.0.113.9"))
    for _ in range(3):
        error_of(sign_in, attacker, client_id, password="guess-Pass-1")
    idp.list_users(UserPoolId=pool_id)
    trail = lab.cloudtrail
    assert len(trail.lookup(source_ip="203.0.113.9", error_code="NotAuthorizedException")) == 3
    assert all("hydra" in e["userAgent"] for e in trail.lookup(source_ip="203.0.113.9"))
    assert [e["eventName"] for e in trail.lookup(read_only=True)] == ["AdminGetUser", "ListUsers"]
    assert trail.lookup(read_only=True)[-1]["responseElements"] is None
    assert len(trail.lookup(end_time=start + timedelta(minutes=5))) == 5       # setup's calls
    assert len(trail.lookup(start_time=start + timedelta(minutes=5))) == 4     # 3 guesses + ListUsers
    trail.clear()
    assert len(trail) == 0


def test_hosted_ui_requests_are_page_events_with_the_form_hidden(lab):
    import requests

    idp, pool_id, client_id, _ = setup(lab)
    idp.create_user_pool_domain(Domain="shop-login", UserPoolId=pool_id)
    requests.post(lab.domain_url("shop-login") + "/login?client_id=" + client_id,
                  data={"username": "alice", "password": PASSWORD, "_csrf": "x"}, timeout=10)
    event = lab.cloudtrail.lookup(event_name="Login_POST")[0]
    assert event["eventType"] == "AwsServiceEvent" and event["requestParameters"] is None
    extra = event["additionalEventData"]
    assert extra["requestParameters"]["password"] == [HIDDEN] and extra["requestParameters"]["username"] == [HIDDEN]
    assert extra["requestParameters"]["client_id"] == [client_id]
    assert extra["userPoolDomain"] == "shop-login" and extra["userPoolId"] == pool_id
    assert isinstance(extra["responseParameters"]["status"], int)


def test_identity_pool_calls_are_recorded_too(lab):
    identity = lab.client("cognito-identity")
    identity.create_identity_pool(IdentityPoolName="photos", AllowUnauthenticatedIdentities=True)
    event = lab.cloudtrail.events[-1]
    assert (event["eventSource"], event["eventName"]) == ("cognito-identity.amazonaws.com", "CreateIdentityPool")
    assert event["requestParameters"]["identityPoolName"] == "photos"


def test_client_credentials_token_requests_can_be_counted_from_the_log(lab):
    """The developer guide's cost page counts M2M requests from CloudTrail: Token_POST events with
    grant_type client_credentials (tracking-cost.html). The secret never reaches the log."""
    import requests

    idp = lab.client("cognito-idp")
    pool_id = idp.create_user_pool(PoolName="api")["UserPool"]["Id"]
    idp.create_user_pool_domain(Domain="api-auth", UserPoolId=pool_id)
    idp.create_resource_server(UserPoolId=pool_id, Identifier="orders", Name="orders",
                               Scopes=[{"ScopeName": "read", "ScopeDescription": "read"}])
    client = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="worker", GenerateSecret=True,
                                         AllowedOAuthFlows=["client_credentials"], AllowedOAuthScopes=["orders/read"],
                                         AllowedOAuthFlowsUserPoolClient=True)["UserPoolClient"]
    for _ in range(3):
        answer = requests.post(lab.domain_url("api-auth") + "/oauth2/token", timeout=10,
                               data={"grant_type": "client_credentials", "client_id": client["ClientId"],
                                     "client_secret": client["ClientSecret"]})
        assert answer.status_code == 200
    tokens = [e for e in lab.cloudtrail.lookup(event_name="Token_POST")
              if e["additionalEventData"]["requestParameters"].get("grant_type") == ["client_credentials"]]
    assert len(tokens) == 3
    assert tokens[0]["additionalEventData"]["requestParameters"]["client_secret"] == [HIDDEN]
    assert client["ClientSecret"] not in json.dumps(lab.cloudtrail.events)
