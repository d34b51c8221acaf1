"""Stage 2, retrieval: the chunks that may answer a question.

Contract: `HybridRetriever` is a LangChain `BaseRetriever`;
`invoke(text, k=, filters=, language=) -> list[Document]` fuses dense search in the vector store
(Chroma, e5 embeddings) with BM25 over a Chinese/English keyword index, scoped to the notes
that name the asked companies. Each chunk carries its source, title, date, headings, offsets
and ranks in its metadata; the keyword index also holds the chunk's facts (stage 3), derived
once per index version.

Modules: `store` (vector store factory, index stamps), `keyword` (BM25 + facts sidecar),
`hybrid` (the retriever).
"""
