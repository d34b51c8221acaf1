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
