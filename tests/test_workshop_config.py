"""workshop/jupyterhub_config.py loads and sets up a hub a facilitator can run (no hub is started here:
JupyterHub is the [workshop] extra; `make bench-workshop` starts it for real)."""
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "workshop" / "jupyterhub_config.py"


def load(monkeypatch, **env):
    for name in ("WORKSHOP_PASSWORD", "WORKSHOP_ADMIN_PASSWORD", "WORKSHOP_NOTEBOOKS", "WORKSHOP_HOMES",
                 "WORKSHOP_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = Config()
    namespace = {"get_config": lambda: config, "__file__": str(CONFIG)}
    exec(compile(CONFIG.read_text(), str(CONFIG), "exec"), namespace)
    return config


def test_the_hub_refuses_to_start_without_a_shared_password(monkeypatch):
    with pytest.raises(SystemExit, match="WORKSHOP_PASSWORD"):
        load(monkeypatch)
    with pytest.raises(SystemExit, match="8 characters"):
        load(monkeypatch, WORKSHOP_PASSWORD="short")


def test_attendees_sign_in_with_the_shared_password_and_get_the_course_environment(monkeypatch):
    c = load(monkeypatch, WORKSHOP_PASSWORD="cognito-2026")
    assert c.JupyterHub.authenticator_class == "shared-password"
    assert c.SharedPasswordAuthenticator.user_password == "cognito-2026"
    assert c.Authenticator.allow_all is True
    assert c.JupyterHub.spawner_class == "simple"
    assert c.Spawner.cmd == [str(Path(sys.executable).parent / "jupyterhub-singleuser")]
    assert c.Spawner.environment["PATH"].startswith(str(Path(sys.executable).parent))
    assert c.Spawner.default_url == "/lab/tree/00_welcome.ipynb"
    assert ("--allow-root" in c.Spawner.args) == (os.getuid() == 0)
    assert "--MappingKernelManager.cull_idle_timeout=1800" in c.Spawner.args, "closed tabs' kernels are stopped"
    assert "admin_users" not in c.Authenticator, "no admin unless a facilitator password is set"


def test_the_facilitator_gets_an_admin_account_with_a_password_of_their_own(monkeypatch):
    c = load(monkeypatch, WORKSHOP_PASSWORD="cognito-2026", WORKSHOP_ADMIN_PASSWORD="facilitator-only")
    assert c.Authenticator.admin_users == {"facilitator"}
    assert c.SharedPasswordAuthenticator.admin_password == "facilitator-only"


def test_each_attendee_gets_a_copy_of_the_notebooks_once(monkeypatch, tmp_path):
    source = tmp_path / "course"
    source.mkdir()
    (source / "00_welcome.ipynb").write_text("{}")
    c = load(monkeypatch, WORKSHOP_PASSWORD="cognito-2026", WORKSHOP_NOTEBOOKS=str(source),
             WORKSHOP_HOMES=str(tmp_path / "homes" / "{username}"))
    assert c.SimpleLocalProcessSpawner.home_dir_template == str(tmp_path / "homes" / "{username}")
    spawner = SimpleNamespace(home_dir=str(tmp_path / "homes" / "ana"), user=SimpleNamespace(id=7), port=0)
    c.Spawner.pre_spawn_hook(spawner)
    copy = tmp_path / "homes" / "ana" / "cognito-course" / "00_welcome.ipynb"
    assert copy.read_text() == "{}"
    copy.write_text('{"edited": true}')                   # the attendee's work survives a restart
    c.Spawner.pre_spawn_hook(spawner)
    assert copy.read_text() == '{"edited": true}'
    assert c.Spawner.notebook_dir == "~/cognito-course"


def test_without_a_choice_attendees_get_the_student_copies_when_they_exist(monkeypatch):
    c = load(monkeypatch, WORKSHOP_PASSWORD="cognito-2026")
    hook_globals = c.Spawner.pre_spawn_hook.__globals__
    expected = ROOT / "student" if (ROOT / "student").is_dir() else ROOT / "notebooks"
    assert hook_globals["NOTEBOOKS"] == expected


def test_each_attendee_server_gets_its_own_port_outside_the_ephemeral_range(monkeypatch, tmp_path):
    """Random free ports collided with 24 servers starting at once (docs/facilitator.md): one port per
    user id, below 32768 where the labs' own free ports come from."""
    (tmp_path / "course").mkdir()
    c = load(monkeypatch, WORKSHOP_PASSWORD="cognito-2026", WORKSHOP_NOTEBOOKS=str(tmp_path / "course"),
             WORKSHOP_HOMES=str(tmp_path / "homes" / "{username}"))
    ports = []
    for user_id in range(1, 301):
        spawner = SimpleNamespace(home_dir=str(tmp_path / "homes" / f"u{user_id}"), user=SimpleNamespace(id=user_id),
                                  port=0)
        c.Spawner.pre_spawn_hook(spawner)
        ports.append(spawner.port)
    assert len(set(ports)) == len(ports)
    assert all(1024 < port < 32768 for port in ports)
