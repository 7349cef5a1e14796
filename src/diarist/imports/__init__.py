"""Imports: a whole journal from another tool (Day One, jrnl, Markdown folders) into diarist.

- `sources`: one reader per format; each streams the source's entries as `SourceRecord`s
  (the fields of an entry, the source's own id, or why an entry cannot be read)
- `service`: batches, validation, the report; the journal writes (`journal.bulk`)

See docs/imports.md for what each format's fields become.
"""
