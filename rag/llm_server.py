"""`python -m rag.llm_server --port N`: the embedded LLM's server on its own, as a process.

The same llama.cpp server `RNA_LLM=llamacpp` runs inside the app (rag/llm.py), here on a fixed
loopback port so another process can use it through `RNA_LLM=openai
RNA_LLM_BASE_URL=http://127.0.0.1:N/v1` — and so tests can freeze, kill and restart it.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from pathlib import Path

from rag.config import Settings
from rag.llm import EmbeddedLlamaServer
from rag.model_files import llm_gguf_path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rag.llm_server", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", type=Path, help="a GGUF file (default: the packaged model)")
    parser.add_argument("--api-key", default="", help="required bearer key (default: none)")
    args = parser.parse_args(argv)

    settings = Settings(llm="llamacpp", **({"llm_gguf_path": args.model} if args.model else {}))
    server = EmbeddedLlamaServer(
        settings, lambda: llm_gguf_path(settings), port=args.port, api_key=args.api_key
    )
    print(f"serving {server.start()}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()


if __name__ == "__main__":
    main()
