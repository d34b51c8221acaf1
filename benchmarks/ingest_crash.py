"""`kill -9` an ingest at random points, rerun it, and check the index equals a clean ingest.

Each round copies a starting state, runs `python -m ingest` in a subprocess, SIGKILLs it after a
random delay (or at a named point, `--targeted`), reruns it to completion and compares the result
with a reference ingest made once, undisturbed, in another data dir:

- Chroma holds exactly the reference chunk ids (no duplicate `chunk_id`, no orphan, none
  missing) and the same vectors (cosine to the reference vector of the same id);
- the SQL record manager's keys are exactly the Chroma ids (no record without a vector, no
  vector without a record);
- the keyword index's ids are exactly the Chroma ids, it is stamped with the collection's
  version, loads, and no staging folder is left behind.

Scenarios (rotated): `fresh` (empty data dir, ingest B), `update` (data dir holding corpus A,
ingest B: adds, an edited document and a deleted one) and `revert` (from A, start ingesting B,
get killed, then the user goes back to A: the rerun ingests A and must equal a clean A).

    source scripts/env.sh
    .venv/bin/python benchmarks/ingest_crash.py [--rounds 20] [--embedder e5|fake] [--targeted]

Figures only; the exit status is 1 when any round ends in a state that differs from the
reference.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

SCENARIOS = ("fresh", "update", "revert")
# Named kill points for --targeted: (point, scenario). Each is a SIGKILL the child sends itself
# at that instant, to hit windows too narrow for a random delay to find.
TARGETED = [
    ("after_vector_add", "fresh"),  # a batch is in Chroma, its records are not written
    ("after_vector_add", "update"),
    ("after_vector_add", "revert"),  # ... and the rerun no longer has those documents
    ("before_record_delete", "update"),  # cleanup deleted vectors, records still there
    ("before_record_delete", "revert"),  # ... and the rerun wants those chunks back
    ("before_bump", "update"),  # Chroma changed, the version stamp not bumped yet
    ("before_keyword_build", "update"),  # version bumped, keyword index not rebuilt yet
    ("before_keyword_pointer", "update"),  # new keyword folder in place, CURRENT not moved
]
REPORT = re.compile(
    r"chunks added (\d+), updated (\d+), deleted (\d+), unchanged (\d+) \| ([\d.]+) s"
)


# -- corpora ---------------------------------------------------------------------------------------


def make_corpora(work: Path, copies: int) -> tuple[Path, Path]:
    """Corpus B (the target) and A (an earlier state of it) built from the real corpus."""
    source = REPO_ROOT / "corpus"
    docs = sorted(p for p in source.iterdir() if p.suffix in {".txt", ".md"})
    b, a = work / "corpus_b", work / "corpus_a"
    for target in (a, b):
        target.mkdir(parents=True)
        shutil.copy(source / "glossary.yaml", target / "glossary.yaml")
    for doc in docs:
        shutil.copy(doc, b / doc.name)
        for k in range(1, copies + 1):  # more chunks, so the embedding phase has many batches
            shutil.copy(doc, b / f"copy{k}_{doc.name}")
    # A: B without the copy1_ documents, the first document with an extra paragraph, and a
    # document B no longer has.
    for path in b.iterdir():
        if path.name != "glossary.yaml" and not path.name.startswith("copy1_"):
            shutil.copy(path, a / path.name)
    first = a / docs[0].name
    first.write_text(
        first.read_text(encoding="utf-8")
        + "\n\n补充纪要：某专家表示，2026年液冷服务器出货预计为11万台。\n",
        encoding="utf-8",
    )
    (a / "retired_note.md").write_text(
        "# 已撤回纪要\n\n2025-10-01 某专家：测试公司2026年出货量预计为42万台。\n",
        encoding="utf-8",
    )
    return a, b


# -- child processes -------------------------------------------------------------------------------


def child_env(data_dir: Path, corpus: Path, embedder: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "RNA_DATA_DIR": str(data_dir),
        "RNA_CORPUS_DIR": str(corpus),
        "RNA_EMBEDDER": embedder,
        "RNA_CHROMA_MODE": "embedded",
        "RNA_LLM": "none",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "TOKENIZERS_PARALLELISM": "false",
        "OMP_WAIT_POLICY": "PASSIVE",
    }


def ingest_cmd(point: str | None = None) -> list[str]:
    if point is None:
        return [sys.executable, "-m", "ingest", "--quiet"]
    return [sys.executable, str(Path(__file__).resolve()), "--child", point]


def run_ingest(data_dir: Path, corpus: Path, embedder: str, cwd: Path) -> dict[str, Any]:
    """Run `python -m ingest` to completion; its report and wall time."""
    started = time.perf_counter()
    proc = subprocess.run(
        ingest_cmd(),
        env=child_env(data_dir, corpus, embedder),
        cwd=cwd,  # not the repo: no stray .env is read
        capture_output=True,
        text=True,
        timeout=900,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"ingest failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    match = REPORT.search(proc.stdout)
    if match is None:
        raise RuntimeError(f"unexpected ingest output: {proc.stdout!r}")
    added, updated, deleted, unchanged = (int(g) for g in match.groups()[:4])
    return {
        "added": added,
        "updated": updated,
        "deleted": deleted,
        "unchanged": unchanged,
        "wall_s": seconds,
    }


def run_and_kill(
    data_dir: Path, corpus: Path, embedder: str, cwd: Path, delay: float | None, point: str | None
) -> dict[str, Any]:
    """Start an ingest and SIGKILL it after `delay` s (or let it kill itself at `point`)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        ingest_cmd(point),
        env=child_env(data_dir, corpus, embedder),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if delay is not None:
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=900)
    code = proc.returncode
    if code == -signal.SIGKILL:
        outcome = "killed"
    elif code == 0:
        outcome = "finished"  # the delay outlasted the run: still a valid round
    else:
        raise RuntimeError(f"ingest exited {code}:\n{err[-3000:]}")
    return {"outcome": outcome, "at_s": time.perf_counter() - started}


def inspect(data_dir: Path, cwd: Path, vectors: Path | None = None) -> dict[str, Any]:
    """The state of a data dir, read by a fresh process (no client cache in this one)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--inspect", str(data_dir)]
    if vectors is not None:
        cmd += ["--vectors", str(vectors)]
    env = child_env(data_dir, REPO_ROOT / "corpus", "fake")
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"inspect failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.splitlines()[-1])


# -- in the child ----------------------------------------------------------------------------------


def _die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def child(point: str) -> int:
    """`python -m ingest` with a SIGKILL planted at `point`."""
    import langchain_chroma
    from langchain_classic.indexes import SQLRecordManager

    import ingest.pipeline as pipeline
    import rag.retrieve.keyword as keyword
    from ingest.__main__ import main

    if point == "after_vector_add":
        add = langchain_chroma.Chroma.add_documents

        def add_then_die(self: Any, *args: Any, **kwargs: Any) -> Any:
            add(self, *args, **kwargs)
            _die()

        langchain_chroma.Chroma.add_documents = add_then_die  # type: ignore[method-assign]
    elif point == "before_record_delete":
        SQLRecordManager.delete_keys = lambda *a, **k: _die()  # type: ignore[method-assign]
    elif point == "before_bump":
        pipeline.bump_collection_version = lambda *a, **k: _die()  # type: ignore[assignment]
    elif point == "before_keyword_build":
        keyword.KeywordIndex.build = lambda *a, **k: _die()  # type: ignore[method-assign]
    elif point == "before_keyword_pointer":
        replace = os.replace

        def replace_or_die(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
            if str(dst).endswith("CURRENT"):
                _die()
            replace(src, dst, *args, **kwargs)

        keyword.os.replace = replace_or_die  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown kill point {point!r}")
    return main(["--quiet"])


def inspect_main(data_dir: Path, vectors: Path | None) -> int:
    import numpy as np
    from langchain_classic.indexes import SQLRecordManager

    from rag.config import Settings
    from rag.retrieve.store import VERSION_KEY, make_chroma_client

    settings = Settings(_env_file=None, data_dir=data_dir, embedder="fake", llm="none")  # type: ignore[call-arg]
    state: dict[str, Any] = {}
    client = make_chroma_client(settings)
    try:
        collection = client.get_collection(settings.collection)
    except Exception:  # never created: the kill came before the first write
        collection = None
    if collection is None:
        state.update(ids=[], chunk_ids=[], count=0, version=None)
    else:
        include = ["metadatas", "embeddings"] if vectors else ["metadatas"]
        got = collection.get(include=include)
        state.update(
            ids=got["ids"],
            chunk_ids=[str((m or {}).get("chunk_id")) for m in got["metadatas"] or []],
            count=collection.count(),
            version=(collection.metadata or {}).get(VERSION_KEY),
        )
        if vectors:
            np.savez(vectors, ids=np.array(got["ids"]), vectors=np.asarray(got["embeddings"]))
    records: list[str] = []
    if (data_dir / "records.sqlite").exists():
        namespace = f"chroma/{settings.chroma_mode}/{settings.collection}"
        manager = SQLRecordManager(namespace, db_url=settings.record_db_url)
        manager.create_schema()
        records = manager.list_keys()
    state["records"] = records
    kw = settings.keyword_dir
    current = (kw / "CURRENT").read_text().strip() if (kw / "CURRENT").exists() else None
    kw_ids = None
    loads = False
    if current and (kw / current / "ids.json").exists():
        kw_ids = json.loads((kw / current / "ids.json").read_text(encoding="utf-8"))
        from rag.retrieve.keyword import KeywordIndex

        loads = KeywordIndex(kw).load()
    leftovers = (
        sorted(p.name for p in kw.iterdir() if kw.is_dir() and p.name not in {"CURRENT", current})
        if kw.is_dir()
        else []
    )
    state["keyword"] = {"version": current, "ids": kw_ids, "loads": loads, "leftovers": leftovers}
    print(json.dumps(state))
    return 0


# -- comparing -------------------------------------------------------------------------------------


def left_behind(state: dict[str, Any]) -> str:
    """What a kill left, in a few characters: vectors / records / keyword index."""
    kw = state["keyword"]
    kw_ids = set(kw["ids"] or [])
    if kw["version"] is None:
        kw_state = "none"
    elif kw_ids == set(state["ids"]) and kw["version"] == state["version"]:
        kw_state = "in step"
    else:
        kw_state = "STALE"
    return f"{state['count']}v/{len(state['records'])}r/kw {kw_state}"


def compare(
    state: dict[str, Any], reference: dict[str, Any], ref_vectors: Path, vectors: Path
) -> dict[str, Any]:
    import numpy as np

    ids = set(state["ids"])
    ref_ids = set(reference["ids"])
    kw = state["keyword"]
    checks = {
        "ids": ids == ref_ids,
        "count": state["count"] == reference["count"],
        "no_dup": len(state["chunk_ids"]) == len(set(state["chunk_ids"]))
        and set(state["chunk_ids"]) == set(reference["chunk_ids"]),
        "records": set(state["records"]) == ids and len(state["records"]) == len(ids),
        "keyword": set(kw["ids"] or []) == ids and len(kw["ids"] or []) == len(ids),
        "kw_version": kw["version"] is not None and kw["version"] == state["version"],
        "kw_loads": bool(kw["loads"]) and not kw["leftovers"],
    }
    ref = np.load(ref_vectors)
    got = np.load(vectors)
    by_id = {i: v for i, v in zip(got["ids"].tolist(), got["vectors"], strict=True)}
    cosines = [
        float(np.dot(v, by_id[i]) / (np.linalg.norm(v) * np.linalg.norm(by_id[i])))
        for i, v in zip(ref["ids"].tolist(), ref["vectors"], strict=True)
        if i in by_id
    ]
    min_cos = min(cosines) if cosines else 0.0
    checks["vectors"] = min_cos >= 0.999
    return {
        "checks": checks,
        "ok": all(checks.values()),
        "missing": len(ref_ids - ids),
        "orphans": len(ids - ref_ids),
        "min_cos": min_cos,
    }


# -- the benchmark -------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="random-delay rounds")
    parser.add_argument("--targeted", action="store_true", help="also the named kill points")
    parser.add_argument("--embedder", default=os.environ.get("RNA_EMBEDDER", "e5"))
    parser.add_argument("--copies", type=int, default=3, help="copies of each corpus document")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, help="keep the data dirs here (default: a tmp dir)")
    parser.add_argument("--json", type=Path, help="write every round's figures here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--inspect", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--vectors", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    if args.inspect:
        return inspect_main(args.inspect, args.vectors)

    rng = random.Random(args.seed)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="ingest-crash-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus_a, corpus_b = make_corpora(work / "corpora", args.copies)
    print(f"work dir {work}; embedder {args.embedder}; seed {args.seed}")

    # References: clean, undisturbed ingests of B and of A.
    refs: dict[str, dict[str, Any]] = {}
    for name, corpus in (("B", corpus_b), ("A", corpus_a)):
        data = work / f"ref_{name}"
        report = run_ingest(data, corpus, args.embedder, work)
        state = inspect(data, work, vectors=work / f"ref_{name}.npz")
        refs[name] = {"data": data, "report": report, "state": state}
        print(
            f"reference {name}: {state['count']} chunks, {report['wall_s']:.1f} s "
            f"(added {report['added']})"
        )
    # How long an undisturbed update A -> B runs, to spread the kill delays over it.
    probe = work / "probe_update"
    shutil.copytree(refs["A"]["data"], probe)
    update_report = run_ingest(probe, corpus_b, args.embedder, work)
    shutil.rmtree(probe)
    durations = {"fresh": refs["B"]["report"]["wall_s"], "update": update_report["wall_s"]}
    durations["revert"] = durations["update"]
    print(
        f"undisturbed update A -> B: {update_report['wall_s']:.1f} s (added "
        f"{update_report['added']}, deleted {update_report['deleted']}, unchanged "
        f"{update_report['unchanged']})\n"
    )

    plan: list[tuple[str, str | None, float | None]] = []
    for i in range(args.rounds):
        scenario = SCENARIOS[i % len(SCENARIOS)]
        plan.append((scenario, None, rng.uniform(0.3, durations[scenario] * 1.05)))
    if args.targeted:
        plan += [(scenario, point, None) for point, scenario in TARGETED]

    header = (
        f"{'#':>2} {'scenario':8} {'kill at':>22} {'killed':>8} {'left behind':>26} "
        f"{'rerun +/~/-/=':>16} {'rerun s':>7} {'miss':>4} {'orph':>4} {'min cos':>8} verdict"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for n, (scenario, point, delay) in enumerate(plan, start=1):
        data = work / f"round_{n:02d}"
        if data.exists():
            shutil.rmtree(data)
        if scenario != "fresh":
            shutil.copytree(refs["A"]["data"], data)
        killed = run_and_kill(data, corpus_b, args.embedder, work, delay, point)
        after_kill = inspect(data, work)
        rerun_corpus = corpus_a if scenario == "revert" else corpus_b
        reference = refs["A" if scenario == "revert" else "B"]
        rerun = run_ingest(data, rerun_corpus, args.embedder, work)
        final = inspect(data, work, vectors=work / f"round_{n:02d}.npz")
        result = compare(
            final,
            reference["state"],
            work / f"ref_{reference_name(scenario)}.npz",
            work / f"round_{n:02d}.npz",
        )
        kill_at = point or f"{delay:.1f} s"
        failed = [k for k, ok in result["checks"].items() if not ok]
        row = {
            "round": n,
            "scenario": scenario,
            "kill_at": kill_at,
            "outcome": killed["outcome"],
            "left_behind": left_behind(after_kill),
            "rerun": rerun,
            **{k: result[k] for k in ("ok", "missing", "orphans", "min_cos")},
            "failed": failed,
        }
        rows.append(row)
        changes = f"{rerun['added']}/{rerun['updated']}/{rerun['deleted']}/{rerun['unchanged']}"
        print(
            f"{n:>2} {scenario:8} {kill_at:>22} {killed['outcome']:>8} "
            f"{row['left_behind']:>26} {changes:>16} {rerun['wall_s']:>7.1f} "
            f"{result['missing']:>4} {result['orphans']:>4} {result['min_cos']:>8.5f} "
            f"{'ok' if result['ok'] else 'FAIL ' + ','.join(failed)}",
            flush=True,
        )
        shutil.rmtree(data, ignore_errors=True)
        (work / f"round_{n:02d}.npz").unlink(missing_ok=True)

    killed_rounds = sum(r["outcome"] == "killed" for r in rows)
    ok_rounds = sum(r["ok"] for r in rows)
    print(
        f"\nsummary: {len(rows)} rounds ({killed_rounds} killed mid-run, "
        f"{len(rows) - killed_rounds} finished before the kill), {ok_rounds} equal to the clean "
        f"ingest, {len(rows) - ok_rounds} not; embedder {args.embedder}; reference "
        f"{refs['B']['state']['count']} chunks (B) / {refs['A']['state']['count']} (A); "
        f"rerun {min(r['rerun']['wall_s'] for r in rows):.1f}-"
        f"{max(r['rerun']['wall_s'] for r in rows):.1f} s"
    )
    if args.json:
        args.json.write_text(json.dumps({"embedder": args.embedder, "rounds": rows}, indent=1))
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok_rounds == len(rows) else 1


def reference_name(scenario: str) -> str:
    return "A" if scenario == "revert" else "B"


if __name__ == "__main__":
    sys.exit(main())
