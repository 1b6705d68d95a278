"""`vdctui operator list|set`: who may do what in this data center (roles in the store)."""

from __future__ import annotations

import click

from vdctui.cli.context import CliContext, pass_cli
from vdctui.cli.default_command import ListsByDefault
from vdctui.cli.output import print_list, say
from vdctui.columns import Column, when
from vdctui.model import Operator, Role
from vdctui.ops import Console
from vdctui.ops.identity import set_operator_role

OPERATOR_COLUMNS: tuple[Column, ...] = (
    ("name", lambda o: o.name),
    ("role", lambda o: o.role),
    ("set by", lambda o: o.set_by),
    ("set at", lambda o: when(o.set_at)),
)


@click.group("operator", cls=ListsByDefault)
def operator() -> None:
    """Operators' roles: viewer, operator or admin. A user not listed is a viewer."""


@operator.command("list")
@pass_cli
def operator_list(cli: CliContext) -> None:
    """Every OS user an admin gave a role, with who gave it and when."""

    async def body(console: Console) -> list[Operator]:
        return console.store.operators()

    print_list(
        cli.run(body, sync=False, fleet=False),
        OPERATOR_COLUMNS,
        as_json=cli.as_json,
        empty="No operators: everyone is a viewer.",
    )


@operator.command("set")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    required=True,
    help="viewer: looks; operator: VMs, migrations, maintenance; admin: pools, hosts, roles.",
)
@pass_cli
def operator_set(cli: CliContext, name: str, role: str) -> None:
    """Give OS user NAME a role in this data center (admins only; audited)."""

    async def body(console: Console) -> Operator:
        return await set_operator_role(console, name, Role(role))

    done = cli.run(body, sync=False, fleet=False)
    say(f"{done.name} is {done.role} (set by {done.set_by}).")
