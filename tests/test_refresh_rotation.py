"""Refresh-token rotation and GetTokensFromRefreshToken, through plain boto3.

Sources: API reference, RefreshTokenRotationType ("When enabled, your app client issues new ID,
access, and refresh tokens ... When disabled, token refresh issues only ID and access tokens";
RetryGracePeriodSeconds 0–60, "When RetryGracePeriodSeconds is 0, the grace period is disabled and a
successful request immediately invalidates the submitted refresh token"), GetTokensFromRefreshToken
and RefreshTokenReuseException; developer guide, "Refresh tokens" ("You can't authenticate with
REFRESH_TOKEN_AUTH in app clients with refresh token rotation enabled"; the token endpoint's
refresh_token grant issues "optionally (with refresh token rotation) refresh tokens"); What's New,
April 2025 (rotation for the Essentials and Plus plans); AWS re:Post "Rotated Refresh Token Validity"
(a rotated token keeps the original expiry). Where the documents are silent, the lab's choices are
named in labkit/emulator/user_pools/rotation.py and README.
"""
from __future__ import annotations

import json

import jwt
import pytest
import requests
from botocore.exceptions import ParamValidationError

from labkit import Lab
from labkit.cognito import session as cognito_session
from labkit.course.triggers import deploy_function
from cognito_errors import error_of

PASSWORD = "Correct-Horse-9"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


@pytest.fixture(scope="module")
def lab():
    with Lab(seed=512) as lab:
        lab.clock.freeze()              # grace periods are counted in whole seconds: only advance() moves time
        yield lab


_names = iter(range(10_000))


class Pool:
    """A pool (plan ``tier``) with the user alice and ``client(**settings)`` for app clients."""

    def __init__(self, lab, tier: str = "ESSENTIALS", **settings) -> None:
        self.lab, self.idp = lab, lab.client("cognito-idp")
        self.pool_id = self.idp.create_user_pool(PoolName=f"rot{next(_names)}", UserPoolTier=tier,
                                                 **settings)["UserPool"]["Id"]
        self.idp.admin_create_user(UserPoolId=self.pool_id, Username="alice", MessageAction="SUPPRESS")
        self.idp.admin_set_user_password(UserPoolId=self.pool_id, Username="alice", Password=PASSWORD, Permanent=True)

    def client(self, rotation: dict | None = None, **settings) -> dict:
        extra = {"RefreshTokenRotation": rotation} if rotation is not None else {}
        return self.idp.create_user_pool_client(UserPoolId=self.pool_id, ClientName=f"web{next(_names)}",
                                                ExplicitAuthFlows=FLOWS, **extra, **settings)["UserPoolClient"]

    def sign_in(self, client: dict) -> dict:
        kwargs = {}
        if client.get("ClientSecret"):
            kwargs["SECRET_HASH"] = cognito_session.secret_hash("alice", client["ClientId"], client["ClientSecret"])
        return self.idp.initiate_auth(ClientId=client["ClientId"], AuthFlow="USER_PASSWORD_AUTH", AuthParameters={
            "USERNAME": "alice", "PASSWORD": PASSWORD, **kwargs})["AuthenticationResult"]

    def get_tokens(self, client: dict, refresh_token: str, **kwargs) -> dict:
        return self.idp.get_tokens_from_refresh_token(ClientId=client["ClientId"], RefreshToken=refresh_token,
                                                      **kwargs)["AuthenticationResult"]


def rotating(grace: int) -> dict:
    return {"Feature": "ENABLED", "RetryGracePeriodSeconds": grace}


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


# -- the app-client setting ---------------------------------------------------------------------
def test_the_setting_round_trips_through_create_update_and_describe(lab):
    pool = Pool(lab)
    client = pool.client(rotating(10))
    assert client["RefreshTokenRotation"] == {"Feature": "ENABLED", "RetryGracePeriodSeconds": 10}
    described = pool.idp.describe_user_pool_client(UserPoolId=pool.pool_id, ClientId=client["ClientId"])
    assert described["UserPoolClient"]["RefreshTokenRotation"] == {"Feature": "ENABLED", "RetryGracePeriodSeconds": 10}
    pool.idp.update_user_pool_client(UserPoolId=pool.pool_id, ClientId=client["ClientId"], ExplicitAuthFlows=FLOWS,
                                     RefreshTokenRotation={"Feature": "DISABLED"})
    described = pool.idp.describe_user_pool_client(UserPoolId=pool.pool_id, ClientId=client["ClientId"])
    assert described["UserPoolClient"]["RefreshTokenRotation"] == {"Feature": "DISABLED"}


def test_an_update_that_leaves_the_setting_out_turns_rotation_off(lab):
    """UpdateUserPoolClient resets what the request leaves out (API reference): an update that only
    meant to change the callback URLs also stops rotation, and REFRESH_TOKEN_AUTH works again."""
    pool = Pool(lab)
    client = pool.client(rotating(5))
    pool.idp.update_user_pool_client(UserPoolId=pool.pool_id, ClientId=client["ClientId"], ExplicitAuthFlows=FLOWS)
    described = pool.idp.describe_user_pool_client(UserPoolId=pool.pool_id, ClientId=client["ClientId"])
    assert described["UserPoolClient"].get("RefreshTokenRotation", {"Feature": "DISABLED"})["Feature"] == "DISABLED"
    refresh = pool.sign_in(client)["RefreshToken"]
    assert "RefreshToken" not in pool.get_tokens(client, refresh)
    assert "AccessToken" in pool.idp.initiate_auth(ClientId=client["ClientId"], AuthFlow="REFRESH_TOKEN_AUTH",
                                                   AuthParameters={"REFRESH_TOKEN": refresh})["AuthenticationResult"]


@pytest.mark.parametrize("rotation, where", [
    ({"Feature": "ENABLED", "RetryGracePeriodSeconds": 61}, "refreshTokenRotation.retryGracePeriodSeconds"),
    ({"Feature": "ON"}, "refreshTokenRotation.feature"),
])
def test_out_of_range_or_unknown_values_are_refused_by_the_service_model(lab, rotation, where):
    """The model's ranges: RetryGracePeriodSeconds 0–60, Feature ENABLED | DISABLED (boto3 checks
    neither the maximum nor the enum; the service answers InvalidParameterException)."""
    pool = Pool(lab)
    code, message = error_of(pool.client, rotation)
    assert code == "InvalidParameterException" and where in message


def test_boto3_itself_refuses_a_missing_feature_and_a_negative_grace_period(lab):
    pool = Pool(lab)
    with pytest.raises(ParamValidationError, match="Feature"):
        pool.client({"RetryGracePeriodSeconds": 5})
    with pytest.raises(ParamValidationError, match="valid min value: 0"):
        pool.client(rotating(-1))


def test_rotation_needs_the_essentials_plan(lab):
    """A Lite pool can't turn rotation on (FeatureUnavailableInTierException); DISABLED is fine, and
    Plus includes Essentials."""
    lite = Pool(lab, tier="LITE")
    code, message = error_of(lite.client, rotating(5))
    assert code == "FeatureUnavailableInTierException" and "Essentials" in message
    plain = lite.client({"Feature": "DISABLED"})
    code, _ = error_of(lite.idp.update_user_pool_client, UserPoolId=lite.pool_id, ClientId=plain["ClientId"],
                       ExplicitAuthFlows=FLOWS, RefreshTokenRotation=rotating(5))
    assert code == "FeatureUnavailableInTierException"
    assert Pool(lab, tier="PLUS").client(rotating(5))["RefreshTokenRotation"]["Feature"] == "ENABLED"


def test_a_pool_moved_to_lite_stops_rotating(lab):
    """The client was configured on Essentials; after UpdateUserPool to LITE, a refresh that would
    rotate uses a feature above the plan."""
    pool = Pool(lab)
    client = pool.client(rotating(5))
    tokens = pool.sign_in(client)
    pool.idp.update_user_pool(UserPoolId=pool.pool_id, UserPoolTier="LITE")
    code, _ = error_of(pool.get_tokens, client, tokens["RefreshToken"])
    assert code == "FeatureUnavailableInTierException"


# -- rotation off -------------------------------------------------------------------------------
def test_without_rotation_new_id_and_access_tokens_only_and_the_token_keeps_working(lab):
    pool = Pool(lab)
    client = pool.client()                       # never configured: rotation off
    tokens = pool.sign_in(client)
    first = pool.get_tokens(client, tokens["RefreshToken"])
    assert set(first) == {"AccessToken", "IdToken", "ExpiresIn", "TokenType"}
    assert claims(first["AccessToken"])["origin_jti"] == claims(tokens["AccessToken"])["origin_jti"]
    lab.clock.advance(minutes=5)
    assert "RefreshToken" not in pool.get_tokens(client, tokens["RefreshToken"])
    # REFRESH_TOKEN_AUTH still works too
    again = pool.idp.initiate_auth(ClientId=client["ClientId"], AuthFlow="REFRESH_TOKEN_AUTH",
                                   AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})
    assert "AccessToken" in again["AuthenticationResult"]


# -- rotation on --------------------------------------------------------------------------------
def test_with_rotation_a_new_refresh_token_each_time(lab):
    pool = Pool(lab)
    client = pool.client(rotating(0))
    tokens = pool.sign_in(client)
    first = pool.get_tokens(client, tokens["RefreshToken"])
    assert set(first) == {"AccessToken", "IdToken", "ExpiresIn", "TokenType", "RefreshToken"}
    assert first["RefreshToken"] != tokens["RefreshToken"]
    second = pool.get_tokens(client, first["RefreshToken"])
    assert second["RefreshToken"] not in (first["RefreshToken"], tokens["RefreshToken"])
    assert pool.idp.get_user(AccessToken=second["AccessToken"])["Username"] == "alice"
    # one session: the sign-in's origin_jti and auth_time carry through the rotations
    assert {claims(t["AccessToken"])["origin_jti"] for t in (tokens, first, second)} == {
        claims(tokens["AccessToken"])["origin_jti"]}
    assert claims(second["IdToken"])["auth_time"] == claims(tokens["IdToken"])["auth_time"]


def test_grace_period_zero_refuses_the_old_token_at_once(lab):
    pool = Pool(lab)
    client = pool.client(rotating(0))
    tokens = pool.sign_in(client)
    pool.get_tokens(client, tokens["RefreshToken"])
    code, _ = error_of(pool.get_tokens, client, tokens["RefreshToken"])
    assert code == "RefreshTokenReuseException"


def test_the_old_token_works_until_the_grace_period_ends_then_never(lab):
    """RetryGracePeriodSeconds 10: a retry 9 s later still works (and rotates again); at 10 s the
    token is refused, and the tokens already rotated from it keep working."""
    pool = Pool(lab)
    client = pool.client(rotating(10))
    tokens = pool.sign_in(client)
    first = pool.get_tokens(client, tokens["RefreshToken"])
    lab.clock.advance(9)
    retry = pool.get_tokens(client, tokens["RefreshToken"])
    assert retry["RefreshToken"] not in (first["RefreshToken"], tokens["RefreshToken"])
    lab.clock.advance(1)
    code, _ = error_of(pool.get_tokens, client, tokens["RefreshToken"])
    assert code == "RefreshTokenReuseException"
    assert "RefreshToken" in pool.get_tokens(client, first["RefreshToken"])
    assert "RefreshToken" in pool.get_tokens(client, retry["RefreshToken"])


def test_refresh_token_auth_is_refused_on_a_rotating_client(lab):
    """InitiateAuth and AdminInitiateAuth, REFRESH_TOKEN_AUTH and its alias REFRESH_TOKEN."""
    pool = Pool(lab)
    client = pool.client(rotating(5))
    refresh = pool.sign_in(client)["RefreshToken"]
    for flow in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
        code, message = error_of(pool.idp.initiate_auth, ClientId=client["ClientId"], AuthFlow=flow,
                                 AuthParameters={"REFRESH_TOKEN": refresh})
        assert code == "InvalidParameterException" and "GetTokensFromRefreshToken" in message
        code, _ = error_of(pool.idp.admin_initiate_auth, UserPoolId=pool.pool_id, ClientId=client["ClientId"],
                           AuthFlow=flow, AuthParameters={"REFRESH_TOKEN": refresh})
        assert code == "InvalidParameterException"
    assert "RefreshToken" in pool.get_tokens(client, refresh)       # the refused calls used nothing up


def test_a_rotated_token_expires_when_the_sign_in_s_would(lab):
    """RefreshTokenValidity 60 minutes counts from the sign-in: rotating does not extend it."""
    pool = Pool(lab)
    client = pool.client(rotating(0), RefreshTokenValidity=60, TokenValidityUnits={"RefreshToken": "minutes"})
    tokens = pool.sign_in(client)
    lab.clock.advance(minutes=59)
    rotated = pool.get_tokens(client, tokens["RefreshToken"])
    lab.clock.advance(minutes=1)
    code, message = error_of(pool.get_tokens, client, rotated["RefreshToken"])
    assert (code, message) == ("NotAuthorizedException", "Refresh Token has expired")


def test_revoking_any_token_of_a_rotated_family_ends_the_whole_session(lab):
    """RevokeToken on the newest refresh token: it, the one it replaced (even within its grace
    period) and every access token issued along the way are refused."""
    pool = Pool(lab)
    client = pool.client(rotating(60))
    tokens = pool.sign_in(client)
    rotated = pool.get_tokens(client, tokens["RefreshToken"])
    pool.idp.revoke_token(ClientId=client["ClientId"], Token=rotated["RefreshToken"])
    for refresh in (tokens["RefreshToken"], rotated["RefreshToken"]):
        assert error_of(pool.get_tokens, client, refresh) == ("NotAuthorizedException", "Refresh Token has been revoked")
    for access in (tokens["AccessToken"], rotated["AccessToken"]):
        assert error_of(pool.idp.get_user, AccessToken=access) == ("NotAuthorizedException",
                                                                    "Access Token has been revoked")


def test_another_session_of_the_same_user_is_not_affected_but_global_sign_out_ends_all(lab):
    """RevokeToken ends one session (developer guide, "Revoking tokens": "The other refresh tokens
    issued to the user are not affected"); GlobalSignOut ends every one, rotated tokens included."""
    pool = Pool(lab)
    client = pool.client(rotating(0))
    phone, laptop = pool.sign_in(client), pool.sign_in(client)
    pool.idp.revoke_token(ClientId=client["ClientId"], Token=pool.get_tokens(client, phone["RefreshToken"])["RefreshToken"])
    laptop_now = pool.get_tokens(client, laptop["RefreshToken"])
    pool.idp.global_sign_out(AccessToken=laptop_now["AccessToken"])
    assert error_of(pool.get_tokens, client, laptop_now["RefreshToken"]) == ("NotAuthorizedException",
                                                                             "Refresh Token has been revoked")


# -- GetTokensFromRefreshToken's other checks ---------------------------------------------------------
def test_the_token_belongs_to_its_client_and_a_secret_client_needs_its_secret(lab):
    pool = Pool(lab)
    web, other = pool.client(rotating(0)), pool.client(rotating(0))
    server = pool.client(rotating(0), GenerateSecret=True)
    refresh = pool.sign_in(web)["RefreshToken"]
    assert error_of(pool.get_tokens, other, refresh) == ("NotAuthorizedException", "Invalid Refresh Token")
    assert error_of(pool.get_tokens, web, "not-a-token") == ("NotAuthorizedException", "Invalid Refresh Token")
    code, _ = error_of(pool.idp.get_tokens_from_refresh_token, ClientId="nosuchclient1", RefreshToken=refresh)
    assert code == "ResourceNotFoundException"
    server_refresh = pool.sign_in(server)["RefreshToken"]
    assert error_of(pool.get_tokens, server, server_refresh)[0] == "NotAuthorizedException"
    assert error_of(pool.get_tokens, server, server_refresh, ClientSecret="x" * 51)[0] == "NotAuthorizedException"
    assert "RefreshToken" in pool.get_tokens(server, server_refresh, ClientSecret=server["ClientSecret"])


def test_the_refresh_flow_setting_is_not_needed_for_get_tokens(lab):
    """The guide tells you to turn REFRESH_TOKEN_AUTH off for rotation: GetTokensFromRefreshToken
    works on a client without ALLOW_REFRESH_TOKEN_AUTH."""
    pool = Pool(lab)
    client = pool.idp.create_user_pool_client(UserPoolId=pool.pool_id, ClientName="no-refresh-flow",
                                              ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
                                              RefreshTokenRotation=rotating(0))["UserPoolClient"]
    assert "RefreshToken" in pool.get_tokens(client, pool.sign_in(client)["RefreshToken"])


def test_a_disabled_user_cannot_refresh(lab):
    pool = Pool(lab)
    client = pool.client(rotating(0))
    refresh = pool.sign_in(client)["RefreshToken"]
    pool.idp.admin_disable_user(UserPoolId=pool.pool_id, Username="alice")
    assert error_of(pool.get_tokens, client, refresh) == ("NotAuthorizedException", "User is disabled.")


PRE_TOKEN = """
import json
def handler(event, context):
    print('EVENT ' + json.dumps(event))
    event['response'] = {'claimsOverrideDetails': {'claimsToAddOrOverride': {
        'refreshed_by': event['request'].get('clientMetadata', {}).get('app', 'none')}}}
    return event
"""


def test_pre_token_generation_runs_with_client_metadata(lab):
    """The trigger runs for a rotation with triggerSource TokenGeneration_RefreshTokens and receives
    ClientMetadata (GetTokensFromRefreshToken reference)."""
    arn = deploy_function(lab, PRE_TOKEN, name="rotation-pre-token")
    pool = Pool(lab, LambdaConfig={"PreTokenGeneration": arn})
    client = pool.client(rotating(0))
    tokens = pool.sign_in(client)
    rotated = pool.get_tokens(client, tokens["RefreshToken"], ClientMetadata={"app": "mobile-2.1"})
    assert claims(rotated["IdToken"])["refreshed_by"] == "mobile-2.1"
    sent = [json.loads(line.message[6:]) for line in lab.lambda_logs("rotation-pre-token")
            if line.message.startswith("EVENT ")]
    assert [e["triggerSource"] for e in sent] == ["TokenGeneration_Authentication", "TokenGeneration_RefreshTokens"]


# -- the token endpoint -------------------------------------------------------------------------
def test_the_token_endpoint_rotates_too(lab):
    """grant_type=refresh_token on a rotating client answers a new refresh_token; the old one is
    invalid_grant once the grace period is over."""
    pool = Pool(lab)
    pool.idp.create_user_pool_domain(UserPoolId=pool.pool_id, Domain=f"rot-{next(_names)}")
    client = pool.client(rotating(5), AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
                         AllowedOAuthScopes=["openid"], SupportedIdentityProviders=["COGNITO"],
                         CallbackURLs=["http://localhost:8080/callback"])
    conf = requests.get(f"{lab.endpoint_url}/{pool.pool_id}/.well-known/openid-configuration").json()
    tokens = pool.sign_in(client)

    def refresh(token):
        return requests.post(conf["token_endpoint"], data={"grant_type": "refresh_token", "client_id": client["ClientId"],
                                                           "refresh_token": token}).json()

    first = refresh(tokens["RefreshToken"])
    assert "refresh_token" in first and first["refresh_token"] != tokens["RefreshToken"]
    lab.clock.advance(4)
    assert "access_token" in refresh(tokens["RefreshToken"])
    lab.clock.advance(1)
    assert refresh(tokens["RefreshToken"]) == {"error": "invalid_grant"}
    assert "refresh_token" in refresh(first["refresh_token"])


# -- the helper in labkit.cognito.session -----------------------------------------------------------
def test_session_refresh_uses_get_tokens_and_hands_back_the_rotated_token(lab):
    pool = Pool(lab)
    client = pool.client(rotating(0))
    tokens = pool.sign_in(client)
    fresh = cognito_session.refresh(pool.idp, client["ClientId"], tokens["RefreshToken"])
    assert fresh["RefreshToken"] != tokens["RefreshToken"]
    code, _ = error_of(cognito_session.refresh, pool.idp, client["ClientId"], fresh["RefreshToken"],
                       via="REFRESH_TOKEN_AUTH")
    assert code == "InvalidParameterException"


def test_the_course_helper_refreshes_either_way(lab):
    """labkit.course.userpool: ``client_options`` turns rotation on, ``refresh(via=...)`` picks the call."""
    from labkit.course.userpool import create_user_pool

    up = create_user_pool(lab, f"course{next(_names)}", client_options={"RefreshTokenRotation": rotating(0)})
    up.add_user("bob", PASSWORD)
    tokens = up.sign_in("bob", PASSWORD)
    assert error_of(up.refresh, tokens["RefreshToken"])[0] == "InvalidParameterException"    # REFRESH_TOKEN_AUTH
    rotated = up.refresh(tokens["RefreshToken"], via="GetTokensFromRefreshToken")
    assert rotated["RefreshToken"] != tokens["RefreshToken"]
    code, _ = error_of(up.refresh, tokens["RefreshToken"], via="GetTokensFromRefreshToken")
    assert code == "RefreshTokenReuseException"
