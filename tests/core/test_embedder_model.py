"""The MiniLM embedder: bfloat16 (torch) or 8-bit weights (onnx) where the CPU multiplies them
natively, the same vectors as float32 to a cosine of 0.9999 (bfloat16) or 0.997 (8-bit), and one
text at a time exactly as in a batch."""

from __future__ import annotations

import numpy as np
import pytest

import alma_app.embeddings as embeddings
from alma_app.embeddings import (
    MiniLMEmbedder,
    cpu_has_native_bf16,
    cpu_has_native_int8,
    onnx_threads,
    torch_threads,
)
from alma_app.errors import ConfigError

TEXTS = [
    "use data-testid selectors for the checkout button",
    "the orders endpoint times out under load",
    "ERR_DB_6015 appears when the replica lags",
    "x",
]


@pytest.mark.parametrize(
    ("native", "with_it", "without_it"),
    [
        (cpu_has_native_bf16, "avx512f avx512_bf16 avx512_vnni", "avx2"),
        (cpu_has_native_int8, "avx2 avx_vnni", "avx2 avx512f"),
    ],
)
def test_native_bfloat16_and_int8_are_read_from_the_cpu_flags(
    tmp_path, native, with_it, without_it
):
    has, lacks = tmp_path / "new", tmp_path / "old"
    has.write_text(f"processor: 0\nflags\t\t: fpu sse2 {with_it}\n")
    lacks.write_text(f"processor: 0\nflags\t\t: fpu sse2 {without_it}\n")
    assert native(str(has))
    assert not native(str(lacks))
    assert not native(str(tmp_path / "missing"))


def test_auto_precision_runs_the_8_bit_graph_only_where_the_cpu_multiplies_int8(monkeypatch):
    pytest.importorskip("onnxruntime")
    for native, expected in ((True, "int8"), (False, "float32")):
        monkeypatch.setattr(embeddings, "cpu_has_native_int8", lambda native=native: native)
        assert MiniLMEmbedder(backend="onnx").precision == expected
        assert MiniLMEmbedder(precision="float32", backend="onnx").precision == "float32"
        assert MiniLMEmbedder(precision="int8", backend="onnx").precision == "int8"


@pytest.mark.model
def test_where_the_8_bit_graph_cannot_be_made_auto_runs_the_float32_one(minilm, monkeypatch):
    pytest.importorskip("onnxruntime")
    import alma_app.onnx_minilm as onnx_minilm

    made = onnx_minilm.exported_model

    def float32_only(precision: str = "float32"):
        if precision == "int8":
            raise onnx_minilm.ExportFailed("no onnx_ir here")
        return made(precision)

    monkeypatch.setattr(onnx_minilm, "exported_model", float32_only)
    monkeypatch.setattr(MiniLMEmbedder, "_onnx", {})  # nothing loaded yet, as in a new process
    monkeypatch.setattr(MiniLMEmbedder, "_onnx_failed", {})
    monkeypatch.setattr(embeddings, "cpu_has_native_int8", lambda: True)
    chosen = MiniLMEmbedder(backend="auto")
    assert chosen.precision == "int8"
    vector = chosen.embed(TEXTS[:1])
    assert (chosen.backend, chosen.precision) == ("onnx", "float32")  # not torch
    expected = MiniLMEmbedder(precision="float32", backend="onnx").embed(TEXTS[:1])
    assert float(vector[0] @ expected[0]) > 0.99999
    asked = MiniLMEmbedder(precision="int8", backend="onnx")
    with pytest.raises(ConfigError) as info:  # asked for by name: say so, do not stand in
        asked.embed(TEXTS[:1])
    assert "no onnx_ir here" in str(info.value)


def test_int8_is_not_asked_of_the_torch_backend():
    with pytest.raises(ConfigError) as info:
        MiniLMEmbedder(precision="int8", backend="torch")
    assert info.value.key == "embedding_precision"
    assert "onnx" in str(info.value)


def test_the_model_gets_half_the_cores_between_one_and_four():
    assert [torch_threads(n) for n in (1, 2, 3, 4, 8, 64)] == [1, 1, 1, 2, 4, 4]


def test_onnx_runtime_gets_both_cores_of_two_and_half_of_more():
    assert [onnx_threads(n) for n in (1, 2, 3, 4, 8, 64)] == [1, 2, 2, 2, 4, 4]


def test_an_unknown_precision_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigError) as info:
        MiniLMEmbedder(precision="int4")
    assert info.value.key == "embedding_precision"


@pytest.mark.model
def test_bfloat16_and_float32_give_the_same_vectors(minilm):
    float32 = MiniLMEmbedder(precision="float32").embed(TEXTS)
    bfloat16 = MiniLMEmbedder(precision="bfloat16").embed(TEXTS)
    cosines = (float32 * bfloat16).sum(axis=1)
    assert cosines.min() > 0.999, cosines
    assert np.allclose(np.linalg.norm(bfloat16, axis=1), 1.0, atol=1e-5)


@pytest.mark.model
@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_one_text_alone_embeds_as_it_does_in_a_batch(minilm, precision):
    embedder = MiniLMEmbedder(precision=precision)
    batch = embedder.embed(TEXTS)
    for text, expected in zip(TEXTS, batch, strict=True):
        alone = embedder.embed([text])[0]
        assert alone.dtype == np.float32
        assert float(alone @ expected) > 0.9999


def test_an_unknown_backend_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigError) as info:
        MiniLMEmbedder(backend="tensorrt")
    assert info.value.key == "embedding_backend"


def test_bfloat16_is_not_asked_of_the_float32_onnx_backend():
    with pytest.raises(ConfigError) as info:
        MiniLMEmbedder(precision="bfloat16", backend="onnx")
    assert info.value.key == "embedding_precision"


@pytest.mark.model
@pytest.mark.parametrize(("precision", "closest"), [("float32", 0.9999), ("int8", 0.997)])
def test_onnx_runtime_gives_the_sentence_transformers_vectors(minilm, precision, closest):
    """The ONNX export runs the same weights: every vector within cosine 0.9999 of
    sentence-transformers float32 (0.997 with 8-bit weights), on a few hundred real texts (and
    odd ones)."""
    pytest.importorskip("onnxruntime")
    from benchmarks.quality_set import build

    corpus, queries = build()
    texts = [
        *(i.fact for i in corpus),
        *(q.text for q in queries),
        *TEXTS,
        "word " * 400,
        "Ünïcödé — emoji 🎉 中文",
    ]
    torch_vectors = MiniLMEmbedder(precision="float32", backend="torch").embed(texts)
    onnx = MiniLMEmbedder(precision=precision, backend="onnx")
    batch = onnx.embed(texts)
    alone = np.stack([onnx.embed([text])[0] for text in texts[:50]])
    assert (onnx.backend, onnx.precision) == ("onnx", precision)
    assert (torch_vectors * batch).sum(axis=1).min() > closest
    assert (torch_vectors[:50] * alone).sum(axis=1).min() > closest
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)


@pytest.mark.model
def test_a_batch_of_mixed_lengths_keeps_the_callers_order(minilm):
    """Batches are made of similar lengths (less padding); the rows come back as asked."""
    texts = [
        "short",
        "a much longer text about the flaky login test that fails on the checkout page " * 4,
        "medium length text about a test",
        "x",
    ] * 20
    together = minilm.embed(texts)
    alone = np.stack([minilm.embed([t])[0] for t in texts[:4]])
    assert together.shape == (len(texts), minilm.dim)
    assert np.allclose(together[:4], alone, atol=1e-4)
    assert np.allclose(together[4:8], alone, atol=1e-4)
