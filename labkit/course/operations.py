"""Lesson 12's helpers: migration in bulk, a day of sign-in traffic with two attacks in it, the
exit inventory, the alternatives table, and what SMS MFA costs beside TOTP.

What Cognito does is in the emulator (the import jobs: :mod:`labkit.emulator.user_pools.imports`;
the CloudTrail-shaped log: :mod:`labkit.emulator.cloudtrail`); what it costs in
:mod:`labkit.course.costs` and ``data/cognito_pricing.json``. This module only stages the lesson.
"""
from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..cognito.display import Table
from .display import Diagram

__all__ = ["LEGACY_USERS", "csv_value", "csv_line", "upload_csv", "export_users", "exit_inventory",
           "migration_comparison", "Traffic", "day_of_traffic", "failures_by_window", "failure_chart",
           "ALTERNATIVES_FILE", "alternatives", "alternatives_table", "sms_price", "mfa_message_cost",
           "mfa_cost_table", "mfa_cost_chart"]

ROOT = Path(__file__).resolve().parents[2]
ALTERNATIVES_FILE = ROOT / "data" / "identity_alternatives.json"
SSE_HEADER = {"x-amz-server-side-encryption": "aws:kms"}


# -- migration in bulk -----------------------------------------------------------------------------
#: The legacy directory the lesson migrates: what an old user table typically holds.
LEGACY_USERS: tuple[dict[str, Any], ...] = (
    {"login": "ana", "email": "ana@example.com", "email_confirmed": True, "phone": "+14255550101",
     "name": "Ana Lima", "address": "1 Rua Augusta, Lisboa", "totp": True},
    {"login": "ben", "email": "ben@example.com", "email_confirmed": True, "phone": None,
     "name": "Ben Okafor", "address": None, "totp": False},
    {"login": "chen", "email": "chen@example.com", "email_confirmed": True, "phone": "+14255550103",
     "name": "Chen Wei", "address": "22 King St, Apt 4", "totp": False},
    {"login": "dana", "email": "dana@example.com", "email_confirmed": False, "phone": None,
     "name": "Dana Cruz", "address": None, "totp": False},
    {"login": "eli", "email": "eli@example.com", "email_confirmed": True, "phone": None,
     "name": "Eli Stone", "address": None, "totp": True},
)


def csv_value(value: Any) -> str:
    """One value as the import file wants it: booleans as true/false, nothing as empty, a comma
    escaped with a backslash ("If an attribute value contains a comma, you must put a backslash")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).replace(",", "\\,")


def csv_line(header: Sequence[str], values: dict[str, Any]) -> str:
    """One row in the order of ``header`` (columns missing from ``values`` are left empty)."""
    return ",".join(csv_value(values.get(column)) for column in header)


def upload_csv(url: str, body: bytes | str):
    """PUT the file to a job's PreSignedUrl, as the guide's ``curl -T file -H
    "x-amz-server-side-encryption:aws:kms" URL`` does. Returns the HTTP status."""
    import urllib.request

    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(url, data=data, method="PUT", headers=SSE_HEADER)
    with urllib.request.urlopen(request, timeout=10) as response:      # 127.0.0.1 only
        return response.status


def migration_comparison() -> Table:
    """Bulk import (CreateUserImportJob) beside lazy migration (the user migration trigger)."""
    rows = [
        ["When users move", "all at once, when you run the job",
         "one by one, at their first sign-in or password reset"],
        ["Passwords", "not imported: every user resets (PasswordResetRequiredException, then "
                      "ForgotPassword)", "kept: the trigger checks the old password and Cognito stores it"],
        ["MFA", "only cognito:mfa_enabled; no TOTP secret column: authenticator apps are set up again",
         "the trigger returns attributes only: authenticator apps are set up again"],
        ["First sign-in costs", "a reset message per user (email via SES, or SMS by country)",
         "a Lambda invocation and a call to the old system, for each user once"],
        ["Users who never come back", "in the pool (and counted as MAUs only when active)",
         "stay in the old system, which must keep running"],
        ["The old system", "can be switched off after the import", "runs until the stragglers are migrated"],
    ]
    return Table(["", "Bulk import (CSV)", "Lazy (migration trigger, lesson 07)"], rows,
                 title="Two ways onto Cognito", widths=[18, 38, 38],
                 notes=["Developer guide: 'Importing users into a user pool' (both approaches), 'Requiring "
                        "imported users to reset their passwords', 'Migrate user Lambda trigger'."])


# -- the exit plan ---------------------------------------------------------------------------------
def export_users(idp, pool_id: str) -> list[dict]:
    """Every user of the pool as ListUsers returns them (all pages), oldest first by username."""
    users, token = [], None
    while True:
        page = idp.list_users(UserPoolId=pool_id, **({"PaginationToken": token} if token else {}))
        users.extend(page["Users"])
        token = page.get("PaginationToken")
        if not token:
            return sorted(users, key=lambda user: user["Username"])


def exit_inventory(lab, idp, pool_id: str, username: str) -> Table:
    """What the pool keeps about ``username`` and whether any read API gives it back.

    The left column is read from the lab's own stores (what Cognito keeps); the right one from real
    answers of ListUsers, AdminGetUser and AdminListGroupsForUser: a field is "exported" only if one
    of them returned it.
    """
    state = lab.user_pools
    listed = next(u for u in export_users(idp, pool_id) if u["Username"] == username)
    detail = idp.admin_get_user(UserPoolId=pool_id, Username=username)
    groups = idp.admin_list_groups_for_user(UserPoolId=pool_id, Username=username)["Groups"]
    answers = json.dumps([listed, detail, groups], default=str)
    names = {a["Name"] for a in listed.get("Attributes", [])}
    has_password = (pool_id, username) in state.srp_verifiers
    totp = state.totp.get((pool_id, username)) or state.totp.get(("pending", pool_id, username))

    def shown(*keys: str) -> str:
        return "yes" if any(f'"{key}"' in answers for key in keys) else "no"

    rows = [
        ["username, status, enabled, dates", "yes", shown("UserStatus") + " (ListUsers)"],
        ["attributes (email, phone, custom:…)", f"{len(names)} attributes", "yes (ListUsers)"],
        ["sub (the id other systems key on)", "yes", "yes, but a new pool gives new subs"],
        ["groups", f"{len(groups)} groups", "yes (AdminListGroupsForUser, per user)"],
        ["MFA settings (which factors are on)", "yes", shown("UserMFASettingList") + " (AdminGetUser)"],
        ["password (salt + verifier, a hash)", "yes" if has_password else "none set",
         shown("Password", "PasswordHash", "Verifier") + ": no API returns it"],
        ["TOTP secret (authenticator app)", "yes" if totp else "none set",
         shown("SecretCode", "TotpSecret") + ": no API returns it"],
        ["refresh tokens / sessions", "yes", "no"],
    ]
    return Table(["what", "kept by the pool", "exported by a read API"], rows,
                 title=f"Exit inventory for one user ({username})", widths=[36, 18, 40])


# -- a day of traffic, with a brute-force run and an enumeration run --------------------------------
@dataclass
class Traffic:
    """What :func:`day_of_traffic` did (the answers the log should let you find)."""

    start: datetime
    regular_sign_ins: int
    brute_force_ip: str
    brute_force_target: str
    brute_force_attempts: int
    enumeration_ip: str
    enumeration_attempts: int


WORDLIST = ("admin", "administrator", "test", "guest", "info", "support", "root", "user", "demo", "sales",
            "office", "john", "jane", "mike", "sarah", "david", "anna", "tom", "lisa", "mark", "paul",
            "kate", "chris", "alex", "sam", "maria", "peter", "laura", "james", "emma")


def _client(lab, user_agent: str, address: dict):
    """A cognito-idp client that sends ``user_agent`` and, as ``X-Forwarded-For``, ``address["ip"]``
    (read at each request: one client serves every address with that user agent)."""
    from botocore.config import Config

    client = lab.client("cognito-idp", config=Config(user_agent=user_agent))

    def add_address(request, **_):
        request.headers["X-Forwarded-For"] = address["ip"]     # the lab records it as sourceIPAddress
    client.meta.events.register("before-send.cognito-identity-provider.*", add_address)
    return client


def day_of_traffic(lab, pool, *, users: int = 12, seed: int = 12, password: str = "Shop-Pass-2026") -> Traffic:
    """A working day on the lab clock in ``pool`` (a :class:`~labkit.course.userpool.UserPoolSetup`):
    ``users`` customers signing in from their phones (a few typos among them), a brute-force run on
    one account from one address at 11:00 (30 guesses), and a username enumeration from another at
    15:00 (23 names, 3 of them real).
    Every request goes through the lab, so ``lab.cloudtrail`` records it all."""
    from botocore.exceptions import ClientError

    rng = random.Random(seed)
    names = [f"customer{n:02d}" for n in range(1, users + 1)]
    for name in names:
        pool.add_user(name, password, email=f"{name}@example.com")
    was_frozen = lab.clock.frozen
    lab.clock.freeze()              # the day's times are exact, however long the calls take
    now = lab.clock.now()
    start = now.replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=1)
    lab.clock.advance(seconds=(start - now).total_seconds())
    plan: list[tuple[float, str, str, str, str]] = []      # (seconds after start, ip, agent, user, password)
    for i, name in enumerate(names):
        ip, agent = f"192.0.2.{10 + i}", "ShopApp/3.1 (iOS 18)" if i % 2 else "ShopApp/3.1 (Android 15)"
        for _ in range(rng.randint(1, 2)):
            at = rng.uniform(0, 11 * 3600)
            if rng.random() < 0.2:                                # a typo, then the right password
                plan.append((at, ip, agent, name, password[:-1]))
                at += 20
            plan.append((at, ip, agent, name, password))
    target, brute_ip = names[3], "198.51.100.23"
    guesses = 30
    for n in range(guesses):
        plan.append((3 * 3600 + 15 * n, brute_ip, "python-requests/2.32", target, f"Summer{2000 + n}!"))
    enum_ip = "203.0.113.77"
    probes = list(WORDLIST[:20]) + rng.sample(names, 3)
    rng.shuffle(probes)
    for n, name in enumerate(probes):
        plan.append((7 * 3600 + 8 * n, enum_ip, "curl/8.5.0", name, "Winter2026!"))
    plan.sort(key=lambda item: item[0])
    address = {"ip": ""}
    clients = {agent: _client(lab, agent, address) for agent in sorted({item[2] for item in plan})}
    elapsed, regular = 0.0, 0
    try:
        for at, ip, agent, user, guess in plan:
            lab.clock.advance(seconds=at - elapsed)
            elapsed = at
            address["ip"] = ip
            try:
                clients[agent].initiate_auth(ClientId=pool.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                             AuthParameters={"USERNAME": user, "PASSWORD": guess})
            except ClientError:
                pass
            regular += ip.startswith("192.0.2.")
    finally:
        if not was_frozen:
            lab.clock.unfreeze()
    return Traffic(start, regular, brute_ip, target, guesses, enum_ip, len(probes))


def failures_by_window(events: Iterable[dict], minutes: int = 30) -> dict[str, Counter]:
    """Failed events per source address per window of ``minutes`` (window start as ``HH:MM``)."""
    result: dict[str, Counter] = defaultdict(Counter)
    for event in events:
        if not event.get("errorCode"):
            continue
        when = datetime.strptime(event["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
        slot = when.replace(minute=(when.minute // minutes) * minutes, second=0)
        result[event["sourceIPAddress"]][slot.strftime("%H:%M")] += 1
    return dict(result)


def failure_chart(events: Sequence[dict], minutes: int = 30) -> Diagram:
    """Failed sign-ins per window of ``minutes``, one line per source address with more than five."""
    import logging

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    from matplotlib.figure import Figure

    windows = failures_by_window(events, minutes)
    times = sorted({datetime.strptime(e["eventTime"], "%Y-%m-%dT%H:%M:%SZ") for e in events})
    if not times:
        raise ValueError("no events to draw")
    first = times[0].replace(minute=(times[0].minute // minutes) * minutes, second=0)
    slots, t = [], first
    while t <= times[-1]:
        slots.append(t.strftime("%H:%M"))
        t += timedelta(minutes=minutes)
    figure = Figure(figsize=(7.5, 3.4), dpi=100)
    ax = figure.add_subplot()
    loud = {ip: c for ip, c in windows.items() if sum(c.values()) > 5}
    quiet = Counter()
    for ip, counts in windows.items():
        if ip not in loud:
            quiet.update(counts)
    lines = []
    for ip, counts in sorted(loud.items()):
        ax.plot(range(len(slots)), [counts.get(s, 0) for s in slots], marker="o", linewidth=2, label=ip)
        lines.append(f"  {ip:<15} {sum(counts.values()):>3} failures, peak {max(counts.values())} "
                     f"at {max(counts, key=counts.get)}")
    ax.plot(range(len(slots)), [quiet.get(s, 0) for s in slots], color="#999999", linewidth=1.5,
            label="everyone else")
    lines.append(f"  {'everyone else':<15} {sum(quiet.values()):>3} failures")
    step = max(1, len(slots) // 12)
    ax.set_xticks(range(0, len(slots), step))
    ax.set_xticklabels(slots[::step], rotation=45, fontsize=8)
    ax.set_ylabel(f"failed sign-ins per {minutes} min")
    ax.set_title("Failed InitiateAuth calls by source address (lab CloudTrail)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    figure.subplots_adjust(left=0.1, right=0.98, bottom=0.22, top=0.9)
    return Diagram(figure, "\n".join([f"Failed sign-ins per {minutes} minutes, by source address:"] + lines))


# -- alternatives ------------------------------------------------------------------------------------
def alternatives(path: str | Path | None = None) -> dict[str, Any]:
    """``data/identity_alternatives.json``: documented facts, each with its source and date."""
    with open(path or ALTERNATIVES_FILE, encoding="utf-8") as f:
        return json.load(f)


def alternatives_table(dimension: str | None = None, data: dict | None = None) -> Table:
    """The decision table: one row per product, one column per dimension (or one dimension with its
    sources). A fact the course could not source is shown as "—", never guessed."""
    data = data or alternatives()
    products = list(data["products"])
    dims = list(data["dimensions"])
    if dimension is not None:
        if dimension not in dims:
            raise KeyError(f"no dimension {dimension!r}; the dimensions are {dims}")
        rows, notes = [], []
        for product in products:
            fact = data["products"][product]["facts"].get(dimension)
            if fact is None:
                rows.append([product, "— (not sourced: left out)", ""])
                continue
            notes.append(f"[{len(notes) + 1}] {fact['source'].replace('https://', '')} (read {fact['read']}"
                         f"{', second-hand' if fact.get('second_hand') else ''})")
            rows.append([product, fact["value"], f"[{len(notes)}]"])
        return Table(["product", data["dimensions"][dimension], "source"], rows,
                     title=f"{data['dimensions'][dimension]}, with sources", widths=[14, 70, 6], notes=notes)
    rows = [[product] + [(data["products"][product]["facts"].get(d) or {}).get("short", "—") for d in dims]
            for product in products]
    return Table(["product"] + [data["dimensions"][d] for d in dims], rows,
                 title="Identity services side by side (documented facts only; — = not sourced)",
                 widths=[13] + [15] * len(dims),
                 notes=["Every cell has a source and a date in data/identity_alternatives.json; "
                        "alternatives_table('<dimension>') shows them. Prices and plans change: re-read them."])


# -- SMS MFA beside TOTP ---------------------------------------------------------------------------
def sms_price(country: str, data: dict | None = None) -> float:
    """The price of one SMS message part to ``country`` (ISO code) from ``data/cognito_pricing.json``'s
    ``sms_prices``; :class:`labkit.course.costs.PriceUnknown` for a country the course has no source for."""
    from . import costs

    data = data or costs.pricing()
    entry = data.get("sms_prices", {}).get("countries", {}).get(country.upper())
    if entry is None:
        known = ", ".join(sorted(data.get("sms_prices", {}).get("countries", {}))) or "none"
        raise costs.PriceUnknown(f"no sourced SMS price for {country!r} (sourced: {known}); pass "
                                 "per_message= with the price for your countries from the AWS End User "
                                 "Messaging pricing page")
    return float(entry["per_message_part"])


def mfa_message_cost(users: int, sign_ins_per_user: float, *, per_message: float, parts: int = 1) -> float:
    """A month of SMS MFA codes: one message (of ``parts`` parts) per sign-in that asks for MFA.
    TOTP sends nothing: its message cost is 0 whatever the numbers."""
    if users < 0 or sign_ins_per_user < 0 or per_message < 0 or parts < 1:
        raise ValueError("users, sign-ins and price are counts and amounts: not negative; parts ≥ 1")
    return users * sign_ins_per_user * parts * per_message


def mfa_cost_table(users: Sequence[int] = (1_000, 10_000, 100_000), sign_ins_per_user: float = 8, *,
                   plan: str = "ESSENTIALS", per_message: float, price_note: str = "") -> Table:
    """Monthly bill of a pool whose users all use MFA: the plan's MAU charge (the same for both
    factors) plus the SMS codes, for SMS MFA and for TOTP."""
    from . import costs

    rows = []
    for count in users:
        base = costs.mau_cost(plan, count)
        sms = mfa_message_cost(count, sign_ins_per_user, per_message=per_message)
        rows.append([f"{count:,}", f"${base:,.2f}", f"${base + sms:,.2f}", f"${base:,.2f}", f"${sms:,.2f}"])
    return Table(["MAUs", f"{plan.title()} MAUs", "SMS MFA total", "TOTP total", "SMS costs more by"], rows,
                 title=f"MFA for every user, {sign_ins_per_user:g} sign-ins a month each, "
                       f"${per_message} per SMS", notes=[price_note] if price_note else [])


def mfa_cost_chart(max_users: int = 100_000, sign_ins_per_user: float = 8, *, plan: str = "ESSENTIALS",
                   per_message: float, label: str = "") -> Diagram:
    """Monthly cost against MAUs for SMS MFA and TOTP (same plan, same users)."""
    import logging

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    from matplotlib.figure import Figure

    from . import costs

    xs = [round(max_users * i / 50) for i in range(51)]
    totp = [costs.mau_cost(plan, x) for x in xs]
    sms = [t + mfa_message_cost(x, sign_ins_per_user, per_message=per_message) for t, x in zip(totp, xs)]
    figure = Figure(figsize=(7, 3.4), dpi=100)
    ax = figure.add_subplot()
    ax.plot([x / 1000 for x in xs], sms, label=f"SMS MFA (${per_message}/SMS{', ' + label if label else ''})",
            color="#C44E52", linewidth=2)
    ax.plot([x / 1000 for x in xs], totp, label="TOTP (authenticator app)", color="#4C72B0", linewidth=2)
    ax.set_xlabel("monthly active users (thousands)")
    ax.set_ylabel("dollars a month")
    ax.set_title(f"{plan.title()} plan, every user with MFA, {sign_ins_per_user:g} sign-ins a month", fontsize=10)
    ax.yaxis.set_major_formatter(lambda v, _pos: f"${v:,.0f}")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    figure.subplots_adjust(left=0.14, right=0.97, bottom=0.15, top=0.9)
    text = (f"SMS MFA vs TOTP, {plan.title()}, {sign_ins_per_user:g} sign-ins a month, ${per_message} per SMS:\n"
            f"  at {max_users:,} MAUs: SMS MFA ${sms[-1]:,.2f}, TOTP ${totp[-1]:,.2f} a month")
    return Diagram(figure, text)
