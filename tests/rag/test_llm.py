"""The LLM seam: joining the packaged GGUF, the provider factory, and the real model.

Unit tests join small fake chunk files; integration tests load the real Qwen2.5 GGUF into
llama.cpp's server inside the test process (the `llamacpp` provider), and drive the `openai`
provider against the same server run as a separate process (`python -m rag.llm_server`).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import SecretStr

from rag import model_files
from rag.config import Settings
from rag.llm import EmbeddedLlamaChat, make_chat_model, warm_up
from rag.model_files import (
    PACKAGED_PART_COUNT,
    PACKAGED_SHA256,
    ModelFileError,
    is_verified,
    join_parts,
    llm_gguf_path,
    packaged_parts,
)
from tests.llm_process import LlamaServerProcess

PACKAGED_SIZE = 21 * 52_428_800 + 16_315_968
CJK = re.compile(r"[\u4e00-\u9fff]")
REPO_ROOT = Path(__file__).resolve().parents[2]


def _fake_parts(tmp_path: Path, sizes: list[int]) -> tuple[list[Path], bytes]:
    parts, data = [], b""
    for i, size in enumerate(sizes, start=1):
        chunk = os.urandom(size)
        path = tmp_path / "parts" / f"part{i:02d}.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(chunk)
        parts.append(path)
        data += chunk
    return parts, data


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


# --- joining -------------------------------------------------------------------------------


@pytest.mark.unit
def test_join_concatenates_parts_in_order_and_verifies(tmp_path: Path) -> None:
    parts, data = _fake_parts(tmp_path, [1000, 3, 8_193, 1])
    dest = tmp_path / "models" / "m.gguf"

    assert join_parts(parts, dest, hashlib.sha256(data).hexdigest()) == dest

    assert dest.read_bytes() == data
    assert is_verified(dest, hashlib.sha256(data).hexdigest())
    assert _leftovers(dest.parent) == []


@pytest.mark.unit
def test_join_refuses_a_hash_mismatch_and_leaves_no_file(tmp_path: Path) -> None:
    parts, data = _fake_parts(tmp_path, [500, 700])
    dest = tmp_path / "models" / "m.gguf"

    with pytest.raises(ModelFileError, match="expected"):
        join_parts(parts, dest, hashlib.sha256(data + b"x").hexdigest())

    assert not dest.exists()
    assert _leftovers(dest.parent) == []


@pytest.mark.unit
def test_join_interrupted_midway_leaves_no_final_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts, data = _fake_parts(tmp_path, [300, 300, 300])
    dest = tmp_path / "models" / "m.gguf"
    real_open = Path.open

    def failing_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == parts[2]:
            raise OSError("disk went away")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", failing_open)
    with pytest.raises(OSError, match="disk went away"):
        join_parts(parts, dest, hashlib.sha256(data).hexdigest())

    assert not dest.exists()
    assert _leftovers(dest.parent) == []


@pytest.mark.unit
def test_join_reports_missing_parts(tmp_path: Path) -> None:
    parts, data = _fake_parts(tmp_path, [10, 10])
    parts[1].unlink()
    with pytest.raises(ModelFileError, match="missing"):
        join_parts(parts, tmp_path / "m.gguf", hashlib.sha256(data).hexdigest())


@pytest.mark.unit
def test_verified_file_is_not_rehashed_until_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts, data = _fake_parts(tmp_path, [4096, 4096])
    sha = hashlib.sha256(data).hexdigest()
    dest = join_parts(parts, tmp_path / "m.gguf", sha)
    hashed: list[Path] = []
    real_hash = model_files.file_sha256

    def counting_hash(path: Path) -> str:
        hashed.append(path)
        return real_hash(path)

    monkeypatch.setattr(model_files, "file_sha256", counting_hash)

    join_parts(parts, dest, sha)  # stamp matches size + mtime: no rehash, no rejoin
    assert hashed == []

    # Same size, other bytes, new mtime: the stamp no longer vouches for it.
    dest.write_bytes(b"\0" * len(data))
    assert join_parts(parts, dest, sha) == dest
    assert hashed == [dest]
    assert dest.read_bytes() == data


@pytest.mark.unit
def test_file_without_stamp_is_hashed_once_then_trusted(tmp_path: Path) -> None:
    parts, data = _fake_parts(tmp_path, [100])
    sha = hashlib.sha256(data).hexdigest()
    dest = tmp_path / "m.gguf"
    dest.write_bytes(data)

    assert is_verified(dest, sha)
    assert (tmp_path / "m.gguf.verified.json").is_file()
    assert not is_verified(dest, "0" * 64)


@pytest.mark.unit
def test_packaged_parts_are_in_numeric_order() -> None:
    parts = packaged_parts()
    assert len(parts) == PACKAGED_PART_COUNT
    assert [p.name for p in parts] == [f"part{n:02d}.bin" for n in range(1, 23)]
    assert sum(p.stat().st_size for p in parts) == PACKAGED_SIZE


@pytest.mark.unit
def test_gguf_path_override_is_used_as_is(tmp_path: Path) -> None:
    gguf = tmp_path / "other.gguf"
    gguf.write_bytes(b"GGUF")
    assert llm_gguf_path(Settings(llm_gguf_path=gguf, cache_dir=tmp_path)) == gguf
    with pytest.raises(ModelFileError, match="not a file"):
        llm_gguf_path(Settings(llm_gguf_path=tmp_path / "absent.gguf"))


# --- factory -------------------------------------------------------------------------------


@pytest.mark.unit
def test_factory_none_gives_no_model() -> None:
    assert make_chat_model(Settings(llm="none")) is None
    warm_up(None)  # a no-op, not an error


@pytest.mark.unit
def test_factory_llamacpp_is_cheap_and_lazy(tmp_path: Path) -> None:
    settings = Settings(
        llm="llamacpp",
        cache_dir=tmp_path / "cache",
        llm_threads=1,
        llm_context_tokens=1024,
        llm_max_tokens=64,
    )
    model = make_chat_model(settings)

    assert isinstance(model, EmbeddedLlamaChat)
    assert not model.loaded
    assert not (tmp_path / "cache").exists()  # nothing joined or loaded yet
    assert model.server.settings.llm_threads == 1
    assert model.server.settings.llm_context_tokens == 1024
    assert model.max_tokens == 64
    assert model.temperature == 0 and model.seed is not None and model.seed >= 0
    assert model.streaming and model.max_retries == 0
    assert model.server.api_key  # a random key per process guards the loopback port


@pytest.mark.unit
def test_factory_llamacpp_honours_gguf_override(tmp_path: Path) -> None:
    mine = tmp_path / "mine.gguf"
    mine.write_bytes(b"GGUF")
    model = make_chat_model(Settings(llm_gguf_path=mine))
    assert isinstance(model, EmbeddedLlamaChat)
    assert model.server._resolve_model_path() == mine


@pytest.mark.unit
def test_factory_openai() -> None:
    from langchain_openai import ChatOpenAI

    model = make_chat_model(
        Settings(
            llm="openai",
            llm_base_url="http://127.0.0.1:9/v1",
            llm_model="m",
            llm_api_key=SecretStr("k"),
            llm_timeout_s=7,
        )
    )
    assert isinstance(model, ChatOpenAI)
    assert model.openai_api_base == "http://127.0.0.1:9/v1"
    assert (model.model_name, model.temperature, model.request_timeout) == ("m", 0, 7)
    assert model.max_tokens == Settings().llm_max_tokens
    assert isinstance(model.openai_api_key, SecretStr)
    assert model.openai_api_key.get_secret_value() == "k"
    warm_up(model)  # nothing to load for a remote model


@pytest.mark.unit
def test_factory_openai_needs_a_base_url() -> None:
    with pytest.raises(ValueError, match="RNA_LLM_BASE_URL"):
        make_chat_model(Settings(llm="openai"))


# --- the real model ------------------------------------------------------------------------

ZH_QUESTION = "中国的首都是哪里？请用一句话回答。"


@pytest.mark.integration
@pytest.mark.slow
def test_real_join_matches_the_published_hash(tmp_path: Path) -> None:
    path = llm_gguf_path(Settings(cache_dir=tmp_path))
    try:
        assert path.stat().st_size == PACKAGED_SIZE
        assert model_files.file_sha256(path) == PACKAGED_SHA256
        with path.open("rb") as f:
            assert f.read(4) == b"GGUF"
    finally:
        path.unlink(missing_ok=True)  # pytest keeps old tmp dirs: don't leave 1 GB in each


@pytest.fixture(scope="module")
def qwen() -> EmbeddedLlamaChat:
    model = make_chat_model(Settings(llm="llamacpp"))
    assert isinstance(model, EmbeddedLlamaChat)
    warm_up(model)
    return model


@pytest.mark.integration
@pytest.mark.slow
def test_qwen_chat_template_from_the_gguf_is_used(qwen: EmbeddedLlamaChat) -> None:
    root = str(qwen.server.base_url).removesuffix("/v1")
    resp = httpx.post(
        f"{root}/apply-template",
        json={"messages": [{"role": "user", "content": ZH_QUESTION}]},
        headers={"Authorization": f"Bearer {qwen.server.api_key}"},
        timeout=10,
    )
    resp.raise_for_status()
    assert (
        f"<|im_start|>user\n{ZH_QUESTION}<|im_end|>\n<|im_start|>assistant\n"
        in resp.json()["prompt"]
    )


@pytest.mark.integration
@pytest.mark.slow
def test_the_embedded_server_refuses_calls_without_its_key(qwen: EmbeddedLlamaChat) -> None:
    resp = httpx.post(
        f"{qwen.server.base_url}/chat/completions",
        json={"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4},
        timeout=10,
    )
    assert resp.status_code == 401


@pytest.mark.integration
@pytest.mark.slow
def test_qwen_answers_chinese_in_chinese_and_deterministically(qwen: EmbeddedLlamaChat) -> None:
    first = qwen.invoke([HumanMessage(ZH_QUESTION)], max_tokens=30)
    second = qwen.invoke([HumanMessage(ZH_QUESTION)], max_tokens=30)

    assert isinstance(first.content, str) and CJK.search(first.content), first.content
    assert "北京" in first.content
    assert isinstance(second.content, str) and first.content.encode() == second.content.encode()
    assert first.response_metadata.get("finish_reason") == "stop"  # ended on <|im_end|>


@pytest.mark.integration
@pytest.mark.slow
def test_qwen_is_deterministic_across_processes(qwen: EmbeddedLlamaChat) -> None:
    code = (
        "from langchain_core.messages import HumanMessage\n"
        "from rag.config import Settings\n"
        "from rag.llm import make_chat_model\n"
        "m = make_chat_model(Settings(llm='llamacpp'))\n"
        f"print(m.invoke([HumanMessage({ZH_QUESTION!r})], max_tokens=30).content, end='')\n"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, check=True, timeout=600
    ).stdout
    here = qwen.invoke([HumanMessage(ZH_QUESTION)], max_tokens=30).content
    assert isinstance(here, str)
    assert other == here.encode()


@pytest.mark.integration
@pytest.mark.slow
def test_qwen_streams_several_chunks(qwen: EmbeddedLlamaChat) -> None:
    question = [HumanMessage("Count from 1 to 5, separated by commas.")]
    chunks = [c.content for c in qwen.stream(question, max_tokens=30)]
    text = "".join(str(c) for c in chunks)

    assert sum(1 for c in chunks if c) >= 5
    assert all(str(n) in text for n in range(1, 6)), text
    assert text == qwen.invoke(question, max_tokens=30).content


@pytest.mark.integration
@pytest.mark.slow
def test_qwen_copies_figures_from_the_context_verbatim(qwen: EmbeddedLlamaChat) -> None:
    figures = ["1,222.25", "22.22%", "22.52%", "212.12"]
    context = (
        f"[1] 公司2025年营收为{figures[0]}亿元，同比增长{figures[1]}，"
        f"毛利率为{figures[2]}，净利润为{figures[3]}亿元。"
    )
    reply = qwen.invoke(
        [
            SystemMessage("只根据资料回答，数字必须与资料完全一致。"),
            HumanMessage(
                f"资料：{context}\n\n问题：公司2025年的营收、增速、毛利率和净利润分别是多少？"
            ),
        ],
        max_tokens=80,
    ).content
    assert isinstance(reply, str)
    assert all(f in reply for f in figures), reply


@pytest.mark.integration
@pytest.mark.slow
def test_qwen_serialises_concurrent_and_async_calls(qwen: EmbeddedLlamaChat) -> None:
    question = [HumanMessage("Say OK.")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        replies = list(pool.map(lambda _: qwen.invoke(question, max_tokens=8).content, range(2)))
    assert replies[0] == replies[1] and replies[0]

    async def collect() -> list[str]:
        return [str(c.content) async for c in qwen.astream(question, max_tokens=8)]

    # LangChain resumes the sync stream on executor threads: the lock must survive that.
    assert "".join(asyncio.run(collect())) == replies[0]


@pytest.fixture(scope="module")
def openai_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same llama.cpp server as a separate process on a free loopback port."""
    server = LlamaServerProcess(tmp_path_factory.mktemp("llama_server") / "server.log")
    try:
        server.start()
        yield server.base_url
    finally:
        server.kill()


@pytest.mark.integration
@pytest.mark.slow
def test_openai_provider_against_a_real_local_server(openai_server: str) -> None:
    model = make_chat_model(Settings(llm="openai", llm_base_url=openai_server, llm_timeout_s=300))
    assert model is not None
    short = model.bind(max_completion_tokens=30)

    reply = short.invoke([HumanMessage(ZH_QUESTION)])
    assert isinstance(reply.content, str) and "北京" in reply.content, reply.content
    assert reply.usage_metadata is not None and 0 < reply.usage_metadata["output_tokens"] <= 30

    chunks = [c.content for c in short.stream([HumanMessage("Count from 1 to 5.")])]
    assert sum(1 for c in chunks if c) >= 5
