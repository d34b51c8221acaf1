"""`python -m eval`: run the release-gate cases against the assistant and report.

    python -m eval                                  # in-process service, all cases
    python -m eval --url http://127.0.0.1:8000      # a running server's POST /v1/ask
    python -m eval --limit 10 --only-kind calculator
    python -m eval --gate                           # exit 1 below eval/gate.yaml's thresholds
    RNA_LLM=llamacpp python -m eval --gate --stratified 24   # the gate with the embedded LLM
    python -m eval --baseline --baseline-n 24       # also a naive LangChain RAG, side by side
    python -m eval --suite seed --suite ood-dev --suite ood-test --gate
                                                    # each suite on its own index (eval/suites.yaml)
    python -m eval --from-feedback [--out PATH|-]   # the 👎 feedback as candidate cases to review

Writes <out>/results.json (every case, every answer) and eval/REPORT.md with a PNG chart; with
--suite, <out>/<suite>/results.json and one report with a section per suite.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from eval.scorer import (
    Case,
    CaseResult,
    Gate,
    GroupStats,
    check_gate,
    error_result,
    load_cases,
    load_gates,
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


def in_process_service(settings: Any = None) -> AskFn:
    import rag  # noqa: F401  (offline switches before any model library)
    from rag.assistant import build_assistant
    from rag.config import get_settings

    return build_assistant(settings or get_settings()).ask


class Suite(BaseModel):
    """Cases and the note folders their index holds (eval/suites.yaml)."""

    cases: Path
    corpus: list[Path]


def load_suites(path: Path = EVAL_DIR / "suites.yaml") -> dict[str, Suite]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    root = path.resolve().parent.parent
    return {
        name: Suite(cases=root / s["cases"], corpus=[root / c for c in s["corpus"]])
        for name, s in data.items()
    }


def suite_settings(suite: Suite, base: Any) -> Any:
    """Settings whose corpus is a copy of the suite's note folders, indexed under the base
    data dir (one index per distinct set of folders, reused by suites that share it)."""
    import hashlib
    import shutil

    key = hashlib.sha256("|".join(str(c) for c in suite.corpus).encode()).hexdigest()[:10]
    root = Path(base.data_dir) / "suites" / key
    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    wanted: set[str] = set()
    for folder in suite.corpus:
        for src in sorted(folder.iterdir()):
            if src.is_file() and not src.name.startswith("."):
                wanted.add(src.name)
                dst = corpus / src.name
                if not dst.exists() or dst.read_bytes() != src.read_bytes():
                    shutil.copy2(src, dst)
    for stale in corpus.iterdir():
        if stale.name not in wanted:
            stale.unlink()
    return base.model_copy(update={"corpus_dir": corpus, "data_dir": root / "data"})


def suite_service(suite: Suite) -> AskFn:
    """Index the suite's notes (only what changed) and answer from that index."""
    import rag  # noqa: F401
    from ingest.pipeline import Indexer
    from rag.config import get_settings

    settings = suite_settings(suite, get_settings())
    report = Indexer(settings).ingest_all(progress=False)
    print(
        f"   index {settings.data_dir}: {report.documents} documents, {report.added} chunks added,"
        f" {report.unchanged} unchanged, {report.seconds:.1f} s"
        + "".join(f"\n   skipped: {s}" for s in report.skipped)
    )
    return in_process_service(settings)


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


def write_chart(
    summary: dict[str, Any],
    results: Sequence[CaseResult],
    path: Path,
    suites: Sequence[tuple[str, dict[str, Any]]] = (),
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if len(suites) > 1:  # one bar per suite and language, then the kinds
        rows = []
        for name, s in suites:
            rows.append((f"{name}", s["overall"].correct_and_cited))
            rows += [(f"{name} {lang}", st.correct_and_cited) for lang, st in s["language"].items()]
            rows += [(f"{name} {kind}", st.correct_and_cited) for kind, st in s["kind"].items()]
    else:
        rows = [(f"{g}:{n}", s.correct_and_cited) for g, n, s in summary_rows(summary)]
    lat = [r.latency_ms for r in results if r.latency_ms is not None]
    height = max(5.5, 0.22 * len(rows))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, height), gridspec_kw={"width_ratios": [3, 2]})
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


def suite_section(
    name: str,
    summary: dict[str, Any],
    results: Sequence[CaseResult],
    failures: list[str],
    *,
    gate: Gate | None,
    list_failures: bool,
) -> list[str]:
    lines = [f"## Suite `{name}`", "", markdown_table(summary), ""]
    if gate is not None:
        lines += [f"- FAIL {f}" for f in failures] or ["- gate: all thresholds met"]
        lines.append("")
    wrong = [r for r in results if r.misattributed]
    lines.append(
        f"Misattributions (a figure of another entity, metric or period): **{len(wrong)}**"
    )
    lines.append("")
    failed = [r for r in results if not r.correct_and_cited]
    if not list_failures:
        lines += [
            f"{len(failed)} failing cases. This split is read as an aggregate only: its failures"
            " are not listed, so that nobody fits the code to them.",
            "",
        ]
        return lines
    lines += ["### Failing cases", ""]
    for r in failed:
        flag = " **misattributed**" if r.misattributed else ""
        lines.append(
            f"- `{r.id}` ({r.kind}, {r.language}){flag}: {'; '.join(r.reasons)} — "
            f"answer: {r.answer[:160].replace(chr(10), ' ')!r}"
        )
    if not failed:
        lines.append("- none")
    lines.append("")
    return lines


def overview_table(runs: Sequence[tuple[str, dict[str, Any], Sequence[CaseResult]]]) -> str:
    cols = (
        "suite",
        "n",
        "overall",
        "zh",
        "en",
        "numeric",
        "calculator",
        "abstain",
        "misattributed",
        "p50 ms",
    )
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for name, summary, _ in runs:
        o = summary["overall"]

        def part(group: str, key: str, s: dict[str, Any] = summary) -> str:
            stats = s[group].get(key)
            return _pct(stats.correct_and_cited) if stats else "-"

        out.append(
            f"| {name} | {o.n} | {_pct(o.correct_and_cited)} | {part('language', 'zh')} | "
            f"{part('language', 'en')} | {part('kind', 'numeric')} | {part('kind', 'calculator')} | "
            f"{part('kind', 'abstain')} | {o.misattributed} | {_ms(o.latency_p50_ms)} |"
        )
    return "\n".join(out)


def write_report(
    path: Path,
    runs: Sequence[tuple[str, dict[str, Any], Sequence[CaseResult]]],
    *,
    gates: dict[str, Gate | None],
    failures: dict[str, list[str]],
    context: dict[str, Any],
    baseline: tuple[dict[str, Any], dict[str, Any]] | None = None,
    hidden: Sequence[str] = (),
) -> None:
    all_results = [r for _, _, rs in runs for r in rs]
    chart = write_chart(
        runs[0][1],
        all_results,
        path.with_name("report_chart.png"),
        suites=[(name, summary) for name, summary, _ in runs],
    )
    lines = [
        "# Evaluation report",
        "",
        f"Generated {context['when']} — target: `{context['target']}`, cases: `{context['cases']}`"
        f" ({len(all_results)} run). Settings: {context.get('settings', '-')}.",
        "",
        "A case passes when its answer is correct (every expected figure, keywords, or a clean "
        "abstention) **and** cites the expected note with a quote stating the figure. Figures are "
        "read by the scorer's own parser (`eval/figures.py`), not the product's. A "
        "*misattribution* is a wrong answer stating a figure that its citations hold for another "
        "entity, metric or period: worse than abstaining, so counted on its own.",
        "",
    ]
    if len(runs) > 1:
        lines += [overview_table(runs), ""]
    lines += [f"![accuracy and latency]({chart.name})", ""]
    for name, summary, results in runs:
        lines += suite_section(
            name,
            summary,
            results,
            failures.get(name, []),
            gate=gates.get(name),
            list_failures=name not in hidden,
        )
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
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _stratified(cases: Sequence[Case], n: int) -> list[Case]:
    """Round-robin over kinds (then languages) so every kind is in the subset."""
    from eval.baseline import stratified_subset

    return stratified_subset(cases, n)


def select(cases: list[Case], args: argparse.Namespace) -> list[Case]:
    if args.only_kind:
        cases = [c for c in cases if c.kind in args.only_kind]
    if args.limit:
        cases = cases[: args.limit]
    if args.stratified:
        cases = _stratified(cases, args.stratified)
    return cases


def write_results(
    path: Path,
    summary: dict[str, Any],
    results: Sequence[CaseResult],
    failures: list[str],
    context: dict[str, Any],
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "when": context["when"],
                "target": context["target"],
                "settings": context["settings"],
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eval",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", help="a running server (POST /v1/ask); default: in-process")
    parser.add_argument("--api-key", help="bearer key for --url")
    parser.add_argument("--cases", type=Path, default=EVAL_DIR / "cases.yaml")
    parser.add_argument(
        "--suite",
        action="append",
        help="run a suite of eval/suites.yaml on its own index (repeatable); overrides --cases",
    )
    parser.add_argument(
        "--hide-failures",
        action="append",
        default=["ood-test"],
        metavar="SUITE",
        help="report only aggregates for this suite (default: ood-test, the held-out split)",
    )
    parser.add_argument("--limit", type=int, help="run the first N cases only")
    parser.add_argument("--only-kind", action="append", help="run cases of this kind (repeatable)")
    parser.add_argument(
        "--stratified",
        type=int,
        metavar="N",
        help="run a stratified subset of N cases (every kind and language; e.g. the LLM-mode gate)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="results folder (default eval/results); with --from-feedback the candidates' "
        "YAML file (default eval/candidates/feedback.yaml; - for stdout)",
    )
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
    parser.add_argument(
        "--from-feedback",
        action="store_true",
        help="write the thumbs-down feedback as candidate cases for a person to review "
        "(eval/feedback.py), then exit; nothing is run",
    )
    parser.add_argument(
        "--feedback-db",
        type=Path,
        help="the feedback store to read (default: <RNA_DATA_DIR>/feedback.sqlite3)",
    )
    args = parser.parse_args(argv)
    if args.from_feedback:
        from eval.feedback import DEFAULT_OUT, export
        from rag.config import get_settings

        db = args.feedback_db or get_settings().feedback_db
        out = args.out or DEFAULT_OUT
        return export(db, None if str(out) == "-" else out)
    args.out = args.out or EVAL_DIR / "results"

    target = args.url or "in-process rag.assistant"
    settings_note = "-"
    if not args.url:
        from rag.config import get_settings

        s = get_settings()
        settings_note = f"embedder={s.embedder}, llm={s.llm}, top_k={s.top_k}"

    # (name, cases, ask) for each run
    plan: list[tuple[str, list[Case], Callable[[], AskFn]]] = []
    if args.suite:
        suites = load_suites()
        for name in args.suite:
            if name not in suites:
                print(f"unknown suite {name!r}; choose from {sorted(suites)}", file=sys.stderr)
                return 2
            suite = suites[name]
            plan.append(
                (
                    name,
                    select(load_cases(suite.cases), args),
                    functools.partial(suite_service, suite),
                )
            )
    else:
        plan.append(
            (
                # eval/cases.yaml on its own is the seed suite, and is gated like it
                "seed" if args.cases.resolve() == load_suites()["seed"].cases else "cases",
                select(load_cases(args.cases), args),
                lambda: http_service(args.url, args.api_key) if args.url else in_process_service(),
            )
        )
    if not any(cases for _, cases, _ in plan):
        print("no cases selected", file=sys.stderr)
        return 2

    gates = load_gates(args.gate_file) if args.gate_file.exists() else {}
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    context = {
        "when": when,
        "target": target,
        "settings": settings_note,
        "cases": ", ".join(args.suite) if args.suite else str(args.cases),
    }
    runs: list[tuple[str, dict[str, Any], list[CaseResult]]] = []
    failures: dict[str, list[str]] = {}
    used_gates: dict[str, Gate | None] = {}
    baseline_pair = None
    for name, cases, make_ask in plan:
        print(f"== {name}: {len(cases)} cases")
        ask = make_ask()
        if args.baseline:
            from eval.baseline import build_default_baseline

            subset = _stratified(cases, args.baseline_n)
            print(f"== ours on the {len(subset)}-case baseline subset")
            results = run_cases(subset, ask, label="ours", echo=not args.quiet)
            print(
                "== baseline (RecursiveCharacterTextSplitter 1000/200, Chroma top-4, stuff prompt)"
            )
            theirs = run_cases(
                subset, build_default_baseline().ask, label="base", echo=not args.quiet
            )
            s_ours, s_theirs = summarize(results, args.k), summarize(theirs, args.k)
            print("\nside by side (correct and cited):")
            print(f"{'group':40s} {'ours':>8s} {'baseline':>9s}")
            for (g, n, a), (_, _, b) in zip(
                summary_rows(s_ours), summary_rows(s_theirs), strict=False
            ):
                print(
                    f"{g + ':' + n:40s} {_pct(a.correct_and_cited):>8s} {_pct(b.correct_and_cited):>9s}"
                )
            baseline_pair = (s_ours, s_theirs)
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "baseline.json").write_text(
                json.dumps(
                    {
                        "ours": [r.model_dump() for r in results],
                        "baseline": [r.model_dump() for r in theirs],
                    },
                    ensure_ascii=False,
                    indent=1,
                ),
                encoding="utf-8",
            )
        else:
            hide = name in args.hide_failures
            results = run_cases(
                cases, ask, label=name if args.suite else "", echo=not args.quiet and not hide
            )
        summary = summarize(results, args.k)
        print()
        print(summary_table(summary))
        print(f"misattributed: {summary['overall'].misattributed}")
        gate = gates.get(name) or gates.get("")
        used_gates[name] = gate
        failures[name] = check_gate(results, gate) if gate else []
        out = args.out / name / "results.json" if args.suite else args.out / "results.json"
        write_results(out, summary, results, failures[name], context)
        runs.append((name, summary, results))

    write_report(
        args.report,
        runs,
        gates=used_gates,
        failures=failures,
        context=context,
        baseline=baseline_pair,
        hidden=args.hide_failures if args.suite else (),
    )
    if len(runs) > 1:
        print("\n" + overview_table(runs))
    print(f"\nwrote results under {args.out} and {args.report}")

    if args.gate:
        failed = {name: f for name, f in failures.items() if f}
        if failed:
            print("\nGATE FAILED:")
            for name, fs in failed.items():
                for f in fs:
                    print(f"  {name}: {f}")
            for name, _, results in runs:
                if name in args.hide_failures and args.suite:
                    continue
                print(f"failing cases ({name}):")
                for r in results:
                    if not r.correct_and_cited:
                        print(f"  {r.id:28s} {r.kind:13s} {'; '.join(r.reasons)}")
            return 1
        print("\nGATE PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
