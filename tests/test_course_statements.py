"""Statements the lessons got wrong once (issue 15), pinned: each corrected statement is present with
its developer-guide source, and the folklore it replaced is gone. The behaviour behind each one is
tested elsewhere (test_user_pools, test_identity_pools, test_user_existence); this keeps the prose
from drifting back."""
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def markdown(number: str) -> str:
    (path,) = NOTEBOOKS.glob(f"{number}_*.ipynb")
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def code(number: str) -> str:
    (path,) = NOTEBOOKS.glob(f"{number}_*.ipynb")
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def test_01_names_the_aws_services_that_read_user_pool_tokens():
    """API Gateway (user pool / JWT authorizers) and AppSync accept user-pool tokens; S3 and
    DynamoDB take only AWS credentials. Source: user-pool-accessing-resources-api-gateway-and-lambda."""
    text = markdown("01")
    assert "API Gateway" in text and "AppSync" in text
    assert "user-pool-accessing-resources-api-gateway-and-lambda.html" in text
    assert not re.search(r"AWS services (don't|do not|never) read (JWTs|tokens)", text, re.I)


def test_05_says_id_tokens_can_authorize_api_gateway_and_why_access_tokens_are_better():
    """A Cognito authorizer takes an ID token on methods without OAuth scopes; the lesson says so,
    cites API Gateway's page, and its quiz no longer teaches the absolute rule."""
    text = markdown("05")
    assert "apigateway-integrate-with-cognito.html" in text
    assert re.search(r"never send an ID token to an API\W+is too strong", text)
    assert "better authorization credential" in text
    assert not re.search(r"(don't|do not|never) send (the|an) ID token to (an )?APIs?\.", text.replace("\n", " "))


def test_04_teaches_the_documented_first_sign_in_under_required_mfa():
    """The guide's note: a new user's first sign-in gets tokens even when MFA is required."""
    text = markdown("04") + code("04")
    assert "user-pool-settings-mfa.html" in text
    assert re.search(r"first sign-in", text)


def test_06_states_the_trust_policy_rule_and_the_guest_scope_down():
    """IAM requires at least one condition (aud and amr recommended; STS requires both for
    cross-account basic flow); enhanced-flow guest credentials carry a scope-down policy."""
    text = markdown("06")
    assert "at least one trust-policy condition" in text
    assert "identity-pools-security-best-practices.html" in text
    assert "scope-down" in text and "iam-roles.html" in text
    assert not re.search(r"IAM refuses a trust policy[^.]*without an `?aud`? condition", text)


def test_09_closes_the_password_door_in_the_users_not_the_pool_policy():
    """A password can't be removed from a user (API_AdminSetUserPassword: create a new user without
    one); AWS's CDK refuses a sign-in policy without PASSWORD ("The password authentication cannot
    be disabled", AuthFlow example: "password authentication must be enabled"). The lesson no longer
    teaches leaving PASSWORD out of AllowedFirstAuthFactors as the fix."""
    text = markdown("09")
    assert "API_AdminSetUserPassword.html" in text and "aws-cdk-lib.aws_cognito.AuthFlow.html" in text
    assert "PASSWORD` staying in the policy" in text
    flat = text.replace("\n", " ")
    assert "close the door in the pool's sign-in policy" not in flat
    assert "there is no call that deletes it" not in flat


@pytest.mark.parametrize("number", ["01", "06"])
def test_credentials_are_never_dumped_raw(number):
    """Lessons show temporary credentials redacted (course.show_credentials), never SecretKey or
    SessionToken in full."""
    (path,) = NOTEBOOKS.glob(f"{number}_*.ipynb")
    outputs = path.read_text()
    assert "show_credentials" in code(number)
    assert not re.search(r"'SecretKey': '[A-Za-z0-9/+]{30,}'", outputs)
    assert not re.search(r"'SessionToken': '[A-Za-z0-9/+=]{60,}", outputs)
