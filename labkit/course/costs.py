"""What a user pool costs a month: the course's cost model, read from ``data/cognito_pricing.json``.

    >>> from labkit.course import costs
    >>> costs.monthly_cost("ESSENTIALS", 50_000)              # doctest: +SKIP
    600.0
    >>> costs.cost_table([10_000, 100_000, 1_000_000])        # a Table: one row per MAU count
    >>> costs.cost_chart()                                    # a Diagram: monthly cost by MAU, per plan

Every number comes from the data file, where each price has its source and the date it was read.
Prices move, and the file says which figures come from secondary sources: the model is for
comparing plans and reasoning about orders of magnitude, not for a budget. Where the sources stop
(Lite above 1,000,000 MAUs, federated MAUs above the free 50, email and SMS prices) the model
raises :class:`PriceUnknown` instead of guessing.

The model: a plan's MAUs are billed in bands (:func:`band_charges`) after the plan's free MAUs
(Lite and Essentials share 10,000 free MAUs per account; Plus has none). Federated (SAML/OIDC)
MAUs and machine-to-machine app clients and token requests are billed on top
(:func:`monthly_cost` ``federated_maus=``, ``m2m_clients=``, ``m2m_requests=``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

from .display import Diagram, Table

__all__ = ["PRICING_FILE", "PriceUnknown", "Band", "pricing", "plans", "source", "plan_bands",
           "band_charges", "mau_cost", "m2m_cost", "federated_cost", "monthly_cost", "cost_table",
           "cost_chart", "price_notes", "PLAN_COLORS"]

PRICING_FILE = Path(__file__).resolve().parents[2] / "data" / "cognito_pricing.json"
PLAN_COLORS = {"LITE": "#8c8c8c", "ESSENTIALS": "#4C72B0", "PLUS": "#C44E52"}


class PriceUnknown(ValueError):
    """The sources the course read give no price for this; the model will not guess one."""


@dataclass(frozen=True)
class Band:
    """MAUs from ``first`` to ``last`` (inclusive; ``None``: no end) cost ``per_mau`` each."""

    first: int
    last: int | None
    per_mau: float


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def pricing(path: str | Path | None = None) -> dict[str, Any]:
    """The pricing data (a fresh copy of ``data/cognito_pricing.json``, or of ``path``)."""
    return json.loads(json.dumps(_load(str(path or PRICING_FILE))))


def plans(data: dict[str, Any] | None = None) -> list[str]:
    """The plans, cheapest first: ``['LITE', 'ESSENTIALS', 'PLUS']``."""
    data = data or pricing()
    return list(data["plans"])


def source(key: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """One source entry (url, kind, date, note) by its key in the file."""
    data = data or pricing()
    return data["sources"][key]


def _plan(plan: str, data: dict[str, Any]) -> dict[str, Any]:
    name = str(plan).upper()
    if name not in data["plans"]:
        raise KeyError(f"no plan {plan!r}; the plans are {', '.join(data['plans'])}")
    return data["plans"][name]


def plan_bands(plan: str, data: dict[str, Any] | None = None) -> list[Band]:
    """The plan's bands, the free MAUs first (``per_mau`` 0), each band's first and last MAU."""
    data = data or pricing()
    entry = _plan(plan, data)
    bands: list[Band] = []
    start = 1
    if entry["free_maus"]:
        bands.append(Band(1, entry["free_maus"], 0.0))
        start = entry["free_maus"] + 1
    for band in entry["bands"]:
        last = band["up_to"]
        bands.append(Band(start, last, float(band["per_mau"])))
        if last is None:
            break
        start = last + 1
    return bands


def band_charges(plan: str, maus: int, data: dict[str, Any] | None = None, *,
                 free_tier: bool = True) -> list[tuple[Band, int, float]]:
    """How ``maus`` MAUs fill the plan's bands: ``(band, MAUs in it, dollars)`` for each band used.

    ``free_tier=False``: the account's free MAUs are already used (by another pool): none are free.
    Raises :class:`PriceUnknown` when ``maus`` runs past the last band the sources price."""
    if maus < 0:
        raise ValueError("maus must be 0 or more")
    data = data or pricing()
    bands = plan_bands(plan, data)
    if not free_tier and len(bands) > 1 and bands[0].per_mau == 0.0:
        # no free MAUs left: the first paid rate starts at MAU 1 (the bands' edges stay where they are)
        bands = [Band(1, bands[1].last, bands[1].per_mau)] + bands[2:]
    rows = []
    for band in bands:
        if maus < band.first:
            break
        top = maus if band.last is None else min(maus, band.last)
        count = top - band.first + 1
        rows.append((band, count, count * band.per_mau))
    covered = bands[-1].last if bands else 0
    if covered is not None and maus > covered:
        raise PriceUnknown(f"the course's sources give no {str(plan).upper()} price above {covered:,} MAUs "
                           f"(see data/cognito_pricing.json); {maus:,} asked")
    return rows


def mau_cost(plan: str, maus: int, data: dict[str, Any] | None = None, *, free_tier: bool = True) -> float:
    """Dollars a month for ``maus`` direct (and social) MAUs on ``plan``."""
    return round(sum(dollars for _, _, dollars in band_charges(plan, maus, data, free_tier=free_tier)), 6)


def federated_cost(federated_maus: int, data: dict[str, Any] | None = None) -> float:
    """Dollars a month for SAML/OIDC federated MAUs: free up to the free ones, else unknown."""
    data = data or pricing()
    entry = data["federated_maus"]
    if federated_maus <= entry["free_maus"]:
        return 0.0
    if entry["per_mau"] is None:
        raise PriceUnknown(f"the course's sources give no price for federated MAUs above "
                           f"{entry['free_maus']} (see data/cognito_pricing.json)")
    return round((federated_maus - entry["free_maus"]) * entry["per_mau"], 6)


def m2m_cost(app_clients: int = 0, token_requests: int = 0, data: dict[str, Any] | None = None) -> float:
    """Dollars a month for machine-to-machine (client-credentials) use: app clients for a full month
    plus token requests, every request at the first published rate (an upper bound; see the file)."""
    data = data or pricing()
    entry = data["m2m"]
    return round(app_clients * entry["per_app_client_month"] + token_requests * entry["per_token_request"], 6)


def monthly_cost(plan: str, maus: int, *, federated_maus: int = 0, m2m_clients: int = 0,
                 m2m_requests: int = 0, free_tier: bool = True, data: dict[str, Any] | None = None) -> float:
    """A user pool's month on ``plan``: its MAUs, plus federated MAUs and M2M use if given.

    Messages (email through SES, SMS through SNS) are billed by those services and are not included:
    see :func:`price_notes`."""
    data = data or pricing()
    total = mau_cost(plan, maus, data, free_tier=free_tier)
    if federated_maus:
        total += federated_cost(federated_maus, data)
    if m2m_clients or m2m_requests:
        total += m2m_cost(m2m_clients, m2m_requests, data)
    return round(total, 6)


def _money(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"${value:,.2f}"


def cost_table(maus: Iterable[int] = (10_000, 50_000, 100_000, 500_000, 1_000_000),
               plan_names: Sequence[str] | None = None, data: dict[str, Any] | None = None) -> Table:
    """Monthly cost of one pool per plan (columns) for each MAU count (rows); "unknown" where the
    sources stop."""
    data = data or pricing()
    names = list(plan_names or plans(data))
    rows = []
    for count in maus:
        cells: list[Any] = [f"{count:,}"]
        for name in names:
            try:
                cells.append(_money(monthly_cost(name, count, data=data)))
            except PriceUnknown:
                cells.append("unknown")
        rows.append(cells)
    transcription = data["sources"]["api-evangelist-transcription"]
    return Table(["MAUs"] + [n.title() for n in names], rows,
                 title="A user pool's monthly bill by plan (MAUs only, free tier included)",
                 notes=[f"Rates as transcribed from aws.amazon.com/cognito/pricing on {transcription['date']} "
                        "(secondary source) and checked against two more; see data/cognito_pricing.json.",
                        "Not included: SMS and email (billed by SNS / SES), federated MAUs above 50, M2M."])


def price_notes(data: dict[str, Any] | None = None) -> Table:
    """Every price in the file with its source and date: what a lesson cites."""
    data = data or pricing()
    rows = []

    def cite(keys: Sequence[str]) -> str:
        out = []
        for key in keys:
            entry = data["sources"][key]
            out.append(f"{key} ({entry['date'] or entry['date_meaning']})")
        return "; ".join(out)

    for name, entry in data["plans"].items():
        rates = ", ".join(f"${b['per_mau']}" + (f" to {b['up_to']:,}" if b["up_to"] else "")
                          for b in entry["bands"])
        rows.append([name.title(), f"{entry['free_maus']:,} free, then {rates} per MAU", cite(entry["sources"])])
    fed = data["federated_maus"]
    rows.append(["SAML/OIDC MAUs", f"{fed['free_maus']} free, then unknown", cite(fed["sources"])])
    m2m = data["m2m"]
    rows.append(["M2M", f"${m2m['per_app_client_month']:g} per app client a month + "
                        f"${m2m['per_token_request'] * 1000:g} per 1,000 token requests", cite(m2m["sources"])])
    rows.append(["Email / SMS", "billed by SES / SNS, per message; SMS by country", cite(data["messages"]["sources"])])
    return Table(["what", "price", "sources (date)"], rows, title="Cognito prices in this course",
                 widths=[14, 42, 38])


def cost_chart(max_maus: int = 1_000_000, plan_names: Sequence[str] | None = None,
               data: dict[str, Any] | None = None, points: int = 101) -> Diagram:
    """Monthly cost by MAUs, one line per plan, from 0 to ``max_maus`` (a :class:`Diagram`: a PNG in
    Jupyter, a few lines of text for nbval)."""
    import logging

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    from matplotlib.figure import Figure

    data = data or pricing()
    names = list(plan_names or plans(data))
    xs = [round(max_maus * i / (points - 1)) for i in range(points)]
    figure = Figure(figsize=(7, 3.6), dpi=100)
    ax = figure.add_subplot()
    lines = []
    for name in names:
        ys = []
        for x in xs:
            try:
                ys.append(monthly_cost(name, x, data=data))
            except PriceUnknown:
                ys.append(float("nan"))
        ax.plot([x / 1000 for x in xs], ys, label=name.title(), color=PLAN_COLORS.get(name), linewidth=2)
        lines.append(f"{name.title():<11} {_money(ys[-1])} a month at {max_maus:,} MAUs")
    ax.set_xlabel("monthly active users (thousands)")
    ax.set_ylabel("dollars a month")
    date = data["sources"]["api-evangelist-transcription"]["date"]
    ax.set_title(f"Cognito user pool, monthly cost by plan (prices as read {date})", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    ax.yaxis.set_major_formatter(lambda v, _pos: f"${v:,.0f}")
    figure.subplots_adjust(left=0.13, right=0.97, bottom=0.14, top=0.9)
    text = "\n".join([f"Monthly cost by MAUs, 0 to {max_maus:,} (prices as read {date}, secondary source):"]
                     + ["  " + line for line in lines])
    return Diagram(figure, text)
