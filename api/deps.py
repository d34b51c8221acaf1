"""Every dependency the routes use, in one place; tests swap them with
`app.dependency_overrides[get_service] = lambda: FakeAssistant()`."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from api.errors import ApiError
from api.limits import AnswerGate
from api.slack_bot import SlackBot
from ingest.library import DocumentLibrary
from rag.config import Settings
from rag.service import AnsweringService, FactTables


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


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ServiceDep = Annotated[AnsweringService, Depends(get_service)]
FactTablesDep = Annotated[FactTables, Depends(get_fact_tables)]
LibraryDep = Annotated[DocumentLibrary, Depends(get_library)]
GateDep = Annotated[AnswerGate, Depends(get_gate)]
LibraryLockDep = Annotated[asyncio.Lock, Depends(get_library_lock)]
SlackDep = Annotated[SlackBot, Depends(get_slack)]

_bearer = HTTPBearer(auto_error=False, description="One of RNA_API_KEYS, when keys are set.")


def key_matches(presented: str, keys: Sequence[SecretStr]) -> bool:
    """Constant-time comparison against every key (no early exit that leaks which one)."""
    given = presented.encode()
    found = False
    for key in keys:
        found |= hmac.compare_digest(given, key.get_secret_value().encode())
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
