"""rag/plan: a question's language, and follow-ups rewritten into standalone questions."""

from __future__ import annotations

import pytest

from rag.glossary import Glossary
from rag.language import detect_language
from rag.plan.follow_up import rewrite_follow_up
from rag.plan.question import Question, spelled_entities, spelled_like
from rag.types import Message
from tests.conftest import CORPUS

GLOSSARY = Glossary.load(CORPUS / "glossary.yaml")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("英伟达2026年AEC需求量是多少？", "zh"),
        ("What is Nvidia's 2026 AEC demand?", "en"),
        ("NV的AEC demand是多少", "zh"),
        ("How much is 170万根 in English?", "en"),
    ],
)
def test_language_is_the_dominant_script(text, language):
    assert detect_language(text) == language


@pytest.mark.unit
def test_follow_ups_become_standalone_questions():
    history = [
        Message(role="user", content="英伟达2026年AEC需求量是多少？"),
        Message(role="assistant", content="约170万根[1]。"),
    ]
    assert rewrite_follow_up("那Meta呢?", history, GLOSSARY) == "Meta2026年AEC需求量是多少？"
    assert rewrite_follow_up("那2025年呢？", history, GLOSSARY) == "英伟达2025年AEC需求量是多少？"
    en = [Message(role="user", content="What is Nvidia's 2026 AEC demand?")]
    assert rewrite_follow_up("and Amazon?", en, GLOSSARY) == "What is Amazon's 2026 AEC demand?"
    # A full question is left alone.
    assert (
        rewrite_follow_up("谷歌TPU与AEC的比例是多少？", history, GLOSSARY)
        == "谷歌TPU与AEC的比例是多少？"
    )


@pytest.mark.unit
def test_a_follow_up_replaces_the_company_asked_about_not_the_source_named_first():
    glossary = Glossary(
        entities=[["智元机器人", "AgiBot"], ["优必选", "UBTech"], ["中国移动", "China Mobile"]]
    ).with_lexicon([], [])
    history = [
        Message(role="user", content="In China Mobile's procurement, what was AgiBot's unit price?")
    ]
    assert (
        rewrite_follow_up("And UBTech's?", history, glossary)
        == "In China Mobile's procurement, what was UBTech's unit price?"
    )


@pytest.mark.unit
def test_a_name_the_dictionary_knows_is_found_inside_a_longer_capitalised_run():
    from rag.plan.question import _latin_names

    names = _latin_names("In China Mobile's tender, what did the winner bid?", Glossary())
    assert ("China Mobile", "中国移动通信", "移动通信", "中国移动") in names
    assert ("Mobile",) not in names


@pytest.mark.unit
def test_a_chinese_name_asked_may_be_written_shorter_unless_that_is_another_companys():
    from rag.plan.question import Question

    leap = Question.parse("零跑汽车2026年的年销量目标是多少？", "zh", Glossary())
    assert ("零跑汽车", "零跑") in leap.names
    # 理想 is another company's (known) name here: the question's own name stays whole.
    li = Question.parse(
        "理想科技上半年营收是多少？", "zh", Glossary(entities=[["理想汽车", "理想"]])
    )
    assert not any("理想" in n and "理想科技" not in n for n in li.names)


@pytest.mark.unit
def test_an_amount_per_unit_is_asked_and_stated_per_unit():
    from rag.numbers import extract_quantities
    from rag.plan.question import asks_per_unit, states_per_unit

    assert asks_per_unit("What was China Merchants Port's average revenue per TEU in 3Q25?")
    assert asks_per_unit("比亚迪三季度单车利润是多少？")
    assert not asks_per_unit("What share of revenue came from overseas?")
    text = "Revenue per TEU was US$1,280 in 3Q25, and throughput 53.22m TEU; 单车均价约26.0万元。"
    stated = {q.raw: states_per_unit(text, q) for q in extract_quantities(text)}
    assert stated == {"US$1,280": True, "53.22m": False, "约26.0万元": True}
    # Any measure word (量词) counts: a bottle, a vessel; "单位" is a unit of account.
    assert asks_per_unit("青稞酒业三季度单瓶收入是多少？") and asks_per_unit("每艘船的造价是多少？")
    assert not asks_per_unit("单位：亿元，前三季度营收是多少？")
    assert [q.unit for q in extract_quantities("出厂价约980元/瓶，运费120元/箱")] == ["/瓶", "/箱"]


@pytest.mark.unit
def test_a_follow_up_replaces_a_name_no_note_spells():
    history = [
        Message(role="user", content="What was Horizon Auto's vehicle margin in Q2 2025?"),
        Message(role="assistant", content="19.4% [1]"),
    ]
    assert rewrite_follow_up("And Zeekr's?", history, Glossary()) == (
        "What was Zeekr's vehicle margin in Q2 2025?"
    )
    # An all-caps word may be a product (HBM), never swapped for a company.
    hbm = [Message(role="user", content="2025年三季度HBM营收是多少？")]
    assert (
        rewrite_follow_up("And Micron?", hbm, Glossary())
        == "2025年三季度HBM营收是多少？ And Micron?"
    )


@pytest.mark.unit
@pytest.mark.parametrize(
    ("question", "noun"),
    [
        ("How many subsea cables will the operator lay in 2026?", "cables"),
        ("How many robots did the company ship?", "robots"),
        ("How many TPUs will Google deploy?", "TPUs"),
        ("What is the 2026 demand for subsea cables?", None),
    ],
)
def test_the_noun_an_english_count_question_counts(question: str, noun: str | None) -> None:
    """What a measure word with no one English noun (根, 条) is rendered with: the question's."""
    from rag.plan.question import counted_in_english

    assert counted_in_english(question) == noun


@pytest.mark.unit
def test_a_name_spelled_in_another_romanisation_is_the_notes_company():
    glossary = Glossary(
        entities=[["明阳智能", "Mingyang"], ["海泰新能", "Haitai"], ["金风科技", "Goldwind"]]
    ).with_lexicon([], [])
    assert spelled_like(["Ming", "Yang"], glossary) == ["明阳智能", "Mingyang"]
    assert spelled_like(["Haitian"], glossary) is None  # another company, not a spelling
    question = Question.parse(
        "How many points higher was Ming Yang's gross margin than Goldwind's?", "en", glossary
    )
    # In the order the question names them (A than B is A − B), the spelling resolved.
    assert [g[0] for g in question.entities] == ["明阳智能", "金风科技"]
    assert spelled_entities("What was Ming Yang's revenue?", glossary) == [["明阳智能", "Mingyang"]]


@pytest.mark.unit
def test_a_metric_word_inside_a_company_name_is_no_metric_asked():
    glossary = Glossary(entities=[["Acme Shipping Ports", "远航港口"]]).with_lexicon([], [])
    question = Question.parse("What was Acme Shipping Ports' 9M25 revenue?", "en", glossary)
    asked = {a for group in question.metrics for a in group}
    assert "revenue" in asked and "shipments" not in asked, question.metrics


@pytest.mark.unit
def test_an_amount_per_unit_is_per_what_it_names():
    from rag.numbers import extract_quantities
    from rag.plan.question import per_what, same_per, stated_per

    assert per_what("What was the pack cost per Wh a year earlier?") == "Wh"
    assert per_what("单车归母净利润约为多少元？") == "车"
    sentence = "自供电池相比外采，单车成本优势大约在3,000-5,000元；电池包成本约0.45元/Wh。"
    per_car, per_wh = extract_quantities(sentence)
    assert stated_per(sentence, per_car) == "车" and stated_per(sentence, per_wh) == "Wh"
    assert not same_per("Wh", "车")  # a unit symbol is only itself
    assert same_per("车", "辆") and same_per("vehicle", "辆")  # words are not compared


@pytest.mark.unit
@pytest.mark.parametrize(
    ("text", "relative"),
    [
        ("How much has the average selling price changed since 2022, in percent?", True),
        ("均价较2022年变化了百分之多少？", True),
        ("What was the average selling price in 2022?", False),
        ("How much revenue did it book, in RMB?", False),
    ],
)
def test_a_change_asked_in_percent_is_relative_whatever_it_is_of(text, relative):
    from rag.plan.question import asks_relative

    assert asks_relative(text) is relative


@pytest.mark.unit
@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("Which liquor maker's quarterly revenue exceeded Wuliangye's for the first time?", True),
        ("Which EV start-up topped the ranking?", True),
        ("液冷系统包括哪些主要组件？", True),
        ("哪个品牌增长最快？", True),
        ("Which quarter had the highest revenue?", False),
        ("哪个季度营收最高？", False),
        ("哪一年开始盈利？", False),
    ],
)
def test_a_name_is_asked_by_which_or_who_but_not_which_period(text, who):
    from rag.plan.question import ASKS_WHO

    assert bool(ASKS_WHO.search(text)) is who


@pytest.mark.unit
def test_an_english_name_whose_dictionary_form_the_notes_write_shorter_or_longer_is_theirs():
    from rag.plan.question import Question, abbreviation_keys

    assert abbreviation_keys("南方航空") == {"南方航空", "南航"}
    assert abbreviation_keys("中国国航") == {"中国国航", "国航"}
    assert "东航" in abbreviation_keys("东方航空") & abbreviation_keys("中国东航")
    assert abbreviation_keys("Air China") == set()
    glossary = Glossary(
        entities=[["南方航空", "600029.SH"], ["中国东航", "600115.SH"], ["中国国航"]]
    ).with_lexicon([], [])
    # CC-CEDICT: 南航 "China Southern Airlines", 东方航空 "China Eastern Airlines", 国航 "Air China".
    for asked, written in [
        ("What was China Southern Airlines' Q3 revenue?", "南方航空"),
        ("What was China Eastern Airlines' Q3 revenue?", "中国东航"),
        ("What was Air China's Q3 revenue?", "中国国航"),
    ]:
        question = Question.parse(asked, "en", glossary)
        assert [g[0] for g in question.entities] == [written], asked
    # A dictionary name that is no note's company stays a name the notes must write.
    hainan = Question.parse("What was Hainan Airlines' Q3 revenue?", "en", glossary)
    assert not hainan.entities
    assert any("Hainan" in n[0] for n in hainan.names)


@pytest.mark.unit
def test_an_abbreviation_two_companies_share_names_neither():
    from rag.plan.question import abbreviated_like

    # Both 中国国航 and 国际航空 shorten to 国航: "Air China" could be either.
    glossary = Glossary(entities=[["中国国航"], ["国际航空"]]).with_lexicon([], [])
    assert abbreviated_like("Air China", glossary) == []


@pytest.mark.unit
def test_what_did_a_company_earn_asks_a_figure_when_it_names_a_metric():
    from rag.plan.question import Question

    glossary = Glossary(entities=[["南方航空"]]).with_lexicon([], [])
    assert Question.parse("What did 南方航空 earn in net profit in Q3?", "en", glossary).asks_figure
    assert not Question.parse("What did 南方航空 say about its fleet?", "en", glossary).asks_figure


@pytest.mark.unit
def test_an_industry_named_as_who_gives_a_forecast_is_no_topic():
    from rag.plan.question import Question

    glossary = Glossary(entities=[["南方航空"]]).with_lexicon([], [])

    def topics(text: str, language: str) -> set[str]:
        return {g[0] for g in Question.parse(text, language, glossary).topics}

    assert "券商" not in topics("券商对南方航空2026年归母净利润的预测是多少？", "zh")
    assert "券商" not in topics("What do brokers expect 南方航空 to earn in 2026?", "en")
    # Asked about: still the industry.
    assert "券商" in topics("哪家券商前三季度净利润增速最快？", "zh")
    assert "银行" in topics("上半年营业收入增速最快的是哪家银行？", "zh")


@pytest.mark.unit
def test_the_part_of_a_company_asked_is_read_between_its_name_and_the_metric():
    from rag.plan.question import Question

    glossary = Glossary(
        entities=[["阿里巴巴", "Alibaba"], ["拼多多", "PDD"], ["中远海控"]]
    ).with_lexicon([], [])

    def parts(text: str, language: str) -> tuple[str, ...]:
        return Question.parse(text, language, glossary).segments

    assert parts("How fast did Alibaba's cloud unit grow revenue in 3Q25?", "en") == ("cloud",)
    assert parts("拼多多三季度交易服务收入是多少？", "zh") == ("交易", "服务")
    # The whole company, or what an operating measure counts: no part.
    assert parts("What was Alibaba's total revenue in 3Q25?", "en") == ()
    assert parts("What was Alibaba's net profit in 3Q25?", "en") == ()
    assert parts("中远海控前三季度集装箱货运量是多少？", "zh") == ()
    # an insurer's accounts measure value and premiums: a channel is a part of them
    assert parts("How fast did Alibaba's bancassurance new business value grow?", "en") == (
        "bancassurance",
    )
    assert parts("拼多多银保渠道保费是多少？", "zh")[:1] == ("银保",)


@pytest.mark.unit
def test_accounting_standards_are_no_names_and_recurring_profit_reads_its_chinese_forms():
    from rag.plan.question import Question

    glossary = Glossary(entities=[["宇树科技", "Unitree"]]).with_lexicon([], [])
    question = Question.parse(
        "What was Unitree's 2025 non-GAAP net profit under IFRS?", "en", glossary
    )
    assert [n[0] for n in question.names] == ["宇树科技"]  # no GAAP or IFRS to find
    recurring = Question.parse("What was Unitree's 2025 recurring net profit?", "en", glossary)
    recurring = next(g for g in recurring.metrics if "recurring net profit" in g)
    assert "扣非后归母净利润" in recurring


@pytest.mark.unit
def test_a_why_question_asks_a_reason_not_a_figure():
    from rag.plan.question import Question

    glossary = Glossary(entities=[["阿里巴巴", "Alibaba"]]).with_lexicon([], [])
    why = Question.parse("阿里巴巴这个季度经营利润大幅下滑，主要原因是什么？", "zh", glossary)
    assert why.asks_why and not why.asks_figure
    assert "income from operations" in why.metrics[0]  # 经营利润, as English notes write it
    how_much = Question.parse("阿里巴巴经营利润下滑了多少？", "zh", glossary)
    assert how_much.asks_figure and not how_much.asks_why


@pytest.mark.unit
def test_a_rate_or_margin_asked_is_answered_by_a_relative_figure_only():
    from rag.plan.question import asks_relative

    assert asks_relative("What was China Eastern's net margin in 3Q25?")
    assert asks_relative("南方航空三季度客座率是多少？")
    assert not asks_relative("What was the profit margin per vehicle?")  # an amount per unit
    assert not asks_relative("公司率先推出了哪款产品？")


@pytest.mark.unit
def test_a_calculations_chinese_part_is_read_without_a_company_named():
    from rag.plan.question import Question

    glossary = Glossary().with_lexicon([], [])
    # "拼多多…在线营销服务收入比交易服务收入少多少": the second phrase names no company
    assert Question.parse("交易服务收入", "zh", glossary).segments == ("交易", "服务")
    assert Question.parse("transaction services revenue", "en", glossary).segments == ()


@pytest.mark.unit
def test_an_english_part_written_after_the_metric_is_the_segment_asked():
    from rag.plan.question import Question

    glossary = Glossary(entities=[["远航科技", "Voyage Tech"]]).with_lexicon([], [])
    for asked, part in (
        (
            "What share of Voyage Tech's 3Q25 revenue came from transaction services?",
            ("transaction", "services"),
        ),
        ("What was Voyage Tech's revenue from games in 3Q25?", ("games",)),
        ("What was Voyage Tech's income from operations?", ()),
        ("What was Voyage Tech's cloud revenue?", ("cloud",)),
        # no possessive: the part is still what the revenue came from
        ("How much revenue did Voyage Tech generate from cloud services?", ("cloud", "services")),
        ("What was Voyage Tech's consolidated revenue?", ()),
    ):
        assert Question.parse(asked, "en", glossary).segments == part, asked


@pytest.mark.unit
def test_a_name_in_brackets_beside_a_known_company_is_its_other_name():
    glossary = Glossary(entities=[["远航科技", "Voyage Tech"]]).with_lexicon([], [])
    for asked in (
        "What was Voyage Tech (Farsail)'s Q1 revenue?",
        "What was Farsail (now Voyage Tech)'s Q1 revenue?",
    ):
        question = Question.parse(asked, "en", glossary)
        assert [g[0] for g in question.entities] == ["远航科技"], asked
        assert not any("Farsail" in n for n in question.names), question.names
    # a second company named beside it is still a name the notes must write
    both = Question.parse("Compare Voyage Tech and Farsail revenue in Q1.", "en", glossary)
    assert any("Farsail" in n for n in both.names)


def test_a_chinese_answer_names_a_company_in_chinese_though_its_note_lists_english_first():
    from rag.glossary import Glossary
    from rag.plan.question import display_name

    group = ("Harbour Bank", "港湾银行", "601901.SH", "HB")
    glossary = Glossary(entities=[list(group)]).with_lexicon([], [])
    assert (
        display_name(Question.parse("港湾银行上半年营收是多少？", "zh", glossary), group)
        == "港湾银行"
    )
    assert display_name(Question.parse("HB上半年营收是多少？", "zh", glossary), group) == "HB"
    assert display_name(Question.parse("What was HB's revenue?", "en", glossary), group) == "HB"


def test_a_name_joined_by_of_is_one_name_and_not_the_end_of_a_longer_known_one():
    glossary = Glossary(
        entities=[["Agricultural Bank of China", "农业银行", "ABC"], ["中国国航", "Air China"]]
    ).with_lexicon([], [])
    boc = Question.parse("What was Bank of China's net profit in H1 2025?", "en", glossary)
    assert boc.entities == () and boc.names == (("Bank of China", "中国银行"),)
    abc = Question.parse("What was Agricultural Bank of China's net profit?", "en", glossary)
    assert [g[0] for g in abc.names] == ["Agricultural Bank of China"]
    # A Chinese institution's name holds a place and an industry word; "domestic banks" is none.
    assert Question.parse("中国银行上半年净利润是多少？", "zh", glossary).names == (
        ("中国银行", "中行"),
    )
    assert Question.parse("国内银行上半年净利润是多少？", "zh", glossary).names == ()


@pytest.mark.unit
def test_a_share_asked_by_name_is_a_proportion_not_a_shares_price_or_count():
    glossary = Glossary()
    for text in ("What was Voyage's international revenue share in 9M25?", "Its HBM share?"):
        assert Question.parse(text, "en", glossary).asks_relative, text
    for text in ("What was its earnings per share?", "What was its share price in 3Q25?"):
        assert not Question.parse(text, "en", glossary).asks_relative, text


@pytest.mark.unit
def test_a_part_named_after_the_company_or_after_its_possessive_is_a_segment():
    cases = {
        "What was Harbour Tech Cloud Music's revenue growth in 3Q25?": ("cloud", "music"),
        "What was the revenue growth of Harbour Tech's games and related services in 3Q25?": (
            "games",
            "related",
            "services",
        ),
    }
    glossary = GLOSSARY.with_lexicon([["Harbour Tech", "港湾科技"]], [])
    for text, segments in cases.items():
        assert Question.parse(text, "en", glossary).segments == segments, text


@pytest.mark.unit
def test_how_a_named_metric_changed_asks_a_figure():
    glossary = GLOSSARY.with_lexicon([["Harbour Tech", "港湾科技"]], [])
    assert Question.parse(
        "How did Harbour Tech's revenue change year on year?", "en", glossary
    ).asks_figure
    assert not Question.parse(
        "How did Harbour Tech respond to the price war?", "en", glossary
    ).asks_figure


@pytest.mark.unit
@pytest.mark.parametrize(
    ("question", "metric"),
    [
        ("What was the new solar installation in Q3?", "装机量"),  # the glossary lists the plural
        ("How many deliveries did it make?", "交付量"),
        ("What was its delivery in Q3?", "交付量"),
    ],
)
def test_an_english_metric_is_read_in_the_singular_or_plural(question: str, metric: str) -> None:
    glossary = Glossary(entities=[["Acme Solar", "远航光伏"]]).with_lexicon([], [])
    parsed = Question.parse(question, "en", glossary)
    assert metric in [m[0] for m in parsed.metrics]


@pytest.mark.unit
def test_terse_questions_name_their_company_first_and_ask_a_figure_of_their_metric():
    glossary = Glossary(
        entities=[["远航酒业", "Yuanhang"], ["远洋控股", "Cosko Shipping"], ["思远", "Cisko"]]
    ).with_lexicon([], [])
    terse = Question.parse("Yuanhong FY26E EPS per the broker?", "en", glossary)
    assert terse.entities and terse.entities[0][0] == "远航酒业"  # a spelling, first word
    assert terse.period is not None and terse.period.year == 2026  # an estimate's year
    assert terse.asks_figure and not terse.asks_per_unit and not terse.topics
    assert not Question.parse("Why did Yuanhang's EPS fall?", "en", glossary).asks_figure
    # two capitalised words open the question: a name the notes must write
    names = Question.parse("Harbour Lines 9M25 NP?", "en", glossary).names
    assert ("Harbour",) in names and ("Lines", "Line") in names
    # a word another company's name writes is that company's, no misspelling of a third's
    assert spelled_like(["Cosko"], glossary) == ["远洋控股", "Cosko Shipping"]


@pytest.mark.unit
def test_an_acronym_of_a_names_initials_is_that_company():
    from rag.plan.question import initials_of

    glossary = Glossary(
        entities=[["Bank of Harbour", "海港银行"], ["China Harbour Bank", "中港银行"]]
    ).with_lexicon([], [])
    assert initials_of("BoH", glossary) == [["Bank of Harbour", "海港银行"]]
    assert initials_of("CHB", glossary) == [["China Harbour Bank", "中港银行"]]
    assert initials_of("Bank", glossary) == []  # a word, no acronym
    parsed = Question.parse("BoH cost/income ratio in 1H25?", "en", glossary)
    assert parsed.entities[0][0] == "Bank of Harbour"
    assert parsed.metrics[0][0] == "成本收入比"  # words apart by a slash, as the glossary's


@pytest.mark.unit
def test_a_rate_is_no_narrower_kind_of_the_amount_it_is_a_rate_of():
    from rag.plan.question import narrower_metrics

    parsed = Question.parse(
        "远航科技三季度营业利润环比增长多少？", "zh", Glossary().with_lexicon([], [])
    )
    narrower = narrower_metrics(parsed)
    assert "营业利润率" not in narrower


@pytest.mark.unit
def test_an_unknown_name_opening_a_terse_question_before_a_term_is_a_name():
    glossary = Glossary(entities=[["远航科技", "Voyage Tech"]]).with_lexicon([], [])
    parsed = Question.parse("Harbourview Airlines 9M25 net profit?", "en", glossary)
    assert ("Harbourview",) in parsed.names  # no note writes it: the notes cannot answer
    assert Question.parse("Combined 9M25 revenue of Voyage Tech?", "en", glossary).names == (
        tuple(glossary.entities[0]),
    )


@pytest.mark.unit
def test_the_part_asked_after_a_plural_possessive_or_before_a_bracketed_gloss():
    glossary = Glossary(
        entities=[["Harbour Shipping Holdings", "海港控股"], ["远航科技", "Voyage Tech"]]
    ).with_lexicon([], [])
    english = Question.parse(
        "How much revenue did Harbour Shipping Holdings' terminal business generate in 9M25?",
        "en",
        glossary,
    )
    assert english.segments == ("terminal",)
    average = Question.parse(
        "What was Harbour Shipping Holdings' average revenue per TEU in 3Q24?", "en", glossary
    )
    assert average.segments == ()
    chinese = Question.parse("远航科技三季度广告（营销服务）收入多少？", "zh", glossary)
    assert chinese.segments == ("广告",)


@pytest.mark.unit
def test_an_acronym_that_spells_a_word_is_the_acronym_only_in_capitals():
    glossary = Glossary(entities=[["远航汽车", "Voyage Auto"]]).with_lexicon([], [])
    cars = Question.parse(
        "How many passenger cars did Voyage Auto sell in October?", "en", glossary
    )
    assert "资本充足率" not in [group[0] for group in cars.metrics]  # CAR: capital adequacy
    ratio = Question.parse("What was Voyage Auto's CAR at end-June?", "en", glossary)
    assert "资本充足率" in [group[0] for group in ratio.metrics]


@pytest.mark.unit
def test_a_market_word_inside_a_company_name_asks_no_market():
    glossary = Glossary(entities=[["中芯国际", "0981.HK"]]).with_lexicon([], [])
    parsed = Question.parse("中芯国际三季度收入多少？", "zh", glossary)
    assert parsed.qualifiers == ()  # 国际 of the name is no overseas figure
    overseas = Question.parse("中芯国际三季度国际收入多少？", "zh", glossary)
    assert overseas.qualifiers != ()


@pytest.mark.unit
def test_a_question_opening_with_no_english_word_or_a_known_brand_opens_with_a_name():
    glossary = Glossary(entities=[["远航科技", "Voyage Tech"]]).with_lexicon([], [])
    assert ("Nexwave",) in Question.parse("Nexwave 3Q25 utilization?", "en", glossary).names
    assert any("Haier" in n for n in Question.parse("Haier 3Q25 revenue?", "en", glossary).names)
    # an ordinary (or inflected) English word opening a question is no name
    for question in ("Applying the guidance, what is 4Q revenue?", "Estimated 2025 capex?"):
        assert Question.parse(question, "en", glossary).names == ()


@pytest.mark.unit
def test_an_english_word_in_two_names_makes_them_no_spellings_of_each_other():
    glossary = Glossary(entities=[["Harbour Smart Home", "600999.SH"]]).with_lexicon([], [])
    parsed = Question.parse("Lakeview Smart Home's 3Q25 net profit?", "en", glossary)
    assert parsed.entities == ()  # "Smart" is no one's name
    assert spelled_like(["Harbour", "Smart", "Home"], glossary) == glossary.entities[0]


@pytest.mark.unit
def test_two_letters_spell_no_companys_initials():
    from rag.plan.question import initials_of

    glossary = Glossary(entities=[["Shanxi Fenjiu", "山西汾酒"]]).with_lexicon([], [])
    assert initials_of("SF", glossary) == []


@pytest.mark.unit
def test_the_verb_sell_asks_the_volume_sold_when_things_are_counted():
    glossary = Glossary(entities=[["远航汽车", "Voyage Auto"]]).with_lexicon([], [])
    counted = Question.parse("How many cars did Voyage Auto sell in October?", "en", glossary)
    assert [g[0] for g in counted.metrics] == ["销量"]


@pytest.mark.unit
def test_a_figure_and_its_change_asked_together_are_two_questions():
    from rag.plan.question import level_and_change

    glossary = Glossary(entities=[["远航科技", "Voyage Tech"]]).with_lexicon([], [])
    for text, head in (
        ("远航科技三季度收入多少，同比增长多少？", "远航科技三季度收入多少"),
        ("远航科技Q3毛利率是多少？同比变动了几个百分点？", "远航科技Q3毛利率是多少"),
        ("Voyage Tech 3Q25 revenue, YoY?", "Voyage Tech 3Q25 revenue"),
        (
            "What was Voyage Tech's 3Q25 net profit, and how much did it grow?",
            "What was Voyage Tech's 3Q25 net profit",
        ),
    ):
        question = Question.parse(text, detect_language(text), glossary)
        pair = level_and_change(question, glossary)
        assert pair is not None, text
        level, change = pair
        assert level.text == head and not level.asks_change and change.asks_change
        assert level.entities == question.entities and level.period == question.period
    for text in ("远航科技三季度收入同比增长多少？", "By how much did Voyage Tech's revenue grow?"):
        question = Question.parse(text, detect_language(text), glossary)
        assert level_and_change(question, glossary) is None, text
    # the first clause keeps its own market: all sales, then the overseas change
    both = Question.parse("远航科技10月销量多少？海外销量同比增长多少？", "zh", glossary)
    level, change = level_and_change(both, glossary)
    assert level.qualifiers == () and change.qualifiers != ()


@pytest.mark.unit
def test_a_year_a_change_is_measured_against_is_no_year_asked():
    from rag.plan.question import relative_year

    assert relative_year("How many points did it lose versus a year earlier?") is None
    assert relative_year("How did revenue compare with last year?") is None
    assert relative_year("较去年同期增长多少？") is None
    assert relative_year("What was its profit a year earlier?") == -1
    assert relative_year("去年营收多少？") == -1
    glossary = Glossary(entities=[["远航快运", "Voyage Express"]]).with_lexicon([], [])
    question = Question.parse(
        "Voyage Express's Q3 market share, and how many points did it lose versus a year earlier?",
        "en",
        glossary,
    )
    assert question.asks_change
