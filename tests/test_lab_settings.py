"""The course's JupyterLab settings: no "get notified about Jupyter news" prompt for learners.

jupyter/overrides.d/cognito-labkit.json is a JupyterLab *settings override*: JupyterLab reads every
``overrides.d/*.json`` in its application settings directory, ``{sys.prefix}/share/jupyter/lab/settings``,
and uses them as the plugins' defaults. `make lab` installs it into .venv, Binder's postBuild into the
environment built from environment.yml; the tests below run both and read the result back with
jupyterlab_server's own reader.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "jupyter" / "overrides.d" / "cognito-labkit.json"
PLUGIN = "@jupyterlab/apputils-extension:notification"
RELATIVE = Path("share", "jupyter", "lab", "settings", "overrides.d", "cognito-labkit.json")


def overrides_seen_by_jupyterlab(prefix: Path) -> dict:
    """What JupyterLab running in the environment ``prefix`` would take as overrides."""
    from jupyterlab_server.settings_utils import _get_overrides
    overrides, error = _get_overrides(str(prefix / "share" / "jupyter" / "lab" / "settings"))
    assert not error, error
    return overrides


def test_the_override_turns_the_news_prompt_and_update_check_off():
    """fetchNews "false" is the schema's "Never" (the prompt is the "none" default); checkForUpdates false."""
    assert json.loads(SOURCE.read_text()) == {PLUGIN: {"fetchNews": "false", "checkForUpdates": False}}
    schema = json.loads((Path(sys.prefix) / "share/jupyter/lab/schemas/@jupyterlab/apputils-extension"
                         / "notification.json").read_text())["properties"]
    assert {"const": "false", "title": "Never"} in schema["fetchNews"]["oneOf"]
    assert schema["fetchNews"]["default"] == "none" and schema["checkForUpdates"]["default"] is True


def test_jupyterlab_reads_overrides_from_the_environments_app_settings_dir(monkeypatch):
    """The location rule: LabApp's app_settings_dir defaults to {get_app_dir()}/settings, and the app dir
    of an environment is {sys.prefix}/share/jupyter/lab (unless JUPYTERLAB_DIR says otherwise)."""
    from jupyterlab.commands import get_app_dir
    from jupyterlab.labapp import LabApp
    monkeypatch.delenv("JUPYTERLAB_DIR", raising=False)
    assert Path(get_app_dir()).resolve() == (Path(sys.prefix) / "share" / "jupyter" / "lab").resolve()
    assert Path(LabApp().app_settings_dir) == Path(get_app_dir()) / "settings"


def test_make_installs_the_override_where_jupyterlab_reads_it(tmp_path):
    """`make lab` depends on the lab-settings target, which copies the file into the venv's prefix."""
    assert "lab: $(STAMP) $(LAB_SETTINGS)" in (ROOT / "Makefile").read_text()
    subprocess.run(["make", "--no-print-directory", "-s", f"VENV={tmp_path}", "lab-settings"],
                   cwd=ROOT, check=True, capture_output=True)
    assert (tmp_path / RELATIVE).read_text() == SOURCE.read_text()
    assert overrides_seen_by_jupyterlab(tmp_path)[PLUGIN] == {"fetchNews": "false", "checkForUpdates": False}


def test_binder_post_build_installs_the_override_into_its_environment(tmp_path):
    """Binder runs postBuild (next to environment.yml) with the environment's python first on PATH."""
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "python").write_text(f"#!/bin/sh\necho {tmp_path / 'env'}\n")
    (shim / "python").chmod(0o755)
    env = {**os.environ, "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["bash", str(ROOT / "postBuild")], cwd=tmp_path, env=env, check=True, capture_output=True)
    assert overrides_seen_by_jupyterlab(tmp_path / "env")[PLUGIN]["fetchNews"] == "false"
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists(), \
        "a binder/ folder would make Binder ignore the root environment.yml and postBuild"
