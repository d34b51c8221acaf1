"""api/limits.py: request limits and the admission gate."""

from __future__ import annotations

import asyncio

import pytest

from api.errors import ApiError
from api.limits import AnswerGate, check_ask_limits
from rag.types import AskRequest, Message
from tests.api.conftest import api_settings

pytestmark = pytest.mark.unit


def test_limits_on_question_and_history() -> None:
    settings = api_settings(max_question_chars=10, max_history_messages=1)
    check_ask_limits(AskRequest(question="x" * 10), settings)
    cases = {
        "empty_question": AskRequest(question="  "),
        "question_too_long": AskRequest(question="x" * 11),
        "history_too_long": AskRequest(
            question="q", history=[Message(role="user", content="a")] * 2
        ),
    }
    for code, request in cases.items():
        with pytest.raises(ApiError) as caught:
            check_ask_limits(request, settings)
        assert (caught.value.status_code, caught.value.code) == (400, code)


def test_gate_admits_running_plus_queue_then_refuses_at_once() -> None:
    async def scenario() -> None:
        gate = AnswerGate(concurrency=1, queue_limit=1)
        release = asyncio.Event()
        order: list[str] = []

        async def work(name: str) -> None:
            async with gate.admit():
                order.append(f"start {name}")
                await release.wait()

        first = asyncio.create_task(work("a"))
        second = asyncio.create_task(work("b"))
        await asyncio.sleep(0.01)
        assert (gate.admitted, gate.running) == (2, 1)  # one running, one waiting
        with pytest.raises(ApiError) as caught:
            gate.admit()
        assert caught.value.status_code == 503 and caught.value.code == "overloaded"
        assert int((caught.value.headers or {})["Retry-After"]) >= 1
        release.set()
        await asyncio.gather(first, second)
        assert order == ["start a", "start b"]
        assert (gate.admitted, gate.running) == (0, 0)
        ticket = gate.admit()  # free again
        ticket.leave()
        ticket.leave()  # idempotent: a response cleanup may call it after the stream did
        assert gate.admitted == 0

    asyncio.run(scenario())


def test_gate_refuses_while_warming_up() -> None:
    gate = AnswerGate(concurrency=1, queue_limit=0)
    gate.warming = True
    with pytest.raises(ApiError) as caught:
        gate.admit()
    assert caught.value.code == "warming_up" and caught.value.headers == {"Retry-After": "10"}


def test_gate_bounds_the_wait_in_time_not_only_in_places() -> None:
    """With ~40 s answers, a question that would wait behind one is refused at once, although
    places are free: a count alone let clients time out in the queue (load_bench, LLM mode)."""

    async def scenario() -> None:
        gate = AnswerGate(concurrency=1, queue_limit=8, max_wait_s=60)
        for _ in range(3):
            gate._record(40.0)
        release = asyncio.Event()

        async def work() -> None:
            async with gate.admit():
                await release.wait()

        running = asyncio.create_task(work())  # a free slot admits whatever answers cost
        await asyncio.sleep(0.01)
        assert gate.expected_seconds() == 80.0
        with pytest.raises(ApiError) as caught:
            gate.admit()
        assert caught.value.status_code == 503 and caught.value.code == "overloaded"
        assert int((caught.value.headers or {})["Retry-After"]) >= 1
        release.set()
        await running

    asyncio.run(scenario())


def test_gate_queues_up_to_its_places_when_answers_are_fast() -> None:
    gate = AnswerGate(concurrency=1, queue_limit=8, max_wait_s=60)
    for _ in range(AnswerGate.RECENT):
        gate._record(0.3)
    tickets = [gate.admit() for _ in range(9)]  # 9 waves x 0.3 s: the count binds first
    with pytest.raises(ApiError):
        gate.admit()
    for ticket in tickets:
        ticket.leave()


def test_gate_counts_a_slow_running_answer_and_guesses_before_any() -> None:
    async def scenario() -> None:
        gate = AnswerGate(concurrency=1, queue_limit=8, max_wait_s=60)
        assert gate.answer_seconds() == 20.0  # nothing timed yet: a third of the budget
        gate._record(0.3)
        ticket = gate.admit()
        async with ticket:
            gate._running_since[ticket] -= 50  # it has been running for 50 s
            assert gate.answer_seconds() >= 50
            with pytest.raises(ApiError):
                gate.admit()
        assert gate.admitted == 0 and not gate._running_since

    asyncio.run(scenario())


def test_without_the_llm_answers_run_per_core_with_a_deeper_queue() -> None:
    from api.main import answer_gate
    from rag.config import Settings

    llm = answer_gate(Settings(llm="llamacpp", environment="test"))
    plain = answer_gate(Settings(llm="none", environment="test"))
    assert (llm.concurrency, llm.capacity) == (1, 9)
    assert plain.concurrency == 2 and plain.capacity >= 64


def _lanes(llm_queue: int = 0, plain_concurrency: int = 2, plain_queue: int = 1) -> AnswerGate:
    plain = AnswerGate(plain_concurrency, plain_queue, max_wait_s=10, first_guess_s=1.0)
    return AnswerGate(1, llm_queue, max_wait_s=60, overflow=plain)


def test_what_the_llm_gate_refuses_is_admitted_without_the_llm_until_that_lane_is_full() -> None:
    gate = _lanes()
    first = gate.admit()
    assert first.use_llm and first.degraded is None
    degraded = [gate.admit() for _ in range(3)]  # the plain lane: 2 running + 1 waiting
    assert all(not t.use_llm and t.degraded == "llm_busy" for t in degraded)
    assert gate.admitted == 1 and gate.overflow is not None and gate.overflow.admitted == 3
    with pytest.raises(ApiError) as caught:  # both lanes full: now, and only now, 503
        gate.admit()
    assert caught.value.status_code == 503 and int(caught.value.headers["Retry-After"]) >= 1
    for ticket in (first, *degraded):
        ticket.leave()
    assert gate.admit().use_llm  # the LLM's place is free again: the model answers


def test_a_question_that_would_wait_too_long_for_the_llm_is_answered_without_it() -> None:
    async def scenario() -> None:
        gate = _lanes(llm_queue=8)
        for _ in range(3):
            gate._record(40.0)  # ~40 s LLM answers
        release = asyncio.Event()

        async def hold() -> None:
            async with gate.admit():
                await release.wait()

        running = asyncio.create_task(hold())
        await asyncio.sleep(0.01)
        ticket = gate.admit()  # places are free, but 80 s > 60 s: not for the model
        assert ticket.degraded == "llm_busy"
        async with ticket:  # its lane has free slots: it starts at once
            assert gate.overflow is not None and gate.overflow.running == 1
        release.set()
        await running

    asyncio.run(scenario())


def test_warming_up_is_refused_even_with_a_lane_without_the_llm() -> None:
    gate = _lanes()
    gate.warming = True
    with pytest.raises(ApiError) as caught:
        gate.admit()
    assert caught.value.code == "warming_up"


def test_mark_records_the_lane_but_keeps_the_plain_status() -> None:
    from rag.types import Answer

    answer = Answer(
        answer="170万根[1]。",
        language="zh",
        verification={"status": "deterministic", "llm": "not used"},
        status="✓ 数字直接引自来源",
    )
    gate = _lanes()
    llm_ticket, plain_ticket = gate.admit(), gate.admit()
    assert llm_ticket.mark(answer) is answer
    marked = plain_ticket.mark(answer)
    assert marked.verification == {
        "status": "deterministic",
        "llm": "not used",
        "degraded": "llm_busy",
        "lane": "deterministic",
    }
    assert marked.status == answer.status


def test_with_the_llm_the_gate_degrades_unless_told_not_to() -> None:
    from api.main import answer_gate
    from rag.config import Settings

    degrading = answer_gate(Settings(llm="llamacpp", environment="test"))
    assert degrading.overflow is not None and degrading.overflow.capacity == 2 + 64
    strict = answer_gate(Settings(llm="llamacpp", degrade_when_busy=False, environment="test"))
    assert strict.overflow is None
    assert answer_gate(Settings(llm="none", environment="test")).overflow is None
