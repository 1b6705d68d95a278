from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vdctui.model import VmState
from vdctui.ops import Refused
from vdctui.ops.query import VmQuery, parse_vm_query


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("", VmQuery()),
        ("web", VmQuery(text="web")),
        ("state:running", VmQuery(state=VmState.RUNNING)),
        (
            "db state:shutoff host:rk1-h01 pool:db",
            VmQuery(text="db", state=VmState.SHUTOFF, host="rk1-h01", pool="db"),
        ),
    ],
)
def test_filters_parse(text: str, query: VmQuery) -> None:
    assert parse_vm_query(text) == query


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("colour:red", "not a filter"),
        ("state:dancing", "unknown VM state"),
        ("host:", "Say which"),
    ],
)
def test_bad_filters_say_why(text: str, reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        parse_vm_query(text)


@given(st.text(alphabet=st.characters(blacklist_characters=":"), max_size=40))
def test_plain_text_is_a_name_substring(text: str) -> None:
    assert parse_vm_query(text).text == (" ".join(text.split()) or None)
