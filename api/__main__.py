"""`python -m api`: serve the API (and the UI at /ui) on settings.host:settings.port."""

from __future__ import annotations

import uvicorn

from api.main import create_app
from rag.config import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


if __name__ == "__main__":
    main()
