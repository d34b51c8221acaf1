"""`python -m api`: serve the API (and the UI at /ui) on settings.host:settings.port."""

from __future__ import annotations

import uvicorn

from api.main import create_app
from rag.config import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        # Longer than clients' idle keep-alive (httpx: 5 s, the same as uvicorn's default): with
        # equal values a request sent on a connection about to idle out met the server's close
        # (docs/load.md: 1 ReadError in 166 requests under load).
        timeout_keep_alive=30,
    )


if __name__ == "__main__":
    main()
