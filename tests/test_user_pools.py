"""The fidelity layer, through plain boto3: one test per Cognito behaviour the lab reproduces.

Each test's docstring names the Cognito behaviour it mirrors (developer guide / API reference).
"""
import json
import urllib.error
import urllib.request

import jwt
import pyotp
import pytest
from botocore.exceptions import ClientError

from labkit import Lab
from labkit.cognito import srp
from labkit.cognito.session import secret_hash
from labkit.course.userpool import create_user_pool
from cognito_errors import error_of

PASSWORD = "Passw0rd!"


@pytest.fixture
def lab():
    with Lab(seed=11) as lab:
        yield lab


@pytest.fixture
def up(lab):
    return create_user_pool(lab, "shop", AutoVerifiedAttributes=["email"])


# -- SRP ------------------------------------------------------------------------------------------
def test_srp_sign_in_with_the_right_password_returns_tokens(up):
    """USER_SRP_AUTH: PASSWORD_VERIFIER challenge, then tokens for a correct PASSWORD_CLAIM_SIGNATURE."""
    up.add_user("alice", PASSWORD)
    tokens = up.sign_in_srp("alice", PASSWORD)
    assert jwt.decode(tokens["AccessToken"], options={"verify_signature": False})["username"] == "alice"


def test_srp_sign_in_with_a_wrong_password_is_refused(up):
    """A wrong password yields a wrong signature: NotAuthorizedException 'Incorrect username or password.'"""
    up.add_user("alice", PASSWORD)
    assert error_of(up.sign_in_srp, "alice", "Wrong-passw0rd!") == (
        "NotAuthorizedException", "Incorrect username or password.")


def test_srp_challenge_has_a_random_salt_per_user_and_a_fresh_b_per_attempt(up):
    """Cognito stores salt + verifier per user and draws a new B for every attempt."""
    up.add_user("alice", PASSWORD)
    up.add_user("bob", PASSWORD)

    def challenge(username):
        client = srp.CognitoSRP(up.pool_id, username, PASSWORD)
        return up.idp.initiate_auth(ClientId=up.client_id, AuthFlow="USER_SRP_AUTH",
                                    AuthParameters=client.auth_parameters())["ChallengeParameters"]
    a1, a2, b1 = challenge("alice"), challenge("alice"), challenge("bob")
    assert a1["SALT"] == a2["SALT"] != b1["SALT"]
    assert a1["SRP_B"] != a2["SRP_B"]
    assert a1["SECRET_BLOCK"] != a2["SECRET_BLOCK"]
    assert set(a1) == {"SALT", "SRP_B", "SECRET_BLOCK", "USER_ID_FOR_SRP", "USERNAME"}


def test_srp_secret_block_is_single_use(up):
    """Replaying a PASSWORD_VERIFIER response (same SECRET_BLOCK) is refused."""
    up.add_user("alice", PASSWORD)
    client = srp.CognitoSRP(up.pool_id, "alice", PASSWORD)
    params = up.idp.initiate_auth(ClientId=up.client_id, AuthFlow="USER_SRP_AUTH",
                                  AuthParameters=client.auth_parameters())["ChallengeParameters"]
    responses = client.challenge_responses(params)
    up.idp.respond_to_auth_challenge(ClientId=up.client_id, ChallengeName="PASSWORD_VERIFIER",
                                     ChallengeResponses=responses)
    code, _ = error_of(up.idp.respond_to_auth_challenge, ClientId=up.client_id,
                       ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=responses)
    assert code == "NotAuthorizedException"


def test_lab_keeps_a_verifier_not_the_password(lab, up):
    """The server keeps only salt and v = g^x: moto's user object no longer holds the plaintext."""
    up.add_user("alice", PASSWORD)
    from moto.cognitoidp.models import cognitoidp_backends

    user = cognitoidp_backends[lab.account_id][lab.region].user_pools[up.pool_id].users["alice"]
    assert PASSWORD not in repr(vars(user))
    assert user.password == PASSWORD and user.password != "other"
    salt, verifier, _ = lab.user_pools.srp_verifiers[(up.pool_id, "alice")]
    assert verifier == srp.compute_verifier(up.pool_id, "alice", PASSWORD, salt)


@pytest.mark.parametrize("right", [True, False])
def test_pycognito_interop(lab, up, right):
    """An independent client written for real Cognito (pycognito's AWSSRP) signs in, or fails, against the lab."""
    from pycognito.aws_srp import AWSSRP

    up.add_user("alice", PASSWORD)
    aws = AWSSRP(username="alice", password=PASSWORD if right else "Wrong-passw0rd!",
                 pool_id=up.pool_id, client_id=up.client_id, client=up.idp)
    if right:
        assert "AccessToken" in aws.authenticate_user()["AuthenticationResult"]
    else:
        with pytest.raises(ClientError, match="Incorrect username or password"):
            aws.authenticate_user()


# -- codes ----------------------------------------------------------------------------------------
def sign_up(up, username="dana", email="dana@example.com"):
    return up.idp.sign_up(ClientId=up.client_id, Username=username, Password=PASSWORD,
                          UserAttributes=[{"Name": "email", "Value": email}])


def test_sign_up_code_goes_to_the_inbox_and_confirms(lab, up):
    """SignUp sends a 6-digit code to the auto-verified email; ConfirmSignUp with it confirms the user."""
    response = sign_up(up)
    assert response["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    message = lab.inbox("dana@example.com").latest
    assert len(message.code) == 6 and message.code.isdigit() and message.code in message.text
    up.idp.confirm_sign_up(ClientId=up.client_id, Username="dana", ConfirmationCode=message.code)
    user = up.idp.admin_get_user(UserPoolId=up.pool_id, Username="dana")
    assert user["UserStatus"] == "CONFIRMED"
    assert {"Name": "email_verified", "Value": "true"} in user["UserAttributes"]


def test_wrong_confirmation_code_is_a_code_mismatch(lab, up):
    """A wrong code: CodeMismatchException 'Invalid verification code provided, please try again.'"""
    sign_up(up)
    wrong = "000000" if lab.inbox("dana@example.com").latest.code != "000000" else "111111"
    assert error_of(up.idp.confirm_sign_up, ClientId=up.client_id, Username="dana", ConfirmationCode=wrong) == (
        "CodeMismatchException", "Invalid verification code provided, please try again.")


def test_confirmation_code_expires_after_24_hours(lab, up):
    """Codes are valid 24 h: after that, ExpiredCodeException; a resent code works."""
    sign_up(up)
    old = lab.inbox("dana@example.com").latest.code
    lab.clock.advance(hours=24, seconds=1)
    code, _ = error_of(up.idp.confirm_sign_up, ClientId=up.client_id, Username="dana", ConfirmationCode=old)
    assert code == "ExpiredCodeException"
    up.idp.resend_confirmation_code(ClientId=up.client_id, Username="dana")
    fresh = lab.inbox("dana@example.com").latest.code
    up.idp.confirm_sign_up(ClientId=up.client_id, Username="dana", ConfirmationCode=fresh)


def test_unconfirmed_user_cannot_sign_in(up):
    """Signing in before confirmation: UserNotConfirmedException."""
    sign_up(up)
    assert error_of(up.sign_in, "dana", PASSWORD)[0] == "UserNotConfirmedException"


def test_forgot_password_code_resets_the_password(lab, up):
    """ForgotPassword sends a code; ConfirmForgotPassword checks it like a sign-up code and sets the password."""
    up.add_user("erin", PASSWORD, email="erin@example.com")
    up.idp.forgot_password(ClientId=up.client_id, Username="erin")
    code = lab.inbox("erin@example.com").latest.code
    bad = "000000" if code != "000000" else "111111"
    assert error_of(up.idp.confirm_forgot_password, ClientId=up.client_id, Username="erin",
                    ConfirmationCode=bad, Password="N3w-passw0rd!")[0] == "CodeMismatchException"
    up.idp.confirm_forgot_password(ClientId=up.client_id, Username="erin", ConfirmationCode=code,
                                   Password="N3w-passw0rd!")
    assert "AccessToken" in up.sign_in("erin", "N3w-passw0rd!")
    assert error_of(up.sign_in, "erin", PASSWORD)[0] == "NotAuthorizedException"


def test_forgot_password_code_expires(lab, up):
    """An old password-reset code: ExpiredCodeException."""
    up.add_user("erin", PASSWORD, email="erin@example.com")
    up.idp.forgot_password(ClientId=up.client_id, Username="erin")
    code = lab.inbox("erin@example.com").latest.code
    lab.clock.advance(hours=25)
    assert error_of(up.idp.confirm_forgot_password, ClientId=up.client_id, Username="erin",
                    ConfirmationCode=code, Password="N3w-passw0rd!")[0] == "ExpiredCodeException"


def test_admin_created_user_gets_an_invitation_and_new_password_required(lab, up):
    """AdminCreateUser: FORCE_CHANGE_PASSWORD, an invitation with a temporary password, NEW_PASSWORD_REQUIRED."""
    up.idp.admin_create_user(UserPoolId=up.pool_id, Username="frank", DesiredDeliveryMediums=["EMAIL"],
                             UserAttributes=[{"Name": "email", "Value": "frank@example.com"}])
    invitation = lab.inbox("frank@example.com").latest
    assert invitation.kind == "invitation" and "frank" in invitation.text
    challenge = up.sign_in("frank", invitation.code)
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    done = up.idp.respond_to_auth_challenge(
        ClientId=up.client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "frank", "NEW_PASSWORD": "Fr4nk-new-pass!"})
    assert "AccessToken" in done["AuthenticationResult"]


# -- TOTP and SMS MFA -----------------------------------------------------------------------------
def totp_pool(lab):
    up = create_user_pool(lab, "mfa")
    up.idp.set_user_pool_mfa_config(UserPoolId=up.pool_id, MfaConfiguration="OPTIONAL",
                                    SoftwareTokenMfaConfiguration={"Enabled": True})
    return up


def enroll_totp(lab, up, username):
    tokens = up.sign_in(username, PASSWORD)
    secret = up.idp.associate_software_token(AccessToken=tokens["AccessToken"])["SecretCode"]
    code = pyotp.TOTP(secret).at(lab.clock.now())
    assert up.idp.verify_software_token(AccessToken=tokens["AccessToken"], UserCode=code)["Status"] == "SUCCESS"
    up.idp.set_user_mfa_preference(AccessToken=tokens["AccessToken"],
                                   SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    return secret


def test_each_user_gets_their_own_random_base32_totp_secret(lab):
    """AssociateSoftwareToken returns a fresh random base32 SecretCode per user."""
    up = totp_pool(lab)
    up.add_user("gina", PASSWORD)
    up.add_user("hank", PASSWORD)
    secrets = [up.idp.associate_software_token(AccessToken=up.sign_in(u, PASSWORD)["AccessToken"])["SecretCode"]
               for u in ("gina", "hank")]
    assert secrets[0] != secrets[1]
    for s in secrets:
        pyotp.TOTP(s).now()           # valid base32
        assert len(s) == 52


def test_verify_software_token_rejects_a_wrong_code(lab):
    """VerifySoftwareToken checks the RFC 6238 code: a wrong one fails (EnableSoftwareTokenMFAException)."""
    up = totp_pool(lab)
    up.add_user("gina", PASSWORD)
    token = up.sign_in("gina", PASSWORD)["AccessToken"]
    secret = up.idp.associate_software_token(AccessToken=token)["SecretCode"]
    wrong = pyotp.TOTP(secret).at(lab.clock.now().timestamp() + 600)   # a code from 10 minutes ahead
    code, message = error_of(up.idp.verify_software_token, AccessToken=token, UserCode=wrong)
    assert code == "EnableSoftwareTokenMFAException" and "Code mismatch" in message


def test_software_token_mfa_challenge_checks_the_code_on_the_lab_clock(lab):
    """SOFTWARE_TOKEN_MFA: right code -> tokens; ±1 step accepted; wrong code -> CodeMismatchException."""
    up = totp_pool(lab)
    lab.clock.freeze()       # no 30-second boundary may pass between computing and checking a code
    up.add_user("gina", PASSWORD)
    secret = enroll_totp(lab, up, "gina")
    totp = pyotp.TOTP(secret)

    def answer(code):
        challenge = up.sign_in("gina", PASSWORD)
        assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
        return up.idp.respond_to_auth_challenge(
            ClientId=up.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=challenge["Session"],
            ChallengeResponses={"USERNAME": "gina", "SOFTWARE_TOKEN_MFA_CODE": code})
    now = lab.clock.now().timestamp()
    assert "AccessToken" in answer(totp.at(now))["AuthenticationResult"]
    assert "AccessToken" in answer(totp.at(now - 30))["AuthenticationResult"]
    assert error_of(answer, totp.at(now - 120)) == ("CodeMismatchException", "Invalid code received for user")
    lab.clock.advance(minutes=2)      # the code of two minutes ago is now stale; today's code works
    assert "AccessToken" in answer(totp.at(lab.clock.now()))["AuthenticationResult"]


def test_sms_mfa_code_goes_to_the_inbox_and_is_checked(lab):
    """SMS_MFA: a code by text message, checked (wrong: CodeMismatchException)."""
    up = create_user_pool(lab, "sms", MfaConfiguration="OFF")
    up.idp.set_user_pool_mfa_config(UserPoolId=up.pool_id, MfaConfiguration="OPTIONAL",
                                    SmsMfaConfiguration={"SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::123456789012:role/sns"}})
    up.add_user("ivy", PASSWORD, phone="+15555550123")
    up.idp.admin_set_user_mfa_preference(UserPoolId=up.pool_id, Username="ivy",
                                         SMSMfaSettings={"Enabled": True, "PreferredMfa": True})
    challenge = up.sign_in("ivy", PASSWORD)
    assert challenge["ChallengeName"] == "SMS_MFA"
    code = lab.inbox("+15555550123").latest.code
    wrong = "000000" if code != "000000" else "111111"
    assert error_of(up.idp.respond_to_auth_challenge, ClientId=up.client_id, ChallengeName="SMS_MFA",
                    Session=challenge["Session"],
                    ChallengeResponses={"USERNAME": "ivy", "SMS_MFA_CODE": wrong})[0] == "CodeMismatchException"
    done = up.idp.respond_to_auth_challenge(ClientId=up.client_id, ChallengeName="SMS_MFA",
                                            Session=challenge["Session"],
                                            ChallengeResponses={"USERNAME": "ivy", "SMS_MFA_CODE": code})
    assert "AccessToken" in done["AuthenticationResult"]


def test_required_mfa_without_a_factor_gives_mfa_setup(lab):
    """MfaConfiguration ON and no factor yet: the MFA_SETUP challenge, completed with a verified TOTP."""
    up = create_user_pool(lab, "mfa-on")
    up.idp.set_user_pool_mfa_config(UserPoolId=up.pool_id, MfaConfiguration="ON",
                                    SoftwareTokenMfaConfiguration={"Enabled": True})
    up.add_user("jack", PASSWORD)
    challenge = up.sign_in("jack", PASSWORD)
    assert challenge["ChallengeName"] == "MFA_SETUP"
    assert json.loads(challenge["ChallengeParameters"]["MFAS_CAN_SETUP"]) == ["SOFTWARE_TOKEN_MFA"]
    assoc = up.idp.associate_software_token(Session=challenge["Session"])
    verified = up.idp.verify_software_token(Session=assoc["Session"],
                                            UserCode=pyotp.TOTP(assoc["SecretCode"]).at(lab.clock.now()))
    done = up.idp.respond_to_auth_challenge(ClientId=up.client_id, ChallengeName="MFA_SETUP",
                                            Session=verified["Session"], ChallengeResponses={"USERNAME": "jack"})
    assert "AccessToken" in done["AuthenticationResult"]
    assert up.sign_in("jack", PASSWORD)["ChallengeName"] == "SOFTWARE_TOKEN_MFA"


def _required_totp_pool(lab, name):
    up = create_user_pool(lab, name, AutoVerifiedAttributes=["email"])
    up.idp.set_user_pool_mfa_config(UserPoolId=up.pool_id, MfaConfiguration="ON",
                                    SoftwareTokenMfaConfiguration={"Enabled": True})
    return up


def _sign_up_and_confirm(lab, up, username, email):
    up.idp.sign_up(ClientId=up.client_id, Username=username, Password=PASSWORD,
                   UserAttributes=[{"Name": "email", "Value": email}])
    up.idp.confirm_sign_up(ClientId=up.client_id, Username=username,
                           ConfirmationCode=lab.inbox(email).latest.code)


def test_required_mfa_first_sign_in_after_confirming_a_code_gets_tokens(lab):
    """Developer guide, "Adding MFA to a user pool"
    (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-mfa.html): the first
    time a new user signs in, Cognito issues tokens even if the pool requires MFA; the confirmation of
    the verification message Cognito sent them is that sign-in's second factor. Every later sign-in
    prompts the user to register a factor (MFA_SETUP)."""
    up = _required_totp_pool(lab, "mfa-on-signup")
    _sign_up_and_confirm(lab, up, "kate", "kate@example.com")
    first = up.sign_in("kate", PASSWORD)
    assert "ChallengeName" not in first and "AccessToken" in first
    second = up.sign_in("kate", PASSWORD)
    assert second["ChallengeName"] == "MFA_SETUP"
    assert "AuthenticationResult" not in second


def test_required_mfa_first_sign_in_counts_once_even_when_it_fails_later(lab):
    """The tokens-without-MFA sign-in is the user's first sign-in only: a wrong password does not use
    it up, the first successful password step does (then MFA_SETUP, as the MFA_SETUP challenge's entry
    in the InitiateAuth API reference describes for users without a factor)."""
    up = _required_totp_pool(lab, "mfa-on-once")
    _sign_up_and_confirm(lab, up, "liam", "liam@example.com")
    assert error_of(up.idp.initiate_auth, ClientId=up.client_id, AuthFlow="USER_PASSWORD_AUTH",
                    AuthParameters={"USERNAME": "liam", "PASSWORD": "Wrong-Passw0rd!"})[0] == "NotAuthorizedException"
    assert "AccessToken" in up.sign_in("liam", PASSWORD)
    assert up.sign_in("liam", PASSWORD)["ChallengeName"] == "MFA_SETUP"


def test_required_mfa_admin_created_user_gets_mfa_setup_from_the_first_sign_in(lab):
    """A user an administrator created and confirmed never answered a verification message, so
    nothing stands in for the second factor: MFA_SETUP from the very first sign-in (the lab's
    reading of the guide's note, which names the verification message as that first factor)."""
    up = _required_totp_pool(lab, "mfa-on-admin")
    up.add_user("mia", PASSWORD, email="mia@example.com")
    assert up.sign_in("mia", PASSWORD)["ChallengeName"] == "MFA_SETUP"


def test_required_mfa_first_sign_in_rule_does_not_skip_an_enabled_factor(lab):
    """The first-sign-in exception is about users with no factor in a pool that requires MFA; a user
    who already turned a factor on is challenged (SoftwareTokenMfaSettingsType: "prompted for MFA
    during all sign-in attempts")."""
    up = _required_totp_pool(lab, "mfa-on-factor")
    _sign_up_and_confirm(lab, up, "noah", "noah@example.com")
    tokens = up.sign_in("noah", PASSWORD)
    assoc = up.idp.associate_software_token(AccessToken=tokens["AccessToken"])
    up.idp.verify_software_token(AccessToken=tokens["AccessToken"],
                                 UserCode=pyotp.TOTP(assoc["SecretCode"]).at(lab.clock.now()))
    up.idp.set_user_mfa_preference(AccessToken=tokens["AccessToken"],
                                   SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    assert up.sign_in("noah", PASSWORD)["ChallengeName"] == "SOFTWARE_TOKEN_MFA"


# -- token lifetimes, revocation, keys ------------------------------------------------------------
def claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def test_token_lifetimes_follow_the_app_client(lab):
    """AccessTokenValidity/IdTokenValidity/RefreshTokenValidity with TokenValidityUnits go into exp."""
    up = create_user_pool(lab, "short", client_options={
        "AccessTokenValidity": 5, "IdTokenValidity": 2, "RefreshTokenValidity": 90,
        "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "hours", "RefreshToken": "minutes"}})
    up.add_user("kim", PASSWORD)
    tokens = up.sign_in("kim", PASSWORD)
    access, ident = claims(tokens["AccessToken"]), claims(tokens["IdToken"])
    assert access["exp"] - access["iat"] == 300 and tokens["ExpiresIn"] == 300
    assert ident["exp"] - ident["iat"] == 7200
    lab.clock.advance(minutes=91)
    assert error_of(up.refresh, tokens["RefreshToken"]) == ("NotAuthorizedException", "Refresh Token has expired")


def test_token_lifetime_defaults(lab, up):
    """Defaults: access and ID tokens 60 minutes, refresh token 30 days."""
    up.add_user("kim", PASSWORD)
    tokens = up.sign_in("kim", PASSWORD)
    assert claims(tokens["AccessToken"])["exp"] - claims(tokens["AccessToken"])["iat"] == 3600
    lab.clock.advance(days=29)
    assert "AccessToken" in up.refresh(tokens["RefreshToken"])
    lab.clock.advance(days=1, seconds=1)
    assert error_of(up.refresh, tokens["RefreshToken"])[1] == "Refresh Token has expired"


@pytest.mark.parametrize("options", [
    {"AccessTokenValidity": 4, "TokenValidityUnits": {"AccessToken": "minutes"}},
    {"IdTokenValidity": 2, "TokenValidityUnits": {"IdToken": "days"}},
    {"RefreshTokenValidity": 59, "TokenValidityUnits": {"RefreshToken": "minutes"}},
])
def test_token_lifetimes_outside_cognito_ranges_are_refused(lab, options):
    """Access/ID tokens: 5 minutes to 1 day; refresh tokens: 60 minutes to 10 years."""
    idp = lab.client("cognito-idp")
    pool = idp.create_user_pool(PoolName="p")["UserPool"]["Id"]
    code, message = error_of(idp.create_user_pool_client, UserPoolId=pool, ClientName="c", **options)
    assert code == "InvalidParameterException" and "Invalid range for token validity" in message


def test_expired_access_token_fails_get_user(lab, up):
    """GetUser with an access token past its exp: NotAuthorizedException 'Access Token has expired'."""
    up.add_user("kim", PASSWORD)
    token = up.sign_in("kim", PASSWORD)["AccessToken"]
    assert up.idp.get_user(AccessToken=token)["Username"] == "kim"
    lab.clock.advance(minutes=61)
    assert error_of(up.idp.get_user, AccessToken=token) == ("NotAuthorizedException", "Access Token has expired")


def test_revoke_token_revokes_the_refresh_token_and_its_access_tokens(lab, up):
    """RevokeToken: the refresh token and the access tokens issued from it stop working; others don't."""
    up.add_user("kim", PASSWORD)
    first, second = up.sign_in("kim", PASSWORD), up.sign_in("kim", PASSWORD)
    refreshed = up.refresh(first["RefreshToken"])
    up.idp.revoke_token(Token=first["RefreshToken"], ClientId=up.client_id)
    assert error_of(up.refresh, first["RefreshToken"])[1] == "Refresh Token has been revoked"
    for token in (first["AccessToken"], refreshed["AccessToken"]):
        assert error_of(up.idp.get_user, AccessToken=token) == (
            "NotAuthorizedException", "Access Token has been revoked")
    assert up.idp.get_user(AccessToken=second["AccessToken"])["Username"] == "kim"


@pytest.mark.parametrize("admin", [False, True])
def test_global_sign_out_revokes_every_session(lab, up, admin):
    """GlobalSignOut / AdminUserGlobalSignOut revoke all of the user's refresh tokens and their access tokens."""
    up.add_user("kim", PASSWORD)
    a, b = up.sign_in("kim", PASSWORD), up.sign_in("kim", PASSWORD)
    if admin:
        up.idp.admin_user_global_sign_out(UserPoolId=up.pool_id, Username="kim")
    else:
        up.idp.global_sign_out(AccessToken=a["AccessToken"])
    for tokens in (a, b):
        assert error_of(up.idp.get_user, AccessToken=tokens["AccessToken"])[1] == "Access Token has been revoked"
        assert error_of(up.refresh, tokens["RefreshToken"])[1] == "Refresh Token has been revoked"
    assert "AccessToken" in up.sign_in("kim", PASSWORD)      # signing in again works


def test_each_pool_signs_with_its_own_key(lab):
    """Each user pool has its own keys (an ID-token and an access-token key) at {endpoint}/{pool}/.well-known/jwks.json."""
    one, two = create_user_pool(lab, "one"), create_user_pool(lab, "two")
    one.add_user("lee", PASSWORD)
    token = one.sign_in("lee", PASSWORD)["AccessToken"]
    keys = {up.pool_id: json.load(urllib.request.urlopen(up.jwks_url))["keys"] for up in (one, two)}
    kid = jwt.get_unverified_header(token)["kid"]
    assert len(keys[one.pool_id]) == 2 and kid in [k["kid"] for k in keys[one.pool_id]]
    assert kid not in [k["kid"] for k in keys[two.pool_id]]
    right = jwt.PyJWK(next(k for k in keys[one.pool_id] if k["kid"] == kid)).key
    assert jwt.decode(token, right, algorithms=["RS256"])["iss"] == f"https://cognito-idp.us-east-1.amazonaws.com/{one.pool_id}"
    for other in keys[two.pool_id]:
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(token, jwt.PyJWK(other).key, algorithms=["RS256"])
    config = json.load(urllib.request.urlopen(f"{lab.endpoint_url}/{one.pool_id}/.well-known/openid-configuration"))
    assert config["issuer"] == one.issuer and config["jwks_uri"] == one.jwks_url


def test_token_claims_look_like_cognitos(lab, up):
    """Access: token_use, scope, client_id, origin_jti, event_id, username, cognito:groups. ID: aud, email..."""
    up.add_user("mia", PASSWORD, email="mia@example.com", groups=["admin"])
    tokens = up.sign_in("mia", PASSWORD)
    access, ident = claims(tokens["AccessToken"]), claims(tokens["IdToken"])
    assert access["token_use"] == "access" and access["client_id"] == up.client_id
    assert access["scope"] == "aws.cognito.signin.user.admin" and access["cognito:groups"] == ["admin"]
    assert {"origin_jti", "event_id", "jti", "auth_time", "username", "sub"} <= set(access)
    assert ident["token_use"] == "id" and ident["aud"] == up.client_id and ident["email"] == "mia@example.com"
    assert ident["email_verified"] is True and ident["cognito:username"] == "mia"
    assert ident["origin_jti"] == access["origin_jti"]
    access_header, id_header = (jwt.get_unverified_header(tokens[t]) for t in ("AccessToken", "IdToken"))
    assert set(access_header) == set(id_header) == {"alg", "kid"} and access_header["alg"] == "RS256"
    assert access_header["kid"] != id_header["kid"]      # one key pair for ID tokens, one for access tokens


# -- user existence, flows, secrets, lockout ------------------------------------------------------
@pytest.mark.parametrize("setting, expected", [
    ("LEGACY", ("UserNotFoundException", "User does not exist.")),
    ("ENABLED", ("NotAuthorizedException", "Incorrect username or password.")),
])
def test_prevent_user_existence_errors_on_password_sign_in(lab, setting, expected):
    """ENABLED: an unknown user looks exactly like a wrong password; LEGACY: UserNotFoundException."""
    up = create_user_pool(lab, "p", prevent_user_existence_errors=setting)
    up.add_user("nina", PASSWORD)
    assert error_of(up.sign_in, "nobody", PASSWORD) == expected
    assert error_of(up.sign_in, "nina", "Wrong-passw0rd!") == ("NotAuthorizedException", "Incorrect username or password.")


def test_prevent_user_existence_errors_on_srp_forgot_password_and_confirm(lab):
    """ENABLED: SRP gives a decoy challenge then 'Incorrect username or password.'; recovery answers as if sent."""
    up = create_user_pool(lab, "p", prevent_user_existence_errors="ENABLED")
    assert error_of(up.sign_in_srp, "nobody", PASSWORD) == ("NotAuthorizedException", "Incorrect username or password.")
    assert up.idp.forgot_password(ClientId=up.client_id, Username="nobody")["CodeDeliveryDetails"]["DeliveryMedium"]
    assert error_of(up.idp.confirm_sign_up, ClientId=up.client_id, Username="nobody",
                    ConfirmationCode="123456")[0] == "CodeMismatchException"
    legacy = create_user_pool(lab, "q", prevent_user_existence_errors="LEGACY")
    assert error_of(legacy.sign_in_srp, "nobody", PASSWORD)[0] == "UserNotFoundException"
    assert error_of(legacy.idp.forgot_password, ClientId=legacy.client_id, Username="nobody")[0] == "UserNotFoundException"
    assert error_of(legacy.idp.confirm_sign_up, ClientId=legacy.client_id, Username="nobody",
                    ConfirmationCode="123456")[0] == "UserNotFoundException"


def test_explicit_auth_flows_are_enforced(lab):
    """A flow missing from ExplicitAuthFlows: InvalidParameterException '<FLOW> flow not enabled for this client'."""
    up = create_user_pool(lab, "srp-only", explicit_auth_flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    up.add_user("omar", PASSWORD)
    assert error_of(up.sign_in, "omar", PASSWORD) == (
        "InvalidParameterException", "USER_PASSWORD_AUTH flow not enabled for this client")
    assert "AccessToken" in up.sign_in_srp("omar", PASSWORD)


def test_client_without_explicit_flows_gets_cognitos_defaults(lab):
    """No ExplicitAuthFlows: SRP, custom and refresh only, so USER_PASSWORD_AUTH is refused."""
    idp = lab.client("cognito-idp")
    pool = idp.create_user_pool(PoolName="p")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="bare")["UserPoolClient"]["ClientId"]
    code, message = error_of(idp.initiate_auth, ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": "x", "PASSWORD": "y"})
    assert (code, message) == ("InvalidParameterException", "USER_PASSWORD_AUTH flow not enabled for this client")


def test_client_secret_requires_a_correct_secret_hash(lab):
    """Clients with a secret: SECRET_HASH = Base64(HMAC-SHA256(secret, username + client id)) is required."""
    up = create_user_pool(lab, "secret", generate_secret=True)
    up.add_user("pia", PASSWORD)
    assert "AccessToken" in up.sign_in("pia", PASSWORD)
    assert "AccessToken" in up.sign_in_srp("pia", PASSWORD)
    no_hash = error_of(up.idp.initiate_auth, ClientId=up.client_id, AuthFlow="USER_PASSWORD_AUTH",
                       AuthParameters={"USERNAME": "pia", "PASSWORD": PASSWORD})
    assert no_hash == ("NotAuthorizedException",
                       f"Client {up.client_id} is configured with secret but SECRET_HASH was not received")
    wrong = error_of(up.idp.initiate_auth, ClientId=up.client_id, AuthFlow="USER_PASSWORD_AUTH",
                     AuthParameters={"USERNAME": "pia", "PASSWORD": PASSWORD,
                                     "SECRET_HASH": secret_hash("pia", up.client_id, "not-the-secret")})
    assert wrong == ("NotAuthorizedException", f"Unable to verify secret hash for client {up.client_id}")


def test_repeated_wrong_passwords_lock_the_user_temporarily(lab, up):
    """After 5 failures: 'Password attempts exceeded', 1 s then doubling, capped near 15 minutes."""
    lab.clock.freeze()       # a slow machine must not slip past a 1-second lock
    up.add_user("quinn", PASSWORD)
    for _ in range(5):
        assert error_of(up.sign_in, "quinn", "Wrong-passw0rd!")[1] == "Incorrect username or password."
    # locked for 1 s: even the right password is refused
    assert error_of(up.sign_in, "quinn", PASSWORD) == ("NotAuthorizedException", "Password attempts exceeded")
    lab.clock.advance(seconds=1.5)
    assert error_of(up.sign_in, "quinn", "Wrong-passw0rd!")[1] == "Incorrect username or password."   # 6th: 2 s lock
    lab.clock.advance(seconds=1)
    assert error_of(up.sign_in, "quinn", PASSWORD)[1] == "Password attempts exceeded"
    lab.clock.advance(seconds=1.5)
    for _ in range(12):      # keep failing: the lock doubles but never exceeds 15 minutes
        error_of(up.sign_in, "quinn", "Wrong-passw0rd!")
        lab.clock.advance(minutes=15, seconds=1)
    assert "AccessToken" in up.sign_in("quinn", PASSWORD)


def test_srp_attempts_count_toward_lockout(lab, up):
    """Wrong SRP proofs lock the user too."""
    lab.clock.freeze()
    up.add_user("ruth", PASSWORD)
    for _ in range(5):
        error_of(up.sign_in_srp, "ruth", "Wrong-passw0rd!")
    assert error_of(up.sign_in_srp, "ruth", PASSWORD)[1] == "Password attempts exceeded"


# -- review fixes: each a way the lab once taught something AWS does not do -----------------------
def test_a_challenge_session_cannot_replace_the_users_authenticator(lab):
    """Only MFA_SETUP may enrol a factor with a Session: a SOFTWARE_TOKEN_MFA session cannot (no MFA bypass)."""
    up = totp_pool(lab)
    lab.clock.freeze()
    up.add_user("gina", PASSWORD)
    enroll_totp(lab, up, "gina")
    challenge = up.sign_in("gina", PASSWORD)          # an attacker who knows only the password
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    code, _ = error_of(up.idp.associate_software_token, Session=challenge["Session"])
    assert code == "NotAuthorizedException"


def test_srp_decoy_for_an_unknown_user_looks_like_a_real_challenge(lab):
    """ENABLED: the PASSWORD_VERIFIER challenge of an unknown user has the same shape as a real one."""
    up = create_user_pool(lab, "p", prevent_user_existence_errors="ENABLED")
    up.add_user("alice", PASSWORD)

    def challenge(username):
        client = srp.CognitoSRP(up.pool_id, username, PASSWORD)
        return up.idp.initiate_auth(ClientId=up.client_id, AuthFlow="USER_SRP_AUTH",
                                    AuthParameters=client.auth_parameters())["ChallengeParameters"]
    real, decoy = [challenge("alice"), challenge("alice")], [challenge("bob"), challenge("bob")]
    for pair, name in ((real, "alice"), (decoy, "bob")):
        assert pair[0]["SALT"] == pair[1]["SALT"] and pair[0]["SRP_B"] != pair[1]["SRP_B"]
        assert pair[0]["USER_ID_FOR_SRP"] == pair[0]["USERNAME"] == name
        assert pair[0]["SALT"] == srp.pad_hex(pair[0]["SALT"])           # padded like a real salt
    assert set(real[0]) == set(decoy[0])


def test_admin_create_user_resend_keeps_the_user_and_sends_a_new_password(lab, up):
    """MessageAction=RESEND re-sends the invitation with a new temporary password; the user stays the same."""
    first = up.idp.admin_create_user(UserPoolId=up.pool_id, Username="frank", DesiredDeliveryMediums=["EMAIL"],
                                     UserAttributes=[{"Name": "email", "Value": "frank@example.com"}])["User"]
    old = lab.inbox("frank@example.com").latest.code
    again = up.idp.admin_create_user(UserPoolId=up.pool_id, Username="frank", MessageAction="RESEND",
                                     DesiredDeliveryMediums=["EMAIL"])["User"]
    new = lab.inbox("frank@example.com").latest.code
    sub = lambda user: {a["Name"]: a["Value"] for a in user["Attributes"]}["sub"]  # noqa: E731
    assert sub(first) == sub(again) and len(lab.inbox("frank@example.com")) == 2
    assert up.sign_in("frank", new)["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert error_of(up.sign_in, "frank", old)[0] == "NotAuthorizedException"


def test_update_user_pool_client_resets_what_it_leaves_out(lab, up):
    """UpdateUserPoolClient sets every omitted setting back to its default (here: ExplicitAuthFlows)."""
    up.add_user("kim", PASSWORD)
    assert "AccessToken" in up.sign_in("kim", PASSWORD)
    up.idp.update_user_pool_client(UserPoolId=up.pool_id, ClientId=up.client_id,
                                   PreventUserExistenceErrors="ENABLED")
    assert error_of(up.sign_in, "kim", PASSWORD)[1] == "USER_PASSWORD_AUTH flow not enabled for this client"


def test_update_user_pool_client_validates_the_whole_new_configuration(lab, up):
    """Units without a value keep the default lifetime; a lifetime out of range is refused on update too."""
    code, message = error_of(up.idp.update_user_pool_client, UserPoolId=up.pool_id, ClientId=up.client_id,
                             AccessTokenValidity=30, TokenValidityUnits={"AccessToken": "hours"})
    assert code == "InvalidParameterException" and "between 5 minutes and 1 day" in message


@pytest.mark.parametrize("how", ["delete", "disable"])
def test_deleting_or_disabling_a_user_revokes_their_tokens(lab, up, how):
    """A deleted (even re-created) or disabled user's tokens stop working at Cognito."""
    up.add_user("sam", PASSWORD, email="sam@example.com")
    tokens = up.sign_in("sam", PASSWORD)
    if how == "delete":
        up.idp.admin_delete_user(UserPoolId=up.pool_id, Username="sam")
        up.add_user("sam", "An0ther-passw0rd!", email="other-sam@example.com")   # a different person
    else:
        up.idp.admin_disable_user(UserPoolId=up.pool_id, Username="sam")
    assert error_of(up.idp.get_user, AccessToken=tokens["AccessToken"]) == (
        "NotAuthorizedException", "Access Token has been revoked")
    assert error_of(up.refresh, tokens["RefreshToken"])[0] == "NotAuthorizedException"


def test_srp_timestamp_must_have_cognitos_format(lab, up):
    """TIMESTAMP is 'Sat Jan 1 00:00:00 UTC 2022': a zero-padded day (the classic interop bug) fails."""
    up.add_user("alice", PASSWORD)
    client = srp.CognitoSRP(up.pool_id, "alice", PASSWORD)
    params = up.idp.initiate_auth(ClientId=up.client_id, AuthFlow="USER_SRP_AUTH",
                                  AuthParameters=client.auth_parameters())["ChallengeParameters"]
    padded = "Sat Jan 01 00:00:00 UTC 2022"
    responses = client.challenge_responses(params, timestamp=padded)
    assert responses["TIMESTAMP"] == padded
    assert error_of(up.idp.respond_to_auth_challenge, ClientId=up.client_id, ChallengeName="PASSWORD_VERIFIER",
                    ChallengeResponses=responses)[1] == "Incorrect username or password."


def test_a_weak_new_password_does_not_burn_the_reset_code(lab, up):
    """ConfirmForgotPassword with a password the policy refuses: InvalidPasswordException, and the code still works."""
    up.add_user("erin", PASSWORD, email="erin@example.com")
    up.idp.forgot_password(ClientId=up.client_id, Username="erin")
    code = lab.inbox("erin@example.com").latest.code
    assert error_of(up.idp.confirm_forgot_password, ClientId=up.client_id, Username="erin",
                    ConfirmationCode=code, Password="weak")[0] == "InvalidPasswordException"
    up.idp.confirm_forgot_password(ClientId=up.client_id, Username="erin", ConfirmationCode=code,
                                   Password="N3w-passw0rd!")


@pytest.mark.parametrize("groups, preferred", [
    ([("a", 1, "arn:aws:iam::123456789012:role/A"), ("b", 2, "arn:aws:iam::123456789012:role/B")],
     "arn:aws:iam::123456789012:role/A"),
    ([("a", 1, "arn:aws:iam::123456789012:role/A"), ("b", 1, "arn:aws:iam::123456789012:role/B")], None),
    ([("a", 1, "arn:aws:iam::123456789012:role/A"), ("b", 1, "arn:aws:iam::123456789012:role/A")],
     "arn:aws:iam::123456789012:role/A"),
])
def test_preferred_role_is_the_lowest_precedence_groups_role(lab, up, groups, preferred):
    """cognito:preferred_role: the role of the group with the lowest Precedence; a tie between different roles: none."""
    up.add_user("tess", PASSWORD)
    for name, precedence, role in groups:
        up.idp.create_group(UserPoolId=up.pool_id, GroupName=name, Precedence=precedence, RoleArn=role)
        up.idp.admin_add_user_to_group(UserPoolId=up.pool_id, Username="tess", GroupName=name)
    ident = claims(up.sign_in("tess", PASSWORD)["IdToken"])
    assert ident.get("cognito:preferred_role") == preferred
    assert sorted(ident["cognito:roles"]) == sorted(role for _, _, role in groups)


def test_missing_or_malformed_parameters_get_cognitos_400(lab, up):
    """Missing AuthParameters entries: InvalidParameterException; AuthParameters of the wrong JSON type:
    SerializationException; neither a crash nor a lockout count."""
    up.add_user("uma", PASSWORD)
    for params in ({"USERNAME": "uma"}, {"PASSWORD": PASSWORD}):
        code, message = error_of(up.idp.initiate_auth, ClientId=up.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters=params)
        assert code == "InvalidParameterException" and message.startswith("Missing required parameter")
    request = urllib.request.Request(lab.endpoint_url, method="POST", data=json.dumps(
        {"ClientId": up.client_id, "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": "not-a-map"}).encode(),
        headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
                 "Content-Type": "application/x-amz-json-1.1"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    # A string where a map belongs fails deserialisation, before any rule: SerializationException.
    assert err.value.code == 400 and "SerializationException" in err.value.read().decode()
    assert lab.user_pools.lockouts == {}


@pytest.mark.parametrize("password, rule", [
    ("Sh0rt!", "Password not long enough"),
    ("n0-uppercase!", "Password must have uppercase characters"),
    ("N0-LOWERCASE!", "Password must have lowercase characters"),
    ("No-numbers-here!", "Password must have numeric characters"),
    ("N0symbolsHere", "Password must have symbol characters"),
])
def test_password_policy_names_the_broken_rule(lab, up, password, rule):
    """InvalidPasswordException 'Password did not conform with policy: <rule>' (default policy: 8, all classes)."""
    assert error_of(up.idp.sign_up, ClientId=up.client_id, Username="val", Password=password) == (
        "InvalidPasswordException", f"Password did not conform with policy: {rule}")


def test_long_passphrases_are_accepted_up_to_256_characters(lab):
    """A policy without composition rules accepts a 200-character passphrase (moto stopped at 98)."""
    up = create_user_pool(lab, "long", Policies={"PasswordPolicy": {"MinimumLength": 15}})
    up.add_user("wes", "correct horse battery staple " * 6 + "x" * 26)
    assert "AccessToken" in up.sign_in("wes", "correct horse battery staple " * 6 + "x" * 26)


def test_temporary_password_expires_after_the_pools_validity(lab, up):
    """An invitation's temporary password expires after TemporaryPasswordValidityDays (default 7)."""
    up.idp.admin_create_user(UserPoolId=up.pool_id, Username="xena", TemporaryPassword="Temp-passw0rd!",
                             MessageAction="SUPPRESS")
    assert up.sign_in("xena", "Temp-passw0rd!")["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    lab.clock.advance(days=7, seconds=1)
    assert error_of(up.sign_in, "xena", "Temp-passw0rd!") == (
        "NotAuthorizedException", "Temporary password has expired and must be reset by an administrator.")


def test_signing_up_twice_says_user_already_exists(lab, up):
    """SignUp with a taken username: UsernameExistsException 'User already exists'."""
    sign_up(up)
    assert error_of(sign_up, up) == ("UsernameExistsException", "User already exists")


def test_tokens_issued_after_the_clock_moved_work_at_cognito(lab, up):
    """Tokens carry the lab clock's iat: after advancing the clock, a fresh token still works with GetUser."""
    up.add_user("yan", PASSWORD)
    lab.clock.advance(hours=3)
    token = up.sign_in("yan", PASSWORD)["AccessToken"]
    assert up.idp.get_user(AccessToken=token)["Username"] == "yan"
    up.idp.global_sign_out(AccessToken=token)
    assert error_of(up.idp.get_user, AccessToken=token)[1] == "Access Token has been revoked"


def test_an_action_the_lab_lacks_says_so_instead_of_crashing(lab, up):
    """AdminListDevices (not in moto 5.2, and the lab models no remembered devices): a clear
    UnsupportedOperationException, not a 500."""
    up.add_user("zoe", PASSWORD)
    code, message = error_of(up.idp.admin_list_devices, UserPoolId=up.pool_id, Username="zoe")
    assert code == "UnsupportedOperationException" and "does not implement AdminListDevices" in message
