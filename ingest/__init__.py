"""Loading, cleaning, chunking and indexing documents into Chroma and the keyword index."""

import rag  # noqa: F401  (sets the offline switches before any model library loads)
