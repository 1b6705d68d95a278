"""How bytes go out on a connection, shared by the console and the emulator.

`vdctui` and `emulator` both import this package; it imports neither of them (nor
textual or rich), so the emulator stays a library of its own (tests/test_import_hygiene.py).
"""
