"""A user keymap: binding ids to keys, from a small TOML file.

# ~/.config/vdctui/keymap.toml
"screen.vms" = "v"
"vm.destroy" = "ctrl+d"
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path


def default_keymap_path() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config) / "vdctui" / "keymap.toml"


def load_keymap(path: Path | None = None) -> dict[str, str]:
    """The keymap at `path` (default: the user's); missing file -> empty; a bad one raises
    ValueError naming the file."""
    path = path or default_keymap_path()
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"The keymap {path} cannot be read: {exc}.") from exc
    bad = [key for key, value in data.items() if not isinstance(value, str)]
    if bad:
        raise ValueError(f'The keymap {path}: {bad[0]!r} must map to keys like "ctrl+d".')
    return {str(key): str(value) for key, value in data.items()}
