"""Background work of reminders: every minute, fire what is due and send what is pending."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import procrastinate
import structlog

from diarist.accounts.mailer import build_mailer
from diarist.accounts.personal_data import PersonalData
from diarist.db.jobs import worker_resources
from diarist.reminders import jobs
from diarist.reminders.delivery import Senders, fire_all_due, mail_news, send_due
from diarist.reminders.push import vapid_key

blueprint = procrastinate.Blueprint()
_log = structlog.get_logger("diarist.reminders.tasks")


def _now() -> datetime:
    return datetime.now(UTC)


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name=jobs.DELIVER.name, queue=jobs.DELIVER.queue, queueing_lock="reminders")
async def deliver(timestamp: int) -> int:
    """Fire the due reminders (into the feeds, with a delivery per outbound channel), send the
    pending email, webhook and push deliveries, and mail the news that asks for it; how many
    occurrences fired."""
    resources = worker_resources()
    settings = resources.settings
    report = await fire_all_due(resources.system_database, settings.reminders, _now())
    mailer = build_mailer(settings.mail)
    personal = PersonalData.from_settings(settings)
    async with httpx.AsyncClient(follow_redirects=False) as http:
        senders = Senders(
            mailer.send, http, personal, vapid_key(settings), settings.reminders.vapid_subject
        )
        sent = await send_due(resources.system_database, settings.reminders, senders, _now)
    news = await mail_news(resources.system_database, mailer.send, personal)
    if report.fired or report.missed or sent or news:
        _log.info("reminders_delivered", fired=report.fired, missed=report.missed,
                  nudges_skipped=report.nudges_skipped, sends=sent, news_mailed=news)  # fmt: skip
    return report.fired
