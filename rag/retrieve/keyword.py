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

from rag.facts.extract import Fact, facts_from_json, facts_json, facts_key
from rag.facts.lexicon import DERIVATION
from rag.glossary import Glossary

_WORD = re.compile(r"[\w\u3400-\u9fff]", re.UNICODE)
STOPWORDS = frozenset(
    (
        "的 了 是 在 和 与 及 或 也 都 而 但 其 为 对 将 把 被 从 以 于 之 等 这 那 有 个 多少 什么 如何 哪些 哪家 是否 吗 呢 吧 啊 年 月 日 约 "
        "the a an of to in on for and or is are was were be what which who how much many does do "
        "did with by at from as it its that this "
    ).split()
)
_added_words: set[str] = set()
Lexicon = tuple[list[list[str]], list[list[str]]]  # (entity groups, term groups)
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

    def __init__(
        self, directory: Path, words: Iterable[str] = (), glossary: Glossary | None = None
    ) -> None:
        # Domain words (the glossary) must segment the same way at build and at query time.
        self.directory = directory
        add_words(words)
        # Users' glossary: facts derived with the index attribute figures with its names too.
        self.glossary = glossary or Glossary()
        self.derivation = f"{DERIVATION}/{facts_key(self.glossary)}"
        self._facts: dict[str, str] = {}  # chunk id -> its facts as stored (parsed on use)
        self._captions: dict[str, str] = {}  # chunk id -> caption of the table it starts in
        self._lock = threading.Lock()
        self._bm25: bm25s.BM25 | None = None
        self._ids: list[str] = []
        self._position: dict[str, int] = {}
        self.version: str | None = None
        # The corpus's names and bilingual terms (rag/facts/lexicon.py), derived with the index,
        # which notes name each entity, and each chunk's note.
        self.lexicon: Lexicon = ([], [])
        self.entity_sources: list[list[str]] = []
        self._chunks_by_source: dict[str, list[str]] = {}

    def build(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        version: str,
        lexicon: Lexicon = ([], []),
        entity_sources: Sequence[Sequence[str]] = (),
        chunk_sources: Sequence[str] = (),
        facts: dict[str, list[Fact]] | None = None,
        captions: dict[str, str] | None = None,
    ) -> None:
        """Index the texts and swap the new index in atomically (readers never see half).
        `captions`: for a chunk that starts inside a table, the caption written before it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".build-", dir=self.directory))
        # The notes' names segment as words, at build and at query time alike.
        add_words(a for group in lexicon[0] + lexicon[1] for a in group)
        bm25 = bm25s.BM25()
        if ids:
            bm25.index(token_ids(texts), show_progress=False)
            bm25.save(str(staging / "bm25"))
        (staging / "ids.json").write_text(json.dumps(list(ids)), encoding="utf-8")
        (staging / "lexicon.json").write_text(
            json.dumps(
                {
                    "entities": lexicon[0],
                    "terms": lexicon[1],
                    "entity_sources": [list(s) for s in entity_sources],
                    "derivation": self.derivation,
                },
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )
        (staging / "sources.json").write_text(json.dumps(list(chunk_sources)), encoding="utf-8")
        stored_facts = {chunk_id: facts_json(f) for chunk_id, f in (facts or {}).items()}
        (staging / "facts.json").write_text(json.dumps(stored_facts), encoding="utf-8")
        (staging / "captions.json").write_text(
            json.dumps(captions or {}, ensure_ascii=False), encoding="utf-8"
        )
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
        self._install(
            bm25 if ids else None,
            list(ids),
            version,
            lexicon,
            [list(s) for s in entity_sources],
            list(chunk_sources),
            stored_facts,
            dict(captions or {}),
        )

    def stored_version(self) -> str | None:
        """The collection version the persisted index was built for; None when there is none,
        or when it was derived by other code (an older lexicon): then it must be rebuilt."""
        try:
            version = (self.directory / "CURRENT").read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None
        try:
            data = json.loads((self.directory / str(version) / "lexicon.json").read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return version if data.get("derivation") == self.derivation else None

    def load(self) -> bool:
        """Load the persisted index; False when there is none."""
        version = self.stored_version()
        if version is None or not (self.directory / version / "ids.json").exists():
            return False
        folder = self.directory / version
        ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        data: dict = {}
        if (folder / "lexicon.json").exists():
            data = json.loads((folder / "lexicon.json").read_text(encoding="utf-8"))
        lexicon: Lexicon = (data.get("entities", []), data.get("terms", []))
        add_words(a for group in lexicon[0] + lexicon[1] for a in group)
        sources = []
        if (folder / "sources.json").exists():
            sources = json.loads((folder / "sources.json").read_text(encoding="utf-8"))
        facts: dict[str, str] = {}
        if (folder / "facts.json").exists():
            facts = json.loads((folder / "facts.json").read_text(encoding="utf-8"))
        captions: dict[str, str] = {}
        if (folder / "captions.json").exists():
            captions = json.loads((folder / "captions.json").read_text(encoding="utf-8"))
        bm25 = bm25s.BM25.load(str(folder / "bm25")) if ids else None
        self._install(
            bm25, ids, version, lexicon, data.get("entity_sources", []), sources, facts, captions
        )
        return True

    def _install(
        self,
        bm25: bm25s.BM25 | None,
        ids: list[str],
        version: str,
        lexicon: Lexicon,
        entity_sources: list[list[str]],
        chunk_sources: list[str],
        facts: dict[str, str],
        captions: dict[str, str] | None = None,
    ) -> None:
        with self._lock:
            self._facts = facts
            self._captions = captions or {}
            self._bm25, self._ids, self.version = bm25, ids, version
            self._position = {chunk_id: i for i, chunk_id in enumerate(ids)}
            self.lexicon = lexicon
            self.entity_sources = entity_sources
            by_source: dict[str, list[str]] = {}
            for chunk_id, source in zip(ids, chunk_sources, strict=False):
                by_source.setdefault(source, []).append(chunk_id)
            self._chunks_by_source = by_source

    def sources_of_entities(self, groups: Iterable[Sequence[str]]) -> set[str]:
        """The notes that name one of these entity groups."""
        wanted = {a.lower() for g in groups for a in g}
        return {
            source
            for group, sources in zip(self.lexicon[0], self.entity_sources, strict=False)
            if wanted & {a.lower() for a in group}
            for source in sources
        }

    def chunks_of_entities(self, groups: Iterable[Sequence[str]]) -> set[str]:
        """Ids of the chunks of every note that names one of these entity groups."""
        notes = self.sources_of_entities(groups)
        return {i for note in notes for i in self._chunks_by_source.get(note, [])}

    def chunks_of_source(self, source: str) -> list[str]:
        """Ids of one note's chunks."""
        return list(self._chunks_by_source.get(source, []))

    def caption_of(self, chunk_id: str) -> str:
        """The caption of the table a chunk starts inside ("表1：…（单位：亿元）"), or ""."""
        return self._captions.get(chunk_id, "")

    def facts_of(self, chunk_id: str) -> list[Fact] | None:
        """The chunk's facts as derived with this index; None when it holds none for it."""
        raw = self._facts.get(chunk_id)
        return facts_from_json(raw) if raw is not None else None

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
