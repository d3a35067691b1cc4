"""Identity pools that really scope AWS access: what a learner notices, through plain boto3.

Uses the ``cognito`` fixture (tests/conftest.py): user pool "main" with users alice and root (root
in group "admin") and a second app client; user pool "elsewhere" with its own client and users.
"""
import json
import re

import botocore.exceptions
import jwt
import pytest

from labkit import Lab
from labkit.course import setups
from labkit.emulator.identity_pools import trust_policy

ID_FORMAT = re.compile(r"^us-east-1:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def error_of(call, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(*args, **kwargs)
    return info.value.response["Error"]


@pytest.fixture
def ids(cognito):
    """An identity pool on the main user pool's web client (no guests, no classic flow)."""
    return setups.identity_pool(cognito.lab, cognito.pool_id, cognito.client_id)


def id_token(cognito, username="alice", client_id=None):
    return cognito.sign_in(username, client_id or cognito.client_id)["IdToken"]


# -- guests ---------------------------------------------------------------------------------------
def test_a_guest_is_refused_when_the_pool_does_not_allow_guests(cognito, ids):
    ci = cognito.lab.client("cognito-identity")
    err = error_of(ci.get_id, IdentityPoolId=ids.id)
    assert err == {"Code": "NotAuthorizedException",
                   "Message": "Unauthenticated access is not supported for this identity pool."}


def test_a_guest_gets_only_the_guest_roles_rights(cognito, ids):
    guests = setups.guest_read_only(cognito.lab, ids)
    files = setups.private_s3_prefix(cognito.lab, ids, bucket=guests.bucket)
    admin_s3 = cognito.lab.client("s3")
    admin_s3.put_object(Bucket=guests.bucket, Key="public/menu.txt", Body=b"soup")
    admin_s3.put_object(Bucket=guests.bucket, Key="private/someone/diary.txt", Body=b"secret")

    guest = ids.credentials()                       # GetId + GetCredentialsForIdentity, no Logins
    assert ID_FORMAT.match(guest["IdentityId"])
    s3 = cognito.lab.client("s3", credentials=guest["Credentials"])
    assert s3.get_object(Bucket=guests.bucket, Key="public/menu.txt")["Body"].read() == b"soup"
    listed = s3.list_objects_v2(Bucket=guests.bucket, Prefix="public/")
    assert [o["Key"] for o in listed["Contents"]] == ["public/menu.txt"]

    err = error_of(s3.put_object, Bucket=guests.bucket, Key="public/graffiti.txt", Body=b"x")
    assert err["Code"] == "AccessDenied"
    assert err["Message"] == (
        f"User: arn:aws:sts::{cognito.lab.account_id}:assumed-role/LabGuestRole/CognitoIdentityCredentials "
        f'is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::{guests.bucket}/public/graffiti.txt" '
        "because no identity-based policy allows the s3:PutObject action")
    assert error_of(s3.get_object, Bucket=guests.bucket, Key="private/someone/diary.txt")["Code"] == "AccessDenied"
    assert error_of(s3.list_objects_v2, Bucket=guests.bucket)["Code"] == "AccessDenied"   # no prefix: not public/*
    # The signed-in role's private folder rule does not apply to guests either.
    key = files.key_for(guest["IdentityId"], "mine.txt")
    assert error_of(s3.put_object, Bucket=guests.bucket, Key=key, Body=b"x")["Code"] == "AccessDenied"


def test_each_get_id_without_logins_is_a_new_guest(cognito, ids):
    setups.guest_read_only(cognito.lab, ids)
    first, second = ids.get_id(), ids.get_id()
    assert first != second and ID_FORMAT.match(first) and ID_FORMAT.match(second)


# -- identities -------------------------------------------------------------------------------------
def test_identity_ids_are_stable_per_user_and_look_like_aws(cognito, ids):
    alice = ids.get_id(id_token(cognito, "alice"))
    assert ID_FORMAT.match(alice)
    assert ids.get_id(id_token(cognito, "alice")) == alice          # a fresh sign-in, same sub
    assert ids.get_id(id_token(cognito, "root")) != alice
    described = cognito.lab.client("cognito-identity").describe_identity(IdentityId=alice)
    assert described["Logins"] == [ids.provider]
    listed = cognito.lab.client("cognito-identity").list_identities(IdentityPoolId=ids.id, MaxResults=10)
    assert {i["IdentityId"] for i in listed["Identities"]} == {alice, ids.get_id(id_token(cognito, "root"))}


def test_identity_ids_are_reproducible_with_a_seed():
    def first_guest_id():
        with Lab(seed=99) as lab:
            ci = lab.client("cognito-identity")
            pool = ci.create_identity_pool(IdentityPoolName="guests", AllowUnauthenticatedIdentities=True)
            return ci.get_id(IdentityPoolId=pool["IdentityPoolId"])["IdentityId"]

    assert first_guest_id() == first_guest_id()


def test_unknown_pool_and_identity_are_not_found(cognito, ids):
    ci = cognito.lab.client("cognito-identity")
    err = error_of(ci.get_id, IdentityPoolId="us-east-1:00000000-0000-4000-8000-000000000000",
                   Logins=ids.logins(id_token(cognito)))
    assert err["Code"] == "ResourceNotFoundException"
    err = error_of(ci.get_credentials_for_identity, IdentityId="us-east-1:00000000-0000-4000-8000-000000000000")
    assert err["Code"] == "ResourceNotFoundException"


def test_an_authenticated_identity_needs_its_logins(cognito, ids):
    setups.private_s3_prefix(cognito.lab, ids)
    alice = ids.get_id(id_token(cognito, "alice"))
    ci = cognito.lab.client("cognito-identity")
    err = error_of(ci.get_credentials_for_identity, IdentityId=alice)
    assert err == {"Code": "NotAuthorizedException", "Message": f"Access to Identity '{alice}' is forbidden."}
    err = error_of(ci.get_credentials_for_identity, IdentityId=alice, Logins=ids.logins(id_token(cognito, "root")))
    assert err["Code"] == "NotAuthorizedException" and err["Message"].startswith("Logins don't match.")


# -- private prefixes -----------------------------------------------------------------------------
def test_a_user_writes_her_own_prefix_and_cannot_touch_anothers(cognito, ids):
    files = setups.private_s3_prefix(cognito.lab, ids)
    alice_token, root_token = id_token(cognito, "alice"), id_token(cognito, "root")
    alice, root = ids.credentials(alice_token), ids.credentials(root_token)
    alice_s3 = cognito.lab.client("s3", credentials=alice["Credentials"])
    root_s3 = cognito.lab.client("s3", credentials=root["Credentials"])

    mine = files.key_for(alice["IdentityId"], "notes.txt")
    alice_s3.put_object(Bucket=files.bucket, Key=mine, Body=b"alice's notes")
    assert alice_s3.get_object(Bucket=files.bucket, Key=mine)["Body"].read() == b"alice's notes"
    listed = alice_s3.list_objects_v2(Bucket=files.bucket, Prefix=files.prefix_for(alice["IdentityId"]))
    assert [o["Key"] for o in listed["Contents"]] == [mine]

    roots = files.key_for(root["IdentityId"], "plans.txt")
    root_s3.put_object(Bucket=files.bucket, Key=roots, Body=b"root's plans")
    err = error_of(alice_s3.get_object, Bucket=files.bucket, Key=roots)
    assert err["Code"] == "AccessDenied"
    assert "assumed-role/LabAuthenticatedRole/CognitoIdentityCredentials is not authorized to perform: " \
           f's3:GetObject on resource: "arn:aws:s3:::{files.bucket}/{roots}"' in err["Message"]
    assert error_of(alice_s3.put_object, Bucket=files.bucket, Key=roots, Body=b"x")["Code"] == "AccessDenied"
    assert error_of(alice_s3.delete_object, Bucket=files.bucket, Key=roots)["Code"] == "AccessDenied"
    assert error_of(alice_s3.list_objects_v2, Bucket=files.bucket,
                    Prefix=files.prefix_for(root["IdentityId"]))["Code"] == "AccessDenied"
    with pytest.raises(botocore.exceptions.ClientError) as head:
        alice_s3.head_object(Bucket=files.bucket, Key=roots)
    assert head.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # root's object is untouched; the lab's admin client is not subject to the role.
    assert cognito.lab.client("s3").get_object(Bucket=files.bucket, Key=roots)["Body"].read() == b"root's plans"


def test_an_explicit_deny_wins_over_the_allow(cognito, ids):
    files = setups.private_s3_prefix(cognito.lab, ids)
    cognito.lab.client("iam").put_role_policy(
        RoleName="LabAuthenticatedRole", PolicyName="no-deletes",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"}]}))
    alice = ids.credentials(id_token(cognito))
    s3 = cognito.lab.client("s3", credentials=alice["Credentials"])
    key = files.key_for(alice["IdentityId"], "keep.txt")
    s3.put_object(Bucket=files.bucket, Key=key, Body=b"x")
    err = error_of(s3.delete_object, Bucket=files.bucket, Key=key)
    assert err["Code"] == "AccessDenied" and err["Message"].endswith("with an explicit deny in an identity-based policy")


# -- login validation -------------------------------------------------------------------------------
@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."])
def test_a_garbage_login_token_is_refused(cognito, ids, token):
    ci = cognito.lab.client("cognito-identity")
    err = error_of(ci.get_id, IdentityPoolId=ids.id, Logins={ids.provider: token})
    assert err["Code"] == "NotAuthorizedException"
    assert err["Message"].startswith("Invalid login token.")


def test_a_tampered_token_is_refused(cognito, ids):
    header, payload, signature = id_token(cognito).split(".")
    forged = ".".join([header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
    err = error_of(cognito.lab.client("cognito-identity").get_id, IdentityPoolId=ids.id, Logins={ids.provider: forged})
    assert err == {"Code": "NotAuthorizedException", "Message": "Invalid login token. Couldn't verify signed token."}


def test_an_expired_login_token_is_refused(cognito, ids):
    setups.private_s3_prefix(cognito.lab, ids)
    token = id_token(cognito)
    identity_id = ids.get_id(token)
    cognito.lab.clock.advance(hours=1, seconds=1)
    ci = cognito.lab.client("cognito-identity")
    for call, kwargs in ((ci.get_id, {"IdentityPoolId": ids.id}),
                         (ci.get_credentials_for_identity, {"IdentityId": identity_id})):
        err = error_of(call, Logins=ids.logins(token), **kwargs)
        assert err["Code"] == "NotAuthorizedException"
        assert re.fullmatch(r"Invalid login token\. Token expired: \d+ >= \d+", err["Message"])
    assert ids.credentials(id_token(cognito))["IdentityId"] == identity_id     # a fresh sign-in works


def test_another_pools_token_is_refused(cognito, ids):
    ci = cognito.lab.client("cognito-identity")
    foreign = id_token(cognito, "alice", cognito.other_pool_client_id)
    err = error_of(ci.get_id, IdentityPoolId=ids.id, Logins={ids.provider: foreign})
    assert err == {"Code": "NotAuthorizedException", "Message": "Invalid login token. Issuer doesn't match providerName"}
    own_key = f"cognito-idp.us-east-1.amazonaws.com/{cognito.other_pool_id}"
    err = error_of(ci.get_id, IdentityPoolId=ids.id, Logins={own_key: foreign})
    assert err == {"Code": "NotAuthorizedException", "Message": "Token is not from a supported provider of this identity pool."}


def test_a_token_for_an_app_client_the_pool_does_not_list_is_refused(cognito, ids):
    err = error_of(cognito.lab.client("cognito-identity").get_id, IdentityPoolId=ids.id,
                   Logins={ids.provider: id_token(cognito, "alice", cognito.other_client_id)})
    assert err == {"Code": "NotAuthorizedException", "Message": "Token is not from a supported provider of this identity pool."}


def test_an_access_token_is_not_a_login(cognito, ids):
    access = cognito.sign_in("alice")["AccessToken"]
    err = error_of(cognito.lab.client("cognito-identity").get_id, IdentityPoolId=ids.id, Logins={ids.provider: access})
    assert err == {"Code": "NotAuthorizedException", "Message": "Invalid login token. Missing a required claim: aud"}


# -- roles --------------------------------------------------------------------------------------------
def test_identity_pool_roles_round_trip_and_are_validated(cognito, ids):
    ci = cognito.lab.client("cognito-identity")
    role = setups.create_role(cognito.lab, "SomeRole", ids.id)
    mapping = {ids.role_mapping_key: {"Type": "Rules", "AmbiguousRoleResolution": "Deny", "RulesConfiguration": {
        "Rules": [{"Claim": "cognito:groups", "MatchType": "Contains", "Value": "admin", "RoleARN": role}]}}}
    ci.set_identity_pool_roles(IdentityPoolId=ids.id, Roles={"authenticated": role}, RoleMappings=mapping)
    got = ci.get_identity_pool_roles(IdentityPoolId=ids.id)
    assert got["Roles"] == {"authenticated": role} and got["RoleMappings"] == mapping
    err = error_of(ci.set_identity_pool_roles, IdentityPoolId=ids.id, Roles={},
                   RoleMappings={ids.role_mapping_key: {"Type": "Token"}})
    assert err["Code"] == "InvalidParameterException"
    err = error_of(ci.get_identity_pool_roles, IdentityPoolId="us-east-1:00000000-0000-4000-8000-000000000000")
    assert err["Code"] == "ResourceNotFoundException"


def test_no_role_or_an_untrusting_role_is_an_invalid_pool_configuration(cognito, ids):
    ci = cognito.lab.client("cognito-identity")
    token = id_token(cognito)
    identity_id = ids.get_id(token)
    expected = {"Code": "InvalidIdentityPoolConfigurationException",
                "Message": "Invalid identity pool configuration. Check assigned IAM roles for this pool."}
    assert error_of(ci.get_credentials_for_identity, IdentityId=identity_id, Logins=ids.logins(token)) == expected

    other_pool = setups.identity_pool(cognito.lab, cognito.pool_id, cognito.client_id, name="other")
    strangers = setups.create_role(cognito.lab, "TrustsAnotherPool", other_pool.id)
    guests_only = setups.create_role(cognito.lab, "TrustsGuestsOnly", ids.id, amr="unauthenticated")
    for role in (strangers, guests_only):
        ids.set_roles(authenticated=role)
        assert error_of(ci.get_credentials_for_identity, IdentityId=identity_id, Logins=ids.logins(token)) == expected


def editor_and_viewer_roles(cognito, ids, **kwargs):
    lab = cognito.lab
    files = setups.private_s3_prefix(lab, ids, bucket="team-files")
    write = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::team-files/shared/*"}]}
    read = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::team-files/shared/*"}]}
    groups = setups.roles_by_group(lab, ids, {"editors": write, "viewers": read}, **kwargs)
    cognito.idp.admin_add_user_to_group(UserPoolId=cognito.pool_id, Username="alice", GroupName="editors")
    cognito.idp.admin_add_user_to_group(UserPoolId=cognito.pool_id, Username="alice", GroupName="viewers")
    cognito.idp.admin_create_user(UserPoolId=cognito.pool_id, Username="vera", MessageAction="SUPPRESS")
    cognito.idp.admin_set_user_password(UserPoolId=cognito.pool_id, Username="vera", Password=cognito.password,
                                        Permanent=True)
    cognito.idp.admin_add_user_to_group(UserPoolId=cognito.pool_id, Username="vera", GroupName="viewers")
    return files, groups


def caller_role(cognito, credentials):
    arn = cognito.lab.client("sts", credentials=credentials["Credentials"]).get_caller_identity()["Arn"]
    return arn.split("/")[1]


def test_role_mapping_by_group_picks_the_right_role(cognito, ids):
    files, groups = editor_and_viewer_roles(cognito, ids)
    alice_token = id_token(cognito, "alice")
    claims = jwt.decode(alice_token, options={"verify_signature": False})
    assert claims["cognito:preferred_role"] == groups.role_for("editors")   # lowest Precedence wins
    alice, vera = ids.credentials(alice_token), ids.credentials(id_token(cognito, "vera"))
    assert caller_role(cognito, alice) == "LabEditorsRole"
    assert caller_role(cognito, vera) == "LabViewersRole"
    cognito.lab.client("s3", credentials=alice["Credentials"]).put_object(
        Bucket=files.bucket, Key="shared/plan.txt", Body=b"v1")
    vera_s3 = cognito.lab.client("s3", credentials=vera["Credentials"])
    assert vera_s3.get_object(Bucket=files.bucket, Key="shared/plan.txt")["Body"].read() == b"v1"
    assert error_of(vera_s3.put_object, Bucket=files.bucket, Key="shared/plan.txt", Body=b"v2")["Code"] == "AccessDenied"
    # CustomRoleArn may pick another role of the user's token, and no role outside it.
    assert caller_role(cognito, ids.credentials(alice_token, custom_role_arn=groups.role_for("viewers"))) == "LabViewersRole"
    err = error_of(ids.credentials, id_token(cognito, "vera"), custom_role_arn=groups.role_for("editors"))
    assert err["Code"] == "NotAuthorizedException"


def test_deny_resolution_refuses_a_user_the_mapping_cannot_place(cognito, ids):
    editor_and_viewer_roles(cognito, ids)             # root is only in "admin", a group without a role
    err = error_of(ids.credentials, id_token(cognito, "root"))
    assert err == {"Code": "NotAuthorizedException",
                   "Message": f"The ambiguous role mapping rules for: {ids.role_mapping_key} denied this request."}


def test_rules_mapping_first_match_wins_and_authenticated_role_resolution(cognito, ids):
    editor_and_viewer_roles(cognito, ids, mapping="Rules", ambiguous="AuthenticatedRole")
    assert caller_role(cognito, ids.credentials(id_token(cognito, "alice"))) == "LabEditorsRole"   # first rule
    assert caller_role(cognito, ids.credentials(id_token(cognito, "vera"))) == "LabViewersRole"
    assert caller_role(cognito, ids.credentials(id_token(cognito, "root"))) == "LabAuthenticatedRole"


# -- expiry ---------------------------------------------------------------------------------------
def test_credentials_stop_working_after_an_hour_of_lab_time(cognito, ids):
    files = setups.private_s3_prefix(cognito.lab, ids)
    table = setups.per_identity_table(cognito.lab, ids)
    alice = ids.credentials(id_token(cognito))
    expiration = alice["Credentials"]["Expiration"]
    assert abs(expiration.timestamp() - (cognito.lab.clock.time() + 3600)) < 5
    s3 = cognito.lab.client("s3", credentials=alice["Credentials"])
    ddb = cognito.lab.client("dynamodb", credentials=alice["Credentials"])
    key = files.key_for(alice["IdentityId"], "a.txt")
    s3.put_object(Bucket=files.bucket, Key=key, Body=b"x")
    cognito.lab.clock.advance(minutes=59)
    s3.get_object(Bucket=files.bucket, Key=key)
    ddb.get_item(TableName=table.table, Key=table.key_for(alice["IdentityId"], "n1"))
    cognito.lab.clock.advance(minutes=1, seconds=1)
    assert error_of(s3.get_object, Bucket=files.bucket, Key=key) == {
        "Code": "ExpiredToken", "Message": "The provided token has expired."}
    assert error_of(ddb.get_item, TableName=table.table, Key=table.key_for(alice["IdentityId"], "n1")) == {
        "Code": "ExpiredTokenException", "Message": "The security token included in the request is expired"}


# -- DynamoDB ---------------------------------------------------------------------------------------
def test_dynamodb_leading_keys_keep_users_to_their_own_items(cognito, ids):
    table = setups.per_identity_table(cognito.lab, ids)
    alice, root = ids.credentials(id_token(cognito, "alice")), ids.credentials(id_token(cognito, "root"))
    ddb = cognito.lab.client("dynamodb", credentials=alice["Credentials"])
    root_ddb = cognito.lab.client("dynamodb", credentials=root["Credentials"])
    mine = {**table.key_for(alice["IdentityId"], "n1"), "text": {"S": "hello"}}
    ddb.put_item(TableName=table.table, Item=mine)
    assert ddb.get_item(TableName=table.table, Key=table.key_for(alice["IdentityId"], "n1"))["Item"] == mine
    found = ddb.query(TableName=table.table, KeyConditionExpression="#o = :me",
                      ExpressionAttributeNames={"#o": table.partition_key},
                      ExpressionAttributeValues={":me": {"S": alice["IdentityId"]}})
    assert found["Count"] == 1
    root_ddb.put_item(TableName=table.table, Item={**table.key_for(root["IdentityId"], "r1"), "text": {"S": "root"}})

    err = error_of(ddb.get_item, TableName=table.table, Key=table.key_for(root["IdentityId"], "r1"))
    assert err == {"Code": "AccessDeniedException", "Message": (
        f"User: arn:aws:sts::{cognito.lab.account_id}:assumed-role/LabAuthenticatedRole/CognitoIdentityCredentials "
        "is not authorized to perform: dynamodb:GetItem on resource: "
        f"arn:aws:dynamodb:us-east-1:{cognito.lab.account_id}:table/{table.table} "
        "because no identity-based policy allows the dynamodb:GetItem action")}
    assert error_of(ddb.put_item, TableName=table.table,
                    Item={**table.key_for(root["IdentityId"], "x"), "text": {"S": "graffiti"}})["Code"] == "AccessDeniedException"
    assert error_of(ddb.query, TableName=table.table, KeyConditionExpression="identityId = :them",
                    ExpressionAttributeValues={":them": {"S": root["IdentityId"]}})["Code"] == "AccessDeniedException"
    assert error_of(ddb.batch_get_item, RequestItems={table.table: {"Keys": [
        table.key_for(alice["IdentityId"], "n1"), table.key_for(root["IdentityId"], "r1")]}})["Code"] == "AccessDeniedException"
    assert error_of(ddb.scan, TableName=table.table)["Code"] == "AccessDeniedException"


# -- classic flow -----------------------------------------------------------------------------------
def test_classic_flow_is_refused_unless_allow_classic_flow(cognito, ids):
    files = setups.private_s3_prefix(cognito.lab, ids)
    ci, sts = cognito.lab.client("cognito-identity"), cognito.lab.client("sts")
    token = id_token(cognito)
    identity_id = ids.get_id(token)
    err = error_of(ci.get_open_id_token, IdentityId=identity_id, Logins=ids.logins(token))
    assert err == {"Code": "InvalidParameterException",
                   "Message": "Basic (classic) flow is not enabled, please use enhanced flow."}

    pool = ci.describe_identity_pool(IdentityPoolId=ids.id)
    assert pool["AllowClassicFlow"] is False
    ci.update_identity_pool(IdentityPoolId=ids.id, IdentityPoolName=pool["IdentityPoolName"],
                            AllowUnauthenticatedIdentities=False, AllowClassicFlow=True,
                            CognitoIdentityProviders=pool["CognitoIdentityProviders"])
    assert ci.describe_identity_pool(IdentityPoolId=ids.id)["AllowClassicFlow"] is True
    openid = ci.get_open_id_token(IdentityId=identity_id, Logins=ids.logins(token))
    assert openid["IdentityId"] == identity_id

    assumed = sts.assume_role_with_web_identity(RoleArn=files.role_arn, RoleSessionName="classic",
                                                WebIdentityToken=openid["Token"])
    assert assumed["SubjectFromWebIdentityToken"] == identity_id
    assert assumed["AssumedRoleUser"]["Arn"].endswith(":assumed-role/LabAuthenticatedRole/classic")
    s3 = cognito.lab.client("s3", credentials=assumed["Credentials"])
    s3.put_object(Bucket=files.bucket, Key=files.key_for(identity_id, "classic.txt"), Body=b"x")
    assert error_of(s3.put_object, Bucket=files.bucket, Key="private/someone-else/x", Body=b"x")["Code"] == "AccessDenied"

    guest_role = setups.create_role(cognito.lab, "GuestsOnly", ids.id, amr="unauthenticated")
    err = error_of(sts.assume_role_with_web_identity, RoleArn=guest_role, RoleSessionName="classic",
                   WebIdentityToken=openid["Token"])
    assert err["Code"] == "AccessDenied"
    cognito.lab.clock.advance(minutes=10)
    err = error_of(sts.assume_role_with_web_identity, RoleArn=files.role_arn, RoleSessionName="classic",
                   WebIdentityToken=openid["Token"])
    assert err["Code"] == "ExpiredTokenException"


# -- the lab itself -----------------------------------------------------------------------------------
def test_admin_and_other_keys_pass_untouched(cognito, ids):
    setups.private_s3_prefix(cognito.lab, ids)
    s3 = cognito.lab.client("s3")
    s3.put_object(Bucket="lab-private-files", Key="anything/at/all.txt", Body=b"x")
    other = cognito.lab.client("s3", credentials={"AccessKeyId": "AKIAOTHERKEY00000000", "SecretKey": "x"})
    assert other.get_object(Bucket="lab-private-files", Key="anything/at/all.txt")["Body"].read() == b"x"


def test_trust_policy_helper_matches_the_console():
    policy = trust_policy("us-east-1:abc", "unauthenticated")
    statement = policy["Statement"][0]
    assert statement["Principal"] == {"Federated": "cognito-identity.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"cognito-identity.amazonaws.com:aud": "us-east-1:abc"}
    assert statement["Condition"]["ForAnyValue:StringLike"] == {"cognito-identity.amazonaws.com:amr": "unauthenticated"}


def test_cognitoidentity_patches_check_moto_internals_and_fail_loudly(monkeypatch):
    from moto.cognitoidentity.responses import CognitoIdentityResponse
    from moto.sts.models import AssumedRole

    from labkit.emulator.moto_patches import MotoInternalsChanged, cognitoidentity

    cognitoidentity.check_internals()
    monkeypatch.delattr(CognitoIdentityResponse, "get_open_id_token")
    with pytest.raises(MotoInternalsChanged, match="get_open_id_token"):
        cognitoidentity.check_internals()
    monkeypatch.undo()
    monkeypatch.setattr(AssumedRole, "__init__", lambda self: None)
    with pytest.raises(MotoInternalsChanged, match="AssumedRole"):
        cognitoidentity.check_internals()


def test_cognitoidentity_patches_are_undone_when_the_lab_stops():
    from moto.cognitoidentity.models import CognitoIdentityPool
    from moto.cognitoidentity.responses import CognitoIdentityResponse
    from moto.sts.responses import TokenResponse

    before = (CognitoIdentityResponse.get_id, CognitoIdentityPool.to_json, TokenResponse.assume_role_with_web_identity)
    with Lab() as lab:
        assert lab.identity_pools is not None         # installed on first use
        assert CognitoIdentityResponse.get_id is not before[0]
        assert hasattr(CognitoIdentityResponse, "set_identity_pool_roles")
    assert (CognitoIdentityResponse.get_id, CognitoIdentityPool.to_json,
            TokenResponse.assume_role_with_web_identity) == before
    assert not hasattr(CognitoIdentityResponse, "set_identity_pool_roles")


@pytest.mark.parametrize("signature_version", [None, "s3v4"])
def test_presigned_urls_carry_the_identitys_rights(cognito, ids, signature_version):
    import urllib.error
    import urllib.request

    from botocore.config import Config

    files = setups.private_s3_prefix(cognito.lab, ids)
    alice = ids.credentials(id_token(cognito))
    config = {"config": Config(signature_version=signature_version)} if signature_version else {}
    s3 = cognito.lab.client("s3", credentials=alice["Credentials"], **config)
    mine = files.key_for(alice["IdentityId"], "photo.txt")
    s3.put_object(Bucket=files.bucket, Key=mine, Body=b"me")
    cognito.lab.client("s3").put_object(Bucket=files.bucket, Key="private/someone/else.txt", Body=b"them")
    ok = s3.generate_presigned_url("get_object", Params={"Bucket": files.bucket, "Key": mine})
    assert urllib.request.urlopen(ok).read() == b"me"
    theirs = s3.generate_presigned_url("get_object", Params={"Bucket": files.bucket, "Key": "private/someone/else.txt"})
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(theirs)
    assert denied.value.code == 403 and b"<Code>AccessDenied</Code>" in denied.value.read()


def test_a_jwt_is_not_an_s3_credential():
    """AWS refuses an Authorization header that is not an AWS signature: a Bearer ID token gets nothing."""
    import urllib.error
    import urllib.request

    from labkit import Lab

    with Lab(seed=5) as lab:
        s3 = lab.client("s3")
        s3.create_bucket(Bucket="private-files")
        s3.put_object(Bucket="private-files", Key="private/secret.txt", Body=b"top secret")
        request = urllib.request.Request(f"{lab.endpoint_url}/private-files/private/secret.txt",
                                         headers={"Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig"})
        try:
            urllib.request.urlopen(request, timeout=10)
            raise AssertionError("the lab served a private object to a request carrying only a JWT")
        except urllib.error.HTTPError as err:
            body = err.read().decode()
            assert err.code == 400 and "Unsupported Authorization Type" in body and "top secret" not in body


# -- the guests' scope-down policy (enhanced flow) ------------------------------------------------
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
SCOPE_DOWN_PAGE = "https://docs.aws.amazon.com/cognito/latest/developerguide/iam-roles.html"


@pytest.fixture
def guest_pool(cognito):
    """An identity pool that allows guests, whose guest and signed-in roles both allow everything."""
    pool = setups.identity_pool(cognito.lab, cognito.pool_id, cognito.client_id, name="open_doors",
                                allow_guests=True, allow_classic_flow=True)
    guest_role = setups.create_role(cognito.lab, "GuestEverything", pool.id, EVERYTHING, amr="unauthenticated")
    user_role = setups.create_role(cognito.lab, "UserEverything", pool.id, EVERYTHING)
    pool.set_roles(authenticated=user_role, unauthenticated=guest_role)
    pool.guest_role = guest_role
    return pool


def test_enhanced_flow_guests_reach_only_the_services_the_scope_down_lists(cognito, guest_pool):
    """Developer guide, IAM roles, Access policies (see SCOPE_DOWN_PAGE): Cognito applies a
    scope-down policy to the credentials GetCredentialsForIdentity vends to unauthenticated identities,
    so even a guest role that allows everything reaches only the listed services. IAM is not on the
    list: AccessDenied, "no session policy allows"; SNS and S3 are."""
    guest = guest_pool.credentials()["Credentials"]
    iam_client = cognito.lab.client("iam", credentials=guest)
    err = error_of(iam_client.list_roles)
    assert err["Code"] == "AccessDenied"
    assert err["Message"].endswith("because no session policy allows the iam:ListRoles action")
    assert ":assumed-role/GuestEverything/CognitoIdentityCredentials" in err["Message"]
    assert "Topics" in cognito.lab.client("sns", credentials=guest).list_topics()
    s3 = cognito.lab.client("s3", credentials=guest)
    s3.create_bucket(Bucket="guest-made-this")       # S3 is on the list: the role's s3 rights stand
    assert "guest-made-this" in [b["Name"] for b in cognito.lab.client("s3").list_buckets()["Buckets"]]


def test_signed_in_users_get_no_scope_down(cognito, guest_pool):
    """The scope-down is for unauthenticated identities only: a signed-in user's credentials for a
    role that allows everything may call IAM."""
    creds = guest_pool.credentials(id_token(cognito))["Credentials"]
    assert "Roles" in cognito.lab.client("iam", credentials=creds).list_roles()


def test_basic_flow_guests_get_no_scope_down(cognito, guest_pool):
    """The scope-down belongs to the enhanced flow: guest credentials from the basic (classic) flow,
    GetOpenIdToken then STS AssumeRoleWithWebIdentity, carry only the guest role's policies (the
    guide: "If you need access to something other than these services for your unauthenticated
    users, you must use the basic authentication flow")."""
    ci, sts = cognito.lab.client("cognito-identity"), cognito.lab.client("sts")
    identity_id = ci.get_id(IdentityPoolId=guest_pool.id)["IdentityId"]
    token = ci.get_open_id_token(IdentityId=identity_id)["Token"]
    assumed = sts.assume_role_with_web_identity(RoleArn=guest_pool.guest_role, RoleSessionName="basic",
                                                WebIdentityToken=token)["Credentials"]
    assert "Roles" in cognito.lab.client("iam", credentials=assumed).list_roles()


@pytest.mark.parametrize("action, allowed", [
    ("s3:GetObject", True), ("dynamodb:PutItem", True), ("lambda:InvokeFunction", True),
    ("kms:Decrypt", True), ("kms:GenerateDataKeyWithoutPlaintext", True), ("kms:CreateKey", False),
    ("sagemaker:InvokeEndpoint", True), ("sagemaker:CreateModel", False),
    ("textract:AnalyzeDocument", True), ("textract:StartDocumentAnalysis", False),
    ("iam:CreateUser", False), ("sts:AssumeRole", False), ("ec2:RunInstances", False),
])
def test_scope_down_lets_through_the_listed_services_and_restricted_actions(action, allowed):
    """The guide's table of services with restricted actions: KMS (Encrypt, Decrypt, ReEncrypt,
    GenerateDataKey), SageMaker (InvokeEndpoint), Textract (DetectDocumentText, AnalyzeDocument)."""
    from labkit.emulator.identity_pools import guest_scope_down_allows

    assert guest_scope_down_allows(action) is allowed
