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
=========================  =====================================================================

A ``redirect_uri`` that is not exactly one of the client's ``CallbackURLs`` (or a ``logout_uri``
not in its ``LogoutURLs``) is never redirected to: the browser gets an error page. Other problems
with an authorize request go back to the app as ``?error=...`` (``#error=...`` for
``response_type=token``), as Cognito's authorize endpoint reference lists them.

Not yet here (the lab's README says so): the MFA step and the new-password form of the hosted UI
(such users are told to sign in through the API), sign-up and forgot-password pages, federation.
"""
from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import urlencode

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import OAuth2Error

from .. import errors as E
from . import flows, oauth, oauth_settings

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


def _login_form(call: _Call, message: str | None = None, status: int = 200):
    csrf = call.state.opaque(24)
    call.oauth.csrf[csrf] = call.state.now() + oauth.HOSTED_UI_SESSION_TTL
    action = f"{call.base}/login?{call.request.query_string.decode('latin-1')}"
    error = f'<p class="error" id="error">{html.escape(message)}</p>\n' if message else ""
    body = (f"<h1>Sign in</h1>\n{error}"
            f'<form method="post" action="{html.escape(action)}">\n'
            f'<input type="hidden" name="_csrf" value="{html.escape(csrf)}">\n'
            '<label for="username">Username</label>\n'
            '<input id="username" name="username" type="text" autocomplete="username" required>\n'
            '<label for="password">Password</label>\n'
            '<input id="password" name="password" type="password" autocomplete="current-password" required>\n'
            '<input type="submit" name="signInSubmitButton" value="Sign in">\n</form>')
    cookie = _cookie(call, CSRF_COOKIE, csrf, oauth.HOSTED_UI_SESSION_TTL)
    return _html(status, "Sign in", body, [("Set-Cookie", cookie)])


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
    provider = values.get("identity_provider")
    if provider is not None and provider != "COGNITO":
        return _redirect_error(redirect_uri, "invalid_request", state)   # no federation in the lab yet
    if config["identity_providers"] and "COGNITO" not in config["identity_providers"]:
        return _redirect_error(redirect_uri, "unauthorized_client", state)
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
    prompt = set((call.request.args.get("prompt") or "").split())
    user = _session_user(call)
    if "none" in prompt and user is None:
        return _redirect_error(grant.redirect_uri, "login_required", call.request.args.get("state"))
    if user is not None and "login" not in prompt:
        return _issue(call, grant, request, user)
    query = call.request.query_string.decode("latin-1")
    return _redirect(f"{call.base}/login?{query}")


# -- signing in -----------------------------------------------------------------------------------
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
    try:
        user = _sign_in(call, client, form.get("username") or "", form.get("password") or "")
    except E.CognitoError as problem:
        return _login_form(call, problem.message)
    session_id = call.state.opaque(32)
    call.oauth.sessions[session_id] = oauth.HostedSession(call.pool.id, user.username, user.id,
                                                          call.state.now() + oauth.HOSTED_UI_SESSION_TTL)
    cookie = _cookie(call, SESSION_COOKIE, session_id, oauth.HOSTED_UI_SESSION_TTL)
    return _issue(call, grant, request, user, [("Set-Cookie", cookie)])


def _sign_in(call: _Call, client, username: str, password: str):
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
    if not user.enabled:
        raise E.not_authorized(E.USER_DISABLED)
    status = flows._status(user)
    if status == "UNCONFIRMED":
        raise E.CognitoError("UserNotConfirmedException", E.USER_NOT_CONFIRMED)
    if status == "RESET_REQUIRED":
        raise E.CognitoError("PasswordResetRequiredException", "Password reset required for the user")
    if status == "FORCE_CHANGE_PASSWORD":
        raise E.CognitoError("UnsupportedOperationException",
                             "This user must choose a new password (NEW_PASSWORD_REQUIRED), which the lab's "
                             "hosted UI does not offer yet: complete it through the API first.")
    if oauth.needs_mfa(state, pool, user):
        raise E.CognitoError("UnsupportedOperationException",
                             "This user signs in with MFA, which the lab's hosted UI does not offer yet: "
                             "use the API flows (InitiateAuth / RespondToAuthChallenge).")
    return user


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


_ROUTES: dict[str, Any] = {
    "/oauth2/authorize": authorize, "/login": login, "/oauth2/token": token,
    "/oauth2/userInfo": user_info, "/oauth2/revoke": revoke, "/logout": logout,
}
