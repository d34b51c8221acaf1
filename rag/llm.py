"""The chat model seam: LangChain's `BaseChatModel`, picked by `settings.llm` in one factory.

- `llamacpp`: the packaged Qwen2.5-Coder-1.5B-Instruct GGUF run in-process by llama.cpp.
- `openai`: any OpenAI-compatible endpoint (vLLM, llama.cpp's server, Ollama, OpenAI itself).
- `none`: no model; callers serve their deterministic answer.

Constructing a model is cheap: the GGUF is joined and loaded on first use, or by `warm_up()` at
app start-up, never at import.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Self

from langchain_community.chat_models import ChatLlamaCpp
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import Field, PrivateAttr

from rag.config import Settings
from rag.model_files import llm_gguf_path, packaged_gguf_path

log = logging.getLogger(__name__)

SEED = 42
# Prompt tokens evaluated per llama.cpp batch. ChatLlamaCpp's default of 8 makes a 1,000-token
# RAG prompt several times slower to read.
N_BATCH = 512


class LazyChatLlamaCpp(ChatLlamaCpp):
    """`ChatLlamaCpp` that loads its GGUF on first use instead of in its constructor.

    `resolve_model_path` (when set) runs once before loading and returns the file to load; the
    factory uses it to join the packaged chunks. One llama.cpp context cannot serve two calls at
    once, so calls are serialised here whatever concurrency the caller allows.
    """

    resolve_model_path: Callable[[], Path] | None = Field(default=None, exclude=True)
    _load_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    # A plain Lock, not an RLock: LangChain's default `astream` resumes a sync stream on
    # executor threads, so the thread that releases it may not be the one that took it.
    _call_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    # Same name as the parent's eager `model_validator`: pydantic then drops the parent's, so
    # construction neither imports llama_cpp nor touches the file.
    def validate_environment(self) -> Self:  # type: ignore[override]
        return self

    @property
    def loaded(self) -> bool:
        return self.client is not None

    def warm_up(self) -> None:
        """Join (if needed) and load the model now; later calls are no-ops."""
        if self.client is not None:
            return
        with self._load_lock:
            if self.client is not None:
                return
            if self.resolve_model_path is not None:
                self.model_path = str(self.resolve_model_path())
            # llama.cpp's threads sync through OpenMP; spinning waiters starve each other on a
            # busy 2-core box (generation fell from ~7 to ~1 tok/s). Read once, when the first
            # libgomp loads (torch's too), so rag/offline.py should set it at import as well.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            # The parent's validator is plain code that builds `self.client` (a llama_cpp.Llama).
            ChatLlamaCpp.validate_environment(self)  # type: ignore[operator]
            chat_format = getattr(self.client, "chat_format", None)
            if chat_format == "llama-2":
                # llama-cpp-python's fallback when the GGUF carries no chat template.
                log.warning("%s has no chat template; using the llama-2 format", self.model_path)
            log.info("loaded %s (chat format %s)", self.model_path, chat_format)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        params = {**self._get_parameters(stop), **kwargs}
        if self.streaming and not params.get("tool_choice"):
            # The parent would stream too; going through our `_stream` takes the lock once.
            return generate_from_stream(
                self._stream(messages, stop=stop, run_manager=run_manager, **kwargs)
            )
        self.warm_up()
        with self._call_lock:
            return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self.warm_up()
        with self._call_lock:
            yield from super()._stream(messages, stop=stop, run_manager=run_manager, **kwargs)


def _make_llamacpp(settings: Settings) -> BaseChatModel:
    path = settings.llm_gguf_path or packaged_gguf_path(settings)
    return LazyChatLlamaCpp(
        model_path=str(path),
        resolve_model_path=lambda: llm_gguf_path(settings),
        n_threads=settings.llm_threads,
        n_ctx=settings.llm_context_tokens,
        n_batch=min(N_BATCH, settings.llm_context_tokens),
        # llama.cpp reads prompts with cpu_count() threads unless told: keep the cap whole.
        model_kwargs={"n_threads_batch": settings.llm_threads},
        max_tokens=settings.llm_max_tokens,
        temperature=0.0,  # greedy: the same prompt gives the same bytes
        seed=SEED,
        streaming=True,
        verbose=False,
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
    if isinstance(model, LazyChatLlamaCpp):
        model.warm_up()
