"""The current text of our SQL functions, triggers and row-level-security policies.

Each file under `db/sql/<domain>/` (re)defines its objects and can be run again at any time
(`CREATE OR REPLACE`, `DROP POLICY IF EXISTS` + `CREATE POLICY`). A revision that changes an
object edits its file and runs it, `op.execute(read_sql("accounts/auth_resolve_token.sql"))`;
its downgrade runs the previous text, kept inline in the revision. See docs/database-code.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import files
from importlib.resources.abc import Traversable

_ROOT = files("diarist.db").joinpath("sql")


def read_sql(relative_path: str) -> str:
    """The text of one file, e.g. `read_sql("accounts/auth_resolve_token.sql")`."""
    return _ROOT.joinpath(*relative_path.split("/")).read_text(encoding="utf-8")


def sql_files() -> list[str]:
    """Every file's relative path (as `read_sql` takes it), sorted."""
    return sorted(_walk(_ROOT, ""))


def _walk(folder: Traversable, prefix: str) -> Iterator[str]:
    for child in folder.iterdir():
        if child.is_dir():
            yield from _walk(child, f"{prefix}{child.name}/")
        elif child.name.endswith(".sql"):
            yield f"{prefix}{child.name}"
