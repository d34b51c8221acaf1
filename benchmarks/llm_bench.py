"""How fast the embedded LLM reads a RAG prompt and writes an answer, on this machine.

Builds a ~300-token and a ~1,100-token prompt from corpus text (the shape of a real grounded
question), streams an answer from the same embedded llama.cpp server the app uses, and prints
prompt tokens/s and generation tokens/s (llama.cpp's own timings), time to first token (wall
clock, as a user sees it), and peak RSS. Each prompt is read twice: cold (`cache_prompt` off)
and again with the server's prompt cache, as a repeated question would be.

    .venv/bin/python benchmarks/llm_bench.py [--targets 300 1100] [--max-tokens 64]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.config import Settings  # noqa: E402
from rag.llm import EmbeddedLlamaChat, make_chat_model, warm_up  # noqa: E402

SYSTEM = "你是研究助理。只根据给出的资料回答，并用[1]这样的编号注明出处。"
QUESTION = "根据以上资料，概括主要观点和其中提到的关键数字。"


def corpus_text(corpus_dir: Path) -> str:
    texts = [
        p.read_text(encoding="utf-8", errors="ignore") for p in sorted(corpus_dir.glob("*.txt"))
    ]
    if not texts:
        raise SystemExit(f"no .txt files in {corpus_dir}")
    return "\n".join(texts)


def build_messages(model: EmbeddedLlamaChat, text: str, target_tokens: int) -> list[dict]:
    """Messages whose prompt is about `target_tokens` long (binary search on characters)."""

    def messages(n_chars: int) -> list[dict]:
        context = f"[1] {text[:n_chars]}"
        return [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"资料：\n{context}\n\n问题：{QUESTION}"},
        ]

    def n_tokens(n_chars: int) -> int:
        return sum(model.count_tokens(m["content"]) or 0 for m in messages(n_chars)) + 12

    lo, hi = 0, len(text)
    if n_tokens(hi) < target_tokens:
        raise SystemExit(f"corpus too short for a {target_tokens}-token prompt")
    while lo < hi:
        mid = (lo + hi) // 2
        if n_tokens(mid) < target_tokens:
            lo = mid + 1
        else:
            hi = mid
    return messages(lo)


def run_once(
    model: EmbeddedLlamaChat, messages: list[dict], max_tokens: int, *, cache: bool
) -> dict[str, float]:
    server = model.server
    start = time.perf_counter()
    first = None
    timings: dict = {}
    body = {
        "messages": messages,
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
        "cache_prompt": cache,
    }
    headers = {"Authorization": f"Bearer {server.api_key}"}
    url = f"{server.base_url}/chat/completions"
    with httpx.stream("POST", url, json=body, headers=headers, timeout=600) as resp:
        resp.raise_for_status()
        for line in resp.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            data = json.loads(line[6:])
            if first is None and any(
                (c.get("delta") or {}).get("content") for c in data.get("choices") or []
            ):
                first = time.perf_counter()
            timings.update(data.get("timings") or {})
    end = time.perf_counter()
    return {
        "prompt_tokens": timings.get("prompt_n", 0) + timings.get("cache_n", 0),
        "evaluated": timings.get("prompt_n", 0),
        "prompt_tok_s": timings.get("prompt_per_second", 0.0),
        "gen_tokens": timings.get("predicted_n", 0),
        "gen_tok_s": timings.get("predicted_per_second", 0.0),
        "ttft_s": (first or end) - start,
        "total_s": end - start,
    }


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, nargs="+", default=[300, 1100])
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()

    settings = Settings(llm="llamacpp")
    model = make_chat_model(settings)
    assert isinstance(model, EmbeddedLlamaChat)
    t0 = time.perf_counter()
    warm_up(model)
    print(
        f"model {model.server.model_path}  load {time.perf_counter() - t0:.1f} s  "
        f"threads {settings.llm_threads}  n_ctx {settings.llm_context_tokens}"
    )
    text = corpus_text(settings.corpus_dir)
    print(
        f"{'target':>6} {'cache':>5} {'prompt':>6} {'read':>5} {'prompt tok/s':>12} {'gen':>4} "
        f"{'gen tok/s':>9} {'TTFT s':>7} {'total s':>7} {'peak RSS MiB':>12}"
    )
    for target in args.targets:
        messages = build_messages(model, text, target)
        for cache in (False, True):
            r = run_once(model, messages, args.max_tokens, cache=cache)
            print(
                f"{target:>6} {'on' if cache else 'off':>5} {r['prompt_tokens']:>6} "
                f"{r['evaluated']:>5} {r['prompt_tok_s']:>12.1f} {r['gen_tokens']:>4} "
                f"{r['gen_tok_s']:>9.1f} {r['ttft_s']:>7.2f} {r['total_s']:>7.2f} "
                f"{peak_rss_mib():>12.0f}"
            )


if __name__ == "__main__":
    main()
