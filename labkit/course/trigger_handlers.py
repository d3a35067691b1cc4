"""The Lambda handlers of lesson 07, each written the way you would write it for AWS Lambda.

Every function here is deployed *alone* (``deploy_function(lab, trace)`` ships its source as
``index.py``), so each one imports what it needs inside its body and reads its settings from
environment variables, as a real function reads its configuration. The lesson shows their source
with :func:`labkit.course.trigger_lessons.show_handler`; ``tests/test_trigger_lessons.py`` runs them.

On AWS you would create SDK clients once, at module level, outside the handler (the execution
environment keeps them between invocations); a function shipped alone creates them inside.
"""
from __future__ import annotations

__all__ = ["trace", "post_confirmation_profile", "pre_token_generation_tenant", "broken_pre_authentication",
           "slow_pre_authentication", "migrate_legacy_user", "define_wallet_challenge",
           "create_wallet_challenge", "verify_wallet_signature", "HANDLERS"]


def trace(event, context):
    """Any trigger: print which one fired (its triggerSource) and change nothing."""
    print("TRIGGER", event["triggerSource"], "for", event["userName"])
    return event


def post_confirmation_profile(event, context):
    """PostConfirmation: write the new user's profile row (tenant from the email's domain, plan "free")."""
    import json
    import os

    import boto3

    attributes = event["request"]["userAttributes"]
    domain = attributes.get("email", "").rpartition("@")[2].lower()
    tenants = json.loads(os.environ["TENANT_OF_DOMAIN"])          # {"acme.example": "acme", ...}
    item = {"sub": {"S": attributes["sub"]}, "email": {"S": attributes.get("email", "")},
            "tenant_id": {"S": tenants.get(domain, "public")}, "plan": {"S": "free"}}
    boto3.client("dynamodb").put_item(TableName=os.environ["PROFILE_TABLE"], Item=item)
    print("profile written:", event["userName"], "tenant", item["tenant_id"]["S"], "plan free")
    return event


def pre_token_generation_tenant(event, context):
    """PreTokenGeneration V2_0: read the user's profile row and put tenant_id and plan in both tokens."""
    import json
    import os

    import boto3

    sub = event["request"]["userAttributes"]["sub"]
    row = boto3.client("dynamodb").get_item(TableName=os.environ["PROFILE_TABLE"],
                                            Key={"sub": {"S": sub}}).get("Item")
    if row is None:                     # no profile: no tenant claims, and the API will refuse the user
        print("no profile for", event["userName"])
        return event
    claims = {"tenant_id": row["tenant_id"]["S"], "plan": row["plan"]["S"]}
    claims.update(json.loads(os.environ.get("EXTRA_CLAIMS", "{}")))      # the lesson's experiments
    event["response"]["claimsAndScopeOverrideDetails"] = {
        "idTokenGeneration": {"claimsToAddOrOverride": claims},
        "accessTokenGeneration": {"claimsToAddOrOverride": claims},
    }
    print(event["triggerSource"], event["userName"], "->", json.dumps(claims, sort_keys=True))
    return event


def broken_pre_authentication(event, context):
    """PreAuthentication with a bug: it expects every user to have custom:plan; one without fails."""
    plan = event["request"]["userAttributes"]["custom:plan"]      # KeyError for a user without it
    if plan == "suspended":
        raise Exception("Your subscription is suspended")
    return event


def slow_pre_authentication(event, context):
    """PreAuthentication that asks a fraud-scoring service which does not answer in time."""
    import os
    import time

    print("asking the risk service about", event["userName"])
    time.sleep(float(os.environ.get("RISK_SERVICE_DELAY", "30")))     # stands for a network call that hangs
    return event


def migrate_legacy_user(event, context):
    """UserMigration: look the user up in the old system's table and check the password against its hash.
    An unknown user and a wrong password get the same message (the reason goes to the log only): a
    different one would tell anyone who has an account (lesson 11)."""
    import hashlib
    import hmac
    import os

    import boto3

    row = boto3.client("dynamodb").get_item(TableName=os.environ["LEGACY_TABLE"],
                                            Key={"username": {"S": event["userName"]}}).get("Item")
    refusal = "Incorrect username or password"          # Cognito: "UserMigration failed with error …"
    if row is None:
        print("not migrated:", event["userName"], "is not in the legacy store")
        raise Exception(refusal)
    if event["triggerSource"] == "UserMigration_Authentication":
        digest = hashlib.pbkdf2_hmac("sha256", event["request"]["password"].encode(),
                                     bytes.fromhex(row["salt"]["S"]), int(row["iterations"]["N"]))
        if not hmac.compare_digest(digest.hex(), row["hash"]["S"]):
            print("not migrated:", event["userName"], "gave a wrong password")
            raise Exception(refusal)
    event["response"]["userAttributes"] = {"email": row["email"]["S"], "email_verified": "true"}
    event["response"]["finalUserStatus"] = "CONFIRMED"     # the old system had checked the email already
    event["response"]["messageAction"] = "SUPPRESS"        # no welcome message
    print("migrated", event["userName"], "from the legacy store by", event["triggerSource"])
    return event


def define_wallet_challenge(event, context):
    """DefineAuthChallenge: one wallet-signature challenge; tokens when it was answered, at most 3 tries.
    An unknown user and a user with no linked wallet fail alike, at once ("Incorrect username or
    password."): a different answer would tell anyone who has an account (lesson 11)."""
    session = event["request"]["session"]
    linked = event["request"]["userAttributes"].get("custom:eth_address")
    if event["request"].get("userNotFound") or not linked:
        event["response"].update(issueTokens=False, failAuthentication=True)
    elif session and session[-1]["challengeName"] == "CUSTOM_CHALLENGE" and session[-1]["challengeResult"]:
        event["response"].update(issueTokens=True, failAuthentication=False)
    elif len(session) >= 3:
        event["response"].update(issueTokens=False, failAuthentication=True)
    else:
        event["response"].update(issueTokens=False, failAuthentication=False, challengeName="CUSTOM_CHALLENGE")
    return event


def create_wallet_challenge(event, context):
    """CreateAuthChallenge: a Sign-In with Ethereum (EIP-4361) message with a fresh nonce, for the
    address mapped to this user (custom:eth_address)."""
    import os
    import secrets
    from datetime import datetime, timezone

    address = event["request"]["userAttributes"].get("custom:eth_address")
    if not address:                          # DefineAuthChallenge fails such a user before this runs
        raise Exception("No wallet is linked to this user")
    nonce = secrets.token_hex(16)            # unguessable, used once: a replayed signature is worthless
    message = "\n".join([
        f"{os.environ['SIWE_DOMAIN']} wants you to sign in with your Ethereum account:",
        address,
        "",
        os.environ.get("SIWE_STATEMENT", "Sign in with your wallet."),
        "",
        f"URI: {os.environ['SIWE_URI']}",
        "Version: 1",
        f"Chain ID: {os.environ.get('SIWE_CHAIN_ID', '1')}",
        f"Nonce: {nonce}",
        f"Issued At: {datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ}",
    ])
    event["response"]["publicChallengeParameters"] = {"message": message}                 # to the wallet
    event["response"]["privateChallengeParameters"] = {"message": message, "address": address}  # kept by Cognito
    event["response"]["challengeMetadata"] = "SIWE"
    return event


def verify_wallet_signature(event, context):
    """VerifyAuthChallengeResponse: recover the signer of the message from the signature (secp256k1,
    EIP-191 personal_sign) and compare it with the address mapped to the user."""
    from eth_account import Account
    from eth_account.messages import encode_defunct

    expected = event["request"]["privateChallengeParameters"]
    try:
        signer = Account.recover_message(encode_defunct(text=expected["message"]),
                                         signature=event["request"]["challengeAnswer"])
    except Exception as error:               # not a signature at all
        print("unreadable signature:", type(error).__name__)
        signer = None
    event["response"]["answerCorrect"] = signer == expected["address"]
    print("signature by", signer)
    print("linked wallet", expected["address"], "| correct:", event["response"]["answerCorrect"])
    return event


#: Every handler of the lesson, by name.
HANDLERS = {fn.__name__: fn for fn in (trace, post_confirmation_profile, pre_token_generation_tenant,
                                       broken_pre_authentication, slow_pre_authentication, migrate_legacy_user,
                                       define_wallet_challenge, create_wallet_challenge, verify_wallet_signature)}
