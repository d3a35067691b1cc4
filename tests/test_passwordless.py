"""Feature plans and choice-based sign-in (USER_AUTH) with passwords and one-time codes, through boto3.

Sources: API reference (CreateUserPool / UpdateUserPool ``UserPoolTier``, InitiateAuth ``AuthFlow`` and
``AuthParameters``, RespondToAuthChallenge ``ChallengeResponses``, CreateUserPoolClient
``ExplicitAuthFlows``, SignUp / ConfirmSignUp ``Session``); developer guide "User pool feature plans"
(cognito-sign-in-feature-plans.html), "Essentials plan features" (feature-plans-features-essentials.html),
"Manage authentication methods in AWS SDKs" (authentication-flows-selection-sdk.html), "Managing user
existence error responses" (cognito-user-pool-managing-errors.html).
"""
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError

from labkit import Lab
from labkit.emulator.user_pools.state import OTP_DIGITS

PASSWORD = "Correct-Horse-9"
ALL_FACTORS = ["PASSWORD", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN"]


def _error(excinfo) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


@pytest.fixture
def lab():
    with Lab(seed=12) as lab:
        yield lab


def make_pool(lab, *, factors=("PASSWORD", "EMAIL_OTP", "SMS_OTP"), flows=("ALLOW_USER_AUTH",), tier=None,
              puee="ENABLED", mfa=None, **client_extra):
    """A pool whose sign-in policy allows ``factors``, an app client with ``flows``, and alice (email
    and phone number, password PASSWORD, confirmed)."""
    idp = lab.client("cognito-idp")
    args = {"PoolName": "passwordless", "Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": list(factors)}}}
    if tier:
        args["UserPoolTier"] = tier
    pool_id = idp.create_user_pool(**args)["UserPool"]["Id"]
    if mfa:
        idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration=mfa,
                                     SoftwareTokenMfaConfiguration={"Enabled": True})
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=list(flows),
                                            PreventUserExistenceErrors=puee, **client_extra)["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS", UserAttributes=[
        {"Name": "email", "Value": "alice@example.com"}, {"Name": "phone_number", "Value": "+15555550100"}])
    idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password=PASSWORD, Permanent=True)

    def start(username="alice", **params):
        return idp.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH",
                                 AuthParameters={"USERNAME": username, **params})

    def answer(response, challenge, **answers):
        return idp.respond_to_auth_challenge(ClientId=client_id, ChallengeName=challenge, Session=response["Session"],
                                             ChallengeResponses={"USERNAME": "alice", **answers})
    return SimpleNamespace(idp=idp, pool_id=pool_id, client_id=client_id, start=start, answer=answer)


# -- feature plans -----------------------------------------------------------------------------------
def test_new_pools_are_on_essentials_and_describe_user_pool_shows_the_plan(lab):
    """CreateUserPool UserPoolTier: "Defaults to ESSENTIALS"; the guide: "The default plan selection
    for new user pools is Essentials"."""
    idp = lab.client("cognito-idp")
    created = idp.create_user_pool(PoolName="default")["UserPool"]
    assert created["UserPoolTier"] == "ESSENTIALS"
    lite = idp.create_user_pool(PoolName="cheap", UserPoolTier="LITE")["UserPool"]["Id"]
    assert idp.describe_user_pool(UserPoolId=lite)["UserPool"]["UserPoolTier"] == "LITE"
    idp.update_user_pool(UserPoolId=lite, UserPoolTier="PLUS")
    assert idp.describe_user_pool(UserPoolId=lite)["UserPool"]["UserPoolTier"] == "PLUS"
    idp.update_user_pool(UserPoolId=lite, AutoVerifiedAttributes=["email"])     # no UserPoolTier: kept
    assert idp.describe_user_pool(UserPoolId=lite)["UserPool"]["UserPoolTier"] == "PLUS"


def test_an_unknown_plan_is_refused_by_the_models_enum(lab):
    """UserPoolTierType is LITE | ESSENTIALS | PLUS."""
    with pytest.raises(ClientError) as excinfo:
        lab.client("cognito-idp").create_user_pool(PoolName="p", UserPoolTier="FREE")
    assert _error(excinfo)[0] == "InvalidParameterException"


@pytest.mark.parametrize("settings, feature", [
    ({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}}}, "EMAIL_OTP"),
    ({"Policies": {"PasswordPolicy": {"MinimumLength": 8, "PasswordHistorySize": 5}}}, "Password history"),
    ({"LambdaConfig": {"PreTokenGenerationConfig": {
        "LambdaVersion": "V2_0", "LambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:f"}}},
     "Access-token customization"),
])
def test_lite_refuses_essentials_features(lab, settings, feature):
    """Passwordless sign-in, password history and access-token customization (pre token generation
    V2_0) are Essentials features: a Lite pool answers FeatureUnavailableInTierException ("You
    configure a feature that your feature plan doesn't support")."""
    idp = lab.client("cognito-idp")
    with pytest.raises(ClientError) as excinfo:
        idp.create_user_pool(PoolName="lite", UserPoolTier="LITE", **settings)
    code, message = _error(excinfo)
    assert code == "FeatureUnavailableInTierException" and feature in message
    assert idp.create_user_pool(PoolName="essentials", UserPoolTier="ESSENTIALS", **settings)["UserPool"]["Id"]


def test_lite_accepts_a_password_only_sign_in_policy_and_v1_triggers(lab):
    """Only the passwordless factors need Essentials (CDK's own example sets AllowedFirstAuthFactors
    [PASSWORD] on a Lite pool); a V1_0 pre token generation trigger customises ID tokens on any plan."""
    idp = lab.client("cognito-idp")
    pool = idp.create_user_pool(
        PoolName="lite", UserPoolTier="LITE", Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD"]}},
        LambdaConfig={"PreTokenGenerationConfig": {"LambdaVersion": "V1_0",
                                                   "LambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:f"}})
    assert pool["UserPool"]["UserPoolTier"] == "LITE"


def test_threat_protection_needs_plus(lab):
    """UserPoolAddOns: "To activate this setting, your user pool must be on the Plus tier"; OFF is fine anywhere."""
    idp = lab.client("cognito-idp")
    for tier in ("LITE", "ESSENTIALS"):
        with pytest.raises(ClientError) as excinfo:
            idp.create_user_pool(PoolName="p", UserPoolTier=tier, UserPoolAddOns={"AdvancedSecurityMode": "AUDIT"})
        assert _error(excinfo)[0] == "FeatureUnavailableInTierException"
    assert idp.create_user_pool(PoolName="p", UserPoolTier="LITE", UserPoolAddOns={"AdvancedSecurityMode": "OFF"})
    plus = idp.create_user_pool(PoolName="p", UserPoolTier="PLUS", UserPoolAddOns={"AdvancedSecurityMode": "ENFORCED"})
    assert plus["UserPool"]["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}


def test_downgrading_with_an_essentials_feature_on_is_refused(lab):
    """UpdateUserPool checks the plan against the settings it is given: turning a feature off is
    part of changing plan ("Turning off features to change feature plans")."""
    idp = lab.client("cognito-idp")
    pool_id = idp.create_user_pool(PoolName="p", Policies={
        "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}})["UserPool"]["Id"]
    with pytest.raises(ClientError) as excinfo:
        idp.update_user_pool(UserPoolId=pool_id, UserPoolTier="LITE", Policies={
            "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}})
    assert _error(excinfo)[0] == "FeatureUnavailableInTierException"
    idp.update_user_pool(UserPoolId=pool_id, UserPoolTier="LITE",
                         Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD"]}})
    assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["UserPoolTier"] == "LITE"


def test_allow_user_auth_needs_essentials(lab):
    """ExplicitAuthFlows ALLOW_USER_AUTH: "To activate this setting, your user pool must be in the
    Essentials tier or higher"; InitiateAuth USER_AUTH likewise."""
    idp = lab.client("cognito-idp")
    pool_id = idp.create_user_pool(PoolName="lite", UserPoolTier="LITE")["UserPool"]["Id"]
    with pytest.raises(ClientError) as excinfo:
        idp.create_user_pool_client(UserPoolId=pool_id, ClientName="c", ExplicitAuthFlows=["ALLOW_USER_AUTH"])
    assert _error(excinfo)[0] == "FeatureUnavailableInTierException"
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="c",
                                            ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH"])["UserPoolClient"]["ClientId"]
    with pytest.raises(ClientError) as excinfo:
        idp.update_user_pool_client(UserPoolId=pool_id, ClientId=client_id, ExplicitAuthFlows=["ALLOW_USER_AUTH"])
    assert _error(excinfo)[0] == "FeatureUnavailableInTierException"
    # a pool moved down to Lite after its client got ALLOW_USER_AUTH: the sign-in itself is refused
    pool2 = make_pool(lab)
    idp.update_user_pool(UserPoolId=pool2.pool_id, UserPoolTier="LITE")
    with pytest.raises(ClientError) as excinfo:
        pool2.start()
    assert _error(excinfo)[0] == "FeatureUnavailableInTierException"


def test_software_token_is_not_a_first_factor(lab):
    """SignInPolicyType: "SOFTWARE_TOKEN is not currently supported as a first auth factor"."""
    with pytest.raises(ClientError) as excinfo:
        lab.client("cognito-idp").create_user_pool(
            PoolName="p", Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "SOFTWARE_TOKEN"]}})
    assert _error(excinfo)[0] == "InvalidParameterException"


# -- USER_AUTH ----------------------------------------------------------------------------------------
def test_user_auth_needs_allow_user_auth_on_the_client(lab):
    """Every AuthFlow must be enabled in the client's ExplicitAuthFlows; ALLOW_USER_AUTH is USER_AUTH's."""
    pool = make_pool(lab, flows=("ALLOW_USER_PASSWORD_AUTH",))
    with pytest.raises(ClientError) as excinfo:
        pool.start()
    assert _error(excinfo) == ("InvalidParameterException", "USER_AUTH flow not enabled for this client")


def test_without_a_preference_the_user_chooses_from_available_challenges(lab):
    """No PREFERRED_CHALLENGE: "Amazon Cognito responds with the AvailableChallenges parameter that
    specifies the available sign-in methods" (SELECT_CHALLENGE); PASSWORD offers PASSWORD and PASSWORD_SRP."""
    pool = make_pool(lab)
    response = pool.start()
    assert response["ChallengeName"] == "SELECT_CHALLENGE"
    assert response["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP", "SMS_OTP"]
    # an answer that was not offered is refused
    with pytest.raises(ClientError) as excinfo:
        pool.answer(response, "SELECT_CHALLENGE", ANSWER="WEB_AUTHN")
    assert _error(excinfo)[0] == "InvalidParameterException"


def test_available_challenges_follow_the_pools_policy_and_the_users_attributes(lab):
    """What can be offered comes from AllowedFirstAuthFactors; a code needs an address to go to."""
    pool = make_pool(lab, factors=["PASSWORD", "SMS_OTP"])
    assert pool.start()["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP", "SMS_OTP"]
    pool.idp.admin_delete_user_attributes(UserPoolId=pool.pool_id, Username="alice",
                                          UserAttributeNames=["phone_number"])
    assert pool.start()["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP"]


def test_select_challenge_password_completes_sign_in(lab):
    """"Complete authentication in the SELECT_CHALLENGE response for PASSWORD, PASSWORD_SRP": ANSWER
    PASSWORD with PASSWORD gives tokens; a wrong password is refused as in any password sign-in."""
    pool = make_pool(lab)
    with pytest.raises(ClientError) as excinfo:
        pool.answer(pool.start(), "SELECT_CHALLENGE", ANSWER="PASSWORD", PASSWORD="wrong-Password-1")
    assert _error(excinfo) == ("NotAuthorizedException", "Incorrect username or password.")
    result = pool.answer(pool.start(), "SELECT_CHALLENGE", ANSWER="PASSWORD", PASSWORD=PASSWORD)
    assert set(result["AuthenticationResult"]) >= {"AccessToken", "IdToken", "RefreshToken"}


def test_preferred_password_signs_in_in_one_call(lab):
    """PREFERRED_CHALLENGE PASSWORD with PASSWORD in AuthParameters: tokens straight away."""
    pool = make_pool(lab)
    result = pool.start(PREFERRED_CHALLENGE="PASSWORD", PASSWORD=PASSWORD)
    assert "AccessToken" in result["AuthenticationResult"]


def test_user_auth_allows_password_and_srp_even_with_those_flows_off(lab):
    """ALLOW_USER_AUTH "can do username-password and SRP authentication without other
    ExplicitAuthFlows permitting them": the "I disabled password sign-in" mistake."""
    from labkit.cognito import srp

    pool = make_pool(lab, flows=("ALLOW_USER_AUTH",))
    with pytest.raises(ClientError):
        pool.idp.initiate_auth(ClientId=pool.client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD})
    assert "AccessToken" in pool.start(PREFERRED_CHALLENGE="PASSWORD", PASSWORD=PASSWORD)["AuthenticationResult"]
    # SRP through USER_AUTH (ALLOW_USER_SRP_AUTH is off too): PASSWORD_SRP with SRP_A, then PASSWORD_VERIFIER
    client = srp.CognitoSRP(pool.pool_id, "alice", PASSWORD)
    verifier = pool.answer(pool.start(), "SELECT_CHALLENGE", ANSWER="PASSWORD_SRP", SRP_A=client.srp_a)
    assert verifier["ChallengeName"] == "PASSWORD_VERIFIER"
    responses = client.challenge_responses(verifier["ChallengeParameters"], timestamp=lab.clock.now())
    result = pool.idp.respond_to_auth_challenge(ClientId=pool.client_id, ChallengeName="PASSWORD_VERIFIER",
                                                ChallengeResponses=responses)
    assert "AccessToken" in result["AuthenticationResult"]


def test_a_preference_the_user_cannot_use_falls_back_to_the_choice(lab):
    """PREFERRED_CHALLENGE names a factor this user can't use (no passkey): SELECT_CHALLENGE instead."""
    pool = make_pool(lab, factors=ALL_FACTORS)
    response = pool.start(PREFERRED_CHALLENGE="WEB_AUTHN")
    assert response["ChallengeName"] == "SELECT_CHALLENGE" and "WEB_AUTHN" not in response["AvailableChallenges"]


# -- one-time codes -------------------------------------------------------------------------------------
@pytest.mark.parametrize("challenge, address, answer_key", [
    ("EMAIL_OTP", "alice@example.com", "EMAIL_OTP_CODE"), ("SMS_OTP", "+15555550100", "SMS_OTP_CODE")])
def test_a_one_time_code_signs_in(lab, challenge, address, answer_key):
    """EMAIL_OTP / SMS_OTP: "Your user pool will send a code for the user to submit in the next
    challenge response" (EMAIL_OTP_CODE / SMS_OTP_CODE). The code has 8 digits."""
    pool = make_pool(lab)
    sent = pool.answer(pool.start(), "SELECT_CHALLENGE", ANSWER=challenge)
    assert sent["ChallengeName"] == challenge
    assert sent["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == ("EMAIL" if "@" in address else "SMS")
    message = lab.inbox(address).latest
    assert message.code.isdigit() and len(message.code) == OTP_DIGITS == 8
    assert message.code in message.text
    result = pool.answer(sent, challenge, **{answer_key: message.code})
    assert "AccessToken" in result["AuthenticationResult"]
    attrs = {a["Name"]: a["Value"] for a in
             pool.idp.admin_get_user(UserPoolId=pool.pool_id, Username="alice")["UserAttributes"]}
    assert attrs[("email" if "@" in address else "phone_number") + "_verified"] == "true"   # the code proved it


def test_a_wrong_code_is_refused_and_the_session_stays(lab):
    """A wrong code: CodeMismatchException; the right one still works within the session."""
    pool = make_pool(lab)
    sent = pool.start(PREFERRED_CHALLENGE="EMAIL_OTP")
    code = lab.inbox("alice@example.com").latest.code
    wrong = str((int(code) + 1) % 10 ** 8).zfill(8)
    with pytest.raises(ClientError) as excinfo:
        pool.answer(sent, "EMAIL_OTP", EMAIL_OTP_CODE=wrong)
    assert _error(excinfo)[0] == "CodeMismatchException"
    assert "AccessToken" in pool.answer(sent, "EMAIL_OTP", EMAIL_OTP_CODE=code)["AuthenticationResult"]
    with pytest.raises(ClientError) as excinfo:      # a code works once
        pool.answer(sent, "EMAIL_OTP", EMAIL_OTP_CODE=code)
    assert _error(excinfo)[0] == "NotAuthorizedException"


def test_a_code_lives_as_long_as_the_auth_session(lab):
    """The code belongs to the sign-in session: AuthSessionValidity (here 5 minutes) bounds it."""
    pool = make_pool(lab, AuthSessionValidity=5)
    sent = pool.start(PREFERRED_CHALLENGE="EMAIL_OTP")
    code = lab.inbox("alice@example.com").latest.code
    lab.clock.advance(4 * 60 + 50)
    still = pool.start(PREFERRED_CHALLENGE="EMAIL_OTP")      # a second, fresh code for later
    assert "AccessToken" in pool.answer(sent, "EMAIL_OTP", EMAIL_OTP_CODE=code)["AuthenticationResult"]
    later = lab.inbox("alice@example.com").latest.code
    lab.clock.advance(5 * 60 + 1)
    with pytest.raises(ClientError) as excinfo:
        pool.answer(still, "EMAIL_OTP", EMAIL_OTP_CODE=later)
    assert _error(excinfo) == ("NotAuthorizedException", "Invalid session for the user, session is expired.")


def test_a_correct_code_verifies_the_address_and_confirms_the_user(lab):
    """A code that reached the address proves it: email_verified becomes true, and an unconfirmed
    user is confirmed."""
    pool = make_pool(lab)
    pool.idp.sign_up(ClientId=pool.client_id, Username="bob", Password=PASSWORD,
                     UserAttributes=[{"Name": "email", "Value": "bob@example.com"}])
    user = pool.idp.admin_get_user(UserPoolId=pool.pool_id, Username="bob")
    assert user["UserStatus"] == "UNCONFIRMED"
    sent = pool.start("bob", PREFERRED_CHALLENGE="EMAIL_OTP")
    result = pool.idp.respond_to_auth_challenge(
        ClientId=pool.client_id, ChallengeName="EMAIL_OTP", Session=sent["Session"],
        ChallengeResponses={"USERNAME": "bob", "EMAIL_OTP_CODE": lab.inbox("bob@example.com").latest.code})
    assert "AccessToken" in result["AuthenticationResult"]
    user = pool.idp.admin_get_user(UserPoolId=pool.pool_id, Username="bob")
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert user["UserStatus"] == "CONFIRMED" and attrs["email_verified"] == "true"


def test_codes_are_not_offered_when_mfa_is_required(lab):
    """A one-time code as first factor would skip MFA: with MFA required (ON) the pool offers only
    the password; asking for a code falls back to the choice."""
    pool = make_pool(lab, mfa="ON")
    response = pool.start()
    assert response["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP"]
    assert pool.start(PREFERRED_CHALLENGE="EMAIL_OTP")["ChallengeName"] == "SELECT_CHALLENGE"
    assert len(lab.inbox("alice@example.com")) == 0          # no code was sent


def test_password_first_factor_still_meets_mfa(lab):
    """Through USER_AUTH a password is a first factor like any other: MFA follows (MFA_SETUP here)."""
    pool = make_pool(lab, mfa="ON")
    response = pool.start(PREFERRED_CHALLENGE="PASSWORD", PASSWORD=PASSWORD)
    assert response["ChallengeName"] == "MFA_SETUP"


# -- user existence ---------------------------------------------------------------------------------------
def test_unknown_users_get_a_choice_that_looks_real_and_never_succeeds(lab):
    """PreventUserExistenceErrors ENABLED: for choice-based authentication Cognito answers a user who
    doesn't exist with a random selection of challenges; the lab gives the same one every time for
    the same name, and nothing is sent."""
    pool = make_pool(lab)
    first = pool.start("nobody")
    assert first["ChallengeName"] == "SELECT_CHALLENGE"
    assert first["AvailableChallenges"][:2] == ["PASSWORD", "PASSWORD_SRP"]
    assert pool.start("nobody")["AvailableChallenges"] == first["AvailableChallenges"]
    with pytest.raises(ClientError) as excinfo:
        pool.idp.respond_to_auth_challenge(
            ClientId=pool.client_id, ChallengeName="SELECT_CHALLENGE", Session=first["Session"],
            ChallengeResponses={"USERNAME": "nobody", "ANSWER": "PASSWORD", "PASSWORD": PASSWORD})
    assert _error(excinfo) == ("NotAuthorizedException", "Incorrect username or password.")
    # A code asked for an unknown user: a challenge shaped like a real one, nothing sent, never accepted.
    # (each unknown name gets its own selection: take the first of a few names whose selection has EMAIL_OTP)
    name = next(n for n in (f"nobody{i}@example.com" for i in range(40))
                if "EMAIL_OTP" in pool.start(n)["AvailableChallenges"])
    sent = pool.start(name, PREFERRED_CHALLENGE="EMAIL_OTP")
    assert sent["ChallengeName"] == "EMAIL_OTP" and sent["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "EMAIL"
    assert len(lab.inbox(name)) == 0
    with pytest.raises(ClientError) as excinfo:
        pool.idp.respond_to_auth_challenge(ClientId=pool.client_id, ChallengeName="EMAIL_OTP", Session=sent["Session"],
                                           ChallengeResponses={"USERNAME": name, "EMAIL_OTP_CODE": "12345678"})
    assert _error(excinfo)[0] == "CodeMismatchException"      # as for a real user's wrong code


def test_two_labs_with_the_same_seed_give_an_unknown_user_the_same_choice():
    """A notebook run twice (Lab(seed=…)) shows the same decoy selection; another seed, another one."""
    def selections(seed):
        with Lab(seed=seed) as lab:
            pool = make_pool(lab)
            return [pool.start(f"nobody{i}@example.com")["AvailableChallenges"] for i in range(12)]
    first = selections(9)
    assert selections(9) == first
    assert selections(10) != first


def test_legacy_clients_say_the_user_does_not_exist(lab):
    """PreventUserExistenceErrors LEGACY: UserNotFoundException."""
    pool = make_pool(lab, puee="LEGACY")
    with pytest.raises(ClientError) as excinfo:
        pool.start("nobody")
    assert _error(excinfo)[0] == "UserNotFoundException"


# -- sign-up, confirmation, sign-in ---------------------------------------------------------------------
def test_confirm_sign_up_session_signs_the_user_in_once(lab):
    """SignUp's Session passed to ConfirmSignUp returns a Session; InitiateAuth USER_AUTH with it
    "assumes the ... one-time verification password from ConfirmSignUp as the primary authentication
    factor" for the user's first sign-in, once."""
    pool = make_pool(lab)
    pool.idp.update_user_pool(UserPoolId=pool.pool_id, AutoVerifiedAttributes=["email"], Policies={
        "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}})
    signed_up = pool.idp.sign_up(ClientId=pool.client_id, Username="carol", Password=PASSWORD,
                                 UserAttributes=[{"Name": "email", "Value": "carol@example.com"}])
    assert signed_up["Session"]
    code = lab.inbox("carol@example.com").latest.code
    confirmed = pool.idp.confirm_sign_up(ClientId=pool.client_id, Username="carol", ConfirmationCode=code,
                                         Session=signed_up["Session"])
    session = confirmed["Session"]
    result = pool.idp.initiate_auth(ClientId=pool.client_id, AuthFlow="USER_AUTH", Session=session,
                                    AuthParameters={"USERNAME": "carol"})
    assert "AccessToken" in result["AuthenticationResult"]
    with pytest.raises(ClientError) as excinfo:
        pool.idp.initiate_auth(ClientId=pool.client_id, AuthFlow="USER_AUTH", Session=session,
                               AuthParameters={"USERNAME": "carol"})
    assert _error(excinfo)[0] == "NotAuthorizedException"


def test_confirm_sign_up_session_expires_with_the_auth_session(lab):
    """"This option is only valid ... within the authentication flow session duration of the session ID"."""
    pool = make_pool(lab)
    pool.idp.update_user_pool(UserPoolId=pool.pool_id, AutoVerifiedAttributes=["email"], Policies={
        "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD"]}})
    signed_up = pool.idp.sign_up(ClientId=pool.client_id, Username="dan", Password=PASSWORD,
                                 UserAttributes=[{"Name": "email", "Value": "dan@example.com"}])
    confirmed = pool.idp.confirm_sign_up(ClientId=pool.client_id, Username="dan", Session=signed_up["Session"],
                                         ConfirmationCode=lab.inbox("dan@example.com").latest.code)
    lab.clock.advance(3 * 60 + 1)
    with pytest.raises(ClientError) as excinfo:
        pool.idp.initiate_auth(ClientId=pool.client_id, AuthFlow="USER_AUTH", Session=confirmed["Session"],
                               AuthParameters={"USERNAME": "dan"})
    assert _error(excinfo) == ("NotAuthorizedException", "Invalid session for the user, session is expired.")


def test_sign_up_without_allow_user_auth_has_no_session(lab):
    """Only a client that can use the Session (ALLOW_USER_AUTH) gets one from SignUp."""
    pool = make_pool(lab, flows=("ALLOW_USER_PASSWORD_AUTH",))
    signed_up = pool.idp.sign_up(ClientId=pool.client_id, Username="erin", Password=PASSWORD,
                                 UserAttributes=[{"Name": "email", "Value": "erin@example.com"}])
    assert "Session" not in signed_up


# -- passwordless users and their factors -----------------------------------------------------------------
def test_sign_up_without_a_password_when_codes_are_offered(lab):
    """SignUp ``Password``: "Users can sign up without a password when your user pool supports
    passwordless sign-in with email or SMS OTPs"; such a user is offered codes, never a password."""
    pool = make_pool(lab, factors=("PASSWORD", "EMAIL_OTP"))
    pool.idp.sign_up(ClientId=pool.client_id, Username="fay",
                     UserAttributes=[{"Name": "email", "Value": "fay@example.com"}])
    response = pool.start("fay")
    assert response["AvailableChallenges"] == ["EMAIL_OTP"]
    fallback = pool.start("fay", PREFERRED_CHALLENGE="PASSWORD", PASSWORD=PASSWORD)
    assert fallback["ChallengeName"] == "SELECT_CHALLENGE" and "AuthenticationResult" not in fallback
    sent = pool.idp.respond_to_auth_challenge(ClientId=pool.client_id, ChallengeName="SELECT_CHALLENGE",
                                              Session=response["Session"],
                                              ChallengeResponses={"USERNAME": "fay", "ANSWER": "EMAIL_OTP"})
    result = pool.idp.respond_to_auth_challenge(
        ClientId=pool.client_id, ChallengeName="EMAIL_OTP", Session=sent["Session"],
        ChallengeResponses={"USERNAME": "fay", "EMAIL_OTP_CODE": lab.inbox("fay@example.com").latest.code})
    assert "AccessToken" in result["AuthenticationResult"]


def test_sign_up_without_a_password_needs_passwordless_sign_in(lab):
    """"You can only create a passwordless user when passwordless sign-in is available.\""""
    pool = make_pool(lab, factors=("PASSWORD",))
    with pytest.raises(ClientError) as excinfo:
        pool.idp.sign_up(ClientId=pool.client_id, Username="gus",
                         UserAttributes=[{"Name": "email", "Value": "gus@example.com"}])
    assert _error(excinfo)[0] == "InvalidParameterException"


def test_get_user_auth_factors_lists_what_the_user_can_use(lab):
    """GetUserAuthFactors: "The authentication types that are available to the user with USER_AUTH
    sign-in", with the access token of the signed-in user."""
    pool = make_pool(lab, factors=("PASSWORD", "EMAIL_OTP"))
    token = pool.start(PREFERRED_CHALLENGE="PASSWORD", PASSWORD=PASSWORD)["AuthenticationResult"]["AccessToken"]
    factors = pool.idp.get_user_auth_factors(AccessToken=token)
    assert factors["Username"] == "alice"
    assert factors["ConfiguredUserAuthFactors"] == ["PASSWORD", "EMAIL_OTP"]
    assert factors["UserMFASettingList"] == []


def test_admin_initiate_auth_does_user_auth_too(lab):
    """AdminInitiateAuth AuthFlow USER_AUTH (API reference: the same choice-based entry point)."""
    pool = make_pool(lab)
    response = pool.idp.admin_initiate_auth(UserPoolId=pool.pool_id, ClientId=pool.client_id, AuthFlow="USER_AUTH",
                                            AuthParameters={"USERNAME": "alice"})
    assert response["ChallengeName"] == "SELECT_CHALLENGE"
    result = pool.idp.admin_respond_to_auth_challenge(
        UserPoolId=pool.pool_id, ClientId=pool.client_id, ChallengeName="SELECT_CHALLENGE", Session=response["Session"],
        ChallengeResponses={"USERNAME": "alice", "ANSWER": "PASSWORD", "PASSWORD": PASSWORD})
    assert "AccessToken" in result["AuthenticationResult"]


# -- password history (an Essentials feature) ---------------------------------------------------------------
def _pool_with_history(lab, size):
    idp = lab.client("cognito-idp")
    pool_id = idp.create_user_pool(PoolName="history", Policies={"PasswordPolicy": {
        "MinimumLength": 8, "PasswordHistorySize": size}})["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web",
                                            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password="First-Pass-1", Permanent=True)
    return idp, pool_id, client_id


def test_password_history_refuses_a_recent_password(lab):
    """PasswordHistorySize n: "Users can't set a password that matches any of n previous passwords"
    (PasswordHistoryPolicyViolationException), through ChangePassword and AdminSetUserPassword."""
    idp, pool_id, client_id = _pool_with_history(lab, 2)
    token = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={
        "USERNAME": "alice", "PASSWORD": "First-Pass-1"})["AuthenticationResult"]["AccessToken"]
    idp.change_password(AccessToken=token, PreviousPassword="First-Pass-1", ProposedPassword="Second-Pass-2")
    for reused in ("First-Pass-1", "Second-Pass-2"):
        with pytest.raises(ClientError) as excinfo:
            idp.change_password(AccessToken=token, PreviousPassword="Second-Pass-2", ProposedPassword=reused)
        assert _error(excinfo)[0] == "PasswordHistoryPolicyViolationException"
    with pytest.raises(ClientError) as excinfo:
        idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password="First-Pass-1", Permanent=True)
    assert _error(excinfo)[0] == "PasswordHistoryPolicyViolationException"
    idp.change_password(AccessToken=token, PreviousPassword="Second-Pass-2", ProposedPassword="Third-Pass-3")
    # only the last two are remembered: the first may come back now
    idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password="First-Pass-1", Permanent=True)


def test_without_password_history_a_password_may_be_reused(lab):
    """PasswordHistorySize 0 (the default): no history."""
    idp, pool_id, _ = _pool_with_history(lab, 0)
    idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password="First-Pass-1", Permanent=True)


def test_a_reused_password_does_not_burn_the_reset_code(lab):
    """ConfirmForgotPassword with a recent password is refused before the code is used up."""
    idp, pool_id, client_id = _pool_with_history(lab, 3)
    idp.admin_update_user_attributes(UserPoolId=pool_id, Username="alice", UserAttributes=[
        {"Name": "email", "Value": "alice@example.com"}, {"Name": "email_verified", "Value": "true"}])
    idp.forgot_password(ClientId=client_id, Username="alice")
    code = lab.inbox("alice@example.com").latest.code
    with pytest.raises(ClientError) as excinfo:
        idp.confirm_forgot_password(ClientId=client_id, Username="alice", ConfirmationCode=code, Password="First-Pass-1")
    assert _error(excinfo)[0] == "PasswordHistoryPolicyViolationException"
    idp.confirm_forgot_password(ClientId=client_id, Username="alice", ConfirmationCode=code, Password="Fresh-Pass-4")


def test_a_new_password_required_answer_is_checked_against_the_history(lab):
    """RespondToAuthChallenge and AdminRespondToAuthChallenge NEW_PASSWORD_REQUIRED list
    PasswordHistoryPolicyViolationException among their errors (API reference; botocore's model names
    exactly five operations: these two, ChangePassword, ConfirmForgotPassword, AdminSetUserPassword).
    An administrator resets alice to a temporary password; her answer may not be a recent password,
    and the refusal leaves the challenge open for another answer."""
    idp, pool_id, client_id = _pool_with_history(lab, 2)
    idp.update_user_pool_client(UserPoolId=pool_id, ClientId=client_id,
                                ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"])
    for admin in (False, True):
        idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password=f"Temporary-{admin}-9",
                                    Permanent=False)
        auth = {"USERNAME": "alice", "PASSWORD": f"Temporary-{admin}-9"}
        if admin:
            start = idp.admin_initiate_auth(UserPoolId=pool_id, ClientId=client_id,
                                            AuthFlow="ADMIN_USER_PASSWORD_AUTH", AuthParameters=auth)
            respond = lambda session, new: idp.admin_respond_to_auth_challenge(     # noqa: E731
                UserPoolId=pool_id, ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=session,
                ChallengeResponses={"USERNAME": "alice", "NEW_PASSWORD": new})
        else:
            start = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=auth)
            respond = lambda session, new: idp.respond_to_auth_challenge(            # noqa: E731
                ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=session,
                ChallengeResponses={"USERNAME": "alice", "NEW_PASSWORD": new})
        assert start["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
        reused = "First-Pass-1" if not admin else "Fresh-False-5"     # the permanent one before the reset
        with pytest.raises(ClientError) as excinfo:
            respond(start["Session"], reused)
        assert _error(excinfo)[0] == "PasswordHistoryPolicyViolationException"
        result = respond(start["Session"], f"Fresh-{admin}-5")
        assert "AccessToken" in result["AuthenticationResult"]


def test_codes_are_not_offered_to_a_user_with_mfa_active(lab):
    """MFA optional, the user has TOTP on: a code as first factor would skip it, so only the password
    (then SOFTWARE_TOKEN_MFA) is offered (Amplify's passwordless guide: "If a user has MFA configured,
    passwordless sign-in options will not be available")."""
    import pyotp

    pool = make_pool(lab, mfa="OPTIONAL")
    assert "EMAIL_OTP" in pool.start()["AvailableChallenges"]          # no factor yet: codes offered
    token = pool.start(PREFERRED_CHALLENGE="PASSWORD", PASSWORD=PASSWORD)["AuthenticationResult"]["AccessToken"]
    secret = pool.idp.associate_software_token(AccessToken=token)["SecretCode"]
    pool.idp.verify_software_token(AccessToken=token, UserCode=pyotp.TOTP(secret).at(lab.clock.time()))
    pool.idp.set_user_mfa_preference(AccessToken=token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    assert pool.start()["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP"]
    assert pool.start(PREFERRED_CHALLENGE="PASSWORD", PASSWORD=PASSWORD)["ChallengeName"] == "SOFTWARE_TOKEN_MFA"


def test_email_codes_use_the_email_mfa_template_which_needs_essentials(lab):
    """EmailMfaConfiguration "Includes the subject and body of the email message template for sign-in
    and MFA messages"; "To activate this setting, your user pool must be in the Essentials tier or higher"."""
    pool = make_pool(lab)
    pool.idp.set_user_pool_mfa_config(UserPoolId=pool.pool_id, EmailMfaConfiguration={
        "Message": "Your Lab sign-in code: {####}", "Subject": "Sign in to the Lab"})
    assert pool.idp.get_user_pool_mfa_config(UserPoolId=pool.pool_id)["EmailMfaConfiguration"]["Subject"] == \
        "Sign in to the Lab"
    pool.start(PREFERRED_CHALLENGE="EMAIL_OTP")
    message = lab.inbox("alice@example.com").latest
    assert message.text == f"Your Lab sign-in code: {message.code}" and message.subject == "Sign in to the Lab"
    lite = lab.client("cognito-idp").create_user_pool(PoolName="lite", UserPoolTier="LITE")["UserPool"]["Id"]
    with pytest.raises(ClientError) as excinfo:
        pool.idp.set_user_pool_mfa_config(UserPoolId=lite, EmailMfaConfiguration={"Message": "{####}"})
    assert _error(excinfo)[0] == "FeatureUnavailableInTierException"


def test_email_sign_in_codes_count_toward_the_default_senders_daily_quota(lab):
    """COGNITO_DEFAULT sends at most 50 emails a day per account (Quotas in Amazon Cognito): sign-in
    codes are emails like any other; the 51st is refused with LimitExceededException."""
    from labkit.emulator.user_pools.email_quota import DAILY_EMAIL_QUOTA

    pool = make_pool(lab)
    for _ in range(DAILY_EMAIL_QUOTA):
        assert pool.start(PREFERRED_CHALLENGE="EMAIL_OTP")["ChallengeName"] == "EMAIL_OTP"
    with pytest.raises(ClientError) as excinfo:
        pool.start(PREFERRED_CHALLENGE="EMAIL_OTP")
    assert _error(excinfo)[0] == "LimitExceededException"
    assert pool.start(PREFERRED_CHALLENGE="SMS_OTP")["ChallengeName"] == "SMS_OTP"     # texts are not emails


# -- AdminCreateUser without a password ------------------------------------------------------------------
def test_admin_create_user_without_a_password_in_a_passwordless_pool_makes_a_passwordless_user(lab):
    """AdminCreateUser TemporaryPassword: "If you don't specify a value, Amazon Cognito generates one
    for you unless you have passwordless options active for your user pool." The invitation has no
    password; the user signs in with an emailed code and has no password to try."""
    pool = make_pool(lab)
    created = pool.idp.admin_create_user(UserPoolId=pool.pool_id, Username="zoe",
                                         DesiredDeliveryMediums=["EMAIL"], UserAttributes=[
                                             {"Name": "email", "Value": "zoe@example.com"}])["User"]
    assert created["UserStatus"] == "CONFIRMED"          # lab's choice: AWS documents FORCE_CHANGE_PASSWORD only with a password
    invitation = lab.inbox("zoe@example.com").latest
    assert "zoe" in invitation.text and "password" not in invitation.text.lower()
    asked = pool.start("zoe", PREFERRED_CHALLENGE="PASSWORD", PASSWORD="Guess-1234!")
    assert asked["ChallengeName"] == "SELECT_CHALLENGE" and asked["AvailableChallenges"] == ["EMAIL_OTP"]
    sent = pool.start("zoe", PREFERRED_CHALLENGE="EMAIL_OTP")
    code = lab.inbox("zoe@example.com").latest.code
    result = pool.idp.respond_to_auth_challenge(
        ClientId=pool.client_id, ChallengeName="EMAIL_OTP", Session=sent["Session"],
        ChallengeResponses={"USERNAME": "zoe", "EMAIL_OTP_CODE": code})
    assert "AccessToken" in result["AuthenticationResult"]


def test_admin_create_user_keeps_a_temporary_password_when_given_or_when_the_pool_needs_one(lab):
    """With TemporaryPassword, or in a pool without passwordless sign-in, the user has a password
    and is FORCE_CHANGE_PASSWORD, as before."""
    pool = make_pool(lab)
    given = pool.idp.admin_create_user(UserPoolId=pool.pool_id, Username="yan", TemporaryPassword="Temp-Passw0rd!",
                                       MessageAction="SUPPRESS")["User"]
    assert given["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    plain = make_pool(lab, factors=("PASSWORD",))
    made = plain.idp.admin_create_user(UserPoolId=plain.pool_id, Username="xia", DesiredDeliveryMediums=["EMAIL"],
                                       UserAttributes=[{"Name": "email", "Value": "xia@example.com"}])["User"]
    assert made["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    invitation = lab.inbox("xia@example.com").latest
    assert invitation.code and invitation.code in invitation.text     # the temporary password Cognito made
