"""`python -m ingest [FOLDER]`: index a folder of notes (default: the configured corpus)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ingest.pipeline import Indexer
from rag.config import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__)
    parser.add_argument("folder", nargs="?", type=Path, help="corpus folder (RNA_CORPUS_DIR)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")

    overrides = {"corpus_dir": args.folder.resolve()} if args.folder else {}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    if not settings.corpus_dir.is_dir():
        print(f"error: {settings.corpus_dir} is not a folder", file=sys.stderr)
        return 2
    report = Indexer(settings).ingest_all(progress=not args.quiet)
    print(
        f"documents {report.documents} | chunks added {report.added}, updated {report.updated}, "
        f"deleted {report.deleted}, unchanged {report.unchanged} | {report.seconds:.1f} s"
    )
    for line in report.skipped:
        print(f"skipped: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
