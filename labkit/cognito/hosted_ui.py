"""A scripted browser for Cognito's hosted UI (managed login): what a user's browser does, in code.

The hosted UI's sign-in page is plain HTML, so a browser without JavaScript can use it. This one
keeps cookies (the hosted UI's session), follows the redirects that stay on the hosted UI, fills
the sign-in form's ``username`` and ``password`` fields (and the other forms: sign-up,
confirmation, password reset, MFA), follows the pages' links (``follow("sign-up")``), and stops
where the authorization server sends the browser back to the app (the ``redirect_uri``): that
redirect carries the ``code`` (or, for ``response_type=token``, the tokens in the fragment) and
the ``state``.

    >>> browser = HostedUIBrowser()                                  # doctest: +SKIP
    >>> page = browser.open(authorize_url)      # the sign-in page
    >>> back = browser.sign_in("alice", "Correct-Horse-9")
    >>> back.params["code"], back.params["state"]

It talks HTTP only; it never runs the app's code. Works against the lab or a real Cognito domain.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

__all__ = ["HostedUIBrowser", "HostedUIPage", "AppRedirect", "HostedUIError"]

MAX_REDIRECTS = 10


class HostedUIError(RuntimeError):
    """The browser could not do what was asked (no sign-in form on the page, too many redirects)."""


@dataclass
class AppRedirect:
    """The hosted UI sent the browser back to the app: ``url`` is the full ``Location``."""

    url: str
    params: dict[str, str] = field(default_factory=dict)   # query and fragment parameters together

    @classmethod
    def from_url(cls, url: str) -> "AppRedirect":
        parts = urlsplit(url)
        return cls(url, {**dict(parse_qsl(parts.query)), **dict(parse_qsl(parts.fragment))})

    @property
    def error(self) -> str | None:
        return self.params.get("error")


@dataclass
class HostedUIPage:
    """A page the hosted UI showed (the sign-in form, or an error page that redirects nowhere)."""

    url: str
    status: int
    text: str = field(repr=False)
    form_action: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)        # texts of class="error" elements
    links: dict[str, str] = field(default_factory=dict)     # id -> href of the page's links

    @property
    def has_sign_in_form(self) -> bool:
        return self.form_action is not None and "username" in self.fields and "password" in self.fields


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.errors: list[str] = []
        self.links: dict[str, str] = {}
        self._in_error = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("id") and attrs.get("href"):
            self.links[attrs["id"]] = attrs["href"]
        if tag == "form" and self.action is None:
            self.action = attrs.get("action") or ""
        elif tag == "input" and attrs.get("name") and attrs.get("type") != "submit":
            self.fields[attrs["name"]] = attrs.get("value") or ""
        if "error" in (attrs.get("class") or "").split():
            self._in_error += 1
            self.errors.append("")

    def handle_endtag(self, tag):
        if self._in_error and tag in ("p", "div", "span", "code"):
            self._in_error -= 1

    def handle_data(self, data):
        if self._in_error:
            self.errors[-1] += data


class HostedUIBrowser:
    """Cookies, redirects and forms: just enough browser for the hosted UI.

    ``session``: a ``requests.Session`` to use (default: a new one); ``verify``: as for requests
    (an https lab's ``lab.ca_bundle``).
    """

    def __init__(self, session=None, *, verify=True) -> None:
        import requests

        self.session = session if session is not None else requests.Session()
        self.session.trust_env = False          # never send the lab's traffic through a proxy
        self.verify = verify
        self.page: HostedUIPage | None = None
        self.app_url: str | None = None        # the app's redirect_uri (or logout_uri): where to stop

    def __repr__(self) -> str:
        where = self.page.url if self.page else "nothing yet"
        return f"<HostedUIBrowser at {where}, {len(self.session.cookies)} cookie(s)>"

    def open(self, url: str) -> "HostedUIPage | AppRedirect":
        """GET ``url`` (an authorize or logout URL) and follow the hosted UI's redirects, through an
        identity provider's sign-in page too (``identity_provider=Google``): the browser stops on a
        page, or where it is sent to the ``redirect_uri`` / ``logout_uri`` the URL names."""
        query = dict(parse_qsl(urlsplit(url).query))
        self.app_url = query.get("redirect_uri") or query.get("logout_uri")
        return self._follow(self.session.get(url, allow_redirects=False, verify=self.verify, timeout=30), url)

    def sign_in(self, username: str, password: str) -> "HostedUIPage | AppRedirect":
        """Fill and send the sign-in form of the current page. Returns the redirect to the app, or
        the sign-in page again (``.errors`` says why, e.g. "Incorrect username or password.")."""
        if self.page is None or not self.page.has_sign_in_form:
            raise HostedUIError("The current page has no sign-in form: open an authorize URL first.")
        return self.submit(username=username, password=password)

    def submit(self, **values: str) -> "HostedUIPage | AppRedirect":
        """Send the current page's form with ``values`` filled in (its hidden fields kept): the
        new-password page (``new_password=``), the MFA page (``code=``)."""
        page = self.page
        if page is None or page.form_action is None:
            raise HostedUIError("The current page has no form to send.")
        data = dict(page.fields, **values)
        target = urljoin(page.url, page.form_action)
        response = self.session.post(target, data=data, allow_redirects=False, verify=self.verify, timeout=30)
        return self._follow(response, target)

    def follow(self, link_id: str) -> "HostedUIPage | AppRedirect":
        """Open the current page's link ``link_id`` (``sign-up``, ``forgot-password``, ``sign-in``):
        the hosted UI's links keep the authorize parameters."""
        if self.page is None or link_id not in self.page.links:
            raise HostedUIError(f"The current page has no link {link_id!r}.")
        url = urljoin(self.page.url, self.page.links[link_id])
        return self._follow(self.session.get(url, allow_redirects=False, verify=self.verify, timeout=30), url)

    def _follow(self, response, url: str):
        origin = _origin(url)
        for _ in range(MAX_REDIRECTS):
            if response.status_code not in (301, 302, 303, 307, 308):
                parser = _PageParser()
                parser.feed(response.text)
                self.page = HostedUIPage(url, response.status_code, response.text, parser.action, parser.fields,
                                         [e.strip() for e in parser.errors if e.strip()], parser.links)
                return self.page
            location = urljoin(url, response.headers["Location"])
            if _origin(location) != origin or not urlsplit(location).path.startswith(_domain_root(url)):
                if self.app_url is None or _is_under(location, self.app_url):
                    return AppRedirect.from_url(location)      # leaving the hosted UI: back to the app
                origin = _origin(location)                     # to an identity provider (or back from it)
            url = location
            response = self.session.get(url, allow_redirects=False, verify=self.verify, timeout=30)
        raise HostedUIError(f"More than {MAX_REDIRECTS} redirects from {url}")


def _is_under(location: str, app_url: str) -> bool:
    """``location`` is the app's URL (with a query or fragment added)."""
    return location == app_url or location.startswith((app_url + "?", app_url + "#", app_url + "&"))


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _domain_root(url: str) -> str:
    """The path under which the hosted UI lives: ``/_domain/<prefix>/`` on the lab, ``/`` on AWS."""
    path = urlsplit(url).path
    if path.startswith("/_domain/"):
        prefix = path.split("/")[2]
        return f"/_domain/{prefix}/"
    return "/"
