"""What an uploaded file is, from its bytes (never its name): its media type and kind, and for
images their size, whether they carry a location (EXIF GPS), a thumbnail and a copy without
the location. Everything here is synchronous and CPU-bound: callers run it in a thread."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import filetype
import pillow_heif
from PIL import Image, ImageOps

pillow_heif.register_heif_opener()

# A photo above this many pixels is refused (Pillow decodes every pixel of a thumbnail's
# source); 200 megapixels is twice a medium-format camera's.
MAX_IMAGE_PIXELS = 200_000_000
# Checked by `inspect` itself before decoding (Pillow's own check warns process-wide).
Image.MAX_IMAGE_PIXELS = None

# The media types kept, by what their bytes say (filetype's name -> ours), and their kind.
MEDIA_TYPES: dict[str, tuple[str, str]] = {
    "image/jpeg": ("image/jpeg", "image"),
    "image/png": ("image/png", "image"),
    "image/apng": ("image/png", "image"),
    "image/gif": ("image/gif", "image"),
    "image/webp": ("image/webp", "image"),
    "image/heic": ("image/heic", "image"),
    "image/avif": ("image/avif", "image"),
    "audio/mpeg": ("audio/mpeg", "audio"),
    "audio/mp4": ("audio/mp4", "audio"),
    "audio/aac": ("audio/aac", "audio"),
    "audio/ogg": ("audio/ogg", "audio"),
    "audio/x-flac": ("audio/flac", "audio"),
    "audio/x-wav": ("audio/wav", "audio"),
    "audio/amr": ("audio/amr", "audio"),
    "video/mp4": ("video/mp4", "video"),
    "video/x-m4v": ("video/mp4", "video"),
    "video/quicktime": ("video/quicktime", "video"),
    "video/webm": ("video/webm", "video"),
    "video/x-matroska": ("video/x-matroska", "video"),
    "video/3gpp": ("video/3gpp", "video"),
    "application/pdf": ("application/pdf", "pdf"),
}
# The usual file name ending of each kept type (exports name files by content).
EXTENSIONS = {
    "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
    "image/heic": "heic", "image/avif": "avif", "audio/mpeg": "mp3", "audio/mp4": "m4a",
    "audio/aac": "aac", "audio/ogg": "ogg", "audio/flac": "flac", "audio/wav": "wav",
    "audio/amr": "amr", "video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm",
    "video/x-matroska": "mkv", "video/3gpp": "3gp", "application/pdf": "pdf",
}  # fmt: skip
_SNIFF_BYTES = 8192
_GPS_IFD = 0x8825
_ORIENTATION = 0x0112
_XMP = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_EXTENDED = b"http://ns.adobe.com/xmp/extension/\x00"
_XMP_GPS = b"exif:GPS"
_TOO_LARGE = f"Images are limited to {MAX_IMAGE_PIXELS:,} pixels."
_EXIF = b"Exif\x00\x00"


class UnsupportedMedia(Exception):
    """The bytes are not a type we keep."""


class DamagedMedia(Exception):
    """The bytes claim a type they do not hold (an image Pillow cannot decode)."""


@dataclass(frozen=True)
class Inspected:
    media_type: str
    kind: str
    width: int | None = None
    height: int | None = None
    has_location: bool = False
    # JPEG bytes of the thumbnail and of the copy without location, when there are any.
    thumbnail: bytes | None = None
    without_location: bytes | None = None


def sniff(head: bytes) -> tuple[str, str]:
    """The media type and kind of a file from its first bytes."""
    guessed = filetype.guess(head[:_SNIFF_BYTES])
    if guessed is None or guessed.mime not in MEDIA_TYPES:
        raise UnsupportedMedia(
            "Attachments are photos (JPEG, PNG, GIF, WebP, HEIC, AVIF), audio (MP3, M4A, AAC, "
            "Ogg, FLAC, WAV, AMR), video (MP4, QuickTime, WebM, Matroska, 3GP) or PDF; this "
            f"file is {'of a type not kept' if guessed else 'of no type recognised'}"
            f"{f' ({guessed.mime})' if guessed else ''}."
        )
    return MEDIA_TYPES[guessed.mime]


def inspect(path: Path, thumbnail_px: int) -> Inspected:
    """What the file at `path` is; for an image, its size as shown (EXIF orientation applied),
    whether it carries a location, its thumbnail and, with a location, a copy without it."""
    with path.open("rb") as file:
        media_type, kind = sniff(file.read(_SNIFF_BYTES))
    if kind != "image":
        return Inspected(media_type, kind)
    try:
        return _inspect_image(path, media_type, thumbnail_px)
    except DamagedMedia:
        raise
    except Exception:  # a decoder meets hostile bytes: any error of it is theirs
        raise DamagedMedia(f"The file says it is {media_type} but cannot be read as one.") from None


def _inspect_image(path: Path, media_type: str, thumbnail_px: int) -> Inspected:
    with Image.open(path) as image:
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:  # before a pixel is decoded
            raise DamagedMedia(_TOO_LARGE)
        exif = image.getexif()
        has_location = _GPS_IFD in exif or _xmp_has_location(image)
        if exif.get(_ORIENTATION) in (5, 6, 7, 8):  # turned a quarter: shown the other way
            width, height = height, width
        if media_type == "image/jpeg":  # decode at the thumbnail's scale (8x faster)
            image.draft("RGB", (thumbnail_px, thumbnail_px))
        shown = ImageOps.exif_transpose(image)
        preview = shown.copy()
        preview.thumbnail((thumbnail_px, thumbnail_px))
        thumbnail = _jpeg(preview, quality=80)
        without = None
        if has_location:
            if media_type == "image/jpeg":
                without = strip_jpeg_location(path.read_bytes())
            if without is None or _has_location(without):
                # re-encoded: a JPEG whose metadata we could not cut cleanly, and other formats
                # (rare with a location: phones write JPEG or HEIC)
                without = _jpeg(shown, quality=92)
    return Inspected(media_type, "image", width, height, has_location, thumbnail, without)


def _xmp_has_location(image: Image.Image) -> bool:
    """XMP (which may repeat the location, or hold it alone) names a GPS coordinate."""
    xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp") or b""
    return _XMP_GPS in (xmp.encode() if isinstance(xmp, str) else bytes(xmp))


def _has_location(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        return _GPS_IFD in image.getexif() or _xmp_has_location(image)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    """`image` as a JPEG without metadata (transparency over white)."""
    if image.mode not in ("RGB", "L"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def strip_jpeg_location(data: bytes) -> bytes:
    """A JPEG's bytes without its location, losslessly: the pixels untouched, the EXIF block
    rewritten without its GPS directory, XMP (which may repeat the location) dropped."""
    if data[:2] != b"\xff\xd8":
        raise DamagedMedia("The file says it is image/jpeg but cannot be read as one.")
    out, pos = bytearray(data[:2]), 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise DamagedMedia("The file says it is image/jpeg but cannot be read as one.")
        if data[pos + 1] == 0xFF:  # a fill byte before a marker (T.81 B.1.1.2)
            pos += 1
            continue
        marker = data[pos + 1]
        if marker == 0xDA:  # start of scan: the compressed image follows, no metadata after
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        segment = data[pos : pos + 2 + length]
        payload = segment[4:]
        if marker == 0xE1 and payload.startswith(_EXIF):
            segment = _exif_segment_without_gps(payload)
        elif marker == 0xE1 and payload.startswith((_XMP, _XMP_EXTENDED)):
            segment = b""
        out += segment
        pos += 2 + length
    out += data[pos:]
    return bytes(out)


def _exif_segment_without_gps(payload: bytes) -> bytes:
    exif = Image.Exif()
    exif.load(payload)
    exif.pop(_GPS_IFD, None)
    body = exif.tobytes()
    if not body.startswith(_EXIF):
        body = _EXIF + body
    if len(body) > 0xFFFD:
        raise DamagedMedia("The photo's EXIF block is larger than a JPEG segment can hold.")
    return b"\xff\xe1" + (len(body) + 2).to_bytes(2, "big") + body
