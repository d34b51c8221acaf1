"""The embedded LLM server's resident memory as it serves distinct prompts, per setting of its
prompt cache (`RNA_LLM_PROMPT_CACHE_MIB`), with prompt and generation times side by side.
Each setting runs in its own process. Figures only, no asserts:

    .venv/bin/python benchmarks/llm_memory_bench.py [--prompts 16] [--cache-mib 8192 256]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Distinct questions over one evidence shape: each is a new prompt for the server's cache.
EVIDENCE = (
    "[1] 宁德时代2025年前三季度营业收入2830.72亿元，同比增长9.28%；第三季度单季营收1041.86亿元。\n"
    "[2] 比亚迪2025年第三季度营收1949.85亿元，同比下降3.05%；毛利率17.61%。\n"
    "[3] 阳光电源前三季度储能系统收入约{n}亿元，海外占比超过八成。"
)


def worker(cache_mib: int, prompts: int) -> dict[str, object]:
    import psutil
    from langchain_core.messages import HumanMessage

    from rag.config import Settings
    from rag.llm import make_chat_model, warm_up

    os.environ["RNA_LLM_PROMPT_CACHE_MIB"] = str(cache_mib)
    llm = make_chat_model(Settings(llm="llamacpp", llm_prompt_cache_mib=cache_mib))
    process = psutil.Process()
    started = time.perf_counter()
    warm_up(llm)
    rss = [process.memory_info().rss / 2**20]
    load_s = time.perf_counter() - started
    seconds = []
    for n in range(prompts):
        text = (
            "Answer from the evidence only, with its [n] markers.\n"
            + EVIDENCE.format(n=100 + n)
            + f"\nQuestion {n}: what was the third-quarter revenue of the company in [{n % 3 + 1}]?"
        )
        t = time.perf_counter()
        llm.invoke([HumanMessage(content=text)])  # type: ignore[union-attr]
        seconds.append(time.perf_counter() - t)
        rss.append(process.memory_info().rss / 2**20)
    return {
        "cache_mib": cache_mib,
        "load_s": round(load_s, 1),
        "rss_after_load_mb": round(rss[0]),
        "rss_after_prompts_mb": round(rss[-1]),
        "rss_peak_mb": round(max(rss)),
        "answer_s_p50": round(sorted(seconds)[len(seconds) // 2], 2),
        "answer_s_max": round(max(seconds), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--cache-mib", type=int, nargs="+", default=[8192, 256])
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(worker(args.worker, args.prompts)))
        return
    rows = []
    for cache in args.cache_mib:
        out = subprocess.run(
            [sys.executable, __file__, "--worker", str(cache), "--prompts", str(args.prompts)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    keys = list(rows[0])
    print(" | ".join(keys))
    for row in rows:
        print(" | ".join(str(row[k]) for k in keys))


if __name__ == "__main__":
    main()
