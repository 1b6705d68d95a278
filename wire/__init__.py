"""What the console and the emulator share: how bytes go out on a connection, and how a
stop path ends a task of its own (stopping).

`vdctui` and `emulator` both import this package; it imports neither of them (nor
textual or rich), so the emulator stays a library of its own (tests/test_import_hygiene.py).
"""
