"""Lesson 11's episodes (labkit.course.mistakes): every attack works against the vulnerable set-up
and fails after its fix, each fix on its own."""
import pytest
from botocore.exceptions import ClientError

from labkit import Lab
from labkit.course import mistakes as M
from labkit.course.api import VULNERABILITIES
from labkit.course.userpool import create_user_pool
from labkit.emulator.user_pools.email_quota import DAILY_EMAIL_QUOTA


@pytest.fixture
def lab():
    with Lab(seed=11) as lab:
        yield lab


# -- 1. the JWT battery ------------------------------------------------------------------------------
def test_each_forgery_is_refused_by_the_safe_api_and_accepted_by_the_variant_built_for_it(lab):
    """Every forged or misused token is refused by CognitoVerifier (and the safe API: 401); the
    one broken variant made for it answers 200, and no variant falls for what it was not made for
    (except skip_signature, which believes any RS256 token, the attacker's own keys included)."""
    battery = M.jwt_target(lab).battery()
    assert [r.forgery for r in battery.rows] == [kind for kind, _ in M.BATTERY]
    assert {flag for _, flags in M.BATTERY for flag in flags} == set(VULNERABILITIES)
    for row in battery.rows:
        assert row.statuses["safe"] == 401, row.forgery
        assert row.built_for in row.accepted_by, row.forgery
        extra = set(row.accepted_by) - {row.built_for}
        allowed = {"skip_signature"} if row.forgery in ("embedded jwk", "jku injection") else set()
        if row.forgery == "wrong client":
            allowed = {"ignore_issuer+ignore_client"}     # a variant that also ignores the client
        assert extra <= allowed, (row.forgery, extra)
        assert row.stopped_by is not None
    assert battery.row("expired").stopped_by == "expiry"
    assert battery.row("ID token").stopped_by == "token_use"
    assert battery.row("wrong client").stopped_by == "client"
    assert battery.row("another pool").stopped_by == "issuer"
    assert {battery.row(k).stopped_by for k in ("alg none", "tampered payload", "jku injection")} == {"signature"}
    assert "every other" in str(battery) and "skip_signature" in str(battery.matrix())


def test_stopped_by_names_no_check_for_a_good_token(lab):
    target = M.jwt_target(lab)
    assert M.stopped_by(target.verifier(), target.sign_in()["AccessToken"]) == (None, None)


# -- 2. CloudGoat's chain ---------------------------------------------------------------------------------
def test_the_cloudgoat_chain_reaches_the_admin_role_on_the_vulnerable_portal(lab):
    """Client id from the JavaScript, SignUp past the browser's domain check, custom:access written
    by the user, the Rules mapping hands out the admin role, which reads the secrets."""
    app = M.cloudgoat_app(lab)
    assert app.users.client_id in app.javascript and 'endsWith("@ensign.example")' in app.javascript
    episode = M.cloudgoat_attack(app)
    assert episode.succeeded and all(step.worked for step in episode.steps)
    assert episode.loot["role"] == "PortalAdminRole"
    assert episode.loot["claims"]["custom:access"] == "admin"
    # The client lists custom:access in WriteAttributes explicitly: the exploit does not lean on the
    # lab's default for a client without WriteAttributes (AWS documents standard attributes only).
    assert "custom:access" in app.client_settings()["WriteAttributes"]


def test_refusing_self_sign_up_stops_the_stranger_at_sign_up(lab):
    app = M.cloudgoat_app(lab)
    assert M.refuse_self_sign_up(app)["AllowAdminCreateUserOnly"] is True
    episode = M.cloudgoat_attack(app)
    assert not episode.succeeded
    assert "SignUp is not permitted" in episode.step("SignUp with a non-employee email").detail
    assert M.cloudgoat_attack(app, insider=("kirk@ensign.example", M.PASSWORD)).succeeded   # other doors still open


def test_write_attributes_without_custom_access_stop_an_insider_promoting_themselves(lab):
    """An app client may write only its WriteAttributes: UpdateUserAttributes of custom:access is
    NotAuthorizedException, the user stays a reader; name can still be changed."""
    app = M.cloudgoat_app(lab)
    assert M.set_write_attributes(app, ["email", "name"]) == ["email", "name"]
    episode = M.cloudgoat_attack(app, insider=("kirk@ensign.example", M.PASSWORD))
    assert not episode.succeeded and episode.loot["role"] == "PortalReaderRole"
    assert "unauthorized attribute" in episode.step("UpdateUserAttributes custom:access=admin").detail
    tokens = app.users.sign_in("kirk@ensign.example", M.PASSWORD)
    app.users.idp.update_user_attributes(AccessToken=tokens["AccessToken"],
                                         UserAttributes=[{"Name": "name", "Value": "James T. Kirk"}])


def test_write_attributes_do_not_undo_what_was_already_written(lab):
    """Closing the client afterwards leaves a self-promoted user promoted: the data must be fixed too."""
    app = M.cloudgoat_app(lab)
    assert M.cloudgoat_attack(app).succeeded
    M.set_write_attributes(app, ["email", "name"])
    assert M.cloudgoat_attack(app, insider=("mallory@evil.example", M.PASSWORD)).succeeded


def test_roles_by_group_ignore_the_user_writable_attribute(lab):
    """Token mapping: the role comes from cognito:preferred_role (groups, set by administrators);
    custom:access=admin buys nothing, a member of the admins group gets the admin role."""
    app = M.cloudgoat_app(lab)
    assert M.cloudgoat_attack(app).succeeded
    assert M.map_roles_by_group(app)["Type"] == "Token"
    episode = M.cloudgoat_attack(app, insider=("mallory@evil.example", M.PASSWORD))
    assert not episode.succeeded and episode.loot["role"] == "PortalReaderRole"
    app.users.idp.admin_add_user_to_group(UserPoolId=app.users.pool_id, Username="kirk@ensign.example",
                                          GroupName="admins")
    assert M.cloudgoat_attack(app, insider=("kirk@ensign.example", M.PASSWORD)).loot["role"] == "PortalAdminRole"


def test_set_write_attributes_explains_a_wrong_argument(lab):
    app = M.cloudgoat_app(lab)
    with pytest.raises(TypeError, match="list of attribute names"):
        M.set_write_attributes(app, "email")


# -- 3. email change -------------------------------------------------------------------------------------
def test_an_unverified_email_change_takes_over_an_app_that_trusts_the_email_claim(lab):
    app = M.email_change_app(lab)
    episode = M.email_takeover(app)
    assert episode.succeeded
    assert episode.loot["claims"] == {"email": "alice@example.com", "email_verified": False}


def test_attributes_require_verification_before_update_keep_the_old_email_in_the_token(lab):
    """UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate ["email"]: the new value
    waits for its code; the token keeps the verified old one."""
    app = M.email_change_app(lab)
    settings = M.require_verification_before_update(app, {"AttributesRequireVerificationBeforeUpdate": ["email"]})
    assert settings == {"AttributesRequireVerificationBeforeUpdate": ["email"]}
    episode = M.email_takeover(app)
    assert not episode.succeeded
    assert episode.loot["claims"] == {"email": "mallory@evil.example", "email_verified": True}
    assert lab.inbox("alice@example.com").latest.kind == "attribute-verification"


# -- 4. enumeration through SignUp ---------------------------------------------------------------------------
def _probe_answers(table):
    return {row[0]: (row[1], row[2]) for row in table.rows}


def test_sign_up_reveals_existing_emails_even_with_prevent_user_existence_errors(lab):
    """'The SignUp operation returns UsernameExistsException when a user name is already taken'
    (Managing user existence error responses), ENABLED or not; sign-in does not tell."""
    up = create_user_pool(lab, "emails", UsernameAttributes=["email"], AutoVerifiedAttributes=["email"],
                          prevent_user_existence_errors="ENABLED")
    up.add_user("alice@example.com", M.PASSWORD, email="alice@example.com")
    answers = _probe_answers(M.sign_up_probe(up.idp, up.client_id, ["alice@example.com", "nobody@example.com"]))
    assert answers["alice@example.com"] == ("NotAuthorizedException", "UsernameExistsException")
    assert answers["nobody@example.com"][0] == "NotAuthorizedException"
    assert answers["nobody@example.com"][1] != answers["alice@example.com"][1]


def test_random_usernames_with_an_email_alias_answer_sign_up_the_same_for_everyone(lab):
    """The documented mitigation: verification-based aliases; the app sends a random username,
    so SignUp with a taken email looks like any other."""
    up = create_user_pool(lab, "aliases", AliasAttributes=["email"], AutoVerifiedAttributes=["email"],
                          prevent_user_existence_errors="ENABLED")
    up.add_user("u-alice", M.PASSWORD, email="alice@example.com")
    answers = _probe_answers(M.sign_up_probe(up.idp, up.client_id, ["alice@example.com", "nobody@example.com"],
                                             username=lambda email: lab.rng.randbytes(8).hex()))
    assert answers["alice@example.com"] == answers["nobody@example.com"]


# -- 5. client secret ------------------------------------------------------------------------------------
def test_an_extracted_client_secret_opens_the_client_but_not_accounts(lab):
    app = M.secret_client_app(lab)
    assert app.extracted_secret() == app.users.client_secret
    rows = {(r[0], r[1]): r[2] for r in M.what_a_client_secret_allows(app).rows}
    assert "SECRET_HASH was not received" in rows[("SignUp a new account", "without")]
    assert rows[("SignUp a new account", "with")] == "works"
    assert rows[("ForgotPassword for alice (emails her a code)", "with")] == "works"
    assert rows[("sign in as alice, guessed password", "with")].startswith("NotAuthorizedException")


# -- 6. logout -----------------------------------------------------------------------------------------
def test_a_logout_that_forgets_leaves_copies_working_and_revoke_token_ends_them_but_not_locally(lab):
    up = create_user_pool(lab, "notes")
    up.add_user("alice", M.PASSWORD, email="alice@example.com")
    api = lab.protected_api(up.pool_id, up.client_id)
    forgotten = M.stolen_session(lab, up, up.sign_in("alice", M.PASSWORD), api=api)
    assert forgotten.succeeded and all(step.worked for step in forgotten.steps)

    idp = lab.client("cognito-idp")
    revoked = M.stolen_session(lab, up, up.sign_in("alice", M.PASSWORD), api=api,
                               logout=lambda t: idp.revoke_token(Token=t["RefreshToken"], ClientId=up.client_id))
    assert not revoked.succeeded
    assert "Access Token has been revoked" in revoked.step("GetUser with the copied access token").detail
    assert "Refresh Token has been revoked" in revoked.step("REFRESH_TOKEN_AUTH with the copied refresh token").detail
    assert revoked.step("an API that verifies the JWT locally").worked        # the revocation gap


# -- 7. localStorage (simulation) -------------------------------------------------------------------------
def test_an_injected_script_reads_local_storage_but_not_an_http_only_session(lab):
    up = create_user_pool(lab, "spa")
    up.add_user("alice", M.PASSWORD, email="alice@example.com")
    page = M.SimulatedPage("localStorage")
    page.sign_in(up.sign_in("alice", M.PASSWORD))
    stolen = page.run_injected_script()["localStorage"]["CognitoIdentityServiceProvider.RefreshToken"]
    assert "AccessToken" in up.refresh(stolen)               # the stolen refresh token works elsewhere
    safer = M.SimulatedPage("memory+bff")
    safer.sign_in(up.sign_in("alice", M.PASSWORD))
    assert safer.run_injected_script() == {"localStorage": {}, "document.cookie": ""}
    assert "SIMULATION" in repr(safer)
    with pytest.raises(ValueError):
        M.SimulatedPage("sessionStorage")


# -- 8. email quota ------------------------------------------------------------------------------------
def test_email_until_refused_stops_at_the_daily_quota_and_ses_pools_go_on(lab):
    up = create_user_pool(lab, "quota")
    up.add_user("alice", M.PASSWORD, email="alice@example.com")
    sent, refusal = M.email_until_refused(lab, up, "alice")
    assert sent == DAILY_EMAIL_QUOTA and refusal.startswith("LimitExceededException")
    M.update_user_pool(up.idp, up.pool_id, EmailConfiguration={
        "EmailSendingAccount": "DEVELOPER",
        "SourceArn": f"arn:aws:ses:{lab.region}:{lab.account_id}:identity/no-reply@example.com"})
    assert M.email_until_refused(lab, up, "alice", most=3) == (3, None)


# -- the audit ------------------------------------------------------------------------------------------
def test_audit_changes_lists_what_the_fixes_removed(lab):
    import labkit

    app = M.cloudgoat_app(lab)
    before = {"portal": labkit.audit_user_pool(app.users.idp, app.users.pool_id)}
    M.refuse_self_sign_up(app)
    M.set_write_attributes(app, ["email", "name"])
    after = {"portal": labkit.audit_user_pool(app.users.idp, app.users.pool_id)}
    row = M.audit_changes(before, after).rows[0]
    assert "self-sign-up" in row[3] and "writable-custom-attribute" in row[3]
    assert "self-sign-up" not in row[4] and "writable-custom-attribute" not in row[4]


def test_the_header_key_forgeries_still_work_after_the_lab_clock_moved_on(lab):
    """The jwk/jku variants check only the signature with the injected key; time claims are the
    verifier's checks on the lab clock (a lab clock an hour ahead must not make them refuse)."""
    target = M.jwt_target(lab)
    lab.clock.advance(minutes=61)
    battery = target.battery(kinds=["embedded jwk", "jku injection"])
    assert battery.row("embedded jwk").accepted_by == ["skip_signature", "trust_header_jwk"]
    assert battery.row("jku injection").accepted_by == ["skip_signature", "trust_header_jku"]
