"""Lesson 12's helpers (labkit.course.operations): the import file, the day of traffic and what its
log shows, the exit inventory, the alternatives data, and the SMS MFA cost extension."""
import json
from collections import Counter

import pytest

from labkit import Lab
from labkit.course import costs
from labkit.course import operations as O
from labkit.course.userpool import create_user_pool


@pytest.fixture(scope="module")
def day():
    """One lab with a day of traffic (expensive: shared by the tests that only read it)."""
    with Lab(seed=12) as lab:
        shop = create_user_pool(lab, "shop", prevent_user_existence_errors="LEGACY")
        lab.cloudtrail.clear()
        traffic = O.day_of_traffic(lab, shop)
        yield lab, shop, traffic, list(lab.cloudtrail.events)


def test_csv_values_follow_the_guides_rules():
    assert O.csv_value(True) == "true" and O.csv_value(None) == "" and O.csv_value("a, b") == "a\\, b"
    assert O.csv_line(["b", "a", "c"], {"a": 1, "b": "x,y"}) == "x\\,y,1,"


def test_the_log_separates_the_brute_force_from_the_enumeration(day):
    lab, shop, traffic, events = day
    failed = [e for e in events if e["eventName"] == "InitiateAuth" and e.get("errorCode")]
    per_ip = Counter(e["sourceIPAddress"] for e in failed)
    assert per_ip[traffic.brute_force_ip] == traffic.brute_force_attempts
    assert per_ip[traffic.enumeration_ip] == traffic.enumeration_attempts
    subs = lambda ip: [e.get("additionalEventData", {}).get("sub") for e in failed if e["sourceIPAddress"] == ip]
    assert len(set(subs(traffic.brute_force_ip))) == 1 and None not in subs(traffic.brute_force_ip)
    assert subs(traffic.enumeration_ip).count(None) > traffic.enumeration_attempts / 2
    # the lockout answered most of the brute force; user names never appear
    assert Counter(e["errorMessage"] for e in failed if e["sourceIPAddress"] == traffic.brute_force_ip)[
        "Password attempts exceeded"] > 0
    assert traffic.brute_force_target not in json.dumps(events)


def test_the_day_is_on_the_lab_clock_and_the_same_for_the_same_seed(day):
    lab, shop, traffic, events = day
    windows = O.failures_by_window(events, minutes=60)
    assert set(windows[traffic.brute_force_ip]) == {"11:00"}
    assert set(windows[traffic.enumeration_ip]) == {"15:00"}
    assert all(e["eventTime"][11:13] >= "08" for e in events)
    assert not lab.clock.frozen                      # given back as it was
    assert "peak" in repr(O.failure_chart(events))


def test_the_exit_inventory_shows_what_no_api_returns(day):
    lab, shop, traffic, events = day
    table = O.exit_inventory(lab, shop.idp, shop.pool_id, "customer01")
    rows = {row[0]: row for row in table.rows}
    assert rows["password (salt + verifier, a hash)"][1] == "yes"
    assert rows["password (salt + verifier, a hash)"][2].startswith("no")
    assert rows["TOTP secret (authenticator app)"][1] == "none set"
    assert rows["attributes (email, phone, custom:…)"][2].startswith("yes")
    exported = O.export_users(shop.idp, shop.pool_id)
    assert len(exported) == 12 and exported[0]["Username"] == "customer01"
    assert "Shop-Pass-2026" not in json.dumps(exported, default=str)


def test_every_alternative_fact_has_a_source_and_a_date():
    data = O.alternatives()
    assert "Cognito" in data["products"]
    for product, entry in data["products"].items():
        for dimension, fact in entry["facts"].items():
            assert dimension in data["dimensions"], (product, dimension)
            assert fact["source"] and fact["read"] and fact["value"] and fact["short"], (product, dimension)
            assert isinstance(fact["second_hand"], bool)
    table = O.alternatives_table()
    keycloak = next(row for row in table.rows if row[0] == "Keycloak")
    assert keycloak[1] == "—"                        # not sourced: left out, not guessed
    assert "[1]" in O.alternatives_table("export").text()
    with pytest.raises(KeyError):
        O.alternatives_table("price per seat")


def test_sms_mfa_costs_messages_and_totp_none():
    jp = O.sms_price("JP")
    assert jp == costs.pricing()["sms_prices"]["countries"]["JP"]["per_message_part"]
    assert O.mfa_message_cost(1_000, 8, per_message=0.05) == pytest.approx(400.0)      # 1,000 × 8 × $0.05
    assert O.mfa_message_cost(1_000, 8, per_message=0.05, parts=2) == pytest.approx(800.0)
    with pytest.raises(costs.PriceUnknown):
        O.sms_price("ZZ")
    with pytest.raises(ValueError):
        O.mfa_message_cost(-1, 8, per_message=0.05)
    table = O.mfa_cost_table((10_000, 20_000), 4, per_message=0.05)
    # 20,000 MAUs on Essentials: 10,000 free, 10,000 × $0.015 = $150; SMS: 20,000 × 4 × $0.05 = $4,000
    assert table.rows[1] == ["20,000", "$150.00", "$4,150.00", "$150.00", "$4,000.00"]
    assert "SMS MFA" in repr(O.mfa_cost_chart(per_message=jp))


def test_the_sms_prices_in_the_data_file_name_their_sources():
    sms = costs.pricing()["sms_prices"]
    for country, entry in sms["countries"].items():
        assert entry["source"] in sms["sources"], country
        assert sms["sources"][entry["source"]]["url"].startswith("https://")
