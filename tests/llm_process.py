"""The embedded LLM's server as a separate process (`python -m rag.llm_server`), on a free
loopback port, that a test can freeze (SIGSTOP), kill and start again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from rag.config import REPO_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LlamaServerProcess:
    def __init__(self, log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 180) -> float:
        """Start it and wait until it answers; the seconds that took."""
        started = time.monotonic()
        with self.log_path.open("ab") as log:  # a file, not a pipe nobody drains
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "rag.llm_server", "--port", str(self.port)],
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"},
            )
        while True:
            if self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"rag.llm_server exited {self.proc.returncode}: {tail}")
            try:
                if httpx.get(f"{self.base_url}/models", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            if time.monotonic() - started > timeout_s:
                raise RuntimeError(f"rag.llm_server did not come up in {timeout_s} s")
            time.sleep(0.3)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def log_tail(self, n: int = 1500) -> str:
        return self.log_path.read_text(errors="replace")[-n:]

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a frozen process cannot die otherwise
            self.proc.kill()
            self.proc.wait(timeout=30)
