"""PreventUserExistenceErrors on the recovery and confirmation calls, as the developer guide words it.

Source: Amazon Cognito developer guide, "Managing user existence error responses",
https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pool-managing-errors.html
(sections "Password reset operations" and "Confirmation operations"). The page's summary also says
"a generic authentication failure response to forgot-password requests"; its ForgotPassword section
says CodeDeliveryDetails with a simulated delivery medium. The lab follows the specific section.
"""
import pytest

from labkit import Lab
from labkit.course.userpool import create_user_pool
from cognito_errors import error_of

PASSWORD = "Passw0rd!"


@pytest.fixture
def lab():
    with Lab(seed=15) as lab:
        yield lab


def shop(lab, setting, **pool_options):
    pool_options.setdefault("AutoVerifiedAttributes", ["email"])
    return create_user_pool(lab, f"shop-{setting.lower()}", prevent_user_existence_errors=setting, **pool_options)


def forgot(up, username):
    return up.idp.forgot_password(ClientId=up.client_id, Username=username)["CodeDeliveryDetails"]


def resend(up, username):
    return up.idp.resend_confirmation_code(ClientId=up.client_id, Username=username)["CodeDeliveryDetails"]


def test_forgot_password_for_an_unknown_user_answers_a_simulated_delivery_and_sends_nothing(lab):
    """ForgotPassword, ENABLED: "When a user isn't found ... Amazon Cognito returns CodeDeliveryDetails
    with a simulated delivery medium" (Managing user existence error responses, Password reset operations)."""
    up = shop(lab, "ENABLED")
    up.add_user("dan", PASSWORD, email="dan@example.com")
    real, simulated = forgot(up, "dan"), forgot(up, "zoe")
    assert set(real) == set(simulated) == {"Destination", "DeliveryMedium", "AttributeName"}
    assert simulated["DeliveryMedium"] == "EMAIL" and simulated["AttributeName"] == "email"
    assert simulated["Destination"].startswith("z***@") and simulated["Destination"].endswith("***")
    assert forgot(up, "zoe") == simulated            # asking again gives the same answer
    assert len(lab.inbox("dan@example.com")) == 1    # only dan's real code was sent


def test_forgot_password_simulated_medium_follows_the_username_format_and_the_pool(lab):
    """ForgotPassword, ENABLED: "The simulated delivery medium is determined by the input username format
    and verification settings of the user pool" (Managing user existence error responses)."""
    up = shop(lab, "ENABLED")
    by_email = forgot(up, "zoe@example.org")
    assert (by_email["DeliveryMedium"], by_email["Destination"]) == ("EMAIL", "z***@e***")
    by_phone = forgot(up, "+15555550123")
    assert (by_phone["DeliveryMedium"], by_phone["AttributeName"]) == ("SMS", "phone_number")
    assert by_phone["Destination"].endswith("0123")
    sms_pool = create_user_pool(lab, "sms-shop", prevent_user_existence_errors="ENABLED",
                                AutoVerifiedAttributes=["phone_number"])
    assert forgot(sms_pool, "zoe")["DeliveryMedium"] == "SMS"


def test_forgot_password_hides_a_deactivated_user_and_one_without_a_verified_address(lab):
    """ForgotPassword, ENABLED: a user who "is deactivated, or doesn't have a verified delivery mechanism
    to recover their password" also gets a simulated delivery; with LEGACY each gets its own error."""
    for setting in ("ENABLED", "LEGACY"):
        up = shop(lab, setting)
        up.add_user("fay", PASSWORD, attributes={"email": f"fay-{setting}@example.com"})      # not verified
        up.add_user("gil", PASSWORD, email=f"gil-{setting}@example.com")
        up.idp.admin_disable_user(UserPoolId=up.pool_id, Username="gil")
        if setting == "ENABLED":
            assert forgot(up, "fay")["DeliveryMedium"] == "EMAIL"
            assert forgot(up, "gil")["DeliveryMedium"] == "EMAIL"
            assert len(lab.inbox(f"fay-{setting}@example.com")) == 0
            assert len(lab.inbox(f"gil-{setting}@example.com")) == 0
        else:
            assert error_of(up.idp.forgot_password, ClientId=up.client_id, Username="fay") == (
                "InvalidParameterException",
                "Cannot reset password for the user as there is no registered/verified email or phone_number")
            assert error_of(up.idp.forgot_password, ClientId=up.client_id, Username="gil") == (
                "NotAuthorizedException", "User is disabled.")
            assert error_of(up.idp.forgot_password, ClientId=up.client_id, Username="zoe")[0] == "UserNotFoundException"


def test_confirm_forgot_password_for_unknown_disabled_or_unrequested(lab):
    """ConfirmForgotPassword, ENABLED: "CodeMismatchException error for users that don't exist or are
    disabled. If a code isn't requested when using ForgotPassword, ... ExpiredCodeException"."""
    up = shop(lab, "ENABLED")
    up.add_user("dan", PASSWORD, email="dan@example.com")
    up.add_user("gil", PASSWORD, email="gil@example.com")
    up.idp.admin_disable_user(UserPoolId=up.pool_id, Username="gil")
    confirm = dict(ClientId=up.client_id, ConfirmationCode="123456", Password="New-Passw0rd!")
    assert error_of(up.idp.confirm_forgot_password, Username="zoe", **confirm)[0] == "CodeMismatchException"
    assert error_of(up.idp.confirm_forgot_password, Username="gil", **confirm)[0] == "CodeMismatchException"
    assert error_of(up.idp.confirm_forgot_password, Username="dan", **confirm)[0] == "ExpiredCodeException"
    forgot(up, "dan")
    assert error_of(up.idp.confirm_forgot_password, Username="dan", **confirm)[0] == "CodeMismatchException"
    code = lab.inbox("dan@example.com").latest.code
    up.idp.confirm_forgot_password(ClientId=up.client_id, Username="dan", ConfirmationCode=code,
                                   Password="New-Passw0rd!")
    assert "AccessToken" in up.sign_in("dan", "New-Passw0rd!")


def test_resend_confirmation_code_for_unknown_or_disabled_user_answers_a_simulated_delivery(lab):
    """ResendConfirmationCode, ENABLED: "Amazon Cognito returns CodeDeliveryDetails for a disabled user or a
    user that doesn't exist" (Confirmation operations); nothing is sent. A confirmed user still gets
    InvalidParameterException (the page: these APIs alternate between a simulated delivery and that error)."""
    up = shop(lab, "ENABLED")
    up.idp.sign_up(ClientId=up.client_id, Username="ana", Password=PASSWORD,
                   UserAttributes=[{"Name": "email", "Value": "ana@example.com"}])
    up.idp.sign_up(ClientId=up.client_id, Username="ben", Password=PASSWORD,
                   UserAttributes=[{"Name": "email", "Value": "ben@example.com"}])
    up.idp.admin_disable_user(UserPoolId=up.pool_id, Username="ben")
    real = resend(up, "ana")
    assert real["Destination"] == "a***@e***" and len(lab.inbox("ana@example.com")) == 2
    for name in ("ben", "zoe"):
        simulated = resend(up, name)
        assert set(simulated) == set(real) and simulated["DeliveryMedium"] == "EMAIL"
    assert len(lab.inbox("ben@example.com")) == 1          # only the sign-up code, nothing resent
    up.add_user("dan", PASSWORD, email="dan@example.com")
    assert error_of(up.idp.resend_confirmation_code, ClientId=up.client_id, Username="dan") == (
        "InvalidParameterException", "User is already confirmed.")


def test_resend_confirmation_code_with_legacy_names_the_unknown_user(lab):
    """ResendConfirmationCode, LEGACY (the API default): an unknown user gets UserNotFoundException."""
    up = shop(lab, "LEGACY")
    assert error_of(up.idp.resend_confirmation_code, ClientId=up.client_id, Username="zoe")[0] == \
        "UserNotFoundException"
