"""Hostile uploads and deletes against the real document library (issue #7).

The app runs in-process with the real CorpusLibrary and ingest pipeline (real Chroma, the hash
embedder) over a copy of the corpus in a tmp dir, next to an `outside/` folder and the
process's working directory. Every hostile file gets a 4xx in the error shape or is stored
under a safe name in `data/uploads/`; afterwards everything outside the data dir is
byte-for-byte what it was, and the uploads folder holds exactly the accepted files.
"""

from __future__ import annotations

import functools
import hashlib
import io
import shutil
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from ingest.library import CorpusLibrary
from ingest.pipeline import Indexer
from rag.config import Settings
from tests.api.conftest import api_settings
from tests.conftest import CORPUS
from tests.fakes import FakeAssistant, HashEmbeddings

pytestmark = pytest.mark.integration

LIMIT = 2 * 1024 * 1024  # RNA_MAX_UPLOAD_BYTES for these tests
NOTE = "---\ntitle: 上传的笔记\ndate: 2026-01-05\n---\n英伟达明年AEC需求200万根。\n".encode()
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + bytes(range(256)) * 4


@dataclass
class World:
    root: Path
    settings: Settings
    client: TestClient
    indexer: Indexer

    @property
    def uploads(self) -> Path:
        return self.settings.data_dir / "uploads"

    def upload(self, name: str, data: bytes) -> Any:
        return self.client.post("/v1/documents", files={"file": (name, data)})

    def doc_ids(self) -> set[str]:
        return {d["doc_id"] for d in self.client.get("/v1/documents").json()["documents"]}


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    shutil.copytree(CORPUS, tmp_path / "corpus")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "victim.txt").write_text("英伟达 AEC: keep me\n", encoding="utf-8")
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")  # a relative write would land here and be caught
    settings = api_settings(
        corpus_dir=tmp_path / "corpus",
        data_dir=tmp_path / "data",
        embedder="fake",
        llm="none",
        max_upload_bytes=LIMIT,
    )
    indexer = Indexer(settings, embeddings=HashEmbeddings())
    indexer.ingest_all()
    app = create_app(
        settings,
        service=FakeAssistant(),
        library=CorpusLibrary(settings, indexer),
        mount_ui=False,
    )
    with TestClient(app) as client:
        yield World(tmp_path, settings, client, indexer)


def snapshot(root: Path, data_dir: Path) -> dict[str, str]:
    """sha256 of every file under `root` except the index files inside the data dir."""
    files = {}
    for path in sorted(root.rglob("*")):
        inside_data = path.is_relative_to(data_dir)
        if inside_data and not path.is_relative_to(data_dir / "uploads"):
            continue  # Chroma, the keyword index and the record DB change on every ingest
        if path.is_file() or path.is_symlink():
            files[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text[:500]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code and body["error"]["message"], body


# -- hostile files -------------------------------------------------------------------------------


def make_pdf(objects: list[bytes]) -> bytes:
    """A PDF with these objects (numbered from 1; 1 must be the catalog) and a correct xref."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def text_pdf(content: bytes, stream_dict: bytes = b"") -> bytes:
    stream = b"<< /Length %d %s>>\nstream\n" % (len(content), stream_dict) + content
    return make_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 400] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


GOOD_PDF = text_pdf(b"BT /F1 12 Tf 20 300 Td (NVIDIA AEC demand 2026: 1.7 million) Tj ET")


def deflated_zeros(size: int, wbits: int = 15) -> bytes:
    """`size` bytes of "0" deflated: zlib format (PDF FlateDecode) or raw (wbits=-15, zip)."""
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    block = b"0" * (1024 * 1024)
    out = b"".join(packer.compress(block) for _ in range(size // len(block)))
    return out + packer.flush()


def pdf_bomb() -> bytes:
    """One FlateDecode content stream of ~100 KB that inflates to 100 MB."""
    return text_pdf(deflated_zeros(100 * 1024 * 1024), b"/Filter /FlateDecode ")


def pdf_shared_stream(pages: int = 200, repeats: int = 2000) -> bytes:
    """A 31 KB file whose 200 pages share one content stream of 94 KB (116 s to extract)."""
    content = zlib.compress(b"BT /F1 12 Tf 20 300 Td (NVIDIA AEC 170) Tj ET\n" * repeats, 9)
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 400] /Contents 3 0 R"
        b" /Resources << /Font << /F1 4 0 R >> >> >>"
    )
    return make_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content)
            + content
            + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            *[page] * pages,
        ]
    )


def pdf_page_loop() -> bytes:
    """The page tree's only kid is the page tree itself."""
    return make_pdf(
        [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"]
    )


def pdf_deep_dictionary() -> bytes:
    depth = 5_000
    return make_pdf([b"<< /Type /Catalog /Pages " + b"<< /A " * depth + b">>" * depth + b" >>"])


@functools.cache
def docx_parts() -> dict[str, bytes]:
    import docx

    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("英伟达明年AEC需求200万根。")
    document.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def docx_with(document_xml: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in docx_parts().items():
            archive.writestr(name, document_xml if name == "word/document.xml" else data)
    return buffer.getvalue()


def lying_docx_bomb(inflated: int = 100 * 1024 * 1024, declared: int = 1000) -> bytes:
    """A .docx whose document.xml inflates to `inflated` bytes while its zip headers declare
    `declared`: the declared-size check passes, so decompression itself must stay bounded."""
    name = "word/document.xml"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for part, data in docx_parts().items():
            if part != name:
                archive.writestr(part, data)
        # Stored as is (already deflated), then relabelled as deflated with a false size.
        archive.writestr(zipfile.ZipInfo(name), deflated_zeros(inflated, wbits=-15))
    raw = bytearray(buffer.getvalue())
    for signature, name_at, method_at, size_at in (
        (b"PK\x03\x04", 30, 8, 22),
        (b"PK\x01\x02", 46, 10, 24),
    ):
        at = raw.find(signature)
        while raw[at + name_at : at + name_at + len(name)] != name.encode():
            at = raw.find(signature, at + 4)
        struct.pack_into("<H", raw, at + method_at, zipfile.ZIP_DEFLATED)
        struct.pack_into("<I", raw, at + size_at, declared)
    return bytes(raw)


def not_a_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "英伟达明年AEC需求200万根。")
    return buffer.getvalue()


def honest_docx_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in docx_parts().items():
            if name == "word/document.xml":
                info = zipfile.ZipInfo(name)
                info.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(info, "w", force_zip64=True) as member:
                    for _ in range(40):
                        member.write(b"0" * (1024 * 1024))
            else:
                archive.writestr(name, data)
    return buffer.getvalue()


def yaml_alias_bomb() -> bytes:
    lines = ["---", 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    lines += ["title: *a9", "---", "英伟达明年AEC需求200万根。"]
    return "\n".join(lines).encode()


def hostile_files() -> dict[str, tuple[str, bytes, int, str]]:
    """Case -> (file name, bytes, status, error code or, for 201, the stored name)."""
    return {
        "oversized": ("big.txt", b"x" * (LIMIT + 1), 413, "too_large"),
        "empty": ("empty.txt", b"", 400, "empty"),
        "whitespace only": ("blank.md", b" \n\t\r\n ", 400, "empty"),
        "an executable": ("tool.exe", ELF, 415, "unsupported_type"),
        "no extension": ("Makefile", b"all:\n\techo hi\n", 415, "unsupported_type"),
        "ELF named .pdf": ("report.pdf", ELF, 400, "malformed"),
        "ELF named .txt": ("notes.txt", ELF, 400, "binary"),
        "ELF named .docx": ("memo.docx", ELF, 400, "malformed"),
        "ELF named .html": ("page.html", ELF, 400, "binary"),
        "truncated PDF": ("half.pdf", GOOD_PDF[: len(GOOD_PDF) // 2], 400, "malformed"),
        "PDF header then junk": (
            "junk.pdf",
            b"%PDF-1.7\n" + bytes(range(256)) * 64,
            400,
            "malformed",
        ),
        "PDF page-tree loop": ("loop.pdf", pdf_page_loop(), 400, "malformed"),
        "PDF 5k-deep dictionary": ("deep.pdf", pdf_deep_dictionary(), 400, "malformed"),
        "PDF flate bomb (100 MB)": ("bomb.pdf", pdf_bomb(), 413, "too_large"),
        "PDF, 200 pages share a stream": ("shared.pdf", pdf_shared_stream(), 413, "too_large"),
        "docx zip bomb, honest sizes (40 MB)": ("bomb.docx", honest_docx_bomb(), 413, "too_large"),
        "docx zip bomb, lying sizes (100 MB)": ("liar.docx", lying_docx_bomb(), 400, "malformed"),
        "docx without document.xml": ("hollow.docx", docx_with(b""), 400, "malformed"),
        "zip that is not a docx": ("archive.docx", not_a_docx(), 400, "malformed"),
        "invalid UTF-8 and GB18030": ("mojibake.txt", b"\xff\xfe\xfd\xfc" * 10, 400, "encoding"),
        "nested YAML front matter": (
            "nested.md",
            b"---\ntitle: " + b"[" * 5_000 + b"]" * 5_000 + b"\n---\n" + NOTE,
            201,
            "nested.md",
        ),
        "YAML alias bomb in front matter": ("laughs.md", yaml_alias_bomb(), 201, "laughs.md"),
        "HTML nested 20k deep": (
            "deep.html",
            b"<div>" * 20_000 + "英伟达明年AEC需求200万根。".encode() + b"</div>" * 20_000,
            201,
            "deep.html",
        ),
        "a good PDF": ("good.pdf", GOOD_PDF, 201, "good.pdf"),
        # path traversal and odd names: stored under a safe base name, inside data/uploads
        "relative traversal": ("../../outside/victim.txt", NOTE, 201, "victim.txt"),
        "absolute path": ("/etc/cron.d/evil.md", NOTE, 201, "evil.md"),
        "Windows path": ("..\\..\\Windows\\system32\\win.ini.txt", NOTE, 201, "win.ini.txt"),
        "NUL (the client sends %00)": ("note\x00.exe.txt", NOTE, 201, "note_00.exe.txt"),
        "quote, CR, LF (the client %-encodes them)": ('a"b\r\nc.md', NOTE, 201, "a_22b_0D_0Ac.md"),
        "hidden file": (".bashrc.md", NOTE, 201, "bashrc.md"),
        "fullwidth traversal": ("..／..／ｏｕｔｓｉｄｅ／ｆｕｌｌ．ｍｄ", NOTE, 201, "full.md"),
        "right-to-left override": ("invoice\u202etxt.exe", NOTE, 415, "unsupported_type"),
        "RTL override, allowed type": ("report\u202eexe.md", NOTE, 201, "report_exe.md"),
        "very long Latin name": ("a" * 2000 + ".md", NOTE, 201, "a" * 117 + ".md"),
        "name over the multipart header limit": ("b" * 10_000 + ".md", NOTE, 400, "bad_request"),
        "very long CJK name": ("长" * 300 + ".md", NOTE, 201, "长" * 65 + ".md"),
        # 100 CJK characters are 303 bytes: over the file system's 255 once staged as .x.part
        "CJK name over 255 bytes": ("书" * 100 + ".md", NOTE, 201, "书" * 65 + ".md"),
        "dots only": ("....", NOTE, 400, "bad_name"),
        "a directory": ("../", NOTE, 400, "bad_name"),
        "a reserved name": ("README.md", NOTE, 400, "reserved_name"),
    }


def test_hostile_uploads_get_a_4xx_or_a_safe_name(world: World) -> None:
    before = snapshot(world.root, world.settings.data_dir)
    data_entries = {p.name for p in world.settings.data_dir.iterdir()}
    docs_before = world.doc_ids()
    accepted: dict[str, bytes] = {}
    failures = []
    for case, (name, data, status, expected) in hostile_files().items():
        response = world.upload(name, data)
        body = response.json()
        if status == 201:
            ok = response.status_code == 201 and body.get("documents") == 1
            accepted[expected] = data
        else:
            error = body.get("error", {})
            ok = response.status_code == status and error.get("code") == expected
            ok = ok and set(body) == {"error"} and bool(error.get("message"))
        if not ok:
            failures.append(f"{case}: {response.status_code} {response.text[:300]}")
    assert not failures, "\n".join(failures)

    after = snapshot(world.root, world.settings.data_dir)
    outside_data = {k: v for k, v in after.items() if not k.startswith("data/")}
    assert outside_data == {k: v for k, v in before.items() if not k.startswith("data/")}
    stored = {p.name: p.read_bytes() for p in world.uploads.iterdir()}
    assert sorted(stored) == sorted(accepted)  # no staging leftovers, no refused file
    assert stored == accepted
    assert {p.name for p in world.settings.data_dir.iterdir()} == data_entries | {"uploads"}
    assert world.doc_ids() == docs_before | {f"uploads/{name}" for name in accepted}
    laughs = next(
        d
        for d in world.client.get("/v1/documents").json()["documents"]
        if d["doc_id"] == "uploads/laughs.md"
    )
    assert len(laughs["title"]) < 200  # the alias bomb's list is not the title


def test_multipart_filename_tricks(world: World) -> None:
    """Raw multipart headers: RFC 5987 `filename*` and bytes the client would not send."""

    def raw(disposition: bytes) -> Any:
        body = (
            b'--b\r\nContent-Disposition: form-data; name="file"; ' + disposition + b"\r\n"
            b"Content-Type: text/plain\r\n\r\n" + NOTE + b"\r\n--b--\r\n"
        )
        headers = {"content-type": "multipart/form-data; boundary=b"}
        return world.client.post("/v1/documents", content=body, headers=headers)

    before = snapshot(world.root, world.settings.data_dir)
    star = ("filename*=UTF-8''" + quote("../../outside/笔记.md")).encode()
    cases = {
        b'filename="../../outside/x\x00y.md"': (201, "x_y.md"),
        b'filename="..\\..\\outside\\win.md"': (201, "win.md"),
        b'filename="\xe7\xac\x94\xe8\xae\xb0 \xff\xfe.md"': (201, None),
        b'filename="plain.md"; ' + star: (201, None),
        star: (422, "invalid_request"),  # no plain filename: a text field, not a file
        b'filename=""': (400, "missing_filename"),
        b"": (422, "invalid_request"),
    }
    for disposition, (status, expected) in cases.items():
        response = raw(disposition)
        assert response.status_code == status, (disposition, response.text)
        if status != 201:
            assert_error(response, status, str(expected))
        elif expected:
            assert (world.uploads / expected).is_file()
    after = snapshot(world.root, world.settings.data_dir)
    new = {k for k in after if k not in before}
    assert len(new) == 4 and all(k.count("/") == 2 for k in new), new
    assert all(k.startswith("data/uploads/") for k in new), new
    assert {k: v for k, v in after.items() if k in before} == before


def test_traversal_ids_cannot_delete_anything(world: World) -> None:
    before = snapshot(world.root, world.settings.data_dir)
    docs = world.doc_ids()
    corpus_doc = "003_558daa5f5094b1d2.txt"
    assert corpus_doc in docs
    ids = [
        "../outside/victim.txt",
        "../../outside/victim.txt",
        "uploads/../../outside/victim.txt",
        f"uploads/../corpus/{corpus_doc}",
        f"./{corpus_doc}",
        f"uploads/../{corpus_doc}",
        f"{corpus_doc}/",
        str(world.root / "outside" / "victim.txt"),
        "/etc/passwd",
        "uploads/",
        "uploads/\x00",
        "..",
        "%2e%2e/outside/victim.txt",
        "uploads\\..\\..\\outside\\victim.txt",
        "x" * 5000,
    ]
    refused = {}
    for doc_id in ids:
        # Percent-encode everything, "/" and "." included, so no client folds the "..".
        encoded = quote(doc_id, safe="").replace(".", "%2E")
        response = world.client.delete("/v1/documents/" + encoded)
        refused[doc_id] = (response.status_code, response.json()["error"]["code"])
    assert refused == dict.fromkeys(ids, (404, "document_not_found"))
    assert snapshot(world.root, world.settings.data_dir) == before
    assert world.doc_ids() == docs
    assert (world.root / "outside" / "victim.txt").read_text(encoding="utf-8").endswith("keep me\n")
