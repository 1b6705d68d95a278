"""Regenerate screenshots/*.svg and *.png: every screen of the console, at 160x48,
on the seeded demo data center (64 hosts, 600 VMs). PNGs come from CairoSVG.

    python screenshots/make.py            # all scenes
    python screenshots/make.py vms audit  # some
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


async def shoot(name: str) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        app = fixed_app(Path(tmp) / "vdctui.db")
        async with app.run_test(size=SIZE) as pilot:
            await SCENES[name](pilot)
            await quiet(pilot)
            svg = HERE / f"{name}.svg"
            svg.write_text(app.export_screenshot(title=f"vdctui - {name}"))
            await app.ops.close()
    return svg


def to_png(svg: Path) -> Path:
    import cairosvg  # the test extra installs it

    png = svg.with_suffix(".png")
    cairosvg.svg2png(url=str(svg), write_to=str(png), output_width=1600)
    return png


def main(names: list[str]) -> None:
    for name in names or list(SCENES):
        if name not in SCENES:
            raise SystemExit(f"No scene {name!r}; scenes: {', '.join(SCENES)}")
        png = to_png(asyncio.run(shoot(name)))
        print(png.relative_to(HERE.parent))


if __name__ == "__main__":
    main(sys.argv[1:])
