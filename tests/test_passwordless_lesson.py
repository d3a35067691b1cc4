"""Lesson 09's helpers (labkit/course/passwordless.py): the factor table, the choice screen, and the
decoded passkey assertion, checked against real answers from the lab."""
import hashlib
import json

import pytest

from labkit import Lab
from labkit.cognito.authenticator import SoftwareAuthenticator
from labkit.course import costs
from labkit.course.passwordless import (FACTORS, SCREEN_LABELS, authenticator_data, client_data,
                                        describe_assertion, factor_table, relying_party_accepts,
                                        sign_in_screen)

RP = "shop.example.com"


@pytest.fixture(scope="module")
def signed():
    """A pool with every first factor, maya with a registered passkey, and one WEB_AUTHN challenge."""
    with Lab(seed=9) as lab:
        idp = lab.client("cognito-idp")
        pool_id = idp.create_user_pool(PoolName="shop", Policies={"SignInPolicy": {
            "AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP", "WEB_AUTHN"]}})["UserPool"]["Id"]
        idp.set_user_pool_mfa_config(UserPoolId=pool_id, WebAuthnConfiguration={"RelyingPartyId": RP})
        client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web",
                                                ExplicitAuthFlows=["ALLOW_USER_AUTH"])["UserPoolClient"]["ClientId"]
        idp.admin_create_user(UserPoolId=pool_id, Username="maya", MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": "maya@example.com"}])
        idp.admin_set_user_password(UserPoolId=pool_id, Username="maya", Password="Correct-Horse-9", Permanent=True)
        token = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH", AuthParameters={
            "USERNAME": "maya", "PREFERRED_CHALLENGE": "PASSWORD",
            "PASSWORD": "Correct-Horse-9"})["AuthenticationResult"]["AccessToken"]
        phone = SoftwareAuthenticator(seed=1)
        options = idp.start_web_authn_registration(AccessToken=token)["CredentialCreationOptions"]
        idp.complete_web_authn_registration(AccessToken=token, Credential=phone.create(options, f"https://{RP}"))
        choice = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": "maya"})
        challenge = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH", AuthParameters={
            "USERNAME": "maya", "PREFERRED_CHALLENGE": "WEB_AUTHN"})
        request = json.loads(challenge["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"])
        yield {"choice": choice, "request": request, "phone": phone}


def test_factor_table_covers_every_first_factor_and_keeps_to_100_columns():
    table = factor_table()
    names = table.column("factor")
    assert names == [f.name for f in FACTORS]
    assert max(len(line) for line in table.text().splitlines()) <= 100
    passkey = dict(zip(table.columns, table.rows[names.index("Passkey")]))
    assert passkey["phishable?"].startswith("no") and passkey["per sign-in"] == "nothing"
    assert all(dict(zip(table.columns, row))["phishable?"].startswith("yes") for row in table.rows
               if row[0] != "Passkey")
    # the message costs come from the pricing file's notes, not from this module
    assert costs.pricing()["messages"]["passkey"]["per_message"] == 0
    assert "SES" in dict(zip(table.columns, table.rows[names.index("Email code")]))["per sign-in"]


def test_the_choice_screen_shows_what_cognito_offers_the_user(signed):
    screen = sign_in_screen(signed["choice"], "maya")
    assert list(screen.challenges) == signed["choice"]["AvailableChallenges"]
    assert "WEB_AUTHN" in screen.challenges and SCREEN_LABELS["WEB_AUTHN"] in repr(screen)
    widths = {len(line) for line in repr(screen).splitlines()}
    assert len(widths) == 1 and widths.pop() <= 100       # a closed box
    with pytest.raises(ValueError, match="PREFERRED_CHALLENGE"):
        sign_in_screen({"ChallengeName": "EMAIL_OTP"})


def test_an_assertion_at_the_right_origin_passes_every_visible_check(signed):
    assertion = signed["phone"].get(signed["request"], f"https://{RP}")
    data = client_data(assertion)
    assert data["type"] == "webauthn.get" and data["origin"] == f"https://{RP}"
    assert data["challenge"] == signed["request"]["challenge"]
    auth = authenticator_data(assertion)
    assert auth["rp_id_hash"] == hashlib.sha256(RP.encode()).hexdigest() and auth["user_present"]
    table = describe_assertion(assertion, RP, challenge=signed["request"]["challenge"])
    assert table.column("verdict")[:5] == ["ok"] * 5
    assert max(len(line) for line in table.text().splitlines()) <= 100


def test_a_phished_assertion_shows_the_look_alike_origin(signed):
    assertion = signed["phone"].get(signed["request"], f"https://{RP}.evil.example")
    verdicts = dict(zip(describe_assertion(assertion, RP).column("field"),
                        describe_assertion(assertion, RP).column("verdict")))
    assert verdicts["clientData.origin"] == "REFUSED" and verdicts["rpIdHash"] == "ok"


def test_the_origin_rule():
    assert relying_party_accepts(f"https://{RP}", RP)
    assert relying_party_accepts(f"https://www.{RP}", RP)
    assert not relying_party_accepts(f"http://{RP}", RP)
    assert not relying_party_accepts(f"https://{RP}.evil.example", RP)
    assert not relying_party_accepts("https://evilshop.example.com", RP)
