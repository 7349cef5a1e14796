"""`diarist user ...`: account administration, as the system role (cross-user by nature)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import service as accounts_service
from diarist.accounts.personal_data import PersonalData
from diarist.accounts.service import AccountsContext, Client
from diarist.cli.common import DataDirOption, settings_for
from diarist.cli.database import system_database
from diarist.errors import DiaristError

user_cli = typer.Typer(help="Manage accounts.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)
_CLI_CLIENT = Client(ip=None, user_agent="diarist-cli")
T = TypeVar("T")


_state: dict[str, Path | None] = {"data_dir": None}


@user_cli.callback()
def _options(data_dir: DataDirOption = None) -> None:
    _state["data_dir"] = data_dir


def _run(action: Callable[[AsyncSession, AccountsContext], Awaitable[T]]) -> T:
    """Run one unit of work as the system role; domain errors become a message and exit 1."""
    settings = settings_for(_state["data_dir"])
    context = AccountsContext.from_settings(settings)

    async def main() -> T:
        async with system_database(settings) as database, database.unit_of_work() as session:
            return await action(session, context)

    try:
        return asyncio.run(main())
    except DiaristError as exc:
        err_console.print(f"[red]error:[/red] {exc.detail} ({exc.code})")
        raise typer.Exit(1) from None


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@user_cli.command("create")
def create_user(
    email: Annotated[str, typer.Option(help="Email address (also the login).")],
    name: Annotated[str, typer.Option(help="Display name.")],
    no_password: Annotated[
        bool, typer.Option("--no-password", help="Sign in with emailed codes only.")
    ] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create an account."""
    password = None if no_password else _read_password(password_stdin)

    async def action(session: AsyncSession, ctx: AccountsContext) -> str:
        user, _mail = await accounts_service.register(
            session, ctx, email=email, name=name, password=password, client=_CLI_CLIENT
        )
        return str(user.id)

    console.print(f"created {_run(action)}")


@user_cli.command("list")
def list_users(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List accounts."""

    async def action(session: AsyncSession, ctx: AccountsContext) -> list[tuple[str, ...]]:
        users = await accounts_service.list_users(session)
        return [
            (
                ctx.email_of(user),
                user.name,
                "active" if user.is_active else f"deactivated ({user.deactivated_by})",
                user.auth_provider,
                user.created_at.date().isoformat(),
                user.last_login_at.isoformat(timespec="minutes") if user.last_login_at else "-",
            )
            for user in users
        ]

    columns = ("email", "name", "status", "sign_in", "created", "last_login")
    rows = _run(action)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(dict(zip(columns, row, strict=True))))
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*row)
    console.print(table)


@user_cli.command("deactivate")
def deactivate_user(email: Annotated[str, typer.Argument()]) -> None:
    """Deactivate an account and end all its sessions and tokens."""

    async def action(session: AsyncSession, ctx: AccountsContext) -> None:
        await accounts_service.set_active(session, ctx, email, active=False)

    _run(action)
    console.print(f"deactivated {email}")


@user_cli.command("activate")
def activate_user(email: Annotated[str, typer.Argument()]) -> None:
    """Reactivate a deactivated account."""

    async def action(session: AsyncSession, ctx: AccountsContext) -> None:
        await accounts_service.set_active(session, ctx, email, active=True)

    _run(action)
    console.print(f"activated {email}")


@user_cli.command("reset-password")
def reset_password(
    email: Annotated[str, typer.Argument()],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Set a new password (for a user who cannot receive mail); their sessions end."""
    password = _read_password(password_stdin)

    async def action(session: AsyncSession, ctx: AccountsContext) -> None:
        await accounts_service.admin_reset_password(session, ctx, email, password)

    _run(action)
    console.print(f"password reset for {email}")


@user_cli.command("rotate-key")
def rotate_key(
    reseal_only: Annotated[
        bool,
        typer.Option(
            "--reseal-only",
            help="Add no key: seal everything under the newest key there is (after a new key "
            "was put first in DIARIST_PERSONAL_DATA_KEYS, or after the secret key changed).",
        ),
    ] = False,
) -> None:
    """Rotate the key that seals personal data (addresses, sessions' addresses and browsers):
    a new key first in the data dir's key file, every value sealed again under it, then only
    the new key and the one before it kept."""

    personal = PersonalData.from_settings(settings_for(_state["data_dir"]))
    if not reseal_only:
        if personal.keys_from_settings:
            err_console.print(
                "[red]error:[/red] the keys come from DIARIST_PERSONAL_DATA_KEYS: put a new key "
                "first there, restart the servers, then run "
                "`diarist user rotate-key --reseal-only`"
            )
            raise typer.Exit(1)
        personal.rotate_file()

    async def action(session: AsyncSession, _ctx: AccountsContext) -> dict[str, int]:
        return await accounts_service.reseal_personal_data(session, personal)

    written = _run(action)
    console.print(
        "sealed again: " + ", ".join(f"{count} {table}" for table, count in written.items())
    )
    if not reseal_only:
        personal.prune_file()
        console.print(f"{personal.keys_file}: the new key and the one before it kept")
