"""Two limits on who and how much can sign up: AllowAdminCreateUserOnly refuses SignUp, and the
default email sender (COGNITO_DEFAULT) sends at most 50 emails a day per account."""
import pytest
from botocore.exceptions import ClientError

from labkit import Lab
from labkit.emulator.user_pools.email_quota import DAILY_EMAIL_QUOTA

PASSWORD = "Correct-Horse-9"


def _code(call) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def _pool(idp, **options):
    pool_id = idp.create_user_pool(PoolName="p", **options)["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web")["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def _sign_up(idp, client_id, name):
    return idp.sign_up(ClientId=client_id, Username=name, Password=PASSWORD,
                       UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}])


def test_sign_up_is_refused_when_only_administrators_may_create_users():
    """AdminCreateUserConfig.AllowAdminCreateUserOnly: SignUp answers NotAuthorizedException
    'SignUp is not permitted for this user pool' and creates nobody; AdminCreateUser still works."""
    with Lab(seed=1) as lab:
        idp = lab.client("cognito-idp")
        pool_id, client_id = _pool(idp, AdminCreateUserConfig={"AllowAdminCreateUserOnly": True})
        code, message = _code(lambda: _sign_up(idp, client_id, "mallory"))
        assert (code, message) == ("NotAuthorizedException", "SignUp is not permitted for this user pool")
        assert idp.list_users(UserPoolId=pool_id)["Users"] == []
        idp.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS")
        open_pool, open_client = _pool(idp)
        assert _sign_up(idp, open_client, "mallory")["UserConfirmed"] is False


def test_the_default_sender_stops_after_50_emails_a_day_and_starts_again_the_next_day():
    """Quotas in Amazon Cognito: 50 email messages daily per AWS account with the default email
    feature; past it Cognito answers LimitExceededException. SignUp refused so creates no user."""
    with Lab(seed=2) as lab:
        idp = lab.client("cognito-idp")
        pool_id, client_id = _pool(idp, AutoVerifiedAttributes=["email"])
        for i in range(DAILY_EMAIL_QUOTA):
            _sign_up(idp, client_id, f"user{i}")
        assert len(lab.inbox("user49@example.com")) == 1
        code, message = _code(lambda: _sign_up(idp, client_id, "one-too-many"))
        assert code == "LimitExceededException" and "Exceeded daily email limit" in message
        assert "one-too-many" not in [u["Username"] for u in idp.list_users(UserPoolId=pool_id)["Users"]]
        # other email-sending calls are refused too, and the count is per account (every pool)
        other_pool, other_client = _pool(idp, AutoVerifiedAttributes=["email"])
        code, _ = _code(lambda: idp.resend_confirmation_code(ClientId=client_id, Username="user0"))
        assert code == "LimitExceededException"
        code, _ = _code(lambda: _sign_up(idp, other_client, "elsewhere"))
        assert code == "LimitExceededException"
        assert len(lab.inbox("user0@example.com")) == 1
        lab.clock.advance(days=1)
        assert _sign_up(idp, client_id, "tomorrow")["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"


def test_a_pool_that_sends_through_its_own_ses_identity_is_not_counted():
    """EmailSendingAccount DEVELOPER: Cognito sends through your SES identity, so the default
    sender's daily quota does not apply (SES's own limits are not modelled by the lab)."""
    with Lab(seed=3) as lab:
        idp = lab.client("cognito-idp")
        ses = {"EmailSendingAccount": "DEVELOPER",
               "SourceArn": f"arn:aws:ses:{lab.region}:{lab.account_id}:identity/no-reply@example.com"}
        pool_id, client_id = _pool(idp, AutoVerifiedAttributes=["email"], EmailConfiguration=ses)
        for i in range(DAILY_EMAIL_QUOTA + 5):
            _sign_up(idp, client_id, f"user{i}")
        assert len(lab.inbox("user54@example.com")) == 1


def test_update_user_pool_keeps_what_only_create_user_pool_can_set():
    """UsernameAttributes (sign in with the email) cannot be changed after creation: an
    UpdateUserPool of another setting leaves it, and users keep signing in with their email."""
    with Lab(seed=4) as lab:
        idp = lab.client("cognito-idp")
        pool_id, client_id = _pool(idp, UsernameAttributes=["email"])
        idp.update_user_pool_client(UserPoolId=pool_id, ClientId=client_id,
                                    ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
        idp.admin_create_user(UserPoolId=pool_id, Username="kirk@example.com", MessageAction="SUPPRESS")
        idp.admin_set_user_password(UserPoolId=pool_id, Username="kirk@example.com", Password=PASSWORD,
                                    Permanent=True)
        idp.update_user_pool(UserPoolId=pool_id, AdminCreateUserConfig={"AllowAdminCreateUserOnly": True})
        assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["UsernameAttributes"] == ["email"]
        tokens = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": "kirk@example.com", "PASSWORD": PASSWORD})
        assert "AccessToken" in tokens["AuthenticationResult"]
