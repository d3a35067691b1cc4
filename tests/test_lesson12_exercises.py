"""Lesson 12's exercises, run from the committed notebook: the model answers pass, and each wrong
decision the lesson is about fails with a plain-words message (see tests/test_lesson_exercises.py)."""
import pytest

from test_lesson_exercises import Lesson

ROWS, ATTACKS, SCENARIO = (f"running-cognito-{n:02d}" for n in (8, 23, 36))


@pytest.fixture(scope="module")
def lesson12():
    lesson = Lesson("12_running_cognito.ipynb", until=SCENARIO)
    yield lesson
    lesson.close()


def test_12_1_rows_follow_the_import_rules(lesson12):
    assert "passed" in lesson12.check(ROWS)
    right = lesson12.namespace["row_values"]
    with_mfa = lambda user: {**right(user), "cognito:mfa_enabled": True}     # MFA is off in the pool
    assert "cognito:mfa_enabled" in lesson12.fails(ROWS, row_values=with_mfa)
    always_verified = lambda user: {**right(user), "email_verified": True}    # dana never confirmed hers
    assert "dana" in lesson12.fails(ROWS, row_values=always_verified)
    legacy_names = lambda user: dict(user)                                    # the old table's own names
    assert "12.1" in lesson12.fails(ROWS, row_values=legacy_names)


def test_12_2_the_attacks_are_found_by_address_and_sub(lesson12):
    assert "passed" in lesson12.check(ATTACKS)
    brute, enum = lesson12.namespace["brute_force_ip"], lesson12.namespace["enumeration_ip"]
    assert "brute_force_ip" in lesson12.fails(ATTACKS, brute_force_ip=enum, enumeration_ip=brute)


def test_12_3_threat_protection_needs_plus_and_the_bill_has_every_part(lesson12):
    assert "passed" in lesson12.check(SCENARIO)
    assert "FeatureUnavailableInTierException" in lesson12.fails(SCENARIO, plan="ESSENTIALS")
    costs = lesson12.namespace["costs"]
    without_m2m = costs.monthly_cost("PLUS", 60_000, federated_maus=40)
    assert "monthly" in lesson12.fails(SCENARIO, monthly=without_m2m)
