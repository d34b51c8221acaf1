"""Degrade, don't refuse, with the embedded LLM (Qwen2.5 in llama.cpp) behind the real app:
while one question holds the model's only place (llm_concurrency=1, no queue), concurrent
questions get 200 and the verified deterministic answer, not 503; the streams (SSE and the
OpenAI stream through the official client) carry only verified text, ending as the final
answer. The hash embedder keeps the index fast; the model is the real one, loaded
by the lifespan's warm-up.

Run alone (one real-LLM test at a time): timings are printed (-s), not asserted."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from openai import OpenAI

from api.main import create_app
from ingest.pipeline import Indexer
from rag.assistant import Assistant
from rag.config import Settings
from rag.numbers import extract_quantities, parse_numbers_in_answer, same_value
from tests.api.conftest import serve
from tests.fakes import HashEmbeddings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUESTION = {"question": "英伟达NV 2026年AEC需求量是多少？", "top_k": 8}
CLIENTS = 6


def _grounded(text: str, answer: dict) -> bool:
    """Every figure of `text` is a figure of one of the answer's cited quotes."""
    quoted = [q for c in answer["citations"] for q in extract_quantities(c["quote"], 2025)]
    return all(any(same_value(f, q) for q in quoted) for f in parse_numbers_in_answer(text))


def _sse_stream(url: str, out: dict) -> None:
    tokens, final = [], None
    with httpx.stream("POST", f"{url}/v1/ask/stream", json=QUESTION, timeout=300) as response:
        out["status"] = response.status_code
        kind = "message"
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                if kind == "token":
                    tokens.append(data["text"])
                elif kind == "final":
                    final = data
    out.update(tokens=tokens, final=final)


def test_a_busy_embedded_llm_degrades_concurrent_questions_and_streams_only_verified_text(
    fake_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = fake_settings.model_copy(
        update={"llm": "llamacpp", "llm_concurrency": 1, "llm_queue_limit": 0}
    )
    Indexer(settings, embeddings=HashEmbeddings()).ingest_all()
    assistant = Assistant(settings, embeddings=HashEmbeddings())  # the shipped LLM
    app = create_app(settings, service=assistant, mount_ui=False)
    with serve(app, startup_timeout_s=300) as server:
        with server.client(timeout=300) as client:
            deadline = time.monotonic() + 300
            while client.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, "the LLM never got ready"
                time.sleep(0.5)
        gate = app.state.gate

        streamed: dict = {}
        holder = threading.Thread(target=_sse_stream, args=(server.url, streamed))
        started = time.monotonic()
        holder.start()
        while gate.running < 1:  # the stream holds the model's only place
            assert time.monotonic() - started < 30 and holder.is_alive()
            time.sleep(0.02)

        def ask(_: int) -> tuple[httpx.Response, float]:
            t = time.monotonic()
            response = httpx.post(f"{server.url}/v1/ask", json=QUESTION, timeout=120)
            return response, time.monotonic() - t

        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(ask, range(CLIENTS)))
        still_generating = holder.is_alive()
        holder.join(timeout=300)

        client = OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0, timeout=300)
        chunks = list(
            client.chat.completions.create(
                model="research-notes",
                messages=[{"role": "user", "content": QUESTION["question"]}],
                stream=True,
                extra_body={"top_k": 8},
            )
        )

    assert [r.status_code for r, _ in results] == [200] * CLIENTS, [r.text for r, _ in results]
    for body in (r.json() for r, _ in results):
        assert body["verification"]["degraded"] == "llm_busy", body["verification"]
        assert body["verification"].get("llm") == "not used", body
        assert "170万根" in body["answer"] and body["citations"]
        assert _grounded(body["answer"], body)
        assert body["status"] == "✓ 数字直接引自来源"
    assert still_generating, "the model finished before the others asked: nothing was held"

    final = streamed["final"]
    assert streamed["status"] == 200 and final is not None
    assert final["verification"]["llm"] in {"used", "timeout"}
    assert "degraded" not in final["verification"]
    joined = "".join(streamed["tokens"])
    assert final["answer"].startswith(joined) and _grounded(joined, final)
    assert _grounded(final["answer"], final)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    answer = chunks[-1].model_extra["answer"]
    assert text == answer["answer"] and _grounded(text, answer)
    assert "更正" not in text and "Corrected" not in text

    with capsys.disabled():
        seconds = sorted(s for _, s in results)
        print(
            f"\n{CLIENTS} questions while the LLM was busy: all 200 without the model, "
            f"{seconds[0]:.2f}-{seconds[-1]:.2f} s; the held stream: {len(streamed['tokens'])} "
            f"verified token events, llm={final['verification']['llm']}, "
            f"status={final['verification']['status']} "
            f"({final['verification'].get('reason', '')}), "
            f"{final['timings_ms']['total'] / 1000:.1f} s; OpenAI stream: "
            f"{answer['verification']['status']}, {answer['timings_ms']['total'] / 1000:.1f} s\n"
            f"draft: {final['verification'].get('draft')!r}\nanswer: {final['answer']!r}"
        )
