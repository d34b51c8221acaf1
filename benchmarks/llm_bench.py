"""How fast the embedded LLM reads a RAG prompt and writes an answer, on this machine.

Builds a ~300-token and a ~1,100-token prompt from corpus text (the shape of a real grounded
question), streams an answer through the same LangChain model the app uses, and prints prompt
tokens/s and generation tokens/s (llama.cpp's own counters), time to first token (wall clock,
as a user sees it) and peak RSS.

    .venv/bin/python benchmarks/llm_bench.py [--targets 300 1100] [--max-tokens 64]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

from langchain_core.messages import HumanMessage, SystemMessage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.config import Settings  # noqa: E402
from rag.llm import LazyChatLlamaCpp, make_chat_model, warm_up  # noqa: E402

SYSTEM = "你是研究助理。只根据给出的资料回答，并用[1]这样的编号注明出处。"
QUESTION = "根据以上资料，概括主要观点和其中提到的关键数字。"


def corpus_text(corpus_dir: Path) -> str:
    texts = [
        p.read_text(encoding="utf-8", errors="ignore") for p in sorted(corpus_dir.glob("*.txt"))
    ]
    if not texts:
        raise SystemExit(f"no .txt files in {corpus_dir}")
    return "\n".join(texts)


def build_messages(model: LazyChatLlamaCpp, text: str, target_tokens: int) -> list:
    """Messages whose templated prompt is about `target_tokens` long (binary search on chars)."""

    def messages(n_chars: int) -> list:
        context = f"[1] {text[:n_chars]}"
        return [SystemMessage(SYSTEM), HumanMessage(f"资料：\n{context}\n\n问题：{QUESTION}")]

    def n_tokens(n_chars: int) -> int:
        msgs = messages(n_chars)
        joined = "".join(f"<|im_start|>{m.type}\n{m.content}<|im_end|>\n" for m in msgs)
        return len(model.client.tokenize(joined.encode(), add_bos=False, special=True)) + 3

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


def run_once(model: LazyChatLlamaCpp, messages: list, max_tokens: int) -> dict[str, float]:
    import llama_cpp

    client = model.client
    client.reset()  # no KV prefix reuse from the previous run: measure a cold prompt
    llama_cpp.llama_perf_context_reset(client.ctx)
    start = time.perf_counter()
    first = None
    text = ""
    for chunk in model.stream(messages, max_tokens=max_tokens):
        if chunk.content and first is None:
            first = time.perf_counter()
        text += str(chunk.content)
    end = time.perf_counter()
    perf = llama_cpp.llama_perf_context(client.ctx)
    return {
        "prompt_tokens": perf.n_p_eval,
        "prompt_tok_s": perf.n_p_eval / (perf.t_p_eval_ms / 1000) if perf.t_p_eval_ms else 0.0,
        "gen_tokens": perf.n_eval,
        "gen_tok_s": perf.n_eval / (perf.t_eval_ms / 1000) if perf.t_eval_ms else 0.0,
        "ttft_s": (first or end) - start,
        "total_s": end - start,
        "answer_chars": len(text),
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
    assert isinstance(model, LazyChatLlamaCpp)
    t0 = time.perf_counter()
    warm_up(model)
    print(
        f"model {Path(model.model_path).name}  load {time.perf_counter() - t0:.1f} s  "
        f"threads {settings.llm_threads}  n_ctx {settings.llm_context_tokens}  "
        f"chat format {model.client.chat_format}"
    )
    text = corpus_text(settings.corpus_dir)
    header = (
        f"{'target':>6} {'prompt':>6} {'prompt tok/s':>12} {'gen':>4} {'gen tok/s':>9} "
        f"{'TTFT s':>7} {'total s':>7} {'peak RSS MiB':>12}"
    )
    print(header)
    for target in args.targets:
        r = run_once(model, build_messages(model, text, target), args.max_tokens)
        print(
            f"{target:>6} {r['prompt_tokens']:>6} {r['prompt_tok_s']:>12.1f} "
            f"{r['gen_tokens']:>4} {r['gen_tok_s']:>9.1f} {r['ttft_s']:>7.2f} "
            f"{r['total_s']:>7.2f} {peak_rss_mib():>12.0f}"
        )


if __name__ == "__main__":
    main()
