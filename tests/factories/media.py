"""Files of every kind an attachment may be, made here (Pillow, wave): nothing downloaded."""

from __future__ import annotations

import io
import math
import struct
import wave

from PIL import Image
from PIL.ExifTags import GPS

GPS_IFD = 0x8825


def jpeg(width: int = 64, height: int = 48, *, gps: bool = False, orientation: int = 1) -> bytes:
    """A JPEG with a camera's EXIF (make, orientation) and, with `gps`, a location."""
    image = Image.new("RGB", (width, height), (200, 80, 40))
    for x in range(0, width, 4):  # some detail, so the pixels are worth comparing
        image.putpixel((x, x * height // width), (10, 200, 30))
    exif = Image.Exif()
    exif[0x010F] = "Camera Maker"
    exif[0x0112] = orientation
    if gps:
        exif[GPS_IFD] = {
            GPS.GPSLatitudeRef: "N", GPS.GPSLatitude: (48.0, 51.0, 29.0),
            GPS.GPSLongitudeRef: "E", GPS.GPSLongitude: (2.0, 17.0, 40.0),
        }  # fmt: skip
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def png(width: int = 40, height: int = 30, *, gps: bool = False) -> bytes:
    image = Image.new("RGBA", (width, height), (0, 0, 255, 128))
    exif = Image.Exif()
    if gps:
        exif[GPS_IFD] = {GPS.GPSLatitudeRef: "S", GPS.GPSLatitude: (33.0, 52.0, 4.0)}
    out = io.BytesIO()
    image.save(out, "PNG", exif=exif)
    return out.getvalue()


def heic(width: int = 32, height: int = 32) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (width, height), "green").save(out, "HEIF")
    return out.getvalue()


def wav(seconds: float = 0.5, rate: int = 8000) -> bytes:
    """A tone, 16-bit mono PCM."""
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
            for n in range(int(seconds * rate))
        )
        file.writeframes(frames)
    return out.getvalue()


def pdf() -> bytes:
    """A one-page PDF (the smallest a reader opens)."""
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
