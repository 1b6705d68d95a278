"""Fleet operations: ops functions that need the embedded fleet, carried out whole by
the process that holds it when another process calls them (issue 10).

One mechanism for every such change: an ops function marked `@fleet_operation` runs
as usual in a process that has its fleet; in a console whose fleet another process
holds (`console.shared`), the call travels instead: its arguments (plain values and
the domain's dataclasses, encoded as JSON by their type hints) are written as a request,
the holder calls the same function with them as the asker (its door checks the role
from the db and audits), and the asker gets the result back, decoded by the function's
return type. Callback arguments (`progress`: the parameter and the type of the one
value it is called with) cannot travel: the holder calls a stand-in that reports each
value into the request row, and the asker calls its own callback with it, so progress is
followed where the command was typed. A value so reported that the asker cancels
(`.cancel()` sets `.cancelled`, like an Evacuation) asks the holder to cancel its own.

The holder calls only functions registered here, by name; nothing else a request names.
An operation names the door's actions it carries out (`@fleet_operation(Action.X)`); one
that names none is a read of the fleet (a VM's XML, its snapshots), handed over the same
way so that it answers at once beside a holder instead of waiting for the fleet.
"""

from __future__ import annotations

import enum
import functools
import importlib
import inspect
import types
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from vdctui.ops.actions import Action
from vdctui.ops.errors import Failed, Refused

if TYPE_CHECKING:
    from vdctui.ops.console import Console

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
Deliver = Callable[[str, Any], None]
Report = Callable[[str, Any], None]


@dataclass
class Operation:
    """A registered fleet operation: the function and how its values travel."""

    name: str
    fn: Callable[..., Awaitable[Any]]
    progress: Mapping[str, type | str]  # a str: a type named in the function's module
    actions: frozenset[Action] = frozenset()  # the door's actions it carries out; none: a read
    door: Callable[[dict[str, Any]], Action] | None = None  # of several: the one a call enters
    _hints: dict[str, Any] = field(default_factory=dict)

    def hints(self) -> dict[str, Any]:
        """Its type hints but the callbacks', resolved at first use (the classes they
        name exist by then)."""
        if not self._hints:
            scope = getattr(self.fn, "__globals__", {})
            console = next(iter(inspect.signature(self.fn).parameters))
            self._hints = {
                name: eval(hint, scope) if isinstance(hint, str) else hint  # noqa: S307
                for name, hint in self.fn.__annotations__.items()
                if name not in self.progress and name != console
            }
        return self._hints

    def progress_type(self, parameter: str) -> Any:
        """The type a progress callback's values have; one given by name (so that its
        module is imported when a change reports progress, not with the Console's)
        resolved in the function's module."""
        kind = self.progress[parameter]
        return eval(kind, getattr(self.fn, "__globals__", {})) if isinstance(kind, str) else kind  # noqa: S307

    def encode_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The call's arguments (after the console) as JSON; callbacks left out."""
        bound = inspect.signature(self.fn).bind(None, *args, **kwargs)
        bound.apply_defaults()
        console_param = next(iter(bound.arguments))
        return {
            name: encode(value)
            for name, value in bound.arguments.items()
            if name != console_param and name not in self.progress
        }

    def callbacks(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        bound = inspect.signature(self.fn).bind(None, *args, **kwargs)
        return {n: v for n, v in bound.arguments.items() if n in self.progress and v is not None}

    def decode_call(self, params: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments a request's parameters stand for; Refused if they do not fit."""
        hints = self.hints()
        names = [p for p in inspect.signature(self.fn).parameters][1:]
        unknown = set(params) - set(names)
        if unknown:
            raise Refused(f"{self.name} takes no {sorted(unknown)[0]!r}; refused.")
        try:
            return {n: decode(v, hints.get(n, Any)) for n, v in params.items()}
        except (TypeError, ValueError, KeyError) as exc:
            raise Refused(
                f"The request for {self.name} does not fit it ({exc}); refused."
            ) from None

    def refuse_before_asking(self, console: Console, params: dict[str, Any]) -> None:
        """A change this console's identity may not make: refused here (audited; nothing
        is asked of the holder, no request row is written). Of several actions, the one
        this call enters the door with, as `door` tells it from the call's parameters."""
        if not self.actions:
            return  # a read
        if self.door is not None:
            action = self.door(params)
        else:
            (action,) = self.actions
        console.require(action, _target(params), params)

    def decode_result(self, value: Any) -> Any:
        return decode(value, self.hints().get("return", Any))


OPERATIONS: dict[str, Operation] = {}
# the modules whose functions are fleet operations: the holder imports them to find one
MODULES = (
    "vdctui.ops.console",
    "vdctui.ops.balancing",
    "vdctui.ops.ha",
    "vdctui.ops.power",
    "vdctui.ops.services",
    "vdctui.ops.config",
    "vdctui.ops.snapshots",
    "vdctui.ops.secgroups",
    "vdctui.ops.intrusion",
    "vdctui.ops.growth",
    "vdctui.ops.duplicates",
    "vdctui.ops.cores",
    "vdctui.ops.pin_drift",
    "vdctui.ops.reserved_cpus",
    "vdctui.ops.preflight",
)


class TookTheFleet(Exception):
    """The holder was gone before it took the request: this process took the fleet
    over and carries the change out itself."""


def fleet_operation(
    *actions: Action,
    door: Callable[[dict[str, Any]], Action] | None = None,
    progress: Mapping[str, type | str] | None = None,
) -> Callable[[F], F]:
    """Mark an ops function (its first parameter the Console) as one the holder of the
    embedded fleet carries out for the other processes (see the module): a change of
    `actions`, or with none a read of the fleet. An operation of several actions says
    by `door` which one a call enters the door with (from the call's parameters, as
    encoded for the request), so that its role is checked before anything is asked."""
    if len(actions) > 1 and door is None:
        raise TypeError("an operation of several actions needs `door`: which one a call is")

    def mark(fn: F) -> F:
        name = f"{fn.__module__}.{fn.__qualname__}"
        operation = Operation(name, fn, dict(progress or {}), frozenset(actions), door)
        OPERATIONS[name] = operation

        @functools.wraps(fn)
        async def call(console: Console, *args: Any, **kwargs: Any) -> Any:
            shared = console.shared
            if shared is None and console.follows_store:  # no fleet here, nobody to ask
                raise Failed(getattr(console.driver, "message", "The data center is not here."))
            if shared is None:
                return await fn(console, *args, **kwargs)
            params = operation.encode_call(args, kwargs)
            operation.refuse_before_asking(console, params)
            callbacks = operation.callbacks(args, kwargs)

            def deliver(parameter: str, value: Any) -> Any:
                if parameter not in callbacks:  # the asker gave no callback for it
                    return None
                decoded = decode(value, operation.progress_type(parameter))
                callbacks[parameter](decoded)
                return decoded

            try:
                answer = await shared.hand_over_operation(
                    console, name, _target(params), params, deliver
                )
            except TookTheFleet:  # the holder was gone: this process now has the fleet
                return await fn(console, *args, **kwargs)
            return operation.decode_result(answer)

        return call  # type: ignore[return-value]

    return mark


FLEET = "fleet"  # the target of an operation none of whose arguments is a name


def _target(params: dict[str, Any]) -> str:
    """What the request is about, for its row: the first argument that is a name."""
    return next((v for v in params.values() if isinstance(v, str)), FLEET)


def is_read(name: str) -> bool:
    """Whether `name` is a registered fleet operation that changes nothing (a read)."""
    operation = OPERATIONS.get(name)
    return operation is not None and not operation.actions


def reads() -> frozenset[str]:
    """The names of every registered fleet operation that changes nothing."""
    is_operation("")  # every operation registered
    return frozenset(name for name, op in OPERATIONS.items() if not op.actions)


def is_operation(name: str) -> bool:
    """Whether `name` is a registered fleet operation (its modules imported first: where
    used, not before a console's first frame)."""
    for module in MODULES:
        importlib.import_module(module)
    return name in OPERATIONS


async def carry_out(console: Console, name: str, params: dict[str, Any], report: Report) -> Any:
    """The holder's side: call the operation `name` with a request's parameters through
    `console` (acting as the asker); its result encoded for the asker."""
    is_operation(name)
    operation = OPERATIONS.get(name)
    if operation is None:
        raise Refused(f"{name!r} is not an operation this console carries out; refused.")
    kwargs = operation.decode_call(params)
    for parameter in operation.progress:
        kwargs[parameter] = functools.partial(_report_value, report, parameter)
    return encode(await operation.fn(console, **kwargs))


def _report_value(report: Report, parameter: str, value: Any) -> None:
    report(parameter, value)


# --- values as JSON, by their type hints ------------------------------------------------


def encode(value: Any) -> Any:
    """A value as JSON: dataclasses as objects of their public fields, enums as values."""
    if isinstance(value, enum.Enum):
        return encode(value.value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in fields(value) if _public(f.name)}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [encode(v) for v in value]
    raise TypeError(f"a {type(value).__name__} cannot be handed to another process")


def _public(name: str) -> bool:
    return not name.startswith("_")


def decode(value: Any, hint: Any) -> Any:
    """The value of type `hint` that `encode` wrote as `value`."""
    if hint is Any or hint is object:
        return value
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        if value is None and type(None) in args:
            return None
        last: Exception | None = None
        for member in (a for a in args if a is not type(None)):
            try:
                return decode(value, member)
            except (TypeError, ValueError, KeyError) as exc:
                last = exc
        raise TypeError(f"{value!r} is none of {hint}") from last
    if hint is None or hint is type(None):
        if value is not None:
            raise TypeError(f"{value!r} is not None")
        return None
    if origin in (list, set, frozenset):
        _need(value, list)
        return origin(decode(v, args[0] if args else Any) for v in value)
    if origin is tuple:
        _need(value, list)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(v, args[0]) for v in value)
        if args and len(args) != len(value):
            raise TypeError(f"{value!r} does not have {len(args)} items")
        return tuple(decode(v, a) for v, a in zip(value, args or [Any] * len(value), strict=True))
    if origin is dict:
        _need(value, dict)
        key, item = args or (Any, Any)
        return {decode(k, key): decode(v, item) for k, v in value.items()}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if isinstance(hint, type) and is_dataclass(hint):
        _need(value, dict)
        hints = typing.get_type_hints(hint)
        known = {f.name for f in fields(hint) if f.init and _public(f.name)}
        return hint(**{k: decode(v, hints[k]) for k, v in value.items() if k in known})
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{value!r} is not a number")
        return float(value)
    if hint in (int, str, bool):
        if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
            raise TypeError(f"{value!r} is not a {hint.__name__}")
        return value
    raise TypeError(f"a {hint} cannot be handed from another process")


def _need(value: Any, kind: type) -> None:
    if not isinstance(value, kind):
        raise TypeError(f"{value!r} is not a {kind.__name__}")


def refuse_policy_elsewhere(console: Console, action: Any, target: str, option: str) -> None:
    """A change whose `option` is this process's own policy (--drain, its --force) cannot
    be handed to the process that holds the fleet, which would carry it out without it:
    refused (audited) in one sentence while another process holds it."""
    if console.shared is None:
        return
    why = (
        f"{option} cannot be handed to the process that holds the data center; run the "
        "command there, or once that process is closed."
    )
    console.record_audit(action, target, {"option": option}, "refused", why)
    raise Refused(why)
