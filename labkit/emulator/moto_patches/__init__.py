"""Our patches on moto, one module per service, pinned to the tested moto version.

Each module has ``install(lab)``, ``uninstall()`` and ``check_internals()``. ``check_internals``
raises :class:`MotoInternalsChanged` when a moto attribute a patch relies on has moved, so an
upgrade of moto fails loudly in ``tests/test_moto_internals.py`` instead of silently teaching
moto's behaviour instead of Cognito's.
"""
from __future__ import annotations

import importlib
import threading

TESTED_MOTO = "5.2"          # the minor version these patches were written against
SERVICES = ("cognitoidp", "cognitoidentity", "awslambda")


class MotoInternalsChanged(RuntimeError):
    """A moto internal that a labkit patch relies on is missing or has changed shape."""


def moto_version() -> str:
    import moto   # moto.__version__: cheaper than importlib.metadata at every start

    return moto.__version__


def _modules():
    return [importlib.import_module(f"{__name__}.{name}") for name in SERVICES]


def check_version() -> None:
    if not moto_version().startswith(TESTED_MOTO + "."):
        raise MotoInternalsChanged(
            f"labkit's moto patches are tested with moto {TESTED_MOTO}.x, found {moto_version()}. "
            "Reinstall with `make test` (it installs the pinned range)."
        )


def check_all() -> None:
    """Check every patch's moto internals (tests/test_moto_internals.py)."""
    check_version()
    for module in _modules():
        module.check_internals()


#: Services patched when the lab starts; the others on the first request to another service (or the
#: first use of their accessor, lab.identity_pools), so a lesson about user pools never imports
#: moto's STS, IAM, S3 and DynamoDB models.
EAGER = ("cognitoidp",)


class Services:
    """The lab's per-service emulator state; lazily patched services install on first use."""

    def __init__(self, lab) -> None:
        self.lab = lab
        self._states: dict[str, object] = {}
        self._lock = threading.RLock()

    def get(self, name: str):
        with self._lock:
            if name not in self._states:
                module = importlib.import_module(f"{__name__}.{name}")
                module.check_internals()
                self._states[name] = module.install(self.lab)
            return self._states[name]

    def installed(self) -> list[str]:
        return list(self._states)

    def lazy_hook(self, request):
        """Install the identity-pool patches before the first request that needs them goes on."""
        if "cognitoidentity" not in self._states and _needs_identity_pools(request):
            self.get("cognitoidentity")
        if "awslambda" not in self._states and _needs_lambda(request):
            self.get("awslambda")      # Lambda runs functions in a subprocess, not moto's Docker
        return None


def _needs_identity_pools(request) -> bool:
    # Everything but user pools: cognito-identity, STS (the classic flow), and S3 / DynamoDB / IAM,
    # whose requests the identity-pool hook authorizes (credentials it issued, or refuses a
    # non-AWS Authorization such as a Bearer JWT).
    return not (request.target.startswith("AWSCognitoIdentityProviderService.")
                or "/.well-known/" in request.path)


def _needs_lambda(request) -> bool:
    from .awslambda import is_lambda_request

    return is_lambda_request(request)


def install_all(lab) -> Services:
    """Patch moto for ``lab``: the eager services now, the rest on first use."""
    check_version()
    services = Services(lab)
    for name in EAGER:
        services.get(name)
    lab.add_request_hook(services.lazy_hook)
    return services


def uninstall_all() -> None:
    for module in reversed(_modules()):
        module.uninstall()
