"""`pip install .` as a user does it: the wheel holds every file the packages need, declares
every package they import, and the console it installs starts in a real terminal, from a
fresh venv, outside the source tree."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.newcomer import (
    ROOT,
    Tmux,
    copy_of_the_project,
    fresh_env,
    make_venv,
    open_console_and_quit,
    project_files,
    run,
)

PACKAGES = ("vdctui", "emulator", "wire")  # wire: what both of the others import


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = copy_of_the_project(work / "source")  # a build writes build/ into its tree
    env = fresh_env(work / "home")
    dist = work / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", str(source), "-w", str(dist)], env=env)
    (built,) = dist.glob("vdctui-*.whl")
    return built


@pytest.mark.timeout(900)  # builds the wheel
def test_the_wheel_holds_every_file_of_the_packages(wheel: Path) -> None:
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    needed = {name for name in project_files() if name.split("/")[0] in PACKAGES}
    assert any(not name.endswith(".py") for name in needed)  # the .tcss at least
    assert sorted(needed - in_wheel) == []


def test_every_package_imported_is_a_declared_dependency() -> None:
    declared = {
        canonical(re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0])
        for requirement in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
            "dependencies"
        ]
    }
    imported = set()
    for package in PACKAGES:
        for source in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(source.read_text(), str(source))):
                if isinstance(node, ast.Import):
                    imported |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    imported.add(node.module.split(".")[0])
    imported -= {*sys.stdlib_module_names, *PACKAGES, "__future__"}
    distributions = importlib.metadata.packages_distributions()
    undeclared = {
        module: distributions.get(module)
        for module in imported
        if not {canonical(d) for d in distributions.get(module, [module])} & declared
    }
    assert undeclared == {}


@pytest.mark.timeout(1200)
def test_the_installed_wheel_opens_the_console(wheel: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    venv = make_venv(tmp_path / "venv", fresh_env(home))
    env = fresh_env(home, venv)
    run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], env=env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = f"import {', '.join(PACKAGES)}; " + "; ".join(f"print({p}.__file__)" for p in PACKAGES)
    where = run([str(venv / "bin" / "python"), "-c", code], cwd=elsewhere, env=env).stdout.split()
    assert len(where) == len(PACKAGES), where
    assert all(Path(place).is_relative_to(venv) for place in where), where
    version = run([str(venv / "bin" / "vdctui"), "--version"], cwd=elsewhere, env=env)
    assert "0." in version.stdout
    tmux = Tmux()
    try:
        open_console_and_quit(tmux, str(venv / "bin" / "vdctui"), cwd=elsewhere, env=env)
    finally:
        tmux.close()
