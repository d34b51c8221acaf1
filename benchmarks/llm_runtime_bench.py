"""Two llama.cpp runtimes side by side on the same prompts: the source-built llama-cpp-python
wheel and xllamacpp's prebuilt CPU wheel from PyPI.

Each runtime runs in its own process (one model in memory at a time, nothing shared), greedy
(temperature 0, seed 42), 2 threads, n_ctx 2048, n_batch 512, with prompt caching off so every
prompt is read cold. Prints prompt and generation tokens/s from llama.cpp's own counters, time to
first token and total (wall clock), and whether both runtimes wrote the same answers.

    .venv/bin/python benchmarks/llm_runtime_bench.py [--runtimes llama_cpp xllamacpp]

A runtime that is not installed is reported as such (install the other with
`uv pip install --python .venv/bin/python llama-cpp-python==0.3.36` or `xllamacpp`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEMPLATE = {
    "en": (ROOT / "rag" / "render" / "prompts" / "answer_en.md").read_text(encoding="utf-8"),
    "zh": (ROOT / "rag" / "render" / "prompts" / "answer_zh.md").read_text(encoding="utf-8"),
}
# Evidence packs shaped like the assistant's (numbered sentences, renderings in parentheses),
# written for this benchmark, not taken from any eval case.
PROMPTS = [
    (
        "en",
        "[1] 宁德时代2025年前三季度实现营业收入2830.72亿元(≈ CNY 283.07 billion)，同比增长9.28%。\n"
        "[2] 其中第三季度单季营收1041.86亿元(≈ CNY 104.19 billion)，同比增长12.9%。",
        "What was CATL's revenue in the first three quarters of 2025?",
    ),
    (
        "zh",
        "[1] 贵州茅台2025年前三季度营业总收入1309.04亿元，同比增长6.32%。\n"
        "[2] 归母净利润646.27亿元，同比增长6.25%。\n[3] 经销商数量较年初减少41家。",
        "贵州茅台前三季度归母净利润是多少？",
    ),
    (
        "en",
        "[1] SK海力士(SK hynix)在HBM市场的份额约为62%(≈ 62%)，三星约17%(≈ 17%)。\n"
        "[2] 美光(Micron)份额约21%(≈ 21%)，明年(2026年)HBM4开始量产。",
        "What is SK hynix's share of the HBM market?",
    ),
    (
        "zh",
        "[1] 本周N型TOPCon组件均价0.68元/W，环比持平。\n"
        "[2] 2025年1-9月全国光伏新增装机240.27GW，同比增长49%。",
        "2025年前9个月全国光伏新增装机多少？",
    ),
    (
        "en",
        "[1] 招商银行(China Merchants Bank)上半年净息差1.88%(≈ 1.88%)，同比下降0.12个百分点。\n"
        "[2] 不良贷款率0.93%(≈ 0.93%)，拨备覆盖率410.93%(≈ 410.93%)。",
        "What was China Merchants Bank's net interest margin in H1?",
    ),
    (
        "zh",
        "[1] 优必选(9880.HK)今年Walker S系列人形机器人累计订单金额超过13亿元。\n"
        "[2] 宇树科技(Unitree)中标金额为1.2亿元，单台售价约9.9万元。",
        "优必选Walker S累计订单金额是多少？",
    ),
]


def prompt_text(language: str, evidence: str, question: str) -> str:
    return TEMPLATE[language].format(evidence=evidence, calculations="", question=question)


def _run_llama_cpp(model_path: str, max_tokens: int) -> list[dict]:
    import llama_cpp

    llm = llama_cpp.Llama(
        model_path=model_path,
        n_ctx=2048,
        n_batch=512,
        n_threads=2,
        n_threads_batch=2,
        seed=42,
        verbose=False,
    )
    rows = []
    for language, evidence, question in PROMPTS:
        llm.reset()
        llama_cpp.llama_perf_context_reset(llm.ctx)
        messages = [{"role": "user", "content": prompt_text(language, evidence, question)}]
        start = time.perf_counter()
        first = None
        text = ""
        for chunk in llm.create_chat_completion(
            messages=messages, temperature=0.0, max_tokens=max_tokens, seed=42, stream=True
        ):
            piece = chunk["choices"][0]["delta"].get("content") or ""
            if piece and first is None:
                first = time.perf_counter()
            text += piece
        end = time.perf_counter()
        perf = llama_cpp.llama_perf_context(llm.ctx)
        rows.append(
            {
                "prompt_tokens": perf.n_p_eval,
                "prompt_tok_s": perf.n_p_eval / (perf.t_p_eval_ms / 1000),
                "gen_tokens": perf.n_eval,
                "gen_tok_s": perf.n_eval / (perf.t_eval_ms / 1000) if perf.t_eval_ms else 0.0,
                "ttft_s": (first or end) - start,
                "total_s": end - start,
                "answer": text,
            }
        )
    return rows


def _collector(first: list[float], pieces: list[str], timings: dict) -> Callable[[object], bool]:
    """A stream callback that records the first token's time, the text and the timings."""

    def on_chunk(chunk: object) -> bool:
        data = json.loads(chunk) if isinstance(chunk, (str, bytes)) else chunk
        if isinstance(data, dict):
            for choice in data.get("choices") or []:
                piece = (choice.get("delta") or {}).get("content") or ""
                if piece:
                    if not first:
                        first.append(time.perf_counter())
                    pieces.append(piece)
            if data.get("timings"):
                timings.update(data["timings"])
        return False  # never stop early

    return on_chunk


def _run_xllamacpp(model_path: str, max_tokens: int) -> list[dict]:
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = model_path
    params.n_ctx = 2048
    params.n_batch = 512
    params.n_parallel = 1
    params.cpuparams.n_threads = 2
    params.cpuparams_batch.n_threads = 2
    params.warmup = False
    server = xlc.Server(params)
    rows = []
    for language, evidence, question in PROMPTS:
        messages = [{"role": "user", "content": prompt_text(language, evidence, question)}]
        start = time.perf_counter()
        first: list[float] = []
        pieces: list[str] = []
        timings: dict = {}

        on_chunk = _collector(first, pieces, timings)

        server.handle_chat_completions(
            {
                "messages": messages,
                "temperature": 0.0,
                "seed": 42,
                "max_tokens": max_tokens,
                "stream": True,
                "cache_prompt": False,
                "timings_per_token": False,
            },
            on_chunk,
        )
        end = time.perf_counter()
        rows.append(
            {
                "prompt_tokens": timings.get("prompt_n", 0),
                "prompt_tok_s": timings.get("prompt_per_second", 0.0),
                "gen_tokens": timings.get("predicted_n", 0),
                "gen_tok_s": timings.get("predicted_per_second", 0.0),
                "ttft_s": (first[0] if first else end) - start,
                "total_s": end - start,
                "answer": "".join(pieces),
            }
        )
    return rows


RUNNERS = {"llama_cpp": _run_llama_cpp, "xllamacpp": _run_xllamacpp}


def child(runtime: str, model_path: str, max_tokens: int) -> None:
    try:
        rows = RUNNERS[runtime](model_path, max_tokens)
    except ImportError as exc:
        print(json.dumps({"error": f"not installed: {exc}"}))
        return
    print(json.dumps({"rows": rows}, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtimes", nargs="+", default=list(RUNNERS), choices=list(RUNNERS))
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--child", choices=list(RUNNERS), help=argparse.SUPPRESS)
    parser.add_argument("--model", help="GGUF path (default: the packaged Qwen2.5 model)")
    args = parser.parse_args()

    if args.model is None:
        from rag.config import Settings
        from rag.model_files import llm_gguf_path

        args.model = str(llm_gguf_path(Settings()))
    if args.child:
        child(args.child, args.model, args.max_tokens)
        return

    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    results: dict[str, list[dict]] = {}
    for runtime in args.runtimes:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                runtime,
                "--model",
                args.model,
                "--max-tokens",
                str(args.max_tokens),
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        line = next((x for x in reversed(out.stdout.splitlines()) if x.startswith("{")), "")
        data = json.loads(line) if line else {"error": out.stderr[-2000:]}
        if "error" in data:
            print(f"{runtime}: {data['error']}")
            continue
        results[runtime] = data["rows"]

    print(f"model {Path(args.model).name}, {len(PROMPTS)} prompts, max_tokens {args.max_tokens}")
    print(
        f"{'runtime':<10} {'prompt tok':>10} {'prompt tok/s':>12} {'gen tok/s':>9} "
        f"{'TTFT p50 s':>10} {'total p50 s':>11}"
    )
    for runtime, rows in results.items():
        print(
            f"{runtime:<10} {statistics.mean(r['prompt_tokens'] for r in rows):>10.0f} "
            f"{statistics.median(r['prompt_tok_s'] for r in rows):>12.1f} "
            f"{statistics.median(r['gen_tok_s'] for r in rows):>9.1f} "
            f"{statistics.median(r['ttft_s'] for r in rows):>10.2f} "
            f"{statistics.median(r['total_s'] for r in rows):>11.2f}"
        )
    if len(results) == 2:
        a, b = results.values()
        same = sum(x["answer"] == y["answer"] for x, y in zip(a, b, strict=True))
        print(f"identical answers: {same}/{len(PROMPTS)}")
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x["answer"] != y["answer"]:
                print(
                    f"  prompt {i}:\n    {list(results)[0]}: {x['answer']!r}\n"
                    f"    {list(results)[1]}: {y['answer']!r}"
                )
    ratio = {k: statistics.median(r["gen_tok_s"] for r in v) for k, v in results.items()}
    if len(ratio) == 2:
        names = list(ratio)
        print(f"generation speed {names[1]} / {names[0]}: {ratio[names[1]] / ratio[names[0]]:.2f}")


if __name__ == "__main__":
    main()
