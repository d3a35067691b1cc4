"""``labkit.Lab``: moto plus a fidelity layer, served over HTTP on 127.0.0.1.

    >>> from labkit import Lab
    >>> with Lab(seed=7) as lab:
    ...     idp = lab.client("cognito-idp")
    ...     pool = idp.create_user_pool(PoolName="demo")["UserPool"]
    ...     pool["Id"].startswith("us-east-1_")
    True

Inside the ``with`` block the lab behaves like Amazon Cognito wherever a lesson depends on it
(SRP, codes, TOTP, token lifetimes, revocation, per-pool signing keys...). Leaving the block stops
the server, frees the port and wipes every pool: the next ``Lab()`` starts empty.

moto keeps its state per process, so one lab runs at a time. Starting a second raises
:class:`LabAlreadyRunning`; :func:`new_lab` (for notebooks) stops the old one first.
"""
from __future__ import annotations

import errno
import os
import random
import secrets
import threading
from typing import TYPE_CHECKING, Any, Callable

from .clock import LabClock
from .emulator.server import LabRequest, RequestHook, make_lab_server
from .inbox import Inbox, Mailroom, Message

if TYPE_CHECKING:
    from .cognito.jwt import CognitoVerifier
    from .emulator.cloudtrail import CloudTrail
    from .emulator.identity_pools import IdentityPools
    from .emulator.lambdas import FunctionLogs, LambdaRunner
    from .emulator.social_provider import SocialProvider
    from .emulator.user_pools.state import IdpState

__all__ = ["Lab", "LabError", "LabAlreadyRunning", "LabNotRunning", "LabRequest", "current_lab", "new_lab",
           "ADMIN_ACCESS_KEY_ID", "ADMIN_SECRET_ACCESS_KEY", "DEFAULT_REGION", "DEFAULT_ACCOUNT_ID"]

#: Fake credentials the lab's admin clients sign with. moto ignores them; AWS would reject them.
ADMIN_ACCESS_KEY_ID = "AKIALABKITADMIN00000"
ADMIN_SECRET_ACCESS_KEY = "labkit-admin-secret-not-a-real-key"
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"   # moto's default account

_live_lock = threading.Lock()
_live: "Lab | None" = None


class LabError(RuntimeError):
    """A lab could not do what was asked (start on a taken port, for example); the message says what to do."""


class LabAlreadyRunning(LabError):
    """Raised when a second lab is started while one is live in this process."""


class LabNotRunning(LabError):
    """Raised when a stopped (or never started) lab is used."""


class Lab:
    """A local Amazon Cognito (moto + labkit's fidelity layer) on ``http://127.0.0.1:<port>``.

    Parameters
    ----------
    seed:
        Makes codes, ids, salts and secrets reproducible (notebooks use ``Lab(seed=…)``).
        ``None`` uses the operating system's randomness.
    region:
        The region every client and issuer URL uses (default ``us-east-1``).
    port:
        0 (default) picks a free port.
    https:
        Serve TLS with a certificate from a throwaway CA made for this lab (``lab.ca_bundle``), for
        clients that refuse plain HTTP (aws-jwt-verify's JWKS fetch). The lab's own clients and
        ``lab.verifier`` trust it; others take ``lab.ca_bundle``.
    """

    def __init__(self, seed: int | None = None, *, region: str = DEFAULT_REGION, port: int = 0,
                 https: bool = False) -> None:
        if seed is not None and not isinstance(seed, int):
            raise TypeError(f"seed must be an int or None, not {type(seed).__name__}")
        if not isinstance(port, int) or not 0 <= port < 65536:
            raise ValueError(f"port must be 0 (any free port) or 1–65535, not {port!r}")
        if not isinstance(https, bool):
            raise TypeError(f"https must be True or False, not {https!r}")
        self.https = https
        self._tls = None          # the LocalCA while an https lab runs
        self.seed = seed
        self.region = region
        self.account_id = DEFAULT_ACCOUNT_ID
        self.clock = LabClock()
        # A stream of its own: seeded with the bare seed it would repeat moto's ids (mock_random).
        self.rng: random.Random = random.Random(f"labkit:{seed}") if seed is not None else random.SystemRandom()
        self._requested_port = port
        self._mail = Mailroom()
        self._server = None
        self._thread: threading.Thread | None = None
        self._request_hooks: list[RequestHook] = []
        self._observers: list = []
        self._cloudtrail = None
        self._on_stop: list[Callable[[], None]] = []
        self._services: Any = None   # the emulator's per-service state (moto_patches.Services)
        self.endpoint_url: str | None = None
        #: How long a user pool waits for a Lambda trigger, in seconds. Cognito's limit is 5 s and
        #: cannot be changed on AWS; a test may lower it here so that a slow trigger fails fast.
        self.trigger_timeout: float = 5.0
        self._saved_no_proxy: dict[str, str | None] = {}

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> "Lab":
        """Start the lab (``with Lab() as lab`` does this for you) and return it."""
        global _live
        from .emulator import keys, moto_patches, validation

        with _live_lock:
            if self._server is not None:
                return self
            keys.prefetch_keys(2)    # the first pool's two signing keys, made while moto imports
            if _live is not None:
                raise LabAlreadyRunning(
                    f"A lab is already running in this Python process at {_live.endpoint_url}. "
                    "moto keeps one state per process, so two labs would share pools and users. "
                    "Use that lab, stop it with lab.stop() (or leave its `with` block), or call "
                    "labkit.new_lab(seed=…), which stops it for you."
                )
            _reset_moto(self.seed)
            _warm_moto_session()
            self._saved_no_proxy = _bypass_proxies_for_loopback()
            self.add_request_hook(validation.request_hook)     # first: AWS checks a request first
            self._services = moto_patches.install_all(self)
            from .emulator.cloudtrail import CloudTrail
            from .emulator.moto_patches import cognitoidp as idp_patches

            self._cloudtrail = CloudTrail(self, idp_patches.sub_for_request)
            self._observers = [self._cloudtrail.observe]
            try:
                context = None
                if self.https:
                    from .emulator.tls import make_local_ca

                    self._tls = make_local_ca()
                    context = self._tls.server_context()
                server = make_lab_server(self._requested_port, lambda: self._request_hooks, context,
                                         observers=lambda: self._observers)
            except BaseException as exc:
                # Leave the process as it was: moto unpatched and empty, NO_PROXY as the user had it.
                moto_patches.uninstall_all()
                self._services = None
                self._request_hooks.clear()
                if self._tls is not None:
                    self._tls.remove()
                    self._tls = None
                _reset_moto(None)
                _restore_env(self._saved_no_proxy)
                self._saved_no_proxy = {}
                if isinstance(exc, OSError):
                    raise LabError(_bind_problem(self._requested_port, exc)) from None
                raise
            self._server = server
            self.endpoint_url = f"{'https' if self.https else 'http'}://127.0.0.1:{server.server_port}"
            self._thread = threading.Thread(target=server.serve_forever, name=f"labkit-{server.server_port}",
                                            kwargs={"poll_interval": 0.05}, daemon=True)
            self._thread.start()
            _live = self
        return self

    def stop(self) -> None:
        """Stop the server, free the port, undo the patches and wipe moto's state. Idempotent."""
        global _live
        from .emulator import moto_patches

        with _live_lock:
            if self._server is None:
                return
            for callback in reversed(self._on_stop):
                try:
                    callback()
                except Exception:   # one failing stop hook must not leave the port bound
                    pass
            self._on_stop.clear()
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._server = None
            self._thread = None
            self._request_hooks.clear()
            self._observers = []
            moto_patches.uninstall_all()
            _reset_moto(None)
            self._services = None
            if self._tls is not None:
                self._tls.remove()
                self._tls = None
            _restore_env(self._saved_no_proxy)
            if _live is self:
                _live = None

    def __enter__(self) -> "Lab":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    def __repr__(self) -> str:
        if not self.running:
            return f"<Lab stopped, seed={self.seed}>"
        return (f"<Lab running at {self.endpoint_url}, region={self.region}, seed={self.seed}, "
                f"clock={self.clock.now():%Y-%m-%d %H:%M:%S}Z (+{self.clock.offset})>")

    # -- clients ---------------------------------------------------------------------------
    def client(self, service_name: str, *, credentials: dict | None = None, **config: Any):
        """A boto3 client for ``service_name`` bound to this lab.

        It signs with fake credentials (or ``credentials``, a dict like the ``Credentials`` of
        GetCredentialsForIdentity or STS) and never reads your AWS profile or environment keys,
        so nothing can reach real AWS.
        """
        self._require_running()
        from botocore.config import Config

        session = _shared_botocore_session()
        key, secret, token = ADMIN_ACCESS_KEY_ID, ADMIN_SECRET_ACCESS_KEY, None
        if credentials is not None:
            try:
                key = credentials.get("AccessKeyId")
                secret = credentials.get("SecretKey") or credentials.get("SecretAccessKey")
                token = credentials.get("SessionToken")
            except AttributeError:
                raise TypeError("credentials must be a dict with AccessKeyId, SecretKey/SecretAccessKey "
                                "and SessionToken, e.g. GetCredentialsForIdentity()['Credentials']") from None
            if not key or not secret:
                raise ValueError("credentials needs AccessKeyId and SecretKey (or SecretAccessKey)")
        # proxies={}: never route lab traffic through an HTTP(S)_PROXY from the environment.
        base = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5,
                      read_timeout=60, s3={"addressing_style": "path"}, proxies={})
        extra = config.pop("config", None)
        if extra is not None:
            base = base.merge(extra)
        if self._tls is not None:
            config.setdefault("verify", self._tls.ca_bundle)
        return session.create_client(
            service_name, region_name=self.region, endpoint_url=self.endpoint_url,
            aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
            config=base, **config)

    @property
    def ca_bundle(self) -> str | None:
        """Path of the CA certificate an https lab's clients must trust (``None`` for http)."""
        self._require_running()
        return self._tls.ca_bundle if self._tls is not None else None

    @property
    def ssl_context(self):
        """An ``ssl.SSLContext`` trusting an https lab's CA, for urllib / PyJWT clients (``None`` for http)."""
        self._require_running()
        return self._tls.client_context() if self._tls is not None else None

    # -- the emulator's state, typed --------------------------------------------------------
    @property
    def user_pools(self) -> "IdpState":
        """What the lab keeps about user pools beyond moto (SRP verifiers, codes, sessions, tokens,
        lockouts, signing keys): :class:`labkit.emulator.user_pools.state.IdpState`."""
        self._require_running()
        return self._services.get("cognitoidp")

    @property
    def cloudtrail(self) -> "CloudTrail":
        """Every Cognito call this lab answered, as CloudTrail-shaped events (secrets redacted):
        :class:`labkit.emulator.cloudtrail.CloudTrail` (``.events``, ``.lookup(...)``)."""
        self._require_running()
        return self._cloudtrail

    @property
    def identity_pools(self) -> "IdentityPools":
        """The identity-pool rules and state (roles, identities, issued credentials):
        :class:`labkit.emulator.identity_pools.IdentityPools`."""
        self._require_running()
        return self._services.get("cognitoidentity")

    # -- user pools as outside verifiers see them -----------------------------------------
    def issuer(self, user_pool_id: str) -> str:
        """The ``iss`` of the pool's tokens: the AWS URL, as on AWS (the lab serves the keys locally)."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{user_pool_id}"

    def jwks_url(self, user_pool_id: str) -> str:
        """Where the lab serves the pool's public signing keys (AWS: ``{issuer}/.well-known/jwks.json``)."""
        self._require_running()
        return f"{self.endpoint_url}/{user_pool_id}/.well-known/jwks.json"

    def openid_configuration_url(self, user_pool_id: str) -> str:
        """The pool's OIDC discovery document (AWS: ``{issuer}/.well-known/openid-configuration``).
        With a domain (CreateUserPoolDomain) it names the hosted UI's OAuth 2.0 endpoints too."""
        self._require_running()
        return f"{self.endpoint_url}/{user_pool_id}/.well-known/openid-configuration"

    def domain_url(self, domain: str) -> str:
        """Where the lab serves a user-pool domain's hosted UI and OAuth 2.0 endpoints: AWS's
        ``https://<domain>.auth.<region>.amazoncognito.com`` is ``{endpoint_url}/_domain/<domain>``."""
        self._require_running()
        return f"{self.endpoint_url}/_domain/{domain}"

    def social_provider(self, name: str = "Google") -> "SocialProvider":
        """The lab's local OIDC identity provider playing the social provider ``name`` ("Google"):
        its own issuer, keys, sign-in page and users on another 127.0.0.1 port. A user pool's
        identity provider of type ``Google`` signs in there (AWS: at Google). Started on first use,
        stopped with the lab; the same object on later calls."""
        self._require_running()
        from .emulator.social_provider import SOCIAL_PROVIDERS, SocialProvider

        if name not in SOCIAL_PROVIDERS:
            raise ValueError(f"The lab plays these social providers: {', '.join(SOCIAL_PROVIDERS)} (not {name!r}). "
                             "For any other OpenID Connect provider use ProviderType='OIDC' with its issuer.")
        providers = self.__dict__.setdefault("_social", {})
        if name not in providers:
            provider = providers[name] = SocialProvider(self, name).start()

            def stop() -> None:
                provider.stop()
                providers.pop(name, None)
            self.on_stop(stop)
        return providers[name]

    def user_pool_jwks(self, user_pool_id: str) -> dict:
        """The pool's public JWKS as a dict (what ``jwks_url`` serves), without an HTTP round trip."""
        self._require_running()
        from .emulator.moto_patches import cognitoidp

        return cognitoidp.public_jwks(self, user_pool_id)

    def verifier(self, user_pool_id: str, client_id, **options: Any) -> "CognitoVerifier":
        """A :class:`~labkit.cognito.jwt.CognitoVerifier` for a pool of this lab: its keys from the
        lab's JWKS URL, its clock the lab clock. ``options`` as for CognitoVerifier (``token_use``,
        ``groups``, ``scopes``...)."""
        from .cognito.jwt import CognitoVerifier

        return CognitoVerifier.for_lab(self, user_pool_id, client_id, **options)

    def protected_api(self, user_pool_id: str, client_id: str | list[str], **options: Any):
        """Start the demo API (API Gateway + Cognito authorizer look-alike) on 127.0.0.1.

        Returns an object with ``.url``; it stops with the lab. See :mod:`labkit.course.api`.
        """
        self._require_running()
        from .course.api import start_protected_api   # the course's demo API, started on request

        return start_protected_api(self, user_pool_id=user_pool_id, client_id=client_id, **options)

    # -- Lambda ----------------------------------------------------------------------------
    @property
    def lambdas(self) -> "LambdaRunner":
        """What runs the lab's Lambda functions (Python handlers, in a subprocess):
        :class:`labkit.emulator.lambdas.LambdaRunner`. Loaded on first use."""
        self._require_running()
        return self._services.get("awslambda")

    def lambda_logs(self, function_name: str) -> "FunctionLogs":
        """The log of a Lambda function, as CloudWatch Logs would hold it: what its handler printed
        or logged, between ``START`` / ``END`` / ``REPORT`` lines (``print(lab.lambda_logs("fn"))``).
        The same lines are in the log group ``/aws/lambda/<name>`` of ``lab.client("logs")``."""
        return self.lambdas.logs(function_name)

    # -- inbox -----------------------------------------------------------------------------
    def inbox(self, address: str) -> Inbox:
        """What Cognito would have emailed or texted to ``address`` (oldest first; ``.latest``)."""
        return self._mail.inbox(address)

    def deliver(self, *, to: str, channel: str, kind: str, text: str, code: str | None = None,
                subject: str | None = None) -> Message:
        """Put a message in ``to``'s inbox (the fidelity layer calls this instead of sending)."""
        message = Message(to=to, channel=channel, kind=kind, text=text, code=code, sent_at=self.clock.now(),
                          subject=subject)
        self._mail.deliver(message)
        return message

    # -- for the fidelity layer ------------------------------------------------------------
    def add_request_hook(self, hook: RequestHook) -> None:
        """Run ``hook(request)`` before moto sees a request; a non-None return answers it."""
        self._request_hooks.append(hook)

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Run ``callback()`` when the lab stops (servers it started, for example)."""
        self._on_stop.append(callback)

    def random_digits(self, n: int) -> str:
        """n random decimal digits (codes), from the lab's possibly seeded generator."""
        return str(self.rng.randrange(10 ** n)).zfill(n)

    def random_bytes(self, n: int) -> bytes:
        """n random bytes (salts, secrets, session ids), from the lab's possibly seeded generator."""
        return self.rng.getrandbits(8 * n).to_bytes(n, "big") if n else b""

    def _require_running(self) -> None:
        if not self.running:
            raise LabNotRunning("This lab is not running: use `with Lab() as lab:` or `lab = Lab().start()`.")


# botocore reads profile, config and credentials files and AWS_* variables; the lab must not.
_ISOLATED_SESSION_VARS = {
    "profile": (None, None, None, None),
    "config_file": (None, None, os.devnull, None),
    "credentials_file": (None, None, os.devnull, None),
    "region": (None, None, None, None),
    "ca_bundle": (None, None, None, None),
    "api_versions": (None, None, {}, None),
}


def _reset_moto(seed: int | None) -> None:
    """Wipe every moto backend and (re)seed moto's ids."""
    from moto.moto_api._internal import mock_random
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    mock_random.seed(seed if seed is not None else secrets.randbits(64))


_botocore_lock = threading.Lock()
_botocore_session = None


def _shared_botocore_session():
    """One isolated botocore session for every lab client in this process, reading its data files
    (endpoints, service models) through moto's loader, so each file is parsed once per process."""
    global _botocore_session
    with _botocore_lock:
        if _botocore_session is None:
            import botocore.session

            from .emulator.validation import shared_loader

            session = botocore.session.Session(session_vars=_ISOLATED_SESSION_VARS)
            session.register_component("data_loader", shared_loader())
            _botocore_session = session
        return _botocore_session


def _warm_moto_session() -> None:
    """moto builds a boto3 Session (cached) to list regions; build it with AWS_PROFILE hidden.

    Otherwise a learner's AWS_PROFILE pointing at a profile this machine lacks breaks every call.
    """
    from moto.core.base_backend import AccountSpecificBackend

    hidden = {k: os.environ.pop(k) for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE") if k in os.environ}
    try:
        session = AccountSpecificBackend.get_session()
        session.get_available_partitions()
        session.get_available_regions("cognito-idp")
    finally:
        os.environ.update(hidden)


def _bypass_proxies_for_loopback() -> dict[str, str | None]:
    """Add 127.0.0.1 and localhost to NO_PROXY while a lab runs.

    urllib, botocore and PyJWT's JWKS client all honour HTTP(S)_PROXY, even for loopback: behind a
    corporate proxy the lab's requests (passwords, tokens) would otherwise leave the machine.
    """
    saved = {name: os.environ.get(name) for name in ("NO_PROXY", "no_proxy")}
    for name, value in saved.items():
        entries = [e.strip() for e in (value or "").split(",") if e.strip()]
        for host in ("127.0.0.1", "localhost"):
            if host not in entries:
                entries.append(host)
        os.environ[name] = ",".join(entries)
    return saved


def _bind_problem(port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (f"Port {port} on 127.0.0.1 is already in use (another lab, `python -m labkit serve`, or "
                "another program). Start the lab with port=0 (the default) to pick a free port, or "
                "choose another port.")
    return (f"The lab cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}). Start it with port=0 "
            "(the default) to pick a free port, or choose another port.")


def _restore_env(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def current_lab() -> Lab | None:
    """The lab running in this process, if any."""
    return _live


def new_lab(seed: int | None = None, **kwargs: Any) -> Lab:
    """Stop the lab running in this process (if any) and start a fresh one.

    Notebooks call this so that re-running the cell that starts the lab never leaves a stale
    server or mixed state behind.
    """
    old = _live
    if old is not None:
        old.stop()
    return Lab(seed=seed, **kwargs).start()
