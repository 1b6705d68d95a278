"""Out-of-band host power over Redfish (the DMTF standard BMCs speak): reads, resets, fencing.

No textual or rich here: the ops layer and the SSH driver call this package.
"""

from vdctui.drivers.bmc.client import RESET_TYPES, BmcClient, BmcReading
from vdctui.drivers.bmc.config import BmcConfig, BmcError, BmcNoAnswer, check_system_id, check_url
from vdctui.drivers.bmc.fence import FenceFailed, fence

__all__ = [
    "RESET_TYPES",
    "BmcClient",
    "BmcConfig",
    "BmcError",
    "BmcNoAnswer",
    "BmcReading",
    "FenceFailed",
    "check_system_id",
    "check_url",
    "fence",
]
