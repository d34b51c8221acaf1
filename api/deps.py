"""Every dependency the routes use, in one place; tests swap them with
`app.dependency_overrides[get_service] = lambda: FakeAssistant()`."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import SecretStr

from api.errors import ApiError
from api.feedback_store import FeedbackStore
from api.limits import AnswerGate
from api.slack_bot import SlackBot
from ingest.library import DocumentLibrary
from rag.config import Settings
from rag.service import AnsweringService, FactTables

if TYPE_CHECKING:  # api.grid_jobs answers through api.ask, which depends on this module
    from api.grid_jobs import GridRunner


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_service(request: Request) -> AnsweringService:
    service = request.app.state.service
    if service is None:  # only between process start and the end of the lifespan's start-up
        raise ApiError(503, "starting", "the service is starting", headers={"Retry-After": "5"})
    return service


def get_fact_tables(request: Request) -> FactTables:
    service = get_service(request)
    if not isinstance(service, FactTables):
        raise ApiError(501, "not_supported", "this answering service keeps no fact tables")
    return service


def get_library(request: Request) -> DocumentLibrary:
    library = request.app.state.library
    if library is None:
        raise ApiError(503, "starting", "the library is starting", headers={"Retry-After": "5"})
    return library


def get_gate(request: Request) -> AnswerGate:
    return request.app.state.gate


def get_library_lock(request: Request) -> asyncio.Lock:
    return request.app.state.library_lock


def get_slack(request: Request) -> SlackBot:
    return request.app.state.slack


def get_feedback(request: Request) -> FeedbackStore:
    return request.app.state.feedback


def get_grid(request: Request) -> GridRunner:
    return request.app.state.grid


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ServiceDep = Annotated[AnsweringService, Depends(get_service)]
FactTablesDep = Annotated[FactTables, Depends(get_fact_tables)]
LibraryDep = Annotated[DocumentLibrary, Depends(get_library)]
GateDep = Annotated[AnswerGate, Depends(get_gate)]
LibraryLockDep = Annotated[asyncio.Lock, Depends(get_library_lock)]
SlackDep = Annotated[SlackBot, Depends(get_slack)]
FeedbackDep = Annotated[FeedbackStore, Depends(get_feedback)]
GridDep = Annotated["GridRunner", Depends(get_grid)]

_bearer = HTTPBearer(auto_error=False, description="One of RNA_API_KEYS, when keys are set.")


def key_matches(presented: str, keys: Sequence[SecretStr]) -> bool:
    """Constant-time comparison against every key (no early exit that leaks which one)."""
    return key_position(presented, keys) is not None


def key_position(presented: str, keys: Sequence[SecretStr]) -> int | None:
    """The 1-based position of the presented key in `keys` (compared with every key in
    constant time), or None."""
    given = presented.encode()
    found = None
    for position, key in enumerate(keys, 1):
        if hmac.compare_digest(given, key.get_secret_value().encode()) and found is None:
            found = position
    return found


async def require_api_key(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    if not settings.api_keys:
        return  # settings refuse a non-loopback host without keys
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise ApiError(401, "missing_api_key", "send 'Authorization: Bearer <key>'", challenge)
    if not key_matches(credentials.credentials, settings.api_keys):
        raise ApiError(401, "invalid_api_key", "the API key is not valid", challenge)


async def caller_key(request: Request, settings: SettingsDep) -> str | None:
    """Which API key the caller holds, as "key-N" (its position in RNA_API_KEYS: nothing
    derived from the secret is stored), or None without keys. Read from the header itself
    rather than through `HTTPBearer`, which would declare auth in the schema even when no keys
    are set; `require_api_key` on the router does the checking."""
    if not settings.api_keys:
        return None
    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    if scheme.lower() != "bearer" or not token:
        return None
    position = key_position(token, settings.api_keys)
    return None if position is None else f"key-{position}"


CallerKeyDep = Annotated[str | None, Depends(caller_key)]
