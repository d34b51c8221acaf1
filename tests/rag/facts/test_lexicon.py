"""rag/facts/lexicon.py: names and their other-language forms, read from what notes write."""

from __future__ import annotations

import pytest

from rag.facts.lexicon import entity_sources, lexicon_of, merge_groups, names_in, names_json

pytestmark = pytest.mark.unit

BATTERY = (
    "龙头宁德时代(300750.SZ, CATL)三季度归母净利润185.49亿元。宁德时代毛利率25.8%，"
    "比亚迪(002594.SZ，1211.HK，BYD)同期毛利率17.6%。比亚迪销量下滑。"
)
BANKS = (
    "China Merchants Bank (招商银行, 600036.SH / 3968.HK; CMB) reported a NIM of 1.88%. "
    "CMB's NPL ratio was 0.93%."
)


def test_a_name_and_the_aliases_and_codes_written_beside_it_are_one_entity() -> None:
    entities, _ = names_in(BATTERY)
    assert ["宁德时代", "300750.SZ", "CATL"] in entities
    # and the English name the dictionary gives the company joins its group
    assert ["比亚迪", "002594.SZ", "1211.HK", "BYD", "BYD Company"] in entities


def test_an_english_name_with_its_chinese_name_in_parentheses() -> None:
    entities, _ = names_in(BANKS)
    assert entities == [["China Merchants Bank", "招商银行", "600036.SH", "3968.HK", "CMB"]]


def test_descriptions_examples_units_and_figures_in_parentheses_are_not_names() -> None:
    text = (
        "主持人(券商电子行业分析师)：请问单价(元/W)如何？"
        "云厂商(如谷歌、Meta)需求旺盛，营收增长(同比+12%)。"
    )
    assert names_in(text) == ([], [])


def test_a_bilingual_term_is_a_term_not_an_entity() -> None:
    entities, terms = names_in("高带宽内存(HBM)需求旺盛，HBM价格上涨，体外诊断(IVD)业务增长。")
    assert entities == []
    assert ["高带宽内存", "HBM"] in terms and ["体外诊断", "IVD"] in terms


def test_repeated_chinese_organisation_names_are_kept_without_aliases() -> None:
    text = "高澜股份回答投资者问题。民生证券认为高澜股份受益；民生证券维持评级。"
    entities, _ = names_in(text)
    assert ["高澜股份"] in entities and ["民生证券"] in entities


def test_groups_sharing_an_alias_merge_across_notes() -> None:
    assert merge_groups([["宁德时代", "CATL"], ["CATL", "300750.SZ"], ["BYD"]]) == [
        ["宁德时代", "CATL", "300750.SZ"],
        ["BYD"],
    ]
    entities, _ = lexicon_of([names_json(BATTERY), names_json("CATL (宁德时代) shipped 180GWh.")])
    catl = next(g for g in entities if "CATL" in g)
    assert "宁德时代" in catl and "300750.SZ" in catl


def test_which_notes_name_an_entity() -> None:
    groups = [["招商银行", "CMB"], ["宁德时代", "CATL"]]
    texts = ["CMB's NIM was 1.88%.", "宁德时代毛利率25.8%", "no names here"]
    assert entity_sources(groups, texts, ["banks.md", "catl.md", "other.md"]) == [
        ["banks.md"],
        ["catl.md"],
    ]


def test_a_chunk_is_about_the_company_named_last_before_it() -> None:
    from rag.facts.lexicon import subjects_before

    text = "迈瑞医疗(300760.SZ, Mindray)三季度收入转正。上半年体外诊断收入64.24亿元。恒瑞医药营收增长。其后"
    subject = subjects_before(text, [["迈瑞医疗", "300760.SZ", "Mindray"], ["恒瑞医药"]])
    assert subject(0) is None
    assert subject(text.index("上半年")) == "迈瑞医疗"
    assert subject(text.index("其后")) == "恒瑞医药"


def test_a_new_section_is_about_its_heading_or_the_title_not_the_last_name() -> None:
    from rag.facts.lexicon import subjects_before

    groups = [["洛阳钼业", "CMOC"], ["紫金矿业", "Zijin"], ["江西铜业"]]
    text = (
        "# 洛阳钼业(CMOC)三季报点评\n\n## 同业对比\n\n洛阳钼业铜产量增长，而紫金矿业同期增速放缓。\n\n"
        "## 资本开支\n\n前三季度资本开支120亿元。\n\n## 江西铜业：冶炼\n\n冶炼加工费下降。其后"
    )
    subject = subjects_before(text, groups, title="洛阳钼业三季报点评")
    # The section after a comparison is the note's company's again, not the peer named last.
    assert subject(text.index("## 资本开支")) == "洛阳钼业"
    assert subject(text.index("前三季度资本开支")) == "洛阳钼业"
    # A heading that names a company makes the section its own.
    assert subject(text.index("## 江西铜业")) == "江西铜业"
    assert subject(text.index("其后")) == "江西铜业"
    # Without a title that names anyone, the last name before it still frames the section.
    untitled = "紫金矿业铜产量增长。\n\n## 成本\n\n单位成本下降。"
    assert subjects_before(untitled, groups)(untitled.index("## 成本")) == "紫金矿业"


def test_short_forms_drop_place_and_industry_words():
    from rag.facts.lexicon import short_forms

    assert short_forms("贵州茅台") == ["茅台"]
    assert short_forms("恒瑞医药") == ["恒瑞"]
    assert short_forms("山西汾酒") == ["汾酒"]
    # A remainder that is only an ending names every company of the kind: no short form.
    assert short_forms("中国人寿") == []
    assert short_forms("招商银行") == ["招行"]  # financial endings stay: 招商 alone is a word


def test_romanised_forms_spell_names_english_writes_in_pinyin():
    from rag.facts.lexicon import romanised

    assert romanised("五粮液") == ["Wuliangye"]
    assert "Shanxi Fenjiu" in romanised("山西汾酒")
    assert romanised("中国平安") == []  # "China …" is translated, not spelled
    assert romanised("迈瑞医疗") == []  # the ending is translated ("… Medical")


def test_shared_short_forms_go_to_no_one_and_longer_names_win():
    from rag.facts.lexicon import with_short_forms
    from rag.glossary import Glossary

    entities = with_short_forms([["中国平安", "Ping An"], ["平安银行"], ["江苏洋河"], ["安徽洋河"]])
    assert "平安" in entities[0]
    assert not any("洋河" in group[2:] for group in entities)  # two companies would share it
    glossary = Glossary(entities=entities)
    assert [g[0] for g in glossary.entities_in("平安银行上半年净利润")] == ["平安银行"]
    assert [g[0] for g in glossary.entities_in("平安寿险新业务价值")] == ["中国平安"]


def test_a_two_character_name_counts_when_its_parenthesis_gives_a_code_or_latin_name():
    from rag.facts.lexicon import STOCK_CODE, names_in

    text = (
        "三星电子(Samsung Electronics, 005930.KS)份额17%，美光(Micron, MU.US)21%，美光首次超过三星。"
        "台积电(2330.TW)先进封装扩产；公司(注1)与市场(下同)另述。"
    )
    entities, _ = names_in(text)
    firsts = [g[0] for g in entities]
    assert "美光" in firsts and "三星电子" in firsts  # not the repeated word "电子"
    assert ["台积电", "2330.TW"] in entities
    assert not {"公司", "市场"} & set(firsts)
    assert STOCK_CODE.fullmatch("000660.KS") and STOCK_CODE.fullmatch("7203.T")


@pytest.mark.unit
def test_a_short_acronym_glossed_as_something_else_is_not_the_entity():
    from rag.glossary import Glossary

    glossary = Glossary(entities=[["深度求索", "DS", "DeepSeek"], ["三星", "Samsung"]])
    text = "三星旗下DS（半导体）部门营收33.1万亿韩元；DS（DeepSeek）发布新模型。"
    mentions = glossary.entity_mentions(text)
    division = text.index("DS（半导体）")
    assert not any(start == division for start, _, _ in mentions)  # a division, no DeepSeek
    assert [name for _, _, name in mentions][:2] == ["三星", "深度求索"]  # "DS（DeepSeek）" is


@pytest.mark.unit
def test_a_short_form_followed_by_a_company_ending_names_another_company():
    from rag.glossary import Glossary

    glossary = Glossary(entities=[["理想汽车", "理想"], ["中国平安", "平安"], ["比亚迪", "BYD"]])
    assert glossary.entities_in("平安银行上半年净息差1.8%") == []
    assert glossary.entity_mentions("理想科技营收10亿元，理想三季度交付9.3万辆") == [
        (11, 13, "理想汽车")
    ]
    # The full name with a company ending is still that company.
    assert [g[0] for g in glossary.entities_in("比亚迪股份三季度营收")] == ["比亚迪"]


@pytest.mark.unit
def test_an_english_chunk_is_about_the_name_opening_a_clause_not_an_object_named_later():
    from rag.facts.lexicon import subjects_before

    text = (
        "## OOIL\n\nOrient Overseas (东方海外国际, 0316.HK; OOIL), about 71% owned by COSCO, saw "
        "revenue fall. We estimate profit at US$1.5bn."
    )
    subject = subjects_before(text, [["东方海外国际", "0316.HK", "OOIL"], ["COSCO"]])
    assert subject(len(text) - 5) == "东方海外国际"


@pytest.mark.unit
def test_a_latin_name_is_also_said_without_its_generic_tail_unless_that_leaves_a_word():
    from rag.facts.lexicon import latin_short_forms, with_short_forms

    assert latin_short_forms("Zhiyuan Robotics") == ["Zhiyuan"]
    assert latin_short_forms("Kweichow Moutai Co., Ltd.")[0] == "Kweichow Moutai"
    # a first word that is a brand of its own, not a place or an everyday word
    assert latin_short_forms("Haier Smart Home") == ["Haier"]
    assert latin_short_forms("Nexwave Display Tech") == ["Nexwave Display", "Nexwave"]
    assert latin_short_forms("Shanxi Fenjiu") == []
    assert latin_short_forms("Spring Airlines") == []
    assert latin_short_forms("Horizon Robotics") == []  # "horizon" is an everyday word
    assert latin_short_forms("China Robotics") == []
    assert latin_short_forms("Li Auto Inc.") == ["Li Auto"]
    groups = with_short_forms([["远智科技", "Yuanzhi Robotics"], ["远智医疗", "Yuanzhi Medical"]])
    # "Yuanzhi" would name both: added to neither
    assert not any("Yuanzhi" in g for g in groups)


def test_companies_the_dictionary_defines_are_entities_where_the_note_writes_them_as_words():
    from rag.facts.lexicon import dictionary_companies

    note = "吉利10月销量约30万辆，同比增长35%。国泰君安维持买入评级，看好吉利的出口。"
    found = dictionary_companies(note)
    assert ["吉利", "Geely"] in found
    # "国泰" (Cathay Pacific) inside 国泰君安, a broker, is not that company.
    assert not any(group[0] == "国泰" for group in found)


@pytest.mark.unit
def test_a_new_name_written_in_the_parenthesis_is_an_alias():
    entities, _ = names_in("远航生物（现更名Farsail Medicines，06999.HK）主要依靠自主商业化。")
    group = next(g for g in entities if "远航生物" in g)
    assert "Farsail Medicines" in group and "06999.HK" in group


@pytest.mark.unit
def test_a_latin_names_own_parenthesised_part_is_left_off():
    entities, _ = names_in(
        "Harbour Lines (International) (海港航运国际, 0999.HK; HLI) carried 2.1m TEU. "
        "Harbour Lines also runs terminals."
    )
    assert ["Harbour Lines", "海港航运国际", "0999.HK", "HLI"] in entities


def test_a_name_after_a_figure_and_and_starts_after_the_and() -> None:
    entities, _ = names_in(
        "Harbour Bank (港湾银行, 1234.HK) grew revenue 15% YoY and Ridge Life (山岭人寿, 5678.HK) "
        "lifted profit 32%."
    )
    assert ["Harbour Bank", "港湾银行", "1234.HK"] in entities
    assert ["Ridge Life", "山岭人寿", "5678.HK"] in entities
    entities, _ = names_in("Industrial and Commercial Bank of China (工商银行, 1398.HK) grew 1%.")
    assert entities[0][0] == "Industrial and Commercial Bank of China"


@pytest.mark.unit
def test_an_item_of_a_list_beside_two_known_companies_is_a_company_too():
    from rag.facts.lexicon import listed_companies

    known = [["远航汽车"], ["星河科技"]]
    note = (
        "份额主要流向远航、星河和青鸟。问：青鸟、蓝湖、远航分别怎么看？"
        "答：蓝湖汽车10月交付3万辆。出口方面，远航、青鸟和星河仍是主力。"
        "分省看，江苏、浙江和远航位居前列。"
    )
    found = listed_companies(note, known)
    # 青鸟 is listed with two known companies; 蓝湖 then with 青鸟 and 远航, under the name
    # the note writes with a company ending.
    assert found == [["青鸟"], ["蓝湖汽车"]]
    # a list with one known company names no other: places are not companies
    assert listed_companies("分省看，江苏、浙江和远航位居前列。", known) == []
    # the clause after the last item is no name ("星河仍是主力")
    assert listed_companies("远航、青鸟和星河仍是主力。", [["远航汽车"], ["青鸟"]]) == []


@pytest.mark.unit
def test_a_question_naming_no_one_goes_on_about_the_previous_questions_company():
    from rag.facts.lexicon import subjects_before

    note = (
        "问：远航汽车的产品结构有什么变化？\n\n答：纯电在变大，插混被星河和青鸟分流。\n\n"
        "问：三季报的情况呢？\n\n答：三季度营收100亿元。\n\n"
        "问：青鸟呢？\n\n答：青鸟10月交付3万辆。\n\n问：毛利率呢？\n\n答：毛利率20%。"
    )
    entities = [["远航汽车", "远航"], ["星河"], ["青鸟"]]
    subject = subjects_before(note, entities, "远航汽车专家电话会纪要")
    # not 青鸟, whom the answer before named last as an object
    assert subject(note.index("问：三季报")) == "远航汽车"
    assert subject(note.index("三季度营收")) == "远航汽车"
    assert subject(note.index("问：青鸟呢")) == "青鸟"
    assert subject(note.index("毛利率20%")) == "青鸟"


@pytest.mark.unit
def test_a_bank_goes_by_its_first_character_unless_that_is_another_word():
    from rag.facts.lexicon import short_forms

    assert "海行" in short_forms("海港银行") and "工行" in short_forms("中国工商银行")
    assert short_forms("平安银行") == []  # 平行 is "parallel"


@pytest.mark.unit
def test_an_international_ending_is_dropped_like_any_industry_ending():
    from rag.facts.lexicon import short_forms

    assert short_forms("远航海运国际") == ["远航海运"]


@pytest.mark.unit
def test_items_of_a_list_with_their_figures_beside_known_companies_are_companies():
    from rag.facts.lexicon import listed_companies

    note = "三季度市占率排序是远航19.4%、青鸟15.6%、蓝湖13.2%、星河8.7%。"
    found = listed_companies(note, [["远航", "Voyage"], ["星河"]])
    assert ["青鸟"] in found and ["蓝湖"] in found
    assert listed_companies("营收123亿元、净利润45亿元、毛利率20%。", [["远航"]]) == []


@pytest.mark.unit
def test_a_dictionary_brand_is_the_company_it_shortens_and_an_english_brand_gets_its_chinese_name():
    entities, _ = names_in("格力电器（000651.SZ）三季度营收下降15%。格力的空调出货下降。")
    assert sum("格力" in g for g in entities) == 1
    assert "格力电器" in next(g for g in entities if "格力" in g)
    english, _ = names_in("Gree Electric (000651.SZ) saw 3Q25 revenue fall 15%.")
    assert "格力" in english[0]
    acronym, _ = names_in("Agricultural Bank of China (农业银行, 601288.SH, ABC) grew 2%.")
    assert not any("广播" in a for g in acronym for a in g)  # ABC is also a broadcaster


@pytest.mark.unit
def test_a_name_after_a_sentence_end_starts_after_it():
    entities, _ = names_in(
        "Profit fell 5.4% YoY. Harbour Home Appliances (海港家电, 000921.SZ) lost share."
    )
    assert entities[0][0] == "Harbour Home Appliances"


@pytest.mark.unit
def test_a_paragraph_under_a_heading_naming_one_company_is_that_companys():
    from rag.facts.lexicon import subjects_before

    text = (
        "## 二、远航半导体：满载运行\n\n"
        "1. 业绩概览：收入6.35亿美元。A股远航公司（688999.SH）前三季度营收125亿元。\n"
        "2. 产能与出货：三季度产能利用率109.5%。"
    )
    entities = [["远航半导体", "1399.HK"], ["远航公司", "688999.SH"]]
    subject = subjects_before(text, entities)
    assert subject(text.index("前三季度")) == "远航公司"  # in its own paragraph
    assert subject(text.index("2. 产能")) == "远航半导体"  # the next paragraph: the heading's
    assert subject(text.index("109.5%")) == "远航半导体"
