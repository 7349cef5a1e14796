"""Reminders with recurrence and time zones, their delivery (the in-app feed, email, a signed
webhook) and the notification feed (docs/reminders.md)."""
