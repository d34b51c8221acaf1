"""Retrieval, grounded answering and calculator tools for the research-notes assistant.

Importing this package sets the offline switches (no hub downloads, no telemetry) before any
model library is imported, so every entry point (CLI, API, tests) runs offline.
"""

from rag import offline as _offline

_offline.apply()
