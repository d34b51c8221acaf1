"""api/feedback_store.py on a real SQLite file: kept answers, ratings, pages, one rating per
user, refused reasons, threads, a writer killed mid-write, and the commit of the code."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from api.feedback_store import FeedbackStore, ReasonTooLong, code_commit
from rag.config import REPO_ROOT
from rag.types import FEEDBACK_REASON_MAX_CHARS, AskRequest, FeedbackEntry, Message
from tests.fakes import NV_QUOTE, FakeAssistant

pytestmark = pytest.mark.unit

QUESTION = "英伟达2026年AEC需求量是多少？"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FeedbackStore]:
    store = FeedbackStore(tmp_path / "data" / "feedback.sqlite3", commit="c0ffee")
    yield store
    store.close()


def entry(**fields: object) -> FeedbackEntry:
    base: dict[str, object] = {
        "rating": "down",
        "question": QUESTION,
        "answer": "170万根[1]",
        "surface": "api",
    }
    return FeedbackEntry.model_validate({**base, **fields})


def test_a_kept_answer_is_found_by_its_id_with_question_history_and_commit(
    store: FeedbackStore,
) -> None:
    request = AskRequest(question="那Meta呢？", history=[Message(role="user", content=QUESTION)])
    served = FakeAssistant().ask(request)
    kept = store.remember(request, served, "ui")
    assert served.answer_id is None and kept.answer_id and len(kept.answer_id) == 32
    assert kept.model_copy(update={"answer_id": None}) == served

    found = store.kept_answer(kept.answer_id)
    assert found is not None
    assert (found.question, found.history, found.surface) == ("那Meta呢？", request.history, "ui")
    assert found.answer == kept and found.commit == "c0ffee"
    assert store.kept_answer("0" * 32) is None

    rated = store.record(found.entry("down", "wrong company", "slack", "U1"))
    assert rated.question == "那Meta呢？" and rated.history == request.history
    assert rated.answer == served.answer and rated.citations[0].quote == NV_QUOTE
    assert (rated.language, rated.verification_status) == ("zh", "verified")
    assert (rated.surface, rated.user, rated.answer_id) == ("slack", "U1", kept.answer_id)
    assert rated.commit == "c0ffee" and rated.reason == "wrong company"
    assert datetime.fromisoformat(rated.created_at).utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_the_answering_commit_wins_over_the_rating_processs(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    old = FeedbackStore(path, commit="old-commit")
    request = AskRequest(question=QUESTION)
    kept = old.remember(request, FakeAssistant().ask(request), "slack")
    old.close()
    new = FeedbackStore(path, commit="new-commit")  # restarted on a newer checkout
    found = new.kept_answer(kept.answer_id or "")
    assert found is not None
    assert new.record(found.entry("down", None, "slack", "U1")).commit == "old-commit"
    assert new.record(entry()).commit == "new-commit"  # no answer behind it: the running code
    new.close()


def test_list_filters_and_pages_newest_first(store: FeedbackStore) -> None:
    ids = [
        store.record(entry(rating=r, surface=s, question=f"q{i}")).id
        for i, (r, s) in enumerate(
            [("down", "api"), ("up", "ui"), ("down", "slack"), ("down", "ui"), ("up", "api")]
        )
    ]
    items, total = store.list(rating="down", limit=2)
    assert total == 3 and [f.id for f in items] == [ids[3], ids[2]]
    items, total = store.list(rating="down", limit=2, offset=2)
    assert total == 3 and [f.id for f in items] == [ids[0]]
    assert store.list(rating="down", offset=3) == ([], 3)
    assert [f.id for f in store.list(surface="ui")[0]] == [ids[3], ids[1]]
    assert store.list(rating="up", surface="slack") == ([], 0)
    assert store.list()[1] == 5
    assert [f.question for f in store.all(rating="down", page=1)] == ["q0", "q2", "q3"]


def test_one_rating_per_user_and_answer_but_anonymous_ratings_never_merge(
    store: FeedbackStore,
) -> None:
    first = store.record(entry(answer_id="a" * 32, user="U1", reason="wrong year"))
    again = store.record(entry(answer_id="a" * 32, user="U1", rating="up"))
    assert again.id == first.id and (again.rating, again.reason) == ("up", None)
    other_user = store.record(entry(answer_id="a" * 32, user="U2"))
    other_surface = store.record(entry(answer_id="a" * 32, user="U1", surface="slack"))
    anonymous = [store.record(entry(answer_id="a" * 32)).id for _ in range(2)]
    unnamed = [store.record(entry(user="U1")).id for _ in range(2)]
    ids = {first.id, other_user.id, other_surface.id, *anonymous, *unnamed}
    assert len(ids) == 7 and store.list()[1] == 7


def test_a_reason_over_the_limit_is_refused_never_cut(store: FeedbackStore) -> None:
    longest = "理" * FEEDBACK_REASON_MAX_CHARS
    assert store.record(entry(reason=longest)).reason == longest  # in full
    with pytest.raises(ValidationError, match="at most 1000 characters"):
        entry(reason=longest + "x")
    rated = store.record(entry(user="U1", answer_id="b" * 32))
    with pytest.raises(ReasonTooLong, match="1001 characters; the limit is 1000"):
        store.set_reason(rated.id, longest + "x", user="U1")
    assert store.get(rated.id) == rated  # untouched


def test_reasons_and_withdrawals_only_by_the_rater(store: FeedbackStore) -> None:
    rated = store.record(entry(user="U1", answer_id="c" * 32))
    assert store.set_reason(rated.id, "another company's figure", user="U2") is None
    assert store.set_reason(rated.id, "another company's figure", user="U1").reason == (  # type: ignore[union-attr]
        "another company's figure"
    )
    assert store.set_reason(999, "x") is None
    assert not store.withdraw("c" * 32, "api", "U2")
    assert store.withdraw("c" * 32, "api", "U1") and store.get(rated.id) is None


def test_only_the_newest_answers_are_kept(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3", commit="c", keep_answers=3)
    request = AskRequest(question=QUESTION)
    ids = [store.remember(request, FakeAssistant().ask(request), "api").answer_id for _ in range(5)]
    assert [store.kept_answer(i or "") is not None for i in ids] == [False, False, True, True, True]
    store.close()


def test_a_store_that_cannot_be_written_never_fails_an_answer(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    store = FeedbackStore(tmp_path / "a-file" / "feedback.sqlite3", commit="c")
    request = AskRequest(question=QUESTION)
    answer = FakeAssistant().ask(request)
    assert store.remember(request, answer, "api") == answer  # served as is, without an id
    with pytest.raises(OSError):
        store.record(entry())


def test_threads_share_one_store(store: FeedbackStore) -> None:
    request = AskRequest(question=QUESTION)
    answer = FakeAssistant().ask(request)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(25):
                kept = store.remember(request, answer, "api")
                found = store.kept_answer(kept.answer_id or "")
                assert found is not None
                store.record(found.entry("down", f"t{n}-{i}", "api", f"user-{n}-{i}"))
                store.list(rating="down", limit=5)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    items, total = store.list(limit=500)
    assert total == 200 and len({f.id for f in items}) == 200
    assert {f.reason for f in items} == {f"t{n}-{i}" for n in range(8) for i in range(25)}


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from api.feedback_store import FeedbackStore
    from rag.types import FeedbackEntry
    store = FeedbackStore(Path(sys.argv[1]), commit="killed")
    i = 0
    while True:
        store.record(FeedbackEntry(rating="down", question=f"q{i}", answer="答" * 2000,
                                   surface="api"))
        i += 1
        if i == 20:
            print("ready", flush=True)
    """
)


def test_a_writer_killed_mid_write_leaves_a_whole_store(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        threading.Event().wait(0.3)  # mid-way through some later write
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL

    store = FeedbackStore(path, commit="after")
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    rows = list(store.all())
    assert len(rows) >= 20
    # Every committed row is whole, and none is missing before the last one.
    assert [r.question for r in rows] == [f"q{i}" for i in range(len(rows))]
    assert all(r.answer == "答" * 2000 for r in rows)
    assert store.record(entry()).id == rows[-1].id + 1
    store.close()


def test_the_commit_of_the_running_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    read = code_commit.__wrapped__  # type: ignore[attr-defined]  # past the once-only cache
    assert read("v1.2-build7") == "v1.2-build7"  # RNA_COMMIT wins
    here = read(None, REPO_ROOT)
    assert here == "unknown" or here.removesuffix("-dirty").isalnum() and len(here) in (40, 46)
    assert read(None, tmp_path) == "unknown"  # not a checkout
    monkeypatch.setenv("PATH", str(tmp_path))  # no git at all
    assert read(None, REPO_ROOT) == "unknown"
