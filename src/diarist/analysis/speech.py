"""Speech to text on this machine: Moonshine's base English model, shipped inside the
moonshine-cpp wheel (MIT; its own ONNX runtime in C, loaded through ctypes). Nothing is
downloaded: the model is the package's. WAV recordings are read here; other formats (M4A,
MP3, Ogg, video) need Debian's `ffmpeg` to decode them. Long recordings are cut at their
quietest moment near every 20 seconds (Moonshine's cost grows faster than the length).
Blocking and CPU-bound: the worker runs it in a thread."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import tempfile
import threading
import wave
from pathlib import Path
from typing import Any

import numpy as np

MODEL = "moonshine-base-en"
SAMPLE_RATE = 16_000
PIECE_SECONDS = 20
# The longest recording transcribed (a voice note, not an audiobook): longer ones are refused.
MAX_SECONDS = 30 * 60
# Where a piece may end: the quietest half second within this many seconds of its mark.
_SEARCH_SECONDS = 4
_lock = threading.Lock()
_model: Any = None


class SpeechError(Exception):
    """The recording cannot be transcribed here (its format, or no model installed)."""


def available() -> bool:
    """The offline model is installed (moonshine-cpp has wheels for Linux x86-64 and macOS
    on Apple silicon)."""
    return importlib.util.find_spec("moonshine_cpp") is not None


def can_decode(media_type: str) -> bool:
    return media_type == "audio/wav" or shutil.which("ffmpeg") is not None


def transcribe_file(path: Path, media_type: str) -> str:
    """The text of a recording (a file of `media_type`); SpeechError for anything that
    cannot be transcribed (its format, its length, the model failing)."""
    try:
        return _transcribe(path, media_type)
    except SpeechError:
        raise
    except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as exc:
        raise SpeechError(
            f"The recording could not be transcribed ({type(exc).__name__})."
        ) from None


def _transcribe(path: Path, media_type: str) -> str:
    samples = _decode(path, media_type)
    if not len(samples):
        return ""
    model = _loaded()
    texts = []
    with tempfile.TemporaryDirectory(prefix="diarist-speech-") as tmp:
        for number, piece in enumerate(_pieces(samples)):
            wav = Path(tmp) / f"{number}.wav"
            with wave.open(str(wav), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(SAMPLE_RATE)
                out.writeframes(piece.astype(np.int16).tobytes())
            with _lock:  # one model, one caller at a time
                texts.append(str(model.transcribe_wav(str(wav))).strip())
    return " ".join(text for text in texts if text)


def _loaded() -> Any:
    global _model
    if not available():
        raise SpeechError("No offline speech model is installed (moonshine-cpp).")
    with _lock:
        if _model is None:
            import moonshine_cpp  # optional, and it loads a C library: only when used

            # The base English model inside the wheel: a language and type, never a path or
            # an address (which would make it download).
            _model = moonshine_cpp.MoonshineModel(language="en", model_type="base")
    return _model


def _decode(path: Path, media_type: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The recording as 16 kHz mono samples (int16 range, as floats)."""
    if media_type == "audio/wav":
        try:
            with wave.open(str(path)) as audio:
                rate, channels, width = (
                    audio.getframerate(), audio.getnchannels(), audio.getsampwidth()
                )  # fmt: skip
                frames = audio.readframes(audio.getnframes())
        except (wave.Error, EOFError) as exc:
            raise SpeechError(f"The WAV file cannot be read ({exc}).") from None
        if width not in (1, 2) or channels < 1 or not 8_000 <= rate <= 96_000:
            raise SpeechError("Only 8- and 16-bit PCM WAV at 8-96 kHz can be read here.")
        if len(frames) / (width * channels * rate) > MAX_SECONDS:
            raise SpeechError(f"Recordings of up to {MAX_SECONDS // 60} minutes are transcribed.")
        kind = np.uint8 if width == 1 else np.int16
        data = np.frombuffer(frames, dtype=kind).astype(np.float64)
        if width == 1:
            data = (data - 128) * 256
        data = data[: len(data) - len(data) % channels].reshape(-1, channels).mean(axis=1)
        return _resampled(data, rate)
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SpeechError("Only WAV recordings can be transcribed on this server (no ffmpeg).")
    # The file on stdin and only the pipe protocol: a crafted container names no other file
    # or address for ffmpeg to open; `-t`: never more than MAX_SECONDS of samples.
    with path.open("rb") as source:
        decoded = subprocess.run(  # noqa: S603 - our own arguments
            [ffmpeg, "-v", "error", "-protocol_whitelist", "pipe", "-i", "pipe:0", "-vn",
             "-t", str(MAX_SECONDS), "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "s16le", "-"],
            stdin=source, capture_output=True, check=False, timeout=600,
        )  # fmt: skip
    if decoded.returncode != 0:
        raise SpeechError("The recording cannot be decoded.")
    return np.frombuffer(decoded.stdout, dtype=np.int16).astype(np.float64)


def _resampled(
    data: np.ndarray[Any, np.dtype[np.float64]], rate: int
) -> np.ndarray[Any, np.dtype[np.float64]]:
    if rate == SAMPLE_RATE or not len(data):
        return data
    then = np.arange(len(data)) / rate
    now = np.arange(int(len(data) * SAMPLE_RATE / rate)) / SAMPLE_RATE
    return np.asarray(np.interp(now, then, data), dtype=np.float64)


def _pieces(
    samples: np.ndarray[Any, np.dtype[np.float64]],
) -> list[np.ndarray[Any, np.dtype[np.float64]]]:
    """The recording in pieces of about PIECE_SECONDS, each cut at the quietest half second
    near its mark (not inside a word, as far as loudness tells)."""
    step, half = PIECE_SECONDS * SAMPLE_RATE, SAMPLE_RATE // 2
    pieces, start = [], 0
    while len(samples) - start > step + _SEARCH_SECONDS * SAMPLE_RATE:
        low = start + step - _SEARCH_SECONDS * SAMPLE_RATE
        window = np.abs(samples[low : low + 2 * _SEARCH_SECONDS * SAMPLE_RATE])
        running = np.concatenate(([0.0], np.cumsum(window)))
        energy = running[half:] - running[:-half]  # each half second's loudness
        cut = low + int(np.argmin(energy)) + half // 2
        pieces.append(samples[start:cut])
        start = cut
    pieces.append(samples[start:])
    return pieces
