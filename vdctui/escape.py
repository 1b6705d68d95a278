"""Escaping what came from outside before it reaches a terminal or a spreadsheet.

Names, errors and parameters come from operators, files and hosts. Printed raw,
a newline forges a row in a table, ESC starts a CSI or OSC sequence (colours,
cursor moves, a window title, a hyperlink), and in a CSV cell a leading `=`,
`+`, `-` or `@` is a formula. These functions make such characters visible
instead: `\\n`, `\\x1b`, `\\u202e`, so what is shown is what is stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# C0 controls, DEL, C1 controls (0x9b is a one-byte CSI), and the invisible format
# characters that reorder or hide text (bidi overrides and isolates, zero-width ones).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_terminal(text: object) -> str:
    """`text` as one line a terminal shows as it is: control and format characters
    (and so every escape sequence) are written out, `\\x1b[31m` stays those 7
    characters. A backslash is left alone: it cannot start anything."""
    value = str(text)
    return _UNSAFE.sub(_visible, value) if _UNSAFE.search(value) else value


def for_csv(value: object) -> object:
    """A cell for a CSV file a spreadsheet may open: text that starts like a formula
    gets a leading `'` (OWASP's advice), and control characters are written out.
    Numbers and None are left as they are."""
    if value is None or isinstance(value, int | float):
        return value
    text = str(value)
    if text.startswith(_FORMULA_START):
        text = "'" + text
    return for_terminal(text)


def csv_row(row: Iterable[object]) -> list[object]:
    """Every cell of a row through `for_csv`."""
    return [for_csv(cell) for cell in row]
