"""How the scheduler weighs hosts: the policies (multipliers of the weighers) and the
power assumption, without numpy (the console imports these at start; the weighers,
with numpy, load on the first placement)."""

from __future__ import annotations

from dataclasses import dataclass

# A host's idle draw is taken as this share of its peak when estimating the watts
# a VM adds (SPECpower results for servers put it between 0.3 and 0.6).
IDLE_SHARE_OF_PEAK = 0.5


@dataclass(frozen=True, slots=True)
class Weights:
    ram: float = 1.0
    cpu: float = 1.0
    power: float = 0.5

    @classmethod
    def named(cls, name: str) -> Weights:
        """ "spread" (default), "pack" (fill hosts up) or "power" (least watts added)."""
        presets = {"spread": SPREAD, "pack": PACK, "power": POWER}
        try:
            return presets[name]
        except KeyError:
            raise ValueError(
                f"unknown placement policy {name!r} (one of: {', '.join(presets)})"
            ) from None


SPREAD = Weights(ram=1.0, cpu=1.0, power=0.5)
PACK = Weights(ram=-1.0, cpu=-1.0, power=0.5)
POWER = Weights(ram=0.0, cpu=0.0, power=1.0)
