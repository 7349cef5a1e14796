"""Errors of imports, each with a stable code."""

from __future__ import annotations

from diarist.errors import DiaristError, NotFound


class InvalidImportFile(DiaristError):
    """The file as a whole cannot be read as the format named (not one entry of it)."""

    status = 422
    code = "invalid_import_file"
    title = "Invalid import file"


class ImportTooLarge(DiaristError):
    status = 413
    code = "import_too_large"
    title = "Import too large"


class ImportNotFound(NotFound):
    code = "import_not_found"
    title = "Import not found"


class InvalidImportRequest(DiaristError):
    """What an import is asked with does not fit its format (a file for Memos, none else)."""

    status = 422
    code = "invalid_import_request"
    title = "Invalid import request"


class TooManyImports(DiaristError):
    """The user has as many imports waiting as they may: one must finish first."""

    status = 429
    code = "too_many_imports"
    title = "Too many imports waiting"
