"""The CLI fixtures (a small data center copied per test) for the input and file tests."""

from tests.cli.conftest import Vdctui, built_db, vdctui

__all__ = ["Vdctui", "built_db", "vdctui"]
