"""Engine, unit of work, row-level-security context, migrations and the embedded server."""
