"""Set-up stays two commands: pyproject.toml, environment.yml, Makefile and .ci/run agree."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def environment_pip_lines():
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    items = []
    for line in lines[start + 1:]:
        match = re.match(r'\s+- "?([^"]+)"?\s*$', line)
        if not match:
            break
        items.append(match.group(1))
    return items


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    conda = [item for item in environment_pip_lines() if item != "-e ."]
    assert sorted(conda) == sorted(declared), "environment.yml and pyproject.toml drifted apart"
    assert "-e ." in environment_pip_lines(), "Binder users need labkit itself installed"


def test_every_dependency_has_a_tested_upper_bound():
    for requirement in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]:
        assert "<" in requirement, f"{requirement} has no upper bound"


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make lab" in readme
    assert ci.strip().splitlines()[-1] == "make test"


def test_ci_installs_the_browser_and_makes_its_test_mandatory():
    """CI installs Debian's chromium and chromium-driver when missing (as root) and exports
    LABKIT_REQUIRE_BROWSER=1 before `make test`, so a missing browser fails there and only there;
    README tells learners how the browser test behaves without Chromium."""
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line.strip() for line in ci.splitlines() if line.strip() and not line.strip().startswith("#")]
    install = next(i for i, line in enumerate(commands) if "apt-get install" in line)
    assert "chromium chromium-driver" in commands[install] and "-y" in commands[install]
    assert any('id -u' in line for line in commands[:install]), "apt-get only as root"
    export = commands.index("export LABKIT_REQUIRE_BROWSER=1")
    assert install < export < commands.index("make test")
    browser_test = (ROOT / "tests" / "test_browser.py").read_text()
    assert "LABKIT_REQUIRE_BROWSER" in browser_test and "pytest.skip" in browser_test
    readme = (ROOT / "README.md").read_text()
    assert "LABKIT_REQUIRE_BROWSER" in readme and "chromium-driver" in readme
    make_test = re.search(r"^test:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert "pytest tests notebooks" in make_test, "make test runs the browser test with the rest"


# --- Offline set-up: `make wheelhouse`, and `make lab` / `make test` installing from it ---------------
# These run `make -n` (print the commands, run none) in a scratch copy of the Makefile: no install.
import shlex
import shutil
import subprocess
import sys


def make_dry_run(tmp_path, target, *variables, wheels=(), wheelhouse=False):
    """`make -n target` in a fresh copy of the Makefile under tmp_path; its output (and the copy's folder
    as .folder)."""
    work = tmp_path / f"copy{len(list(tmp_path.iterdir()))}"
    (work / "jupyter" / "overrides.d").mkdir(parents=True)
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, work / name)
    shutil.copy(ROOT / "jupyter" / "overrides.d" / "cognito-labkit.json", work / "jupyter" / "overrides.d")
    if wheels or wheelhouse:
        (work / "wheelhouse").mkdir()
    for wheel in wheels:
        (work / "wheelhouse" / wheel).write_bytes(b"")
    run = subprocess.run(["make", "-n", target, *variables], cwd=work, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return DryRun(run.stdout, work)


class DryRun(str):
    def __new__(cls, output, folder):
        self = super().__new__(cls, output)
        self.folder = folder
        return self


def install_lines(output):
    return [line for line in output.splitlines() if " install " in line]


def test_without_a_wheelhouse_set_up_installs_from_the_index_as_before(tmp_path):
    lines = install_lines(make_dry_run(tmp_path, "test"))
    assert lines and all("--no-index" not in line and "--find-links" not in line for line in lines)
    assert lines[-1].endswith("-e .")


def test_with_a_wheelhouse_lab_and_test_install_from_it_alone(tmp_path):
    for target in ("lab", "test"):
        lines = install_lines(make_dry_run(tmp_path, target, wheels=["boto3-1.40.0-py3-none-any.whl"]))
        assert len(lines) == 2, lines          # pip itself first, then the course
        for line in lines:
            assert "--no-index --find-links wheelhouse" in line, line


def test_an_empty_wheelhouse_folder_does_not_cut_the_network(tmp_path):
    assert all("--no-index" not in line for line in install_lines(make_dry_run(tmp_path, "lab", wheelhouse=True)))


def test_uv_is_optional_and_uses_the_same_sources(tmp_path):
    default = make_dry_run(tmp_path, "test")
    assert "uv " not in default, "uv is never used unless asked for"
    lines = install_lines(make_dry_run(tmp_path, "test", "INSTALLER=uv", wheels=["pip-26.0-py3-none-any.whl"]))
    assert len(lines) == 1 and lines[0].startswith("uv pip install")
    assert "--python .venv/bin/python" in lines[0] and "--no-index --find-links wheelhouse" in lines[0]


def test_make_wheelhouse_builds_every_pinned_dependency_and_the_build_tools(tmp_path):
    output = make_dry_run(tmp_path, "wheelhouse")
    wheel_cmd = next(line for line in output.replace("\\\n", " ").splitlines() if " -m pip download " in line)
    assert "--only-binary=:all:" in wheel_cmd, "wheels only: nothing to build on a machine without a network"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requested = shlex.split(wheel_cmd)[shlex.split(wheel_cmd).index("download") + 1:]
    for build_requirement in project["build-system"]["requires"]:   # the editable install builds offline
        assert build_requirement in requested
    assert "pip" in requested and "wheel" in requested             # pip upgrades itself from it too
    assert "--dest wheelhouse" in wheel_cmd and "-r wheelhouse/requirements.txt" in wheel_cmd
    # Run the command that writes the requirements (with this Python) and read what it wrote.
    writer = output[output.index(".venv/bin/python -c"):output.index("> wheelhouse/requirements.txt")]
    (output.folder / "wheelhouse").mkdir()
    script = writer.replace(".venv/bin/python", f'"{sys.executable}"', 1) + "> wheelhouse/requirements.txt"
    subprocess.run(script, shell=True, cwd=output.folder, check=True)
    written = (output.folder / "wheelhouse" / "requirements.txt").read_text().splitlines()
    expected = project["project"]["dependencies"] + sum(project["project"]["optional-dependencies"].values(), [])
    assert written == expected


def test_the_wheelhouse_is_not_committed_and_the_readme_keeps_two_commands():
    assert "wheelhouse/" in (ROOT / ".gitignore").read_text().splitlines()
    readme = (ROOT / "README.md").read_text()
    assert "make wheelhouse" in readme and "docs/facilitator.md" in readme
    setup = readme[readme.index("## Set-up"):readme.index("## The course")]
    commands = [line.split("#")[0].strip() for line in setup.split("```bash")[1].split("```")[0].splitlines()]
    assert [c for c in commands if c] == ["make lab", "make test"]


# --- The workshop's JupyterHub: an extra for the facilitator, never a learner's dependency ------------
def test_jupyterhub_is_an_optional_extra_not_a_learner_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(dep.startswith("jupyterhub") for dep in project["dependencies"])
    assert not any(item.startswith("jupyterhub") for item in environment_pip_lines())
    workshop = project["optional-dependencies"]["workshop"]
    assert any(dep.startswith("jupyterhub") for dep in workshop)
    for requirement in workshop:
        assert "<" in requirement, f"{requirement} has no upper bound"


def test_the_hub_load_benchmark_is_not_part_of_make_test(tmp_path):
    assert "bench_workshop" not in make_dry_run(tmp_path, "test")
    assert "bench_workshop" not in (ROOT / "benchmarks" / "__main__.py").read_text()
    assert "benchmarks.bench_workshop" in make_dry_run(tmp_path, "bench-workshop")
