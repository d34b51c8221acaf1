"""Stage 3, facts: every figure of a chunk as a `Fact`, computed once when the index is built.

Contract: `extract_facts(text, glossary, vocab, section=, subject=, doc_year=, caption=)
-> list[Fact]` — each figure with its entity (the clause's subject, not the nearest name),
metric, period, kind (level or change) and unit; the keyword index stores them per chunk and
`facts_of(chunk_id)` reads them back. `document_rows(chunks, facts_of, glossary)` turns them
into `FactRow`s with their quotes (`/v1/documents/{id}/facts`, `/v1/facts`).

Modules: `extract` (facts), `periods` (spans and points in time), `tables` (rows, header
labels), `lexicon` (names, aliases and stock codes the notes write), `rows` (fact tables).
"""
