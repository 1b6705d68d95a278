"""`@frozen`: a frozen dataclass with slots, as `@dataclass(frozen=True, slots=True)`
makes it, for less at import.

Python 3.11's dataclasses compile each method they write on its own (`exec`): six per
frozen class, most of the time a CLI process spends importing vdctui.model (issue 10,
speed: `vdctui vm list` is mostly its start-up). Here dataclasses reads the fields and
makes the slots; `__init__` is written as dataclasses writes it and compiled, and so are
`__eq__` and `__hash__` the first time either is called (a CLI read compares or hashes
one of the ~70 types it imports); `__setattr__`, `__delattr__`, `__repr__` and the
copy/pickle state are closures over the fields, which need no compiling.
tests/test_frozen.py checks each against dataclasses' own. What it does not make (an
InitVar field, a dataclass base, its own __init__ or __setattr__) it refuses."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from dataclasses import MISSING, Field, FrozenInstanceError
from reprlib import recursive_repr
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")


class _Factory:
    """An __init__ argument left to its field's default_factory (said as dataclasses)."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


@dataclasses.dataclass(frozen=True, slots=True)
class _Reference:
    """What dataclasses says of a frozen dataclass (its __dataclass_params__)."""


@dataclass_transform(frozen_default=True)
def frozen(cls: type[T]) -> type[T]:
    """`cls` as `@dataclass(frozen=True, slots=True)` would make it."""
    if any(dataclasses.is_dataclass(base) for base in cls.__mro__[1:]):
        raise TypeError(f"{cls.__name__}: @frozen makes no subclass of a dataclass")
    had_doc = bool(cls.__dict__.get("__doc__"))
    if not had_doc:  # written below: dataclasses would read object's signature for it
        cls.__doc__ = cls.__name__
    made: Any = dataclasses.dataclass(init=False, repr=False, eq=False, slots=True)(cls)
    if any("InitVar" in str(f.type) for f in made.__dataclass_fields__.values()):
        raise TypeError(f"{cls.__name__}: @frozen makes no InitVar field")
    fields = dataclasses.fields(made)
    names = tuple(f.name for f in fields)
    shown = tuple(f.name for f in fields if f.repr)

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is made or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(made, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is made or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(made, self).__delattr__(name)

    @recursive_repr()
    def __repr__(self: Any) -> str:
        inside = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{self.__class__.__qualname__}({inside})"

    def __getstate__(self: Any) -> list[Any]:  # copy and pickle, past __setattr__
        return [getattr(self, name) for name in names]

    def __setstate__(self: Any, state: list[Any]) -> None:
        for name, value in zip(names, state, strict=False):
            object.__setattr__(self, name, value)

    def compile_comparing() -> None:  # on the first == or hash() of this class
        for method in _comparing(made, fields):
            if not _written(cls, method.__name__):
                method.__qualname__ = f"{made.__qualname__}.{method.__name__}"
                setattr(made, method.__name__, method)

    def __eq__(self: Any, other: object) -> bool:
        compile_comparing()
        return made.__eq__(self, other)  # type: ignore[no-any-return]

    def __hash__(self: Any) -> int:
        compile_comparing()
        return made.__hash__(self)  # type: ignore[no-any-return]

    init = _init(made, fields)
    own = [__setattr__, __delattr__, __getstate__, __setstate__, init]
    for method in [*own, __eq__, __hash__, __repr__]:
        if _written(cls, method.__name__):
            if method in own:
                raise TypeError(f"{cls.__name__}: @frozen makes {method.__name__} itself")
            continue  # an __eq__, __hash__ or __repr__ the class wrote itself stays
        method.__qualname__ = f"{made.__qualname__}.{method.__name__}"
        setattr(made, method.__name__, method)
    made.__dataclass_params__ = _Reference.__dataclass_params__  # type: ignore[attr-defined]
    if not had_doc:  # as dataclasses writes it: the class's name and signature
        made.__doc__ = made.__name__ + str(inspect.signature(made)).replace(" -> None", "")
    return made  # type: ignore[no-any-return]


def _init(cls: type, fields: tuple[Field[Any], ...]) -> Callable[..., None]:
    """`__init__`, written as dataclasses writes it: each field from its argument, its
    default or its default_factory; then `__post_init__`, if any."""
    me = "__dataclass_self__" if "self" in {f.name for f in fields} else "self"
    env: dict[str, Any] = {
        "__name__": cls.__module__,
        "__frozen_set__": object.__setattr__,
        "__frozen_factory__": _FACTORY,
    }
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = []
    for f in fields:
        default, factory = f"__frozen_default_{f.name}__", f"__frozen_factory_{f.name}__"
        if f.default is not MISSING:
            env[default] = f.default
            param, value = f"{f.name}={default}", f.name if f.init else default
        elif f.default_factory is not MISSING:
            env[factory] = f.default_factory
            param = f"{f.name}=__frozen_factory__"
            value = f"{factory}() if {f.name} is __frozen_factory__ else {f.name}"
            value = value if f.init else f"{factory}()"
        elif f.init:
            if positional and "=" in positional[-1] and not f.kw_only:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
            param, value = f.name, f.name
        else:
            continue  # no value: left unset, as dataclasses does
        if f.init:
            (keyword if f.kw_only else positional).append(param)
        body.append(f"    __frozen_set__({me}, {f.name!r}, {value})")
    if hasattr(cls, "__post_init__"):
        body.append(f"    {me}.__post_init__()")
    params = [me, *positional, *(["*", *keyword] if keyword else [])]
    source = "\n".join([f"def __init__({', '.join(params)}):", *(body or ["    pass"])])
    namespace: dict[str, Any] = {}
    exec(source, env, namespace)
    init = namespace["__init__"]
    init.__annotations__ = {f.name: f.type for f in fields if f.init} | {"return": None}
    return init


def _comparing(cls: type, fields: tuple[Field[Any], ...]) -> list[Callable[..., Any]]:
    """`__eq__` and `__hash__` (the fields they compare and hash, as tuples), written as
    dataclasses writes them, compiled in one go."""
    compared = [f.name for f in fields if f.compare]
    hashed = [f.name for f in fields if (f.compare if f.hash is None else f.hash)]

    def values(of: str, names: list[str]) -> str:
        return "(" + "".join(f"{of}.{name}," for name in names) + ")"

    source = "\n".join(
        [
            "def __eq__(self, other):",
            "    if other.__class__ is self.__class__:",
            f"        return {values('self', compared)}=={values('other', compared)}",
            "    return NotImplemented",
            "def __hash__(self):",
            f"    return hash({values('self', hashed)})",
        ]
    )
    namespace: dict[str, Any] = {"__name__": cls.__module__}
    exec(source, namespace)
    return [namespace["__eq__"], namespace["__hash__"]]


def _written(cls: type, name: str) -> bool:
    """Whether the class body defines `name` (a `__hash__` that Python set to None
    because the body defines `__eq__` is not written: dataclasses adds one then)."""
    if name == "__hash__" and cls.__dict__.get(name, 0) is None and "__eq__" in cls.__dict__:
        return False
    return name in cls.__dict__
