"""Stage 1, the query plan: a question read once into a typed `Question`.

Contract: `Question.parse(text, language, glossary) -> Question` — the companies and Latin names
asked (with the aliases the notes give them), metrics, period, years, grades and models,
markets and channels, and what kind of answer is wanted (a level or a change, an amount, a
share, a count of something). Later stages read these fields; none re-parses the question.
`rewrite_follow_up(text, history, glossary) -> str` makes a follow-up standalone ("那Meta呢?"),
and `per_entity_questions(question)` splits "A's and B's revenue" into one question each.

Modules: `question` (the plan), `follow_up`.
"""
