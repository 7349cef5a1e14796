"""The tasks of the journal, as callers defer them (registered in `journal.tasks`).

`reindex_language` is deferred by the journal's own trigger on users when a writer's language
changes (db/sql/journal/reindex_on_language_change.sql names it and its queue)."""

from __future__ import annotations

from diarist.db.jobs import JobSpec

NAMESPACE = "journal"
PURGE_TRASH = JobSpec(NAMESPACE, "purge_trash", queue="maintenance")
REINDEX_LANGUAGE = JobSpec(NAMESPACE, "reindex_language", queue="maintenance")
FOLD_VOCABULARY = JobSpec(NAMESPACE, "fold_vocabulary", queue="maintenance")
TRANSCRIBE = JobSpec(NAMESPACE, "transcribe", queue="analysis")
