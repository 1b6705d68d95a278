"""The Textual console: screens and widgets over `vdctui.ops` (never SQLite or a driver)."""
