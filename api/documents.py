"""`/v1/documents`: list, upload (multipart) and delete documents of the library.

Ingesting embeds text (CPU-heavy) and writes the index, so it runs in a worker thread and
one write at a time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor

from api.deps import LibraryDep, LibraryLockDep, SettingsDep
from api.errors import ApiError, responses
from ingest.library import RejectedFile
from rag.types import DocumentInfo, IngestReport

router = APIRouter(prefix="/v1", tags=["documents"])


class DocIdConvertor(Convertor[str]):
    """A document id in a path: like `:path` (ids hold folders, "uploads/x.md"), but never one
    ending in "/facts", which is `GET /v1/documents/{doc_id}/facts` (api/facts.py), so that
    `DELETE …/x.md/facts` is no delete of a document "x.md/facts"."""

    regex = r".+?(?<!/facts)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("doc_id", DocIdConvertor())


class DocumentList(BaseModel):
    documents: list[DocumentInfo]
    count: int


def rejection_status(reason: str) -> int:
    """HTTP status for a RejectedFile reason: size → 413, type → 415, anything else → 400."""
    reason = reason.lower()
    if any(word in reason for word in ("too_large", "too_big", "size")):
        return 413
    if any(word in reason for word in ("type", "extension", "media")):
        return 415
    return 400


@router.get("/documents", response_model=DocumentList, responses=responses(401))
async def list_documents(library: LibraryDep) -> DocumentList:
    documents = await run_in_threadpool(library.list)
    return DocumentList(documents=documents, count=len(documents))


@router.post(
    "/documents",
    status_code=201,
    response_model=IngestReport,
    responses=responses(400, 401, 413, 415, 422),
)
async def upload_document(
    file: Annotated[UploadFile, File(description="A .txt, .md, .html, .pdf or .docx file.")],
    library: LibraryDep,
    lock: LibraryLockDep,
    settings: SettingsDep,
) -> IngestReport:
    """Store and ingest one file with the same pipeline as the corpus."""
    if not file.filename:
        raise ApiError(400, "missing_filename", "the upload has no file name")
    data = await file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise ApiError(
            413, "too_large", f"{file.filename} is over the {settings.max_upload_bytes} byte limit"
        )
    async with lock:
        try:
            return await run_in_threadpool(library.add, file.filename, data)
        except RejectedFile as exc:
            raise ApiError(rejection_status(exc.reason), exc.reason, str(exc)) from exc


@router.delete(
    "/documents/{doc_id:doc_id}", response_model=IngestReport, responses=responses(401, 404)
)
async def delete_document(doc_id: str, library: LibraryDep, lock: LibraryLockDep) -> IngestReport:
    async with lock:
        try:
            return await run_in_threadpool(library.delete, doc_id)
        except KeyError as exc:
            raise ApiError(404, "document_not_found", f"no document {doc_id!r}") from exc
