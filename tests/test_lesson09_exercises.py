"""Lesson 09's exercises, run from the committed notebook: the model answers pass, and each wrong
decision the lesson is about fails with a plain-words message (see tests/test_lesson_exercises.py)."""
import copy

import pytest

from test_lesson_exercises import Lesson

SMS, FORGE, PRICE, DOOR = (f"passwordless_passkeys-{n}" for n in (18, 33, 42, 47))


@pytest.fixture(scope="module")
def lesson09():
    lesson = Lesson("09_passwordless_passkeys.ipynb", until=DOOR)
    yield lesson
    lesson.close()


def test_9_1_the_sms_tokens_not_the_whole_answer(lesson09):
    assert "passed" in lesson09.check(SMS)
    start = lesson09.namespace["start"]
    whole = start("leo", PREFERRED_CHALLENGE="SMS_OTP")          # a challenge, not tokens
    message = lesson09.fails(SMS, sms_tokens=whole)
    assert "9.1" in message


def test_9_2_the_forgery_changes_the_origin_and_keeps_the_signature(lesson09):
    assert "passed" in lesson09.check(FORGE)
    phished = lesson09.namespace["phished_again"]
    assert "origin" in lesson09.fails(FORGE, forged=copy.deepcopy(phished))
    resigned = copy.deepcopy(lesson09.namespace["forged"])
    resigned["response"]["signature"] = "AAAA"
    assert "signature" in lesson09.fails(FORGE, forged=resigned)


def test_9_3_passkeys_are_not_on_lite_and_plus_is_not_the_cheapest(lesson09):
    assert "passed" in lesson09.check(PRICE)
    assert "Lite offers no passwordless" in lesson09.fails(PRICE, plan_for_passkeys="LITE")
    assert "cheapest" in lesson09.fails(PRICE, plan_for_passkeys="PLUS")
    costs = lesson09.namespace["costs"]
    ignoring_free_tier = 80_000 * costs.pricing()["plans"]["ESSENTIALS"]["bands"][0]["per_mau"]
    assert "passkey_bill" in lesson09.fails(PRICE, passkey_bill=ignoring_free_tier)


def test_9_4_the_door_is_the_user_not_the_policy(lesson09):
    """On AWS PASSWORD stays in the pool's first factors (the CDK refuses password: false); a user
    without a password is the door. Source: API_AdminSetUserPassword.html (a password can't be removed)."""
    assert "passed" in lesson09.check(DOOR)
    assert "she has a password" in lesson09.fails(DOOR, ZOE="leo")
    idp, pool_id = lesson09.namespace["idp"], lesson09.namespace["pool_id"]
    idp.update_user_pool(UserPoolId=pool_id, AutoVerifiedAttributes=["email"], Policies={
        "SignInPolicy": {"AllowedFirstAuthFactors": ["EMAIL_OTP", "SMS_OTP", "WEB_AUTHN"]}})
    try:
        assert "leave the policy alone" in lesson09.fails(DOOR)
    finally:
        idp.update_user_pool(UserPoolId=pool_id, AutoVerifiedAttributes=["email"], Policies={
            "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN"]}})
