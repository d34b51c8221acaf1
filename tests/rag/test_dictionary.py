"""rag/dictionary.py: English words found in the Chinese a note writes, via CC-CEDICT."""

import pytest

from rag.dictionary import candidates, translations_in


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
