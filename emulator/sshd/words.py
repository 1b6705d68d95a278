"""Splitting the command lines an emulated host receives, as a POSIX shell and virsh would.

An emulated host runs no shell at all, but it notices when a real one would
have run something more than virsh: an unquoted `;`, `|`, `&`, `<`, `>`,
`(`, `)`, backquote, `$` or newline (or `$`/backquote inside double quotes)
is reported as `ShellInjection`, so a quoting bug in a client shows up as an
error and an event instead of passing silently.
"""

from __future__ import annotations

import re

SHELL_SPECIAL = set(";|&<>()`$\n")
# what virsh_commands takes in one step: plain characters; inside double quotes, all but `"` and `\`
_PLAIN_RUN = re.compile(r"[^'\"\\ \t;\n]+")
_DOUBLE_RUN = re.compile(r'[^"\\]+')
# what shell_words takes in one step: characters a shell reads as part of a word ('#' too
# where it is not a word's first: it is left to the step by step path)
_WORD_RUN = re.compile(r"[^'\"\\ \t#;|&<>()`$\n]+")
# what shell_sequence skips in one step outside quotes
_SEQUENCE_RUN = re.compile(r"[^'\"\\;]+")


class ShellInjection(ValueError):
    """The command line would make a shell do more than run one command."""


class Unbalanced(ValueError):
    """A quote was opened and never closed."""


def shell_words(line: str) -> list[str]:
    """Words of one simple command, quotes removed; refuses anything a shell would interpret."""
    words: list[str] = []
    word: list[str] = []
    in_word = False
    i = 0
    n = len(line)
    while i < n:
        run = _WORD_RUN.match(line, i)
        if run is not None:
            word.append(run.group())
            in_word = True
            i = run.end()
            continue
        c = line[i]
        if c == "'":
            end = line.find("'", i + 1)
            if end < 0:
                raise Unbalanced("unterminated single quote")
            word.append(line[i + 1 : end])
            in_word = True
            i = end + 1
            continue
        if c == '"':
            i += 1
            while True:
                if i >= n:
                    raise Unbalanced("unterminated double quote")
                d = line[i]
                if d == '"':
                    break
                if d in "$`":
                    raise ShellInjection(f"{d!r} inside double quotes would be expanded")
                if d == "\\" and i + 1 < n and line[i + 1] in '$`"\\\n':
                    word.append(line[i + 1])
                    i += 2
                    continue
                word.append(d)
                i += 1
            in_word = True
            i += 1
            continue
        if c == "\\":
            if i + 1 >= n:
                raise Unbalanced("trailing backslash")
            if line[i + 1] != "\n":
                word.append(line[i + 1])
                in_word = True
            i += 2
            continue
        if c in SHELL_SPECIAL:
            raise ShellInjection(f"unquoted {c!r} would make the shell run more than one command")
        if c in " \t":
            if in_word:
                words.append("".join(word))
                word, in_word = [], False
            i += 1
            continue
        if c == "#" and not in_word:
            raise ShellInjection("an unquoted '#' would start a shell comment")
        word.append(c)
        in_word = True
        i += 1
    if in_word:
        words.append("".join(word))
    return words


def shell_sequence(line: str) -> list[str]:
    """A command line split on its unquoted `;` (quotes and escapes kept for `shell_words`)."""
    parts: list[str] = []
    start = i = 0
    single = double = False
    while i < len(line):
        if not single and not double:
            run = _SEQUENCE_RUN.match(line, i)
            if run is not None:
                i = run.end()
                continue
        c = line[i]
        if single:
            single = c != "'"
        elif double:
            if c == "\\":
                i += 1
            double = c != '"'
        elif c == "\\":
            i += 1
        elif c == "'":
            single = True
        elif c == '"':
            double = True
        elif c == ";":
            parts.append(line[start:i])
            start = i + 1
        i += 1
    parts.append(line[start:])
    return parts


def virsh_commands(script: str) -> list[list[str]]:
    """virsh's own tokenizer: commands split on unquoted `;` and newlines.

    Single quotes are literal, double quotes allow backslash escapes, a
    backslash outside quotes escapes the next character, and a `#` starting
    a word comments out the rest of the command (like vshCommandStringGetArg).
    """
    commands: list[list[str]] = []
    current: list[str] = []
    word: list[str] = []
    in_word = False
    single = double = False
    i, n = 0, len(script)
    while i < n:
        c = script[i]
        if single:
            end = script.find("'", i)
            if end < 0:
                word.append(script[i:])
                break
            word.append(script[i:end])
            single = False
            i = end + 1
            continue
        if double:
            run = _DOUBLE_RUN.match(script, i)
            if run is not None:  # up to the next `"` or backslash, at once
                word.append(run.group())
                i = run.end()
                continue
            if c == '"':
                double = False
            elif i + 1 < n:  # a backslash
                i += 1
                word.append(script[i])
            else:
                word.append(c)
        elif c == "'":
            single, in_word = True, True
        elif c == '"':
            double, in_word = True, True
        elif c == "\\" and i + 1 < n:
            i += 1
            word.append(script[i])
            in_word = True
        elif c in " \t":
            if in_word:
                current.append("".join(word))
                word, in_word = [], False
        elif c in ";\n":
            if in_word:
                current.append("".join(word))
                word, in_word = [], False
            if current:
                commands.append(current)
            current = []
        elif c == "#" and not in_word:
            while i < n and script[i] not in ";\n":
                i += 1
            continue
        else:  # a run of plain characters, at once (a `#` inside a word is plain)
            run = _PLAIN_RUN.match(script, i)
            in_word = True
            if run is not None:
                word.append(run.group())
                i = run.end()
                continue
            word.append(c)  # a backslash ending the script
        i += 1
    if single or double:
        raise Unbalanced("unterminated quote in the virsh command")
    if in_word:
        current.append("".join(word))
    if current:
        commands.append(current)
    return commands
