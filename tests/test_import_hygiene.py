"""Nothing below the ui imports textual or rich; the emulator never imports vdctui; wire
(shared by both) imports neither."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import emulator
import vdctui
import wire

UI_PACKAGES = ("vdctui.ui",)


def modules_of(package) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]


HEADLESS = [
    m
    for m in modules_of(vdctui) + modules_of(emulator) + modules_of(wire)
    if not m.startswith(UI_PACKAGES) and not m.endswith(".__main__")
]


def imported_after(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return set(out.split())


def test_there_are_headless_modules_to_check() -> None:
    assert "vdctui.ops.console" in HEADLESS
    assert "emulator.fleet" in HEADLESS
    assert "wire.coalescing" in HEADLESS


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_module_imports_no_ui_toolkit(module: str) -> None:
    loaded = imported_after(module)
    assert not {m for m in loaded if m.split(".")[0] in ("textual", "rich")}, module
    if module.startswith("emulator"):
        assert not {m for m in loaded if m.split(".")[0] == "vdctui"}, module
    if module.startswith("wire"):
        assert not {m for m in loaded if m.split(".")[0] in ("vdctui", "emulator")}, module


# What the console's first frame does not need: loaded later, in a worker or on first use.
NOT_BEFORE_FIRST_FRAME = ("numpy", "sqlite_utils", "asyncssh", "httpx", "emulator", "xml")
NOT_BEFORE_FIRST_FRAME_VDCTUI = (
    "vdctui.ops.scheduler.view",  # numpy
    "vdctui.ops.balancer",
    "vdctui.drivers.emulated",
    "vdctui.drivers.ssh",
    "vdctui.ui.commands",
    "vdctui.ui.screens.vms",
    "vdctui.ui.screens.records",
)


def test_the_console_paints_its_inventory_before_importing_the_rest() -> None:
    """Starting the TUI (the launcher, the app, the inventory screen) imports neither the
    fleet's emulator nor SSH, numpy (the scheduler) or sqlite-utils (schema migrations),
    nor the screens and commands not yet shown: what the first frame does not need."""
    loaded = imported_after("vdctui.ui.launch, vdctui.ui.screens.inventory")
    early = {m for m in loaded if m.split(".")[0] in NOT_BEFORE_FIRST_FRAME}
    early |= {m for m in loaded if m.startswith(NOT_BEFORE_FIRST_FRAME_VDCTUI)}
    assert not early, sorted(early)
