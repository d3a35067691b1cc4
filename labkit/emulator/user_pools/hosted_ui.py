"""The hosted UI (managed login) and the OAuth 2.0 endpoints of a user-pool domain.

AWS serves a prefix domain at ``https://<prefix>.auth.<region>.amazoncognito.com``; the lab serves
it on its own port under ``/_domain/<prefix>`` (one port, so a path prefix rather than a host name:
any HTTP client reaches it without DNS tricks). Under that base:

=========================  =====================================================================
``GET  /oauth2/authorize``  checks the request; a browser already signed in (the ``cognito``
                            cookie, one hour) gets its code or tokens at once, otherwise it is
                            sent to ``/login`` with the same parameters
``GET  /login``             a plain HTML form (no JavaScript): ``username``, ``password`` and a
                            ``_csrf`` token also set as the ``XSRF-TOKEN`` cookie
``POST /login``             signs in with the API flows' rules (password check, lockout, user
                            status) and redirects to the app's ``redirect_uri``
``POST /oauth2/token``      ``authorization_code`` (+ ``code_verifier``), ``refresh_token``,
                            ``client_credentials``
``GET  /oauth2/userInfo``   the user's attributes for an access token with ``openid``
``POST /oauth2/revoke``     revokes a refresh token and the access tokens issued from it
``GET  /logout``            ends the hosted-UI session; back to ``logout_uri`` (one of the client's
                            ``LogoutURLs``) or to ``/login`` with ``redirect_uri`` and friends
``GET  /oauth2/idpresponse``  back from an external IdP (``identity_provider=…`` on authorize):
                            :mod:`~labkit.emulator.user_pools.federation` signs the user in
``GET|POST /signup``        ``username``, ``password`` and ``requiredAttributes[<name>]`` (the
                            schema's required attributes, then the auto-verified ones): SignUp
                            (:mod:`~labkit.emulator.user_pools.sign_up`), then the confirmation page
``GET|POST /confirm``       the emailed / texted ``code`` (ConfirmSignUp; ``resend`` sends a new
                            one); the browser that signed up is then signed in and sent back to the
                            app with a code; opened on its own (``?username=``) it leads to /login
``GET|POST /forgotPassword``  ``username``: ForgotPassword, then the reset page
``GET|POST /confirmForgotPassword``  ``code``, ``password``, ``confirmPassword``:
                            ConfirmForgotPassword, then back to ``/login``
=========================  =====================================================================

Every page keeps the authorize parameters in its query string, and its links (sign-in ⇄ sign-up,
"Forgot your password?") carry them on. A pool with ``AllowAdminCreateUserOnly`` has no sign-up
link, and ``/signup`` refuses ("SignUp is not permitted for this user pool").

A ``redirect_uri`` that is not exactly one of the client's ``CallbackURLs`` (or a ``logout_uri``
not in its ``LogoutURLs``) is never redirected to: the browser gets an error page. Other problems
with an authorize request go back to the app as ``?error=...`` (``#error=...`` for
``response_type=token``), as Cognito's authorize endpoint reference lists them.

After the password, the same steps as the API flows: a user with a temporary password chooses a
new one (the pool's password policy), then the MFA step (a TOTP code, or an SMS code sent to
``lab.inbox``), each page carrying the pending sign-in in a hidden ``session`` field. A user who
must set up MFA first (MFA_SETUP) gets an authenticator secret (and its ``otpauth://`` URI) and
signs in with a code from it. The code pages (confirmation, password reset) carry whose code it is
in the same hidden ``session`` field, never in the URL.

Not here (the lab's README says so): setting up SMS MFA on a page, and the choice between two
factors (the hosted UI takes TOTP); passkeys and passwordless sign-in on the pages; link-based
confirmation (``/confirmUser``). Federation (``identity_provider``, ``idp_identifier``,
``/oauth2/idpresponse``): :mod:`labkit.emulator.user_pools.federation`.
"""
from __future__ import annotations

import base64
import hmac
import html
import json
from typing import Any
from urllib.parse import quote, urlencode

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import OAuth2Error

from .. import errors as E
from ..validation import RequestRejected, validate
from ...cognito.session import secret_hash
from . import attributes, federation, flows, oauth, oauth_settings, policy, triggers
from . import sign_up as sign_up_module
from .state import FORGOT_PASSWORD_CODE_TTL, SIGN_UP_CODE_TTL, TotpSecret

SESSION_COOKIE = "cognito"
CSRF_COOKIE = "XSRF-TOKEN"


class _Call:
    """One request to a domain: the lab state, moto's backend, the pool, the werkzeug request."""

    def __init__(self, state, backend, pool, domain: str, request) -> None:
        self.state = state
        self.backend = backend
        self.pool = pool
        self.domain = domain
        self.request = request
        self.base = f"{oauth_settings.DOMAIN_PATH}{domain}"
        self._server = None

    @property
    def server(self) -> oauth.CognitoAuthorizationServer:
        if self._server is None:
            self._server = oauth.server_for(self.state, self.backend, self.pool)
        return self._server

    @property
    def oauth(self) -> oauth.OAuthState:
        return oauth.oauth_state(self.state)


def handle(state, backend, lab_request):
    """Answer a request under ``/_domain/<domain>/`` (the lab's request hook calls this)."""
    from werkzeug.wrappers import Request

    domain, _, rest = lab_request.path[len(oauth_settings.DOMAIN_PATH):].partition("/")
    request = Request(lab_request.environ)
    with state.lock:
        pool = oauth_settings.pool_of_domain(backend, domain)
        if pool is None:
            return _page(404, "Domain not found",
                         f"No user pool of this lab has the domain {domain!r}. Create it with "
                         "CreateUserPoolDomain(Domain=…, UserPoolId=…).")
        path = "/" + rest.strip("/")
        route = _ROUTES.get(path) or _PAGES.get(path.lower())
        if route is None:
            return _page(404, "Not found", f"The domain {domain!r} has no page at /{rest}.")
        return route(_Call(state, backend, pool, domain, request))


# -- pages --------------------------------------------------------------------------------------
_STYLE = ("body{font-family:sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem}"
          "label,input{display:block;width:100%;margin:.3rem 0}input{padding:.4rem}"
          ".error{color:#b00020}")


def _html(status: int, title: str, body: str, headers: list | None = None):
    from werkzeug.wrappers import Response

    document = (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
                f"</title><style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n")
    response = Response(document, status=status, content_type="text/html; charset=utf-8")
    for name, value in headers or []:
        response.headers.add(name, value)
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(status: int, title: str, message: str, error: str | None = None):
    """An error page: what the browser shows when the lab must not redirect."""
    code = f'<p>Error: <code class="error-code">{html.escape(error)}</code></p>' if error else ""
    return _html(status, title, f"<h1>{html.escape(title)}</h1>\n<p class=\"error\">{html.escape(message)}</p>{code}")


def _form(call: _Call, title: str, inputs: str, message: str | None = None, status: int = 200,
          hidden: dict | None = None, intro: str = "", *, path: str = "/login",
          submit: str = "signInSubmitButton", label: str | None = None, footer: str = ""):
    """A hosted-UI page: a POST form to ``path`` (default /login) with the page's query string (the
    authorize parameters) and a fresh _csrf token, also set as the XSRF-TOKEN cookie."""
    csrf = call.state.opaque(24)
    call.oauth.csrf[csrf] = call.state.now() + oauth.HOSTED_UI_SESSION_TTL
    action = f"{call.base}{path}?{call.request.query_string.decode('latin-1')}"
    error = f'<p class="error" id="error">{html.escape(message)}</p>\n' if message else ""
    fields = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(str(v))}">\n'
                     for k, v in {"_csrf": csrf, **(hidden or {})}.items())
    body = (f"<h1>{html.escape(title)}</h1>\n{intro}{error}"
            f'<form method="post" action="{html.escape(action)}">\n{fields}{inputs}'
            f'<input type="submit" name="{html.escape(submit)}" value="{html.escape(label or title)}">\n'
            f"</form>\n{footer}")
    cookie = _cookie(call, CSRF_COOKIE, csrf, oauth.HOSTED_UI_SESSION_TTL)
    return _html(status, title, body, [("Set-Cookie", cookie)])


def _input(name: str, label: str, kind: str = "text", *, value: str = "", autocomplete: str = "",
           required: bool = True) -> str:
    """One labelled input (the id is the name without brackets, for the label's ``for``)."""
    ident = name.replace("[", "-").replace("]", "")
    extra = (f' value="{html.escape(value)}"' if value else "") + (
        f' autocomplete="{autocomplete}"' if autocomplete else "") + (" required" if required else "")
    return (f'<label for="{html.escape(ident)}">{html.escape(label)}</label>\n'
            f'<input id="{html.escape(ident)}" name="{html.escape(name)}" type="{kind}"{extra}>\n')


def _link(call: _Call, path: str, ident: str, text: str) -> str:
    """A link to another hosted-UI page that keeps the authorize parameters (the query string)."""
    href = f"{call.base}{path}?{call.request.query_string.decode('latin-1')}"
    return f'<p><a id="{ident}" href="{html.escape(href)}">{html.escape(text)}</a></p>\n'


def _login_form(call: _Call, message: str | None = None, status: int = 200):
    inputs = (_input("username", "Username", autocomplete="username")
              + _input("password", "Password", "password", autocomplete="current-password"))
    footer = _link(call, "/forgotPassword", "forgot-password", "Forgot your password?")
    if _sign_up_allowed(call.pool):       # no link when only administrators create users
        footer += _link(call, "/signup", "sign-up", "Need an account? Sign up")
    return _form(call, "Sign in", inputs, message, status, intro=_provider_links(call), footer=footer)


def _provider_links(call) -> str:
    """"Sign in with Google" links for the app client's external identity providers."""
    client = call.pool.clients.get(call.request.args.get("client_id") or "")
    if client is None:
        return ""
    links = []
    for name in oauth_settings.oauth_config(client)["identity_providers"]:
        if name != "COGNITO" and name in call.pool.identity_providers:
            args = [(k, v) for k, v in call.request.args.items(multi=True) if k != "identity_provider"]
            query = urlencode(args + [("identity_provider", name)])
            links.append(f'<p><a class="idp" id="idp-{html.escape(name)}" '
                         f'href="{html.escape(call.base)}/oauth2/authorize?{html.escape(query)}">'
                         f'Sign in with {html.escape(name)}</a></p>\n')
    return "".join(links)


def _step_form(call: _Call, pending_id: str, pending: oauth.PendingSignIn, message: str | None = None):
    """The page of a pending sign-in's next step: a new password, or an MFA code."""
    hidden = {"session": pending_id}
    if pending.step == "NEW_PASSWORD_REQUIRED":
        inputs = ('<label for="new_password">New password</label>\n'
                  '<input id="new_password" name="new_password" type="password" autocomplete="new-password" required>\n')
        intro = "<p>You signed in with a temporary password. Choose your own password to continue.</p>\n"
        return _form(call, "Change password", inputs, message, hidden=hidden, intro=intro)
    if pending.step == "MFA_SETUP":
        label = html.escape(f"{call.domain}:{pending.username}")
        uri = (f"otpauth://totp/{quote(call.domain)}:{quote(pending.username)}?secret={pending.totp_secret}"
               f"&issuer={quote(call.domain)}")
        intro = ("<p>This app requires multi-factor authentication. Add this key to your authenticator app "
                 f"(account {label}), then enter the code it shows.</p>\n"
                 f'<p>Secret key: <code id="secret">{pending.totp_secret}</code></p>\n'
                 f'<p>Or open: <code id="otpauth-uri">{html.escape(uri)}</code></p>\n')
        inputs = _input("code", "Code", autocomplete="one-time-code")
        return _form(call, "Set up MFA", inputs, message, hidden=hidden, intro=intro)
    what = ("the code from your authenticator app" if pending.step == "SOFTWARE_TOKEN_MFA"
            else "the code we sent you by SMS")
    inputs = ('<label for="code">Code</label>\n'
              '<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required>\n')
    return _form(call, "Verify", inputs, message, hidden=hidden, intro=f"<p>Enter {html.escape(what)}.</p>\n")


def _cookie(call: _Call, name: str, value: str, max_age: int) -> str:
    from werkzeug.http import dump_cookie

    return dump_cookie(name, value, max_age=max_age, path=call.base + "/", httponly=True, samesite="Lax",
                       secure=call.request.scheme == "https")


def _redirect(location: str, headers: list | None = None):
    from werkzeug.wrappers import Response

    response = Response("", status=302, headers=[("Location", location), *(headers or [])])
    response.headers["Cache-Control"] = "no-store"
    return response


def _redirect_error(redirect_uri: str, error: str, state: str | None):
    """Back to the app with ``?error=...`` (and the state): in the query string even for
    ``response_type=token``, as the authorize endpoint reference shows Cognito's error redirects."""
    params = [("error", error)] + ([("state", state)] if state else [])
    return _redirect(add_params_to_uri(redirect_uri, params))


# -- the authorize request ------------------------------------------------------------------------
def _check_authorize(call: _Call, values):
    """Validate an authorize request (``values``: its parameters). Returns (grant, OAuth2 request)
    or the Response to send instead: an error page, or an error redirect to the app."""
    client_id = values.get("client_id")
    client = call.pool.clients.get(client_id) if client_id else None
    if client is None:
        return _page(400, "Invalid request", "client_id is missing or is not an app client of this user pool.",
                     "invalid_request")
    config = oauth_settings.oauth_config(client)
    redirect_uri = values.get("redirect_uri") or config["default_redirect_uri"]
    if not redirect_uri or redirect_uri not in config["callback_urls"]:
        # Never redirect to a URL the app client did not register (open-redirect protection).
        return _page(400, "Redirect mismatch", "redirect_uri is missing or is not one of this app client's "
                     "CallbackURLs (they must match exactly).", "redirect_mismatch")
    response_type, state = values.get("response_type"), values.get("state")
    if response_type not in ("code", "token"):
        return _redirect_error(redirect_uri, "invalid_request", state)
    provider_name, provider = federation.provider_for_request(call.pool, values)
    if provider_name is not None and provider is None:
        return _redirect_error(redirect_uri, "invalid_request", state)   # no such identity provider
    if (provider_name or "COGNITO") not in config["identity_providers"] and (
            provider_name is not None or config["identity_providers"]):
        return _redirect_error(redirect_uri, "unauthorized_client", state)  # not in SupportedIdentityProviders
    request = oauth.LabOAuth2Request(call.request, values)
    try:
        grant = call.server.get_consent_grant(request)
    except OAuth2Error as error:
        if error.redirect_uri:
            return _redirect_error(error.redirect_uri, error.error, state)
        return _page(400, "Invalid request", error.description or error.error, error.error)
    return grant, request


def _issue(call: _Call, grant, request, user, headers: list | None = None):
    """Redirect to the app with a code (``response_type=code``) or tokens (``token``)."""
    response = call.server.create_authorization_response(request, grant_user=oauth.LabUser(user),
                                                         grant=grant)
    for name, value in headers or []:
        response.headers.add(name, value)
    response.headers["Cache-Control"] = "no-store"
    return response


def _session_user(call: _Call):
    """The user the browser's hosted-UI session belongs to (this pool, still valid), or None."""
    session = call.oauth.sessions.get(call.request.cookies.get(SESSION_COOKIE, ""))
    if session is None or session.pool_id != call.pool.id or call.state.now() >= session.expires_at:
        return None
    user = call.pool._get_user(session.username)
    if user is None or user.id != session.sub or not user.enabled:
        return None
    return user


def authorize(call: _Call):
    if call.request.method != "GET":
        return _page(405, "Method not allowed", "The authorize endpoint is read with GET.")
    checked = _check_authorize(call, call.request.args)
    if not isinstance(checked, tuple):
        return checked
    grant, request = checked
    provider_name, provider = federation.provider_for_request(call.pool, call.request.args)
    if provider is not None:                       # straight to the IdP (identity_provider / idp_identifier)
        try:
            return _redirect(federation.start(call, provider_name, provider, call.request.args))
        except E.CognitoError as problem:
            return _page(400, f"Sign-in with {provider_name} is not available", problem.message, "invalid_request")
    prompt = set((call.request.args.get("prompt") or "").split())
    user = _session_user(call)
    if "none" in prompt and user is None:
        return _redirect_error(grant.redirect_uri, "login_required", call.request.args.get("state"))
    if user is not None and "login" not in prompt:
        return _issue(call, grant, request, user)
    query = call.request.query_string.decode("latin-1")
    return _redirect(f"{call.base}/login?{query}")


# -- signing in ---------------------------------------------------------------------------------
def login(call: _Call):
    checked = _check_authorize(call, call.request.args)
    if not isinstance(checked, tuple):
        return checked
    grant, request = checked
    if call.request.method == "GET":
        return _login_form(call)
    if call.request.method != "POST":
        return _page(405, "Method not allowed", "Open the sign-in page with GET and send it with POST.")
    form = call.request.form
    if not _csrf_ok(call):
        return _login_form(call, "Your sign-in page expired. Please sign in again.", 403)
    client = call.pool.clients[call.request.args.get("client_id")]
    if "session" in form:                                  # the new-password or MFA step
        return _next_step(call, client, grant, request, form)
    try:
        user = _password_step(call, client, form.get("username") or "", form.get("password") or "")
    except E.CognitoError as problem:
        return _login_form(call, problem.message)
    if flows._status(user) == "FORCE_CHANGE_PASSWORD":
        return _pending(call, client, user, "NEW_PASSWORD_REQUIRED")
    return _after_password(call, client, grant, request, user)


def _csrf_ok(call: _Call) -> bool:
    """The form's _csrf token is the one this browser got with the page (its XSRF-TOKEN cookie),
    still valid, and used once."""
    token = call.request.form.get("_csrf", "")
    expires = call.oauth.csrf.pop(token, None)
    return bool(token) and token == call.request.cookies.get(CSRF_COOKIE) and expires is not None \
        and call.state.now() < expires


def _password_step(call: _Call, client, username: str, password: str):
    """The password step of the API flows (unknown user, lockout, wrong password, user status),
    raising the same CognitoErrors; the page shows their messages."""
    state, pool = call.state, call.pool
    user = pool._get_user(username) if username else None
    with triggers.calling({"ClientId": client.id}):
        if user is None and username:
            # /login runs the migrate user trigger for a user the pool lacks, and pre authentication
            # (trigger table, local users in managed login), as InitiateAuth does
            user = triggers.migrate_user(state, pool, client, username, "UserMigration_Authentication", password)
        if user is None:
            raise flows._unknown_user(client)
        if state.is_locked(pool.id, user.username):
            raise E.not_authorized(E.PASSWORD_ATTEMPTS_EXCEEDED)
        triggers.pre_authentication(state, pool, client, user)
    if not flows.password_matches(state, pool, user, password):
        state.record_failure(pool.id, user.username)
        raise E.not_authorized(E.INCORRECT_CREDENTIALS)
    state.record_success(pool.id, user.username)
    flows.check_may_continue(state, pool, user)
    return user


def _after_password(call: _Call, client, grant, request, user):
    """The password (or the new one) is right: the MFA step if the user has one, else signed in."""
    step = oauth.mfa_step(call.state, call.pool, user)
    if step is None:
        return _signed_in(call, grant, request, user)
    if step == "MFA_SETUP" and not (call.pool.token_mfa_config or {}).get("Enabled"):
        return _login_form(call, "This user must set up SMS MFA first, which the lab's hosted UI does not offer: "
                                 "an administrator gives the user a phone number (AdminUpdateUserAttributes).")
    return _pending(call, client, user, step)


def _pending(call: _Call, client, user, step: str):
    """Remember a sign-in halfway (as long as the app client's AuthSessionValidity), show its step."""
    minutes = client.extended_config.get("AuthSessionValidity") or flows.AUTH_SESSION_MINUTES
    pending = oauth.PendingSignIn(call.pool.id, client.id, user.username, user.id, step,
                                  call.state.now() + 60 * minutes)
    if step == "MFA_SETUP":
        # a new authenticator secret, as AssociateSoftwareToken makes one (32 random bytes, base32)
        pending.totp_secret = base64.b32encode(call.state.lab.random_bytes(32)).decode().rstrip("=")
    if step == "SMS_MFA":
        phone = user.attribute_lookup.get("phone_number")
        pending.sms_code = call.state.code()
        text = flows._message_template(call.pool, "sms-mfa", "SMS").replace("{####}", pending.sms_code)
        call.state.lab.deliver(to=phone, channel="SMS", kind="sms-mfa", text=text, code=pending.sms_code)
    pending_id = call.state.opaque(32)
    call.oauth.pending[pending_id] = pending
    return _step_form(call, pending_id, pending)


def _next_step(call: _Call, client, grant, request, form):
    pending_id = form.get("session") or ""
    pending = call.oauth.pending.get(pending_id)
    if pending is None or pending.pool_id != call.pool.id or pending.client_id != client.id \
            or pending.step not in _SIGN_IN_STEPS:
        return _login_form(call, "Invalid session for the user.")
    user = call.pool._get_user(pending.username)
    if call.state.now() >= pending.expires_at or user is None or user.id != pending.sub:
        del call.oauth.pending[pending_id]
        return _login_form(call, E.SESSION_EXPIRED)
    if pending.step == "NEW_PASSWORD_REQUIRED":
        new_password = form.get("new_password") or ""
        try:
            policy.validate_password(call.pool, new_password)
        except E.CognitoError as problem:
            return _step_form(call, pending_id, pending, problem.message)
        from moto.cognitoidp.models import UserStatus

        del call.oauth.pending[pending_id]
        user.password = new_password
        user.status = UserStatus.CONFIRMED
        return _after_password(call, client, grant, request, user)
    code = form.get("code") or ""
    if pending.step == "MFA_SETUP":
        # VerifySoftwareToken's rule: an RFC 6238 code of the new secret; then the factor is the user's
        if not flows.totp_ok(call.state, pending.totp_secret, code):
            return _step_form(call, pending_id, pending, "Code mismatch")
        del call.oauth.pending[pending_id]
        call.state.totp[(call.pool.id, user.username)] = TotpSecret(pending.totp_secret, verified=True)
        user.token_verified = True
        user.software_token_mfa_enabled = True
        return _signed_in(call, grant, request, user)
    if pending.step == "SOFTWARE_TOKEN_MFA":
        secret = call.state.totp.get((call.pool.id, user.username))
        right = secret is not None and flows.totp_ok(call.state, secret.secret, code)
    else:
        right = bool(pending.sms_code) and hmac.compare_digest(code, pending.sms_code)
    if not right:
        return _step_form(call, pending_id, pending, "Invalid code received for user")
    del call.oauth.pending[pending_id]
    return _signed_in(call, grant, request, user)


_SIGN_IN_STEPS = ("NEW_PASSWORD_REQUIRED", "SOFTWARE_TOKEN_MFA", "SMS_MFA", "MFA_SETUP")


def _signed_in(call: _Call, grant, request, user):
    """Start the hosted-UI session (its cookie) and send the browser back to the app."""
    session_id = call.state.opaque(32)
    call.oauth.sessions[session_id] = oauth.HostedSession(call.pool.id, user.username, user.id,
                                                          call.state.now() + oauth.HOSTED_UI_SESSION_TTL)
    cookie = _cookie(call, SESSION_COOKIE, session_id, oauth.HOSTED_UI_SESSION_TTL)
    return _issue(call, grant, request, user, [("Set-Cookie", cookie)])


# -- signing up and resetting a password -------------------------------------------------------------
# The developer guide's user guides ("How to sign up for a new account in the Amazon Cognito hosted UI",
# "How to reset a password with the Amazon Cognito hosted UI") and its trigger table (local users in
# managed login: /signup, /confirmuser, /forgotpassword, /confirmforgotpassword) describe these pages;
# the CloudTrail examples ("Example Amazon Cognito events", hosted UI sign-up) show the field names
# the sign-up and confirmation forms post: username, password, requiredAttributes[email], _csrf,
# then code, username, sub, destination, deliveryMedium and the confirm button. The reset pages'
# field names (username; code, password, confirmPassword) are the lab's choice.
def _sign_up_allowed(pool) -> bool:
    """AllowAdminCreateUserOnly: "only the administrator can create user profiles" (no self sign-up)."""
    return not (pool.extended_config.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly")


def _api_params(client, username: str, **extra) -> dict:
    """Parameters for the API flow behind a page. Cognito's own pages need no SECRET_HASH, so the lab
    computes the one a client with a secret would send."""
    params = {"ClientId": client.id, "Username": username, **extra}
    if client.generate_secret:
        params["SecretHash"] = secret_hash(username, client.id, client.secret)
    return params


_INPUT_TYPES = {"email": "email", "phone_number": "tel", "birthdate": "date"}


def _sign_up_attributes(pool) -> list[tuple[str, bool]]:
    """The attributes the sign-up page asks for, as (name, required): the schema's required ones, then
    the auto-verified ones (a code needs an address); not those typed as the username."""
    aliases = set(pool.extended_config.get("UsernameAttributes") or [])
    wanted = [(n, True) for n, a in attributes.schema(pool).items()
              if a.required and n != attributes.SUB and n not in aliases]
    for name in pool.extended_config.get("AutoVerifiedAttributes") or []:
        if name not in aliases and name not in {n for n, _ in wanted}:
            wanted.append((name, False))
    return wanted


def _sign_up_form(call: _Call, message: str | None = None, status: int = 200, values: dict | None = None):
    values = values or {}
    aliases = call.pool.extended_config.get("UsernameAttributes") or []
    label = " or ".join({"email": "Email", "phone_number": "Phone number"}[a] for a in aliases) or "Username"
    inputs = _input("username", label, autocomplete="username", value=values.get("username", ""))
    for name, required in _sign_up_attributes(call.pool):
        field = f"requiredAttributes[{name}]"
        inputs += _input(field, name.replace("_", " ").capitalize(), _INPUT_TYPES.get(name, "text"),
                         value=values.get(field, ""), required=required)
    inputs += _input("password", "Password", "password", autocomplete="new-password")
    footer = _link(call, "/login", "sign-in", "Already have an account? Sign in")
    return _form(call, "Sign up", inputs, message, status, path="/signup", submit="signUpButton",
                 footer=footer)


def sign_up(call: _Call):
    """``/signup``: the pool's SignUp (password policy, required attributes, pre sign-up trigger,
    AllowAdminCreateUserOnly), then the confirmation page; a user confirmed already (a pre sign-up
    trigger's autoConfirmUser) is signed in at once."""
    checked = _check_authorize(call, call.request.args)
    if not isinstance(checked, tuple):
        return checked
    grant, request = checked
    if not _sign_up_allowed(call.pool):
        return _page(400, "Sign-up is not available", "SignUp is not permitted for this user pool",
                     "invalid_request")
    if call.request.method == "GET":
        return _sign_up_form(call)
    if call.request.method != "POST":
        return _page(405, "Method not allowed", "Open the sign-up page with GET and send it with POST.")
    form = call.request.form
    values = {k: v for k, v in form.items() if k not in ("password", "_csrf")}
    if not _csrf_ok(call):
        return _sign_up_form(call, "Your sign-up page expired. Please try again.", 403, values)
    client = call.pool.clients[call.request.args.get("client_id")]
    username = form.get("username") or ""
    pairs = [{"Name": key[len("requiredAttributes["):-1], "Value": value} for key, value in form.items()
             if key.startswith("requiredAttributes[") and key.endswith("]") and value != ""]
    params = {"ClientId": client.id, "Username": username, "Password": form.get("password") or "",
              "UserAttributes": pairs}
    try:
        validate("cognito-idp", "SignUp", json.dumps(params).encode())   # the API model's constraints
        with triggers.calling({"ClientId": client.id}):
            result = sign_up_module.sign_up(call.state, call.backend, params, check_hash=False)
    except RequestRejected as problem:
        return _sign_up_form(call, problem.message, values=values)
    except E.CognitoError as problem:
        return _sign_up_form(call, problem.message, values=values)
    user = call.pool._get_user(username)
    if result.get("UserConfirmed"):
        return _after_password(call, client, grant, request, user)
    details = result.get("CodeDeliveryDetails")
    if not details:
        # No auto-verified attribute to send a code to: only an administrator can confirm this user.
        body = ("<h1>Account created</h1>\n<p>Your account must be confirmed by an administrator before you "
                "can sign in.</p>\n" + _link(call, "/login", "sign-in", "Sign in"))
        return _html(200, "Account created", body)
    pending_id = _code_page_session(call, client, user.username, user.id, "CONFIRM_SIGN_UP",
                                    SIGN_UP_CODE_TTL, details)
    return _confirm_form(call, username, call.oauth.pending[pending_id], pending_id)


def _code_page_session(call: _Call, client, username: str, sub: str | None, step: str, ttl: float,
                       details: dict) -> str:
    """Remember whose code the next page asks for (a hidden ``session`` field, as the sign-in steps)."""
    pending_id = call.state.opaque(32)
    call.oauth.pending[pending_id] = oauth.PendingSignIn(call.pool.id, client.id, username, sub or "", step,
                                                         call.state.now() + ttl, details=details)
    return pending_id


def _code_sent(details: dict | None, purpose: str) -> str:
    if not details:
        return ""
    medium = "email" if details.get("DeliveryMedium") == "EMAIL" else "SMS"
    return (f'<p id="code-delivery">We have sent a {purpose} code by {medium} to '
            f'{html.escape(details.get("Destination", ""))}. Enter it below.</p>\n')


def _confirm_form(call: _Call, username: str, pending=None, pending_id: str | None = None,
                  message: str | None = None):
    """The confirmation page: the code (and, opened on its own, the username)."""
    if pending is not None:
        details = pending.details or {}
        hidden = {"session": pending_id, "username": username, "sub": pending.sub,
                  "destination": details.get("Destination", ""), "deliveryMedium": details.get("DeliveryMedium", "")}
        inputs = _input("code", "Verification code", autocomplete="one-time-code")
        intro = _code_sent(details, "verification")
    else:
        hidden = {}
        inputs = (_input("username", "Username", autocomplete="username", value=username)
                  + _input("code", "Verification code", autocomplete="one-time-code"))
        intro = "<p>Enter the verification code we sent you.</p>\n"
    footer = _link(call, "/login", "sign-in", "Sign in")
    return _form(call, "Confirm your account", inputs, message, hidden=hidden, intro=intro, path="/confirm",
                 submit="confirm", label="Confirm account", footer=footer)


def _page_session(call: _Call, client, step: str):
    """The pending sign-up or reset a code page's hidden ``session`` names (this pool, client, step,
    not expired), or (None, None)."""
    pending_id = call.request.form.get("session") or ""
    pending = call.oauth.pending.get(pending_id)
    if (pending is None or pending.pool_id != call.pool.id or pending.client_id != client.id
            or pending.step != step or call.state.now() >= pending.expires_at):
        return None, None
    return pending_id, pending


def confirm(call: _Call):
    """``/confirm``: ConfirmSignUp with the code (the post confirmation trigger runs); the browser that
    signed up is then signed in and sent back to the app with a code, as the developer guide's
    hosted-UI sign-up guide ends ("Amazon Cognito grants access to your app"). Opened on its own
    (``?username=``, confirming later), the page sends the user to sign in once confirmed."""
    checked = _check_authorize(call, call.request.args)
    if not isinstance(checked, tuple):
        return checked
    grant, request = checked
    if call.request.method == "GET":
        return _confirm_form(call, call.request.args.get("username") or "")
    if call.request.method != "POST":
        return _page(405, "Method not allowed", "Open the confirmation page with GET and send it with POST.")
    client = call.pool.clients[call.request.args.get("client_id")]
    pending_id, pending = _page_session(call, client, "CONFIRM_SIGN_UP")
    username = pending.username if pending is not None else (call.request.form.get("username") or "")
    if not _csrf_ok(call):
        return _confirm_form(call, username, pending, pending_id, "Your page expired. Please try again.")
    try:
        with triggers.calling({"ClientId": client.id}):
            if "resend" in call.request.form:
                sent = flows.resend_confirmation_code(call.state, call.backend, _api_params(client, username))
                if pending is not None:
                    pending.details = sent["CodeDeliveryDetails"]
                return _confirm_form(call, username, pending, pending_id, None)
            flows.confirm_sign_up(call.state, call.backend, _api_params(
                client, username, ConfirmationCode=call.request.form.get("code") or ""))
    except E.CognitoError as problem:
        return _confirm_form(call, username, pending, pending_id, problem.message)
    if pending is None:
        return _redirect(f"{call.base}/login?{call.request.query_string.decode('latin-1')}")
    del call.oauth.pending[pending_id]
    user = call.pool._get_user(username)
    # the hosted UI's own rule for the rest of this first sign-in: the MFA step, set-up included
    # ("The app owner might require that you set up MFA", the hosted-UI sign-up guide)
    call.state.first_sign_in_pending.discard((call.pool.id, user.username))
    return _after_password(call, client, grant, request, user)


def _forgot_form(call: _Call, message: str | None = None, username: str = ""):
    inputs = _input("username", "Username", autocomplete="username", value=username)
    intro = "<p>Enter your username and we will send you a code to reset your password.</p>\n"
    footer = _link(call, "/login", "sign-in", "Back to sign in")
    return _form(call, "Forgot your password?", inputs, message, intro=intro, path="/forgotPassword",
                 submit="reset_my_password", label="Reset my password", footer=footer)


def _reset_form(call: _Call, username: str, pending=None, pending_id: str | None = None,
                message: str | None = None):
    """The second reset page: the code and the new password, twice."""
    if pending is not None:
        hidden, intro = {"session": pending_id}, _code_sent(pending.details, "password reset")
        inputs = ""
    else:
        hidden, intro = {}, "<p>Enter the password reset code we sent you.</p>\n"
        inputs = _input("username", "Username", autocomplete="username", value=username)
    inputs += (_input("code", "Code", autocomplete="one-time-code")
               + _input("password", "New password", "password", autocomplete="new-password")
               + _input("confirmPassword", "Enter new password again", "password", autocomplete="new-password"))
    footer = _link(call, "/login", "sign-in", "Back to sign in")
    return _form(call, "Reset your password", inputs, message, hidden=hidden, intro=intro,
                 path="/confirmForgotPassword", submit="reset_password", label="Change password", footer=footer)


def forgot_password(call: _Call):
    """``/forgotPassword``: ForgotPassword (the code's lifetime, PreventUserExistenceErrors: with
    ENABLED an unknown user gets the same page after a simulated delivery), then the reset page."""
    checked = _check_authorize(call, call.request.args)
    if not isinstance(checked, tuple):
        return checked
    if call.request.method == "GET":
        return _forgot_form(call)
    if call.request.method != "POST":
        return _page(405, "Method not allowed", "Open the page with GET and send it with POST.")
    username = call.request.form.get("username") or ""
    if not _csrf_ok(call):
        return _forgot_form(call, "Your page expired. Please try again.", username)
    client = call.pool.clients[call.request.args.get("client_id")]
    try:
        validate("cognito-idp", "ForgotPassword", json.dumps(_api_params(client, username)).encode())
        with triggers.calling({"ClientId": client.id}):
            sent = flows.forgot_password(call.state, call.backend, _api_params(client, username))
    except (RequestRejected, E.CognitoError) as problem:
        return _forgot_form(call, problem.message, username)
    pending_id = _code_page_session(call, client, username, None, "CONFIRM_FORGOT_PASSWORD",
                                    FORGOT_PASSWORD_CODE_TTL, sent["CodeDeliveryDetails"])
    return _reset_form(call, username, call.oauth.pending[pending_id], pending_id)


def confirm_forgot_password(call: _Call):
    """``/confirmForgotPassword``: ConfirmForgotPassword (the code, the policy, the password history;
    the post confirmation trigger), then back to the sign-in page: "After you change your password,
    return to the sign-in page and sign in with your new password" (the hosted-UI reset guide)."""
    checked = _check_authorize(call, call.request.args)
    if not isinstance(checked, tuple):
        return checked
    if call.request.method == "GET":
        return _reset_form(call, call.request.args.get("username") or "")
    if call.request.method != "POST":
        return _page(405, "Method not allowed", "Open the page with GET and send it with POST.")
    client = call.pool.clients[call.request.args.get("client_id")]
    form = call.request.form
    pending_id, pending = _page_session(call, client, "CONFIRM_FORGOT_PASSWORD")
    username = pending.username if pending is not None else (form.get("username") or "")
    if not _csrf_ok(call):
        return _reset_form(call, username, pending, pending_id, "Your page expired. Please try again.")
    if (form.get("password") or "") != (form.get("confirmPassword") or ""):
        return _reset_form(call, username, pending, pending_id, "The two passwords do not match.")
    params = _api_params(client, username, ConfirmationCode=form.get("code") or "",
                         Password=form.get("password") or "")
    try:
        validate("cognito-idp", "ConfirmForgotPassword", json.dumps(params).encode())
        with triggers.calling({"ClientId": client.id}):
            flows.confirm_forgot_password(call.state, call.backend, params,
                                          lambda _pool_id, password: policy.validate_password(call.pool, password))
    except (RequestRejected, E.CognitoError) as problem:
        return _reset_form(call, username, pending, pending_id, problem.message)
    if pending is not None:
        del call.oauth.pending[pending_id]
    return _redirect(f"{call.base}/login?{call.request.query_string.decode('latin-1')}")


# -- the endpoints an app calls directly ----------------------------------------------------------
def _json(status: int, body: dict, headers: list | None = None):
    from werkzeug.wrappers import Response

    return Response(json.dumps(body), status=status, headers=headers or [], content_type="application/json")


def _form_post_problem(call: _Call):
    if call.request.method != "POST":
        return _json(405, {"error": "invalid_request"}, [("Allow", "POST")])
    if call.request.mimetype != "application/x-www-form-urlencoded":
        return _json(400, {"error": "invalid_request"})      # "Must always be application/x-www-form-urlencoded"
    return None


def token(call: _Call):
    problem = _form_post_problem(call)
    if problem is not None:
        return problem
    if not call.request.form.get("grant_type"):
        return _json(400, {"error": "invalid_request"})
    return call.server.create_token_response(call.request)


def revoke(call: _Call):
    problem = _form_post_problem(call)
    if problem is not None:
        return problem
    response = call.server.create_endpoint_response("revocation", call.request)
    if response.status_code == 200:
        response.set_data(b"")                 # "A successful response contains an empty body."
    elif json.loads(response.get_data() or b"{}").get("error") == "invalid_client":
        response.status_code = 401             # "HTTP 401 ... if the client credentials are invalid"
    return response


_INVALID_TOKEN = ("Access token is expired, disabled, or deleted, or the user has globally signed out.")


def user_info(call: _Call):
    if call.request.method not in ("GET", "POST"):
        return _json(405, {"error": "invalid_request"}, [("Allow", "GET, POST")])
    scheme, _, access_token = (call.request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not access_token.strip():
        description = "Bad OAuth2 request at UserInfo Endpoint"
        return _json(400, {"error": "invalid_request", "error_description": description},
                     [("WWW-Authenticate", f'error="invalid_request", error_description="{description}"')])
    try:
        record = flows.check_access_token(call.state, call.backend, access_token.strip(), required_scope="openid")
        if record.pool_id != call.pool.id:
            raise E.not_authorized(E.INVALID_ACCESS_TOKEN)
    except E.CognitoError:
        return _json(401, {"error": "invalid_token", "error_description": _INVALID_TOKEN},
                     [("WWW-Authenticate", f'error="invalid_token", error_description="{_INVALID_TOKEN}"')])
    import jwt

    scopes = str(jwt.decode(access_token.strip(), options={"verify_signature": False}).get("scope", "")).split()
    user = call.pool._get_user(record.username)
    client = call.pool.clients.get(record.client_id)
    return _json(200, oauth.user_info(call.pool, client, user, scopes))


def logout(call: _Call):
    if call.request.method != "GET":
        return _page(405, "Method not allowed", "The logout endpoint is opened with GET.")
    args = call.request.args
    client = call.pool.clients.get(args.get("client_id") or "")
    if client is None:
        return _page(400, "Invalid request", "client_id is missing or is not an app client of this user pool.",
                     "invalid_request")
    logout_uri = args.get("logout_uri")
    if logout_uri is not None:
        if logout_uri not in oauth_settings.oauth_config(client)["logout_urls"]:
            return _page(400, "Redirect mismatch", "logout_uri is not one of this app client's LogoutURLs "
                         "(they must match exactly).", "redirect_mismatch")
        target = logout_uri
    elif args.get("redirect_uri") is not None:
        checked = _check_authorize(call, args)        # the parameters of the sign-in that follows
        if not isinstance(checked, tuple):
            return checked
        target = f"{call.base}/login?{urlencode(list(args.items(multi=True)))}"
    else:
        return _page(400, "Invalid request", "Give logout_uri (one of the app client's LogoutURLs), or "
                     "redirect_uri with the parameters of a new sign-in.", "invalid_request")
    call.oauth.sessions.pop(call.request.cookies.get(SESSION_COOKIE, ""), None)
    return _redirect(target, [("Set-Cookie", _cookie(call, SESSION_COOKIE, "", 0))])


# -- back from an external identity provider ------------------------------------------------------
def idp_response(call):
    """``/oauth2/idpresponse``: the browser is back from the IdP with its code (or an error)."""
    pending = federation.take_pending(call)
    if pending is None:
        return _page(400, "Invalid request", "This sign-in is unknown or expired: start it again.", "invalid_request")
    checked = _check_authorize(call, pending.values)      # the app's own authorize request, again
    if not isinstance(checked, tuple):
        return checked
    grant, request = checked
    if call.request.args.get("error") or not call.request.args.get("code"):
        # The user cancelled at the IdP, or it refused: the app hears it as an error redirect.
        return _redirect_error(grant.redirect_uri, "access_denied", pending.values.get("state"))
    try:
        with triggers.calling({"ClientId": pending.values.get("client_id")}):
            user = federation.complete(call, pending)
    except E.CognitoError as problem:
        if problem.error_type in _TRIGGER_ERRORS:
            # a pre sign-up trigger refused the first sign-in: the app hears why (error_description)
            params = [("error_description", problem.message), ("error", "invalid_request")]
            if pending.values.get("state"):
                params.append(("state", pending.values.get("state")))
            return _redirect(add_params_to_uri(grant.redirect_uri, params))
        return _page(400, "Sign-in failed", problem.message, "invalid_request")
    return _signed_in(call, grant, request, user)


_TRIGGER_ERRORS = ("UserLambdaValidationException", "UnexpectedLambdaException", "InvalidLambdaResponseException")


_ROUTES: dict[str, Any] = {
    "/oauth2/authorize": authorize, "/login": login, "/oauth2/token": token,
    "/oauth2/userInfo": user_info, "/oauth2/revoke": revoke, "/logout": logout,
    "/oauth2/idpresponse": idp_response, "/signup": sign_up, "/confirm": confirm,
    "/forgotPassword": forgot_password, "/confirmForgotPassword": confirm_forgot_password,
}
# The developer guide writes the pages' paths in more than one case (/confirmforgotPassword,
# /forgotpassword): the pages answer in any case.
_PAGES = {path.lower(): route for path, route in _ROUTES.items() if not path.startswith("/oauth2/")}
