"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: every heavy
component is loaded and reachable, else 503 with the per-component map)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


class Health(BaseModel):
    status: str = "ok"


class Readiness(BaseModel):
    ready: bool
    components: dict[str, bool]


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Some component is not ready."}},
)
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    components: dict[str, bool] = {"service": state.service is not None}
    # While warming up, readiness() could race the warm-up's lazy model loads: don't call it.
    if state.service is not None and not state.gate.warming:
        try:
            components.update(await run_in_threadpool(state.service.readiness))
        except Exception:
            log.exception("readiness check failed")
            components["readiness_check"] = False
    components["warm_up"] = not state.gate.warming
    body = Readiness(ready=all(components.values()), components=components)
    return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)
