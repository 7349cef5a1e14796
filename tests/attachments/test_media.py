"""What a file is, read from hostile bytes: any damage to a photo's metadata is a refusal
(DamagedMedia, a 422), never another error; what is kept as a photo's copy without location
has none."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from PIL import Image

from diarist.attachments import media as inspecting
from diarist.attachments.errors import RangeNotSatisfiable
from diarist.attachments.ranges import byte_range
from tests.factories import media

GPS_IFD = 0x8825


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
@pytest.mark.filterwarnings("ignore::UserWarning:PIL")
def test_damaged_exif_is_refused_or_read_never_a_crash(tmp_path: Path) -> None:
    photo = media.jpeg(gps=True)
    start = photo.find(b"Exif\x00\x00")
    length = int.from_bytes(photo[start - 2 : start], "big")
    rng = random.Random(7)  # noqa: S311 - reproducible damage, not secrets
    path = tmp_path / "photo.jpg"
    outcomes = {"read": 0, "refused": 0}
    for _ in range(300):
        damaged = bytearray(photo)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(start + 6, start + length - 2)] = rng.randrange(256)
        path.write_bytes(bytes(damaged))
        try:
            found = inspecting.inspect(path, 64)
        except inspecting.DamagedMedia:
            outcomes["refused"] += 1
            continue
        outcomes["read"] += 1
        if found.without_location is not None:
            kept = Image.open(io.BytesIO(found.without_location))
            assert GPS_IFD not in kept.getexif()
    assert outcomes["read"] > 0


def test_a_jpeg_is_stripped_without_touching_its_pixels() -> None:
    photo = media.jpeg(gps=True, orientation=3)
    stripped = inspecting.strip_jpeg_location(photo)
    before, after = Image.open(io.BytesIO(photo)), Image.open(io.BytesIO(stripped))
    assert GPS_IFD in before.getexif()
    assert GPS_IFD not in after.getexif()
    assert after.getexif()[0x0112] == 3
    assert after.tobytes() == before.tobytes()
    assert stripped[-2:] == photo[-2:] == b"\xff\xd9"


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 10, None), ("bytes=0-4", 10, (0, 5)), ("bytes=5-", 10, (5, 10)),
        ("bytes=-3", 10, (7, 10)), ("bytes=-30", 10, (0, 10)), ("bytes=8-100", 10, (8, 10)),
        ("bytes=5-2", 10, None), ("bytes=0-1,4-5", 10, None), ("items=0-1", 10, None),
        ("bytes=-", 10, None), ("bytes = 2 - 3", 10, (2, 4)),
    ],
)  # fmt: skip
def test_byte_ranges(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, size) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=-0", 10), ("bytes=0-", 0)])
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as raised:
        byte_range(header, size)
    assert raised.value.headers == {"Content-Range": f"bytes */{size}"}
