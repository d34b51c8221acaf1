"""`python -m rag.warmup`: prepare the model files once (set-up calls it; later starts reuse them).

Converts the shipped e5 weights into a sentence-transformers folder and joins + checks the
packaged GGUF, both cached under settings.cache_dir. Nothing is downloaded.
"""

from __future__ import annotations

import time

from rag.config import get_settings


def main() -> None:
    settings = get_settings()
    if settings.embedder == "e5":
        from rag.embeddings import ensure_e5_model

        started = time.perf_counter()
        path = ensure_e5_model(settings)
        print(f"    embedding model ready: {path} ({time.perf_counter() - started:.1f} s)")
    if settings.llm == "llamacpp":
        from rag.model_files import llm_gguf_path

        started = time.perf_counter()
        path = llm_gguf_path(settings)
        print(f"    LLM file ready: {path} ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
