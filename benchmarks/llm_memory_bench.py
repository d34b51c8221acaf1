"""The embedded LLM server's resident memory and speed as it serves distinct prompts, per
setting, side by side. Each variant runs in its own process (`--rounds` alternates them, for a
machine whose load drifts). Figures only, no asserts:

    .venv/bin/python benchmarks/llm_memory_bench.py [--prompts 12] [--rounds 2]
        [--variant NAME:RNA_SETTING=value,...]...

The default variants are llama.cpp's own defaults (repacked weights, an 8 GiB prompt cache),
the repacked weights with the product's prompt cache, and the product's settings.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_VARIANTS = [
    "llama.cpp defaults:RNA_LLM_REPACK_WEIGHTS=true,RNA_LLM_PROMPT_CACHE_MIB=8192",
    "repack, 256 MiB cache:RNA_LLM_REPACK_WEIGHTS=true,RNA_LLM_PROMPT_CACHE_MIB=256",
    "product (no repack, 256 MiB):RNA_LLM_REPACK_WEIGHTS=false,RNA_LLM_PROMPT_CACHE_MIB=256",
]

# Distinct questions over one evidence shape (~300 prompt tokens): each a new prompt.
EVIDENCE = (
    "[1] 宁德时代2025年前三季度营业收入2830.72亿元，同比增长9.28%；第三季度单季营收1041.86亿元，"
    "同比增长12.9%；归母净利润185.49亿元，同比增长41.21%。\n"
    "[2] 比亚迪2025年第三季度营收1949.85亿元，同比下降3.05%；毛利率17.61%，归母净利润78.2亿元。\n"
    "[3] 阳光电源前三季度储能系统收入约{n}亿元，海外占比超过八成；公司预计明年储能出货增长40%-50%。\n"
    "[4] CATL's Q3 2025 gross margin was 25.8%, up 2.5 pp from a year earlier, and its "
    "operating cash flow for the nine months was RMB 80.7 billion."
)


def worker(prompts: int) -> dict[str, object]:
    import httpx
    import psutil

    from rag.config import Settings
    from rag.llm import EmbeddedLlamaServer, llm_gguf_path

    settings = Settings(llm="llamacpp")
    process = psutil.Process()
    started = time.perf_counter()
    server = EmbeddedLlamaServer(settings, lambda: llm_gguf_path(settings))
    base_url = server.start()
    load_s = time.perf_counter() - started
    rss = [process.memory_info().rss / 2**20]
    seconds, prompt_tps, generation_tps = [], [], []
    for n in range(prompts):
        text = (
            "Answer from the evidence only, with its [n] markers.\n"
            + EVIDENCE.format(n=100 + n)
            + f"\nQuestion {n}: what was the third-quarter revenue of the company in [{n % 3 + 1}]?"
        )
        t = time.perf_counter()
        reply = httpx.post(
            f"{base_url}/chat/completions",
            json={
                "messages": [{"role": "user", "content": text}],
                "max_tokens": 48,
                "temperature": 0,
            },
            headers={"Authorization": f"Bearer {server.api_key}"},
            timeout=300,
        ).json()
        seconds.append(time.perf_counter() - t)
        timings = reply.get("timings", {})
        prompt_tps.append(timings.get("prompt_per_second", 0.0))
        generation_tps.append(timings.get("predicted_per_second", 0.0))
        rss.append(process.memory_info().rss / 2**20)
    return {
        "load_s": round(load_s, 1),
        "rss_after_load_mb": round(rss[0]),
        "rss_after_prompts_mb": round(rss[-1]),
        "rss_peak_mb": round(max(rss)),
        "prompt_tok_s_p50": round(statistics.median(prompt_tps), 1),
        "gen_tok_s_p50": round(statistics.median(generation_tps), 1),
        "answer_s_p50": round(statistics.median(seconds), 2),
        "answer_s_max": round(max(seconds), 2),
    }


def run_variant(spec: str, prompts: int) -> dict[str, object]:
    name, _, assignments = spec.partition(":")
    env = dict(os.environ)
    for assignment in filter(None, assignments.split(",")):
        key, _, value = assignment.partition("=")
        env[key.strip()] = value.strip()
    out = subprocess.run(
        [sys.executable, __file__, "--worker", "--prompts", str(prompts)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return {"variant": name, **json.loads(out.stdout.strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--variant", action="append", help="NAME:RNA_X=value,RNA_Y=value")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.prompts)))
        return
    rows = [
        run_variant(spec, args.prompts)
        for _ in range(args.rounds)
        for spec in (args.variant or DEFAULT_VARIANTS)
    ]
    keys = list(rows[0])
    print(" | ".join(keys))
    print(" | ".join("---" for _ in keys))
    for row in rows:
        print(" | ".join(str(row[k]) for k in keys))


if __name__ == "__main__":
    main()
