"""Request limits and the admission gate that bounds answering work.

Answering is CPU-bound (embeddings, a local LLM) on a 2-core box: at most `concurrency`
requests run, at most `queue_limit` wait, and anyone beyond that gets 503 + Retry-After at
once, so no client ever times out in an invisible queue.

The queue is bounded in time too: a count alone let 8 questions wait behind a ~40 s LLM
answer each, and under load (benchmarks/load_bench.py, 20 clients) clients timed out at 120 s
in the queue instead of getting a 503.

Degrade, don't refuse: with the LLM, what its gate would refuse goes to a second, bounded
lane that answers without the model (the verified deterministic or computed answer, ~0.2 s),
marked `verification["degraded"] = "llm_busy"`. Only when that lane is full too is the
answer 503 + Retry-After.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from types import TracebackType

from starlette.concurrency import run_in_threadpool

from api.errors import ApiError
from rag.config import Settings
from rag.service import AnsweringService
from rag.types import Answer, AskRequest


def check_ask_limits(request: AskRequest, settings: Settings) -> None:
    """Raise a 400 ApiError when a question breaks the configured limits."""
    if not request.question.strip():
        raise ApiError(400, "empty_question", "the question is empty")
    if len(request.question) > settings.max_question_chars:
        raise ApiError(
            400,
            "question_too_long",
            f"the question has {len(request.question)} characters; "
            f"the limit is {settings.max_question_chars}",
        )
    if len(request.history) > settings.max_history_messages:
        raise ApiError(
            400,
            "history_too_long",
            f"the history has {len(request.history)} messages; "
            f"the limit is {settings.max_history_messages}",
        )


async def ask_service(service: AnsweringService, request: AskRequest, ticket: Ticket) -> Answer:
    """`service.ask` in a worker thread, without the LLM when the ticket says so, marked with
    the lane that served it."""
    if ticket.use_llm:
        answer = await run_in_threadpool(service.ask, request)
    else:
        answer = await run_in_threadpool(lambda: service.ask(request, use_llm=False))
    return ticket.mark(answer)


class AnswerGate:
    """Admission control: `admit()` decides at once; the returned ticket waits for a slot.

    A question is refused when all `concurrency + queue_limit` places are taken, or when a
    slot is busy and the waves of answers ahead of it plus its own would likely take longer
    than `max_wait_s`. An answer's time is guessed pessimistically: the slowest of the last
    few answers and of those running now; before any answer finished, a third of the budget
    (one slot then holds one running and two waiting).
    """

    RECENT = 10  # answers remembered for the time estimate

    def __init__(
        self,
        concurrency: int,
        queue_limit: int,
        *,
        max_wait_s: float = 60.0,
        first_guess_s: float | None = None,
        overflow: AnswerGate | None = None,
    ) -> None:
        self.concurrency = concurrency
        self.capacity = concurrency + queue_limit
        self.max_wait_s = max_wait_s
        # The answer time assumed before any answer finished (default: a third of the budget).
        self.first_guess_s = max_wait_s / 3 if first_guess_s is None else first_guess_s
        # The lane that answers without the LLM what this gate would refuse (None: refuse).
        self.overflow = overflow
        self.admitted = 0
        self.running = 0
        # Set while the service warms up: answering would only queue behind the model load.
        self.warming = False
        self._slots = asyncio.Semaphore(concurrency)
        self._avg_seconds = 5.0  # moving average of answer time, for Retry-After
        self._recent: deque[float] = deque(maxlen=self.RECENT)
        self._running_since: dict[Ticket, float] = {}  # running tickets -> slot taken at

    def retry_after(self) -> int:
        waves = math.ceil(max(self.admitted, 1) / self.concurrency)
        return max(1, math.ceil(waves * self._avg_seconds))

    def answer_seconds(self) -> float:
        """A pessimistic guess at how long one answer takes now."""
        now = time.monotonic()
        seen = [*self._recent, *(now - started for started in self._running_since.values())]
        if not self._recent:
            seen.append(self.first_guess_s)
        return max(seen)

    def expected_seconds(self) -> float:
        """How long a question admitted now would likely take: the waves ahead, then its own."""
        waves = self.admitted // self.concurrency + 1
        return waves * self.answer_seconds()

    def admit(self) -> Ticket:
        """A ticket for one answer, or ApiError 503 when the service can't take more work.

        What this gate refuses goes to its `overflow` lane when it has one: the ticket then
        says `use_llm = False`, and 503 comes only when that lane refuses too."""
        if self.warming:
            raise ApiError(
                503,
                "warming_up",
                "the models are still loading; try again shortly",
                headers={"Retry-After": "10"},
            )
        try:
            return self._admit_here()
        except ApiError:
            if self.overflow is None:
                raise
        return self.overflow._admit_here(degraded="llm_busy")

    def _admit_here(self, degraded: str | None = None) -> Ticket:
        slot_free = self.admitted < self.concurrency
        if self.admitted >= self.capacity or (
            not slot_free and self.expected_seconds() > self.max_wait_s
        ):
            seconds = self.retry_after()
            raise ApiError(
                503,
                "overloaded",
                f"{self.admitted} questions are being answered or waiting; "
                f"try again in {seconds} s",
                headers={"Retry-After": str(seconds)},
            )
        self.admitted += 1
        return Ticket(self, degraded)

    def _record(self, seconds: float) -> None:
        self._avg_seconds = 0.8 * self._avg_seconds + 0.2 * seconds
        self._recent.append(seconds)


class Ticket:
    """`async with ticket:` waits for a slot and frees it; `leave()` is idempotent so a
    response's cleanup can also call it when the body iterator never started.

    `degraded` names why the answer is to be given without the LLM ("llm_busy"), or is None."""

    def __init__(self, gate: AnswerGate, degraded: str | None = None) -> None:
        self._gate = gate
        self.degraded = degraded
        self._left = False
        self._holding = False
        self._started = 0.0

    async def __aenter__(self) -> Ticket:
        await self._gate._slots.acquire()
        self._holding = True
        self._gate.running += 1
        self._started = time.monotonic()
        self._gate._running_since[self] = self._started
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._holding:
            self._holding = False
            self._gate.running -= 1
            self._gate._running_since.pop(self, None)
            self._gate._slots.release()
            if exc_type is None:
                self._gate._record(time.monotonic() - self._started)
        self.leave()

    def leave(self) -> None:
        if not self._left:
            self._left = True
            self._gate.admitted -= 1

    @property
    def use_llm(self) -> bool:
        return self.degraded is None

    def mark(self, answer: Answer) -> Answer:
        """The answer with the lane that served it in `verification` (technical, for the API
        and the details toggle; the user's plain status does not change)."""
        if self.degraded is None:
            return answer
        verification = {**answer.verification, "degraded": self.degraded, "lane": "deterministic"}
        return answer.model_copy(update={"verification": verification})
