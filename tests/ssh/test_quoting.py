"""Quoting: hostile names stay one argument for the shell and for virsh's tokenizer."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.sshd.words import ShellInjection, shell_words, virsh_commands
from vdctui.drivers.ssh import commands

HOSTILE = [
    "x; touch /tmp/pwned",
    "$(reboot)",
    "`reboot`",
    "a\nreboot",
    "it's",
    'say "hi"',
    "-rf",
    "--all",
    "a;b|c&d",
    "$HOME",
    "~root",
    "*",
    "#comment",
    "back\\slash",
    " lead",
    "trail ",
    "tab\there",
    "'",
    "''",
    '"',
    "\\",
    "ünïcode ✓",
]
names = st.text(
    alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(names)
def test_a_name_is_one_shell_word(name: str) -> None:
    words = shell_words(commands.lifecycle("qemu:///system", "start", name))
    assert words == ["LC_ALL=C", "virsh", "-q", "-c", "qemu:///system", "start", "--domain", name]


@settings(max_examples=300, deadline=None)
@given(st.lists(names, min_size=1, max_size=4))
def test_a_name_in_a_virsh_script_survives_both_tokenizers(batch: list[str]) -> None:
    sections = commands.Sections("n0nce")
    line = commands.virsh_script("qemu:///system", commands.detail_commands(sections, batch))
    words = shell_words(line)
    assert words[:5] == ["LC_ALL=C", "virsh", "-q", "-c", "qemu:///system"] and len(words) == 6
    parsed = virsh_commands(words[5])
    expected: list[list[str]] = []
    for i, name in enumerate(batch):
        expected += [["echo", sections.marker(f"dominfo-{i}")], ["dominfo", "--domain", name]]
    expected.append(["echo", sections.marker("end")])
    assert parsed == expected


def test_the_emulated_shell_reports_what_a_real_one_would_run() -> None:
    for line in (
        "virsh start x; touch /tmp/pwned",
        "virsh start $(reboot)",
        "virsh start `reboot`",
        "virsh start a\nreboot",
        'virsh start "$(id)"',
    ):
        with pytest.raises(ShellInjection):
            shell_words(line)


def test_sections_cannot_be_faked_by_a_name() -> None:
    sections = commands.Sections()
    fake = "@@vdctui-0000:end@@"
    out = f"{sections.marker('list')}{fake}\nvm2\n{sections.marker('end')}"
    assert sections.split(out)["list"] == f"{fake}\nvm2\n"


@pytest.mark.parametrize("name", HOSTILE)
def test_posix_sh_sees_one_argument(name: str) -> None:
    """The real /bin/sh parses our quoting back to the exact name."""
    line = "printf '%s' " + commands.quote(name)
    out = subprocess.run(["sh", "-c", line], capture_output=True, check=True).stdout
    assert out.decode() == name


@pytest.mark.skipif(shutil.which("virsh") is None, reason="libvirt-clients is not installed")
def test_real_virsh_tokenizes_a_script_back_to_the_names() -> None:
    """virsh's own tokenizer (inside one virsh process) gives back each hostile name."""
    sections = commands.Sections("n0nce")
    script_commands: list[list[str]] = []
    for i, name in enumerate(HOSTILE):
        script_commands += [sections.echo(f"n{i}"), ["echo", "--", name]]
    script_commands.append(sections.echo("end"))
    line = commands.virsh_script("test:///default", script_commands)
    out = subprocess.run(["sh", "-c", line], capture_output=True, check=True, timeout=30)
    parts = sections.split(out.stdout.decode())
    assert [parts[f"n{i}"] for i in range(len(HOSTILE))] == HOSTILE


def test_virsh_tokenizer_edges_of_its_plain_runs() -> None:
    """The tokenizer takes runs of plain characters at once: the characters that end a
    run (quotes, backslash, blanks, `;`, newline) still do what virsh does with them."""
    assert virsh_commands("echo a#b #c; list") == [["echo", "a#b"], ["list"]]
    assert virsh_commands('echo ab\\ cd \'e f\'g"h\\"i"') == [["echo", "ab cd", 'e fgh"i']]
    assert virsh_commands("echo x\\") == [["echo", "x\\"]]  # a backslash ending the script
    with pytest.raises(ValueError, match="unterminated"):
        virsh_commands("echo 'abc")
    for unterminated in ('echo "abc', 'echo "a\\'):
        with pytest.raises(ValueError, match="unterminated"):
            virsh_commands(unterminated)
    assert virsh_commands("a\nb;;c d") == [["a"], ["b"], ["c", "d"]]
