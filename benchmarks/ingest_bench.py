"""Ingest time of one note, by stage: load + clean + chunk, embed + write (the shipped e5
embedder, a real Chroma), and the keyword index with its facts (rag/facts/extract.py). Prints chunks/s
and facts/s; the issue's target is a 3,000-character note in <= 10 s, facts included.

    .venv/bin/python benchmarks/ingest_bench.py [NOTE ...]   # default: the out-of-domain notes

Figures only, no asserts. Each note is ingested into a fresh data dir (a first ingest: the
embedder load is reported on its own, since a running service has it loaded already).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
for key, value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
}.items():
    os.environ.setdefault(key, value)

NOTES = Path(__file__).resolve().parent.parent / "eval" / "ood" / "notes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notes", nargs="*", type=Path)
    args = parser.parse_args()
    notes = args.notes or sorted(p for p in NOTES.iterdir() if p.is_file())

    from ingest.pipeline import Indexer, prepare
    from rag.config import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", corpus_dir=Path(tmp) / "corpus")
        indexer = Indexer(settings)
        started = time.perf_counter()
        indexer.embeddings.embed_query("warm up")
        print(f"embedder load: {time.perf_counter() - started:.1f} s (once per process)")
        print(
            f"{'note':36} {'chars':>6} {'chunks':>6} {'facts':>6} {'prepare s':>9} "
            f"{'embed+write s':>13} {'keyword+facts s':>15} {'total s':>8} "
            f"{'chunks/s':>8} {'facts/s':>8}"
        )
        for note in notes:
            data = note.read_bytes()
            t0 = time.perf_counter()
            prepared = prepare(note.name, note.name, data, settings.chunk_max_chars)
            t1 = time.perf_counter()
            report = indexer.ingest_document(note.name, note.name, data)  # embeds, writes, derives
            t2 = time.perf_counter()
            keyword_started = time.perf_counter()
            indexer.rebuild_keyword_index()  # timed alone: BM25 + lexicon + every chunk's facts
            t3 = time.perf_counter()
            ids = indexer.keyword_index.chunks_of_source(note.name)
            facts = sum(len(indexer.keyword_index.facts_of(i) or []) for i in ids)
            chars = sum(len(c.text) for c in prepared.chunks)
            embed_write = (t2 - t1) - (t3 - keyword_started)  # ingest_document rebuilt it too
            total = t2 - t0
            print(
                f"{note.name[:36]:36} {chars:>6} {len(ids):>6} {facts:>6} {t1 - t0:>9.2f} "
                f"{max(embed_write, 0.0):>13.2f} {t3 - keyword_started:>15.2f} {total:>8.2f} "
                f"{len(ids) / total:>8.1f} {facts / total:>8.1f}"
                + ("" if report.added or report.updated else "  (unchanged)")
            )


if __name__ == "__main__":
    main()
