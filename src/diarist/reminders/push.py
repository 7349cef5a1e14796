"""Web Push: a reminder shown by the user's browsers even with diarist closed. The payload is
encrypted for each browser's subscription (RFC 8291, aes128gcm, by pywebpush) and the request
carries this server's VAPID signature (RFC 8292, py-vapid); it is sent with our own HTTP
client, like a webhook."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from py_vapid.utils import b64urlencode
from pywebpush import WebPusher

from diarist.config import Settings
from diarist.kit.key_files import secret_file

VAPID_FILE = "vapid_private_key.pem"
# A push service keeps an undelivered reminder this long (the browser may be offline).
TTL_S = 12 * 3600


@dataclass(frozen=True)
class Subscription:
    id: str
    endpoint: str
    p256dh: str
    auth: str


def vapid_key(settings: Settings) -> Vapid02:
    """The server's VAPID key: from the settings, or the data dir's (made once)."""
    configured = settings.reminders.vapid_private_key
    if configured is not None:
        return _parsed_key(configured.get_secret_value())
    return _key_file(settings.data_dir / VAPID_FILE)


def _parsed_key(value: str) -> Vapid02:
    value = value.strip()
    if value.startswith("-----BEGIN"):
        return Vapid02.from_pem(value.encode())
    return Vapid02.from_string(value)


@lru_cache(maxsize=4)
def _key_file(path: Path) -> Vapid02:
    def make() -> bytes:
        key = Vapid02()
        key.generate_keys()
        pem: bytes = key.private_pem()
        return pem

    # The API and the worker may start together: the first to make it wins.
    return Vapid02.from_pem(secret_file(path, make))


def application_server_key(key: Vapid02) -> str:
    """The public key a browser subscribes with (`applicationServerKey`), base64url."""
    raw = key.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    encoded: str = b64urlencode(raw)
    return encoded


def push_request(
    key: Vapid02, subject: str, subscription: Subscription, message: dict[str, Any]
) -> tuple[dict[str, str], bytes]:
    """The headers and encrypted body of one push to one browser."""
    pusher = WebPusher(
        {"endpoint": subscription.endpoint,
         "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
    )  # fmt: skip
    encoded = pusher.encode(json.dumps(message).encode(), "aes128gcm")
    parts = urlsplit(subscription.endpoint)
    claims = {"sub": subject, "aud": f"{parts.scheme}://{parts.netloc}",
              "exp": int(time.time()) + 12 * 3600}  # fmt: skip
    headers = {
        **key.sign(claims),
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        "TTL": str(TTL_S),
        "Urgency": "normal",
    }
    body: bytes = encoded["body"]
    return headers, body
