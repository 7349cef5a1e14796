"""Every query of the journal. All run under the acting user's RLS context; the explicit
`user_id` filters are the first wall, the policies the second."""

from __future__ import annotations

from diarist.journal.repository._create import NEW_ENTRY_ID, create_statements
from diarist.journal.repository._entries import (
    SUMMARY_COLUMNS,
    EntryFilters,
    EntryView,
    apply_filters,
    delete_entry,
    entry_by_idempotency_key,
    entry_view,
    get_entry,
    insert_entry,
    list_entries,
    purge_trash,
    set_entry_tags,
    set_search_config,
    tag_names_for,
    update_entry,
)
from diarist.journal.repository._exports import stream_entries
from diarist.journal.repository._hot import entry_view_statement, plain_timeline_statement
from diarist.journal.repository._imports import (
    ImportedEntry,
    imported_entries,
    insert_imported,
    link_tags,
    set_import_hash,
)
from diarist.journal.repository._revisions import get_revision, insert_revision, list_revisions
from diarist.journal.repository._tags import (
    ancestors,
    delete_relationship,
    delete_tag,
    descendants,
    ensure_tags,
    get_tag,
    insert_relationship,
    insert_tag,
    list_relationships,
    list_tags,
    lock_tag_tree,
    move_tag_links,
    tag_groups_by_names,
    tag_list_statement,
    update_tag,
)
from diarist.journal.repository._vocabulary import fold_vocabulary, users_with_vocabulary_changes

__all__ = [
    "NEW_ENTRY_ID",
    "SUMMARY_COLUMNS",
    "EntryFilters",
    "EntryView",
    "ImportedEntry",
    "ancestors",
    "apply_filters",
    "create_statements",
    "delete_entry",
    "delete_relationship",
    "delete_tag",
    "descendants",
    "ensure_tags",
    "entry_by_idempotency_key",
    "entry_view",
    "entry_view_statement",
    "fold_vocabulary",
    "get_entry",
    "get_revision",
    "get_tag",
    "imported_entries",
    "insert_entry",
    "insert_imported",
    "insert_relationship",
    "insert_revision",
    "insert_tag",
    "link_tags",
    "list_entries",
    "list_relationships",
    "list_revisions",
    "list_tags",
    "lock_tag_tree",
    "move_tag_links",
    "plain_timeline_statement",
    "purge_trash",
    "set_entry_tags",
    "set_import_hash",
    "set_search_config",
    "stream_entries",
    "tag_groups_by_names",
    "tag_list_statement",
    "tag_names_for",
    "update_entry",
    "update_tag",
    "users_with_vocabulary_changes",
]
