"""Lines for a given width, broken where a reader expects: after a phrase (`, ` `; ` `: `
` · `), else between words; a word is cut only when it is longer than a whole line."""

from __future__ import annotations

import re

PHRASE_END = re.compile(r"(?<=[,;:·]) ")


def phrase_lines(words: str, room: int) -> list[str]:
    """`words` in lines of at most `room` characters, broken after a phrase where one
    ends, between words in a phrase longer than a line."""
    room = max(room, 1)
    lines: list[str] = []
    line = ""
    for phrase in PHRASE_END.split(words):
        for piece in [phrase] if len(phrase) <= room else _word_lines(phrase, room):
            joined = f"{line} {piece}" if line else piece
            if len(joined) <= room:
                line = joined
            else:
                lines.append(line)
                line = piece
    return [*lines, line] if line or not lines else lines


def _word_lines(phrase: str, room: int) -> list[str]:
    lines: list[str] = []
    for word in phrase.split(" "):
        while len(word) > room:  # a word longer than the line: cut, there is no other way
            lines.append(word[:room])
            word = word[room:]
        if lines and len(lines[-1]) + 1 + len(word) <= room:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines
