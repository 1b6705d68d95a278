"""Modules executed on their first use, not when imported (a CLI read does not pay for
the services it never calls): `importlib.util.LazyLoader`, as the standard library has it."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def on_first_use(name: str) -> ModuleType:
    """The module `name`, in sys.modules and on its package as an import puts it, whose
    body runs the first time one of its attributes is read."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    package, _, child = name.rpartition(".")
    if package:
        setattr(sys.modules[package], child, module)
    return module
