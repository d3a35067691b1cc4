"""labkit.passwords: the policy report, password probes, the lockout schedule, user enumeration."""
import pytest

from labkit import Lab
from labkit.course import passwords
from labkit.course.display import Diagram
from labkit.course.userpool import create_user_pool

PASSWORD = "Known-Passw0rd"
STRICT = {"MinimumLength": 8, "RequireUppercase": True, "RequireLowercase": True, "RequireNumbers": True,
          "RequireSymbols": True, "TemporaryPasswordValidityDays": 7}
LENGTH_ONLY = {"MinimumLength": 15, "RequireUppercase": False, "RequireLowercase": False,
               "RequireNumbers": False, "RequireSymbols": False}


@pytest.fixture(scope="module")
def lab():
    with Lab(seed=202) as lab:
        yield lab


@pytest.fixture
def frozen(lab):
    """The lab clock moves only with advance(): a slow machine must not slip past a 1 s lock."""
    lab.clock.freeze()
    yield lab.clock
    lab.clock.unfreeze()


@pytest.fixture
def shop(lab):
    up = create_user_pool(lab, "shop", Policies={"PasswordPolicy": STRICT})
    up.add_user("ana", PASSWORD, email="ana@example.com")
    return up


# -- the policy report (no lab needed) -------------------------------------------------------------

def test_default_policy_is_against_the_guidance_on_length_composition_and_breaches():
    report = passwords.policy_report({"UserPool": {"Name": "shop", "Policies": {"PasswordPolicy": STRICT}}})
    assert report.verdicts == {"Minimum length": "✗", "Composition rules": "✗", "Longest password": "✓",
                               "Expiry / rotation": "✓", "Password history": "–",
                               "Breached-password check": "✗", "Failed sign-ins": "✓"}
    assert report.column("this pool")[1] == "upper, lower, number, symbol required"
    assert "temporary ones after 7 days" in report.column("this pool")[3]
    assert report.title.startswith("Password policy of shop vs OWASP ASVS 4.0.3")
    text = repr(report)
    assert text == str(report) == report.text()
    assert text.splitlines()[2].split() == ["topic", "this", "pool", "OWASP", "ASVS", "NIST", "800-63B", "verdict"]


def test_length_first_policy_with_threat_protection_is_in_line():
    pool = {"Name": "nist", "Policies": {"PasswordPolicy": {**LENGTH_ONLY, "PasswordHistorySize": 5}},
            "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"}}
    report = passwords.policy_report(pool)          # the UserPool entry works too
    assert set(report.verdicts.values()) == {"✓", "–"}
    assert report.column("this pool")[4] == "last 5 refused"
    assert "compromised-credentials" in report.column("this pool")[5]


@pytest.mark.parametrize("minimum, verdict", [(6, "✗"), (11, "✗"), (12, "≈"), (14, "≈"), (15, "✓"), (99, "✓")])
def test_minimum_length_verdicts(minimum, verdict):
    report = passwords.policy_report({"Policies": {"PasswordPolicy": {"MinimumLength": minimum}}})
    assert report.verdicts["Minimum length"] == verdict


def test_audit_mode_and_missing_values():
    report = passwords.policy_report({"UserPoolAddOns": {"AdvancedSecurityMode": "AUDIT"}})
    assert report.verdicts["Breached-password check"] == "≈"
    assert report.verdicts["Minimum length"] == "?"
    assert report.column("this pool")[:2] == ["not set", "none"]
    with pytest.raises(TypeError, match="describe_user_pool"):
        passwords.policy_report("us-east-1_x")


@pytest.mark.parametrize("password, classes", [("abc", "a . . ."), ("Abc1", "a A 1 ."), ("P@ssw0rd", "a A 1 #"),
                                               ("with space", "a . . #"), (" lead", "a . . ."), ("trail ", "a . . ."),
                                               ("ÄÖÜ", ". . . ."), ("", ". . . .")])
def test_character_classes(password, classes):
    assert passwords.character_classes(password) == classes


# -- lockout ---------------------------------------------------------------------------------------

def test_lockout_follows_the_labs_schedule():
    from labkit.emulator.user_pools.state import LOCKOUT_AFTER, LOCKOUT_MAX_SECONDS

    assert [passwords.lockout_seconds(n) for n in range(LOCKOUT_AFTER)] == [0.0] * LOCKOUT_AFTER
    assert [passwords.lockout_seconds(n) for n in range(5, 11)] == [1, 2, 4, 8, 16, 32]
    assert passwords.lockout_seconds(40) == LOCKOUT_MAX_SECONDS
    with pytest.raises(ValueError):
        passwords.lockout_seconds(-1)


def test_lockout_schedule_and_chart():
    table = passwords.lockout_schedule(16)
    assert table.column("locked for") == ["no lock"] * 4 + ["1 s", "2 s", "4 s", "8 s", "16 s", "32 s",
                                                             "1 min 04 s", "2 min 08 s", "4 min 16 s",
                                                             "8 min 32 s", "15 min", "15 min"]
    chart = passwords.lockout_chart(16)
    assert isinstance(chart, Diagram)
    assert repr(chart) == table.text()
    assert chart.png().startswith(b"\x89PNG")


def test_the_lab_locks_as_the_schedule_says(shop, lab, frozen):
    outcomes = [passwords.sign_in_outcome(shop, "ana", "wrong") for _ in range(5)]
    assert outcomes == ["NotAuthorizedException: Incorrect username or password."] * 5
    locked = "NotAuthorizedException: Password attempts exceeded"
    assert passwords.sign_in_outcome(shop, "ana", PASSWORD) == locked          # even the right one
    lab.clock.advance(seconds=passwords.lockout_seconds(5))
    assert passwords.sign_in_outcome(shop, "ana", "wrong").endswith("Incorrect username or password.")
    assert passwords.sign_in_outcome(shop, "ana", PASSWORD) == locked          # now for 2 s
    lab.clock.advance(seconds=passwords.lockout_seconds(6))
    assert passwords.sign_in_outcome(shop, "ana", PASSWORD) == "tokens"


# -- probing passwords -----------------------------------------------------------------------------

def test_probe_tabulates_and_leaves_no_user_behind(shop):
    table = passwords.probe_passwords(shop, ["Sh0rt!", "P@ssw0rd", "correct horse battery staple"])
    assert table.column("the pool says") == ["refused (InvalidPasswordException)", "accepted",
                                             "refused (InvalidPasswordException)"]
    assert table.column("on a breach list?") == ["no", "yes", "no"]
    assert table.column("length") == [6, 8, 28]
    users = shop.idp.list_users(UserPoolId=shop.pool_id)["Users"]
    assert [u["Username"] for u in users] == ["ana"]


def test_probe_a_length_only_pool_with_a_client_secret(lab):
    up = create_user_pool(lab, "nist", generate_secret=True, Policies={"PasswordPolicy": LENGTH_ONLY})
    table = passwords.probe_passwords(up, ["P@ssw0rd", "correct horse battery staple", "passwordpassword"],
                                      breached=["passwordpassword"])
    assert table.column("the pool says") == ["refused (InvalidPasswordException)", "accepted", "accepted"]
    assert table.column("on a breach list?") == ["no", "no", "yes"]
    with pytest.raises(TypeError):
        passwords.probe_passwords(up, [12345678])


# -- sign-in outcomes and enumeration --------------------------------------------------------------

def test_sign_in_outcomes(shop):
    assert passwords.sign_in_outcome(shop, "ana", PASSWORD) == "tokens"
    assert passwords.sign_in_outcome(shop, "ana", PASSWORD, flow="USER_SRP_AUTH") == "tokens"
    assert passwords.sign_in_outcome(shop, "zoe", PASSWORD) == "UserNotFoundException: User does not exist."
    shop.idp.admin_create_user(UserPoolId=shop.pool_id, Username="new", TemporaryPassword="Temp-Passw0rd",
                               MessageAction="SUPPRESS")
    assert passwords.sign_in_outcome(shop, "new", "Temp-Passw0rd") == "challenge NEW_PASSWORD_REQUIRED"
    with pytest.raises(ValueError, match="flow"):
        passwords.sign_in_outcome(shop, "ana", PASSWORD, flow="CUSTOM_AUTH")


def test_legacy_client_leaks_and_enabled_client_does_not(shop, lab):
    legacy = passwords.enumeration_probe(shop, "ana", "zoe", known_password=PASSWORD)
    assert legacy.mode == "LEGACY" and not legacy.same
    assert legacy.leaks == list(passwords.ENUMERATION_CALLS)
    assert legacy.column("zoe (does not)") == ["UserNotFoundException: User does not exist."] * 3
    assert legacy.column("ana (exists)")[2] == "a code was sent (EMAIL)"
    assert lab.inbox("ana@example.com").latest.kind == "forgot-password"

    shop.idp.update_user_pool_client(**passwords.client_update(
        shop.idp, shop.idp.describe_user_pool_client(UserPoolId=shop.pool_id, ClientId=shop.client_id),
        PreventUserExistenceErrors="ENABLED"))
    for _ in range(4):     # probing again and again never locks ana out: each probe ends with a sign-in
        enabled = passwords.enumeration_probe(shop, "ana", "zoe", known_password=PASSWORD)
        assert enabled.mode == "ENABLED" and enabled.same and enabled.leaks == []
    assert enabled.column("answers") == ["same"] * 3
    assert "Nothing here tells 'ana'" in enabled.notes[0]


def test_probes_without_a_reset_end_in_a_lockout_that_shows(shop, frozen):
    shop.idp.update_user_pool_client(UserPoolId=shop.pool_id, ClientId=shop.client_id,
                                     ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"],
                                     PreventUserExistenceErrors="ENABLED")
    calls = ["InitiateAuth USER_PASSWORD_AUTH"]
    reports = [passwords.enumeration_probe(shop, "ana", "zoe", calls=calls) for _ in range(6)]
    assert [r.same for r in reports] == [True] * 5 + [False]
    assert reports[-1].column("ana (exists)") == ["NotAuthorizedException: Password attempts exceeded"]


def test_probe_arguments_are_checked(shop):
    with pytest.raises(ValueError, match="calls are among"):
        passwords.enumeration_probe(shop, "ana", "zoe", calls=["SignUp"])
    with pytest.raises(ValueError, match="did not sign 'ana' in"):
        passwords.enumeration_probe(shop, "ana", "zoe", known_password="not it",
                                    calls=["InitiateAuth USER_PASSWORD_AUTH"])


# -- client_update ---------------------------------------------------------------------------------

def test_client_update_keeps_every_setting_and_drops_read_only_fields(lab):
    up = create_user_pool(lab, "secretive", generate_secret=True,
                          client_options={"AccessTokenValidity": 5, "TokenValidityUnits": {"AccessToken": "minutes"}})
    described = up.idp.describe_user_pool_client(UserPoolId=up.pool_id, ClientId=up.client_id)
    request = passwords.client_update(up.idp, described, PreventUserExistenceErrors="ENABLED")
    client = described["UserPoolClient"]
    assert "ClientSecret" in client and "ClientSecret" not in request
    assert request["PreventUserExistenceErrors"] == "ENABLED"
    assert request["ExplicitAuthFlows"] == client["ExplicitAuthFlows"]
    assert request["AccessTokenValidity"] == 5 and request["ClientId"] == up.client_id
    after = up.idp.update_user_pool_client(**request)["UserPoolClient"]
    assert after["PreventUserExistenceErrors"] == "ENABLED" and after["AccessTokenValidity"] == 5
    with pytest.raises(ValueError, match="no parameter 'PreventUserExistence'"):
        passwords.client_update(up.idp, client, PreventUserExistence="ENABLED")


def test_settings_changed_names_what_an_update_reset(lab):
    """UpdateUserPoolClient resets every setting left out of the request to its default (API reference,
    UpdateUserPoolClient); settings_changed says which ones, in words."""
    up = create_user_pool(lab, "resets")
    before = up.idp.describe_user_pool_client(UserPoolId=up.pool_id, ClientId=up.client_id)
    up.idp.update_user_pool_client(UserPoolId=up.pool_id, ClientId=up.client_id, PreventUserExistenceErrors="ENABLED")
    after = up.idp.describe_user_pool_client(UserPoolId=up.pool_id, ClientId=up.client_id)
    changed = passwords.settings_changed(before, after, ignore=["PreventUserExistenceErrors", "LastModifiedDate"])
    assert any(c.startswith("ExplicitAuthFlows: was [") and c.endswith("now not set") for c in changed)
    assert passwords.settings_changed(after, after) == []
    whole = {k: v for k, v in before["UserPoolClient"].items()
             if k not in ("ClientSecret", "CreationDate", "LastModifiedDate")}
    up.idp.update_user_pool_client(**whole, PreventUserExistenceErrors="ENABLED")
    kept = up.idp.describe_user_pool_client(UserPoolId=up.pool_id, ClientId=up.client_id)
    assert passwords.settings_changed(before, kept, ignore=["PreventUserExistenceErrors", "LastModifiedDate"]) == []


def test_probe_can_ask_resend_confirmation_code(shop):
    """ResendConfirmationCode with ENABLED: a simulated delivery for an unknown user, but a confirmed
    user still gets InvalidParameterException (guide, "Managing user existence error responses":
    these APIs alternate between a simulated delivery and InvalidParameterException)."""
    shop.idp.update_user_pool_client(**passwords.client_update(
        shop.idp, shop.idp.describe_user_pool_client(UserPoolId=shop.pool_id, ClientId=shop.client_id),
        PreventUserExistenceErrors="ENABLED"))
    report = passwords.enumeration_probe(shop, "ana", "zoe", calls=["ResendConfirmationCode"])
    assert report.column("ana (exists)") == ["InvalidParameterException: User is already confirmed."]
    assert report.column("zoe (does not)") == ["a code was sent (EMAIL)"]
    assert report.leaks == ["ResendConfirmationCode"]
