"""Attachments over the API: upload (multipart), what is served (the location stripped unless
kept, ranges, ETags, thumbnails), dedup per user, the quota, and bad files, each refused whole
with nothing written."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.app import create_app
from diarist.config import Settings
from diarist.db.engine import Database
from tests.factories import media
from tests.factories.accounts import Account, signed_up
from tests.factories.journal import create_entry

GPS_IFD = 0x8825


async def _upload(
    client: httpx.AsyncClient,
    me: Account,
    entry_id: str,
    data: bytes,
    name: str = "photo.jpg",
    **form: str,
) -> httpx.Response:
    return await client.post(
        "/api/v1/attachments",
        files={"file": (name, data, "application/octet-stream")},
        data={"entry_id": entry_id, **form},
        headers=me.auth,
    )


async def _attached(
    client: httpx.AsyncClient, me: Account, data: bytes, **kw: Any
) -> dict[str, Any]:
    entry = await create_entry(client, me.auth)
    response = await _upload(client, me, entry["id"], data, **kw)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _stored_files(settings: Settings) -> list[Path]:
    root = settings.data_dir / "attachments"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def test_a_photo_is_stored_once_and_served_without_its_location(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    me = await signed_up(client)
    entry = await create_entry(client, me.auth)
    photo = media.jpeg(64, 48, gps=True, orientation=6)
    response = await _upload(client, me, entry["id"], photo, name="../Beach day.JPG")
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/api/v1/attachments/{body['id']}"
    assert body["entry_id"] == entry["id"]
    assert (body["kind"], body["media_type"], body["file_name"]) == (
        "image", "image/jpeg", "Beach day.JPG"
    )  # fmt: skip
    assert (body["width"], body["height"]) == (48, 64), "as shown: EXIF orientation 6 turns it"
    assert (body["has_location"], body["keep_location"]) == (True, False)
    assert body["size_bytes"] == len(photo)
    assert body["markdown"] == f"![Beach day.JPG](attachment:{body['id']})"

    served = await client.get(body["content_url"], headers=me.auth)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    shown = Image.open(io.BytesIO(served.content))
    assert GPS_IFD not in shown.getexif(), "the location is not served"
    assert shown.getexif()[0x0112] == 6, "the rest of the EXIF stays"
    assert shown.tobytes() == Image.open(io.BytesIO(photo)).tobytes(), "pixels untouched"

    kept = await client.patch(
        f"/api/v1/attachments/{body['id']}", json={"keep_location": True}, headers=me.auth
    )
    assert kept.status_code == 200
    assert kept.json()["keep_location"] is True
    original = await client.get(body["content_url"], headers=me.auth)
    assert original.content == photo
    assert original.headers["etag"] == f'"{body["sha256"]}"'
    assert served.headers["etag"] != original.headers["etag"]

    thumb = await client.get(body["thumbnail_url"], headers=me.auth)
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/jpeg"
    small = Image.open(io.BytesIO(thumb.content))
    assert max(small.size) <= settings.attachments.thumbnail_px
    assert not small.getexif(), "a thumbnail carries no metadata"
    # Original, thumbnail, copy without location: three objects, under the user's folder.
    assert len(_stored_files(settings)) == 3
    for path in _stored_files(settings):
        assert path.stat().st_mode & 0o777 == 0o600


async def test_the_same_bytes_are_stored_once_per_user(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    me = await signed_up(client)
    photo = media.jpeg()
    first = await _attached(client, me, photo)
    second = await _attached(client, me, photo, name="again.jpg")
    assert first["id"] != second["id"]
    assert first["sha256"] == second["sha256"]
    again = await _upload(client, me, first["entry_id"], photo)
    assert again.status_code == 200, "already on the entry"
    assert again.json()["id"] == first["id"]
    usage = (await client.get("/api/v1/attachments/usage", headers=me.auth)).json()
    assert (usage["used_bytes"], usage["files"]) == (len(photo), 1)
    other = await signed_up(client)
    await _attached(client, other, photo)
    assert len(_stored_files(settings)) == 4, "each user's bytes are their own (2 x original+thumb)"
    listed = await client.get(
        "/api/v1/attachments", params={"entry_id": first["entry_id"]}, headers=me.auth
    )
    assert [a["id"] for a in listed.json()] == [first["id"]]
    everything = await client.get("/api/v1/attachments", headers=me.auth)
    assert {a["id"] for a in everything.json()} == {first["id"], second["id"]}


async def test_audio_is_served_in_ranges(client: httpx.AsyncClient) -> None:
    me = await signed_up(client)
    sound = media.wav()
    body = await _attached(client, me, sound, name="memo.wav")
    assert (body["kind"], body["media_type"], body["thumbnail_url"]) == ("audio", "audio/wav", None)
    assert body["markdown"].startswith("[memo.wav]"), "not an image: a link"
    url, size = body["content_url"], len(sound)

    async def get(**headers: str) -> httpx.Response:
        return await client.get(url, headers={**me.auth, **headers})

    part = await get(Range="bytes=10-109")
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 10-109/{size}"
    assert part.content == sound[10:110]
    assert (await get(Range="bytes=-100")).content == sound[-100:]
    tail = await get(Range=f"bytes={size - 5}-")
    assert (tail.status_code, tail.content) == (206, sound[-5:])
    past = await get(Range=f"bytes={size + 10}-")
    assert past.status_code == 416
    assert past.headers["content-type"] == "application/problem+json"
    assert past.json()["code"] == "range_not_satisfiable"
    assert past.headers["content-range"] == f"bytes */{size}"
    whole = await get(Range="bytes=0-1,5-9")  # several ranges: the whole (RFC 9110 allows it)
    assert (whole.status_code, whole.content) == (200, sound)
    assert (await get(Range="lines=1-2")).status_code == 200
    etag = whole.headers["etag"]
    assert (await get(**{"If-None-Match": etag})).status_code == 304
    stale = await get(Range="bytes=0-9", **{"If-Range": '"other"'})
    assert stale.status_code == 200, "If-Range of another version: the whole"
    assert (await get(Range="bytes=0-9", **{"If-Range": etag})).status_code == 206
    assert (await client.get(body["thumbnail_url"] or f"{url[:-8]}/thumbnail",
                             headers=me.auth)).json()["code"] == "no_thumbnail"  # fmt: skip


async def test_a_file_is_typed_by_its_bytes_not_its_name(client: httpx.AsyncClient) -> None:
    me = await signed_up(client)
    lying = await _attached(client, me, media.pdf(), name="holiday.jpg")
    assert (lying["kind"], lying["media_type"]) == ("pdf", "application/pdf")
    served = await client.get(lying["content_url"], headers=me.auth)
    assert served.headers["content-type"] == "application/pdf"
    heic = await _attached(client, me, media.heic(), name="IMG_0001.HEIC")
    assert (heic["kind"], heic["media_type"], heic["width"]) == ("image", "image/heic", 32)
    assert heic["thumbnail_url"] is not None


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"#!/bin/sh\nrm -rf /\n", 415, "unsupported_media_type"),
        (b"MZ\x90\x00" + bytes(200), 415, "unsupported_media_type"),
        (b"", 415, "unsupported_media_type"),
        (media.jpeg()[:40], 422, "invalid_attachment"),
        (b"\xff\xd8\xff\xe0" + b"garbage" * 20, 422, "invalid_attachment"),
        (b"\x89PNG\r\n\x1a\n" + bytes(64), 422, "invalid_attachment"),
    ],
    ids=["script", "executable", "empty", "truncated-jpeg", "fake-jpeg", "fake-png"],
)
async def test_bad_files_are_refused_and_nothing_is_kept(
    client: httpx.AsyncClient, settings: Settings, session: AsyncSession,
    data: bytes, status: int, code: str,
) -> None:  # fmt: skip
    me = await signed_up(client)
    entry = await create_entry(client, me.auth)
    response = await _upload(client, me, entry["id"], data)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    await _nothing_kept(client, me, settings)


async def _nothing_kept(client: httpx.AsyncClient, me: Account, settings: Settings) -> None:
    assert (await client.get("/api/v1/attachments", headers=me.auth)).json() == []
    assert (await client.get("/api/v1/attachments/usage", headers=me.auth)).json()["files"] == 0
    assert _stored_files(settings) == []
    staging = settings.data_dir / "attachments-staging"
    assert not staging.exists() or not any(staging.iterdir()), "the staged upload is removed"


async def test_limits_per_file_and_per_user(client: httpx.AsyncClient, settings: Settings) -> None:
    me = await signed_up(client)
    entry = await create_entry(client, me.auth)
    sound = media.wav(seconds=0.5)  # 8 KB
    settings.attachments = settings.attachments.model_copy(update={"max_file_bytes": 4096})
    big = await _upload(client, me, entry["id"], sound, name="long.wav")
    assert big.status_code == 413
    assert big.json()["code"] == "attachment_too_large"
    await _nothing_kept(client, me, settings)

    settings.attachments = settings.attachments.model_copy(
        update={"max_file_bytes": 1024**2, "quota_bytes": len(sound) + 1000}
    )
    assert (await _upload(client, me, entry["id"], sound, name="a.wav")).status_code == 201
    over = await _upload(client, me, entry["id"], media.wav(seconds=0.1), name="b.wav")
    assert over.status_code == 413
    assert over.json()["code"] == "quota_exceeded"
    again = await _upload(client, me, entry["id"], sound, name="same.wav")
    assert again.status_code == 200, "bytes already stored take no more quota"
    usage = (await client.get("/api/v1/attachments/usage", headers=me.auth)).json()
    assert (usage["used_bytes"], usage["quota_bytes"]) == (len(sound), len(sound) + 1000)


async def test_bad_requests(client: httpx.AsyncClient, settings: Settings) -> None:
    me = await signed_up(client)
    entry = await create_entry(client, me.auth)
    no_file = await client.post(
        "/api/v1/attachments", data={"entry_id": entry["id"]}, headers=me.auth
    )
    assert no_file.status_code == 422
    assert no_file.json()["code"] == "validation_error"
    bad_id = await _upload(client, me, "not-a-uuid", media.pdf())
    assert bad_id.status_code == 422
    missing = await _upload(client, me, str(uuid.uuid4()), media.pdf())
    assert missing.status_code == 404
    assert missing.json()["code"] == "entry_not_found"
    other = await signed_up(client)
    theirs = await _upload(client, other, entry["id"], media.pdf())
    assert theirs.status_code == 404, "another user's entry is no entry of theirs"
    anonymous = await client.post(
        "/api/v1/attachments",
        files={"file": ("a.pdf", media.pdf())},
        data={"entry_id": entry["id"]},
    )
    assert anonymous.status_code == 401
    patch = await client.patch(
        f"/api/v1/attachments/{uuid.uuid4()}", json={"keep_location": "maybe"}, headers=me.auth
    )
    assert patch.status_code == 422
    await _nothing_kept(client, me, settings)


async def test_only_the_owner_sees_an_attachment(client: httpx.AsyncClient) -> None:
    me = await signed_up(client)
    mine = await _attached(client, me, media.jpeg())
    other = await signed_up(client)
    for path in ("", "/content", "/thumbnail"):
        response = await client.get(f"/api/v1/attachments/{mine['id']}{path}", headers=other.auth)
        assert response.status_code == 404
        assert response.json()["code"] == "attachment_not_found"
    gone = await client.delete(f"/api/v1/attachments/{mine['id']}", headers=other.auth)
    assert gone.status_code == 404
    assert (
        await client.get(f"/api/v1/attachments/{mine['id']}", headers=me.auth)
    ).status_code == 200


async def test_removing_an_attachment_or_purging_its_entry(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    me = await signed_up(client)
    removed = await _attached(client, me, media.pdf())
    assert (
        await client.delete(f"/api/v1/attachments/{removed['id']}", headers=me.auth)
    ).status_code == 204
    assert (
        await client.get(f"/api/v1/attachments/{removed['id']}", headers=me.auth)
    ).status_code == 404
    purged = await _attached(client, me, media.jpeg())
    entry = purged["entry_id"]
    assert (await client.delete(f"/api/v1/entries/{entry}", headers=me.auth)).status_code == 204
    assert (
        await client.get(f"/api/v1/attachments/{purged['id']}", headers=me.auth)
    ).status_code == 200, "in the trash, an entry keeps its files"
    assert (
        await client.delete(f"/api/v1/entries/{entry}/purge", headers=me.auth)
    ).status_code == 204
    assert (
        await client.get(f"/api/v1/attachments/{purged['id']}", headers=me.auth)
    ).status_code == 404
    usage = (await client.get("/api/v1/attachments/usage", headers=me.auth)).json()
    assert (usage["files"], usage["used_bytes"]) == (0, 0), "bytes nothing names count no more"


async def test_bytes_the_collector_took_are_put_again(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """The collector removed a blob's objects, then its commit failed (the row stayed): the
    next upload of those bytes puts them again."""
    me = await signed_up(client)
    first = await _attached(client, me, media.jpeg())
    await client.delete(f"/api/v1/attachments/{first['id']}", headers=me.auth)
    for path in _stored_files(settings):
        path.unlink()
    again = await _attached(client, me, media.jpeg())
    assert (await client.get(again["content_url"], headers=me.auth)).content == media.jpeg()
    assert (await client.get(again["thumbnail_url"], headers=me.auth)).status_code == 200


def _with_fill_byte(jpeg: bytes) -> bytes:
    """A JPEG with a fill byte (0xFF) before its first marker after SOI (legal, T.81)."""
    return jpeg[:2] + b"\xff" + jpeg[2:]


def _with_xmp_location(jpeg: bytes) -> bytes:
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
           b'exif:GPSLatitude="48,51.5N"/></rdf:RDF></x:xmpmeta>')  # fmt: skip
    payload = b"http://ns.adobe.com/xap/1.0/\x00" + xmp
    segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    return jpeg[:2] + segment + jpeg[2:]


@pytest.mark.parametrize(
    "photo",
    [_with_fill_byte(media.jpeg(gps=True)), _with_xmp_location(media.jpeg()),
     _with_xmp_location(media.jpeg(gps=True))],
    ids=["fill-byte", "xmp-only", "exif-and-xmp"],
)  # fmt: skip
async def test_no_location_is_served_however_it_is_written(
    client: httpx.AsyncClient, photo: bytes
) -> None:
    me = await signed_up(client)
    body = await _attached(client, me, photo)
    assert body["has_location"] is True
    served = (await client.get(body["content_url"], headers=me.auth)).content
    shown = Image.open(io.BytesIO(served))
    assert GPS_IFD not in shown.getexif()
    assert b"GPS" not in served


async def test_huge_images_are_refused_before_they_are_decoded(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    me = await signed_up(client)
    entry = await create_entry(client, me.auth)
    huge = io.BytesIO()
    Image.new("1", (20_000, 10_001)).save(huge, "PNG")  # 200,020,000 pixels, a few KB
    refused = await _upload(client, me, entry["id"], huge.getvalue(), name="huge.png")
    assert refused.status_code == 422
    assert refused.json()["detail"] == "Images are limited to 200,000,000 pixels."


async def test_more_ranges_and_conditions(client: httpx.AsyncClient) -> None:
    me = await signed_up(client)
    sound = media.wav(seconds=0.1)
    body = await _attached(client, me, sound, name="s.wav")

    async def get(**headers: str) -> httpx.Response:
        return await client.get(body["content_url"], headers={**me.auth, **headers})

    assert (await get(Range="bytes=-0")).status_code == 416
    backwards = await get(Range="bytes=5-2")
    assert (backwards.status_code, backwards.content) == (200, sound), "invalid: ignored"
    longer = await get(Range=f"bytes=-{len(sound) * 2}")
    assert (longer.status_code, longer.content) == (206, sound)
    etag = longer.headers["etag"]
    assert (await get(**{"If-None-Match": f"W/{etag}"})).status_code == 304
    assert (await get(**{"If-None-Match": '"other", *'})).status_code == 304
    dated = await get(Range="bytes=0-1", **{"If-Range": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert dated.status_code == 200, "a date is never our validator: the whole"
    long_header = await get(Range="bytes=0-1," + ",".join(["5-6"] * 300))
    assert long_header.status_code == 200


async def test_a_file_missing_from_the_store_is_a_404(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    me = await signed_up(client)
    body = await _attached(client, me, media.pdf())
    for path in _stored_files(settings):
        path.unlink()
    missing = await client.get(body["content_url"], headers=me.auth)
    assert (missing.status_code, missing.json()["code"]) == (404, "attachment_not_found")


async def test_another_users_attachment_cannot_be_changed(client: httpx.AsyncClient) -> None:
    me = await signed_up(client)
    mine = await _attached(client, me, media.jpeg(gps=True))
    other = await signed_up(client)
    changed = await client.patch(
        f"/api/v1/attachments/{mine['id']}", json={"keep_location": True}, headers=other.auth
    )
    assert changed.status_code == 404
    still = (await client.get(f"/api/v1/attachments/{mine['id']}", headers=me.auth)).json()
    assert still["keep_location"] is False


async def test_the_body_limit_refuses_an_upload_before_reading_it(
    settings: Settings, database: Database
) -> None:
    settings.attachments = settings.attachments.model_copy(update={"max_file_bytes": 2048})
    app = create_app(settings, database=database)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://diarist.test") as http:
        response = await http.post(
            "/api/v1/attachments",
            files={"file": ("big.wav", media.wav(seconds=5))},  # 80 KB: past 2 KiB + 64 KiB
            data={"entry_id": str(uuid.uuid4())},
        )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
