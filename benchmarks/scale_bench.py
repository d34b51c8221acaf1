"""Scale benchmark: synthetic bilingual notes at 10k / 100k / 1M chunks, retrieval by the real
rag/ code (Chroma through `make_vector_store`, `KeywordIndex`, `HybridRetriever`).

    .venv/bin/python benchmarks/scale_bench.py --sizes 10000,100000,1000000 \
        [--chroma-max 100000] [--queries 300] [--workdir /tmp/scale-bench] [--out FILE]

What is synthetic, and why:
- Chunk texts come from templates like the real notes in corpus/ (Q&A about companies from
  corpus/glossary.yaml, products, years, figures; ~75% Chinese, ~25% English, 150-300 chars,
  plus made-up place names so the vocabulary keeps growing with size as real notes' does).
- Vectors are synthetic 384-dim unit vectors (the size of multilingual-e5-small), clustered by
  company and product so HNSW sees structure rather than uniform noise. Embedding is therefore
  excluded from every figure (benchmarks/embed_bench.py measured 29.5 chunks/s for e5 bf16 on
  this CPU: embedding, not indexing, bounds a real ingest).
- Query vectors are synthetic too (the question's company + product clusters); the keyword leg
  runs the real tokenizer (rjieba + glossary words + glossary expansion) and the hybrid figure
  is `HybridRetriever.invoke` end to end (dense + version check + keyword + weighted RRF +
  fetching keyword-only hits from Chroma), exactly what a question pays before evidence.

Per size, fresh subprocesses, so each peak RSS is its own: `chroma` (stream the chunks into an
embedded PersistentClient in batches of 5000, as ingest streams them), `keyword` (what a replica
does when the stamp changes: read every chunk back from Chroma and index it; above --chroma-max
it indexes the generated texts instead) and `query` (open the persisted store and index as an
API replica does; its RSS is what serving costs). Latencies are wall clock and process CPU time
(CPU is the steadier figure on a shared machine; the load average is recorded with each leg).
Figures only, no asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

DIM = 384
SEED = 20261122

PRODUCTS = [  # (zh, en, unit zh, unit en)
    ("AEC", "AEC", "根", "cables"),
    ("AOC", "AOC", "根", "cables"),
    ("铜缆", "copper cable", "根", "cables"),
    ("电源线", "power cord", "根", "cords"),
    ("800G光模块", "800G optical module", "只", "modules"),
    ("1.6T光模块", "1.6T optical module", "只", "modules"),
    ("GPU", "GPU", "颗", "chips"),
    ("ASIC", "ASIC", "颗", "chips"),
    ("HBM", "HBM", "颗", "stacks"),
    ("服务器", "server", "台", "servers"),
    ("AI服务器", "AI server", "台", "servers"),
    ("交换机", "switch", "台", "switches"),
    ("液冷板", "cold plate", "套", "sets"),
    ("CDU", "CDU", "台", "units"),
    ("UPS电源", "UPS", "台", "units"),
    ("PCB", "PCB", "平米", "square metres"),
    ("CPO", "CPO", "套", "sets"),
    ("连接器", "connector", "个", "connectors"),
    ("机柜", "rack", "台", "racks"),
    ("人形机器人", "humanoid robot", "台", "robots"),
]
SCENES = [
    "机柜内部互联",
    "GPU之间互联",
    "服务器到TOR交换机",
    "数据中心园区",
    "边缘推理",
    "训练集群",
]
# Common characters for made-up place and project names (the long tail of a real vocabulary).
HANZI = "东南西北中华新安宁丰和兴泰华盛源通达恒远明光金银宝利成德嘉福海山川湖江河林森石峰云天星辰阳昌荣泽润瑞祥鑫盈晟隆"
QUARTERS = ["一", "二", "三", "四"]


def _companies() -> list[tuple[str, str]]:
    """(Chinese name, English name) for every glossary entity (its first alias of each kind)."""
    from rag.config import REPO_ROOT
    from rag.glossary import Glossary

    out = []
    for group in Glossary.load(REPO_ROOT / "corpus" / "glossary.yaml").entities:
        zh = next((a for a in group if not a.isascii()), group[0])
        en = next((a for a in group if a.isascii()), group[0])
        out.append((zh, en))
    return out


def _place(rng: random.Random) -> str:
    return "".join(rng.choice(HANZI) for _ in range(rng.choice((2, 2, 3)))) + rng.choice(
        ("基地", "园区", "项目", "工厂")
    )


def _zh_chunk(rng: random.Random, co: str, prod: tuple[str, ...], companies: list[Any]) -> str:
    p, _, unit, _ = prod
    year = rng.randint(2023, 2028)
    sup, sup2 = rng.choice(companies)[0], rng.choice(companies)[0]
    n = round(rng.uniform(1, 500), rng.choice((0, 0, 1)))
    pct, pct2 = rng.randint(2, 95), rng.randint(2, 95)
    question = rng.choice(
        (
            f"{co}{year}年{p}需求量及规格？",
            f"{co}的{p}供应商格局如何？",
            f"{p}价格走势及{year + 1}年展望？",
            f"{co}{year}年资本开支预期？",
            f"{p}在{rng.choice(SCENES)}场景的渗透率？",
        )
    )
    sentences = [
        f"{co}{year}年{p}需求量约为{n}万{unit}，{year + 1}年预计增长至{round(n * rng.uniform(1.1, 2.6), 1)}万{unit}左右。",
        f"目前{p}主要由{sup}供应，份额约{pct}%，{sup2}约占{pct2}%。",
        f"{p}单价约{rng.randint(20, 3000)}美元，{year + 1}年预计降至{rng.randint(15, 2500)}美元。",
        f"{co}{year}年资本开支约{rng.randint(50, 1200)}亿美元，同比增长{pct}%，其中{p}相关投入占比约{pct2}%。",
        f"{year}年第{rng.choice(QUARTERS)}季度{co}{p}出货量约{n}万{unit}，环比{rng.choice(('增长', '下降'))}{pct}%。",
        f"专家认为{p}在{rng.choice(SCENES)}场景的渗透率将从{pct}%提升至{pct2}%。",
        f"{sup}已通过{co}认证，{_place(rng)}预计{year}年{rng.randint(1, 12)}月开始批量供货。",
    ]
    rng.shuffle(sentences)
    return f"Q：{question} A：" + "".join(sentences[: rng.randint(3, 5)])


def _en_chunk(rng: random.Random, co: str, prod: tuple[str, ...], companies: list[Any]) -> str:
    _, p, _, unit = prod
    year = rng.randint(2023, 2028)
    sup, sup2 = rng.choice(companies)[1], rng.choice(companies)[1]
    n = round(rng.uniform(0.1, 50), 1)
    pct, pct2 = rng.randint(2, 95), rng.randint(2, 95)
    question = rng.choice(
        (
            f"What is {co}'s {year} {p} demand?",
            f"Who supplies {co}'s {p}?",
            f"How will {p} prices move in {year + 1}?",
            f"What is {co}'s {year} capex plan?",
        )
    )
    sentences = [
        f"{co}'s {year} {p} demand is about {n} million {unit}, rising to {round(n * rng.uniform(1.1, 2.6), 1)} million in {year + 1}.",
        f"{sup} holds about {pct}% of {co}'s {p} supply; {sup2} about {pct2}%.",
        f"The {p} ASP is around ${rng.randint(20, 3000)}, expected to fall to ${rng.randint(15, 2500)} by {year + 1}.",
        f"{co} guided {year} capex to about ${rng.randint(5, 120)} billion, up {pct}% year on year.",
        f"In Q{rng.randint(1, 4)} {year}, {co} shipped about {n} million {p} units, {rng.choice(('up', 'down'))} {pct}% quarter on quarter.",
    ]
    rng.shuffle(sentences)
    return f"Q: {question} A: " + " ".join(sentences[: rng.randint(2, 3)])


Batch = tuple[list[str], list[str], list[dict[str, Any]], np.ndarray]


def generate(n: int, batch: int = 5000) -> Iterator[Batch]:
    """ids, texts, metadatas and (company, product) cluster labels of n synthetic chunks, in
    batches (as ingest streams them). Deterministic: size n is a prefix of any larger size."""
    rng = random.Random(SEED)
    companies = _companies()
    chunks_per_doc = 25
    for first in range(0, n, batch):
        ids, texts, metas = [], [], []
        labels = np.empty((min(batch, n - first), 2), dtype=np.int32)
        for j in range(len(labels)):
            i = first + j
            c = rng.randrange(len(companies))
            p = rng.randrange(len(PRODUCTS))
            labels[j] = c, p
            if rng.random() < 0.75:
                text = _zh_chunk(rng, companies[c][0], PRODUCTS[p], companies)
            else:
                text = _en_chunk(rng, companies[c][1], PRODUCTS[p], companies)
            doc = i // chunks_per_doc
            date = f"20{23 + doc % 4}-{1 + doc % 12:02d}-{1 + doc % 28:02d}"
            ids.append(f"{i:032x}")
            texts.append(text)
            metas.append(
                {  # the keys ingest/pipeline.py writes (offsets kept short)
                    "source": f"synthetic/{doc:07d}.txt",
                    "chunk_id": f"{i:032x}",
                    "position": i % chunks_per_doc,
                    "title": f"{companies[c][0]}{PRODUCTS[p][0]}专家交流",
                    "date": date,
                    "date_int": int(date.replace("-", "")),
                    "start": (i % chunks_per_doc) * 300,
                    "end": (i % chunks_per_doc) * 300 + len(text),
                    "offsets": "[]",
                    "doc_hash": f"{doc:064x}",
                    "pipeline": "1",
                }
            )
        yield ids, texts, metas, labels


class Clusters:
    """Unit vectors near the sum of a company centroid and a product centroid."""

    def __init__(self, companies: int) -> None:
        rng = np.random.default_rng(SEED)
        self.company = rng.standard_normal((companies, DIM)).astype(np.float32)
        self.product = rng.standard_normal((len(PRODUCTS), DIM)).astype(np.float32)

    def vectors(self, labels: np.ndarray, noise: float, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        v = self.company[labels[:, 0]] + 0.7 * self.product[labels[:, 1]]
        v += noise * rng.standard_normal(v.shape).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        return v


def make_queries(count: int) -> tuple[list[str], np.ndarray]:
    """Questions in both languages (alternating) and their (company, product) labels."""
    rng = random.Random(SEED + 1)
    companies = _companies()
    questions, labels = [], []
    for i in range(count):
        c, p = rng.randrange(len(companies)), rng.randrange(len(PRODUCTS))
        year = rng.randint(2023, 2028)
        zh, en = companies[c]
        pz, pe = PRODUCTS[p][0], PRODUCTS[p][1]
        if i % 2 == 0:
            q = rng.choice(
                (
                    f"{zh}{year}年{pz}需求量是多少？",
                    f"{zh}的{pz}主要供应商是谁，份额多少？",
                    f"{year}年{zh}资本开支多少，{pz}占比？",
                    f"{pz}单价{year}年是多少？",
                )
            )
        else:
            q = rng.choice(
                (
                    f"What is {en}'s {year} {pe} demand?",
                    f"Who supplies {en}'s {pe} and with what share?",
                    f"What is {en}'s {year} capex?",
                    f"How much did {en} ship of {pe} in {year}?",
                )
            )
        questions.append(q)
        labels.append((c, p))
    return questions, np.array(labels, dtype=np.int32)


class TableEmbeddings:
    """A LangChain `Embeddings` stand-in: the precomputed synthetic vector of each question."""

    def __init__(self, table: dict[str, np.ndarray]) -> None:
        self.table = table

    def embed_query(self, text: str) -> list[float]:
        return self.table[text].tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]


def _settings(workdir: Path) -> Any:
    from rag.config import Settings

    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=workdir / "data",
        collection="scale_bench",
        embedder="fake",
        llm="none",
    )


def _disk_mb(path: Path) -> float:
    """Allocated bytes (not apparent size) under path, in MB."""
    if not path.exists():
        return 0.0
    total = sum(p.lstat().st_blocks * 512 for p in path.rglob("*") if p.is_file())
    return total / 1e6


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def chroma_worker(size: int, workdir: Path) -> dict[str, Any]:
    """Stream the chunks into Chroma, batch by batch (as ingest does), then stamp a version."""
    from rag.retrieve.store import bump_collection_version, make_vector_store

    settings = _settings(workdir)
    store = make_vector_store(settings, TableEmbeddings({}))  # type: ignore[arg-type]
    collection = store._collection
    batch = min(5000, store._client.get_max_batch_size())
    clusters = Clusters(len(_companies()))
    out: dict[str, Any] = {"batch": batch, "load_avg_start": os.getloadavg()[0]}
    chars = add_s = add_cpu = 0.0
    for ids, texts, metas, labels in generate(size, batch):
        chars += sum(map(len, texts))
        vectors = clusters.vectors(labels, noise=1.0, seed=SEED + int(ids[0], 16))
        t, cpu = time.perf_counter(), time.process_time()
        # The call langchain_chroma's add_texts makes, minus the embedding.
        collection.upsert(ids=ids, embeddings=vectors, documents=texts, metadatas=metas)  # type: ignore[arg-type]
        add_s += time.perf_counter() - t
        add_cpu += time.process_time() - cpu
    bump_collection_version(store)
    out.update(
        mean_chars=chars / size,
        add_s=add_s,
        add_cpu_s=add_cpu,
        add_per_s=size / add_s,
        add_per_cpu_s=size / add_cpu,
        count=collection.count(),
        disk_mb=_disk_mb(settings.chroma_dir),
        peak_rss_mb=_peak_rss_mb(),
        load_avg_end=os.getloadavg()[0],
    )
    return out


def keyword_worker(size: int, workdir: Path, from_chroma: bool) -> dict[str, Any]:
    """Build the keyword index the way a replica does: read every chunk from Chroma and index
    it (`rag.retrieve.store.rebuild_keyword_index`, timed in its two steps); without Chroma at this size,
    from the generated texts."""
    from rag.glossary import Glossary
    from rag.retrieve.keyword import KeywordIndex
    from rag.retrieve.store import all_chunk_texts, collection_version, make_vector_store

    settings = _settings(workdir)
    out: dict[str, Any] = {"load_avg_start": os.getloadavg()[0]}
    t, cpu = time.perf_counter(), time.process_time()
    if from_chroma:
        store = make_vector_store(settings, TableEmbeddings({}))  # type: ignore[arg-type]
        version = collection_version(store) or "synthetic"
        ids, texts = all_chunk_texts(store)
        del store
    else:
        version, ids, texts = "synthetic", [], []
        for batch_ids, batch_texts, _, _ in generate(size):
            ids += batch_ids
            texts += batch_texts
    out["read_s" if from_chroma else "generate_s"] = time.perf_counter() - t
    out["read_cpu_s" if from_chroma else "generate_cpu_s"] = time.process_time() - cpu
    assert len(ids) == size
    out["rss_before_build_mb"] = _rss_mb()  # ids and texts of every chunk, as in a rebuild
    keyword = KeywordIndex(settings.keyword_dir, Glossary.load(_glossary_path()).words())
    t, cpu = time.perf_counter(), time.process_time()
    keyword.build(ids, texts, version)
    out.update(
        build_s=time.perf_counter() - t,
        build_cpu_s=time.process_time() - cpu,
        vocab=len(keyword._bm25.vocab_dict) if keyword._bm25 else 0,
        disk_mb=_disk_mb(settings.keyword_dir),
        peak_rss_mb=_peak_rss_mb(),
        load_avg_end=os.getloadavg()[0],
    )
    out["add_per_s"] = size / out["build_s"]
    out["add_per_cpu_s"] = size / out["build_cpu_s"]
    return out


def _glossary_path() -> Path:
    from rag.config import REPO_ROOT

    return REPO_ROOT / "corpus" / "glossary.yaml"


def _percentiles(samples: list[float]) -> dict[str, float]:
    ms = sorted(1000 * s for s in samples)
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50": q[49], "p95": q[94], "p99": q[98], "mean": statistics.fmean(ms), "n": len(ms)}


def query_worker(workdir: Path, queries: int, with_chroma: bool) -> dict[str, Any]:
    from rag.glossary import Glossary
    from rag.retrieve.hybrid import HybridRetriever
    from rag.retrieve.keyword import KeywordIndex, tokenize
    from rag.retrieve.store import make_vector_store

    settings = _settings(workdir)
    glossary = Glossary.load(_glossary_path())
    questions, labels = make_queries(queries)
    clusters = Clusters(len(_companies()))
    vectors = clusters.vectors(labels, noise=0.5, seed=SEED + 2)
    embeddings = TableEmbeddings(dict(zip(questions, vectors, strict=True)))
    out: dict[str, Any] = {"queries": queries, "rss_start_mb": _rss_mb()}

    t = time.perf_counter()
    keyword = KeywordIndex(settings.keyword_dir, glossary.words())
    assert keyword.load()
    out["keyword_load_s"] = time.perf_counter() - t
    out["rss_after_keyword_load_mb"] = _rss_mb()

    def keyword_leg(q: str) -> Any:  # the retriever's keyword leg, tokenizer included
        tokens = tokenize(q) + [t for a in glossary.expand(q) for t in tokenize(a)]
        return keyword.search(tokens, 20)

    legs: dict[str, Any] = {"keyword": keyword_leg}
    if with_chroma:
        t = time.perf_counter()
        store = make_vector_store(settings, embeddings)  # type: ignore[arg-type]
        store.similarity_search_with_score(questions[0], k=20)  # loads the HNSW index
        out["chroma_open_first_query_s"] = time.perf_counter() - t
        retriever = HybridRetriever(vector_store=store, keyword_index=keyword, glossary=glossary)
        legs["dense"] = lambda q: store.similarity_search_with_score(q, k=20)
        legs["hybrid"] = lambda q: retriever.invoke(q, k=5)
        hits = retriever.invoke(questions[0], k=5)
        out["hybrid_example"] = {
            "question": questions[0],
            "top": [d.page_content[:80] for d in hits[:2]],
        }
    for name, leg in legs.items():
        for q in questions[:20]:  # warm-up
            leg(q)
        samples, cpu = [], []
        load = os.getloadavg()[0]
        for q in questions:
            t, c = time.perf_counter(), time.process_time()
            leg(q)
            samples.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        # CPU time (all of this process's threads) is less sensitive to other processes on a
        # shared machine than wall time; the load average says how shared it was.
        out[name] = {**_percentiles(samples), "cpu": _percentiles(cpu), "load_avg": load}
    out["rss_end_mb"] = _rss_mb()
    out["query_peak_rss_mb"] = _peak_rss_mb()
    return out


def _run(args: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"worker {args} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _fmt(leg: dict[str, float] | None) -> str:
    return f"{leg['p50']:6.1f} {leg['p95']:6.1f}" if leg else f"{'-':>6} {'-':>6}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument(
        "--chroma-max",
        type=int,
        default=100_000,
        help="largest size also put into Chroma (100k took ~6 min on 2 shared cores)",
    )
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/scale-bench"))
    parser.add_argument("--keep", action="store_true", help="keep the indexes in --workdir")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    parser.add_argument("--worker", choices=["chroma", "keyword", "query"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--with-chroma", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        with_chroma = bool(args.with_chroma)
        if args.worker == "chroma":
            result = chroma_worker(args.size, args.workdir)
        elif args.worker == "keyword":
            result = keyword_worker(args.size, args.workdir, with_chroma)
        else:
            result = query_worker(args.workdir, args.queries, with_chroma)
        print(json.dumps(result))
        return

    results = []
    started = time.perf_counter()
    for size in [int(s) for s in args.sizes.split(",")]:
        workdir = args.workdir / str(size)
        shutil.rmtree(workdir, ignore_errors=True)
        with_chroma = size <= args.chroma_max
        common = ["--size", str(size), "--workdir", str(workdir)]
        common += ["--with-chroma", str(int(with_chroma)), "--queries", str(args.queries)]
        figures: dict[str, Any] = {"chunks": size}
        for worker in ["chroma", "keyword", "query"] if with_chroma else ["keyword", "query"]:
            t = time.perf_counter()
            figures[worker] = _run(["--worker", worker, *common])
            figures[worker]["wall_s"] = time.perf_counter() - t
        results.append(figures)
        print(json.dumps(figures), file=sys.stderr, flush=True)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    nan = float("nan")
    print(
        f"\n{'chunks':>9} {'chroma/s':>9} {'kw/s':>7} {'chroma MB':>10} {'kw MB':>6} "
        f"{'RSS: chroma':>11} {'kw':>6} {'serve':>6}  {'dense p50 p95':>13}  "
        f"{'kw p50 p95':>13}  {'hybrid p50 p95':>14}  {'rebuild s':>9}"
    )
    for r in results:
        c, k, q = r.get("chroma", {}), r["keyword"], r["query"]
        rebuild = k.get("read_s", nan) + k["build_s"]
        print(
            f"{r['chunks']:>9} {c.get('add_per_s', nan):>9.0f} {k['add_per_s']:>7.0f} "
            f"{c.get('disk_mb', nan):>10.0f} {k['disk_mb']:>6.0f} "
            f"{c.get('peak_rss_mb', nan):>11.0f} {k['peak_rss_mb']:>6.0f} {q['rss_end_mb']:>6.0f}  "
            f"{_fmt(q.get('dense'))}  {_fmt(q.get('keyword'))}   {_fmt(q.get('hybrid'))}  "
            f"{rebuild:>9.1f}"
        )
    print(
        f"(wall-clock latencies in ms over {args.queries} queries; disk and peak RSS in MB; "
        "rebuild = a replica re-reading Chroma and re-indexing; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "cpus": os.cpu_count(),
        "wall_s": time.perf_counter() - started,
        "args": {k: str(v) for k, v in vars(args).items() if k not in ("worker", "size")},
        "results": results,
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
