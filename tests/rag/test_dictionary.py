"""rag/dictionary.py: English words found in the Chinese a note writes, via CC-CEDICT."""

import pytest

from rag.dictionary import candidates, translations_in
from rag.glossary import Glossary


@pytest.mark.unit
def test_general_words_and_phrases_get_their_chinese_forms():
    found = candidates("How many domestic dealers did it have last week?")
    assert {"经销商", "国内", "上周"} <= set(found)


@pytest.mark.unit
def test_only_forms_the_notes_write_are_kept():
    note = "截至9月末公司国内经销商合计2385家，上周新增5家。"
    kept = translations_in("How many domestic dealers were added last week?", [note])
    assert {"经销商", "国内", "上周"} <= set(kept)
    assert all(word in note for word in kept)
    assert translations_in("How many domestic dealers?", ["Revenue rose 9%."]) == []


@pytest.mark.unit
def test_chinese_words_find_the_english_a_note_writes():
    from rag.dictionary import english_in

    note = "China Life's gross written premium rose 9% to RMB669.65bn in 9M25."
    found = english_in(["保费", "人寿"], [note])
    assert "premium" in found
    assert all(word.lower() in note.lower() for word in found)


def test_an_english_name_notes_write_only_in_chinese_gets_its_chinese_forms():
    from rag.dictionary import chinese_forms
    from rag.glossary import Glossary
    from rag.plan.question import Question

    assert "中国移动" in chinese_forms("China Mobile")  # 中国移动通信 without its ending
    assert chinese_forms("Acme Robotics") == []

    glossary = Glossary(entities=[["中国联通"], ["贵州茅台", "Moutai"]], terms=[["growth", "增长"]])
    unicom = Question.parse("What was China Unicom's revenue growth?", "en", glossary)
    assert [g[0] for g in unicom.entities] == ["中国联通"]
    # a word beside a known name is part of it, not a name the notes must write
    moutai = Question.parse("What was Kweichow Moutai's revenue?", "en", glossary)
    assert moutai.names == (("贵州茅台", "Moutai"),)
    # a possessive ends a name; a term next to one is no name
    aia = Question.parse("What was AIA Group's VONB growth?", "en", glossary)
    assert aia.names == (("AIA",), ("Group",), ("VONB",))


@pytest.mark.unit
def test_english_glosses_are_content_words_without_measure_word_notes():
    from rag.dictionary import english_glosses

    words = english_glosses(["银行", "笔"])
    assert "bank" in words
    assert not any(w.startswith("cl") or not w.isalpha() for w in words)


@pytest.mark.unit
def test_a_company_the_dictionary_names_is_found_by_its_chinese_name():
    from rag.dictionary import company_forms
    from rag.plan.question import _latin_names

    assert company_forms("Xiaomi") == ["小米"]
    assert company_forms("Geely") == ["吉利"]
    assert company_forms("geely") == []  # only as the dictionary capitalises a name
    assert company_forms("Lucky") == []
    assert ("Huawei", "华为") in _latin_names("Is Huawei a supplier of the project?", Glossary())


@pytest.mark.unit
def test_a_question_naming_a_company_in_english_is_answered_from_its_chinese_sentence():
    from langchain_core.documents import Document

    from rag.pick.choose import coverage_gap
    from rag.pick.evidence import select_evidence
    from rag.plan.question import Question
    from rag.render.answer import deterministic_answer

    text = "吉利汽车三季度交付约76万辆，同比增长40%。长安汽车三季度交付约68万辆。"
    doc = Document(page_content=text, metadata={"source": "auto.md", "title": "t", "start": 0})
    question = Question.parse("How many vehicles did Geely deliver in Q3?", "en", Glossary())
    evidence = select_evidence(question, [doc], Glossary())
    assert coverage_gap(question, evidence, text) is None
    assert "76万辆" in deterministic_answer(question, evidence)


@pytest.mark.unit
def test_a_dictionary_company_is_answered_only_from_a_sentence_naming_it():
    """A section asking about several companies makes no sentence under it any one's."""
    from langchain_core.documents import Document

    from rag.pick.choose import best_quantity
    from rag.pick.evidence import select_evidence
    from rag.plan.question import Question

    text = "问：新势力吉利、长安分别怎么看？\n答：长安汽车三季度交付约68万辆。三季度交付约5万辆的是另一家。"
    doc = Document(page_content=text, metadata={"source": "a.md", "title": "t", "start": 0})
    question = Question.parse("How many vehicles did Geely deliver in Q3?", "en", Glossary())
    assert best_quantity(question, select_evidence(question, [doc], Glossary())) is None


@pytest.mark.unit
def test_a_name_said_without_its_generic_tail_has_the_dictionarys_chinese_forms():
    from rag.dictionary import headwords

    assert "东方航空" in headwords("China Eastern")  # China Eastern Airlines
    assert headwords("China Southern Airlines") == ("南航",)
    assert headwords("Spring") == () or "航空" not in "".join(headwords("Spring"))


@pytest.mark.unit
def test_a_name_said_without_its_tail_is_looked_for_in_its_chinese_forms_when_no_note_names_it():
    from langchain_core.documents import Document

    from rag.dictionary import tailed_forms
    from rag.pick.choose import coverage_gap
    from rag.pick.evidence import select_evidence
    from rag.plan.question import Question

    assert {"东方航空", "东航"} <= set(tailed_forms("China Eastern"))
    assert tailed_forms("China Eastern Airlines") == []  # known whole: chinese_forms reads it
    question = Question.parse("What was China Eastern's revenue in 3Q25?", "en", Glossary())
    assert any("东航" in name for name in question.names), question.names
    text = "三季度中国东航营业收入384.6亿元，同比增长3.6%。"
    doc = Document(page_content=text, metadata={"source": "a.md", "title": "t", "start": 0})
    evidence = select_evidence(question, [doc], Glossary())
    assert coverage_gap(question, evidence, text) != "name"
