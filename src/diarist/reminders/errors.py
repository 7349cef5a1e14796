"""Errors of reminders and notifications, each with a stable code."""

from __future__ import annotations

from diarist.errors import Conflict, NotFound, Unprocessable


class ReminderNotFound(NotFound):
    code = "reminder_not_found"
    title = "Reminder not found"

    def __init__(self) -> None:
        super().__init__("No reminder of mine has this id.")


class InvalidRecurrence(Unprocessable):
    code = "invalid_recurrence"
    title = "Invalid recurrence rule"


class ReminderInPast(Unprocessable):
    code = "reminder_in_past"
    title = "Reminder time in the past"

    def __init__(self) -> None:
        super().__init__("The reminder's time has passed and it does not repeat after now.")


class ReminderFinished(Conflict):
    code = "reminder_finished"
    title = "Reminder finished"

    def __init__(self) -> None:
        super().__init__("This reminder is completed or has no occurrence left.")


class TooManyReminders(Conflict):
    code = "too_many_reminders"
    title = "Too many reminders"


class ReminderEntryNotFound(NotFound):
    code = "entry_not_found"
    title = "Entry not found"

    def __init__(self) -> None:
        super().__init__("No entry of mine has this id.")


class NotificationNotFound(NotFound):
    code = "notification_not_found"
    title = "Notification not found"

    def __init__(self) -> None:
        super().__init__("No notification of mine has this id.")


class WebhookNotAllowed(Unprocessable):
    code = "webhook_not_allowed"
    title = "Webhook address not allowed"

    def __init__(self) -> None:
        super().__init__(
            "The webhook's host must resolve to public addresses only (not this server's own "
            "network)."
        )


class WebhookNotFound(NotFound):
    code = "webhook_not_found"
    title = "Webhook not found"

    def __init__(self) -> None:
        super().__init__("No webhook is set.")


class CalendarFeedNotFound(NotFound):
    code = "calendar_feed_not_found"
    title = "Calendar feed not found"

    def __init__(self) -> None:
        super().__init__("No calendar feed has this address (it may have been revoked).")


class PushEndpointNotAllowed(Unprocessable):
    code = "push_endpoint_not_allowed"
    title = "Push endpoint not allowed"

    def __init__(self) -> None:
        super().__init__("A push endpoint's host must resolve to public addresses only.")


class PushSubscriptionNotFound(NotFound):
    code = "push_subscription_not_found"
    title = "Push subscription not found"

    def __init__(self) -> None:
        super().__init__("No push subscription of mine has this id.")
