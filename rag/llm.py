"""The chat model seam: LangChain's `BaseChatModel`, picked by `settings.llm` in one factory.

- `llamacpp`: the packaged Qwen2.5-Coder-1.5B-Instruct GGUF, served in this process by llama.cpp's
  own server (xllamacpp's prebuilt wheel) on a loopback port, and spoken to like any
  OpenAI-compatible endpoint. The server caches the prompt prefix between calls, stops a
  generation when its client goes away, and queues concurrent calls in its slots.
- `openai`: any OpenAI-compatible endpoint (vLLM, llama.cpp's server, Ollama, OpenAI itself).
- `none`: no model; callers serve their deterministic answer.

Constructing a model is cheap: the GGUF is joined and the server started on first use, or by
`warm_up()` at app start-up, never at import.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_openai import ChatOpenAI
from pydantic import Field, PrivateAttr

from rag.config import Settings
from rag.model_files import llm_gguf_path

log = logging.getLogger(__name__)

SEED = 42
# Prompt tokens evaluated per llama.cpp batch (a whole RAG prompt in one or two batches).
N_BATCH = 512
_UNSTARTED = "http://127.0.0.1:9/v1"  # discard port: nothing is sent before warm_up()


class EmbeddedLlamaServer:
    """llama.cpp's HTTP server running in this process (xllamacpp), bound to 127.0.0.1 on a
    free port, guarded by a random key. `start()` is idempotent and thread-safe."""

    def __init__(
        self,
        settings: Settings,
        resolve_model_path: Callable[[], Path],
        *,
        port: int = 0,
        api_key: str | None = None,
    ) -> None:
        self.settings = settings
        self.port = port  # 0: any free port
        self.api_key = secrets.token_urlsafe(24) if api_key is None else api_key
        self._resolve_model_path = resolve_model_path
        self._server: Any = None
        self._lock = threading.Lock()
        self.base_url: str | None = None
        self.model_path: Path | None = None

    def start(self) -> str:
        """Load the model and listen; the OpenAI base URL (…/v1)."""
        if self.base_url is not None:
            return self.base_url
        with self._lock:
            if self.base_url is not None:
                return self.base_url
            # llama.cpp's threads sync through OpenMP; spinning waiters starve each other on a
            # busy 2-core box beside torch. Read when the first libgomp loads.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            import xllamacpp as xlc

            self.model_path = self._resolve_model_path()
            params = xlc.CommonParams()
            params.model.path = str(self.model_path)
            params.n_ctx = self.settings.llm_context_tokens * self.settings.llm_concurrency
            params.n_batch = min(N_BATCH, self.settings.llm_context_tokens)
            params.n_parallel = self.settings.llm_concurrency
            params.cache_ram_mib = self.settings.llm_prompt_cache_mib
            # Repacked weights are an anonymous copy beside the mapped file, not a view of it.
            params.no_extra_bufts = not self.settings.llm_repack_weights
            params.cpuparams.n_threads = self.settings.llm_threads
            params.cpuparams_batch.n_threads = self.settings.llm_threads
            params.sampling.seed = SEED
            params.hostnames = ["127.0.0.1"]
            params.port = self.port
            params.api_keys = [self.api_key] if self.api_key else []
            params.model_alias = {"qwen2.5-coder-1.5b-instruct"}
            params.verbosity = -1  # llama.cpp's per-request log lines stay out of ours
            params.warmup = True
            self._server = xlc.Server(params)
            self.base_url = f"{self._server.listening_address}/v1"
            log.info("llama.cpp server for %s on %s", self.model_path, self.base_url)
            return self.base_url

    @property
    def running(self) -> bool:
        return self.base_url is not None

    def count_tokens(self, text: str) -> int | None:
        """Tokens of `text` by the model's own tokenizer (the server's /tokenize)."""
        if self.base_url is None:
            return None
        root = self.base_url.removesuffix("/v1")
        resp = httpx.post(
            f"{root}/tokenize",
            json={"content": text},
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=5.0,
        )
        resp.raise_for_status()
        return len(resp.json()["tokens"])


class EmbeddedLlamaChat(ChatOpenAI):
    """`ChatOpenAI` bound to an `EmbeddedLlamaServer` that starts on first use."""

    server: EmbeddedLlamaServer = Field(exclude=True)
    _started: bool = PrivateAttr(default=False)

    model_config = {"arbitrary_types_allowed": True}

    @property
    def loaded(self) -> bool:
        return self.server.running

    def warm_up(self) -> None:
        """Join (if needed) and load the model and start its server now; later calls no-op."""
        if self._started:
            return
        base_url = self.server.start()
        # The OpenAI clients were built against a placeholder; point them at the server.
        for client in (self.root_client, self.root_async_client):
            if client is not None:
                client.base_url = httpx.URL(base_url + "/")
        self.openai_api_base = base_url
        self._started = True

    def count_tokens(self, text: str) -> int | None:
        return self.server.count_tokens(text)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.warm_up()
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self.warm_up()
        yield from super()._stream(messages, stop=stop, run_manager=run_manager, **kwargs)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.warm_up()
        return await super()._agenerate(messages, stop=stop, run_manager=run_manager, **kwargs)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        self.warm_up()
        async for chunk in super()._astream(messages, stop=stop, run_manager=run_manager, **kwargs):
            yield chunk


def _make_llamacpp(settings: Settings) -> BaseChatModel:
    server = EmbeddedLlamaServer(settings, resolve_model_path=lambda: llm_gguf_path(settings))
    return EmbeddedLlamaChat(
        server=server,
        base_url=_UNSTARTED,
        api_key=server.api_key,
        model="qwen2.5-coder-1.5b-instruct",
        temperature=0,  # greedy: the same prompt gives the same bytes
        seed=SEED,
        max_completion_tokens=settings.llm_max_tokens,
        timeout=settings.llm_timeout_s,
        max_retries=0,
        streaming=True,
    )


def _make_openai(settings: Settings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    if not settings.llm_base_url:
        raise ValueError("RNA_LLM=openai needs RNA_LLM_BASE_URL (e.g. http://127.0.0.1:8080/v1)")
    return ChatOpenAI(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        api_key=settings.llm_api_key,
        temperature=0,
        seed=SEED,
        # The current OpenAI name. llama-cpp-python's own server ignores it and reads only the
        # older `max_tokens` (abetlen/llama-cpp-python#1907), so there replies end at end-of-turn.
        max_completion_tokens=settings.llm_max_tokens,
        timeout=settings.llm_timeout_s,
        # A retry would push the answer past llm_timeout_s, where the caller gives up anyway.
        max_retries=0,
    )


_PROVIDERS: dict[str, Callable[[Settings], BaseChatModel | None]] = {
    "llamacpp": _make_llamacpp,
    "openai": _make_openai,
    "none": lambda settings: None,
}


def make_chat_model(settings: Settings) -> BaseChatModel | None:
    """The chat model named by `settings.llm`, not loaded yet; None for `none`."""
    try:
        factory = _PROVIDERS[settings.llm]
    except KeyError:
        raise ValueError(
            f"unknown llm {settings.llm!r}; choose from {sorted(_PROVIDERS)}"
        ) from None
    return factory(settings)


def warm_up(model: BaseChatModel | None) -> None:
    """Load a lazily loaded model now (app start-up), so the first question is not slow."""
    if isinstance(model, EmbeddedLlamaChat):
        model.warm_up()
