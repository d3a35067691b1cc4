"""The course's cost model (labkit/course/costs.py) against data/cognito_pricing.json.

Every expected figure is worked out here by hand from the rates in the data file (read in the
test, never typed in), so that a price corrected in the file moves the model and these tests with it.
"""
from __future__ import annotations

import json
import pytest

from labkit.course import costs

DATA = json.loads(costs.PRICING_FILE.read_text(encoding="utf-8"))
LITE, ESSENTIALS, PLUS = (DATA["plans"][p] for p in ("LITE", "ESSENTIALS", "PLUS"))


def test_every_price_names_a_source_with_a_date_or_says_when_it_was_read():
    sources = DATA["sources"]
    for key, entry in sources.items():
        assert entry["url"] and entry["kind"], key
        assert entry["date"] or entry["date_meaning"], f"{key}: no date and no word on when it was read"
    cited = [DATA["free_tier"], DATA["federated_maus"], DATA["m2m"], DATA["messages"], *DATA["plans"].values()]
    for entry in cited:
        assert entry["sources"], entry
        for key in entry["sources"]:
            assert key in sources, key
    # the secondary ones say so
    for key in ("api-evangelist-transcription", "danguisinger-cognito", "rhythmictech-m2m"):
        assert sources[key]["kind"].startswith("secondary"), key


def test_a_pool_inside_the_free_tier_costs_nothing_except_on_plus():
    assert costs.monthly_cost("LITE", LITE["free_maus"]) == 0
    assert costs.monthly_cost("ESSENTIALS", ESSENTIALS["free_maus"]) == 0
    assert PLUS["free_maus"] == 0
    assert costs.monthly_cost("PLUS", 1) == pytest.approx(PLUS["bands"][0]["per_mau"])
    assert costs.monthly_cost("ESSENTIALS", 0) == 0


def test_essentials_bills_every_mau_above_the_free_ones_at_one_rate():
    rate = ESSENTIALS["bands"][0]["per_mau"]
    for maus in (10_001, 50_000, 1_000_000, 25_000_000):
        expected = (maus - ESSENTIALS["free_maus"]) * rate
        assert costs.monthly_cost("essentials", maus) == pytest.approx(expected)


def test_plus_bills_every_mau():
    rate = PLUS["bands"][0]["per_mau"]
    assert costs.monthly_cost("PLUS", 100_000) == pytest.approx(100_000 * rate)


def test_lite_is_graduated_band_by_band():
    free = LITE["free_maus"]
    (first_edge, first_rate), (second_edge, second_rate) = [(b["up_to"], b["per_mau"]) for b in LITE["bands"]]
    # inside the first paid band
    assert costs.monthly_cost("LITE", 60_000) == pytest.approx((60_000 - free) * first_rate)
    # the transcription's worked example: 850,000 MAUs in the second band
    maus = first_edge + 850_000
    assert maus <= second_edge
    expected = (first_edge - free) * first_rate + (maus - first_edge) * second_rate
    assert costs.monthly_cost("LITE", maus) == pytest.approx(expected)
    charges = costs.band_charges("LITE", maus)
    assert [count for _, count, _ in charges] == [free, first_edge - free, maus - first_edge]


def test_lite_above_the_last_priced_band_is_refused_not_guessed():
    last = LITE["bands"][-1]["up_to"]
    assert LITE["beyond_last_band"] is None
    assert costs.monthly_cost("LITE", last) > 0
    with pytest.raises(costs.PriceUnknown, match=f"{last:,}"):
        costs.monthly_cost("LITE", last + 1)


def test_without_the_free_tier_the_first_paid_rate_starts_at_one():
    rate = ESSENTIALS["bands"][0]["per_mau"]
    assert costs.monthly_cost("ESSENTIALS", 5_000, free_tier=False) == pytest.approx(5_000 * rate)
    lite_rate = LITE["bands"][0]["per_mau"]
    assert costs.monthly_cost("LITE", 20_000, free_tier=False) == pytest.approx(20_000 * lite_rate)
    # Plus has no free tier either way
    assert costs.monthly_cost("PLUS", 7, free_tier=False) == costs.monthly_cost("PLUS", 7)


def test_m2m_and_federated_users_add_to_the_bill():
    m2m = DATA["m2m"]
    # the blog's worked example: 19 app clients, 57,000 token requests
    expected_m2m = 19 * m2m["per_app_client_month"] + 57_000 * m2m["per_token_request"]
    assert costs.m2m_cost(19, 57_000) == pytest.approx(expected_m2m)
    base = costs.monthly_cost("ESSENTIALS", 20_000)
    assert costs.monthly_cost("ESSENTIALS", 20_000, m2m_clients=19, m2m_requests=57_000) == \
        pytest.approx(base + expected_m2m)
    free = DATA["federated_maus"]["free_maus"]
    assert costs.monthly_cost("ESSENTIALS", 20_000, federated_maus=free) == pytest.approx(base)
    with pytest.raises(costs.PriceUnknown):
        costs.monthly_cost("ESSENTIALS", 20_000, federated_maus=free + 1)


def test_plans_cost_more_as_they_add_features_once_past_the_free_tier():
    for maus in (20_000, 100_000, 1_000_000):
        lite, essentials, plus = (costs.monthly_cost(p, maus) for p in ("LITE", "ESSENTIALS", "PLUS"))
        assert lite < essentials < plus


def test_bad_input():
    with pytest.raises(KeyError, match="LITE, ESSENTIALS, PLUS"):
        costs.monthly_cost("GOLD", 10)
    with pytest.raises(ValueError):
        costs.monthly_cost("LITE", -1)


def test_cost_table_and_chart_show_the_model_and_its_gaps():
    table = costs.cost_table([50_000, 2_000_000])
    assert table.columns == ["MAUs", "Lite", "Essentials", "Plus"]
    essentials = (50_000 - ESSENTIALS["free_maus"]) * ESSENTIALS["bands"][0]["per_mau"]
    assert table.rows[0][2] == f"${essentials:,.2f}"
    assert table.rows[1][1] == "unknown"           # Lite past its last priced band
    text = table.text()
    assert DATA["sources"]["api-evangelist-transcription"]["date"] in text
    assert max(len(line) for line in text.splitlines()) <= 100

    chart = costs.cost_chart(max_maus=200_000, points=11)
    assert chart.png().startswith(b"\x89PNG")
    assert DATA["sources"]["api-evangelist-transcription"]["date"] in repr(chart)
    plus_line = next(line for line in repr(chart).splitlines() if "Plus" in line)
    assert f"${200_000 * PLUS['bands'][0]['per_mau']:,.2f}" in plus_line

    notes = costs.price_notes()
    assert len(notes.rows) == len(DATA["plans"]) + 3
    assert max(len(line) for line in notes.text().splitlines()) <= 100
