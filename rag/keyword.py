"""Chinese/English keyword search: rjieba tokens scored by BM25 (bm25s).

The index is derived from what Chroma holds (Chroma is the source of truth) and stamped with
the collection's ingest version, so any replica can tell when to rebuild it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import bm25s
import numpy as np
import rjieba

_WORD = re.compile(r"[\w\u3400-\u9fff]", re.UNICODE)
STOPWORDS = frozenset(
    (
        "的 了 是 在 和 与 及 或 也 都 而 但 其 为 对 将 把 被 从 以 于 之 等 这 那 有 个 多少 什么 如何 哪些 哪家 是否 吗 呢 吧 啊 年 月 日 约 "
        "the a an of to in on for and or is are was were be what which who how much many does do "
        "did with by at from as it its that this "
    ).split()
)
_added_words: set[str] = set()
_words_lock = threading.Lock()


def add_words(words: Iterable[str]) -> None:
    """Teach the segmenter domain words (glossary terms like 英伟达, 工业富联) once."""
    with _words_lock:
        for word in words:
            word = word.strip()
            if word and word not in _added_words and not word.isascii():
                rjieba.add_word(word, None, None)
                _added_words.add(word)


_LETTERS_DIGITS = re.compile(r"[a-z]+|\d+(?:\.\d+)?|[^a-z\d]+")


def tokenize(text: str) -> list[str]:
    """Search tokens: jieba words, with runs like "nv2025" split into "nv" and "2025"."""
    tokens = []
    for token in rjieba.cut_for_search(text.lower()):
        token = token.strip()
        parts = _LETTERS_DIGITS.findall(token) if token.isascii() else [token]
        for part in parts:
            if part and _WORD.search(part) and part not in STOPWORDS:
                tokens.append(part)
    return tokens


def token_ids(texts: Iterable[str]) -> tuple[list[list[int]], dict[str, int]]:
    """Each text's tokens as vocabulary ids, the vocabulary built as it goes (bm25s's input).

    Only one text's token strings live at a time: at 100k chunks the strings of the whole
    corpus took ~0.5 GB (4.6 KB a chunk), the id lists take 8 bytes a token."""
    vocab: dict[str, int] = {}
    corpus = [[vocab.setdefault(t, len(vocab)) for t in tokenize(text) or [""]] for text in texts]
    return corpus, vocab


class KeywordIndex:
    """BM25 over chunk texts, persisted under `directory/<version>/`, `CURRENT` names the live one."""

    def __init__(self, directory: Path, words: Iterable[str] = ()) -> None:
        # Domain words (the glossary) must segment the same way at build and at query time.
        self.directory = directory
        add_words(words)
        self._lock = threading.Lock()
        self._bm25: bm25s.BM25 | None = None
        self._ids: list[str] = []
        self._position: dict[str, int] = {}
        self.version: str | None = None

    def build(self, ids: Sequence[str], texts: Sequence[str], version: str) -> None:
        """Index the texts and swap the new index in atomically (readers never see half)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".build-", dir=self.directory))
        bm25 = bm25s.BM25()
        if ids:
            bm25.index(token_ids(texts), show_progress=False)
            bm25.save(str(staging / "bm25"))
        (staging / "ids.json").write_text(json.dumps(list(ids)), encoding="utf-8")
        final = self.directory / version
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
        pointer = self.directory / ".CURRENT.tmp"
        pointer.write_text(version, encoding="utf-8")
        os.replace(pointer, self.directory / "CURRENT")
        for old in self.directory.iterdir():
            if old.is_dir() and old.name != version:
                shutil.rmtree(old, ignore_errors=True)
        self._install(bm25 if ids else None, list(ids), version)

    def stored_version(self) -> str | None:
        try:
            return (self.directory / "CURRENT").read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def load(self) -> bool:
        """Load the persisted index; False when there is none."""
        version = self.stored_version()
        if version is None or not (self.directory / version / "ids.json").exists():
            return False
        folder = self.directory / version
        ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        bm25 = bm25s.BM25.load(str(folder / "bm25")) if ids else None
        self._install(bm25, ids, version)
        return True

    def _install(self, bm25: bm25s.BM25 | None, ids: list[str], version: str) -> None:
        with self._lock:
            self._bm25, self._ids, self.version = bm25, ids, version
            self._position = {chunk_id: i for i, chunk_id in enumerate(ids)}

    def __len__(self) -> int:
        return len(self._ids)

    def search(
        self, query: str | list[str], k: int, allowed_ids: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score) with score > 0, optionally only among allowed ids."""
        tokens = tokenize(query) if isinstance(query, str) else query
        with self._lock:
            bm25, ids, position = self._bm25, self._ids, self._position
        if bm25 is None or not tokens:
            return []
        scores = bm25.get_scores(tokens)
        if allowed_ids is not None:
            mask = np.zeros(len(ids), dtype=bool)
            mask[[position[i] for i in allowed_ids if i in position]] = True
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(ids))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(ids) else np.arange(len(ids))
        ranked = sorted(top, key=lambda i: -scores[i])
        return [(ids[i], float(scores[i])) for i in ranked if scores[i] > 0]
