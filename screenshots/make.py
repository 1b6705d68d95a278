"""Regenerate screenshots/*.svg and *.png: every screen of the console, at 160x48, and
the main ones again at 100x30 (`NAME-100x30`), on the seeded demo data center (64 hosts,
600 VMs). PNGs come from CairoSVG.

    python screenshots/make.py                   # all
    python screenshots/make.py vms vms-100x30    # some
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.ui.scenes import SCENES, quiet  # noqa: E402
from vdctui.ui.fixed import fixed_app  # noqa: E402

SIZE = (160, 48)
SMALL = (100, 30)
SMALL_SCENES = ["inventory-host", "vms", "vm-detail", "command-line", "migrate-dialog", "help"]
SHOTS: dict[str, tuple[str, tuple[int, int]]] = {
    **{name: (name, SIZE) for name in SCENES},
    **{f"{name}-100x30": (name, SMALL) for name in SMALL_SCENES if name in SCENES},
}


async def shoot(name: str) -> Path:
    scene, size = SHOTS[name]
    with tempfile.TemporaryDirectory() as tmp:
        app = fixed_app(Path(tmp) / "vdctui.db")
        async with app.run_test(size=size) as pilot:
            await SCENES[scene](pilot)
            await quiet(pilot)
            svg = HERE / f"{name}.svg"
            svg.write_text(app.export_screenshot(title=f"vdctui - {name}"))
            app.connected = False  # no sync may start on the closed db
            app.workers.cancel_group(app, "sync")
            await app.ops.close(abort_migrations=True)  # one caught under way is not waited for
    return svg


# CairoSVG loads no web font and reads only a family's first name: Fira Code missing, it
# draws the terminal in a proportional font. The PNGs ask for a monospace font it has.
PNG_FONT = ("font-family: Fira Code, monospace;", "font-family: DejaVu Sans Mono, monospace;")


def to_png(svg: Path) -> Path:
    import cairosvg  # the test extra installs it

    png = svg.with_suffix(".png")
    text = svg.read_text().replace(*PNG_FONT)
    cairosvg.svg2png(bytestring=text.encode(), write_to=str(png), output_width=1600)
    return png


def main(names: list[str]) -> None:
    for name in names or list(SHOTS):
        if name not in SHOTS:
            raise SystemExit(f"No shot {name!r}; shots: {', '.join(SHOTS)}")
        png = to_png(asyncio.run(shoot(name)))
        print(png.relative_to(HERE.parent))


if __name__ == "__main__":
    main(sys.argv[1:])
