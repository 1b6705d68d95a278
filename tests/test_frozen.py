"""`@frozen` (vdctui.frozen) makes the same types as `@dataclass(frozen=True, slots=True)`:
each class below is made both ways, and the two answer alike: equality (and with what),
hashes, repr (recursion too), immutability, slots, fields, replace, asdict, match args,
signature and docstring, copies, __post_init__; what @frozen does not make, it refuses."""

from __future__ import annotations

import copy
import dataclasses
import enum
import inspect
import math
import pickle
from dataclasses import dataclass, field
from typing import Any

import pytest

from vdctui import model
from vdctui.frozen import frozen


class Colour(enum.StrEnum):
    RED = "red"


class Many:
    a: int
    b: str = "b"
    c: float = 1.5
    d: Colour = Colour.RED
    e: tuple[int, ...] = ()
    f: list[int] = field(default_factory=list)


class Hidden:
    shown: int
    secret: str = field(default="s", repr=False)
    ignored: int = field(default=0, compare=False)
    unhashed: int = field(default=0, hash=False)


class One:
    x: float


class Empty:
    pass


class Nested:
    inner: Any = None


class Later:
    a: int
    b: int = field(default=2, kw_only=True)
    c: list[int] = field(default_factory=list, init=False)
    d: int = field(default=4, init=False)
    e: str = field(default="e", compare=False, hash=True)


class Checked:
    """A class with its own docstring and a __post_init__."""

    a: int = 0

    def __post_init__(self) -> None:
        if self.a < 0:
            raise ValueError("negative")


class OwnEq:
    x: int

    def __eq__(self, other: object) -> bool:
        return True


class OwnRepr:
    x: int

    def __repr__(self) -> str:
        return "mine"


def both(body: type) -> tuple[type, type]:
    """The class made by dataclasses and by frozen, from two copies of the same body."""
    made = []
    for decorate in (dataclass(frozen=True, slots=True), frozen):
        namespace = {k: v for k, v in vars(body).items() if k not in ("__dict__", "__weakref__")}
        made.append(decorate(type(body.__name__, (), namespace)))
    return made[0], made[1]


def failure(change: Any, *args: Any) -> str:
    """The name of the exception `change(*args)` raised ("" when none)."""
    try:
        change(*args)
    except Exception as exc:
        return type(exc).__name__
    return ""


def alike(made: type, ours: type, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    a, b = made(*args, **kwargs), ours(*args, **kwargs)
    assert made.__doc__ == ours.__doc__
    assert str(inspect.signature(made)) == str(inspect.signature(ours))
    assert repr(made.__dataclass_params__) == repr(ours.__dataclass_params__)  # type: ignore[attr-defined]
    for copied in (copy.copy, copy.deepcopy):
        assert repr(copied(a)) == repr(copied(b)) and copied(b) == b
    assert repr(a) == repr(b)
    assert a.__class__.__qualname__ == b.__class__.__qualname__
    assert dataclasses.asdict(a) == dataclasses.asdict(b)
    assert [f.name for f in dataclasses.fields(a)] == [f.name for f in dataclasses.fields(b)]
    assert (
        type(a).__slots__ == type(b).__slots__ and type(a).__match_args__ == type(b).__match_args__
    )
    return a, b


@pytest.mark.parametrize(
    "body, args, other",
    [
        (Many, (1,), {"a": 1, "b": "x", "f": [1]}),
        (Many, (1, "b", math.nan), {"a": 1}),
        (Hidden, (1, "s", 2, 3), {"shown": 1, "secret": "t", "ignored": 9, "unhashed": 3}),
        (Hidden, (1,), {"shown": 1, "unhashed": 4}),
        (One, (math.nan,), {"x": 2.0}),
        (Empty, (), {}),
        (OwnRepr, (1,), {"x": 2}),
        (Later, (1,), {"a": 1, "b": 3}),
        (Checked, (1,), {"a": 2}),
        (OwnEq, (1,), {"x": 2}),
    ],
)
def test_frozen_answers_as_a_frozen_slotted_dataclass(
    body: type, args: tuple[Any, ...], other: dict[str, Any]
) -> None:
    made, ours = both(body)
    a, b = alike(made, ours, *args)
    a2, b2 = alike(made, ours, **other)
    same_a, same_b = made(*args), ours(*args)
    assert (a == same_a) == (b == same_b) and (a != same_a) == (b != same_b)
    assert (a == a2) == (b == b2) and (a != a2) == (b != b2)
    assert (a == a) == (b == b)  # a NaN field: the same object is equal (tuple compare)
    assert (b == a) is (a == b) and (b == 1) is (a == 1)  # another class: NotImplemented
    try:
        expect: object = (hash(a) == hash(same_a), hash(a) == hash(a2))
    except TypeError as exc:  # an unhashable field
        with pytest.raises(TypeError, match=str(exc).split(":")[0]):
            hash(b)
    else:
        assert expect == (hash(b) == hash(same_b), hash(b) == hash(b2))
    for name in [f.name for f in dataclasses.fields(b)]:
        assert failure(setattr, a, name, 1) == failure(setattr, b, name, 1)
        assert failure(delattr, a, name) == failure(delattr, b, name)
        assert failure(setattr, b, name, 1) == "FrozenInstanceError"
    # Another name: refused too (dataclasses' own raises TypeError there, its __setattr__
    # naming the class as it was before slots made a new one: a bug of Python 3.11)
    assert failure(setattr, a, "other", 1) and failure(delattr, a, "other")
    assert failure(setattr, b, "other", 1) == failure(delattr, b, "other") == "FrozenInstanceError"
    assert not hasattr(b, "__dict__")
    changes = {k: v for k, v in other.items() if k != "secret"}
    assert repr(dataclasses.replace(a, **changes)) == repr(dataclasses.replace(b, **changes))
    assert [getattr(b, s) for s in type(b).__slots__] == [getattr(a, s) for s in type(a).__slots__]


def test_post_init_runs_and_what_frozen_does_not_make_it_refuses() -> None:
    made, ours = both(Checked)
    for cls in (made, ours):
        with pytest.raises(ValueError, match="negative"):
            cls(-1)
    with pytest.raises(TypeError, match="follows default argument"):
        frozen(type("Wrong", (), {"__annotations__": {"a": "int", "b": "int"}, "a": 1}))
    with pytest.raises(TypeError, match="subclass"):
        frozen(type("Sub", (ours,), {"__annotations__": {"z": "int"}}))


@frozen
class Pickled:
    a: int
    b: tuple[str, ...] = ()


def test_pickled_and_back_it_is_equal() -> None:
    one = Pickled(1, ("x",))
    assert pickle.loads(pickle.dumps(one)) == one


def test_the_first_hash_or_equality_of_a_class_answers_as_the_compiled_ones_after() -> None:
    for first in ("hash", "eq"):
        made, ours = both(Hidden)
        stub = ours.__eq__
        if first == "hash":  # equal ignoring `ignored`, hashed without `unhashed`
            assert (hash(made(1, ignored=2)) == hash(made(1))) is True
            assert (hash(ours(1, ignored=2)) == hash(ours(1))) is True
        assert (made(1) == made(1, ignored=5), made(1) == made(2)) == (True, False)
        assert (ours(1) == ours(1, ignored=5), ours(1) == ours(2)) == (True, False)
        assert ours.__eq__ is not stub  # compiled, on the class, at the first call
        assert hash(ours(1, unhashed=9)) == hash(ours(1)) == hash(made(1))


def test_a_recursive_repr_says_dots_as_dataclasses_does() -> None:
    made, ours = both(Nested)
    a, b = made([]), ours([])
    a.inner.append(a)
    b.inner.append(b)
    assert repr(a) == repr(b) == "Nested(inner=[...])"


def test_every_model_type_is_made_by_frozen_and_stays_frozen() -> None:
    types = [t for t in vars(model).values() if dataclasses.is_dataclass(t)]
    assert len(types) > 40
    for t in types:
        assert t.__dataclass_params__.frozen, t  # type: ignore[attr-defined]
        assert "__slots__" in vars(t), t
        assert t.__eq__.__qualname__ == f"{t.__qualname__}.__eq__", t
        assert t.__setattr__.__module__ == "vdctui.frozen", t
