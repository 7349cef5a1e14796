"""Reminders delivered: fired by the scheduler at their local time across daylight-saving
changes, exactly once with two workers at it, into the feed, by email (a real SMTP server)
and to a webhook (a real receiver that checks the signature), retried with backoff and
failing visibly; quiet hours, nudges, and occurrences missed while no worker ran."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import time
import uuid
import zoneinfo
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import http_ece
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import ECKey
from pydantic import SecretStr
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from diarist.accounts.mailer import SmtpMailer
from diarist.accounts.personal_data import PersonalData
from diarist.accounts.secrets import Keyring
from diarist.accounts.service import AccountsContext
from diarist.app import create_app
from diarist.config import MailSettings, Settings
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.provision import DatabaseUrls
from diarist.kit.clock import SystemClock
from diarist.reminders import push
from diarist.reminders.delivery import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    Senders,
    fire_all_due,
    mail_news,
    send_due,
)
from tests.conftest import Mailbox, make_settings
from tests.factories.accounts import Account, signed_up, user_id_of
from tests.factories.journal import analyze_entries, create_entry
from tests.fixtures.http_server import serving_in_thread


@dataclass
class Receiver:
    """A webhook receiver: keeps what arrives whose signature checks, fails on demand."""

    url: str = ""
    secret: str = ""
    failures_left: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[Receiver]:
    receiver = Receiver()

    async def hook(request: Request) -> JSONResponse:
        body = await request.body()
        stamp, _, mac = request.headers.get(SIGNATURE_HEADER, "").partition(",v1=")
        expected = hmac.new(
            receiver.secret.encode(), f"{stamp.removeprefix('t=')}.".encode() + body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, mac):
            receiver.refused += 1
            return JSONResponse({"error": "bad signature"}, status_code=401)
        if receiver.failures_left > 0:
            receiver.failures_left -= 1
            return JSONResponse({"error": "down"}, status_code=503)
        receiver.received.append({**json.loads(body), "delivery": request.headers[DELIVERY_HEADER]})
        return JSONResponse({})

    with serving_in_thread(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as url:
        receiver.url = f"{url}/hook"
        yield receiver


@pytest.fixture
def receiver(receiver_server: Receiver) -> Receiver:
    receiver_server.received.clear()
    receiver_server.failures_left = 0
    receiver_server.refused = 0
    return receiver_server


@dataclass
class World:
    """An app on a database of its own (the scheduler's transactions really commit), the
    system role's database the worker uses, and a clock the test moves."""

    client: httpx.AsyncClient
    system: Database
    settings: Settings
    mailbox: Mailbox
    app_db: Database
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def personal(self) -> PersonalData:
        return PersonalData.from_settings(self.settings)

    async def fire(self, at: datetime | None = None) -> int:
        self.now = at or self.now
        return (await fire_all_due(self.system, self.settings.reminders, self.now)).fired

    async def send(self) -> int:
        mailer = SmtpMailer(self.settings.mail)
        async with httpx.AsyncClient() as http:
            return await send_due(
                self.system,
                self.settings.reminders,
                Senders(mailer.send, http, self.personal),
                lambda: self.now,
            )

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.system.unit_of_work() as session:
            return list((await session.execute(text(sql), params)).all())


def _database(urls: DatabaseUrls, role: str, settings: Settings) -> Database:
    url = urls.app if role == "app" else urls.system
    return Database(create_engine(url, settings.db, PoolPlan(4, 0), application_name=f"t-{role}"))


@pytest.fixture
async def world(
    fresh_db: DatabaseUrls, tmp_path: Path, smtp_server: tuple[int, Mailbox], mailbox: Mailbox
) -> AsyncIterator[World]:
    settings = make_settings(fresh_db, tmp_path)
    settings.mail = MailSettings(
        backend="smtp", smtp_host="127.0.0.1", smtp_port=smtp_server[0], smtp_security="none"
    )
    settings.reminders.allow_private_hosts = True
    settings.reminders.retry_base_s = 60
    app_db, system_db = (
        _database(fresh_db, "app", settings),
        _database(fresh_db, "system", settings),
    )
    app = create_app(settings, database=app_db)
    app.state.accounts = AccountsContext(
        settings, Keyring(SecretStr("k" * 40)), SmtpMailer(settings.mail), SystemClock()
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://diarist.test") as client,
        ):
            yield World(client, system_db, settings, mailbox, app_db)
    finally:
        await app_db.dispose()
        await system_db.dispose()


async def _confirmed(world: World, *people: Account) -> None:
    """Their addresses confirmed (reminders are mailed only to a confirmed address)."""
    async with world.system.unit_of_work() as session:
        for person in people:
            await session.execute(
                text("UPDATE users SET email_verified_at = now() WHERE email_index = :index"),
                {"index": world.personal.email_index(person.email)},
            )


async def _reminder(world: World, me: Account, **fields: Any) -> dict[str, Any]:
    body = {"title": "Stretch", "remind_at": (world.now + timedelta(hours=1)).isoformat(), **fields}
    made = await world.client.post("/api/v1/reminders", json=body, headers=me.auth)
    assert made.status_code == 201, made.text
    reminder: dict[str, Any] = made.json()
    return reminder


async def _feed(world: World, me: Account) -> list[dict[str, Any]]:
    page = await world.client.get("/api/v1/notifications", headers=me.auth)
    items: list[dict[str, Any]] = page.json()["items"]
    return items


@pytest.mark.parametrize(
    ("zone", "change"),
    [("Europe/Berlin", "2027-03-28"), ("Europe/Berlin", "2027-10-31"),
     ("America/New_York", "2027-03-14"), ("America/New_York", "2027-11-07")],
)  # fmt: skip
async def test_a_daily_nine_oclock_reminder_fires_at_nine_across_a_clock_change(
    world: World, zone: str, change: str
) -> None:
    me = await signed_up(world.client)
    day = datetime.fromisoformat(change).date()
    await _reminder(world, me, remind_at=f"{day - timedelta(days=2)}T09:00:00", timezone=zone,
                    repeat="daily")  # fmt: skip
    local = zoneinfo.ZoneInfo(zone)
    offsets = set()
    for shift in range(-2, 3):
        nine = datetime.combine(day + timedelta(days=shift), datetime.min.time()).replace(
            hour=9, tzinfo=local
        )
        assert await world.fire(nine - timedelta(minutes=1)) == 0, "nothing before 09:00"
        assert await world.fire(nine + timedelta(seconds=30)) == 1
        offsets.add(nine.utcoffset())
    fired = [
        datetime.fromisoformat(n["occurrence_at"]).astimezone(local) for n in await _feed(world, me)
    ]
    assert len(fired) == 5
    assert {at.hour for at in fired} == {9}
    assert {at.minute for at in fired} == {0}
    assert len(offsets) == 2, "the days straddle the change"


async def test_two_workers_deliver_each_occurrence_exactly_once(
    world: World, receiver: Receiver, mailbox: Mailbox
) -> None:
    people = [await signed_up(world.client) for _ in range(3)]
    await _confirmed(world, *people)
    for me in people:
        hook = await world.client.put(
            "/api/v1/notifications/webhook", json={"url": receiver.url}, headers=me.auth
        )
        receiver.secret = hook.json()["secret"]  # the last one's; others' are refused below
        for minute in range(5):
            at = (world.now + timedelta(minutes=minute + 1)).isoformat()
            await _reminder(world, me, remind_at=at, title=f"R{minute}",
                            channels=["app", "email", "webhook"])  # fmt: skip
    later = world.now + timedelta(minutes=10)
    world.now = later
    fired = await asyncio.gather(*(fire_all_due(world.system, world.settings.reminders, later)
                                   for _ in range(2)))  # fmt: skip
    assert sum(report.fired for report in fired) == 15
    sent = await asyncio.gather(world.send(), world.send())
    assert sum(sent) == 30  # 15 emails and 15 webhook calls, each claimed by one worker
    assert len(mailbox.messages) == 15
    assert len({m["Subject"] for m in mailbox.messages}) == 5
    assert len(receiver.received) + receiver.refused == 15
    assert len(receiver.received) == 5, "the last person's secret signs their five"
    for me in people:
        assert len(await _feed(world, me)) == 5
    assert await world.fire() == 0
    assert await world.send() == 0
    world.now += timedelta(seconds=61)
    assert await world.send() == 10, "the ten refused webhook calls are retried after a backoff"


async def test_a_failing_webhook_is_retried_with_backoff_then_fails_visibly(
    world: World, receiver: Receiver
) -> None:
    me = await signed_up(world.client)
    hook = await world.client.put(
        "/api/v1/notifications/webhook", json={"url": receiver.url}, headers=me.auth
    )
    receiver.secret = hook.json()["secret"]
    made = await _reminder(world, me, channels=["webhook"], description="the long one")
    receiver.failures_left = 2
    await world.fire(world.now + timedelta(hours=1, seconds=5))
    assert await world.send() == 1
    [failing] = (await world.client.get("/api/v1/reminders/deliveries", headers=me.auth)).json()
    assert failing["status"] == "pending"
    assert failing["attempts"] == 1
    assert failing["last_error"] == "the webhook answered 503"
    assert await world.send() == 0, "not before its backoff"
    world.now += timedelta(seconds=61)
    assert await world.send() == 1
    world.now += timedelta(seconds=121)
    assert await world.send() == 1
    [sent] = (await world.client.get("/api/v1/reminders/deliveries", headers=me.auth)).json()
    assert sent["status"] == "sent"
    assert sent["attempts"] == 3
    [arrived] = receiver.received
    assert arrived["reminder_id"] == made["id"]
    assert arrived["description"] == "the long one"
    assert arrived["delivery"] == sent["id"]

    # A webhook that never answers well: failed after the last attempt, and it says why.
    world.settings.reminders.max_attempts = 2
    receiver.failures_left = 100
    await _reminder(
        world, me, channels=["webhook"], remind_at=(world.now + timedelta(minutes=1)).isoformat()
    )
    await world.fire(world.now + timedelta(minutes=1, seconds=5))
    await world.send()
    world.now += timedelta(seconds=61)
    await world.send()
    failed = await world.client.get("/api/v1/reminders/deliveries?status=failed", headers=me.auth)
    assert [d["last_error"] for d in failed.json()] == ["the webhook answered 503"]


async def test_an_emailed_reminder(world: World, mailbox: Mailbox) -> None:
    """Mailed to a confirmed address only (else anyone could have anyone mailed); a title
    of several lines is one subject line."""
    me = await signed_up(world.client)
    await _reminder(world, me, title="Call Grandma", channels=["email"])
    await world.fire(world.now + timedelta(hours=1, seconds=1))
    assert await world.send() == 1
    assert mailbox.messages == []
    [failed] = (await world.client.get("/api/v1/reminders/deliveries", headers=me.auth)).json()
    assert failed["status"] == "failed", "no retry can confirm the address"
    assert "not confirmed" in failed["last_error"]

    await _confirmed(world, me)
    await _reminder(world, me, title="Call Grandma\r\nBcc: someone@example.org",
                    description="Her birthday.", channels=["email"])  # fmt: skip
    await world.fire(world.now + timedelta(hours=1, seconds=1))
    assert await world.send() == 1
    [message] = mailbox.messages
    assert message["To"] == me.email
    assert message["Subject"] == "Reminder: Call Grandma Bcc: someone@example.org"
    assert message["Bcc"] is None
    assert "Her birthday." in message.get_content()


async def test_quiet_hours_hold_email_until_they_end(world: World, mailbox: Mailbox) -> None:
    me = await signed_up(world.client)
    await _confirmed(world, me)
    prefs = {"timezone": "Europe/Berlin",
             "notifications": {"quiet_hours": {"start": "22:00", "end": "07:00"},
                               "reminder_channels": ["app", "email"]}}  # fmt: skip
    saved = await world.client.patch("/api/v1/me", json={"preferences": prefs}, headers=me.auth)
    assert saved.status_code == 200, saved.text
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    night = (
        (world.now + timedelta(days=1))
        .astimezone(berlin)
        .replace(hour=23, minute=30, second=0, microsecond=0)
    )
    await _reminder(world, me, remind_at=night.isoformat())
    await world.fire(night + timedelta(seconds=10))
    assert len(await _feed(world, me)) == 1, "the feed is told at once"
    assert await world.send() == 0
    assert mailbox.messages == []
    world.now = (night + timedelta(days=1)).replace(hour=7, minute=0, second=1)
    assert await world.send() == 1
    assert len(mailbox.messages) == 1


async def test_a_nudge_only_on_a_day_without_writing(world: World, mailbox: Mailbox) -> None:
    writer, idle = await signed_up(world.client), await signed_up(world.client)
    await _confirmed(world, writer, idle)
    await create_entry(world.client, writer.auth, "Today I wrote.")
    soon = datetime.now(UTC) + timedelta(seconds=3)  # the same day as the entry
    for me in (writer, idle):
        await _reminder(world, me, kind="nudge", title="Write today", remind_at=soon.isoformat(),
                        repeat="daily", channels=["app", "email"])  # fmt: skip
    assert await world.fire(soon + timedelta(seconds=1)) == 1
    assert await _feed(world, writer) == []
    [nudge] = await _feed(world, idle)
    assert nudge["kind"] == "nudge"
    assert "not written today" in nudge["body"]
    assert await world.send() == 1
    [mail] = mailbox.messages
    assert mail["To"] == idle.email
    assert "not written today" in mail.get_content(), "the mail says what the feed says"


async def test_missed_occurrences_within_the_grace_window_are_caught_up_once(
    world: World,
) -> None:
    me = await signed_up(world.client)
    start = (world.now + timedelta(minutes=1)).replace(microsecond=0)
    made = await _reminder(world, me, remind_at=start.isoformat(), rrule="FREQ=HOURLY")
    # The worker was down for five hours: only the latest occurrence (within the hour of
    # grace) is told, once; the next one is scheduled after now.
    await world.fire(start + timedelta(hours=4, minutes=30))
    [told] = await _feed(world, me)
    assert datetime.fromisoformat(told["occurrence_at"]) == start + timedelta(hours=4)
    after = (await world.client.get(f"/api/v1/reminders/{made['id']}", headers=me.auth)).json()
    assert datetime.fromisoformat(after["next_at"]) == start + timedelta(hours=5)
    # Down for longer than the grace window: nothing late.
    await world.fire(start + timedelta(hours=8))
    assert len(await _feed(world, me)) == 2  # 08:00 itself is on time
    await world.fire(start + timedelta(hours=11, minutes=5))
    assert len(await _feed(world, me)) == 3


async def test_the_feed_is_read_and_a_snooze_fires_again(world: World) -> None:
    me = await signed_up(world.client)
    made = await _reminder(world, me)
    url = f"/api/v1/reminders/{made['id']}"
    await world.fire(world.now + timedelta(hours=1, seconds=1))
    feed = (await world.client.get("/api/v1/notifications?unread=true", headers=me.auth)).json()
    assert feed["unread"] == 1
    [note] = feed["items"]
    assert note["link"] == "/reminders"
    read = await world.client.post(f"/api/v1/notifications/{note['id']}/read", headers=me.auth)
    assert read.status_code == 204
    assert (await world.client.get("/api/v1/notifications", headers=me.auth)).json()["unread"] == 0
    snoozed = await world.client.post(
        f"{url}/snooze", json={"until": (datetime.now(UTC) + timedelta(minutes=10)).isoformat()},
        headers=me.auth,
    )  # fmt: skip
    assert snoozed.status_code == 200
    await world.fire(datetime.fromisoformat(snoozed.json()["snoozed_until"]) + timedelta(seconds=1))
    assert len(await _feed(world, me)) == 2
    assert (await world.client.get(url, headers=me.auth)).json()["snoozed_until"] is None
    assert (await world.client.post("/api/v1/notifications/read-all", headers=me.auth)).json() == {
        "marked": 1
    }


@dataclass
class PushService:
    """A Web Push service on loopback: checks each push's VAPID signature (RFC 8292), decrypts
    it for its browser (RFC 8291) and keeps the message; `/gone/…` answers 410."""

    url: str = ""
    browsers: dict[str, tuple[ec.EllipticCurvePrivateKey, bytes]] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)

    def browser(self, name: str) -> dict[str, Any]:
        """A new browser's subscription (as `PushSubscription.toJSON()` gives it)."""
        private = ec.generate_private_key(ec.SECP256R1())
        secret = os.urandom(16)
        self.browsers[name] = (private, secret)
        point = private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": f"{self.url}/push/{name}",
                "keys": {"p256dh": _b64(point), "auth": _b64(secret)}}  # fmt: skip


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def push_service() -> Iterator[PushService]:
    service = PushService()

    async def push(request: Request) -> Response:
        scheme, _, params = request.headers["authorization"].partition(" ")
        values = dict(part.split("=", 1) for part in params.split(","))
        raw = base64.urlsafe_b64decode(values["k"] + "==")
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        claims = jwt.decode(values["t"], ECKey.import_key(key), algorithms=["ES256"]).claims
        assert scheme == "vapid"
        assert claims["aud"] == service.url
        assert claims["exp"] > time.time()
        private, secret = service.browsers[request.path_params["name"]]
        plain = http_ece.decrypt(await request.body(), private_key=private, auth_secret=secret)
        service.messages.append(json.loads(plain))
        return Response(status_code=201)

    async def gone(_request: Request) -> Response:
        return Response(status_code=410)

    routes = [Route("/push/{name}", push, methods=["POST"]),
              Route("/gone/{name}", gone, methods=["POST"])]  # fmt: skip
    with serving_in_thread(Starlette(routes=routes)) as url:
        service.url = url
        yield service


async def test_a_reminder_pushed_to_the_browsers(world: World, push_service: PushService) -> None:
    me = await signed_up(world.client)
    key = (await world.client.get("/api/v1/notifications/push/key", headers=me.auth)).json()
    assert len(base64.urlsafe_b64decode(key["public_key"] + "==")) == 65
    browser = push_service.browser(f"b-{uuid.uuid4().hex}")
    made = await world.client.post(
        "/api/v1/notifications/push/subscriptions", json=browser, headers=me.auth
    )
    assert made.status_code == 201, made.text
    stale = {**push_service.browser("stale"), "endpoint": f"{push_service.url}/gone/stale"}
    await world.client.post("/api/v1/notifications/push/subscriptions", json=stale, headers=me.auth)
    await _reminder(world, me, title="Stretch", description="Two minutes.", channels=["push"])
    await world.fire(world.now + timedelta(hours=1, seconds=1))
    vapid = push.vapid_key(world.settings)
    mailer = SmtpMailer(world.settings.mail)
    async with httpx.AsyncClient() as http:
        senders = Senders(mailer.send, http, world.personal, vapid, "mailto:ops@example.org")
        sent = await send_due(world.system, world.settings.reminders, senders, lambda: world.now)
    assert sent == 1
    assert push_service.messages[-1]["title"] == "Stretch"
    assert push_service.messages[-1]["body"] == "Two minutes."
    left = await world.client.get("/api/v1/notifications/push/subscriptions", headers=me.auth)
    assert [s["endpoint"] for s in left.json()] == [browser["endpoint"]], "the gone one is dropped"
    [delivered] = (await world.client.get("/api/v1/reminders/deliveries", headers=me.auth)).json()
    assert delivered["status"] == "sent"
    bad = {**browser, "keys": {"p256dh": "short", "auth": "x"}}
    refused = await world.client.post(
        "/api/v1/notifications/push/subscriptions", json=bad, headers=me.auth
    )
    assert refused.status_code == 422
    sub_id = left.json()[0]["id"]
    url = f"/api/v1/notifications/push/subscriptions/{sub_id}"
    assert (await world.client.delete(url, headers=me.auth)).status_code == 204
    assert (await world.client.delete(url, headers=me.auth)).status_code == 404


async def test_news_the_preferences_ask_for(world: World, mailbox: Mailbox) -> None:
    """`processing_complete`: an analysed entry is told in the feed; `email_insights`: a new
    insight is told in the feed and mailed; without them, nothing."""
    quiet, curious, unconfirmed = [await signed_up(world.client) for _ in range(3)]
    await _confirmed(world, curious)
    wants = {"notifications": {"processing_complete": True, "email_insights": True}}
    for me in (curious, unconfirmed):
        saved = await world.client.patch("/api/v1/me", json={"preferences": wants}, headers=me.auth)
        assert saved.status_code == 200
    for me in (quiet, curious, unconfirmed):
        await create_entry(world.client, me.auth, "A walk by the river.", title="River")
        await analyze_entries(world.app_db, await user_id_of(world.client, me))
        async with world.app_db.unit_of_work(user_id=await user_id_of(world.client, me)) as s:
            await s.execute(
                text(
                    "INSERT INTO insights (user_id, insight_type, fingerprint, insight_data,"
                    " confidence_level) VALUES (diarist_current_user_id(), 'trend', 'f',"
                    ' \'{"summary": "Your mood rose this month."}\', 0.9)'
                )
            )
    assert await _feed(world, quiet) == []
    told = await _feed(world, curious)
    assert [n["title"] for n in told] == [
        "Something stands out in your journal",
        "An entry is analysed",
    ]
    assert told[1]["body"] == "River"
    assert told[0]["link"] == "/insights"
    assert len(await _feed(world, unconfirmed)) == 2, "told in the feed, never mailed"
    assert await mail_news(world.system, SmtpMailer(world.settings.mail).send, world.personal) == 1
    [mail] = mailbox.messages
    assert mail["To"] == curious.email
    assert "Your mood rose this month." in mail.get_content()
    assert await mail_news(world.system, SmtpMailer(world.settings.mail).send, world.personal) == 0


async def test_a_reminder_deleted_while_its_webhook_is_sent(
    world: World, receiver: Receiver
) -> None:
    """The send is recorded for the others; the deleted reminder's delivery is gone with it."""
    me = await signed_up(world.client)
    hook = await world.client.put(
        "/api/v1/notifications/webhook", json={"url": receiver.url}, headers=me.auth
    )
    receiver.secret = hook.json()["secret"]
    kept = await _reminder(world, me, channels=["webhook"], title="Kept")
    doomed = await _reminder(world, me, channels=["webhook"], title="Doomed")
    await world.fire(world.now + timedelta(hours=1, seconds=1))

    async def delete_on_the_way(to: str, subject: str, body: str) -> None:
        raise AssertionError("no email here")

    class Deleting(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if b"Doomed" in request.content:
                url = f"/api/v1/reminders/{doomed['id']}"
                assert (await world.client.delete(url, headers=me.auth)).status_code == 204
            return httpx.Response(204)

    async with httpx.AsyncClient(transport=Deleting()) as http:
        senders = Senders(delete_on_the_way, http, world.personal)
        sent = await send_due(world.system, world.settings.reminders, senders, lambda: world.now)
    assert sent == 2
    [left] = (await world.client.get("/api/v1/reminders/deliveries", headers=me.auth)).json()
    assert left["reminder_id"] == kept["id"]
    assert left["status"] == "sent"


async def test_a_late_outcome_after_the_lease_ran_out_changes_nothing(
    world: World, receiver: Receiver
) -> None:
    """A worker that outlived its lease records nothing over the worker that claimed the
    delivery again; a failed try waits at most a day, however the settings grow it."""
    me = await signed_up(world.client)
    hook = await world.client.put(
        "/api/v1/notifications/webhook", json={"url": receiver.url}, headers=me.auth
    )
    receiver.secret = hook.json()["secret"]
    await _reminder(world, me, channels=["webhook"])
    await world.fire(world.now + timedelta(hours=1, seconds=1))
    slow_clock = world.now

    class Slow(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            world.now = slow_clock + timedelta(minutes=30)  # the lease ran out meanwhile
            assert await world.send() == 1  # another worker claims it again and sends
            return httpx.Response(500)

    async def no_mail(to: str, subject: str, body: str) -> None:
        raise AssertionError("no email here")

    async with httpx.AsyncClient(transport=Slow()) as http:
        senders = Senders(no_mail, http, world.personal)
        assert await send_due(world.system, world.settings.reminders, senders, lambda: slow_clock)
    [delivery] = (await world.client.get("/api/v1/reminders/deliveries", headers=me.auth)).json()
    assert (delivery["status"], delivery["attempts"]) == ("sent", 2), "the late failure is lost"

    world.settings.reminders.retry_base_s = 10**9
    receiver.failures_left = 1
    await _reminder(world, me, channels=["webhook"], title="Later")
    await world.fire(world.now + timedelta(hours=1, seconds=1))
    assert await world.send() == 1
    [retried] = await world.rows(
        "SELECT next_attempt_at FROM reminder_deliveries WHERE status = 'pending'"
    )
    assert retried[0] == world.now + timedelta(days=1)


async def test_a_reminder_that_cannot_be_worked_out_does_not_stop_the_others(
    world: World,
) -> None:
    broken, fine = await signed_up(world.client), await signed_up(world.client)
    made = await _reminder(world, broken, repeat="daily")
    await _reminder(world, fine)
    await world.rows(
        "UPDATE reminders SET rrule = 'FREQ=FORTNIGHTLY' WHERE id = :id RETURNING id",
        id=uuid.UUID(made["id"]),
    )
    # A quiet-hours time stored with an offset before offsets were refused is read as wall clock.
    await world.rows(
        "UPDATE users SET preferences = jsonb_set(preferences, '{notifications,quiet_hours}',"
        ' \'{"start": "22:00+02:00", "end": "07:00"}\') WHERE email_index = :index RETURNING id',
        index=world.personal.email_index(fine.email),
    )
    [stored] = await world.rows(
        "SELECT preferences #>> '{notifications,quiet_hours,start}' FROM users"
        " WHERE email_index = :i",
        i=world.personal.email_index(fine.email),
    )
    assert stored[0] == "22:00+02:00"
    at = world.now + timedelta(hours=1, seconds=1)
    report = await fire_all_due(world.system, world.settings.reminders, at)
    assert (report.fired, report.failed) == (1, 1)
    assert len(await _feed(world, fine)) == 1
    kept = (await world.client.get(f"/api/v1/reminders/{made['id']}", headers=broken.auth)).json()
    assert datetime.fromisoformat(kept["next_at"]) == at + timedelta(hours=1), "tried again later"
    offset = {"notifications": {"quiet_hours": {"start": "22:00+02:00", "end": "07:00"}}}
    refused = await world.client.patch(
        "/api/v1/me", json={"preferences": offset}, headers=fine.auth
    )
    assert refused.status_code == 422
