"""The ops services the Console calls for changes, run on their first use (see
vdctui.imports): a CLI read (`vdctui vm list`) opens a Console and calls none of them
(nor the scheduler, CPU pinning, a host's core map, or the recovery of what a dead
process left, which a sync that only follows the store does not run)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vdctui.imports import on_first_use

if TYPE_CHECKING:
    from vdctui.ops import (
        cancelling,
        core_map,
        cores,
        creation,
        drain,
        maintenance,
        pools,
        preflight,
        recovery,
        resizing,
        scheduler,
        scheduling,
        secgroups,
    )
else:
    cancelling = on_first_use("vdctui.ops.cancelling")
    core_map = on_first_use("vdctui.ops.core_map")
    cores = on_first_use("vdctui.ops.cores")
    recovery = on_first_use("vdctui.ops.recovery")
    scheduler = on_first_use("vdctui.ops.scheduler")
    creation = on_first_use("vdctui.ops.creation")
    drain = on_first_use("vdctui.ops.drain")
    maintenance = on_first_use("vdctui.ops.maintenance")
    pools = on_first_use("vdctui.ops.pools")
    preflight = on_first_use("vdctui.ops.preflight")
    resizing = on_first_use("vdctui.ops.resizing")
    scheduling = on_first_use("vdctui.ops.scheduling")
    secgroups = on_first_use("vdctui.ops.secgroups")

__all__ = [
    "cancelling",
    "core_map",
    "cores",
    "creation",
    "drain",
    "maintenance",
    "pools",
    "preflight",
    "recovery",
    "resizing",
    "scheduler",
    "scheduling",
    "secgroups",
]
