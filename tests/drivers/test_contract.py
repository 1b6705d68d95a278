"""Run the HostDriver contract over every driver in FACTORIES."""

from tests.drivers.contract import HostDriverContract


class TestHostDriverContract(HostDriverContract):
    pass
