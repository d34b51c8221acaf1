"""Answer latency and prompt size, side by side: deterministic mode, the embedded LLM, and
(optionally) the naive LangChain RAG baseline, on a stratified subset of the eval cases.

    .venv/bin/python benchmarks/answer_bench.py [--n 12] [--baseline]

Needs an ingested index (python -m ingest). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time

import rag  # noqa: F401  (offline switches before any model library)
from eval.__main__ import request_for
from eval.baseline import stratified_subset
from eval.scorer import load_cases, score_case
from rag.assistant import Assistant
from rag.config import REPO_ROOT, get_settings


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(label: str, ask_stream, cases) -> dict[str, object]:
    totals, firsts, tokens, correct = [], [], [], 0
    for case in cases:
        started = time.perf_counter()
        first = None
        final = None
        for event in ask_stream(request_for(case)):
            if event.type == "token" and first is None:
                first = time.perf_counter() - started
            if event.type == "final":
                final = event.answer
        total = time.perf_counter() - started
        totals.append(total)
        firsts.append(first if first is not None else total)
        if final is not None:
            tokens.append(int(final.verification.get("prompt_tokens") or 0))
            correct += score_case(case, final).correct_and_cited
    return {
        "mode": label,
        "n": len(cases),
        "p50 s": statistics.median(totals),
        "p95 s": _pct(totals, 0.95),
        "first token p50 s": statistics.median(firsts),
        "prompt tokens mean": statistics.mean(t for t in tokens if t) if any(tokens) else 0,
        "correct+cited": f"{correct}/{len(cases)}",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=12)
    parser.add_argument("--baseline", action="store_true", help="also the naive RAG (slow)")
    args = parser.parse_args()
    settings = get_settings()
    cases = stratified_subset(load_cases(REPO_ROOT / "eval" / "cases.yaml"), args.n)

    with_llm = Assistant(settings)
    with_llm.warm_up()
    deterministic = Assistant(settings, embeddings=with_llm.embeddings, llm=None)
    rows = [
        run("deterministic", deterministic.stream, cases),
        run("embedded LLM", with_llm.stream, cases),
    ]

    if args.baseline:
        from eval.baseline import NaiveRag, load_corpus
        from rag.llm import make_chat_model
        from rag.types import StreamEvent

        # The stuffed prompt (~2,700 tokens) needs a 4k context: a second instance of the model.
        big = make_chat_model(settings.model_copy(update={"llm_context_tokens": 4096}))
        naive = NaiveRag(load_corpus(settings.corpus_dir), with_llm.embeddings, big)

        def naive_stream(request):
            answer = naive.ask(request)
            prompt = "".join(
                d.page_content for d in naive.store.similarity_search(request.question, k=naive.k)
            )
            client = getattr(big, "client", None)
            tokens = len(client.tokenize(prompt.encode())) if client else len(prompt) // 2
            answer = answer.model_copy(
                update={"verification": {**answer.verification, "prompt_tokens": tokens}}
            )
            yield StreamEvent(type="final", answer=answer)

        rows.append(run("naive RAG baseline", naive_stream, cases))

    keys = list(rows[0])
    print(" | ".join(f"{k:>18}" for k in keys))
    for row in rows:
        print(
            " | ".join(
                f"{row[k]:>18.2f}" if isinstance(row[k], float) else f"{row[k]!s:>18}" for k in keys
            )
        )


if __name__ == "__main__":
    main()
