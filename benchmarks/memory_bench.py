"""Resident memory per part of the serving process: what each component adds when the service
starts (imports, embedder, Chroma + keyword index, LLM, Gradio UI), in the order the app loads
them, measured in one process as the RSS after each step. Figures only, no asserts:

    .venv/bin/python benchmarks/memory_bench.py [--data-dir data] [--no-llm] [--no-ui]

Run it against a data directory that holds an index (`make run` builds ./data). The LLM runs
in-process (llama.cpp's server in a thread), so its weights are part of this process's RSS.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def rss_mb() -> float:
    import psutil

    gc.collect()
    return psutil.Process().memory_info().rss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--corpus-dir", type=Path, default=None)
    parser.add_argument("--no-llm", action="store_true")
    parser.add_argument("--no-ui", action="store_true")
    args = parser.parse_args()

    rows: list[tuple[str, float, float, float]] = []  # part, RSS after, added, seconds
    last = rss_mb()
    rows.append(("python + psutil", last, last, 0.0))

    def step(part: str, work) -> None:  # type: ignore[no-untyped-def]
        nonlocal last
        started = time.perf_counter()
        work()
        now = rss_mb()
        rows.append((part, now, now - last, time.perf_counter() - started))
        last = now

    holder: dict[str, object] = {}

    def imports() -> None:
        import api.main  # noqa: F401  (FastAPI app factory, rag, langchain, chromadb)

    def settings() -> None:
        from rag.assistant import build_assistant
        from rag.config import Settings

        llm = "none" if args.no_llm else "llamacpp"
        corpus = args.corpus_dir or Settings().corpus_dir
        holder["settings"] = Settings(data_dir=args.data_dir, corpus_dir=corpus, llm=llm)  # type: ignore[arg-type]
        holder["assistant"] = build_assistant(holder["settings"])  # type: ignore[arg-type]

    def embedder() -> None:
        holder["assistant"].embeddings.embed_query("warm up")  # type: ignore[attr-defined]

    def index() -> None:
        assistant = holder["assistant"]
        _ = assistant.retriever  # type: ignore[attr-defined]
        assistant.ask(  # type: ignore[attr-defined]
            __import__("rag.types", fromlist=["AskRequest"]).AskRequest(
                question="英伟达2026年AEC需求量是多少？"
            ),
            use_llm=False,
        )

    def llm() -> None:
        from rag.llm import warm_up

        warm_up(holder["assistant"].llm)  # type: ignore[attr-defined]

    def ui() -> None:
        from ingest.library import build_library
        from ui.app import build_ui

        library = build_library(holder["settings"])  # type: ignore[arg-type]
        holder["ui"] = build_ui(holder["assistant"], library)  # type: ignore[arg-type]

    step("imports (FastAPI app, rag, LangChain, Chroma client)", imports)
    step("assistant object (cheap constructor)", settings)
    step("embedder (e5-small, sentence-transformers, bf16)", embedder)
    step("Chroma + keyword index + first deterministic answer", index)
    if not args.no_llm:
        step("LLM (Qwen2.5-Coder-1.5B Q4_K_M, llama.cpp in-process)", llm)
    if not args.no_ui:
        step("Gradio UI built", ui)

    print(f"{'part':58} {'RSS after MB':>12} {'added MB':>9} {'s':>6}")
    for part, after, added, seconds in rows:
        print(f"{part:58} {after:12.0f} {added:9.0f} {seconds:6.1f}")
    print(f"{'total':58} {last:12.0f}")


if __name__ == "__main__":
    main()
