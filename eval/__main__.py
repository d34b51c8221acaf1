"""`python -m eval`: run the release-gate cases against the assistant and report.

    python -m eval                                  # in-process service, all cases
    python -m eval --url http://127.0.0.1:8000      # a running server's POST /v1/ask
    python -m eval --limit 10 --only-kind calculator
    python -m eval --gate                           # exit 1 below eval/gate.yaml's thresholds
    RNA_LLM=llamacpp python -m eval --gate --stratified 24   # the gate with the embedded LLM
    python -m eval --baseline --baseline-n 24       # also a naive LangChain RAG, side by side

Writes <out>/results.json (every case, every answer) and eval/REPORT.md with a PNG chart.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval.scorer import (
    Case,
    CaseResult,
    Gate,
    GroupStats,
    check_gate,
    error_result,
    load_cases,
    load_gate,
    score_case,
    summarize,
)
from rag.types import Answer, AskRequest

EVAL_DIR = Path(__file__).resolve().parent
AskFn = Callable[[AskRequest], Answer]


def request_for(case: Case) -> AskRequest:
    return AskRequest(
        question=case.question,
        history=case.history,
        language=case.language,
        filters=None,
        top_k=None,
    )


def in_process_service() -> AskFn:
    import rag  # noqa: F401  (offline switches before any model library)
    from rag.assistant import build_assistant
    from rag.config import get_settings

    return build_assistant(get_settings()).ask


def http_service(url: str, api_key: str | None = None, timeout: float = 600.0) -> AskFn:
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    client = httpx.Client(base_url=url.rstrip("/"), timeout=timeout, headers=headers)

    def ask(request: AskRequest) -> Answer:
        resp = client.post("/v1/ask", json=request.model_dump(mode="json", exclude_none=True))
        resp.raise_for_status()
        return Answer.model_validate(resp.json())

    return ask


def run_cases(
    cases: Sequence[Case], ask: AskFn, *, label: str = "", echo: bool = True
) -> list[CaseResult]:
    results: list[CaseResult] = []
    for i, case in enumerate(cases, 1):
        t = time.perf_counter()
        try:
            answer = ask(request_for(case))
            result = score_case(case, answer, wall_ms=(time.perf_counter() - t) * 1000)
        except Exception as exc:  # a crash is a failed case, not a failed run
            result = error_result(
                case, f"{type(exc).__name__}: {exc}", (time.perf_counter() - t) * 1000
            )
        results.append(result)
        if echo:
            print(case_line(i, len(cases), result, label), flush=True)
    return results


def case_line(i: int, n: int, r: CaseResult, label: str = "") -> str:
    mark = "PASS" if r.correct_and_cited else ("UNCITED" if r.correct else "FAIL")
    lat = f"{r.latency_ms:7.0f}ms" if r.latency_ms is not None else "      ?ms"
    why = f"  [{'; '.join(r.reasons)}]" if r.reasons else ""
    prefix = f"{label} " if label else ""
    answer = r.answer.replace("\n", " ")[:90]
    return f"{prefix}[{i:3d}/{n}] {mark:7s} {lat} {r.id:28s} {answer}{why}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:5.1f}%"


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:.0f}"


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, str, GroupStats]]:
    rows: list[tuple[str, str, GroupStats]] = [("overall", "all", summary["overall"])]
    for group in ("language", "kind", "document"):
        rows += [(group, name, stats) for name, stats in summary[group].items()]
    return rows


HEADER = (
    "group",
    "value",
    "n",
    "correct",
    "cited",
    "correct+cited",
    "p50 ms",
    "p95 ms",
    "recall@k",
    "MRR",
)


def summary_table(summary: dict[str, Any]) -> str:
    lines = [
        f"{'group':9s} {'value':28s} {'n':>4s} {'correct':>8s} {'cited':>8s} {'corr+cit':>9s} {'p50ms':>7s} {'p95ms':>7s} {'R@k':>7s} {'MRR':>6s}"
    ]
    for group, name, s in summary_rows(summary):
        mrr = "-" if s.mrr is None else f"{s.mrr:.2f}"
        lines.append(
            f"{group:9s} {name:28s} {s.n:4d} {_pct(s.correct):>8s} {_pct(s.cited):>8s} "
            f"{_pct(s.correct_and_cited):>9s} {_ms(s.latency_p50_ms):>7s} {_ms(s.latency_p95_ms):>7s} "
            f"{_pct(s.recall_at_k):>7s} {mrr:>6s}"
        )
    return "\n".join(lines)


def markdown_table(summary: dict[str, Any]) -> str:
    out = [
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    for group, name, s in summary_rows(summary):
        mrr = "-" if s.mrr is None else f"{s.mrr:.2f}"
        out.append(
            f"| {group} | {name} | {s.n} | {_pct(s.correct)} | {_pct(s.cited)} | "
            f"{_pct(s.correct_and_cited)} | {_ms(s.latency_p50_ms)} | {_ms(s.latency_p95_ms)} | "
            f"{_pct(s.recall_at_k)} | {mrr} |"
        )
    return "\n".join(out)


def write_chart(summary: dict[str, Any], results: Sequence[CaseResult], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(f"{g}:{n}", s.correct_and_cited) for g, n, s in summary_rows(summary)]
    lat = [r.latency_ms for r in results if r.latency_ms is not None]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.5), gridspec_kw={"width_ratios": [3, 2]})
    ax1.barh([r[0] for r in rows][::-1], [100 * r[1] for r in rows][::-1], color="#4477aa")
    ax1.axvline(90, color="#cc3311", linestyle="--", linewidth=1)
    ax1.set_xlim(0, 100)
    ax1.set_xlabel("correct and cited (%)")
    ax1.set_title("Accuracy by group")
    ax1.tick_params(axis="y", labelsize=7)
    if lat:
        ax2.hist(lat, bins=min(30, max(5, len(lat) // 3)), color="#228833")
    ax2.set_xlabel("latency per case (ms)")
    ax2.set_ylabel("cases")
    ax2.set_title("Latency distribution")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(
    path: Path,
    summary: dict[str, Any],
    results: Sequence[CaseResult],
    *,
    gate: Gate | None,
    failures: list[str],
    context: dict[str, Any],
    baseline: tuple[dict[str, Any], dict[str, Any]] | None = None,
) -> None:
    chart = write_chart(summary, results, path.with_name("report_chart.png"))
    failed = [r for r in results if not r.correct_and_cited]
    lines = [
        "# Evaluation report",
        "",
        f"Generated {context['when']} — target: `{context['target']}`, cases: `{context['cases']}`"
        f" ({len(results)} run). Settings: {context.get('settings', '-')}.",
        "",
        "A case passes when its answer is correct (every expected figure after unit "
        "normalisation, keywords, or a clean abstention) **and** cites the expected note with a "
        "quote stating the figure.",
        "",
        markdown_table(summary),
        "",
        f"![accuracy and latency]({chart.name})",
        "",
    ]
    if gate is not None:
        lines += ["## Gate", ""]
        lines += [f"- FAIL {f}" for f in failures] or ["- all thresholds met"]
        lines.append("")
    if baseline is not None:
        ours, theirs = baseline
        lines += [
            "## Baseline (naive LangChain RAG) on the same subset",
            "",
            "| group | ours | baseline |",
            "|---|---|---|",
        ]
        for (g, n, a), (_, _, b) in zip(summary_rows(ours), summary_rows(theirs), strict=False):
            lines.append(f"| {g}:{n} | {_pct(a.correct_and_cited)} | {_pct(b.correct_and_cited)} |")
        lines.append("")
    lines += ["## Failing cases", ""]
    for r in failed:
        lines.append(
            f"- `{r.id}` ({r.kind}, {r.language}): {'; '.join(r.reasons)} — "
            f"answer: {r.answer[:160].replace(chr(10), ' ')!r}"
        )
    if not failed:
        lines.append("- none")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _stratified(cases: Sequence[Case], n: int) -> list[Case]:
    """Round-robin over kinds (then languages) so every kind is in the subset."""
    from eval.baseline import stratified_subset

    return stratified_subset(cases, n)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eval",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", help="a running server (POST /v1/ask); default: in-process")
    parser.add_argument("--api-key", help="bearer key for --url")
    parser.add_argument("--cases", type=Path, default=EVAL_DIR / "cases.yaml")
    parser.add_argument("--limit", type=int, help="run the first N cases only")
    parser.add_argument("--only-kind", action="append", help="run cases of this kind (repeatable)")
    parser.add_argument(
        "--stratified",
        type=int,
        metavar="N",
        help="run a stratified subset of N cases (every kind and language; e.g. the LLM-mode gate)",
    )
    parser.add_argument("--out", type=Path, default=EVAL_DIR / "results")
    parser.add_argument("--report", type=Path, default=EVAL_DIR / "REPORT.md")
    parser.add_argument("--gate", action="store_true", help="exit 1 when below eval/gate.yaml")
    parser.add_argument("--gate-file", type=Path, default=EVAL_DIR / "gate.yaml")
    parser.add_argument("--k", type=int, default=5, help="k of recall@k")
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="also score a naive LangChain RAG on a stratified subset",
    )
    parser.add_argument("--baseline-n", type=int, default=24, help="size of that subset")
    parser.add_argument("--quiet", action="store_true", help="no per-case lines")
    args = parser.parse_args(argv)

    cases = load_cases(args.cases)
    if args.only_kind:
        cases = [c for c in cases if c.kind in args.only_kind]
    if args.limit:
        cases = cases[: args.limit]
    if args.stratified:
        cases = _stratified(cases, args.stratified)
    if not cases:
        print("no cases selected", file=sys.stderr)
        return 2

    target = args.url or "in-process rag.assistant"
    ask = http_service(args.url, args.api_key) if args.url else in_process_service()
    settings_note = "-"
    if not args.url:
        from rag.config import get_settings

        s = get_settings()
        settings_note = (
            f"embedder={s.embedder}, llm={s.llm}, data_dir={s.data_dir}, top_k={s.top_k}"
        )

    baseline_pair = None
    if args.baseline:
        from eval.baseline import build_default_baseline

        subset = _stratified(cases, args.baseline_n)
        print(f"== ours on the {len(subset)}-case baseline subset")
        ours = run_cases(subset, ask, label="ours", echo=not args.quiet)
        print("== baseline (RecursiveCharacterTextSplitter 1000/200, Chroma top-4, stuff prompt)")
        theirs = run_cases(subset, build_default_baseline().ask, label="base", echo=not args.quiet)
        s_ours, s_theirs = summarize(ours, args.k), summarize(theirs, args.k)
        print("\nside by side (correct and cited):")
        print(f"{'group':40s} {'ours':>8s} {'baseline':>9s}")
        for (g, n, a), (_, _, b) in zip(summary_rows(s_ours), summary_rows(s_theirs), strict=False):
            print(
                f"{g + ':' + n:40s} {_pct(a.correct_and_cited):>8s} {_pct(b.correct_and_cited):>9s}"
            )
        baseline_pair = (s_ours, s_theirs)
        results = ours
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "baseline.json").write_text(
            json.dumps(
                {
                    "ours": [r.model_dump() for r in ours],
                    "baseline": [r.model_dump() for r in theirs],
                },
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )
    else:
        results = run_cases(cases, ask, echo=not args.quiet)

    summary = summarize(results, args.k)
    print()
    print(summary_table(summary))

    gate = load_gate(args.gate_file) if args.gate_file.exists() else None
    failures = check_gate(results, gate) if gate else []

    args.out.mkdir(parents=True, exist_ok=True)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    (args.out / "results.json").write_text(
        json.dumps(
            {
                "when": when,
                "target": target,
                "settings": settings_note,
                "summary": {
                    "overall": summary["overall"].model_dump(),
                    **{
                        g: {k: v.model_dump() for k, v in summary[g].items()}
                        for g in ("language", "kind", "document")
                    },
                },
                "gate_failures": failures,
                "results": [r.model_dump() for r in results],
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    write_report(
        args.report,
        summary,
        results,
        gate=gate,
        failures=failures,
        context={
            "when": when,
            "target": target,
            "cases": str(args.cases),
            "settings": settings_note,
        },
        baseline=baseline_pair,
    )
    print(f"\nwrote {args.out / 'results.json'} and {args.report}")

    if args.gate:
        if failures:
            print("\nGATE FAILED:")
            for f in failures:
                print(f"  {f}")
            print("failing cases:")
            for r in results:
                if not r.correct_and_cited:
                    print(f"  {r.id:28s} {r.kind:13s} {'; '.join(r.reasons)}")
            return 1
        print("\nGATE PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
