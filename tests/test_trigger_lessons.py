"""Lesson 07's helpers and handlers (labkit.course.trigger_lessons, labkit.course.trigger_handlers),
run through plain boto3 against the lab, as the notebook runs them.

Sources (developer guide): "Customizing user pool workflows with Lambda triggers" and each trigger's
page; EIP-4361 (Sign-In with Ethereum) for the wallet's message. Each docstring names the rule.
"""
import ast
import builtins
import json
import time

import jwt
import pytest
from botocore.exceptions import ClientError
from eth_account.messages import encode_defunct

from labkit import Lab
from labkit.course import trigger_handlers as th
from labkit.course import trigger_lessons as tl
from labkit.course.triggers import deploy_function
from labkit.course.userpool import create_user_pool
from labkit.emulator.user_pools.triggers import TRIGGERS
from cognito_errors import error_of

PASSWORD = "Corr3ct-Horse-Battery"
_names = iter(range(10_000))


@pytest.fixture(scope="module")
def lab():
    with Lab(seed=77) as lab:
        yield lab


def pool(lab, **options):
    return create_user_pool(lab, f"pool{next(_names)}", **options)


def claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def profile_table(lab, name):
    ddb = lab.client("dynamodb")
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "sub", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "sub", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    return ddb


# -- the handlers are Lambda modules of their own ------------------------------------------------------
@pytest.mark.parametrize("name", sorted(th.HANDLERS))
def test_each_handler_is_shipped_alone_and_imports_nothing_of_labkit(name):
    """A function deployed with deploy_function is index.py alone: everything it imports is inside it,
    and nothing of labkit (which a real Lambda function would not have)."""
    source = th.HANDLERS[name].__code__.co_filename
    tree = ast.parse(tl.show_handler(th.HANDLERS[name]))
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef) and [a.arg for a in function.args.args] == ["event", "context"]
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names] + [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not any(str(module).startswith("labkit") for module in imported), source
    free = {node.id for node in ast.walk(function) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    bound = ({a.arg for a in function.args.args} | {alias.asname or alias.name.split(".")[0] for node in ast.walk(tree)
             if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
             | {node.id for node in ast.walk(function) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
             | {node.name for node in ast.walk(function) if isinstance(node, ast.ExceptHandler) and node.name})
    assert free - bound - set(dir(builtins)) == set(), f"{name} uses names defined outside it"


# -- the map and the timeline ---------------------------------------------------------------------------
def test_the_map_covers_every_trigger_the_lab_runs_and_names_their_sources():
    """Every user-pool trigger of LambdaConfig appears once; triggerSource values map back to their
    trigger (TokenGeneration_* is PreTokenGeneration)."""
    assert sorted(info.key for info in tl.TRIGGER_INFO) == sorted(TRIGGERS)
    assert tl.trigger_of("TokenGeneration_RefreshTokens").key == "PreTokenGeneration"
    assert tl.trigger_of("PostConfirmation_ConfirmForgotPassword").key == "PostConfirmation"
    with pytest.raises(KeyError):
        tl.trigger_of("PreSignIn_Authentication")
    text = repr(tl.trigger_map())
    assert all(info.key in text for info in tl.TRIGGER_INFO)


def test_the_timeline_records_what_fired_for_each_call(lab):
    """SignUp runs PreSignUp then CustomMessage (before the code is sent); ConfirmSignUp runs
    PostConfirmation; a password sign-in runs PreAuthentication, PostAuthentication and pre token
    generation; a refresh runs only pre token generation. A failed call is recorded with its error."""
    arn = deploy_function(lab, th.trace)
    keys = ["PreSignUp", "CustomMessage", "PostConfirmation", "PreAuthentication", "PostAuthentication",
            "PreTokenGeneration"]
    shop = pool(lab, AutoVerifiedAttributes=["email"], LambdaConfig={k: arn for k in keys})
    idp = shop.idp
    trace = tl.TriggerTrace(lab, "trace")
    with trace.step("SignUp", phase="sign-up"):
        idp.sign_up(ClientId=shop.client_id, Username="ana", Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": "ana@trace.example"}])
    with trace.step("ConfirmSignUp", phase="sign-up"):
        idp.confirm_sign_up(ClientId=shop.client_id, Username="ana",
                            ConfirmationCode=lab.inbox("ana@trace.example").latest.code)
    with trace.step("InitiateAuth", phase="sign-in"):
        tokens = shop.sign_in("ana", PASSWORD)
    with trace.step("Refresh", phase="sign-in"):
        shop.refresh(tokens["RefreshToken"])
    with pytest.raises(ClientError):
        with trace.step("InitiateAuth", phase="sign-in"):
            shop.sign_in("ana", "wrong-Passw0rd!")
    assert [s.sources for s in trace.steps] == [
        ["PreSignUp_SignUp", "CustomMessage_SignUp"], ["PostConfirmation_ConfirmSignUp"],
        ["PreAuthentication_Authentication", "PostAuthentication_Authentication", "TokenGeneration_Authentication"],
        ["TokenGeneration_RefreshTokens"], ["PreAuthentication_Authentication"]]
    assert trace.steps[-1].error == "NotAuthorizedException" and trace.steps[0].error is None
    assert trace.not_fired() == ["UserMigration", "DefineAuthChallenge", "CreateAuthChallenge",
                                 "VerifyAuthChallengeResponse"]
    assert "TokenGeneration_RefreshTokens" in repr(trace)
    figure = trace.plot()
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert "SignUp" in texts and "PreSignUp\nSignUp" in texts and any("NotAuthorizedException" in t for t in texts)


# -- exercise 7.1 -----------------------------------------------------------------------------------------
ENDSWITH_ALLOW_LIST = """
def handler(event, context):
    import os
    email = event["request"]["userAttributes"].get("email", "")
    if any(email.endswith(d) for d in os.environ["ALLOWED_DOMAINS"].split(",")):
        return event
    raise Exception("Sign-up is by invitation only")
"""
CASES = [tl.SignUpCase("ana@acme.example"), tl.SignUpCase("Bob@ACME.Example"),
         tl.SignUpCase("mallory@notacme.example"), tl.SignUpCase("eve@acme.example.evil.test"),
         tl.SignUpCase("zoe@gmail.com", invite="WELCOME-7"), tl.SignUpCase(None)]


def test_try_sign_ups_reports_refusals_in_cognitos_words_and_leaves_nobody_behind(lab):
    """A pre sign-up that raises refuses with "PreSignUp failed with error <message>."; try_sign_ups
    deletes whoever got in, so the check can run again; the reference rule and a naive endswith
    differ exactly on the look-alike domain."""
    club = pool(lab)
    arn = deploy_function(lab, ENDSWITH_ALLOW_LIST, name="endswith-allow-list",
                          environment={"ALLOWED_DOMAINS": "acme.example"})
    club.idp.update_user_pool(UserPoolId=club.pool_id, LambdaConfig={"PreSignUp": arn})
    outcomes = tl.try_sign_ups(club.idp, club.client_id, club.pool_id, CASES, PASSWORD)
    assert outcomes["mallory@notacme.example"] == "allowed"            # the endswith bug lets it in
    assert outcomes["eve@acme.example.evil.test"] == ("refused: PreSignUp failed with error "
                                                     "Sign-up is by invitation only.")
    assert club.idp.list_users(UserPoolId=club.pool_id)["Users"] == []
    reference = [tl.allow_list_reference(c.email, c.invite, ["acme.example"], ["WELCOME-7"]) for c in CASES]
    assert reference == [True, True, False, False, True, False]
    assert tl.try_sign_ups(club.idp, club.client_id, club.pool_id, CASES[:1], PASSWORD) == {"ana@acme.example": "allowed"}


# -- profile row and claims -----------------------------------------------------------------------------
def test_post_confirmation_writes_the_profile_and_pre_token_generation_puts_it_in_both_tokens(lab):
    """PostConfirmation (after ConfirmSignUp, not before) writes the row through the lab's DynamoDB;
    pre token generation V2_0 adds tenant_id and plan to the ID and access tokens; a user without a
    row gets no tenant claims; reserved claims (sub, client_id, scope) keep Cognito's values and
    cognito:groups is not changed through claimsToAddOrOverride."""
    ddb = profile_table(lab, "t-profiles")
    env = {"PROFILE_TABLE": "t-profiles", "TENANT_OF_DOMAIN": json.dumps({"acme.example": "acme"})}
    profile = deploy_function(lab, th.post_confirmation_profile, name="t-profile", timeout=10, environment=env)
    tenant = deploy_function(lab, th.pre_token_generation_tenant, name="t-tenant", timeout=10,
                             environment={"PROFILE_TABLE": "t-profiles"})
    shop = pool(lab, AutoVerifiedAttributes=["email"], LambdaConfig={
        "PostConfirmation": profile, "PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": tenant}})
    idp = shop.idp
    sub = idp.sign_up(ClientId=shop.client_id, Username="bo", Password=PASSWORD,
                      UserAttributes=[{"Name": "email", "Value": "bo@ACME.example"}])["UserSub"]
    assert ddb.scan(TableName="t-profiles")["Count"] == 0
    idp.confirm_sign_up(ClientId=shop.client_id, Username="bo", ConfirmationCode=lab.inbox("bo@ACME.example").latest.code)
    row = ddb.get_item(TableName="t-profiles", Key={"sub": {"S": sub}})["Item"]
    assert (row["tenant_id"]["S"], row["plan"]["S"]) == ("acme", "free")
    tokens = shop.sign_in("bo", PASSWORD)
    for token in (tokens["IdToken"], tokens["AccessToken"]):
        assert (claims(token)["tenant_id"], claims(token)["plan"]) == ("acme", "free")
    shop.add_user("cy", PASSWORD)                                        # created by an admin: no row
    assert "tenant_id" not in claims(shop.sign_in("cy", PASSWORD)["AccessToken"])
    wish = {"plan": "gold", "sub": "legacy-1", "client_id": "other", "scope": "admin/all", "cognito:groups": ["admins"]}
    deploy_function(lab, th.pre_token_generation_tenant, name="t-tenant", timeout=10,
                    environment={"PROFILE_TABLE": "t-profiles", "EXTRA_CLAIMS": json.dumps(wish)})
    access = claims(shop.sign_in("bo", PASSWORD)["AccessToken"])
    assert access["plan"] == "gold"
    assert (access["sub"], access["client_id"], access["scope"]) == (sub, shop.client_id, "aws.cognito.signin.user.admin")
    assert "cognito:groups" not in access
    for claim in wish:
        kept = access.get(claim) != wish[claim]
        assert kept == (tl.claim_verdict(claim) in ("reserved", "groups")), claim


def test_claim_verdicts_follow_the_reserved_lists_per_token():
    """Access tokens reserve client_id, scope, username…; ID tokens reserve aud, cognito:username…;
    group claims change only through groupOverrideDetails."""
    assert [tl.claim_verdict(c) for c in ("tenant_id", "sub", "client_id", "scope", "cognito:groups")] == [
        "added", "reserved", "reserved", "reserved", "groups"]
    assert tl.claim_verdict("aud", "id") == "reserved" and tl.claim_verdict("client_id", "id") == "added"


def test_exercise_requirements_name_real_triggers():
    assert {r.trigger for r in tl.REQUIREMENTS} <= set(TRIGGERS)
    assert len({r.key for r in tl.REQUIREMENTS}) == len(tl.REQUIREMENTS)


# -- failures on the login path ---------------------------------------------------------------------------
def test_a_broken_and_a_slow_pre_authentication_lock_everyone_out(lab):
    """A pre authentication trigger that raises fails every sign-in with UserLambdaValidationException
    (its KeyError's text in Cognito's message); one that does not answer within Cognito's limit is tried
    3 times and fails with UnexpectedLambdaException."""
    shop = pool(lab)
    shop.add_user("ana", PASSWORD)
    broken = deploy_function(lab, th.broken_pre_authentication, name="t-broken")
    shop.idp.update_user_pool(UserPoolId=shop.pool_id, LambdaConfig={"PreAuthentication": broken})
    assert error_of(shop.sign_in, "ana", PASSWORD) == ("UserLambdaValidationException",
                                                       "PreAuthentication failed with error 'custom:plan'.")
    slow = deploy_function(lab, th.slow_pre_authentication, name="t-slow", timeout=30,
                           environment={"RISK_SERVICE_DELAY": "20"})
    shop.idp.update_user_pool(UserPoolId=shop.pool_id, LambdaConfig={"PreAuthentication": slow})
    saved, lab.trigger_timeout = lab.trigger_timeout, 0.2
    try:
        started = time.monotonic()
        code, _ = error_of(shop.sign_in, "ana", PASSWORD)
        elapsed = time.monotonic() - started
    finally:
        lab.trigger_timeout = saved
    assert code == "UnexpectedLambdaException" and elapsed < 10
    assert sum(line.message.startswith("START") for line in lab.lambda_logs("t-slow")) == 3


# -- migration ------------------------------------------------------------------------------------------------
def test_lazy_migration_from_the_legacy_store(lab):
    """UserMigration_Authentication: a wrong password (checked against the old PBKDF2 hash) creates
    nobody; the right one creates the user CONFIRMED with the old email, and later sign-ins no longer
    call the trigger. UserMigration_ForgotPassword migrates without a password. The store keeps no password."""
    assert tl.create_legacy_store(lab, "t-legacy", {"carol": ("Old-Passw0rd!", "carol@old.example"),
                                                    "dave": ("Dave-Passw0rd!", "dave@old.example")}, seed=1) == 2
    row = lab.client("dynamodb").get_item(TableName="t-legacy", Key={"username": {"S": "carol"}})["Item"]
    assert "Old-Passw0rd!" not in json.dumps(row)
    assert row["hash"]["S"] == tl.legacy_hash("Old-Passw0rd!", bytes.fromhex(row["salt"]["S"]))
    arn = deploy_function(lab, th.migrate_legacy_user, name="t-migrate", timeout=10, environment={"LEGACY_TABLE": "t-legacy"})
    shop = pool(lab, LambdaConfig={"UserMigration": arn})
    generic = ("UserLambdaValidationException", "UserMigration failed with error Incorrect username or password.")
    assert error_of(shop.sign_in, "carol", "wrong-Passw0rd!") == generic
    # an unknown user gets the same answer (no account enumeration); only the log tells the reasons apart
    assert error_of(shop.sign_in, "nobody", PASSWORD) == generic
    assert [line for line in lab.lambda_logs("t-migrate").output if line.startswith("not migrated")] == [
        "not migrated: carol gave a wrong password", "not migrated: nobody is not in the legacy store"]
    assert shop.idp.list_users(UserPoolId=shop.pool_id)["Users"] == []
    tokens = shop.sign_in("carol", "Old-Passw0rd!")
    assert claims(tokens["IdToken"])["email"] == "carol@old.example"
    assert shop.idp.admin_get_user(UserPoolId=shop.pool_id, Username="carol")["UserStatus"] == "CONFIRMED"
    shop.sign_in("carol", "Old-Passw0rd!")
    migrated = [line for line in lab.lambda_logs("t-migrate").output if line.startswith("migrated")]
    assert migrated == ["migrated carol from the legacy store by UserMigration_Authentication"]
    shop.idp.forgot_password(ClientId=shop.client_id, Username="dave")
    assert lab.inbox("dave@old.example").latest.code


# -- Sign-In with Ethereum ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def wallets(lab):
    siwe = {"SIWE_DOMAIN": "shop.example", "SIWE_URI": "https://shop.example/login"}
    config = {"DefineAuthChallenge": deploy_function(lab, th.define_wallet_challenge, name="t-define"),
              "CreateAuthChallenge": deploy_function(lab, th.create_wallet_challenge, name="t-create", environment=siwe),
              "VerifyAuthChallengeResponse": deploy_function(lab, th.verify_wallet_signature, name="t-verify", timeout=10)}
    setup = pool(lab, Schema=[{"Name": "eth_address", "AttributeDataType": "String", "Mutable": True}],
                 LambdaConfig=config, explicit_auth_flows=["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    wallet = tl.lab_wallet("ana", seed=3)
    setup.idp.admin_create_user(UserPoolId=setup.pool_id, Username="ana", MessageAction="SUPPRESS",
                                UserAttributes=[{"Name": "custom:eth_address", "Value": wallet.address}])
    setup.idp.admin_set_user_password(UserPoolId=setup.pool_id, Username="ana", Password=PASSWORD, Permanent=True)
    setup.idp.admin_create_user(UserPoolId=setup.pool_id, Username="unlinked", MessageAction="SUPPRESS")
    return setup, wallet


def start(setup, username="ana"):
    return setup.idp.initiate_auth(ClientId=setup.client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": username})


def answer(setup, challenge, signature, username="ana"):
    return setup.idp.respond_to_auth_challenge(ClientId=setup.client_id, ChallengeName="CUSTOM_CHALLENGE",
                                               Session=challenge["Session"],
                                               ChallengeResponses={"USERNAME": username, "ANSWER": signature})


def sign(wallet, message):
    return wallet.sign_message(encode_defunct(text=message)).signature.to_0x_hex()


def test_a_wallet_signature_of_the_fresh_siwe_message_signs_the_linked_user_in(lab, wallets):
    """CreateAuthChallenge sends an EIP-4361 message for the linked address with a fresh nonce (the
    private parameters never reach the client); VerifyAuthChallengeResponse recovers the signer; the
    tokens are the Cognito user's (their sub is not the address)."""
    setup, wallet = wallets
    challenge = start(setup)
    message = challenge["ChallengeParameters"]["message"]
    fields = tl.siwe_fields(message)
    assert (fields["domain"], fields["address"], fields["URI"], fields["Version"], fields["Chain ID"]) == (
        "shop.example", wallet.address, "https://shop.example/login", "1", "1")
    assert len(fields["Nonce"]) >= 8 and fields["Nonce"].isalnum()
    assert tl.siwe_fields(start(setup)["ChallengeParameters"]["message"])["Nonce"] != fields["Nonce"]
    assert "privateChallengeParameters" not in json.dumps(challenge) and set(challenge["ChallengeParameters"]) <= {"message", "USERNAME"}
    tokens = answer(setup, challenge, sign(wallet, message))["AuthenticationResult"]
    id_claims = claims(tokens["IdToken"])
    assert id_claims["cognito:username"] == "ana" and id_claims["custom:eth_address"] == wallet.address
    assert id_claims["sub"] != wallet.address


def test_replayed_foreign_and_garbage_signatures_are_refused_then_the_sign_in_fails(lab, wallets):
    """A signature of an earlier message (old nonce), one by another key and a non-signature are each
    answerCorrect false; after three wrong answers DefineAuthChallenge fails the sign-in
    (NotAuthorizedException). A user with no linked wallet cannot start, and is refused exactly like a
    wrong answer (no account enumeration)."""
    setup, wallet = wallets
    old = start(setup)
    replayed = sign(wallet, old["ChallengeParameters"]["message"])
    attempt = start(setup)
    thief = tl.lab_wallet("thief", seed=3)
    attempt = answer(setup, attempt, replayed)
    assert attempt["ChallengeName"] == "CUSTOM_CHALLENGE"
    attempt = answer(setup, attempt, sign(thief, attempt["ChallengeParameters"]["message"]))
    assert attempt["ChallengeName"] == "CUSTOM_CHALLENGE"
    failed = error_of(answer, setup, attempt, "0x00")
    assert failed[0] == "NotAuthorizedException"
    verdicts = [line.rsplit(" ", 1)[-1] for line in lab.lambda_logs("t-verify").output if line.startswith("linked wallet")]
    assert verdicts[-3:] == ["False", "False", "False"]
    creates = len(lab.lambda_logs("t-create"))
    assert error_of(start, setup, "unlinked") == failed == ("NotAuthorizedException", "Incorrect username or password.")
    assert len(lab.lambda_logs("t-create")) == creates             # no challenge was created for it


def test_the_wallet_checks_the_message_before_signing():
    """EIP-4361: the wallet signs only a message for the origin it is on, for its own address, on the
    expected chain, with an alphanumeric nonce of at least 8 characters."""
    wallet = tl.lab_wallet("ana", seed=3)
    assert wallet.address == tl.lab_wallet("ana", seed=3).address != tl.lab_wallet("ana", seed=4).address
    message = "\n".join(["shop.example wants you to sign in with your Ethereum account:", wallet.address, "",
                         "Sign in.", "", "URI: https://shop.example/login", "Version: 1", "Chain ID: 1",
                         "Nonce: 32891756abcdef01", "Issued At: 2026-01-01T00:00:00Z"])
    assert tl.wallet_should_sign(message, origin_domain="shop.example", address=wallet.address)
    assert not tl.wallet_should_sign(message, origin_domain="sh0p.example", address=wallet.address)
    assert not tl.wallet_should_sign(message, origin_domain="shop.example", address=tl.lab_wallet("x").address)
    assert not tl.wallet_should_sign(message, origin_domain="shop.example", address=wallet.address, chain_id=5)
    assert not tl.wallet_should_sign(message.replace("32891756abcdef01", "12"), origin_domain="shop.example",
                                     address=wallet.address)
    assert not tl.wallet_should_sign("Please sign: transfer everything", origin_domain="shop.example",
                                     address=wallet.address)
    with pytest.raises(ValueError, match="EIP-4361"):
        tl.siwe_fields("hello")
