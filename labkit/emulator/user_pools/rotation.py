"""Refresh-token rotation (``RefreshTokenRotation`` on the app client); GetTokensFromRefreshToken itself
is :func:`labkit.emulator.user_pools.flows.get_tokens_from_refresh_token`.

What Cognito documents, and the lab does:

- API reference, RefreshTokenRotationType: ``Feature`` ENABLED | DISABLED (required),
  ``RetryGracePeriodSeconds`` 0–60 (optional; the model's range, checked by
  :mod:`labkit.emulator.validation`). "When enabled, your app client issues new ID, access, and
  refresh tokens when users renew their sessions with refresh tokens. When disabled, token refresh
  issues only ID and access tokens." "Refresh token rotation must be completed with
  GetTokensFromRefreshToken."
- RetryGracePeriodSeconds: "the original refresh token that you're rotating out can remain valid for
  a period of time of up to 60 seconds. This allows for client-side retries. When
  RetryGracePeriodSeconds is 0, the grace period is disabled and a successful request immediately
  invalidates the submitted refresh token."
- API reference, GetTokensFromRefreshToken: "issues a new refresh token and invalidates the original
  refresh token after an optional grace period when refresh token rotation is enabled. If refresh
  token rotation is disabled, issues new ID and access tokens only." A token "invalidated by
  refresh-token rotation" is refused with ``RefreshTokenReuseException`` (the exception's own
  documentation).
- Developer guide, "Refresh tokens" (amazon-cognito-user-pools-using-the-refresh-token.html):
  "You can't authenticate with REFRESH_TOKEN_AUTH in app clients with refresh token rotation
  enabled"; the token endpoint's ``refresh_token`` grant "issues new ID, access, and optionally (with
  refresh token rotation) refresh tokens".
- Feature plan: the launch announcement (What's New, April 2025, "Amazon Cognito introduces refresh
  token rotation") makes rotation a feature of the Essentials and Plus plans; a Lite pool is refused
  with ``FeatureUnavailableInTierException`` (:func:`.plans.check_client_config`, and GetTokensFromRefreshToken
  for a pool moved to Lite after its client was configured).
- Lifetime: a rotated refresh token keeps the expiry of the one it replaces (the session's
  RefreshTokenValidity counts from the sign-in, not from the rotation): AWS re:Post, "Rotated Refresh
  Token Validity" (accepted answer). The developer guide pages in the lab's corpus say nothing more.

The lab's choices where the documents are silent (README, "What the lab reproduces"):

- The exception for REFRESH_TOKEN_AUTH on a rotating client: InvalidParameterException, as for a
  flow the client does not allow (the guide says to turn the flow off); its wording is the lab's.
- A retry within the grace period rotates again (another new refresh token); the grace period runs
  from the first rotation and is not extended by retries.
- A rotated family (the sign-in's refresh token and every one rotated from it) shares the sign-in's
  ``origin_jti``: RevokeToken or GlobalSignOut on any of them revokes the whole family and every
  access token issued from it. Reusing a rotated-out token after its grace period is refused but
  revokes nothing else (Cognito documents no reuse detection).
- ``DeviceKey`` is accepted and not checked (the lab does not model remembered devices).
"""
from __future__ import annotations

import hmac

from .. import errors as E
from .state import IdpState, RefreshRecord

__all__ = ["ROTATION_DISABLED", "settings", "enabled", "grace_seconds", "refresh_problem", "mark_rotated",
           "check_client_secret", "REUSED"]

ROTATION_DISABLED = {"Feature": "DISABLED"}
REUSED = "Refresh Token has been rotated and can no longer be used"   # the lab's wording
FEATURE = "Refresh token rotation (RefreshTokenRotation Feature ENABLED)"


def settings(client) -> dict:
    """The client's ``RefreshTokenRotation`` (``{"Feature": "DISABLED"}`` when it was never set)."""
    return client.extended_config.get("RefreshTokenRotation") or dict(ROTATION_DISABLED)


def enabled(client) -> bool:
    return settings(client).get("Feature") == "ENABLED"


def grace_seconds(client) -> int:
    """RetryGracePeriodSeconds; a client that leaves it out has no grace period (0, the value the
    reference says disables it: the lab's reading of an optional member with no documented default)."""
    return int(settings(client).get("RetryGracePeriodSeconds") or 0)


def refresh_problem(state: IdpState, pool, record: RefreshRecord) -> E.CognitoError | None:
    """Why the refresh token of ``record`` can't be used now (None: it can), in the order Cognito's
    answers suggest: revoked (or no longer that user), rotated out, expired, user disabled."""
    user = pool._get_user(record.username)
    if record.origin_jti in state.revoked_origins or user is None or user.id != record.sub:
        return E.not_authorized(E.REFRESH_TOKEN_REVOKED)
    if record.grace_until is not None and state.now() >= record.grace_until:
        return E.CognitoError("RefreshTokenReuseException", REUSED)
    if state.now() >= record.expires_at:
        return E.not_authorized(E.REFRESH_TOKEN_EXPIRED)
    if not user.enabled:
        return E.not_authorized(E.USER_DISABLED)
    return None


def mark_rotated(state: IdpState, record: RefreshRecord, client) -> None:
    """``record``'s token was just rotated out: it keeps working for RetryGracePeriodSeconds from its
    first rotation, then never again."""
    if record.rotated_at is None:
        record.rotated_at = state.now()
        record.grace_until = record.rotated_at + grace_seconds(client)


def check_client_secret(client, provided) -> None:
    """GetTokensFromRefreshToken: a client with a secret must send it as ``ClientSecret``."""
    if not client.generate_secret:
        return
    if not provided:
        raise E.not_authorized(f"Client {client.id} is configured with secret but ClientSecret was not received")
    if not hmac.compare_digest(str(provided), str(client.secret)):
        raise E.not_authorized(f"Unable to verify client secret for client {client.id}")
