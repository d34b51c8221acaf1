"""rag/verify/grounding.py: every figure of an answer must be a cited figure of the asked entity; markers are repaired."""

from __future__ import annotations

import pytest

from rag.glossary import Glossary
from rag.plan.question import Question
from rag.verify.grounding import check_grounding, last_sentence_end, misses_the_asked_figure
from tests.conftest import CORPUS
from tests.fakes import evidence_sentence

GLOSSARY = Glossary.load(CORPUS / "glossary.yaml")
NV = "NV2025年的AEC需求量约为70万根,2026年预计增长至170万根左右,后续可能加单。"
META = "Meta2025年的总需求量约为110万根,预计2026年将超过150万根。"


_evidence = evidence_sentence


@pytest.mark.unit
def test_grounding_rejects_wrong_figures_and_repairs_wrong_citations():
    evidence = [_evidence(META), _evidence(NV)]
    ok = check_grounding("Nvidia's 2026 AEC demand is about 1.7 million cables [2].", evidence)
    assert ok.ok and not ok.repaired and ok.checked == 1
    wrong_scale = check_grounding("Nvidia's 2026 AEC demand is about 170,000 cables [2].", evidence)
    assert not wrong_scale.ok and wrong_scale.unsupported
    invented = check_grounding("英伟达2026年AEC需求量约为180万根[2]。", evidence)
    assert not invented.ok
    repaired = check_grounding("英伟达2026年AEC需求量约为170万根[1]。", evidence)
    assert repaired.ok and repaired.repaired and "[2]" in repaired.text
    uncited = check_grounding("英伟达2026年AEC需求量约为170万根。", evidence)
    assert (
        uncited.ok and uncited.repaired and uncited.text == "英伟达2026年AEC需求量约为170万根[2]。"
    )
    two = check_grounding("Meta: about 1.1 million [2]; Nvidia: about 1.7 million.", evidence)
    assert two.ok and two.text == "Meta: about 1.1 million [1]; Nvidia: about 1.7 million[2]."
    unit = check_grounding("Nvidia's 2026 AEC demand is about 1.7 million cables.", evidence)
    assert unit.text == "Nvidia's 2026 AEC demand is about 1.7 million cables[2]."
    assert not check_grounding("The notes describe AEC demand.", evidence).ok  # nothing cited


@pytest.mark.unit
def test_grounding_refuses_a_bound_restated_as_an_estimate():
    evidence = [_evidence(META)]
    assert check_grounding("Meta2026年AEC需求量将超过150万根[1]。", evidence).ok
    assert check_grounding("Meta's 2026 demand: more than 1.5 million cables [1].", evidence).ok
    dropped = check_grounding("Meta2026年AEC需求量约为150万根[1]。", evidence)
    assert not dropped.ok and dropped.unsupported == ["约为150万根"]


@pytest.mark.unit
def test_a_grounded_but_unasked_figure_does_not_stand_for_the_asked_one():
    rack = "例如,在72个GPU配置的机柜中,若全部采用柜内AEC,则需70到80根。"
    evidence = [_evidence(NV, entities=("英伟达",)), _evidence(rack, entities=("英伟达",))]
    question = Question.parse("NV 2025年的AEC需求量大约多少根？", "zh", GLOSSARY)
    assert misses_the_asked_figure("70到80根[2]", question, evidence)
    assert not misses_the_asked_figure("约70万根[1]", question, evidence)


@pytest.mark.parametrize(
    ("text", "after", "end"),
    [
        ("英伟达为170万根[1]。谷歌", 0, len("英伟达为170万根[1]。")),
        ("英伟达为170万根。[1]", 0, None),  # a marker may still follow: not complete yet
        ("英伟达为170万根。[1]谷歌", 0, len("英伟达为170万根。[1]")),
        ("About 1.7 million cables. [1] Google", 0, len("About 1.7 million cables. [1]")),
        ("Demand is 1.7 million", 0, None),  # "1.7" is no sentence end
        ("A [1]. B [2]. C", 0, len("A [1]. B [2].")),  # the last complete one
        ("A [1]. B [2]. C", len("A [1]. B [2]."), None),  # nothing new past `after`
    ],
)
def test_last_sentence_end(text: str, after: int, end: int | None) -> None:
    assert last_sentence_end(text, after) == end
