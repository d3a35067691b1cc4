"""Lesson 13's design exercises: the learner's function builds a user pool, the grader uses it.

Each grader takes the learner's ``build`` function and a running lab, lets ``build`` create fresh
pools and clients in it (removing the pool its own previous run built, so a fixed function can be
graded again under the same names and domain prefix), then checks the requirements *by behaviour* (a user signs in through the
company's IdP, a machine gets only the scope it needs, an email change doesn't take the account
over...) and with the pool auditor (:func:`labkit.audit_user_pool`). The result is a
:class:`DesignReport`: one ✓ or ✗ line per requirement, each ✗ explained in plain words.

* :func:`grade_b2b_sso`: a B2B SaaS pool with enterprise SSO (OIDC) and a tenant claim users can't
  change. ``build(lab, sso)`` gets the customer's IdP (:class:`EnterpriseSSO`).
* :func:`grade_passwordless`: a consumer app with email one-time codes and safe recovery.
* :func:`grade_m2m`: machine-to-machine access with least-privilege custom scopes.

``tenant_from_provider`` is a pre token generation handler a B2B design may deploy
(``labkit.course.triggers.deploy_function``): it reads the tenant from the *identity provider* a
federated user came from, which the user cannot choose.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlencode

import requests

from ..cognito.hosted_ui import AppRedirect, HostedUIBrowser
from .exercises import ExerciseNotPassed

__all__ = ["DesignReport", "Requirement", "EnterpriseSSO", "grade_b2b_sso", "grade_passwordless", "grade_m2m",
           "tenant_from_provider", "REPORTS_API", "WIDTH"]

WIDTH = 100
REPORTS_API = "https://reports.example.com"


def tenant_from_provider(event, context):
    """PreTokenGeneration (V1_0 or V2_0): ``tenant_id`` from the IdP a federated user came from.

    A federated user's name is ``<ProviderName>_<subject>``; the environment variable
    ``TENANT_OF_PROVIDER`` (JSON, e.g. ``{"Acme": "acme"}``) maps provider names to tenants. Users
    who came from no listed provider get no tenant claim (and an API should refuse them)."""
    import json
    import os

    tenants = json.loads(os.environ.get("TENANT_OF_PROVIDER", "{}"))
    provider = event["userName"].split("_", 1)[0] if "_" in event["userName"] else None
    tenant = tenants.get(provider)
    if tenant is None:
        return event
    claims = {"tenant_id": tenant}
    if event.get("version") == "1":
        event["response"]["claimsOverrideDetails"] = {"claimsToAddOrOverride": claims}
    else:
        event["response"]["claimsAndScopeOverrideDetails"] = {
            "idTokenGeneration": {"claimsToAddOrOverride": claims},
            "accessTokenGeneration": {"claimsToAddOrOverride": claims}}
    return event


# -- the report ----------------------------------------------------------------------------------
@dataclass
class Requirement:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class DesignReport:
    """What a grader found: ``passed`` when every requirement holds."""

    title: str
    requirements: list[Requirement] = field(default_factory=list)
    built: dict = field(default_factory=dict, repr=False)

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.requirements.append(Requirement(name, bool(ok), detail))
        return bool(ok)

    @property
    def passed(self) -> bool:
        return bool(self.requirements) and all(r.ok for r in self.requirements)

    @property
    def failed(self) -> list[Requirement]:
        return [r for r in self.requirements if not r.ok]

    def __repr__(self) -> str:
        import textwrap
        lines = [f"{self.title}: {sum(r.ok for r in self.requirements)}/{len(self.requirements)} requirements met"]
        for r in self.requirements:
            lines.append(f"  {'✓' if r.ok else '✗'} {r.name}")
            if r.detail and not r.ok:
                lines += textwrap.wrap(r.detail, WIDTH, initial_indent="      ", subsequent_indent="      ",
                                       break_long_words=False, break_on_hyphens=False)
        return "\n".join(lines)

    def require(self, exercise: str) -> "DesignReport":
        """Raise :class:`ExerciseNotPassed` (the friendly ✗ message) unless every requirement holds."""
        if not self.passed:
            problems = "\n".join(f"✗ {r.name}: {r.detail}" for r in self.failed)
            raise ExerciseNotPassed(exercise, problems, "Fix the first ✗, run your build cell again, then this check.")
        return self


def _code(error: Exception) -> str:
    return getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)


_FAILED = object()


def _built(report: DesignReport, result: Any, keys: tuple[str, ...]) -> dict | None:
    if result is _FAILED:
        return None
    if not isinstance(result, dict) or not set(keys) <= set(result):
        report.add("build(...) returns what the grader needs", False,
                   f"Your function should return a dict with {', '.join(repr(k) for k in keys)}; it returned "
                   f"{result!r:.120}.")
        return None
    report.built = result
    return result


#: What each grader's last run built, per lab: run again, it removes those pools first, so a learner
#: can fix their function and re-run the check (the same domain prefix, the same pool names).
_LAST_BUILT: dict[tuple[int, str], dict] = {}


def _remove_previous(lab, grader: str) -> None:
    built = _LAST_BUILT.pop((id(lab), grader), None)
    if not built or not built.get("pool_id"):
        return
    idp = lab.client("cognito-idp")
    try:
        pool = idp.describe_user_pool(UserPoolId=built["pool_id"])["UserPool"]
    except Exception:                                       # already gone (the learner deleted it)
        return
    for domain in {pool.get("Domain"), pool.get("CustomDomain")} - {None}:
        idp.delete_user_pool_domain(UserPoolId=pool["Id"], Domain=domain)
    if pool.get("DeletionProtection") == "ACTIVE":
        idp.update_user_pool(UserPoolId=pool["Id"], DeletionProtection="INACTIVE")
    idp.delete_user_pool(UserPoolId=pool["Id"])


def _run_build(report: DesignReport, build: Callable, lab, *args, grader: str) -> Any:
    _remove_previous(lab, grader)
    try:
        result = build(lab, *args)
    except NotImplementedError as error:
        report.add("build(...) runs", False, f"Your function is not written yet ({error}).")
        return _FAILED
    except Exception as error:                              # the learner's code failed: say where
        report.add("build(...) runs", False, f"Your function raised {_code(error)}: {error}")
        return _FAILED
    if isinstance(result, dict):
        _LAST_BUILT[(id(lab), grader)] = result
    return result


def _audit_highs(lab, pool_id: str, *, ignore: tuple[str, ...] = ()) -> tuple[list, Any]:
    import labkit

    report = labkit.audit_user_pool(lab.client("cognito-idp"), pool_id)
    return [f for f in report.high if f.check not in ignore], report


def _claims(token: str) -> dict:
    import jwt
    return jwt.decode(token, options={"verify_signature": False})


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


# -- 1 · B2B SaaS with enterprise SSO --------------------------------------------------------------
@dataclass
class EnterpriseSSO:
    """The customer's OpenID Connect IdP, played by the lab's local OIDC provider.

    ``name`` is the provider name to give CreateIdentityProvider (``ProviderType="OIDC"``),
    ``provider_details`` its ProviderDetails, ``tenant`` the tenant id its users belong to, and
    ``user`` / ``password`` an employee who signs in there."""

    name: str
    provider_details: dict
    tenant: str
    user: str
    password: str
    _provider: Any = field(repr=False, default=None)

    @classmethod
    def start(cls, lab, name: str = "Acme", tenant: str = "acme") -> "EnterpriseSSO":
        provider = lab.social_provider("Google")            # the lab's OIDC provider, used as a plain OIDC IdP
        user, password = "jo@acme.example", "Acme-SSO-Pass-42"
        try:
            provider.add_user(user, password, name="Jo Example")
        except ValueError:                                  # already added by an earlier grading in this lab
            pass
        details = {**provider.provider_details(), "oidc_issuer": provider.issuer, "attributes_request_method": "GET"}
        return cls(name, details, tenant, user, password, provider)

    def trust(self, lab, domain: str) -> None:
        """What the customer's admin does in their IdP: accept Cognito's ``/oauth2/idpresponse``."""
        self._provider.allow_redirect_uri(lab.domain_url(domain) + "/oauth2/idpresponse")


def grade_b2b_sso(lab, build: Callable, *, sso: EnterpriseSSO | None = None) -> DesignReport:
    """``build(lab, sso)`` creates the pool and returns ``{"pool_id", "client_id", "domain", "callback"}``.

    Requirements: no self sign-up; an employee signs in through ``sso`` (code flow with PKCE, on the
    pool's domain) and gets Cognito's tokens; the ID token carries ``tenant_id`` = ``sso.tenant``;
    the client allows no implicit grant; the auditor finds nothing high."""
    report = DesignReport("B2B SaaS with enterprise SSO")
    sso = sso or EnterpriseSSO.start(lab)
    built = _built(report, _run_build(report, build, lab, sso, grader="b2b"), ("pool_id", "client_id", "domain", "callback"))
    if built is None:
        return report
    idp = lab.client("cognito-idp")
    pool_id, client_id, domain, callback = (built[k] for k in ("pool_id", "client_id", "domain", "callback"))

    try:
        idp.sign_up(ClientId=client_id, Username="mallory@evil.example", Password="Mallory-Pass-1234!",
                    UserAttributes=[{"Name": "email", "Value": "mallory@evil.example"}])
        report.add("Only administrators (or the IdP) create users", False,
                   "SignUp with the app's client id created mallory@evil.example. Client ids are public (they ship "
                   "in the app): set AdminCreateUserConfig.AllowAdminCreateUserOnly.")
    except Exception as error:
        report.add("Only administrators (or the IdP) create users", _code(error) == "NotAuthorizedException",
                   f"SignUp failed with {_code(error)}, not with NotAuthorizedException (sign-up not permitted).")

    sso.trust(lab, domain)
    base = lab.domain_url(domain)
    verifier = "pkce-verifier-for-the-b2b-grader-" + "x" * 20
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": callback, "state": "grader-state",
             "scope": "openid email", "identity_provider": sso.name,
             "code_challenge": _s256(verifier), "code_challenge_method": "S256"}
    tokens: dict = {}
    browser = HostedUIBrowser()
    try:
        page = browser.open(f"{base}/oauth2/authorize?{urlencode(query)}")
        back = page if isinstance(page, AppRedirect) else browser.sign_in(sso.user, sso.password)
        if isinstance(back, AppRedirect) and "code" in back.params:
            answer = requests.post(f"{base}/oauth2/token", timeout=10, data={
                "grant_type": "authorization_code", "client_id": client_id, "code": back.params["code"],
                "redirect_uri": callback, "code_verifier": verifier})
            tokens = answer.json() if answer.status_code == 200 else {}
            problem = f"the token endpoint answered {answer.status_code} {answer.text[:120]}"
        else:
            problem = (f"the hosted UI answered {getattr(back, 'error', None) or getattr(back, 'errors', back)!s:.160} "
                       f"instead of a code")
    except Exception as error:
        problem = f"signing in failed: {error}"
    report.add(f"An employee signs in through the company's IdP ({sso.name}) with the code flow and PKCE",
               "id_token" in tokens,
               f"Sign-in at {sso.name} did not end with Cognito's tokens: {problem}. Check: an OIDC identity provider "
               f"named {sso.name!r} with sso.provider_details, the app client's SupportedIdentityProviders, "
               "AllowedOAuthFlows [\"code\"], scopes openid and email, and the callback URL.")

    tenant = _claims(tokens["id_token"]).get("tenant_id") if "id_token" in tokens else None
    report.add(f"The ID token says which tenant the user belongs to (tenant_id = {sso.tenant!r})",
               tenant == sso.tenant,
               f"The ID token's tenant_id is {tenant!r}. Derive it from something the user cannot change (the IdP "
               "they came from): a pre token generation trigger such as tenant_from_provider, with "
               f"TENANT_OF_PROVIDER {{\"{sso.name}\": \"{sso.tenant}\"}}.")

    try:
        back = HostedUIBrowser().open(f"{base}/oauth2/authorize?" + urlencode(
            {**query, "response_type": "token", "identity_provider": "COGNITO"}))
        implicit_refused = isinstance(back, AppRedirect) and back.error == "unauthorized_client" or not isinstance(
            back, AppRedirect)
    except Exception:
        implicit_refused = True
    report.add("No implicit grant (tokens never travel in a URL)", implicit_refused,
               "The client still allows response_type=token: use AllowedOAuthFlows [\"code\"] only.")

    highs, _ = _audit_highs(lab, pool_id)
    report.add("The pool auditor finds nothing high", not highs,
               "High findings: " + "; ".join(f"{f.check} ({f.fix})" for f in highs))
    return report


# -- 2 · A consumer app: passwordless and safe recovery ---------------------------------------------
def grade_passwordless(lab, build: Callable) -> DesignReport:
    """``build(lab)`` creates the pool and returns ``{"pool_id", "client_id"}``.

    Requirements: a new user signs up with only an email address (no password) and confirms the
    emailed code; signs in with an email one-time password through USER_AUTH; an unknown email is
    not revealed by sign-in; recovery goes to a verified email only; changing the email does not
    take effect before the new address is verified; the auditor finds nothing high."""
    report = DesignReport("Consumer app: passwordless and safe recovery")
    built = _built(report, _run_build(report, build, lab, grader="passwordless"), ("pool_id", "client_id"))
    if built is None:
        return report
    idp = lab.client("cognito-idp")
    pool_id, client_id = built["pool_id"], built["client_id"]
    email = "ana@example.com"

    try:
        idp.sign_up(ClientId=client_id, Username=email, UserAttributes=[{"Name": "email", "Value": email}])
        idp.confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode=lab.inbox(email).latest.code)
        signed_up, why = True, ""
    except Exception as error:
        signed_up, why = False, f"{_code(error)}: {error}"
    report.add("A new user signs up with only an email address, and confirms the emailed code", signed_up,
               f"SignUp without a password, then ConfirmSignUp, failed ({why}). Users sign in with their email "
               "(UsernameAttributes [\"email\"], AutoVerifiedAttributes [\"email\"]); the pool offers EMAIL_OTP "
               "(Policies.SignInPolicy.AllowedFirstAuthFactors) and the client ALLOW_USER_AUTH.")

    tokens: dict = {}
    try:
        first = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH",
                                  AuthParameters={"USERNAME": email, "PREFERRED_CHALLENGE": "EMAIL_OTP"})
        if first.get("ChallengeName") == "EMAIL_OTP":
            done = idp.respond_to_auth_challenge(
                ClientId=client_id, ChallengeName="EMAIL_OTP", Session=first["Session"],
                ChallengeResponses={"USERNAME": email, "EMAIL_OTP_CODE": lab.inbox(email).latest.code})
            tokens = done.get("AuthenticationResult") or {}
            why = f"after the code, Cognito answered {done.get('ChallengeName')}"
        else:
            why = f"InitiateAuth answered {first.get('ChallengeName')} instead of EMAIL_OTP"
    except Exception as error:
        why = f"{_code(error)}: {error}"
    report.add("She signs in with a one-time code sent to her email (USER_AUTH, EMAIL_OTP)", "AccessToken" in tokens,
               f"No tokens ({why}). MFA must not be required (ON) for one-time-password sign-in.")

    try:
        idp.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH",
                          AuthParameters={"USERNAME": "nobody@example.com", "PREFERRED_CHALLENGE": "EMAIL_OTP"})
        hidden, code = True, "a challenge"
    except Exception as error:
        code = _code(error)
        hidden = code != "UserNotFoundException"
    report.add("Sign-in doesn't tell who has an account", hidden,
               f"An unknown email got {code}: anyone can test which addresses are customers. Set the app client's "
               "PreventUserExistenceErrors to ENABLED.")

    pool = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    mechanisms = sorted((pool.get("AccountRecoverySetting") or {}).get("RecoveryMechanisms") or [],
                        key=lambda m: m.get("Priority", 0))
    names = [m.get("Name") for m in mechanisms]
    report.add("Account recovery goes to a verified email only", names == ["verified_email"],
               f"AccountRecoverySetting is {names or 'not set (the legacy rule: SMS before email)'}. A phone "
               "number can be taken over by a SIM swap; use [{Name: verified_email, Priority: 1}].")

    if tokens:
        idp.update_user_attributes(AccessToken=tokens["AccessToken"],
                                   UserAttributes=[{"Name": "email", "Value": "attacker@evil.example"}])
        live = {a["Name"]: a["Value"] for a in idp.get_user(AccessToken=tokens["AccessToken"])["UserAttributes"]}
        kept = live.get("email") == email
        detail = (f"After UpdateUserAttributes, the account's email is {live.get('email')!r} before anyone "
                  "verified it: recovery and sign-in codes now go to whoever typed it. Set "
                  "UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate [\"email\"].")
    else:
        kept, detail = False, "Not checked: the sign-in above must work first."
    report.add("An email change takes effect only once the new address is verified", kept, detail)

    highs, _ = _audit_highs(lab, pool_id)
    report.add("The pool auditor finds nothing high", not highs,
               "High findings: " + "; ".join(f"{f.check} ({f.fix})" for f in highs))
    return report


# -- 3 · Machine to machine with least privilege ---------------------------------------------------
def grade_m2m(lab, build: Callable) -> DesignReport:
    """``build(lab)`` returns ``{"pool_id", "domain", "client_id"}``: a resource server
    ``REPORTS_API`` with scopes ``read`` and ``write``, and a client for the nightly report job, which
    only reads.

    Requirements: the job gets an access token with client credentials whose scope is exactly
    ``REPORTS_API/read``; asking for ``write`` is refused; the client can't sign users in; its access
    tokens live an hour or less; the auditor finds nothing high about the client."""
    report = DesignReport("Machine-to-machine API with least-privilege scopes")
    built = _built(report, _run_build(report, build, lab, grader="m2m"), ("pool_id", "domain", "client_id"))
    if built is None:
        return report
    idp = lab.client("cognito-idp")
    pool_id, domain, client_id = built["pool_id"], built["domain"], built["client_id"]
    client = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
    token_url = lab.domain_url(domain) + "/oauth2/token"
    auth = (client_id, client.get("ClientSecret") or "")
    read, write = f"{REPORTS_API}/read", f"{REPORTS_API}/write"

    answer = requests.post(token_url, data={"grant_type": "client_credentials"}, auth=auth, timeout=10)
    token = answer.json().get("access_token") if answer.status_code == 200 else None
    scope = _claims(token).get("scope") if token else None
    report.add(f"The job gets a token with client credentials, scope exactly {read}", scope == read,
               (f"Its token's scope is {scope!r}: the job should hold {read} and nothing else (AllowedOAuthScopes)."
                if token else f"The token endpoint answered {answer.status_code} {answer.text[:120]}: a confidential "
                f"client (GenerateSecret), AllowedOAuthFlows [\"client_credentials\"], "
                "AllowedOAuthFlowsUserPoolClient, and a domain."))

    asked = requests.post(token_url, data={"grant_type": "client_credentials", "scope": write}, auth=auth, timeout=10)
    refused = asked.status_code == 400 and asked.json().get("error") == "invalid_scope"
    report.add("Asking for the write scope is refused", refused,
               f"A request for {write} got {asked.status_code} {asked.text[:80]}: a read-only job must not be able "
               "to get write.")

    user_flows = sorted(set(client.get("ExplicitAuthFlows") or ["ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"])
                        - {"ALLOW_REFRESH_TOKEN_AUTH"})
    oauth_flows = sorted(client.get("AllowedOAuthFlows") or [])
    report.add("The job's client can't sign users in", not user_flows and oauth_flows == ["client_credentials"],
               f"ExplicitAuthFlows allows {user_flows or 'nothing'} and AllowedOAuthFlows is {oauth_flows}: set "
               "ExplicitAuthFlows [\"ALLOW_REFRESH_TOKEN_AUTH\"] (API defaults allow SRP and custom auth) and "
               "AllowedOAuthFlows [\"client_credentials\"] only.")

    lifetime = (_claims(token)["exp"] - _claims(token)["iat"]) if token else None
    report.add("Its access tokens live an hour or less", lifetime is not None and lifetime <= 3600,
               f"Access tokens live {lifetime} s: a leaked one works that long; keep AccessTokenValidity at 60 "
               "minutes or less (and cache it in the job)." if lifetime else "Not checked: no token.")

    highs, _ = _audit_highs(lab, pool_id, ignore=("mfa-off",))
    client_highs = [f for f in highs if client_id in f.resource]
    report.add("The pool auditor finds nothing high about the client", not client_highs,
               "High findings: " + "; ".join(f"{f.check} ({f.fix})" for f in client_highs))
    return report
