"""The ops services the Console calls for changes, run on their first use (see
vdctui.imports): a CLI read (`vdctui vm list`) opens a Console and calls none of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vdctui.imports import on_first_use

if TYPE_CHECKING:
    from vdctui.ops import (
        creation,
        drain,
        maintenance,
        pools,
        preflight,
        resizing,
        scheduling,
        secgroups,
    )
else:
    creation = on_first_use("vdctui.ops.creation")
    drain = on_first_use("vdctui.ops.drain")
    maintenance = on_first_use("vdctui.ops.maintenance")
    pools = on_first_use("vdctui.ops.pools")
    preflight = on_first_use("vdctui.ops.preflight")
    resizing = on_first_use("vdctui.ops.resizing")
    scheduling = on_first_use("vdctui.ops.scheduling")
    secgroups = on_first_use("vdctui.ops.secgroups")

__all__ = [
    "creation",
    "drain",
    "maintenance",
    "pools",
    "preflight",
    "resizing",
    "scheduling",
    "secgroups",
]
