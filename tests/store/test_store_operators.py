"""Roles in the store: the creator is the first admin, and one admin always remains."""

from __future__ import annotations

import os
import pwd
import sqlite3
from pathlib import Path

import pytest

from vdctui.model import Role
from vdctui.store import Store
from vdctui.store.schema import MIGRATIONS, migrate

ME = pwd.getpwuid(os.getuid()).pw_name


def test_whoever_creates_the_store_is_its_first_admin(db_path: Path) -> None:
    with Store(db_path) as store:
        assert [(o.name, o.role) for o in store.operators()] == [(ME, Role.ADMIN)]
        assert store.operator_role(ME) is Role.ADMIN
        assert store.operator_role("nobody") is None


def test_roles_are_set_and_one_admin_always_remains(db_path: Path) -> None:
    with Store(db_path) as store:
        store.set_operator_role("nobody", Role.OPERATOR, actor=ME)
        assert store.operator_role("nobody") is Role.OPERATOR
        with pytest.raises(ValueError, match="last admin"):
            store.set_operator_role(ME, Role.VIEWER, actor=ME)
        assert store.operator_role(ME) is Role.ADMIN
        store.set_operator_role("nobody", Role.ADMIN, actor=ME)
        store.set_operator_role(ME, Role.VIEWER, actor="nobody")
        assert {o.name: o.role for o in store.operators()} == {
            "nobody": Role.ADMIN,
            ME: Role.VIEWER,
        }


def test_an_older_store_gains_roles_with_its_owner_as_admin(db_path: Path) -> None:
    from sqlite_utils import Database

    db = Database(sqlite3.connect(db_path))
    assert migrate(db, str(db_path), MIGRATIONS[:3]) == 3
    db.close()
    with Store(db_path) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.operator_role(ME) is Role.ADMIN
