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
