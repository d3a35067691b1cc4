"""JupyterHub for a Cognito Lab Kit workshop on one machine (workshop/README.md says how to run it).

One shared password (SharedPasswordAuthenticator): an attendee signs in with any name and the password
on the slide; each name gets its own Jupyter server, started from the course's environment (the
Python that runs this hub), with its own copy of the notebooks. Each kernel runs its own lab on
127.0.0.1 (a free port per lab), so attendees never see each other's pools.

Environment variables (read when the hub starts):

- ``WORKSHOP_PASSWORD`` (required, 8+ characters): the attendees' shared password.
- ``WORKSHOP_ADMIN_PASSWORD`` (optional, different): the facilitator signs in as ``facilitator``
  with it and gets the admin panel (start, stop and open any attendee's server).
- ``WORKSHOP_NOTEBOOKS``: the folder copied to each attendee (default: ``student/`` when
  ``make student`` has written it, otherwise ``notebooks/``, the instructor's key).
- ``WORKSHOP_HOMES``: where attendees' folders go (default ``/srv/cognito-workshop/{username}``).
- ``WORKSHOP_URL``: where the hub listens (default ``http://:8000``, every interface).

The spawner is SimpleLocalProcessSpawner: every attendee's server runs as the hub's own Unix user,
so attendees are not isolated from one another (JupyterHub says: testing only). That suits a
one-day workshop on a throw-away machine where nothing secret is stored; for more, use The Littlest
JupyterHub (one Unix user each) or Zero to JupyterHub on Kubernetes (one pod each).
"""
import os
import shutil
import sys
from pathlib import Path

c = get_config()  # noqa: F821  (JupyterHub defines it when it loads this file)

COURSE = Path(__file__).resolve().parents[1]
ENV_BIN = Path(sys.executable).parent            # the course's environment: .venv/bin


def _notebooks() -> Path:
    chosen = os.environ.get("WORKSHOP_NOTEBOOKS")
    if chosen:
        return Path(chosen).resolve()
    student = COURSE / "student"
    return student if student.is_dir() else COURSE / "notebooks"


NOTEBOOKS = _notebooks()
COURSE_DIR = "cognito-course"                    # the attendee's copy, in their home folder

# --- Where the hub listens ------------------------------------------------------------------------
c.JupyterHub.bind_url = os.environ.get("WORKSHOP_URL", "http://:8000")
# configurable-http-proxy comes from npm (npm install -g configurable-http-proxy), found on PATH.

# --- Who may sign in: anyone with the shared password, under any name ------------------------------
password = os.environ.get("WORKSHOP_PASSWORD", "")
if len(password) < 8:
    raise SystemExit("Set WORKSHOP_PASSWORD (8 characters or more): the password attendees sign in with.")
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = password
c.Authenticator.allow_all = True
admin_password = os.environ.get("WORKSHOP_ADMIN_PASSWORD")
if admin_password:
    c.SharedPasswordAuthenticator.admin_password = admin_password
    c.Authenticator.admin_users = {"facilitator"}

# --- Each attendee's server: the course's environment, their own folder ------------------------------
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = os.environ.get(
    "WORKSHOP_HOMES", "/srv/cognito-workshop/{username}")
c.Spawner.cmd = [str(ENV_BIN / "jupyterhub-singleuser")]
c.Spawner.notebook_dir = f"~/{COURSE_DIR}"
c.Spawner.default_url = "/lab/tree/00_welcome.ipynb"
# Jupyter refuses to run as root (a workshop VM often runs everything as root) unless told it may.
c.Spawner.args = ["--allow-root"] if os.getuid() == 0 else []
# A kernel whose notebook tab was closed keeps its memory (about 150 MB, docs/facilitator.md): stop it
# after 30 idle minutes. Kernels with an open tab are never culled (cull_connected stays False).
c.Spawner.args += ["--MappingKernelManager.cull_idle_timeout=1800", "--MappingKernelManager.cull_interval=300"]
# The course's environment first on PATH (its jupyter, its python), whatever PATH the hub had.
c.Spawner.environment = {"PATH": f"{ENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"}
# Thirty servers starting at once on a small machine: give each time to come up.
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180


# Each attendee's server on a port of its own, below Linux's ephemeral range (32768-60999) where every
# lab, kernel and Lambda worker takes its free ports. JupyterHub's default picks a random free port and
# lets it go before the server binds it: with 24 servers starting at once on this project's machine,
# two got the same port and the hub routed one attendee to another's server (JupyterHub issue #3005).
PORT_BASE = 20000


def server_port(user_id: int) -> int:
    return PORT_BASE + user_id % 12000


def copy_course(spawner):
    """Give the server its port; copy the notebooks into the attendee's folder once (a restart keeps
    their work)."""
    spawner.port = server_port(spawner.user.id)
    home = Path(spawner.home_dir)
    target = home / COURSE_DIR
    if not target.exists():
        home.mkdir(parents=True, exist_ok=True)
        shutil.copytree(NOTEBOOKS, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.cfg"))


c.Spawner.pre_spawn_hook = copy_course
