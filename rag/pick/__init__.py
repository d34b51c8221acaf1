"""Stage 4, picking: the sentences that answer a question, and the figure among them.

Contract: `select_evidence(question, docs, glossary) -> list[Evidence]` scores the retrieved
chunks' sentences (each with its stored facts, title, date and original offsets);
`coverage_gap(question, evidence, retrieved_text) -> str | None` says why they cannot answer
(an unnamed company, another period, no figure of the asked metric), and
`best_quantity(question, evidence) -> (index, Quantity) | None` picks the figure: never one
whose fact belongs to another entity, metric or period.

Modules: `evidence` (sentences as `Evidence`), `choose` (coverage and the figure), `series`
(the part of a company a figure's clause measures).
"""
