"""Lesson 09's helpers: the sign-in factors side by side, the choice screen a user sees, and what a
passkey assertion carries.

    >>> factor_table()                          # password, codes, TOTP, passkey: phishable? replayable? cost?
    >>> sign_in_screen(response)                # InitiateAuth(USER_AUTH)'s SELECT_CHALLENGE as buttons
    >>> describe_assertion(credential, "shop.example.com")   # clientDataJSON + authenticatorData, decoded

Nothing here talks to Cognito: the notebook makes the calls, these functions explain the answers.
Sources: developer guide "Authentication flows" (amazon-cognito-user-pools-authentication-flow-methods.html),
"Manage authentication methods in AWS SDKs" (authentication-flows-selection-sdk.html), W3C Web
Authentication Level 2 (client data, authenticator data, flags), and data/cognito_pricing.json for
what a message costs.
"""
from __future__ import annotations

import base64
import hashlib
import json
import struct
from dataclasses import dataclass
from typing import Any, Mapping

from . import costs
from .display import Table

__all__ = ["FACTORS", "Factor", "factor_table", "SCREEN_LABELS", "SignInScreen", "sign_in_screen",
           "client_data", "authenticator_data", "describe_assertion", "relying_party_accepts"]


@dataclass(frozen=True)
class Factor:
    name: str            # as the user knows it
    challenge: str       # Cognito's name for it (first factor) or how it is used
    proves: str          # what the user shows
    phishable: str       # can a look-alike site collect it and use it at once?
    replayable: str      # can the same answer be used again?
    breach: str          # what a stolen copy of the server's database gives an attacker
    per_sign_in: str     # what a sign-in costs beyond the MAU
    plan: str            # the lowest feature plan that offers it as a first factor


def _message_note(kind: str) -> str:
    entry = costs.pricing()["messages"][kind]
    if entry["per_message"] == 0:
        return "nothing"
    # Email MFA needs the pool's Amazon SES sender, not Cognito's default one (developer guide,
    # cognito-user-pool-settings-advanced-security-email-mfa.html); email sign-in codes are sent the same way.
    return {"email": "one email (your Amazon SES sender, SES rates)",
            "sms": "one SMS (SNS / End User Messaging rates, by country)"}[kind]


#: The factors, in the order the lesson discusses them. TOTP is an MFA factor only: Cognito does
#: not accept SOFTWARE_TOKEN as a first factor (API reference, SignInPolicyType).
FACTORS: tuple[Factor, ...] = (
    Factor("Password", "PASSWORD / PASSWORD_SRP", "something they know",
           "yes: typed into any page that asks", "yes, until it is changed",
           "a hash to crack offline (SRP: a verifier)", "nothing", "Lite"),
    Factor("Email code", "EMAIL_OTP", "access to the mailbox",
           "yes: a fake page relays it within minutes", "no: one use, minutes",
           "nothing reusable", "email", "Essentials"),
    Factor("SMS code", "SMS_OTP", "access to the phone number",
           "yes: as email, plus SIM swaps", "no: one use, minutes",
           "nothing reusable", "sms", "Essentials"),
    Factor("Authenticator app", "SOFTWARE_TOKEN_MFA (MFA only)", "a shared secret on a device",
           "yes: a fake page relays it at once", "within its 30 s step",
           "the TOTP secrets", "nothing", "Lite (MFA)"),
    Factor("Passkey", "WEB_AUTHN", "a private key bound to the site",
           "no: signed for the real origin only", "no: signs a fresh challenge",
           "public keys only", "nothing", "Essentials"),
)


def factor_table() -> Table:
    """The factors side by side: what each proves, whether it can be phished or replayed, what a
    database breach gives away, and what a sign-in costs beyond the MAU."""
    rows = []
    for f in FACTORS:
        cost = _message_note(f.per_sign_in) if f.per_sign_in in ("email", "sms") else f.per_sign_in
        rows.append([f.name, f.phishable, f.replayable, f.breach, cost, f.plan])
    return Table(["factor", "phishable?", "replayable?", "server breach leaks", "per sign-in", "plan"], rows,
                 title="Sign-in factors side by side (first factors; TOTP only as MFA)",
                 widths=[10, 19, 14, 15, 19, 10],
                 notes=["Costs per message: see data/cognito_pricing.json (email and SMS are billed by SES and "
                        "SNS, not by Cognito).",
                        "Plan: the lowest feature plan that offers it as a first factor."])


#: What a sign-in page would show for each of AvailableChallenges.
SCREEN_LABELS = {
    "PASSWORD": "Sign in with your password",
    "PASSWORD_SRP": "Sign in with your password (SRP: it never leaves the device)",
    "EMAIL_OTP": "Email me a sign-in code",
    "SMS_OTP": "Text me a sign-in code",
    "WEB_AUTHN": "Use a passkey",
}


@dataclass(frozen=True)
class SignInScreen:
    """What a user sees after typing their name: one button per challenge Cognito offers."""

    username: str
    challenges: tuple[str, ...]

    @property
    def buttons(self) -> list[str]:
        return [SCREEN_LABELS.get(c, c) for c in self.challenges]

    def __repr__(self) -> str:
        width = max([len(b) + len(c) + 8 for b, c in zip(self.buttons, self.challenges)]
                    + [len(self.username) + 18, 30])
        lines = ["┌" + "─" * width + "┐",
                 "│ " + f"Signing in as {self.username}".ljust(width - 1) + "│",
                 "│ " + "How do you want to sign in?".ljust(width - 1) + "│"]
        for challenge, button in zip(self.challenges, self.buttons):
            lines.append("│ " + f"[ {button} ]".ljust(width - 2 - len(challenge)) + challenge + " │")
        lines.append("└" + "─" * width + "┘")
        return "\n".join(lines)


def sign_in_screen(response: Mapping[str, Any], username: str | None = None) -> SignInScreen:
    """The choice screen for an InitiateAuth(USER_AUTH) answer without PREFERRED_CHALLENGE: its
    ``SELECT_CHALLENGE`` and ``AvailableChallenges``."""
    if response.get("ChallengeName") != "SELECT_CHALLENGE":
        raise ValueError(f"not a choice: the answer is {response.get('ChallengeName') or 'tokens'!r}, "
                         "not SELECT_CHALLENGE (ask without PREFERRED_CHALLENGE)")
    name = username or response.get("ChallengeParameters", {}).get("USERNAME") or "you"
    return SignInScreen(name, tuple(response.get("AvailableChallenges") or ()))


# -- passkey assertions -------------------------------------------------------------------------

def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _credential(credential: Mapping[str, Any] | str) -> Mapping[str, Any]:
    return json.loads(credential) if isinstance(credential, str) else credential


def client_data(credential: Mapping[str, Any] | str) -> dict[str, Any]:
    """The browser's part of a WebAuthn response, decoded: ``type``, ``challenge``, ``origin``."""
    return json.loads(_unb64url(_credential(credential)["response"]["clientDataJSON"]))


def authenticator_data(credential: Mapping[str, Any] | str) -> dict[str, Any]:
    """The authenticator's part of an assertion, decoded: the RP ID hash, the flags, the sign count."""
    data = _unb64url(_credential(credential)["response"]["authenticatorData"])
    flags = data[32]
    return {"rp_id_hash": data[:32].hex(), "user_present": bool(flags & 0x01),
            "user_verified": bool(flags & 0x04), "backed_up": bool(flags & 0x10),
            "sign_count": struct.unpack(">I", data[33:37])[0]}


def relying_party_accepts(origin: str, rp_id: str) -> bool:
    """WebAuthn's origin rule: https, and the origin's host is the RP ID or a subdomain of it."""
    from urllib.parse import urlsplit

    parts = urlsplit(origin)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and (host == rp_id or host.endswith("." + rp_id))


def describe_assertion(credential: Mapping[str, Any] | str, rp_id: str,
                       challenge: str | None = None) -> Table:
    """What Cognito checks in a passkey sign-in, field by field, against the pool's ``rp_id`` (and
    the ``challenge`` it issued, if given). The signature itself is checked with the public key
    registered for the credential id (not shown)."""
    client = client_data(credential)
    auth = authenticator_data(credential)
    expected_hash = hashlib.sha256(rp_id.encode()).hexdigest()
    rows = [
        ["clientData.type", client.get("type"), "webauthn.get (a sign-in, not a registration)",
         "ok" if client.get("type") == "webauthn.get" else "REFUSED"],
        ["clientData.challenge", client.get("challenge", "")[:16] + "…", "the one Cognito issued, used once",
         "?" if challenge is None else ("ok" if client.get("challenge") == challenge else "REFUSED")],
        ["clientData.origin", client.get("origin"), f"https://{rp_id} or a subdomain",
         "ok" if relying_party_accepts(client.get("origin", ""), rp_id) else "REFUSED"],
        ["rpIdHash", auth["rp_id_hash"][:16] + "…", f"SHA-256 of {rp_id!r}",
         "ok" if auth["rp_id_hash"] == expected_hash else "REFUSED"],
        ["flags UP / UV", f"{auth['user_present']} / {auth['user_verified']}",
         "UP set; UV if the pool requires verification", "ok" if auth["user_present"] else "REFUSED"],
        ["signCount", auth["sign_count"], "greater than the last one seen (or 0 if never counted)", "?"],
    ]
    return Table(["field", "value", "Cognito expects", "verdict"], rows,
                 title=f"A passkey assertion, checked against the relying party {rp_id}",
                 widths=[20, 38, 30, 8])

