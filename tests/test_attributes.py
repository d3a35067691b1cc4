"""User attributes as Cognito enforces them, through plain boto3 against a Lab.

Each docstring names the rule and where Cognito documents it: the developer guide's "Working with
user attributes" (user-pool-settings-attributes), "Signing up and confirming user accounts"
(signing-up-users-in-your-app) and "Configuring email or phone verification"
(user-pool-settings-email-phone-verification); the API reference pages named after the action or type.
"""
import jwt
import pytest

from labkit import Lab
from labkit.course.userpool import create_user_pool
from cognito_errors import error_of

PASSWORD = "Passw0rd!"
ACCESS = {"Name": "access", "AttributeDataType": "String", "Mutable": True}
WRITE_ALL_BUT_ACCESS = ["email", "given_name", "family_name", "name"]


@pytest.fixture
def lab():
    with Lab(seed=9) as lab:
        yield lab


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def attrs_of(response: dict, key: str = "UserAttributes") -> dict:
    return {a["Name"]: a["Value"] for a in response[key]}


def admin_attrs(up, username: str) -> dict:
    return attrs_of(up.idp.admin_get_user(UserPoolId=up.pool_id, Username=username))


def pool(lab, *, schema=(ACCESS,), client_options=None, **pool_options):
    return create_user_pool(lab, "attrs", Schema=list(schema), client_options=client_options, **pool_options)


# -- the schema ----------------------------------------------------------------------------------------
def test_sign_up_with_an_undeclared_custom_attribute_is_refused(lab):
    """Custom attributes must be declared in the pool's schema (user-pool-settings-attributes, Custom
    attributes): SignUp answers InvalidParameterException 'Attributes did not conform to the schema:
    custom:role: Attribute does not exist in the schema.' and creates no user."""
    up = pool(lab)
    code, message = error_of(up.idp.sign_up, ClientId=up.client_id, Username="mallory", Password=PASSWORD,
                             UserAttributes=[{"Name": "email", "Value": "m@example.com"},
                                             {"Name": "custom:role", "Value": "admin"}])
    assert code == "InvalidParameterException"
    assert message == "Attributes did not conform to the schema: custom:role: Attribute does not exist in the schema.\n"
    assert up.idp.list_users(UserPoolId=up.pool_id)["Users"] == []


def test_a_custom_attribute_needs_its_custom_prefix(lab):
    """A custom attribute is named with its custom: prefix (SignUp reference: 'For custom attributes,
    include a custom: prefix'); the bare name is not in the schema."""
    up = pool(lab)
    code, message = error_of(up.idp.sign_up, ClientId=up.client_id, Username="amy", Password=PASSWORD,
                             UserAttributes=[{"Name": "access", "Value": "reader"}])
    assert (code, message) == ("InvalidParameterException",
                               "Attributes did not conform to the schema: access: Attribute does not exist in the schema.\n")


def test_admin_create_user_with_an_undeclared_custom_attribute_is_refused(lab):
    """AdminCreateUser checks the schema too (an administrator cannot invent attributes either)."""
    up = pool(lab)
    code, message = error_of(up.idp.admin_create_user, UserPoolId=up.pool_id, Username="bob",
                             MessageAction="SUPPRESS", UserAttributes=[{"Name": "custom:role", "Value": "x"}])
    assert code == "InvalidParameterException"
    assert "custom:role: Attribute does not exist in the schema." in message


def test_update_with_an_undeclared_attribute_is_refused_for_users_and_admins(lab):
    """UpdateUserAttributes / AdminUpdateUserAttributes on an attribute the schema lacks:
    InvalidParameterException 'user.custom:role: Attribute does not exist in the schema.'"""
    up = pool(lab)
    up.add_user("alice", PASSWORD, email="alice@example.com")
    token = up.sign_in("alice", PASSWORD)["AccessToken"]
    expected = ("InvalidParameterException", "user.custom:role: Attribute does not exist in the schema.\n")
    assert error_of(up.idp.update_user_attributes, AccessToken=token,
                    UserAttributes=[{"Name": "custom:role", "Value": "admin"}]) == expected
    assert error_of(up.idp.admin_update_user_attributes, UserPoolId=up.pool_id, Username="alice",
                    UserAttributes=[{"Name": "custom:role", "Value": "admin"}]) == expected
    assert "custom:role" not in admin_attrs(up, "alice")


def test_declared_custom_attribute_is_stored_and_carried_as_a_string(lab):
    """A declared custom attribute is accepted; in the ID token 'a custom attribute value ... is always
    a string', Number type included (API reference, SchemaAttributeType)."""
    up = pool(lab, schema=[ACCESS, {"Name": "level", "AttributeDataType": "Number", "Mutable": True}])
    up.add_user("alice", PASSWORD, email="alice@example.com",
                attributes={"custom:access": "reader", "custom:level": "12"})
    id_claims = claims(up.sign_in("alice", PASSWORD)["IdToken"])
    assert id_claims["custom:access"] == "reader"
    assert id_claims["custom:level"] == "12"
    assert id_claims["email_verified"] is True


def test_add_custom_attributes_declares_a_new_attribute(lab):
    """AddCustomAttributes adds to the schema: custom:department is refused before, accepted after."""
    up = pool(lab)
    up.add_user("alice", PASSWORD, email="alice@example.com")
    update = dict(UserPoolId=up.pool_id, Username="alice", UserAttributes=[{"Name": "custom:department", "Value": "ops"}])
    assert error_of(up.idp.admin_update_user_attributes, **update)[0] == "InvalidParameterException"
    up.idp.add_custom_attributes(UserPoolId=up.pool_id, CustomAttributes=[
        {"Name": "department", "AttributeDataType": "String", "Mutable": True}])
    up.idp.admin_update_user_attributes(**update)
    assert admin_attrs(up, "alice")["custom:department"] == "ops"


def test_string_length_and_number_range_constraints_are_enforced(lab):
    """StringAttributeConstraints (MinLength / MaxLength) and NumberAttributeConstraints (MinValue /
    MaxValue) bound the values (API reference, SchemaAttributeType); Number values must be numbers."""
    up = pool(lab, schema=[
        {"Name": "code", "AttributeDataType": "String", "Mutable": True,
         "StringAttributeConstraints": {"MinLength": "2", "MaxLength": "4"}},
        {"Name": "age", "AttributeDataType": "Number", "Mutable": True,
         "NumberAttributeConstraints": {"MinValue": "18", "MaxValue": "120"}}])
    up.add_user("alice", PASSWORD, email="alice@example.com")

    def update(name, value):
        return error_of(up.idp.admin_update_user_attributes, UserPoolId=up.pool_id, Username="alice",
                        UserAttributes=[{"Name": name, "Value": value}])
    for name, value in [("custom:code", "toolong"), ("custom:code", "x"), ("custom:age", "17"),
                        ("custom:age", "121"), ("custom:age", "old")]:
        code, message = update(name, value)
        assert code == "InvalidParameterException" and message.startswith(f"user.{name}: "), (name, value)
    up.idp.admin_update_user_attributes(UserPoolId=up.pool_id, Username="alice", UserAttributes=[
        {"Name": "custom:code", "Value": "ab"}, {"Name": "custom:age", "Value": "42"}])
    assert {k: v for k, v in admin_attrs(up, "alice").items() if k.startswith("custom:")} == {
        "custom:code": "ab", "custom:age": "42"}


def test_an_immutable_custom_attribute_is_written_once_at_creation(lab):
    """Mutable false: 'the attribute value can only be set up on sign-up or administrator creation of
    users' (AddCustomAttributes reference); later updates, by the user or an admin, are refused with
    'user.custom:tenant: Attribute cannot be updated.'"""
    up = pool(lab, schema=[{"Name": "tenant", "AttributeDataType": "String", "Mutable": False}])
    up.idp.sign_up(ClientId=up.client_id, Username="alice", Password=PASSWORD,
                   UserAttributes=[{"Name": "custom:tenant", "Value": "acme"}])
    up.idp.admin_confirm_sign_up(UserPoolId=up.pool_id, Username="alice")
    token = up.sign_in("alice", PASSWORD)["AccessToken"]
    change = [{"Name": "custom:tenant", "Value": "globex"}]
    expected = ("InvalidParameterException", "user.custom:tenant: Attribute cannot be updated.\n")
    assert error_of(up.idp.update_user_attributes, AccessToken=token, UserAttributes=change) == expected
    assert error_of(up.idp.admin_update_user_attributes, UserPoolId=up.pool_id, Username="alice",
                    UserAttributes=change) == expected
    assert admin_attrs(up, "alice")["custom:tenant"] == "acme"


def test_a_blank_value_deletes_an_attribute_but_not_a_required_one(lab):
    """'To delete an attribute from the user, submit the attribute ... with a blank value'
    (UpdateUserAttributes reference); a required attribute cannot go: 'user.email: Required attribute
    cannot be deleted.'"""
    up = pool(lab, schema=[ACCESS, {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True}])
    up.add_user("alice", PASSWORD, email="alice@example.com", attributes={"nickname": "al"})
    token = up.sign_in("alice", PASSWORD)["AccessToken"]
    up.idp.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "nickname", "Value": ""}])
    assert "nickname" not in admin_attrs(up, "alice")
    assert error_of(up.idp.update_user_attributes, AccessToken=token, UserAttributes=[{"Name": "email", "Value": ""}]) == (
        "InvalidParameterException", "user.email: Required attribute cannot be deleted.\n")


# -- sub --------------------------------------------------------------------------------------------
def test_a_user_cannot_overwrite_their_sub(lab):
    """sub is immutable and no app client may write it: UpdateUserAttributes answers
    NotAuthorizedException 'A client attempted to write unauthorized attribute'; GetUser, ListUsers
    and new tokens keep the real sub (user-pool-settings-attributes)."""
    up = pool(lab)
    up.add_user("alice", PASSWORD, email="alice@example.com")
    tokens = up.sign_in("alice", PASSWORD)
    real_sub = claims(tokens["IdToken"])["sub"]
    assert error_of(up.idp.update_user_attributes, AccessToken=tokens["AccessToken"],
                    UserAttributes=[{"Name": "sub", "Value": "forged-sub"}]) == (
        "NotAuthorizedException", "A client attempted to write unauthorized attribute")
    assert attrs_of(up.idp.get_user(AccessToken=tokens["AccessToken"]))["sub"] == real_sub
    listed = up.idp.list_users(UserPoolId=up.pool_id)["Users"][0]
    assert attrs_of(listed, "Attributes")["sub"] == real_sub
    assert claims(up.refresh(tokens["RefreshToken"])["IdToken"])["sub"] == real_sub


def test_an_admin_cannot_overwrite_a_sub_either(lab):
    """sub is immutable for administrators too: AdminUpdateUserAttributes answers
    InvalidParameterException 'user.sub: Attribute cannot be updated.'; AdminCreateUser cannot set one."""
    up = pool(lab)
    user = up.add_user("alice", PASSWORD, email="alice@example.com")
    real_sub = attrs_of(user, "Attributes")["sub"]
    assert error_of(up.idp.admin_update_user_attributes, UserPoolId=up.pool_id, Username="alice",
                    UserAttributes=[{"Name": "sub", "Value": "forged-sub"}]) == (
        "InvalidParameterException", "user.sub: Attribute cannot be updated.\n")
    assert admin_attrs(up, "alice")["sub"] == real_sub
    code, _ = error_of(up.idp.admin_create_user, UserPoolId=up.pool_id, Username="bob", MessageAction="SUPPRESS",
                       UserAttributes=[{"Name": "sub", "Value": real_sub}])
    assert code == "InvalidParameterException"


# -- ReadAttributes / WriteAttributes -----------------------------------------------------------------
def test_read_attributes_limit_get_user_and_the_id_token(lab):
    """'An app calling GetUser only receives the attributes that are readable for that app. The ID
    token ... only contains claims corresponding to the readable attributes' (user-pool-settings-attributes,
    Attribute permissions and scopes); sub is always there."""
    up = pool(lab, client_options={"ReadAttributes": ["email", "email_verified", "given_name"]})
    up.add_user("alice", PASSWORD, email="alice@example.com",
                attributes={"given_name": "Alice", "family_name": "Liddell", "custom:access": "reader"})
    tokens = up.sign_in("alice", PASSWORD)
    seen = attrs_of(up.idp.get_user(AccessToken=tokens["AccessToken"]))
    assert set(seen) == {"sub", "email", "email_verified", "given_name"}
    id_claims = claims(tokens["IdToken"])
    assert "family_name" not in id_claims and "custom:access" not in id_claims
    assert id_claims["given_name"] == "Alice" and id_claims["sub"] == seen["sub"]
    # Admin APIs are not limited by any app client.
    assert admin_attrs(up, "alice")["custom:access"] == "reader"


def test_a_client_without_read_attributes_reads_every_attribute(lab):
    """A client created without ReadAttributes reads the standard attributes, the verified flags and
    (as the console and user reports show) the custom ones (CreateUserPoolClient reference; README)."""
    up = pool(lab)
    up.add_user("alice", PASSWORD, email="alice@example.com", attributes={"custom:access": "reader"})
    tokens = up.sign_in("alice", PASSWORD)
    assert attrs_of(up.idp.get_user(AccessToken=tokens["AccessToken"]))["custom:access"] == "reader"
    assert claims(tokens["IdToken"])["custom:access"] == "reader"


def test_write_attributes_limit_sign_up_and_update_user_attributes(lab):
    """'If an app tries to update an attribute that is not writable, the app gets a
    NotAuthorizedException' (user-pool-settings-attributes): on SignUp and on UpdateUserAttributes."""
    up = pool(lab, client_options={"WriteAttributes": WRITE_ALL_BUT_ACCESS})
    assert error_of(up.idp.sign_up, ClientId=up.client_id, Username="mallory", Password=PASSWORD,
                    UserAttributes=[{"Name": "custom:access", "Value": "admin"}]) == (
        "NotAuthorizedException", "A client attempted to write unauthorized attribute")
    up.add_user("alice", PASSWORD, email="alice@example.com")
    token = up.sign_in("alice", PASSWORD)["AccessToken"]
    assert error_of(up.idp.update_user_attributes, AccessToken=token,
                    UserAttributes=[{"Name": "given_name", "Value": "Al"},
                                    {"Name": "custom:access", "Value": "admin"}]) == (
        "NotAuthorizedException", "A client attempted to write unauthorized attribute")
    assert "given_name" not in admin_attrs(up, "alice")           # nothing of the request was applied
    up.idp.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "given_name", "Value": "Al"}])
    assert admin_attrs(up, "alice")["given_name"] == "Al"


def test_app_client_attribute_lists_must_name_attributes_of_the_pool(lab):
    """CreateUserPoolClient / UpdateUserPoolClient refuse names the pool lacks: InvalidParameterException
    'Invalid read attributes specified while creating a client' (and write / updating)."""
    up = pool(lab)
    create = dict(UserPoolId=up.pool_id, ClientName="other")
    assert error_of(up.idp.create_user_pool_client, ReadAttributes=["custom:nope"], **create) == (
        "InvalidParameterException", "Invalid read attributes specified while creating a client")
    assert error_of(up.idp.create_user_pool_client, WriteAttributes=["custom:nope"], **create) == (
        "InvalidParameterException", "Invalid write attributes specified while creating a client")
    assert error_of(up.idp.update_user_pool_client, ClientId=up.client_id, UserPoolId=up.pool_id,
                    WriteAttributes=["sub"]) == (
        "InvalidParameterException", "Invalid write attributes specified while updating a client")


def test_users_cannot_mark_their_own_email_verified_but_admins_can(lab):
    """email_verified / phone_number_verified are not among a client's default write attributes
    (CreateUserPoolClient reference): SignUp or UpdateUserAttributes with them answer
    NotAuthorizedException. An administrator can set them (AdminUpdateUserAttributes reference)."""
    up = pool(lab)
    assert error_of(up.idp.sign_up, ClientId=up.client_id, Username="mallory", Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": "m@example.com"},
                                    {"Name": "email_verified", "Value": "true"}])[0] == "NotAuthorizedException"
    up.idp.admin_create_user(UserPoolId=up.pool_id, Username="alice", MessageAction="SUPPRESS",
                             UserAttributes=[{"Name": "email", "Value": "alice@example.com"}])
    up.idp.admin_set_user_password(UserPoolId=up.pool_id, Username="alice", Password=PASSWORD, Permanent=True)
    token = up.sign_in("alice", PASSWORD)["AccessToken"]
    assert error_of(up.idp.update_user_attributes, AccessToken=token,
                    UserAttributes=[{"Name": "email_verified", "Value": "true"}]) == (
        "NotAuthorizedException", "A client attempted to write unauthorized attribute")
    assert admin_attrs(up, "alice").get("email_verified") != "true"
    up.idp.admin_update_user_attributes(UserPoolId=up.pool_id, Username="alice",
                                        UserAttributes=[{"Name": "email_verified", "Value": "true"}])
    assert admin_attrs(up, "alice")["email_verified"] == "true"


# -- CloudGoat's vulnerable_cognito: a writable custom:access -----------------------------------------
def _cloudgoat(lab, write_attributes):
    up = pool(lab, AutoVerifiedAttributes=["email"], client_options={"WriteAttributes": write_attributes})
    up.idp.sign_up(ClientId=up.client_id, Username="attacker", Password=PASSWORD,
                   UserAttributes=[{"Name": "email", "Value": "attacker@example.com"}])
    up.idp.confirm_sign_up(ClientId=up.client_id, Username="attacker",
                           ConfirmationCode=lab.inbox("attacker@example.com").latest.code)
    # the scenario's post-confirmation Lambda, as an admin call
    up.idp.admin_update_user_attributes(UserPoolId=up.pool_id, Username="attacker",
                                        UserAttributes=[{"Name": "custom:access", "Value": "reader"}])
    return up, up.sign_in("attacker", PASSWORD)


def test_a_writable_custom_access_lets_a_user_promote_themselves(lab):
    """CloudGoat vulnerable_cognito: the app client's WriteAttributes include custom:access, and the
    default scope aws.cognito.signin.user.admin lets the user call UpdateUserAttributes on anything the
    client may write (user-pool-settings-attributes) — the next ID token says admin."""
    up, tokens = _cloudgoat(lab, WRITE_ALL_BUT_ACCESS + ["custom:access"])
    assert claims(tokens["IdToken"])["custom:access"] == "reader"
    up.idp.update_user_attributes(AccessToken=tokens["AccessToken"],
                                  UserAttributes=[{"Name": "custom:access", "Value": "admin"}])
    assert claims(up.refresh(tokens["RefreshToken"])["IdToken"])["custom:access"] == "admin"
    assert claims(up.sign_in("attacker", PASSWORD)["IdToken"])["custom:access"] == "admin"


def test_without_custom_access_in_write_attributes_the_escalation_fails(lab):
    """The fix: leave custom:access out of the client's WriteAttributes (only admins set it). The same
    call answers NotAuthorizedException and the tokens keep saying reader."""
    up, tokens = _cloudgoat(lab, WRITE_ALL_BUT_ACCESS)
    assert error_of(up.idp.update_user_attributes, AccessToken=tokens["AccessToken"],
                    UserAttributes=[{"Name": "custom:access", "Value": "admin"}]) == (
        "NotAuthorizedException", "A client attempted to write unauthorized attribute")
    assert claims(up.refresh(tokens["RefreshToken"])["IdToken"])["custom:access"] == "reader"
    assert admin_attrs(up, "attacker")["custom:access"] == "reader"


# -- changing email / phone --------------------------------------------------------------------------
def test_changing_email_without_keep_original_replaces_it_unverified_and_sends_a_code(lab):
    """Without AttributesRequireVerificationBeforeUpdate: 'When a user changes their email address or
    phone number in your app, that attribute is marked as unverified. If auto-verification was enabled
    for the attribute being updated, the service immediately sends the user a message containing a
    verification code' (signing-up-users-in-your-app); the new value is in use at once
    (UserAttributeUpdateSettingsType), so refreshed ID tokens carry it with email_verified false."""
    up = pool(lab, AutoVerifiedAttributes=["email"])
    up.add_user("alice", PASSWORD, email="alice@example.com")
    tokens = up.sign_in("alice", PASSWORD)
    result = up.idp.update_user_attributes(AccessToken=tokens["AccessToken"],
                                           UserAttributes=[{"Name": "email", "Value": "eve@example.com"}])
    assert result["CodeDeliveryDetailsList"] == [
        {"Destination": "e***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}]
    seen = attrs_of(up.idp.get_user(AccessToken=tokens["AccessToken"]))
    assert (seen["email"], seen["email_verified"]) == ("eve@example.com", "false")
    id_claims = claims(up.refresh(tokens["RefreshToken"])["IdToken"])
    assert (id_claims["email"], id_claims["email_verified"]) == ("eve@example.com", False)
    assert len(lab.inbox("alice@example.com")) == 0
    up.idp.verify_user_attribute(AccessToken=tokens["AccessToken"], AttributeName="email",
                                 Code=lab.inbox("eve@example.com").latest.code)
    assert claims(up.refresh(tokens["RefreshToken"])["IdToken"])["email_verified"] is True


def test_with_keep_original_the_old_email_stays_active_until_the_new_one_is_verified(lab):
    """AttributesRequireVerificationBeforeUpdate ['email']: 'Amazon Cognito doesn't change the value of
    the attribute until your user responds to the verification message'; 'your user can sign in and
    receive messages with the original attribute value until they verify the new value'
    (UserAttributeUpdateSettingsType, UpdateUserAttributes). VerifyUserAttribute 'updates the affected
    attribute to its pending value'."""
    up = pool(lab, AutoVerifiedAttributes=["email"], UsernameAttributes=["email"],
              UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]})
    up.add_user("alice@example.com", PASSWORD, email="alice@example.com")
    tokens = up.sign_in("alice@example.com", PASSWORD)
    result = up.idp.update_user_attributes(AccessToken=tokens["AccessToken"],
                                           UserAttributes=[{"Name": "email", "Value": "eve@example.com"}])
    assert result["CodeDeliveryDetailsList"][0]["AttributeName"] == "email"
    code = lab.inbox("eve@example.com").latest.code
    # Until verified: the old address signs in and is in the tokens, still verified.
    seen = attrs_of(up.idp.get_user(AccessToken=tokens["AccessToken"]))
    assert (seen["email"], seen["email_verified"]) == ("alice@example.com", "true")
    again = up.sign_in("alice@example.com", PASSWORD)
    assert claims(again["IdToken"])["email"] == "alice@example.com"
    assert claims(up.refresh(tokens["RefreshToken"])["IdToken"])["email"] == "alice@example.com"
    assert error_of(up.sign_in, "eve@example.com", PASSWORD)[0] in ("UserNotFoundException", "NotAuthorizedException")
    # A wrong code changes nothing; the right one switches to the new address, verified.
    assert error_of(up.idp.verify_user_attribute, AccessToken=tokens["AccessToken"], AttributeName="email",
                    Code="000000" if code != "000000" else "111111") == (
        "CodeMismatchException", "Invalid verification code provided, please try again.")
    up.idp.verify_user_attribute(AccessToken=tokens["AccessToken"], AttributeName="email", Code=code)
    id_claims = claims(up.sign_in("eve@example.com", PASSWORD)["IdToken"])
    assert (id_claims["email"], id_claims["email_verified"]) == ("eve@example.com", True)
    assert error_of(up.sign_in, "alice@example.com", PASSWORD)[0] in ("UserNotFoundException", "NotAuthorizedException")


def test_keep_original_set_later_with_update_user_pool(lab):
    """UserAttributeUpdateSettings is a parameter of UpdateUserPool as well as CreateUserPool
    (UserAttributeUpdateSettingsType)."""
    up = pool(lab, AutoVerifiedAttributes=["email"])
    up.idp.update_user_pool(UserPoolId=up.pool_id, AutoVerifiedAttributes=["email"],
                            UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]})
    up.add_user("alice", PASSWORD, email="alice@example.com")
    token = up.sign_in("alice", PASSWORD)["AccessToken"]
    up.idp.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "email", "Value": "eve@example.com"}])
    assert admin_attrs(up, "alice")["email"] == "alice@example.com"


def test_an_admin_change_with_email_verified_true_applies_at_once_without_a_message(lab):
    """'To skip the verification message and update the value of an attribute that requires
    verification in the same API request, include the email_verified ... attribute, with a value of
    true' (AdminUpdateUserAttributes reference). Without it the value waits and a code is sent."""
    up = pool(lab, AutoVerifiedAttributes=["email"],
              UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]})
    up.add_user("alice", PASSWORD, email="alice@example.com")
    up.idp.admin_update_user_attributes(UserPoolId=up.pool_id, Username="alice", UserAttributes=[
        {"Name": "email", "Value": "new@example.com"}, {"Name": "email_verified", "Value": "true"}])
    attrs = admin_attrs(up, "alice")
    assert (attrs["email"], attrs["email_verified"]) == ("new@example.com", "true")
    assert len(lab.inbox("new@example.com")) == 0
    up.idp.admin_update_user_attributes(UserPoolId=up.pool_id, Username="alice",
                                        UserAttributes=[{"Name": "email", "Value": "later@example.com"}])
    assert admin_attrs(up, "alice")["email"] == "new@example.com"
    assert lab.inbox("later@example.com").latest.code
    # Setting the flag to true verifies the pending value (UserAttributeUpdateSettingsType).
    up.idp.admin_update_user_attributes(UserPoolId=up.pool_id, Username="alice",
                                        UserAttributes=[{"Name": "email_verified", "Value": "true"}])
    assert admin_attrs(up, "alice")["email"] == "later@example.com"


def test_changing_a_phone_number_sends_the_code_by_sms(lab):
    """An auto-verified phone_number change is verified with a code sent by SMS to the new number
    (user-pool-settings-email-phone-verification)."""
    up = pool(lab, AutoVerifiedAttributes=["phone_number"])
    up.add_user("alice", PASSWORD, phone="+15555550100")
    tokens = up.sign_in("alice", PASSWORD)
    result = up.idp.update_user_attributes(AccessToken=tokens["AccessToken"],
                                           UserAttributes=[{"Name": "phone_number", "Value": "+15555550199"}])
    assert result["CodeDeliveryDetailsList"] == [
        {"Destination": "+*******0199", "DeliveryMedium": "SMS", "AttributeName": "phone_number"}]
    assert admin_attrs(up, "alice")["phone_number_verified"] == "false"
    up.idp.verify_user_attribute(AccessToken=tokens["AccessToken"], AttributeName="phone_number",
                                 Code=lab.inbox("+15555550199").latest.code)
    assert admin_attrs(up, "alice")["phone_number_verified"] == "true"


def test_no_code_delivery_when_nothing_needs_verifying(lab):
    """CodeDeliveryDetailsList appears only when the update sends a code (UpdateUserAttributes
    reference): a given_name change, or an email change in a pool that does not auto-verify email."""
    up = pool(lab)
    up.add_user("alice", PASSWORD, email="alice@example.com")
    token = up.sign_in("alice", PASSWORD)["AccessToken"]
    result = up.idp.update_user_attributes(AccessToken=token, UserAttributes=[
        {"Name": "given_name", "Value": "Al"}, {"Name": "email", "Value": "al@example.com"}])
    assert "CodeDeliveryDetailsList" not in result
    assert admin_attrs(up, "alice")["email_verified"] == "false"
    assert len(lab.inbox("al@example.com")) == 0


def test_get_user_attribute_verification_code_then_verify_user_attribute(lab):
    """GetUserAttributeVerificationCode sends a code for the attribute; VerifyUserAttribute checks it:
    wrong → CodeMismatchException, after 24 hours → ExpiredCodeException, right → verified; a code
    works once (signing-up-users-in-your-app; the code 'is valid for 24 hours',
    user-pool-settings-email-phone-verification)."""
    up = pool(lab)
    up.idp.admin_create_user(UserPoolId=up.pool_id, Username="alice", MessageAction="SUPPRESS",
                             UserAttributes=[{"Name": "email", "Value": "alice@example.com"}])
    up.idp.admin_set_user_password(UserPoolId=up.pool_id, Username="alice", Password=PASSWORD, Permanent=True)
    token = up.sign_in("alice", PASSWORD)["AccessToken"]
    sent = up.idp.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    assert sent["CodeDeliveryDetails"] == {"Destination": "a***@e***", "DeliveryMedium": "EMAIL",
                                           "AttributeName": "email"}
    lab.clock.advance(hours=25)
    token = up.sign_in("alice", PASSWORD)["AccessToken"]
    assert error_of(up.idp.verify_user_attribute, AccessToken=token, AttributeName="email",
                    Code=lab.inbox("alice@example.com").latest.code) == (
        "ExpiredCodeException", "Invalid code provided, please request a code again.")
    up.idp.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    code = lab.inbox("alice@example.com").latest.code
    up.idp.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)
    assert admin_attrs(up, "alice")["email_verified"] == "true"
    assert error_of(up.idp.verify_user_attribute, AccessToken=token, AttributeName="email", Code=code)[0] == (
        "CodeMismatchException")


def test_only_email_and_phone_number_can_be_verified(lab):
    """'Only email and phone can be verified' (user-pool-settings-attributes, Standard attributes)."""
    up = pool(lab)
    up.add_user("alice", PASSWORD, email="alice@example.com", attributes={"custom:access": "reader"})
    token = up.sign_in("alice", PASSWORD)["AccessToken"]
    assert error_of(up.idp.get_user_attribute_verification_code, AccessToken=token,
                    AttributeName="custom:access")[0] == "InvalidParameterException"


def test_attribute_calls_check_the_access_token(lab):
    """UpdateUserAttributes, GetUserAttributeVerificationCode and VerifyUserAttribute are authorised
    by the signed-in user's access token: a revoked one answers NotAuthorizedException."""
    up = pool(lab)
    up.add_user("alice", PASSWORD, email="alice@example.com")
    token = up.sign_in("alice", PASSWORD)["AccessToken"]
    up.idp.global_sign_out(AccessToken=token)
    for call, kwargs in [(up.idp.update_user_attributes, {"UserAttributes": [{"Name": "name", "Value": "A"}]}),
                         (up.idp.get_user_attribute_verification_code, {"AttributeName": "email"}),
                         (up.idp.verify_user_attribute, {"AttributeName": "email", "Code": "123456"})]:
        assert error_of(call, AccessToken=token, **kwargs) == ("NotAuthorizedException", "Access Token has been revoked")


def test_an_email_users_sign_in_with_cannot_be_taken_by_another_user(lab):
    """'The email or phone number must be unique, and it must not already be in use by another user'
    when users sign in with it (user-pool-settings-attributes, signing in with email or phone):
    changing to another user's address answers AliasExistsException and changes nothing."""
    up = pool(lab, UsernameAttributes=["email"])
    up.add_user("alice@example.com", PASSWORD, email="alice@example.com")
    up.add_user("bob@example.com", PASSWORD, email="bob@example.com")
    token = up.sign_in("bob@example.com", PASSWORD)["AccessToken"]
    code, _ = error_of(up.idp.update_user_attributes, AccessToken=token, UserAttributes=[
        {"Name": "given_name", "Value": "Bob"}, {"Name": "email", "Value": "alice@example.com"}])
    assert code == "AliasExistsException"
    assert attrs_of(up.idp.get_user(AccessToken=token)).get("given_name") is None
