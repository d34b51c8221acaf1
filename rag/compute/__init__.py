"""Stage 5, computing: answers that are calculations or comparisons, done in code.

Contract: `plan_and_compute(question, docs, glossary, retrieve) -> Calculation | None` finds the
operation the question asks (growth, CAGR, share, sum, difference, ratio, per unit, working
back, annualising, a period derived from two others) and its cited operands, and runs it on
the calculator; `derived_period` and `plan_from_stated_period` cover the periods the notes do
not state. `rank(question, rows, order)` compares one note's facts across companies. Every
computation is recorded as a `ToolCall` with its inputs and formula.

Modules: `calculator` (exact interval arithmetic), `planner`, `ranking`.
"""
