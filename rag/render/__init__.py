"""Stage 6, rendering: the answer's text, composed in code from the picked evidence.

Contract: `deterministic_answer(question, evidence, name_in=None) -> str` states the picked
figure in the asked language with its `[n]` marker; `abstention(question, evidence, reason) -> str` says the
notes do not say and offers the nearest facts; `per_entity_answer(parts, language)` answers
company by company. `llm_prompt(shown, language, question) -> str` is the model's prompt (the
fixed instructions of `prompts/answer_{language}.md`, then the evidence and the question).

Modules: `answer`.
"""
