"""Offline speech to text for voice entries: the word error rate of the models that install
from PyPI with their model inside the wheel, on sentences spoken by espeak-ng: Moonshine base
(moonshine-cpp, what diarist uses) and pocketsphinx 5 (for comparison). Not part of
`make bench` (espeak-ng and pocketsphinx are not dependencies of diarist):

    apt-get install espeak-ng && .venv/bin/pip install pocketsphinx
    .venv/bin/python -m bench.voice

Writes, per model and voice, the transcripts, the word error rate and the CPU seconds per
second of audio to bench/results/voice-latest.json.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

from bench.report import machine, write_results
from diarist.analysis import speech

SENTENCES = (
    "Today I walked along the river with my sister and we talked about moving to Lisbon "
    "next spring.",
    "I felt tired after work but the evening was quiet and I read a good book.",
    "We had coffee in the garden and watched the rain come down over the hills.",
    "My friend called to say she got the new job and I was so happy for her.",
)
VOICES = ("en-us -s 120", "en-us -s 150", "en-us+m3 -s 130")


def pcm_16k(path: Path) -> bytes:
    """A WAV file as 16 kHz mono 16-bit PCM (what the model hears)."""
    with wave.open(str(path)) as audio:
        rate, channels = audio.getframerate(), audio.getnchannels()
        samples = np.frombuffer(audio.readframes(audio.getnframes()), dtype=np.int16)
    mono = samples.reshape(-1, channels).mean(axis=1) if channels > 1 else samples
    then = np.arange(len(mono)) / rate
    now = np.arange(int(len(mono) * 16000 / rate)) / 16000
    return np.interp(now, then, mono).astype(np.int16).tobytes()


def word_errors(reference: str, heard: str) -> int:
    """Word-level edit distance (substitutions, insertions, deletions)."""
    ref, hyp = reference.split(), heard.split()
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        diagonal, row[0] = row[0], i
        for j, other in enumerate(hyp, 1):
            above = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, diagonal + (word != other))
            diagonal = above
    return row[-1]


def _pocketsphinx() -> Any:
    from pocketsphinx import Decoder  # not a dependency of diarist: imported only here

    decoder = Decoder()

    def heard(path: Path) -> str:
        decoder.start_utt()
        decoder.process_raw(pcm_16k(path), full_utt=True)
        decoder.end_utt()
        return decoder.hyp().hypstr if decoder.hyp() else ""

    return heard


def _moonshine() -> Any:
    def heard(path: Path) -> str:
        samples = np.frombuffer(pcm_16k(path), dtype=np.int16)
        resampled = path.with_suffix(".16k.wav")
        with wave.open(str(resampled), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(16000)
            out.writeframes(samples.tobytes())
        return speech.transcribe_file(resampled, "audio/wav")

    return heard


def run() -> dict[str, Any]:
    engines = {"moonshine-base-en (moonshine-cpp 0.1.4)": _moonshine(),
               "pocketsphinx 5 en-us": _pocketsphinx()}  # fmt: skip
    espeak = shutil.which("espeak-ng") or "espeak-ng"
    cells = []
    with tempfile.TemporaryDirectory() as tmp:
        for voice in VOICES:
            clips = []
            for number, sentence in enumerate(SENTENCES):
                path = Path(tmp) / f"{number}.wav"
                command = [espeak, "-v", *voice.split(), "-w", str(path), sentence]
                subprocess.run(command, check=True)
                clips.append((path, sentence))
            for name, transcribe in engines.items():
                errors = words = 0
                audio_s = cpu_s = 0.0
                heard_all = []
                for path, sentence in clips:
                    started = time.process_time()
                    heard = re.sub(r"[^a-z' ]", "", transcribe(path).lower())
                    cpu_s += time.process_time() - started
                    audio_s += len(pcm_16k(path)) / 32000
                    reference = re.sub(r"[^a-z' ]", "", sentence.lower())
                    errors += word_errors(reference, heard)
                    words += len(reference.split())
                    heard_all.append(heard)
                cells.append({
                    "model": name, "voice": voice,
                    "word_error_rate": round(errors / words, 3),
                    "cpu_s_per_audio_s": round(cpu_s / audio_s, 3), "heard": heard_all,
                })  # fmt: skip
    return {"machine": machine(), "sentences": len(SENTENCES), "cells": cells}


def main() -> None:
    print(write_results(run(), "voice", "voice-latest"))


if __name__ == "__main__":
    main()
