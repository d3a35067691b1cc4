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
=========================  =====================================================================

A ``redirect_uri`` that is not exactly one of the client's ``CallbackURLs`` (or a ``logout_uri``
not in its ``LogoutURLs``) is never redirected to: the browser gets an error page. Other problems
with an authorize request go back to the app as ``?error=...`` (``#error=...`` for
``response_type=token``), as Cognito's authorize endpoint reference lists them.

After the password, the same steps as the API flows: a user with a temporary password chooses a
new one (the pool's password policy), then the MFA step (a TOTP code, or an SMS code sent to
``lab.inbox``), each page carrying the pending sign-in in a hidden ``session`` field.

Not yet here (the lab's README says so): MFA set-up (MFA_SETUP) and the choice between two
factors (the hosted UI takes TOTP), sign-up and forgot-password pages. Federation (``identity_provider``,
``idp_identifier``, ``/oauth2/idpresponse``): :mod:`labkit.emulator.user_pools.federation`.
"""
from __future__ import annotations

import hmac
import html
import json
from typing import Any
from urllib.parse import urlencode

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import OAuth2Error

from .. import errors as E
from . import federation, flows, oauth, oauth_settings, policy

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
        route = _ROUTES.get("/" + rest.strip("/"))
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
          hidden: dict | None = None, intro: str = ""):
    """A sign-in page: a POST form back to /login (same query string) with a fresh _csrf token."""
    csrf = call.state.opaque(24)
    call.oauth.csrf[csrf] = call.state.now() + oauth.HOSTED_UI_SESSION_TTL
    action = f"{call.base}/login?{call.request.query_string.decode('latin-1')}"
    error = f'<p class="error" id="error">{html.escape(message)}</p>\n' if message else ""
    fields = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">\n'
                     for k, v in {"_csrf": csrf, **(hidden or {})}.items())
    body = (f"<h1>{html.escape(title)}</h1>\n{intro}{error}"
            f'<form method="post" action="{html.escape(action)}">\n{fields}{inputs}'
            f'<input type="submit" name="signInSubmitButton" value="{html.escape(title)}">\n</form>')
    cookie = _cookie(call, CSRF_COOKIE, csrf, oauth.HOSTED_UI_SESSION_TTL)
    return _html(status, title, body, [("Set-Cookie", cookie)])


def _login_form(call: _Call, message: str | None = None, status: int = 200):
    inputs = ('<label for="username">Username</label>\n'
              '<input id="username" name="username" type="text" autocomplete="username" required>\n'
              '<label for="password">Password</label>\n'
              '<input id="password" name="password" type="password" autocomplete="current-password" required>\n')
    return _form(call, "Sign in", inputs, message, status, intro=_provider_links(call))


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
    token = form.get("_csrf", "")
    expires = call.oauth.csrf.pop(token, None)
    if (not token or token != call.request.cookies.get(CSRF_COOKIE) or expires is None
            or call.state.now() >= expires):
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


def _password_step(call: _Call, client, username: str, password: str):
    """The password step of the API flows (unknown user, lockout, wrong password, user status),
    raising the same CognitoErrors; the page shows their messages."""
    state, pool = call.state, call.pool
    user = pool._get_user(username) if username else None
    if user is None:
        raise flows._unknown_user(client)
    if state.is_locked(pool.id, user.username):
        raise E.not_authorized(E.PASSWORD_ATTEMPTS_EXCEEDED)
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
    if step == "MFA_SETUP":
        return _login_form(call, "This user must set up MFA first, which the lab's hosted UI does not offer yet: "
                                 "use the API (AssociateSoftwareToken, VerifySoftwareToken).")
    return _pending(call, client, user, step)


def _pending(call: _Call, client, user, step: str):
    """Remember a sign-in halfway (as long as the app client's AuthSessionValidity), show its step."""
    minutes = client.extended_config.get("AuthSessionValidity") or flows.AUTH_SESSION_MINUTES
    pending = oauth.PendingSignIn(call.pool.id, client.id, user.username, user.id, step,
                                  call.state.now() + 60 * minutes)
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
    if pending is None or pending.pool_id != call.pool.id or pending.client_id != client.id:
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
    if pending.step == "SOFTWARE_TOKEN_MFA":
        secret = call.state.totp.get((call.pool.id, user.username))
        right = secret is not None and flows.totp_ok(call.state, secret.secret, code)
    else:
        right = bool(pending.sms_code) and hmac.compare_digest(code, pending.sms_code)
    if not right:
        return _step_form(call, pending_id, pending, "Invalid code received for user")
    del call.oauth.pending[pending_id]
    return _signed_in(call, grant, request, user)


def _signed_in(call: _Call, grant, request, user):
    """Start the hosted-UI session (its cookie) and send the browser back to the app."""
    session_id = call.state.opaque(32)
    call.oauth.sessions[session_id] = oauth.HostedSession(call.pool.id, user.username, user.id,
                                                          call.state.now() + oauth.HOSTED_UI_SESSION_TTL)
    cookie = _cookie(call, SESSION_COOKIE, session_id, oauth.HOSTED_UI_SESSION_TTL)
    return _issue(call, grant, request, user, [("Set-Cookie", cookie)])


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
        user = federation.complete(call, pending)
    except E.CognitoError as problem:
        return _page(400, "Sign-in failed", problem.message, "invalid_request")
    return _signed_in(call, grant, request, user)


_ROUTES: dict[str, Any] = {
    "/oauth2/authorize": authorize, "/login": login, "/oauth2/token": token,
    "/oauth2/userInfo": user_info, "/oauth2/revoke": revoke, "/logout": logout,
    "/oauth2/idpresponse": idp_response,
}
