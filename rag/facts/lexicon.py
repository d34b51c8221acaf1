"""The corpus's own bilingual lexicon: which names in its notes mean the same entity.

Notes write a company's other names beside it: "宁德时代(300750.SZ, CATL)", "China Merchants Bank
(招商银行, 600036.SH)", "SK海力士(SK hynix)", "Ping An (中国平安, 2318.HK / 601318.SH)". Those
pairs, read once per note at ingest and kept with its chunks, are what lets an English question
about "CATL" find and attribute a Chinese sentence about 宁德时代 — with no hand-made list.
Names without a written alias (a Chinese company-form name such as "…股份", "…银行") are kept
too, as one-name groups: they are what sentences are attributed to.

The small models measured here guess other-language names wrong about half the time, and wrong
in the worst way (another real company), so nothing here is guessed: every alias is one a note
wrote next to the name. `glossary.yaml` stays as users' overrides on top.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from rag.sentences import QUESTION_TURN

# How the lexicon is derived from the names notes write: a keyword index built by other
# derivation code is rebuilt (its lexicon would lack what this code adds).
DERIVATION = "13"  # 2: short and romanised forms of Chinese names; 3: table captions kept;
# 4: Latin names without their generic tail ("Unitree Robotics" -> Unitree); 5: companies the
# dictionary defines (小米 Xiaomi); 6: "Medicines" is a generic tail, "现更名X" names X;
# 7: a Latin name's parenthesised part is left off ("Orient Overseas (International)");
# 8: companies named in a list beside known ones (listed_companies); 9: 招商银行 -> 招行,
# 东方海外国际 -> 东方海外; 10: list items with their figures ("中通19.4%、圆通15.6%");
# 11: a Latin name's first word when it is a brand ("Haier Smart Home" -> Haier); a
# dictionary brand that is a company's short form is that company (美的 of 美的集团), and
# an English brand's Chinese name from the dictionary (Gree Electric -> 格力); 13: a paragraph
# under a heading naming one company is that company's, whoever the last one named

_CJK = "\u4e00-\u9fff"
# Listing codes with their exchange: A-shares, Hong Kong, Korea (KS/KQ), Tokyo (T), Taiwan
# (TW/TWO), US tickers.
STOCK_CODE = re.compile(
    r"(?<![\dA-Za-z])(?:\d{6}\.(?:SH|SZ|SS|BJ|KS|KQ)|\d{4,5}\.HK|\d{4}\.(?:T|TW|TWO)|"
    r"[A-Z]{1,5}\.(?:US|N|O|OQ))(?![A-Za-z])"
)
# "NAME(ALIASES)": the parenthesis holds other names and codes, never a figure or a sentence.
_PAREN = re.compile(r"[（(]([^（）()\n]{1,80})[）)]")
_SPLIT = re.compile(r"\s*(?:[,，、;；/|]|\bor\b)\s*")
_LATIN_NAME = re.compile(r"^(?=.*[A-Za-z])[A-Za-z][A-Za-z0-9&.'\- ]{0,40}[A-Za-z0-9.]$|^[A-Za-z]$")
_CJK_NAME = re.compile(rf"^[{_CJK}][{_CJK}A-Za-z0-9]{{1,11}}$")
# Words that fill a parenthesis without being a name.
_NOT_ALIAS = re.compile(
    r"\d|同比|环比|亿|万|元|%|％|预计|估|约|注|下同|含|即|简称|单位|人民币|美元|"
    r"\b(?:yoy|qoq|est|e\.g|i\.e|incl|excl|vs|see|note|bn|mn|rmb|usd|cny|fy|h1|h2|q[1-4])\b",
    re.IGNORECASE,
)
# The endings of Chinese organisation names in their customary short form (…股份, …证券, …银行).
_ORG_ENDING = re.compile(r"股份|集团|控股|科技|证券|银行|保险|人寿|资本|基金|药业|酒业|实业|矿业")
# Legal-form tails dropped before a name is chosen: 宇树科技股份有限公司 is 宇树科技.
_LEGAL_TAIL = re.compile(r"(?:集团)?(?:股份)?有限(?:责任)?公司$")
_LATIN_RUN = re.compile(
    r"(?:[A-Z][A-Za-z0-9&.'-]*|of|and|&|de)(?:[ \t]+(?:[A-Z][A-Za-z0-9&.'-]*|[a-z]{2,}|of|and|&|de))*[ \t]*$"
)


# An aggregate over many companies, whatever industry: "the banking sector's aggregate NPL
# ratio", "行业平均不良率".
AGGREGATE = re.compile(
    r"行业平均|行业整体|全行业|板块整体|"
    r"\b(?:sector|industry|market|system)(?:'s|s')|\bpeers'|"
    r"\b(?:aggregate|sector[- ]wide|industry[- ]wide|system[- ]wide|(?:industry|sector) average)\b",
    re.I,
)


# A group of companies named by how many they are: "the four platforms", "the big three",
# "the large state-owned banks", "三大航", "四家银行" (not "the first three quarters").
GROUP = re.compile(
    r"\b(?:the|all|these|those)\s+(?:big|major|large|listed|leading|top|other)?\s*"
    r"(?:two|three|four|five|six|seven|eight|nine|ten|\d+)\s+(?:[\w-]+\s+){0,2}?"
    r"(?!quarters|months|years|weeks|days|halves)[a-z]+s\b|"
    r"\bthe (?:big|major) (?:two|three|four|five|six)\b|"
    r"\b(?:the|all)\s+(?:large|big|major|listed)\s+(?:[\w-]+\s+)?(?:banks|insurers|airlines|"
    r"carriers|companies|platforms|automakers|makers|producers|players|firms)\b|"
    r"[两二三四五六七八九十](?:家|大)(?!季度|个月|原因|因素|方面)[\u4e00-\u9fff]",
    re.I,
)


# How a Chinese organisation's name ends ("理想汽车", "洋河股份", "平安银行").
ORG_ENDINGS = (
    "股份|集团|控股|科技|证券|银行|保险|人寿|财险|资本|基金|药业|酒业|实业|矿业|医疗|医药|"
    "汽车|电子|电气|能源|机器人|半导体|存储|智能|动力|新材"
)


# A company's accounts: what it earns, spends and books ("收入", "net profit", "premiums").
FINANCIAL_METRIC = re.compile(
    r"利润|净利|收入|营收|毛利|费用|成本|保费|价值|"
    r"\b(?:profits?|revenues?|income|earnings|sales|margin|costs?|premiums?|value)\b",
    re.IGNORECASE,
)


_PARTICLE = frozenset("的与和及如或在对其把被将向、")
_UNIT_ALIAS = re.compile(r"^(?:[kKMGT]?W[h]?|kg|g|t|m|km|nm|mm|pcs|%|[A-Za-z])$")


def _name_before(text: str, end: int, shortest: int = 3) -> str | None:
    """The name that ends at `end`, right before a parenthesis: a trailing Latin word run
    ("...的TSV" -> "TSV"), or, of the Chinese run there, the longest ending (`shortest`+
    characters, no particle inside) that the document repeats elsewhere — names recur, the
    words glued before them do not — else its last four characters."""
    head = text[max(0, end - 14) : end]
    latin = re.search(r"[A-Za-z][A-Za-z0-9&.\-]*$", head)
    if latin and not re.search(rf"[{_CJK}]$", head):
        return latin.group(0)
    run = re.search(rf"[{_CJK}A-Za-z0-9]+$", head)
    if not run:
        return None
    return _repeated_ending(text, _LEGAL_TAIL.sub("", run.group(0)), shortest=shortest)


def _repeated_ending(text: str, run: str, shortest: int, longest: int = 12) -> str | None:
    def usable(candidate: str) -> bool:
        return bool(re.match(rf"[{_CJK}A-Za-z]", candidate)) and not (_PARTICLE & set(candidate))

    for size in range(min(len(run), longest), shortest - 1, -1):
        candidate = run[-size:]
        if usable(candidate) and text.count(candidate) >= 2:
            return candidate
    if shortest <= len(run) <= 5 and usable(run):  # a short name the note writes once
        return run
    for size in (4, 3, 2):  # the end of a longer run
        if shortest <= size <= len(run) and usable(run[-size:]):
            return run[-size:]
    return None


def _latin_name_before(text: str, end: int) -> str | None:
    """A capitalised Latin name ending at `end` ("China Merchants Bank", "Ping An")."""
    head = text[max(0, end - 60) : end].rstrip()
    match = _LATIN_RUN.search(head)
    if not match:
        return None
    words = match.group(0).split()
    # Right after a figure, the words before "and" qualify it: "grew 15% YoY and NetEase (网易,
    # NTES)" names NetEase; "Industrial and Commercial Bank of China (工商银行)" is one name.
    if "and" in words[:-1] and re.search(r"[\d%]$", head[: match.start()].rstrip()):
        words = words[len(words) - words[::-1].index("and") :]
    ended = [i for i, w in enumerate(words[:-1]) if w.endswith(".") and len(w) > 3]
    if ended:  # "… +5.4% YoY. Hisense Home Appliances (…)": a sentence ended before the name
        words = words[ended[-1] + 1 :]
    while words and not words[0][0].isupper():  # start at a capitalised word
        words.pop(0)
    name = " ".join(words).strip(" .,'")
    return name if len(name) >= 2 else None


# Words that introduce another name of the same company: "（现更名BeOne Medicines）", "(formerly X)".
_OTHER_NAME = re.compile(
    r"^(?:现(?:已)?更名为?|已更名为?|更名为|原名|曾用名|英文名|英文简称|又称|也称|"
    r"(?:formerly|now|renamed|also known as|aka)\b)\s*",
    re.IGNORECASE,
)


def _aliases(inside: str) -> list[str]:
    out = []
    for part in _SPLIT.split(inside.strip()):
        part = _OTHER_NAME.sub("", part.strip(" \t\"'“”")).strip()
        if not part:
            continue
        if STOCK_CODE.fullmatch(part):
            out.append(part.upper())
        elif _NOT_ALIAS.search(part) or _UNIT_ALIAS.match(part):
            continue
        elif _LATIN_NAME.match(part) or _CJK_NAME.match(part):
            out.append(part)
    return out


def _is_entity(group: Sequence[str]) -> bool:
    """A company or organisation, not a term: a stock code, a proper Latin name (a word in
    mixed case: Micron, SK hynix, AgiBot), or a Chinese organisation ending."""
    return any(
        STOCK_CODE.fullmatch(a)
        or (re.search(r"[A-Z]", a) and re.search(r"[a-z]", a) and not re.search(rf"[{_CJK}]", a))
        or _ORG_ENDING.search(a[-2:])
        for a in group
    )


_NAME_QUALIFIER = re.compile(r"(?<=[A-Za-z])\s*[(（][A-Z][A-Za-z&.' ]{1,30}[)）]$")


def names_in(text: str) -> tuple[list[list[str]], list[list[str]]]:
    """(entities, terms) a note names in two languages or with a code: "NAME(ALIAS, CODE)"
    groups, and one-name groups for Chinese organisation names the note repeats. A
    parenthesis of the same script ("主持人(券商分析师)") describes, it names nothing."""
    entities: list[list[str]] = []
    terms: list[list[str]] = []
    for match in _PAREN.finditer(text):
        aliases = _aliases(match.group(1))
        if not aliases:
            continue
        before = text[: match.start()].rstrip()
        # A Latin name's own parenthesised part ("Orient Overseas (International)", "X
        # (Holdings)") is left off: the name is what comes before it.
        before = (
            _NAME_QUALIFIER.sub("", before) if re.search(r"[A-Za-z]\s*[(（]", before) else before
        )
        if not before:
            continue
        name = _latin_name_before(text, len(before)) if re.search(r"[A-Za-z.]$", before) else None
        # Two characters name a company when the parenthesis gives its code or its Latin
        # name ("美光(Micron, MU.US)", "三星(Samsung)"); otherwise they are too often a word.
        named = any(STOCK_CODE.fullmatch(a) or _is_entity([a]) for a in aliases)
        name = name or _name_before(text, len(before))
        name = name or (_name_before(text, len(before), shortest=2) if named else None)
        if name is None:
            continue
        if any(a.startswith(("如", "例如", "比如", "包括", "e.g")) for a in aliases):
            continue  # "(如谷歌、Meta)" lists examples, not other names
        group = [name, *[a for a in aliases if a.lower() != name.lower()]]
        scripts = {bool(re.search(rf"[{_CJK}]", a)) for a in group}
        coded = any(STOCK_CODE.fullmatch(a) for a in group)
        if len(group) < 2 or not (coded or scripts == {True, False}):
            continue
        (entities if _is_entity(group) else terms).append(group)
    found: Counter[str] = Counter()
    for match in _ORG_ENDING.finditer(text):
        tail = re.search(rf"[{_CJK}]+$", text[max(0, match.start() - 4) : match.end()])
        if tail:
            run = tail.group(0)
            name = _repeated_ending(text, run, shortest=len(match.group(0)) + 2, longest=len(run))
            if name and text.count(name) >= 2:
                found[name] += 1
    entities += [[name] for name in found]
    # A brand the dictionary knows that is the short form of one company the note names
    # (美的 of 美的集团, Midea) is that company, not a second one beside it.
    shortened: dict[str, set[str]] = {}
    for group in entities:
        for alias in group:
            for short in short_forms(alias):
                shortened.setdefault(short, set()).add(group[0])
    for head, latin in dictionary_companies(text):
        owners = shortened.get(head, set())
        entities.append([head, latin, *owners] if len(owners) == 1 else [head, latin])
    entities += listed_companies(text, entities)
    entities = [[*group, *dictionary_chinese_forms(group)] for group in entities]
    return merge_groups(entities), merge_groups(terms)


def dictionary_chinese_forms(group: Sequence[str]) -> list[str]:
    """The Chinese names CC-CEDICT gives a company an English note names by its brand ("Gree
    Electric" -> 格力, "Haier Smart Home" -> 海尔): a Chinese question then finds it."""
    from rag.dictionary import company_forms

    forms: list[str] = []
    for alias in group:
        # an acronym names many things ("ABC": a bank, a broadcaster): brands written as words
        if alias.isascii() and not alias.isupper() and not STOCK_CODE.fullmatch(alias):
            for name in (alias, *latin_short_forms(alias)):
                forms += company_forms(name)
    return [f for f in dict.fromkeys(forms) if f not in group]


_LIST_CLAUSE = re.compile(r"[^，,。；;：:？?！!\n（）()“”\"]+")
_LIST_TAIL = re.compile(r"分别|各自|等|均|都|两家|三家|几家")
_LIST_ITEM = re.compile(rf"^[{_CJK}]{{2,6}}$")
# The figure after a list item's name: "中通19.4%、圆通15.6%、申通13.2%".
_ITEM_FIGURE = re.compile(rf"(?<=[{_CJK}])(?:约|为)?\d[\d.,]*\s*(?:%|％|[{_CJK}]{{0,3}})$")


def _item_name(item: str) -> str:
    """A list item's name: the item, less the figure after it."""
    return _ITEM_FIGURE.sub("", item)


def listed_companies(text: str, entities: Sequence[Sequence[str]]) -> list[list[str]]:
    """Companies a note names only in a list beside companies it is known to name ("份额流向
    星河、远航和青鸟", "远航、蓝湖、青鸟分别怎么看"): an item of a list where two other items are
    companies is one too, under the name the note writes with a company ending (蓝湖汽车), if
    any. A list of places or of terms the vocabulary knows names no company."""
    from rag.glossary import finance_terms

    vocabulary = {a for g in finance_terms() for a in g}
    known = {a for g in entities for a in g} | {
        s for g in entities for a in g for s in short_forms(a)
    }
    places = set(place_names())
    lists: list[tuple[str, list[str], str]] = []  # (text before, whole items, text after)
    for clause in _LIST_CLAUSE.findall(text):
        parts = [_item_name(p) for p in clause.split("、")]
        if len(parts) < 2:
            continue
        pieces = re.split(r"[和及与]", parts[-1], maxsplit=1)
        middle = [*parts[1:-1], *pieces[:-1]]
        last = pieces[-1]
        tail = _LIST_TAIL.search(last)
        if tail and tail.start() >= 2:  # "青鸟分别怎么看": the item ends where the list does
            middle.append(last[: tail.start()])
            last = ""
        elif _LIST_ITEM.match(last) and (len(last) <= 4 or re.search(f"(?:{ORG_ENDINGS})$", last)):
            middle.append(last)  # a short name, or one with a company ending, ends the clause
            last = ""
        lists.append((parts[0], middle, last))
    found: list[list[str]] = []
    for _ in range(3):  # a company found in one list makes another list's items known
        added = False
        for first, items, last in lists:
            known_items = {i for i in items if i in known}
            known_items |= {k for k in known if first.endswith(k) or (last and last.startswith(k))}
            for item in items:
                if (
                    item in known
                    or not _LIST_ITEM.match(item)
                    or item in vocabulary
                    or item in places
                    or len(known_items - {item}) < 2
                ):
                    continue
                full = re.search(rf"{re.escape(item)}(?:{ORG_ENDINGS})", text)
                found.append([full.group(0)] if full else [item])
                known |= {item, *found[-1]}
                added = True
        if not added:
            break
    return found


def dictionary_companies(text: str) -> list[list[str]]:
    """Companies a note names by a Chinese name CC-CEDICT defines as a company or brand
    ("小米" Xiaomi, "吉利" Geely), with that English name: brands written with no code or
    company ending are then entities too. Only where the note writes the name as a word of
    its own (jieba's segmentation): "国泰" inside "国泰君安" is another company."""
    from rag.dictionary import _dictionary

    cjk = [
        (head, name)
        for name, heads in _dictionary()[1].items()
        for head in heads
        if len(head) >= 2 and re.fullmatch(rf"[{_CJK}]+", head) and head in text
    ]
    if not cjk:
        return []
    words = set(_plain_segmenter().cut(text))
    return [[head, name] for head, name in cjk if head in words and not name.isupper()]


@cache
def _plain_segmenter() -> Any:
    """jieba with its own dictionary only: the words the keyword index teaches the shared one
    (rag.retrieve.keyword.add_words) must not change which companies a note names."""
    import rjieba

    return rjieba.Jieba()


def merge_groups(groups: Iterable[Sequence[str]]) -> list[list[str]]:
    """Union of groups that share an alias (case-insensitive), first spelling kept, in order."""
    merged: list[list[str]] = []
    index: dict[str, int] = {}
    for group in groups:
        keys = {a.lower() for a in group if a}
        hits = sorted({index[k] for k in keys if k in index})
        if not hits:
            target = len(merged)
            merged.append([])
        else:
            target = hits[0]
            for other in reversed(hits[1:]):  # fold later groups into the first
                for alias in merged[other]:
                    if alias.lower() not in {a.lower() for a in merged[target]}:
                        merged[target].append(alias)
                merged[other] = []
        for alias in group:
            if alias and alias.lower() not in {a.lower() for a in merged[target]}:
                merged[target].append(alias)
        for alias in merged[target]:
            index[alias.lower()] = target
        for i, g in enumerate(merged):
            for alias in g:
                index[alias.lower()] = i
    return [g for g in merged if g]


def lexicon_of(documents: Iterable[str]) -> tuple[list[list[str]], list[list[str]]]:
    """The (entities, terms) of many notes, from each note's `names_json` (see ingest); each
    entity also gets the short and romanised forms of its Chinese names (`with_short_forms`)."""
    import json

    entities: list[list[str]] = []
    terms: list[list[str]] = []
    for raw in documents:
        data = json.loads(raw) if raw else {}
        entities += data.get("entities", [])
        terms += data.get("terms", [])
    return with_short_forms(merge_groups(entities)), merge_groups(terms)


_PLACES_FILE = Path(__file__).parents[1] / "data" / "cn_places.txt"
# Industry words that end a company's full name but not the name analysts say: 迈瑞医疗 is
# 迈瑞, 宇树科技 宇树. Financial endings (银行, 证券, 保险) stay: 招商 or 工商 alone is a word.
_DROPPABLE_ENDING = re.compile(
    r"(?:股份|集团|控股|科技|医疗|医药|药业|生物|电子|电气|能源|智能|汽车|酒业|实业|矿业|新材|动力|"
    r"半导体|存储|机器人|光电|通信|软件|网络|信息|电器|家电|食品|啤酒|乳业|国际)$"
)
_CJK_ONLY = re.compile(rf"^[{_CJK}]+$")


@cache
def place_names() -> tuple[str, ...]:
    words = [
        w
        for line in _PLACES_FILE.read_text(encoding="utf-8").splitlines()
        if not line.startswith("#")
        for w in line.split()
    ]
    return tuple(sorted(set(words), key=len, reverse=True))


@cache
def romanised_places() -> frozenset[str]:
    """The notes' place names as English spells them ("Shanxi", "Chengdu"): no company's."""
    from pypinyin import lazy_pinyin

    return frozenset("".join(lazy_pinyin(p)).lower() for p in place_names())


def short_forms(name: str) -> list[str]:
    """The shorter names a Chinese company goes by: without its place prefix (贵州茅台 -> 茅台,
    中国平安 -> 平安), without an industry ending (恒瑞医药 -> 恒瑞), a bank by its first
    character (招商银行 -> 招行). A remainder that is
    itself only an ending (中国人寿 -> 人寿, a word for every life insurer) is no name."""
    if not _CJK_ONLY.match(name) or len(name) < 4:
        return []
    out: list[str] = []
    place = next((p for p in place_names() if name.startswith(p) and len(name) - len(p) >= 2), None)
    rest = name[len(place) :] if place else name
    if place and not _ORG_ENDING.fullmatch(rest) and not _DROPPABLE_ENDING.fullmatch(rest):
        out.append(rest)
    for base in (name, rest) if place else (name,):
        ending = _DROPPABLE_ENDING.search(base)
        if ending and ending.start() >= 2:
            out.append(base[: ending.start()])
        if len(base) == 4 and base.endswith("银行") and not _another_word(f"{base[0]}行"):
            out.append(f"{base[0]}行")  # a bank by its first character: 工商银行 -> 工行
    return [s for s in dict.fromkeys(out) if s != name and len(s) >= 2]


def _another_word(form: str) -> bool:
    """Whether the dictionary knows a short form as a word that names no bank (平行)."""
    from rag.dictionary import glosses_of

    glosses = glosses_of(form)
    abbreviation = all(re.fullmatch(r"[a-z]{2,5}", g) for g in glosses)  # 工行: "icbc"
    return bool(glosses) and not abbreviation and not any("bank" in g for g in glosses)


# English words that end a company's full name but not the name analysts say: "Unitree
# Robotics" is Unitree, "Kweichow Moutai Co., Ltd." Kweichow Moutai.
_LATIN_ENDING = re.compile(
    r"(?:[\s,]+(?:Robotics?|Technology|Technologies|Tech|Holdings?|Group|Inc\.?|Incorporated|"
    r"Ltd\.?|Limited|Co\.?|Company|Corp\.?|Corporation|Motors?|Automobiles?|Automotive|"
    r"Pharmaceuticals?|Pharma|Medicines?|Biotech|Biotechnology|Biosciences|Therapeutics|Medical|"
    r"Electronics|Semiconductors?|Energy|Industries|International|Intelligent|AG|SE|SA|PLC|"
    r"NV|LLC))+\.?$",
    re.IGNORECASE,
)


def latin_short_forms(name: str) -> list[str]:
    """A Latin company name without its generic tail, when what is left is a name and not an
    everyday English word or a place ("Horizon", "China"): those would match other text."""
    from rag.dictionary import company_forms, is_english_form, is_english_word

    if not name.isascii():
        return []
    out = []
    # The first word of a longer name when it is a brand of its own ("Haier Smart Home" ->
    # Haier, "Gree Electric" -> Gree): a brand the dictionary knows, or no English word.
    first, *more = name.split()
    if (
        more
        and first.isalpha()
        and (
            company_forms(first)
            or (
                len(first) >= 5
                and not is_english_form(first)
                and first.lower() not in romanised_places()
            )
        )
    ):
        out.append(first)
    if not (tail := _LATIN_ENDING.search(name)) or tail.start() == 0:
        return out
    rest = name[: tail.start()].strip(" ,.")
    words = rest.split()
    if not words or len(rest) < 3 or (len(words) == 1 and is_english_word(rest)):
        return out
    return list(dict.fromkeys([rest, *out]))


def romanised(name: str) -> list[str]:
    """Pinyin spellings of a Chinese name as English writes company names: syllables joined
    per word, place apart ("山西汾酒" -> "Shanxi Fenjiu", "Fenjiu"; "五粮液" -> "Wuliangye")."""
    if not _CJK_ONLY.match(name):
        return []
    from pypinyin import lazy_pinyin

    def spell(chars: str) -> str:
        return "".join(lazy_pinyin(chars)).capitalize()

    if _ORG_ENDING.search(name) or _DROPPABLE_ENDING.search(name):
        return []  # English translates the ending ("… Bank", "… Technology"): no spelling
    place = next((p for p in place_names() if name.startswith(p) and len(name) - len(p) >= 2), None)
    if place in ("中国", "中华", "中華"):
        return []  # "China …" is translated, not spelled
    forms = [spell(name)]
    if place:
        forms.append(f"{spell(place)} {spell(name[len(place) :])}")
    return [f for f in forms if len(f.replace(" ", "")) >= 5 and f.isascii()]


def with_short_forms(entities: Sequence[Sequence[str]]) -> list[list[str]]:
    """Entities with the short and romanised forms of their Chinese names added. A form that
    two entities would share, or that is already another entity's name, is added to neither:
    it could not say which one a question means."""
    proposed: list[list[str]] = []
    for group in entities:
        forms: list[str] = []
        for alias in group:
            shorts = short_forms(alias)
            forms += shorts + latin_short_forms(alias)
            for chinese in [alias, *shorts]:
                forms += romanised(chinese)
        known = {a.lower() for a in group}
        proposed.append([f for f in dict.fromkeys(forms) if f.lower() not in known])
    owners: Counter[str] = Counter(f.lower() for forms in proposed for f in set(forms))
    taken = {a.lower() for group in entities for a in group}
    return [
        [*group, *[f for f in forms if owners[f.lower()] == 1 and f.lower() not in taken]]
        for group, forms in zip(entities, proposed, strict=True)
    ]


def names_json(text: str) -> str:
    """A note's names, as stored in its chunks' metadata."""
    import json

    entities, terms = names_in(text)
    return json.dumps({"entities": entities, "terms": terms}, ensure_ascii=False)


def mentioned_in(group: Sequence[str], text: str) -> bool:
    """Whether `text` names any alias of `group` (Latin aliases as whole words, any case)."""
    for alias in group:
        if re.search(r"[A-Za-z]", alias):
            if re.search(rf"(?<![A-Za-z0-9]){re.escape(alias)}(?![A-Za-z])", text, re.IGNORECASE):
                return True
        elif alias in text:
            return True
    return False


def entity_sources(
    entities: Sequence[Sequence[str]], texts: Sequence[str], sources: Sequence[str]
) -> list[list[str]]:
    """For each entity group, the notes (sources) whose chunks name it."""
    by_source: dict[str, list[str]] = {}
    for text, source in zip(texts, sources, strict=True):
        by_source.setdefault(source, []).append(text)
    joined = {source: "\n".join(parts) for source, parts in by_source.items()}
    return [sorted(s for s, text in joined.items() if mentioned_in(g, text)) for g in entities]


_HEADING_LINE = re.compile(r"^#{1,6}[ \t]+.*$", re.MULTILINE)


# What may stand between a clause's start and its subject: a connective, a date or period.
_OPENS_CLAUSE = re.compile(
    r"(?:^|[，,；;。.!?！？:：\n（(])[\s\d一二三四五六七八九十第单年月日季度上下半前后初末底今去明HQMFY*#]*"
    r"(?:而|但|且|其中|其次|比如|例如|另外|此外|同时|其|由|while|whereas|and|but|by contrast|in|at)?"
    r"[\s,，]*$",
    re.IGNORECASE,
)


_NO_ONE = "\x00"  # a heading naming several entities: its section is about none by default
# An interviewer's question, the whole line ("问：三季报的情况呢？", "Q: And CMB?").
_QUESTION_LINE = re.compile(QUESTION_TURN.pattern + r".*$", re.IGNORECASE | re.MULTILINE)


def subjects_before(
    text: str, entities: Sequence[Sequence[str]], title: str = ""
) -> Callable[[int], str | None]:
    """For a position in a note, whom the text there is about (an entity's first alias): the
    entity named last before it in its section ("上半年三大产线中，体外诊断收入…" mid-section is
    still about that company); at a section's start, the company its heading names, else the
    one the note's title names. A new section is not about whoever the last one ended on
    ("…而比亚迪同期…" then "## 现金流"); without a heading or title naming anyone, the
    entity named last before it."""
    mentions: list[tuple[int, str]] = []
    patterns: list[tuple[re.Pattern[str], str]] = []
    for group in entities:
        for alias in group:
            if STOCK_CODE.fullmatch(alias) or len(alias) < 2:
                continue
            pattern = (
                re.compile(rf"(?<![A-Za-z]){re.escape(alias)}(?![A-Za-z])", re.IGNORECASE)
                if alias.isascii()
                else re.compile(re.escape(alias))
            )
            patterns.append((pattern, group[0]))
            mentions += [(m.start(), group[0]) for m in pattern.finditer(text)]
    mentions.sort()
    # In English a name that opens its clause is what the text goes on about; one further in
    # is an object ("…, about 71% owned by COSCO, saw revenue fall"). (Chinese notes name the
    # company a clause is about last more reliably: measured, the rule lost there.)
    mentions = [
        (p, n)
        for p, n in mentions
        if not text[p : p + 1].isascii() or _OPENS_CLAUSE.search(text[max(0, p - 16) : p])
    ]
    positions = [p for p, _ in mentions]
    headings = [(m.start(), m.end()) for m in _HEADING_LINE.finditer(text)]
    heading_starts = [start for start, _ in headings]

    def first_named(start: int, end: int) -> str | None:
        """The one entity a heading names; one naming several ("同业比较：A、B实现正增长")
        heads a comparison, and the sentences under it are about none of them by default."""
        i = bisect_right(positions, start - 1)
        j = bisect_right(positions, end - 1)
        named = {name for _, name in mentions[i:j]}
        return named.pop() if len(named) == 1 else _NO_ONE if named else None

    named_in_title = sorted(
        (m.start(), name) for pattern, name in patterns for m in pattern.finditer(title)
    )
    title_subject = named_in_title[0][1] if named_in_title else None

    def by_section(position: int) -> str | None:
        i = bisect_right(positions, position - 1)
        last = mentions[i - 1] if i else None
        h = bisect_right(heading_starts, position) - 1
        if h < 0:
            return last[1] if last else None
        start, end = headings[h]
        first = first_named(start, end)
        if last is not None and last[0] >= end:
            # Named in this section before the position: in its paragraph, that one; in an
            # earlier paragraph of a section its heading says is about one company, that
            # company ("…A股华虹公司…" said in passing does not own the next paragraph).
            line_start = text.rfind("\n", 0, position) + 1
            if last[0] < line_start and first not in (None, _NO_ONE):
                return first
            return last[1]
        if first == _NO_ONE:
            return None
        return first or title_subject or (last[1] if last else None)

    # An interviewer's question starts a turn about the one company it names; one naming no
    # one ("问：三季报的情况呢？") goes on about the previous question's, not about whoever
    # that answer named last ("…被甲和乙分流").
    turns: list[tuple[int, int, str | None]] = []
    for line in _QUESTION_LINE.finditer(text):
        start, end = line.start(), line.end()
        named = first_named(start, end)
        since_heading = bisect_right(heading_starts, start) - 1
        earlier = turns[-1] if turns else None
        if (
            earlier is not None
            and since_heading >= 0
            and earlier[0] < heading_starts[since_heading]
        ):
            earlier = None  # a heading between them starts anew
        if named == _NO_ONE:
            about = None
        elif named is not None:
            about = named
        else:
            about = (
                (earlier[2] if earlier is not None else None) or title_subject or by_section(start)
            )
        turns.append((start, end, about))
    turn_starts = [start for start, _, _ in turns]

    def subject(position: int) -> str | None:
        t = bisect_right(turn_starts, position) - 1
        h = bisect_right(heading_starts, position) - 1
        if t < 0 or (h >= 0 and heading_starts[h] > turns[t][0]):
            return by_section(position)
        _, end, about = turns[t]
        i = bisect_right(positions, position - 1)
        if i and mentions[i - 1][0] >= end:
            return mentions[i - 1][1]  # named in this answer, before the position
        return about

    return subject
