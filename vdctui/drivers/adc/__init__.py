"""Application delivery controllers (load balancers): one interface, `AdcDriver`, with
an emulated implementation (the fleet's own services) and HAProxy over SSH."""

from vdctui.drivers.adc.base import ADMIN_STATES, AdcDriver

__all__ = ["ADMIN_STATES", "AdcDriver"]
