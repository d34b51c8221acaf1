"""Stage 7, verification: no figure reaches a user unless a source or a tool states it.

Contract: `check_grounding(answer, evidence, extra, question) -> GroundingResult` — every figure
of an answer equals (after unit normalisation) a figure of the cited evidence about the asked
company, or a calculator result; wrong markers are repaired. `judge(draft, shown, question,
evidence, language) -> Verdict` adds the answer-level checks (language, the asked figure
stated, no wrong abstention) that decide what of a model's draft may be streamed.

Modules: `grounding`.
"""
