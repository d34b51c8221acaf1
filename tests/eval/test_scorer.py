"""Tests for eval/scorer.py with hand-made Answers."""

from __future__ import annotations

import pytest

from eval.scorer import (
    Case,
    Gate,
    abstention_correct,
    check_gate,
    citation_correct,
    keywords_match,
    missing_values,
    prompt_tokens,
    score_case,
    source_rank,
    summarize,
)
from rag.types import Answer, Citation, Message

pytestmark = pytest.mark.unit

AEC = "003_558daa5f5094b1d2.txt"
LC = "000_b074af76218b3ff2.txt"
NV_QUOTE = "NV2025年的AEC需求量约为70万根,2026年预计增长至170万根左右,后续可能加单"
GOOGLE_QUOTE = "谷歌TPU与AEC比例为1:1.25,估算谷歌明年至少需要两百多万根AEC"
LC_QUOTE = "两项相加,2026年全球液冷市场总规模预计可达130亿至150亿美元。"


def cite(quote: str, source: str = AEC, n: int = 1) -> Citation:
    return Citation(
        n=n,
        source=f"corpus/{source}",
        title="t",
        date="2025-11-12",
        quote=quote,
        start=0,
        end=len(quote),
        score=0.5,
    )


def answer(text: str, *citations: Citation, abstained: bool = False, **kw: object) -> Answer:
    return Answer(answer=text, language="zh", abstained=abstained, citations=list(citations), **kw)


def case(kind: str = "numeric", source: str | None = AEC, **expected: object) -> Case:
    return Case.model_validate(
        {
            "id": "c",
            "question": "q",
            "language": "zh",
            "kind": kind,
            "source": source,
            "expected": expected,
            "history": [{"role": "user", "content": "x"}] if kind == "follow_up" else [],
        }
    )


NV_2026 = case(values=[{"value": 1700000, "unit": "根"}])


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("英伟达2026年AEC需求量约170万根[1]。", True),
        ("About 1.7 million cables [1].", True),
        ("1,700,000 cables [1]", True),
        ("约170,000根[1]", False),  # 170,000 is not 170万
        ("17万根[1]", False),
        ("170万美元[1]", True),  # a count expectation matches any plain amount of that value
        ("170%[1]", False),  # ...but not a percent
        ("文档中没有提到。", False),
    ],
)
def test_numeric_value_after_unit_normalisation(text: str, ok: bool) -> None:
    assert (not missing_values(NV_2026, answer(text))) is ok


def test_range_must_match_both_ends() -> None:
    c = case(values=[{"low": 13_000_000_000, "high": 15_000_000_000, "unit": "USD"}], source=LC)
    assert not missing_values(c, answer("US$13–15 billion [1]"))
    assert not missing_values(c, answer("130亿至150亿美元[1]"))
    assert missing_values(c, answer("130亿美元[1]"))  # a point is not the range
    assert missing_values(c, answer("130亿至160亿美元[1]"))
    assert missing_values(c, answer("130亿至150亿元人民币[1]"))  # wrong currency


def test_qualifier_direction_is_checked() -> None:
    c = case(values=[{"value": 2000000, "unit": "根", "qualifier": "at_least"}])
    assert not missing_values(c, answer("谷歌明年至少需要两百多万根AEC[1]"))
    assert not missing_values(c, answer("at least 2 million cables [1]"))
    assert not missing_values(c, answer("more than 2 million cables [1]"))
    assert missing_values(c, answer("约200万根[1]"))
    assert missing_values(c, answer("less than 2 million cables [1]"))
    under = case(values=[{"value": 1000000, "unit": "根", "qualifier": "under"}])
    assert not missing_values(under, answer("总需求量不到100万根[1]"))
    assert not missing_values(under, answer("less than 1 million cables [1]"))
    assert missing_values(under, answer("超过100万根[1]"))


def test_percent_points_and_tolerance() -> None:
    pct = case(kind="calculator", values=[{"value": 142.857, "unit": "%"}])
    assert not missing_values(pct, answer("增长约142.9%[1]"))
    assert missing_values(pct, answer("增长约144.5%[1]"))
    assert missing_values(pct, answer("增长约142.9万[1]"))
    pp = case(kind="calculator", values=[{"value": 29.24, "unit": "pp"}])
    assert not missing_values(pp, answer("高29.24个百分点[1]"))
    assert not missing_values(pp, answer("29.24 percentage points higher [1]"))
    assert not missing_values(pp, answer("高29.24%[1]"))
    ratio = case(values=[{"value": 1.25, "unit": "ratio"}])
    assert not missing_values(ratio, answer("比例为1:1.25[1]"))
    assert missing_values(ratio, answer("1.25根[1]"))


def test_keywords_all_groups_any_word() -> None:
    groups = [["credo", "Credo"], ["marvel", "Marvell"]]
    assert keywords_match(groups, "NV项目指定CREDO芯片，非NV项目采购marvel芯片")
    assert not keywords_match(groups, "NV项目指定credo芯片")
    c = case(kind="non_numeric", keywords=[["维蒂", "Vertiv"], ["整装"]])
    good = score_case(
        c, answer("维蒂负责整装产品[1]", cite("其中维蒂负责整装产品,公司提供UQD的某些部件"))
    )
    assert good.correct and good.cited and good.correct_and_cited
    bad = score_case(c, answer("公司负责整装[1]", cite("其中维蒂负责整装产品")))
    assert not bad.correct and bad.reasons == ["missing keywords"]


def test_abstention() -> None:
    c = case(kind="abstain", source=None, abstain=True)
    clean = answer("文档中没有提到英伟达2027年的AEC需求。", abstained=True)
    assert abstention_correct(clean)
    assert score_case(c, clean).correct_and_cited
    # quoting what the notes do say is fine; inventing a figure is not
    honest = answer(
        "没有2027年数据；文档只给出2026年约170万根[1]。", cite(NV_QUOTE), abstained=True
    )
    assert abstention_correct(honest)
    invented = answer("没有确切数据，估计约250万根。", abstained=True)
    assert not abstention_correct(invented)
    assert "invented figures" in score_case(c, invented).reasons[0]
    answered = answer("约170万根[1]", cite(NV_QUOTE))
    assert not score_case(c, answered).correct
    assert score_case(c, answered).reasons == ["did not abstain"]


def test_abstaining_on_an_answerable_case_is_wrong() -> None:
    r = score_case(NV_2026, answer("文档中没有提到。", abstained=True))
    assert not r.correct and "abstained" in r.reasons


def test_citation_needs_expected_source_and_figure_in_quote() -> None:
    text = "约170万根[1]"
    assert citation_correct(NV_2026, answer(text, cite(NV_QUOTE)))
    # right figure, wrong note
    assert not citation_correct(NV_2026, answer(text, cite(NV_QUOTE, source=LC)))
    # right note, quote does not state the figure
    assert not citation_correct(NV_2026, answer(text, cite(GOOGLE_QUOTE)))
    # no citations at all
    r = score_case(NV_2026, answer(text))
    assert r.correct and not r.cited and not r.correct_and_cited
    assert r.reasons == ["expected source not cited"]
    # a qualified figure in the quote still counts as stating it
    g = case(values=[{"value": 2000000, "unit": "根", "qualifier": "at_least"}])
    assert citation_correct(g, answer("至少200万根[1]", cite(GOOGLE_QUOTE)))


def test_calculator_citation_needs_only_the_source() -> None:
    c = case(kind="calculator", values=[{"value": 1000000, "unit": "根"}])
    a = answer("2026年比2025年增加100万根（170万−70万）[1]", cite(NV_QUOTE))
    r = score_case(c, a)
    assert r.correct and r.cited
    assert not score_case(c, answer("增加100万根", cite(NV_QUOTE, source=LC))).cited


def test_latency_tokens_and_rank() -> None:
    a = answer(
        "约170万根[2]",
        cite(LC_QUOTE, source=LC, n=1),
        cite(NV_QUOTE, n=2),
        timings_ms={"retrieve": 3.0, "total": 1234.5},
        verification={"usage": {"prompt_tokens": 812}},
    )
    r = score_case(NV_2026, a, wall_ms=9999)
    assert r.latency_ms == 1234.5
    assert r.prompt_tokens == 812
    assert r.source_rank == 2
    assert score_case(NV_2026, answer("x"), wall_ms=42).latency_ms == 42
    assert prompt_tokens(answer("x", verification={"prompt_tokens": 5})) == 5
    # a service-reported retrieval list wins over the citations
    ranked = answer(
        "x", cite(NV_QUOTE), verification={"retrieval": [{"doc_id": f"corpus/{LC}"}, AEC]}
    )
    assert source_rank(NV_2026, ranked) == 2


def test_summary_and_gate() -> None:
    ok = score_case(NV_2026, answer("约170万根[1]", cite(NV_QUOTE), timings_ms={"total": 10}))
    bad = score_case(NV_2026, answer("约17万根", timings_ms={"total": 30}))
    abst = score_case(
        case(kind="abstain", source=None, abstain=True), answer("没有提到", abstained=True)
    )
    s = summarize([ok, bad, abst], k=5)
    assert s["overall"].n == 3
    assert s["overall"].correct_and_cited == pytest.approx(2 / 3)
    assert s["kind"]["numeric"].correct_and_cited == 0.5
    assert s["kind"]["numeric"].recall_at_k == 0.5
    assert s["kind"]["numeric"].mrr == 0.5
    assert s["kind"]["abstain"].recall_at_k is None
    assert s["language"]["zh"].latency_p50_ms == 20  # median of 10 and 30; no timing skipped
    gate = Gate(overall=0.9, kind={"abstain": 1.0, "numeric": 0.5, "calculator": 0.9})
    failures = check_gate([ok, bad, abst], gate)
    assert len(failures) == 1 and failures[0].startswith("overall")
    assert check_gate([ok, abst], gate) == []  # kinds with no cases are skipped


def test_case_model_rejects_inconsistent_cases() -> None:
    with pytest.raises(ValueError):
        case(values=[{"value": 1, "low": 1, "high": 2}])
    with pytest.raises(ValueError):
        case(kind="abstain", source=None, abstain=True, keywords=[["x"]])
    with pytest.raises(ValueError):
        case(kind="numeric", source=None, values=[{"value": 1}])
    with pytest.raises(ValueError):
        Case(
            id="x",
            question="q",
            language="zh",
            kind="follow_up",
            source=AEC,
            expected={"keywords": [["a"]]},
            history=[],
        )  # type: ignore[arg-type]
    assert case(kind="follow_up", keywords=[["a"]]).history == [Message(role="user", content="x")]


@pytest.mark.unit
def test_a_quoted_table_row_reads_its_cells_in_the_caption_unit_its_citation_shows():
    from eval.figures import read_figures

    row = "| Q3单季营业收入 | 390.64 | 81.74 |"
    bare = read_figures(row)
    shown = read_figures(row, context="表1：核心指标（单位：亿元，另注明者除外）\n| 指标 | A | B |")
    assert all(f.kind == "number" for f in bare)
    assert [f.raw for f in shown] == ["390.64亿元", "81.74亿元"]
