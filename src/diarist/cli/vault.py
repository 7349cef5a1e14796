"""`diarist vault …`: the vault's client half against a running server (docs/vault.md). The
phrase is asked for without echo (or read from `--phrase-file`); it, the keys and the
plaintext stay in this process — the server gets OPAQUE messages and ciphertexts only.
`rotate-sealing-key` works on the data dir instead (the server's side)."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import httpx
import typer
from rich.console import Console

from diarist.cli.common import DataDirOption, settings_for
from diarist.kit.key_files import replace_key_list
from diarist.vault.client import Unlocked, VaultClient, VaultClientError
from diarist.vault.keys import SEALING_FILE, sealing_keys

vault_cli = typer.Typer(
    help="The secret vault's client: secret entries encrypted before they leave.",
    no_args_is_help=True,
)
console = Console()
err_console = Console(stderr=True)
T = TypeVar("T")

UrlOption = Annotated[str, typer.Option(envvar="DIARIST_URL", help="The diarist server.")]
TokenOption = Annotated[
    str, typer.Option(envvar="DIARIST_TOKEN", help="A personal access token of the account.")
]
PhraseFile = Annotated[
    Path | None,
    typer.Option(help="Read the phrase from this file (its first line) instead of asking."),
]
# Without it, every tag is tried until one opens; each try that does not is a guess the
# server counts (five of them in a row and the next unlock waits): with many tags, name it.
TagOption = Annotated[
    uuid.UUID | None,
    typer.Option("--tag", envvar="DIARIST_VAULT_TAG", help="The secret tag to open (its id)."),
]
CONTENT_TYPE = "text/markdown"


def _phrase(phrase_file: Path | None, *, twice: bool = False, prompt: str = "Vault phrase") -> str:
    if phrase_file is not None:
        return phrase_file.read_text(encoding="utf-8").splitlines()[0]
    phrase: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=twice)
    return phrase


def _run(url: str, token: str, work: Callable[[VaultClient], Awaitable[T]]) -> T:
    async def main() -> T:
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            me = await http.get("/api/v1/me", headers=auth)
            if me.status_code != 200:
                raise VaultClientError(f"the server refused the token ({me.status_code})")
            return await work(VaultClient(http, auth, uuid.UUID(me.json()["id"])))

    try:
        return asyncio.run(main())
    except (VaultClientError, httpx.HTTPError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


async def _opened(vault: VaultClient, phrase: str, tag: uuid.UUID | None) -> Unlocked:
    found = await (vault.find(phrase) if tag is None else vault.unlock(tag, phrase))
    if found is None:
        raise VaultClientError(
            "no secret tag of yours opens with this phrase" if tag is None
            else f"the phrase does not open the secret tag {tag}"
        )  # fmt: skip
    return found


@vault_cli.command("register")
def register(url: UrlOption = "http://127.0.0.1:8000", token: TokenOption = "",
             phrase_file: PhraseFile = None) -> None:  # fmt: skip
    """Make a secret tag opened by a new phrase (asked twice)."""
    phrase = _phrase(phrase_file, twice=True)
    tag_id = _run(url, token, lambda vault: vault.register(phrase))
    console.print(f"made the secret tag {tag_id}")


@vault_cli.command("add")
def add(
    source: Annotated[Path, typer.Argument(help="A Markdown file, or - for standard input.")],
    url: UrlOption = "http://127.0.0.1:8000", token: TokenOption = "",
    phrase_file: PhraseFile = None, tag: TagOption = None,
) -> None:  # fmt: skip
    """Store a secret entry in the vault the phrase opens (encrypted here)."""
    text = sys.stdin.read() if str(source) == "-" else source.read_text(encoding="utf-8")
    phrase = _phrase(phrase_file)

    async def work(vault: VaultClient) -> uuid.UUID:
        return await vault.store(await _opened(vault, phrase, tag), text.encode(), CONTENT_TYPE)

    console.print(f"stored {_run(url, token, work)}")


@vault_cli.command("list")
def list_(url: UrlOption = "http://127.0.0.1:8000", token: TokenOption = "",
          phrase_file: PhraseFile = None, tag: TagOption = None) -> None:  # fmt: skip
    """The objects of the vault the phrase opens."""
    phrase = _phrase(phrase_file)

    async def work(vault: VaultClient) -> list[dict[str, object]]:
        return await vault.list_objects(await _opened(vault, phrase, tag))

    for item in _run(url, token, work):
        console.print(f"{item['object_id']}  {item['content_type']}  {item['updated_at']}")


@vault_cli.command("show")
def show(
    object_id: uuid.UUID, url: UrlOption = "http://127.0.0.1:8000", token: TokenOption = "",
    phrase_file: PhraseFile = None, tag: TagOption = None,
) -> None:  # fmt: skip
    """Print a secret entry (decrypted here)."""
    phrase = _phrase(phrase_file)

    async def work(vault: VaultClient) -> bytes:
        return (await vault.read(await _opened(vault, phrase, tag), object_id))[1]

    sys.stdout.write(_run(url, token, work).decode("utf-8", errors="replace"))


@vault_cli.command("change-phrase")
def change_phrase(
    url: UrlOption = "http://127.0.0.1:8000", token: TokenOption = "",
    phrase_file: PhraseFile = None,
    new_phrase_file: Annotated[Path | None, typer.Option(help="The new phrase's file.")] = None,
    tag: TagOption = None,
) -> None:  # fmt: skip
    """A new phrase for the vault the old one opens (every key re-wrapped at once)."""
    phrase = _phrase(phrase_file)
    new_phrase = _phrase(new_phrase_file, twice=True, prompt="New vault phrase")

    async def work(vault: VaultClient) -> None:
        await vault.change_phrase(await _opened(vault, phrase, tag), new_phrase)

    _run(url, token, work)
    console.print("the phrase is changed")


@vault_cli.command("rotate-sealing-key")
def rotate_sealing_key(data_dir: DataDirOption = None) -> None:
    """On the server: a new key seals vault logins from now on; the previous one still opens
    those in flight; older ones are dropped."""
    settings = settings_for(data_dir)
    kept = sealing_keys(settings.data_dir)[:1]
    path = settings.data_dir / SEALING_FILE
    replace_key_list(path, [os.urandom(32), *kept])
    console.print(f"rotated {path}")
