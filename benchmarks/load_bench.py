"""Load on `POST /v1/ask`: N concurrent clients for D seconds against the real server, once in
deterministic mode (RNA_LLM=none) and once with the embedded LLM (RNA_LLM=llamacpp).

    .venv/bin/python benchmarks/load_bench.py [--mode deterministic|llm|llm-no-degrade|both|degrade]
        [--clients 20] [--seconds 60] [--out data/load/load.json]

`--mode degrade` runs the embedded LLM twice, side by side: `llm-no-degrade` is the baseline
(RNA_DEGRADE_WHEN_BUSY=false: what the LLM's gate can't take in time is refused, 503 +
Retry-After) and `llm` answers it at once without the model. The table then compares
refusals, errors and the p95 of the answers served without the model.

For each mode it builds the index under --data-dir if there is none (`python -m ingest`),
starts `python -m api` on a free loopback port, waits for `/readyz`, then runs the clients.
Each client sends the eval questions (Chinese and English) in turn; on a 503 or 429 it sleeps
min(Retry-After, 5) s and goes on, as a polite client would. The client time-out is generous
(120 s), so a time-out is a real failure, not impatience; pooled connections idle for 2 s are
closed by the client (--keepalive-expiry), before uvicorn closes them at 5 s.

Figures per mode: requests by status, connection errors and time-outs, p50/p95/p99 latency of
the 200s, throughput, how many 503/429 carried Retry-After, and the server's RSS (sampled
every 0.5 s: at ready, at the end, peak during the load, and the kernel's high-water mark).

Exits 1 when any 5xx other than a 503 with Retry-After, any 503/429 without it, any dropped
connection or time-out happened, or no request was answered at all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
# mode -> the server's environment
MODES = {
    "deterministic": {"RNA_LLM": "none"},
    "llm": {"RNA_LLM": "llamacpp"},
    "llm-no-degrade": {"RNA_LLM": "llamacpp", "RNA_DEGRADE_WHEN_BUSY": "false"},
}
RUNS = {"both": ["deterministic", "llm"], "degrade": ["llm-no-degrade", "llm"]}
# verification["llm"] of an answer the model never touched (None: answered before the LLM step).
WITHOUT_MODEL = {None, "not used", "off", "skipped"}
RETRY_CAP_S = 5.0


@dataclass
class ModeResult:
    mode: str
    clients: int
    seconds: float
    ready_s: float = 0.0  # server start -> /readyz 200
    elapsed_s: float = 0.0  # load start -> last response (in-flight requests are drained)
    requests: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    overflow_with_retry_after: int = 0  # 503/429 that carried Retry-After
    overflow_503_with_retry_after: int = 0
    overflow_without_retry_after: int = 0
    retry_after_values: dict[str, int] = field(default_factory=dict)
    dropped: int = 0  # connection refused/reset/closed without a response
    timeouts: int = 0
    bad_bodies: int = 0  # 200s that are not an answer
    errors: dict[str, int] = field(default_factory=dict)  # exception class -> count
    latency_ms: dict[str, float] = field(default_factory=dict)  # of the 200s
    without_model: int = 0  # 200s the model never touched (deterministic, computed, abstained)
    without_model_latency_ms: dict[str, float] = field(default_factory=dict)
    # The server's own time for those (timings_ms.total): the rest of the latency is queueing.
    without_model_server_ms: dict[str, float] = field(default_factory=dict)
    degraded: int = 0  # 200s answered without the model because it was busy (llm_busy)
    degraded_latency_ms: dict[str, float] = field(default_factory=dict)
    overflow_latency_ms_max: float = 0.0  # slowest 503/429: overflow must be refused at once
    throughput_rps: float = 0.0  # 200s per second
    answer_status: dict[str, int] = field(default_factory=dict)  # verification.status
    llm_state: dict[str, int] = field(default_factory=dict)  # verification.llm
    rss_mb: dict[str, float] = field(default_factory=dict)
    server_log: str = ""
    server_exit: str = ""  # how the server stopped after the load

    @property
    def refusals(self) -> int:
        return sum(n for code, n in self.statuses.items() if code in ("429", "503"))

    @property
    def errors_total(self) -> int:
        """Everything that is neither an answer nor a polite refusal."""
        return (
            self.server_errors
            + self.overflow_without_retry_after
            + self.dropped
            + self.timeouts
            + self.bad_bodies
        )

    @property
    def server_errors(self) -> int:
        """5xx that are not a 503 with Retry-After (the gate's documented overflow answer)."""
        fives = sum(n for code, n in self.statuses.items() if code.startswith("5"))
        return fives - self.overflow_503_with_retry_after

    def failures(self) -> list[str]:
        found = []
        if self.server_errors:
            found.append(f"{self.mode}: {self.server_errors} 5xx other than 503 + Retry-After")
        if self.overflow_without_retry_after:
            found.append(f"{self.mode}: {self.overflow_without_retry_after} 503/429 lacked it")
        if self.dropped:
            found.append(f"{self.mode}: {self.dropped} dropped connections")
        if self.timeouts:
            found.append(f"{self.mode}: {self.timeouts} client time-outs")
        if not self.statuses.get("200"):
            found.append(f"{self.mode}: no request was answered")
        return found


def load_questions(path: Path) -> list[dict[str, Any]]:
    """Request bodies from the eval cases, Chinese and English interleaved."""
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
    bodies: list[dict[str, Any]] = []
    for case in cases:
        body: dict[str, Any] = {"question": case["question"]}
        if case.get("history"):
            body["history"] = case["history"]
        bodies.append(body)
    zh = [b for b, c in zip(bodies, cases, strict=True) if c.get("language") == "zh"]
    en = [b for b, c in zip(bodies, cases, strict=True) if c.get("language") != "zh"]
    mixed = [b for pair in zip(zh, en, strict=False) for b in pair]
    return mixed + zh[len(en) :] + en[len(zh) :]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, int(-(-q * len(ordered) // 100)))  # ceil
    return ordered[min(rank, len(ordered)) - 1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_index(data_dir: Path, env: dict[str, str]) -> None:
    if (data_dir / "records.sqlite").exists():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"ingesting the corpus into {data_dir} ...", flush=True)
    subprocess.run([sys.executable, "-m", "ingest", "--quiet"], cwd=REPO_ROOT, env=env, check=True)


class RssSampler:
    """The server's RSS every `every_s` seconds, in MB; `mark()` notes the current value."""

    def __init__(self, pid: int, every_s: float = 0.5) -> None:
        self.process = psutil.Process(pid)
        self.every_s = every_s
        self.peak = 0.0
        self.samples: list[float] = []

    def sample(self) -> float:
        with contextlib.suppress(psutil.Error):
            rss = self.process.memory_info().rss / 2**20
            self.samples.append(rss)
            self.peak = max(self.peak, rss)
            return rss
        return 0.0

    def high_water_mb(self) -> float:
        """The kernel's VmHWM: the peak RSS over the process's whole life."""
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sample()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every_s)


async def wait_ready(url: str, server: subprocess.Popen[bytes], timeout_s: float) -> float:
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        while time.monotonic() - started < timeout_s:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited with {server.returncode} during start-up")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/readyz")).status_code == 200:
                    return time.monotonic() - started
            await asyncio.sleep(0.5)
    raise TimeoutError(f"/readyz not 200 within {timeout_s} s")


async def drive(
    url: str,
    bodies: list[dict[str, Any]],
    clients: int,
    seconds: float,
    timeout_s: float,
    keepalive_expiry_s: float = 2.0,
) -> dict[str, Any]:
    """Run the clients; each stops sending at the deadline and finishes what it sent."""
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    retry_after: Counter[str] = Counter()
    answer_status: Counter[str] = Counter()
    llm_state: Counter[str] = Counter()
    latencies: list[float] = []
    without_model: list[float] = []
    without_model_server: list[float] = []
    degraded: list[float] = []
    overflow_latencies: list[float] = []
    tally = Counter[str]()
    # Idle pooled connections are dropped after 2 s, well before uvicorn closes them (5 s).
    # At httpx's default (also 5 s) a POST sent on a connection idle for just under 5 s can
    # meet the server's close when its event loop lags (answering threads hold the GIL): a
    # ReadError, seen once in 166 requests here and reproduced against a bare app.
    limits = httpx.Limits(
        max_connections=clients,
        max_keepalive_connections=clients,
        keepalive_expiry=keepalive_expiry_s,
    )
    deadline = time.monotonic() + seconds

    async with httpx.AsyncClient(base_url=url, timeout=timeout_s, limits=limits) as http:

        async def client(n: int) -> None:
            turn = n  # each client starts at its own question
            while time.monotonic() < deadline:
                body = bodies[turn % len(bodies)]
                turn += clients
                started = time.perf_counter()
                try:
                    response = await http.post("/v1/ask", json=body)
                except httpx.TimeoutException as exc:
                    tally["timeouts"] += 1
                    errors[type(exc).__name__] += 1
                    continue
                except httpx.TransportError as exc:  # refused, reset, closed mid-response
                    tally["dropped"] += 1
                    errors[type(exc).__name__] += 1
                    await asyncio.sleep(0.5)
                    continue
                took = (time.perf_counter() - started) * 1000
                code = response.status_code
                statuses[str(code)] += 1
                if code == 200:
                    latencies.append(took)
                    try:
                        answer = response.json()
                        verification = answer["verification"]
                        assert isinstance(answer["answer"], str)
                    except (ValueError, KeyError, TypeError, AssertionError):
                        tally["bad_bodies"] += 1
                        continue
                    answer_status[str(verification.get("status", "n/a"))] += 1
                    llm_state[str(verification.get("llm", "not reached"))] += 1
                    if verification.get("llm") in WITHOUT_MODEL:
                        without_model.append(took)
                        total = answer.get("timings_ms", {}).get("total")
                        if isinstance(total, int | float):
                            without_model_server.append(float(total))
                    if verification.get("degraded"):
                        degraded.append(took)
                elif code in (429, 503):
                    overflow_latencies.append(took)
                    header = response.headers.get("retry-after")
                    if header is None:
                        tally["overflow_without"] += 1
                        await asyncio.sleep(1)
                        continue
                    tally["overflow_with"] += 1
                    tally[f"overflow_with_{code}"] += 1
                    retry_after[header] += 1
                    try:
                        wait = float(header)
                    except ValueError:  # an HTTP date: not what this server sends
                        wait = RETRY_CAP_S
                    await asyncio.sleep(min(max(wait, 0.0), RETRY_CAP_S))

        load_started = time.monotonic()
        await asyncio.gather(*(client(n) for n in range(clients)))
        elapsed = time.monotonic() - load_started

    return {
        "elapsed_s": elapsed,
        "statuses": dict(statuses),
        "errors": dict(errors),
        "retry_after": dict(retry_after),
        "answer_status": dict(answer_status),
        "llm_state": dict(llm_state),
        "latencies": latencies,
        "without_model": without_model,
        "without_model_server": without_model_server,
        "degraded": degraded,
        "overflow_latencies": overflow_latencies,
        "tally": dict(tally),
    }


async def run_mode(
    mode: str,
    *,
    clients: int,
    seconds: float,
    data_dir: Path,
    timeout_s: float,
    ready_s: float,
    keepalive_expiry_s: float = 2.0,
) -> ModeResult:
    env = {**os.environ, "RNA_DATA_DIR": str(data_dir), **MODES[mode]}
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env.setdefault("ANONYMIZED_TELEMETRY", "False")
    env.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    ensure_index(data_dir, env)

    port = free_port()
    env.update(RNA_HOST="127.0.0.1", RNA_PORT=str(port))
    url = f"http://127.0.0.1:{port}"
    log_path = data_dir / f"server-{mode}.log"
    result = ModeResult(mode=mode, clients=clients, seconds=seconds, server_log=str(log_path))
    bodies = load_questions(REPO_ROOT / "eval" / "cases.yaml")

    print(f"[{mode}] starting the server on {url} (log: {log_path})", flush=True)
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "api"], cwd=REPO_ROOT, env=env, stdout=log, stderr=log
        )
        stop = asyncio.Event()
        sampler = RssSampler(server.pid)
        sampling = asyncio.create_task(sampler.run(stop))
        try:
            result.ready_s = await wait_ready(url, server, ready_s)
            rss_ready = sampler.sample()
            sampler.peak = rss_ready  # the load's peak, apart from start-up
            print(f"[{mode}] ready after {result.ready_s:.1f} s; load ...", flush=True)
            raw = await drive(url, bodies, clients, seconds, timeout_s, keepalive_expiry_s)
            rss_end = sampler.sample()
            result.rss_mb = {
                "ready": round(rss_ready, 1),
                "end": round(rss_end, 1),
                "peak_load": round(sampler.peak, 1),
                "high_water": round(sampler.high_water_mb(), 1),
            }
            if server.poll() is not None:
                raw["tally"]["dropped"] = raw["tally"].get("dropped", 0) + 1
                raw["errors"]["server exited"] = 1
        finally:
            stop.set()
            await sampling
            if server.poll() is None:
                server.send_signal(signal.SIGINT)
                try:
                    server.wait(30)
                    result.server_exit = f"exited {server.returncode} on SIGINT"
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
                    result.server_exit = "killed: still busy 30 s after SIGINT"
            else:
                result.server_exit = f"died during the run ({server.returncode})"

    tally = raw["tally"]
    latencies = raw["latencies"]
    result.elapsed_s = round(raw["elapsed_s"], 1)
    result.statuses = dict(sorted(raw["statuses"].items()))
    result.requests = sum(result.statuses.values()) + tally.get("dropped", 0)
    result.requests += tally.get("timeouts", 0)
    result.overflow_with_retry_after = tally.get("overflow_with", 0)
    result.overflow_503_with_retry_after = tally.get("overflow_with_503", 0)
    result.overflow_without_retry_after = tally.get("overflow_without", 0)
    result.retry_after_values = dict(
        sorted(raw["retry_after"].items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0)
    )
    result.dropped = tally.get("dropped", 0)
    result.timeouts = tally.get("timeouts", 0)
    result.bad_bodies = tally.get("bad_bodies", 0)
    result.errors = raw["errors"]
    result.answer_status = raw["answer_status"]
    result.llm_state = raw["llm_state"]
    result.latency_ms = spread(latencies)
    result.without_model = len(raw["without_model"])
    result.without_model_latency_ms = spread(raw["without_model"])
    result.without_model_server_ms = spread(raw["without_model_server"])
    result.degraded = len(raw["degraded"])
    result.degraded_latency_ms = spread(raw["degraded"])
    if raw["overflow_latencies"]:
        result.overflow_latency_ms_max = round(max(raw["overflow_latencies"]), 1)
    result.throughput_rps = round(len(latencies) / raw["elapsed_s"], 2) if raw["elapsed_s"] else 0
    return result


def spread(latencies: list[float]) -> dict[str, float]:
    if not latencies:
        return {}
    return {
        "min": round(min(latencies)),
        "p50": round(percentile(latencies, 50)),
        "p95": round(percentile(latencies, 95)),
        "p99": round(percentile(latencies, 99)),
        "max": round(max(latencies)),
        "mean": round(statistics.fmean(latencies)),
    }


def table(results: list[ModeResult]) -> str:
    def counts(d: dict[str, int]) -> str:
        return ", ".join(f"{k}: {v}" for k, v in d.items()) or "-"

    rows: list[tuple[str, list[str]]] = [
        ("clients × seconds", [f"{r.clients} × {r.seconds:g}" for r in results]),
        ("**refusals (503/429)**", [str(r.refusals) for r in results]),
        (
            "**errors (5xx, no Retry-After, dropped, time-outs)**",
            [str(r.errors_total) for r in results],
        ),
        (
            "**answers without the model: n, p50 / p95 (ms)**",
            [
                f"{r.without_model}, {r.without_model_latency_ms.get('p50', '-')} / "
                f"{r.without_model_latency_ms.get('p95', '-')}"
                for r in results
            ],
        ),
        (
            "  their server time p50 / p95 (ms)",
            [
                f"{r.without_model_server_ms.get('p50', '-')} / "
                f"{r.without_model_server_ms.get('p95', '-')}"
                for r in results
            ],
        ),
        (
            "of which degraded (LLM busy): n, p95 (ms)",
            [f"{r.degraded}, {r.degraded_latency_ms.get('p95', '-')}" for r in results],
        ),
        ("ready after (s)", [f"{r.ready_s:.1f}" for r in results]),
        ("load incl. drain (s)", [f"{r.elapsed_s:.1f}" for r in results]),
        ("requests", [str(r.requests) for r in results]),
        ("by status", [counts(r.statuses) for r in results]),
        (
            "503/429 with Retry-After",
            [
                f"{r.overflow_with_retry_after} (without: {r.overflow_without_retry_after})"
                for r in results
            ],
        ),
        ("Retry-After values (s)", [counts(r.retry_after_values) for r in results]),
        ("slowest 503 (ms)", [f"{r.overflow_latency_ms_max:.0f}" for r in results]),
        ("5xx other than 503+RA", [str(r.server_errors) for r in results]),
        ("dropped connections", [str(r.dropped) for r in results]),
        ("client time-outs", [str(r.timeouts) for r in results]),
        (
            "200 p50 / p95 / p99 (ms)",
            [
                "/".join(str(r.latency_ms.get(k, "-")) for k in ("p50", "p95", "p99")).replace(
                    "/", " / "
                )
                for r in results
            ],
        ),
        ("200 max (ms)", [str(r.latency_ms.get("max", "-")) for r in results]),
        ("throughput (200/s)", [f"{r.throughput_rps:.2f}" for r in results]),
        ("answer status", [counts(r.answer_status) for r in results]),
        ("LLM", [counts(r.llm_state) for r in results]),
        (
            "RSS ready → end (MB)",
            [f"{r.rss_mb.get('ready', 0):.0f} → {r.rss_mb.get('end', 0):.0f}" for r in results],
        ),
        ("RSS peak under load (MB)", [f"{r.rss_mb.get('peak_load', 0):.0f}" for r in results]),
        ("RSS high-water, VmHWM (MB)", [f"{r.rss_mb.get('high_water', 0):.0f}" for r in results]),
    ]
    header = ["figure", *(r.mode for r in results)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join([name, *cells]) + " |" for name, cells in rows]
    return "\n".join(lines)


def git_state() -> dict[str, Any]:
    """HEAD and the tracked files with uncommitted edits, as the servers are about to run."""

    def git(*args: str) -> str:
        try:
            run = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True)
        except OSError:
            return ""
        return run.stdout

    edited = git("status", "--porcelain", "--untracked-files=no").splitlines()
    commit = git("rev-parse", "--short", "HEAD").strip()
    return {"commit": commit, "edited": [line[3:] for line in edited if line.strip()]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=[*MODES, *RUNS], default="both")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    parser.add_argument(
        "--data-dir", type=Path, default=REPO_ROOT / "data" / "load", help="index (RNA_DATA_DIR)"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="client time-out, s")
    parser.add_argument(
        "--keepalive-expiry",
        type=float,
        default=2.0,
        help="close pooled connections idle this long, s (uvicorn closes them at 5 s)",
    )
    parser.add_argument("--ready-timeout", type=float, default=300.0, help="start-up limit, s")
    args = parser.parse_args(argv)

    tree = git_state()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    modes = RUNS.get(args.mode, [args.mode])
    data_dir = args.data_dir.resolve()
    results = []
    for mode in modes:
        result = asyncio.run(
            run_mode(
                mode,
                clients=args.clients,
                seconds=args.seconds,
                data_dir=data_dir,
                timeout_s=args.timeout,
                keepalive_expiry_s=args.keepalive_expiry,
                ready_s=args.ready_timeout,
            )
        )
        results.append(result)

    print(table(results))
    failures = [f for r in results for f in r.failures()]
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        report = {
            "started": started,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": tree["commit"],
            "uncommitted_tracked_files": tree["edited"],
            "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg(),
            "modes": {
                r.mode: {
                    **asdict(r),
                    "server_errors": r.server_errors,
                    "refusals": r.refusals,
                    "errors_total": r.errors_total,
                }
                for r in results
            },
            "failures": failures,
        }
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
