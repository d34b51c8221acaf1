"""HTTP API (FastAPI) and Slack bot over the one answering service.

`rag` is imported first: it sets the offline switches before any model library loads.
"""

import rag  # noqa: F401
