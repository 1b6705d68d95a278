from __future__ import annotations

import subprocess
import sys


def test_store_imports_no_ui_library() -> None:
    code = (
        "import sys, vdctui.store, vdctui.store.audit, vdctui.store.schema; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
