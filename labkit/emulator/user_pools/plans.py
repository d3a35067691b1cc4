"""User pool feature plans (``UserPoolTier``): which features each plan unlocks, enforced.

Cognito's three plans, each with everything of the one before it (developer guide, "User pool
feature plans": cognito-sign-in-feature-plans.html; API reference, CreateUserPool ``UserPoolTier``:
"Defaults to ESSENTIALS"):

- **Lite**: password and SRP sign-in, MFA by SMS or TOTP, ID-token customization (pre token
  generation V1_0), the classic hosted UI.
- **Essentials** (the default for new pools): choice-based sign-in (``USER_AUTH``,
  ``ALLOW_USER_AUTH``, ``Policies.SignInPolicy`` with one-time codes and passkeys), passkeys
  (``WebAuthnConfiguration``), email MFA, password history (``PasswordHistorySize``), access-token
  customization (pre token generation V2_0 / V3_0), managed login, refresh-token rotation
  (``RefreshTokenRotation`` on the app client, :mod:`.rotation`).
- **Plus**: threat protection (``UserPoolAddOns.AdvancedSecurityMode`` AUDIT or ENFORCED), log export.

Configuring or using a feature above the pool's plan is refused with
``FeatureUnavailableInTierException`` (API reference: "You configure a feature that your feature plan
doesn't support" or "make a request that uses a feature that requires a higher feature plan").
The wording of each refusal is the lab's own.
"""
from __future__ import annotations

from ...cognito.names import AuthFactor, ExplicitAuthFlow, FeaturePlan
from .. import errors as E

__all__ = ["PLANS", "DEFAULT_PLAN", "pool_plan", "require_plan", "check_pool_config", "check_client_config",
           "allowed_first_factors"]

PLANS = (FeaturePlan.LITE, FeaturePlan.ESSENTIALS, FeaturePlan.PLUS)   # in order, cheapest first
DEFAULT_PLAN = FeaturePlan.ESSENTIALS
_TITLE = {FeaturePlan.LITE: "Lite", FeaturePlan.ESSENTIALS: "Essentials", FeaturePlan.PLUS: "Plus"}
# SignInPolicyType: "SOFTWARE_TOKEN is not currently supported as a first auth factor."
FIRST_FACTORS = (AuthFactor.PASSWORD, AuthFactor.EMAIL_OTP, AuthFactor.SMS_OTP, AuthFactor.WEB_AUTHN)


def pool_plan(pool) -> str:
    """The feature plan of moto's ``pool`` (ESSENTIALS when it was created without one)."""
    return pool.extended_config.get("UserPoolTier") or DEFAULT_PLAN


def _at_least(plan: str, needed: str) -> bool:
    return PLANS.index(plan) >= PLANS.index(needed)


def unavailable(feature: str, needed: str, plan: str) -> E.CognitoError:
    higher = "the Plus plan" if needed == FeaturePlan.PLUS else f"the {_TITLE[needed]} plan or higher"
    return E.CognitoError("FeatureUnavailableInTierException",
                          f"{feature} requires {higher}; this user pool is on the {_TITLE.get(plan, plan)} plan. "
                          "Change UserPoolTier with UpdateUserPool to use it.")


def require_plan(pool, needed: str, feature: str) -> None:
    """Refuse ``feature`` unless ``pool``'s plan is ``needed`` or higher."""
    plan = pool_plan(pool)
    if not _at_least(plan, needed):
        raise unavailable(feature, needed, plan)


def allowed_first_factors(pool) -> list[str]:
    """``Policies.SignInPolicy.AllowedFirstAuthFactors`` (a pool without a sign-in policy: PASSWORD)."""
    policy = (pool.extended_config.get("Policies") or {}).get("SignInPolicy") or {}
    return list(policy.get("AllowedFirstAuthFactors") or [AuthFactor.PASSWORD])


def check_pool_config(params: dict, plan: str) -> None:
    """CreateUserPool / UpdateUserPool: every setting in ``params`` must be within ``plan``."""
    if plan not in PLANS:      # the model's enum already refuses others; this guards direct callers
        raise E.invalid_parameter(f"UserPoolTier must be one of {list(PLANS)}")
    policies = params.get("Policies") or {}
    factors = (policies.get("SignInPolicy") or {}).get("AllowedFirstAuthFactors") or []
    if "SOFTWARE_TOKEN" in factors:
        raise E.invalid_parameter("SOFTWARE_TOKEN is not supported as a first authentication factor "
                                  f"in AllowedFirstAuthFactors; use {list(FIRST_FACTORS)}.")
    passwordless = sorted(set(factors) - {AuthFactor.PASSWORD})
    if passwordless and not _at_least(plan, FeaturePlan.ESSENTIALS):
        # CDK's own example sets AllowedFirstAuthFactors [PASSWORD] on a Lite pool: only the
        # passwordless factors need Essentials.
        raise unavailable(f"Sign-in with {', '.join(passwordless)} (SignInPolicy.AllowedFirstAuthFactors)",
                          FeaturePlan.ESSENTIALS, plan)
    history = (policies.get("PasswordPolicy") or {}).get("PasswordHistorySize")
    if history and not _at_least(plan, FeaturePlan.ESSENTIALS):
        raise unavailable("Password history (PasswordPolicy.PasswordHistorySize)", FeaturePlan.ESSENTIALS, plan)
    version = (((params.get("LambdaConfig") or {}).get("PreTokenGenerationConfig") or {}).get("LambdaVersion")
               or "V1_0")
    if version in ("V2_0", "V3_0") and not _at_least(plan, FeaturePlan.ESSENTIALS):
        # "With lower-tier plans, you can customize ID tokens ...; with Essentials, you can additionally
        # customize access tokens" (Essentials plan features): a V1_0 trigger is what Lite allows.
        raise unavailable(f"Access-token customization (pre token generation trigger {version})",
                          FeaturePlan.ESSENTIALS, plan)
    mode = (params.get("UserPoolAddOns") or {}).get("AdvancedSecurityMode") or "OFF"
    if mode != "OFF" and not _at_least(plan, FeaturePlan.PLUS):
        raise unavailable(f"Threat protection (UserPoolAddOns.AdvancedSecurityMode {mode})", FeaturePlan.PLUS, plan)


def check_client_config(pool, params: dict) -> None:
    """CreateUserPoolClient / UpdateUserPoolClient: ALLOW_USER_AUTH and refresh-token rotation need
    Essentials or higher (rotation: the launch announcement, What's New April 2025, "available for
    customers using the Essentials or Plus tiers"; :mod:`.rotation`)."""
    if ExplicitAuthFlow.ALLOW_USER_AUTH in (params.get("ExplicitAuthFlows") or []):
        require_plan(pool, FeaturePlan.ESSENTIALS, "Choice-based sign-in (ExplicitAuthFlows ALLOW_USER_AUTH)")
    if (params.get("RefreshTokenRotation") or {}).get("Feature") == "ENABLED":
        require_plan(pool, FeaturePlan.ESSENTIALS, "Refresh token rotation (RefreshTokenRotation Feature ENABLED)")
