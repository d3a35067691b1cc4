"""Passkeys end to end through boto3, with the software authenticator playing the learner's phone.

Sources: API reference (SetUserPoolMfaConfig ``WebAuthnConfiguration``, StartWebAuthnRegistration,
CompleteWebAuthnRegistration, ListWebAuthnCredentials, DeleteWebAuthnCredential and their exceptions,
RespondToAuthChallenge WEB_AUTHN with CREDENTIAL), developer guide "Authentication flows"
(amazon-cognito-user-pools-authentication-flow-methods.html, passkey sign-in), W3C WebAuthn
(origin, RP ID hash, UP / UV flags, signature counter). Every assertion is verified by py_webauthn.
"""
import base64
import json
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError

from labkit import Lab
from labkit.cognito.authenticator import SoftwareAuthenticator

PASSWORD = "Correct-Horse-9"
RP_ID = "auth.example.com"
ORIGIN = "https://auth.example.com"


def _error(excinfo) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


@pytest.fixture
def lab():
    with Lab(seed=21) as lab:
        yield lab


def make_pool(lab, *, user_verification="preferred", factors=("PASSWORD", "WEB_AUTHN"), rp_id=RP_ID):
    idp = lab.client("cognito-idp")
    pool_id = idp.create_user_pool(PoolName="passkeys", Policies={
        "SignInPolicy": {"AllowedFirstAuthFactors": list(factors)}})["UserPool"]["Id"]
    config = {"UserVerification": user_verification}
    if rp_id:
        config["RelyingPartyId"] = rp_id
    idp.set_user_pool_mfa_config(UserPoolId=pool_id, WebAuthnConfiguration=config)
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_AUTH"],
                                            PreventUserExistenceErrors="ENABLED")["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "alice@example.com"}])
    idp.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password=PASSWORD, Permanent=True)

    def access_token():
        return idp.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH", AuthParameters={
            "USERNAME": "alice", "PREFERRED_CHALLENGE": "PASSWORD", "PASSWORD": PASSWORD})["AuthenticationResult"]["AccessToken"]

    def register(phone, origin=ORIGIN, **kwargs):
        token = access_token()
        options = idp.start_web_authn_registration(AccessToken=token)["CredentialCreationOptions"]
        idp.complete_web_authn_registration(AccessToken=token, Credential=phone.create(options, origin, **kwargs))
        return token

    def challenge():
        response = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH",
                                     AuthParameters={"USERNAME": "alice", "PREFERRED_CHALLENGE": "WEB_AUTHN"})
        assert response["ChallengeName"] == "WEB_AUTHN"
        return response

    def answer(response, credential):
        return idp.respond_to_auth_challenge(ClientId=client_id, ChallengeName="WEB_AUTHN", Session=response["Session"],
                                             ChallengeResponses={"USERNAME": "alice", "CREDENTIAL": json.dumps(credential)})
    return SimpleNamespace(idp=idp, pool_id=pool_id, client_id=client_id, access_token=access_token,
                           register=register, challenge=challenge, answer=answer)


def _options(response) -> dict:
    return json.loads(response["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# -- configuration ---------------------------------------------------------------------------------
def test_webauthn_configuration_is_kept_and_shown(lab):
    """SetUserPoolMfaConfig WebAuthnConfiguration {RelyingPartyId, UserVerification}; GetUserPoolMfaConfig shows it."""
    pool = make_pool(lab, user_verification="required")
    shown = pool.idp.get_user_pool_mfa_config(UserPoolId=pool.pool_id)
    assert shown["WebAuthnConfiguration"] == {"RelyingPartyId": RP_ID, "UserVerification": "required"}
    assert shown["MfaConfiguration"] == "OFF"


def test_passkeys_need_essentials(lab):
    """Passkeys are an Essentials feature: a Lite pool refuses WebAuthnConfiguration."""
    idp = lab.client("cognito-idp")
    pool_id = idp.create_user_pool(PoolName="lite", UserPoolTier="LITE")["UserPool"]["Id"]
    with pytest.raises(ClientError) as excinfo:
        idp.set_user_pool_mfa_config(UserPoolId=pool_id, WebAuthnConfiguration={"RelyingPartyId": RP_ID})
    assert _error(excinfo)[0] == "FeatureUnavailableInTierException"


def test_a_public_suffix_is_not_a_relying_party(lab):
    """The RP ID must be a domain the pool's owner controls, never a public suffix."""
    idp = lab.client("cognito-idp")
    pool_id = idp.create_user_pool(PoolName="p")["UserPool"]["Id"]
    for rp in ("com", "github.io", "https://auth.example.com"):
        with pytest.raises(ClientError) as excinfo:
            idp.set_user_pool_mfa_config(UserPoolId=pool_id, WebAuthnConfiguration={"RelyingPartyId": rp})
        assert _error(excinfo)[0] == "InvalidParameterException"


def test_without_relying_party_the_pool_domain_is_used_and_without_either_registration_fails(lab):
    """WebAuthnConfigurationMissingException: "a user pool doesn't have a configured relying party id
    or a user pool domain"; with a prefix domain, the RP ID is its host name."""
    pool = make_pool(lab, rp_id=None)
    with pytest.raises(ClientError) as excinfo:
        pool.idp.start_web_authn_registration(AccessToken=pool.access_token())
    assert _error(excinfo)[0] == "WebAuthnConfigurationMissingException"
    pool.idp.create_user_pool_domain(UserPoolId=pool.pool_id, Domain="passkey-lab")
    options = pool.idp.start_web_authn_registration(AccessToken=pool.access_token())["CredentialCreationOptions"]
    assert options["rp"]["id"] == "passkey-lab.auth.us-east-1.amazoncognito.com"


def test_registration_needs_web_authn_in_the_sign_in_policy(lab):
    """WebAuthnNotEnabledException: "the passkey feature isn't enabled for the user pool"."""
    pool = make_pool(lab, factors=("PASSWORD",))
    with pytest.raises(ClientError) as excinfo:
        pool.idp.start_web_authn_registration(AccessToken=pool.access_token())
    assert _error(excinfo)[0] == "WebAuthnNotEnabledException"


# -- registration ------------------------------------------------------------------------------------
def test_register_list_and_delete_a_passkey(lab):
    """StartWebAuthnRegistration gives creation options (RP, user, challenge, ES256/RS256, attestation
    none); CompleteWebAuthnRegistration verifies the response; ListWebAuthnCredentials shows it;
    DeleteWebAuthnCredential removes it."""
    pool = make_pool(lab)
    token = pool.access_token()
    options = pool.idp.start_web_authn_registration(AccessToken=token)["CredentialCreationOptions"]
    assert options["rp"]["id"] == RP_ID and options["user"]["name"] == "alice"
    assert {p["alg"] for p in options["pubKeyCredParams"]} == {-7, -257} and options["attestation"] == "none"
    phone = SoftwareAuthenticator(seed=1)
    pool.idp.complete_web_authn_registration(AccessToken=token, Credential=phone.create(options, ORIGIN))
    listed = pool.idp.list_web_authn_credentials(AccessToken=token)["Credentials"]
    assert [c["CredentialId"] for c in listed] == [phone.credentials[0].id]
    assert listed[0]["RelyingPartyId"] == RP_ID and listed[0]["AuthenticatorAttachment"] == "platform"
    pool.idp.delete_web_authn_credential(AccessToken=token, CredentialId=listed[0]["CredentialId"])
    assert pool.idp.list_web_authn_credentials(AccessToken=token)["Credentials"] == []
    with pytest.raises(ClientError) as excinfo:
        pool.idp.delete_web_authn_credential(AccessToken=token, CredentialId=listed[0]["CredentialId"])
    assert _error(excinfo)[0] == "ResourceNotFoundException"


def test_passkey_actions_need_a_valid_access_token(lab):
    """"Authorize this action with a signed-in user's access token.\""""
    pool = make_pool(lab)
    token = pool.access_token()
    pool.idp.global_sign_out(AccessToken=token)
    with pytest.raises(ClientError) as excinfo:
        pool.idp.start_web_authn_registration(AccessToken=token)
    assert _error(excinfo)[0] == "NotAuthorizedException"


def test_registration_at_another_origin_is_refused(lab):
    """WebAuthnOriginNotAllowedException: the registration origin "does not align with the user pool
    relying party id"."""
    pool = make_pool(lab)
    token = pool.access_token()
    options = pool.idp.start_web_authn_registration(AccessToken=token)["CredentialCreationOptions"]
    with pytest.raises(ClientError) as excinfo:
        pool.idp.complete_web_authn_registration(
            AccessToken=token, Credential=SoftwareAuthenticator(seed=2).create(options, "https://evil.example"))
    assert _error(excinfo)[0] == "WebAuthnOriginNotAllowedException"


def test_a_passkey_made_for_another_relying_party_is_refused(lab):
    """WebAuthnRelyingPartyMismatchException: "the given passkey credential is associated with a
    different relying party ID" (the RP ID hash in the authenticator data)."""
    pool = make_pool(lab)
    token = pool.access_token()
    options = pool.idp.start_web_authn_registration(AccessToken=token)["CredentialCreationOptions"]
    with pytest.raises(ClientError) as excinfo:
        pool.idp.complete_web_authn_registration(
            AccessToken=token, Credential=SoftwareAuthenticator(seed=3).create(options, ORIGIN, rp_id="example.org"))
    assert _error(excinfo)[0] == "WebAuthnRelyingPartyMismatchException"


def test_registration_without_start_or_after_expiry_is_refused(lab):
    """WebAuthnChallengeNotFoundException: "the challenge from StartWebAuthn registration has expired"."""
    pool = make_pool(lab)
    token = pool.access_token()
    options = pool.idp.start_web_authn_registration(AccessToken=token)["CredentialCreationOptions"]
    lab.clock.advance(10 * 60)
    with pytest.raises(ClientError) as excinfo:
        pool.idp.complete_web_authn_registration(AccessToken=pool.access_token(),
                                                 Credential=SoftwareAuthenticator(seed=4).create(options, ORIGIN))
    assert _error(excinfo)[0] == "WebAuthnChallengeNotFoundException"


def test_required_user_verification_refuses_an_authenticator_without_it(lab):
    """UserVerification required: "users can only register and sign in ... with passkeys that are
    capable of user verification" (the UV flag)."""
    pool = make_pool(lab, user_verification="required")
    with pytest.raises(ClientError) as excinfo:
        pool.register(SoftwareAuthenticator(seed=5, user_verified=False))
    assert _error(excinfo)[0] == "InvalidParameterException" and "verif" in _error(excinfo)[1].lower()


# -- sign-in -------------------------------------------------------------------------------------------
def test_sign_in_with_a_passkey(lab):
    """USER_AUTH offers WEB_AUTHN once the user has a passkey; the WEB_AUTHN challenge carries
    CREDENTIAL_REQUEST_OPTIONS; the authenticator's assertion as CREDENTIAL gives tokens."""
    pool = make_pool(lab)
    phone = SoftwareAuthenticator(seed=6)
    assert "WEB_AUTHN" not in pool.idp.initiate_auth(ClientId=pool.client_id, AuthFlow="USER_AUTH", AuthParameters={
        "USERNAME": "alice"})["AvailableChallenges"]
    pool.register(phone)
    choice = pool.idp.initiate_auth(ClientId=pool.client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": "alice"})
    assert "WEB_AUTHN" in choice["AvailableChallenges"]
    response = pool.challenge()
    options = _options(response)
    assert options["rpId"] == RP_ID and [c["id"] for c in options["allowCredentials"]] == [phone.credentials[0].id]
    result = pool.answer(response, phone.get(options, ORIGIN))
    assert "AccessToken" in result["AuthenticationResult"]


def test_select_challenge_web_authn_leads_to_the_options(lab):
    """ANSWER WEB_AUTHN in SELECT_CHALLENGE: the WEB_AUTHN challenge follows."""
    pool = make_pool(lab)
    phone = SoftwareAuthenticator(seed=7)
    pool.register(phone)
    choice = pool.idp.initiate_auth(ClientId=pool.client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": "alice"})
    response = pool.idp.respond_to_auth_challenge(ClientId=pool.client_id, ChallengeName="SELECT_CHALLENGE",
                                                  Session=choice["Session"],
                                                  ChallengeResponses={"USERNAME": "alice", "ANSWER": "WEB_AUTHN"})
    assert response["ChallengeName"] == "WEB_AUTHN"
    assert "AccessToken" in pool.answer(response, phone.get(_options(response), ORIGIN))["AuthenticationResult"]


def test_phishing_an_assertion_made_at_another_origin_is_refused(lab):
    """Phishing resistance: a look-alike site that relays Cognito's options gets an assertion whose
    client data names its own origin, and Cognito refuses it."""
    pool = make_pool(lab)
    phone = SoftwareAuthenticator(seed=8)
    pool.register(phone)
    response = pool.challenge()
    with pytest.raises(ClientError) as excinfo:
        pool.answer(response, phone.get(_options(response), "https://auth.example.com.evil.example"))
    code, message = _error(excinfo)
    assert code == "NotAuthorizedException" and "evil.example" in message


def test_an_assertion_for_another_relying_party_is_refused(lab):
    """The RP ID hash in the authenticator data must be the pool's RP ID."""
    pool = make_pool(lab)
    phone = SoftwareAuthenticator(seed=9)
    pool.register(phone)
    response = pool.challenge()
    with pytest.raises(ClientError) as excinfo:
        pool.answer(response, phone.get(_options(response), ORIGIN, rp_id="example.org"))
    assert _error(excinfo)[0] == "NotAuthorizedException" and "RP ID" in _error(excinfo)[1]


def test_the_authenticator_has_no_passkey_for_another_site(lab):
    """A passkey is scoped to its RP ID: options from another relying party find nothing to sign with."""
    pool = make_pool(lab)
    phone = SoftwareAuthenticator(seed=10)
    pool.register(phone)
    options = _options(pool.challenge())
    options["rpId"] = "evil.example"
    with pytest.raises(LookupError):
        phone.get(options, "https://evil.example")


def test_a_tampered_signature_is_refused(lab):
    """The signature over authenticator data and client-data hash is verified with the registered key."""
    pool = make_pool(lab)
    phone = SoftwareAuthenticator(seed=11)
    pool.register(phone)
    response = pool.challenge()
    assertion = phone.get(_options(response), ORIGIN)
    signature = bytearray(_unb64(assertion["response"]["signature"]))
    signature[-1] ^= 0x01
    assertion["response"]["signature"] = _b64(bytes(signature))
    with pytest.raises(ClientError) as excinfo:
        pool.answer(response, assertion)
    assert _error(excinfo)[0] == "NotAuthorizedException" and "signature" in _error(excinfo)[1]


def test_a_replayed_assertion_is_refused(lab):
    """An assertion answers one challenge: replayed against a new WEB_AUTHN challenge (or the used
    session) it is refused."""
    pool = make_pool(lab)
    phone = SoftwareAuthenticator(seed=12)
    pool.register(phone)
    first = pool.challenge()
    assertion = phone.get(_options(first), ORIGIN)
    assert "AccessToken" in pool.answer(first, assertion)["AuthenticationResult"]
    with pytest.raises(ClientError) as excinfo:
        pool.answer(first, assertion)
    assert _error(excinfo)[0] == "NotAuthorizedException"
    second = pool.challenge()
    with pytest.raises(ClientError) as excinfo:
        pool.answer(second, assertion)
    assert _error(excinfo)[0] == "NotAuthorizedException" and "challenge" in _error(excinfo)[1].lower()


def test_a_sign_count_that_does_not_grow_is_refused(lab):
    """A signature counter that goes back means a cloned authenticator: refused."""
    pool = make_pool(lab)
    phone = SoftwareAuthenticator(seed=13)
    pool.register(phone)
    response = pool.challenge()
    assert "AccessToken" in pool.answer(response, phone.get(_options(response), ORIGIN))["AuthenticationResult"]
    phone.credentials[0].sign_count = 0           # a clone that starts from the registration's count
    response = pool.challenge()
    with pytest.raises(ClientError) as excinfo:
        pool.answer(response, phone.get(_options(response), ORIGIN))
    assert _error(excinfo)[0] == "NotAuthorizedException" and "count" in _error(excinfo)[1].lower()


def test_required_user_verification_refuses_an_assertion_without_it(lab):
    """UserVerification required: an assertion without the UV flag is refused."""
    pool = make_pool(lab, user_verification="required")
    phone = SoftwareAuthenticator(seed=14)
    pool.register(phone)
    phone.user_verified = False
    response = pool.challenge()
    with pytest.raises(ClientError) as excinfo:
        pool.answer(response, phone.get(_options(response), ORIGIN))
    assert _error(excinfo)[0] == "NotAuthorizedException" and "verif" in _error(excinfo)[1]


def test_a_deleted_passkey_no_longer_signs_in(lab):
    """DeleteWebAuthnCredential: the passkey is gone from sign-in too."""
    pool = make_pool(lab)
    phone = SoftwareAuthenticator(seed=15)
    token = pool.register(phone)
    response = pool.challenge()
    options = _options(response)
    pool.idp.delete_web_authn_credential(AccessToken=token, CredentialId=phone.credentials[0].id)
    with pytest.raises(ClientError) as excinfo:
        pool.answer(response, phone.get(options, ORIGIN))
    assert _error(excinfo)[0] == "NotAuthorizedException" and "not registered" in _error(excinfo)[1]
