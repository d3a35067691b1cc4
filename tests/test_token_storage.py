"""labkit.token_storage: the storage guide, its lookups and review, the lifetimes table, anatomy."""
import pytest

from labkit.course import token_storage as ts
from labkit.cognito.lifetimes import RANGES


# -- the guide as data --------------------------------------------------------------------------
def test_every_client_has_one_placement_per_token_with_known_places():
    assert [k.key for k in ts.GUIDE] == ["spa", "mobile", "web-server", "cli", "backend"]
    for kind in ts.GUIDE:
        assert [p.token for p in kind.placements] == ["id", "access", "refresh"]
        for placement in kind.placements:
            assert placement.best, (kind.key, placement.token)
            places = placement.best + placement.ok + placement.never
            assert all(p in ts.PLACES for p in places), places
            assert len(set(places)) == len(places), f"{kind.key}/{placement.token}: a place in two lists"
            assert placement.why.strip()


def test_what_the_lesson_teaches_is_in_the_data():
    browser = ("local-storage", "session-storage", "js-cookie")
    for token in ("id", "access", "refresh"):
        assert all(p in ts.where_to_store("spa", token).never for p in browser)
        assert ts.where_to_store("web-server", token).best == ("server-session",)
        assert "logs" in ts.where_to_store("backend", token).never
    assert ts.where_to_store("mobile", "refresh").best == ("os-secure-storage",)
    assert ts.where_to_store("cli", "refresh").ok == ("private-file",)
    assert ts.where_to_store("backend", "id").best == ("nowhere",)
    assert ts.where_to_store("backend", "refresh").best == ("nowhere",)


@pytest.mark.parametrize("client, key", [("SPA", "spa"), ("single-page app", "spa"), ("browser", "spa"),
                                         ("iOS", "mobile"), ("BFF", "web-server"), ("web_server", "web-server"),
                                         ("desktop", "cli"), ("API", "backend"), ("backend service", "backend")])
def test_client_names_and_aliases(client, key):
    assert ts.client_kind(client).key == key


@pytest.mark.parametrize("token, key", [("id", "id"), ("IdToken", "id"), ("ID token", "id"),
                                        ("access_token", "access"), ("AccessToken", "access"),
                                        ("refresh", "refresh"), ("Refresh Token", "refresh")])
def test_token_names(token, key):
    assert ts.where_to_store("mobile", token).token == key


def test_unknown_names_say_what_is_known():
    with pytest.raises(ValueError, match="'spa'"):
        ts.client_kind("smart fridge")
    with pytest.raises(ValueError, match="'id', 'access' or 'refresh'"):
        ts.where_to_store("spa", "session")
    with pytest.raises(ValueError, match="'memory'"):
        ts.place_key("under the mattress")


@pytest.mark.parametrize("place, key", [("localStorage", "local-storage"), ("Keychain", "os-secure-storage"),
                                        ("in memory", "memory"), ("HttpOnly cookie", "httponly-cookie"),
                                        ("document.cookie", "js-cookie"), ("server session", "server-session"),
                                        ("os-secure-storage", "os-secure-storage")])
def test_place_aliases(place, key):
    assert ts.place_key(place) == key


def test_verdicts():
    refresh = ts.where_to_store("cli", "refresh")
    assert refresh.verdict("keychain") == "best"
    assert refresh.verdict("private-file") == "ok"
    assert refresh.verdict("command-line") == "never"
    assert refresh.verdict("local-storage") == "not recommended"


def test_review_plan():
    good = {"id": "memory", "access": "memory", "refresh": "os-secure-storage"}
    assert ts.review_plan("mobile", good) == []
    assert ts.review_plan("mobile", {"IdToken": "memory", "AccessToken": "keychain", "RefreshToken": "Keychain"}) == []
    problems = ts.review_plan("spa", {"id": "memory", "access": "localStorage"})
    assert len(problems) == 2
    assert problems[0].startswith("never keep the access token of a single-page app")
    assert problems[1] == "the refresh token has no place in the plan"
    (problem,) = ts.review_plan("mobile", dict(good, refresh="memory"))
    assert "is not a good place for the refresh token of a mobile app" in problem
    with pytest.raises(TypeError):
        ts.review_plan("mobile", ["memory"])


def test_guide_renders_as_text_and_html():
    """The whole guide is a compact summary (one row per client, the best place per token) as text,
    and the summary plus each client's full table folded in <details> as HTML."""
    text = str(ts.storage_guide())
    for kind in ts.GUIDE:
        assert kind.name in text and f"\n{kind.key} " in text
    assert len(text.splitlines()) <= 15 and "\nnever " not in text
    assert max(len(line) for line in text.splitlines()) <= 140
    assert 'storage_guide("spa")' in text                                 # says how to see more
    page = ts.storage_guide()._repr_html_()
    assert page.count("<table>") == len(ts.GUIDE) + 1 and page.count("<details>") == len(ts.GUIDE)
    assert page.count("<b>Mobile app: ") == 1
    assert "HttpOnly; Secure; SameSite" in page and "&#x27;" in page     # escaped
    one = str(ts.storage_guide("mobile"))
    assert "Mobile app" in one and "Single-page" not in one
    assert "Why:" in str(ts.where_to_store("spa", "refresh"))


# -- lifetimes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("seconds, text", [(300, "5 minutes"), (900, "15 minutes"), (3600, "60 minutes"),
                                           (7200, "2 hours"), (86400, "1 day"), (30 * 86400, "30 days"),
                                           (3650 * 86400, "3650 days (10 years)"), (365 * 86400, "365 days (1 year)"),
                                           (90, "90 seconds"), (1, "1 second"), (60, "1 minute"),
                                           (54000, "15 hours"), (9000, "150 minutes")])
def test_human_duration(seconds, text):
    assert ts.human_duration(seconds) == text


def test_lifetimes_follow_the_lab_rules():
    table = ts.lifetimes()
    assert [r.kind for r in table.rows] == ["IdToken", "AccessToken", "RefreshToken"]
    for row in table.rows:
        assert (row.minimum, row.maximum) == RANGES[row.kind]
        assert row.client is None
    assert table.row("access").default == 3600 and table.row("refresh").default == 30 * 86400
    assert table.row("id").default_unit == "hours" and table.row("refresh").default_unit == "days"
    text = str(table)
    assert "5 minutes   1 day" in text and "3650 days (10 years)" in text and "this client" not in text
    assert "<b>Token lifetimes (app client settings)</b>" in table._repr_html_()


def test_lifetimes_of_a_client_with_units_and_defaults():
    client = {"ClientName": "kiosk", "AccessTokenValidity": 15, "IdTokenValidity": 5,
              "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes"}}
    table = ts.lifetimes(client)
    assert table.row("access").client == 900 and table.row("id").client == 300
    assert table.row("refresh").client == 30 * 86400                  # not set: the default
    assert "client kiosk" in str(table) and "15 minutes" in str(table)
    assert ts.lifetimes({"AccessTokenValidity": 15}).row("access").client == 15 * 3600   # hours by default


# -- anatomy ------------------------------------------------------------------------------------
def test_anatomy_of_lab_tokens(cognito):
    result = cognito.sign_in(username="root")
    view = ts.anatomy(result, clock=cognito.lab.clock)
    assert view.only_in("id") == ["cognito:username", "email", "aud"]
    assert view.only_in("access") == ["username", "client_id", "scope"]
    both = view.in_both()
    for claim in ("sub", "cognito:groups", "iss", "token_use", "auth_time", "iat", "exp", "jti", "origin_jti"):
        assert claim in both
    rows = {r.name: r for r in view.rows}
    assert rows["token_use"].value == "ID: id | access: access"
    assert rows["origin_jti"].value == rows["origin_jti"].id_value          # same sign-in, one value
    assert rows["exp"].value.endswith("= iat + 3600 s (60 minutes); expires in 60 min")
    assert rows["auth_time"].value.endswith("= iat: signed in when issued")
    assert "now" not in rows["iat"].value and "ago" not in rows["iat"].value
    assert [r.name for r in view.rows[:2]] == ["alg", "kid"]
    text, page = str(view), view._repr_html_()
    for kid in {r["kid"] for r in cognito.lab.user_pool_jwks(cognito.pool_id)["keys"]}:
        assert kid not in text and kid not in page                        # random per run: never shown
    assert "opaque" in view.refresh_note and "refresh token:" in text
    assert "<code>cognito:groups</code>" in page


def test_anatomy_of_a_refresh_result_and_bad_input(cognito):
    from labkit.cognito import session as cognito_session

    first = cognito.sign_in()
    cognito.lab.clock.advance(minutes=61)
    renewed = cognito_session.refresh(cognito.idp, cognito.client_id, first["RefreshToken"])
    view = ts.anatomy(renewed, clock=cognito.lab.clock)
    assert "none in this result" in view.refresh_note
    auth_time = next(r for r in view.rows if r.name == "auth_time").value
    assert "signed in earlier" in auth_time and "= iat - 366" in auth_time     # 61 min, a few s of slack
    old = ts.anatomy(first, clock=cognito.lab.clock)
    assert next(r for r in old.rows if r.name == "exp").value.endswith("; expired about a minute ago")
    with pytest.raises(TypeError):
        ts.anatomy(first["AccessToken"])
    with pytest.raises(ValueError):
        ts.anatomy({"IdToken": "not-a-jwt", "AccessToken": "x"})
