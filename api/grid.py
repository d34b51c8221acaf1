"""The documents × questions grid as a job API (api/grid_jobs.py runs it):

* `POST /v1/grid` `{"documents": [doc_id, …], "questions": [...]}` → 202 and the job (its id,
  `Location: /v1/grid/{id}`); 400 over the limits or for an unknown note, 409 while the same
  API key has a grid running (the message and `Location` name it), 503 when `grid_max_jobs`
  run.
* `GET /v1/grid/{id}` → its state, progress and finished cells, each an answer with its
  citations (all from that row's note), "not in this note", or an error; `?format=csv|xlsx`
  → the same grid as a file (api/grid_export.py).
* `POST /v1/grid/{id}/cancel` stops it, keeping the finished cells; `POST /v1/grid/{id}/resume`
  answers the missing cells of a cancelled or interrupted one.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from api.deps import CallerKeyDep, GridDep, LibraryDep
from api.errors import ApiError, responses
from api.grid_export import to_csv, to_xlsx
from rag.types import GridJob, GridRequest

router = APIRouter(prefix="/v1", tags=["grid"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Format = Literal["json", "csv", "xlsx"]
JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The job's id.")]
_FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The job, or with `format=csv|xlsx` its grid as a file.",
        "content": {"text/csv": {}, XLSX: {}},
    }
}


def _found(job: GridJob | None, job_id: str) -> GridJob:
    if job is None:
        raise ApiError(404, "grid_not_found", f"no grid job {job_id}")
    return job


@router.post(
    "/grid",
    status_code=202,
    response_model=GridJob,
    responses=responses(400, 401, 409, 413, 422, 503),
)
async def submit_grid(
    body: GridRequest,
    grid: GridDep,
    library: LibraryDep,
    caller: CallerKeyDep,
    response: Response,
) -> GridJob:
    """Start a grid: every question asked of every note, one note at a time, in the
    background. Poll `GET /v1/grid/{id}` for progress and cells."""
    documents = await run_in_threadpool(library.list)
    job = await run_in_threadpool(lambda: grid.submit(body, owner=caller, documents=documents))
    response.headers["Location"] = f"/v1/grid/{job.id}"
    return job


@router.get(
    "/grid/{job_id}", response_model=GridJob, responses={**responses(401, 404, 422), **_FILES}
)
async def get_grid_job(
    job_id: JobId,
    grid: GridDep,
    format: Annotated[Format, Query(description="json (default), csv or xlsx.")] = "json",
) -> GridJob | Response:
    """The job's state, progress and finished cells (rows: notes, columns: questions)."""
    job = _found(await run_in_threadpool(grid.get, job_id), job_id)
    if format == "json":
        return job
    headers = {"Content-Disposition": f'attachment; filename="grid-{job.id[:8]}.{format}"'}
    if format == "csv":  # UTF-8 with a BOM, so Excel reads the Chinese
        body = to_csv(job).encode("utf-8-sig")
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
    return Response(await run_in_threadpool(to_xlsx, job), media_type=XLSX, headers=headers)


@router.post("/grid/{job_id}/cancel", response_model=GridJob, responses=responses(401, 404, 422))
async def cancel_grid(job_id: JobId, grid: GridDep) -> GridJob:
    """Stop a running grid; its finished cells stay. A finished grid is left as it is."""
    return _found(await run_in_threadpool(grid.cancel, job_id), job_id)


@router.post(
    "/grid/{job_id}/resume",
    response_model=GridJob,
    responses=responses(401, 404, 409, 422, 503),
)
async def resume_grid(job_id: JobId, grid: GridDep) -> GridJob:
    """Answer the missing cells of a cancelled or interrupted grid (one running grid per key
    still: 409 otherwise)."""
    return _found(await run_in_threadpool(grid.resume, job_id), job_id)
