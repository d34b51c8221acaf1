"""The words and patterns figures are written with, as data: no parsing logic lives here.

Chinese digits and multipliers, English scale words, qualifier words (约/超过/at least),
currency prefixes and suffixes, count/duration/measure units and their English names, English
stop words, and the compiled regexes for dates, years, quarters, times, stock codes, URLs,
ordinals, relative years and the pieces of a figure that the scanner (`scan`) matches.
"""

from __future__ import annotations

import re

from rag.numbers.quantity import Currency, Kind, Qualifier

# ---------------------------------------------------------------------------------------------
# Vocabulary

CN_DIGITS = "零〇一二两三四五六七八九"
_CN_NUM_CHARS = CN_DIGITS + "十百千万亿点"
CN_DIGIT_VALUE = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2, "〇": 0}
MULT_CHAR = {"十": 10, "百": 100, "千": 1000, "万": 10**4, "亿": 10**8}
EN_SCALE = {
    "thousand": 10**3,
    "k": 10**3,
    "million": 10**6,
    "mn": 10**6,
    "m": 10**6,
    "billion": 10**9,
    "bn": 10**9,
    "b": 10**9,
    "trillion": 10**12,
    "tn": 10**12,
}

# Prefix qualifiers, longest first so "约为" wins over "约".
PREFIX_QUALIFIERS: dict[str, Qualifier] = {
    "大约": "approx",
    "约为": "approx",
    "大概": "approx",
    "接近": "approx",
    "将近": "approx",
    "约": "approx",
    "超过": "over",
    "多于": "over",
    "高于": "over",
    "逾": "over",
    "至少": "at_least",
    "不少于": "at_least",
    "不低于": "at_least",
    "不到": "under",
    "不足": "under",
    "少于": "under",
    "低于": "under",
    "不超过": "at_most",
    "最多": "at_most",
    "approximately": "approx",
    "roughly": "approx",
    "around": "approx",
    "about": "approx",
    "nearly": "approx",
    "almost": "approx",
    "some": "approx",
    "~": "approx",
    "≈": "approx",
    "more than": "over",
    "over": "over",
    "above": "over",
    "in excess of": "over",
    "at least": "at_least",
    "no less than": "at_least",
    "less than": "under",
    "fewer than": "under",
    "below": "under",
    "under": "under",
    "up to": "at_most",
    "at most": "at_most",
    "no more than": "at_most",
}
SUFFIX_QUALIFIERS: dict[str, Qualifier] = {
    "左右": "approx",
    "上下": "approx",
    "甚至更高": "at_least",
    "或更高": "at_least",
    "以上": "at_least",
    "以下": "at_most",
    "以内": "at_most",
    "+": "over",
    " or more": "at_least",
    " or less": "at_most",
}
# Words allowed between a prefix qualifier and its figure: "至少需要两百多万根", "约为70万根".
QUALIFIER_FILLERS = ("需要", "达到", "达", "为", "是", "有")

CURRENCY_PREFIX: dict[str, Currency] = {
    "US$": "USD",
    "USD": "USD",
    "$": "USD",
    "HK$": "HKD",
    "RMB": "CNY",
    "CNY": "CNY",
    "¥": "CNY",
    "￥": "CNY",
    "€": "EUR",
    "EUR": "EUR",
    "KRW": "KRW",
    "₩": "KRW",
    "£": "GBP",
    "GBP": "GBP",
    "NT$": "TWD",
    "TWD": "TWD",
}
CURRENCY_SUFFIX: dict[str, Currency] = {
    "元人民币": "CNY",
    "美元": "USD",
    "美金": "USD",
    "港元": "HKD",
    "港币": "HKD",
    "欧元": "EUR",
    "日元": "JPY",
    "韩元": "KRW",
    "英镑": "GBP",
    "新台币": "TWD",
    "人民币": "CNY",
    "元": "CNY",
    " US dollars": "USD",
    " dollars": "USD",
    " USD": "USD",
    " won": "KRW",
    " KRW": "KRW",
    " yuan": "CNY",
    " RMB": "CNY",
    " CNY": "CNY",
}

# Measure words. Durations and measures are recognised so "3个月" is not read as 3 things.
COUNT_UNITS = tuple(
    "根条台颗片个家块套张只件辆人次座架款种项部枚份户位笔批轮瓶箱艘支盒袋罐粒头羽票"
)
DURATION_UNITS = "个月 个季度 小时 分钟 秒 年 月 天 周".split()  # noqa: SIM905
MEASURE_UNITS = "千米 公里 米 吨 公斤 千克 斤 千瓦时 千瓦 兆瓦时 兆瓦 瓦 TWh GWh MWh kWh Wh GW MW kW 字 平方米".split()  # noqa: SIM905

# English names for measure words and for the nouns these notes count (zh → en).
# Measure words that always count the same kind of thing. 根 and 条 count whatever is long
# and thin (cables, roads, news items): their noun comes from the question, or none is said.
UNIT_EN = {
    "台": "units",
    "颗": "chips",
    "片": "pieces",
    "家": "companies",
    "次": "times",
    "人": "people",
    "套": "sets",
    "件": "items",
    "种": "types",
    "项": "items",
    "年": "years",
    "个月": "months",
    "月": "months",
    "天": "days",
    "周": "weeks",
    "小时": "hours",
    "分钟": "minutes",
    "秒": "seconds",
    "个季度": "quarters",
    "米": "metres",
    "千米": "km",
    "公里": "km",
    "吨": "tonnes",
    "公斤": "kg",
    "千克": "kg",
    "斤": "jin",
    "字": "characters",
    # general classifiers (量词) for what they count
    "辆": "vehicles",
    "架": "aircraft",
    "艘": "vessels",
    "笔": "deals",
    "款": "models",
    "户": "households",
    "座": "sites",
    "名": "people",
    "位": "people",
    "部": "units",
    "枚": "pieces",
    "头": "head",  # of livestock
    "羽": "birds",
    "票": "items",  # parcels, votes or tickets: the note's noun says which
}
NOUN_EN = {
    "液冷服务器": "liquid-cooled servers",
    "服务器": "servers",
    "卫星": "satellites",
    "机柜": "racks",
    "电源线": "power cables",
    "铜连接": "copper links",
    "铜缆": "copper cables",
    "线缆": "cables",
    "生产线": "production lines",
    "产线": "production lines",
    "企业": "companies",
    "公司": "companies",
    "机器人": "robots",
    "交易日": "trading days",
    "芯片": "chips",
    "组件": "components",
    "产品": "products",
}
UNIT_EN_TO_KIND: dict[str, Kind] = {
    "years": "duration",
    "months": "duration",
    "days": "duration",
    "weeks": "duration",
    "hours": "duration",
    "minutes": "duration",
    "metres": "measure",
    "meters": "measure",
}
EN_STOPWORDS = frozenset(
    """a an the and or of in on at to by for from with per is are was were be been this that
    these those which who than as it its into over under about around up down more less fewer
    percent cent percentage point points pp ppt times x thousand million billion trillion
    bn mn k m b tn yuan dollars usd rmb cny year years""".split()  # noqa: SIM905
)

# ---------------------------------------------------------------------------------------------
# Years, dates and other number-like things that are not figures

_YEAR_TAIL = r"(?=\s*(?:年|财年))"
RE_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*(?:[-/.]\s*\d{1,2}\s*[-/.]\s*\d{1,2}(?!\d)|年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)"
)
RE_COMPACT_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?![\d万亿千百%.,])"
)
RE_YEAR_RANGE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*(?:至|到|-|–|—|~|～|和|、)\s*((?:19|20)\d{2})\s*年"
)
RE_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})" + _YEAR_TAIL + r"|(?:FY|CY)\s?((?:19|20)\d{2})")
# "27年" is 2027 in these notes' shorthand, but "近20年", "1至3年内", "10年前" are durations.
RE_SHORT_YEAR = re.compile(
    r"(?<![\d.])(?<!近)(?<!过去)(?<!未来)(?<!连续)(?<!每)([1-4]\d)年(?!内|间|来|前|后|左右|以上|以内|之内)"
)
RE_MONTH_DAY = re.compile(
    # month ranges and lists: "1-10月累计", "1~9月", "11、12两个月合计"
    r"(?<![\d.])\d{1,2}\s*(?:[-–—~～至到]|[、，,和及与])\s*\d{1,2}\s*(?:(?:两|三|四|几)个月|月)"
    r"|(?<![\d.])\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?|(?<![\d.])\d{1,2}\s*日(?!元)"
    r"|(?<!第)[一二三四五六七八九十]{1,3}月份?"
)
RE_QUARTER = re.compile(
    r"第?[一二三四1-4]季度|(?<![A-Za-z0-9])(?:Q[1-4]|[1-4]Q|[12]H|H[12])(?![A-Za-z0-9])|[上下]半年"
    # Period codes with their year: 9M25, 1H25, 3Q24, FY2024, Q3'25 (not "9 million").
    # A broker's estimate or actual mark may follow: "FY26E", "3Q25A".
    r"|(?<![A-Za-z0-9])(?:9M|[1-4]Q|[12]H|Q[1-4]|H[12]|FY)\s?'?(?:20)?\d{2}[EFA]?(?![A-Za-z0-9])"
)
# Stock codes are names: 601628.SH, 2628.HK, 300750.SZ, 000660.KS, 2330.TW, NVDA.O.
# A six-digit A-share code alone in a parenthesis after a name is one too: "牧原股份（002714）".
RE_STOCK_CODE = re.compile(
    r"(?<![\dA-Za-z])(?:\d{6}\.(?:SH|SZ|SS|BJ|KS|KQ)|\d{4,5}\.HK|\d{4}\.(?:T|TW|TWO))(?![A-Za-z])"
    r"|(?<=[\u4e00-\u9fffA-Za-z][（(])[036]\d{5}(?=[)）])",
    re.IGNORECASE,
)
RE_TIME = re.compile(r"(?<![\d:])(?:\d{2}:\d{2}(?::\d{2})?|\d{1,2}:\d{2}:\d{2})(?![\d:])")
RE_CITATION_MARK = re.compile(
    r"\[\s*\d+(?:\s*[,，、-]\s*\d+)*\s*\]|【\s*\d+\s*】|^\s*\d+[.)、]\s", re.M
)
RE_URL = re.compile(r"https?://\S+|www\.\S+")
RE_ORDINAL = re.compile(r"第[\d" + _CN_NUM_CHARS + r"]+")

RELATIVE_YEARS: dict[str, int] = {
    "今年": 0,
    "本年": 0,
    "明年": 1,
    "后年": 2,
    "去年": -1,
    "前年": -2,
    "this year": 0,
    "next year": 1,
    "last year": -1,
    "the year after next": 2,
}
RE_RELATIVE_YEAR = re.compile(
    "|".join(re.escape(k) for k in sorted(RELATIVE_YEARS, key=len, reverse=True)), re.I
)
# The year inside a period code: "3Q25", "1H25", "9M25", "FY24", "Q3'25", "2025Q3".
RE_PERIOD_CODE_YEAR = re.compile(
    r"(?<![A-Za-z0-9])(?:[1-4]Q|[12]H|9M|Q[1-4]|H[12]|FY|CY)'?((?:20)?\d{2})[EFA]?(?![A-Za-z0-9])"
    r"|(?<![A-Za-z0-9])(20\d{2})(?:Q[1-4]|H[12])(?![A-Za-z0-9])"
)
# A year counted back from the one a sentence speaks of: "from RMB 43.9bn a year earlier".
RE_YEAR_EARLIER = re.compile(r"\ba year (?:earlier|ago|before)\b", re.I)
# What may stand between a figure and the year English writes after it: "US$1,759 in 3Q24",
# "RMB 33.8bn for this year", "2,270 points of a year earlier", "RMB119.2bn in the same
# period last year".
RE_YEAR_AFTER_FIGURE = re.compile(
    r"\s*(?:(?:[a-z]+\s+)?(?:for|in|during|over|of)\s+)?(?:the\s+)?"
    r"(?:(?:same\s+(?:period|quarter|months?|time)|full[- ]year|fiscal\s+year)\s+(?:of\s+)?)?",
    re.I,
)
# English years among the figures: "2022-2027 CAGR", "in 2026", a bare 2026 in an answer.
RE_BARE_YEAR_RANGE = re.compile(r"((?:19|20)\d{2})\s*[-–—~]\s*((?:19|20)\d{2})")
RE_YEAR_PREPOSITION = re.compile(
    r"\b(?:in|by|since|from|until|till|through|during|before|after|of|for|year)\s*$", re.I
)
BARE_YEAR_FIGURE = re.compile(r"(?:19|20)\d{2}")

# ---------------------------------------------------------------------------------------------
# Scanning

_ARABIC = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
RE_ARABIC = re.compile(_ARABIC)
RE_CJK = re.compile(f"[{_CN_NUM_CHARS}]+")
RE_START = re.compile(
    rf"[-−]?\d|[{CN_DIGITS}十]|百分之|翻(?:倍|番|一番|两番)|\b(?:doubl(?:e|ed|es|ing)|twice)\b",
    re.I,
)
RE_RATIO = re.compile(r"(\d+(?:\.\d+)?)\s*[:：]\s*(\d+(?:\.\d+)?)(?![\d:：])")
RE_CN_MULT = re.compile(r"[十百千]?[万亿]+|[十百千](?![分])")
RE_EN_SCALE = re.compile(
    r"\s?(thousand|million|billion|trillion)\b|(bn|mn|tn|k|K|M|B|b)(?![A-Za-z])"
)
# The denominator of a price: "元/W", "元/Wh", "美元/吨", "RMB/kg", "US$/share".
# A price's denominator: a Latin unit or any Chinese measure or measure word ("元/瓶", "元/Wh").
RE_PER_UNIT = re.compile(
    r"\s?[/／]\s?([A-Za-z]{1,5}(?![A-Za-z])|"
    + "|".join(
        sorted(
            {"千克", "公斤", "股", *COUNT_UNITS, *(u for u in MEASURE_UNITS if not u.isascii())},
            key=len,
            reverse=True,
        )
    )
    + ")"
)
RE_PERCENT = re.compile(r"\s?(?:%|％|percent\b|per cent\b|pct\b)", re.I)
RE_PCT = re.compile(r"\s?pcts?\b", re.I)
# A comparison's base English names before a year or period ("from full-year 2024", "below the
# end-2024 level", "than in 2024"), and a new clause after it: what the base names dates the
# base only, not the figures of the clause that follows ("down 10bp from full-year 2024 and
# 12bp YoY").
RE_BASE_BEFORE = re.compile(
    r"\b(?:from|than|versus|vs\.?|against|below|above)\s+(?:(?:the|in|end-?|full-year|fy)\s*)*$",
    re.IGNORECASE,
)
RE_NEW_CLAUSE = re.compile(r"\band\b|[,;]")
RE_POINTS = re.compile(r"个百分点|百分点|\s?(?:percentage points?\b|pp\b|ppts?\b|bps?\b)", re.I)
RE_MULTIPLE = re.compile(r"倍|\s?(?:x|×)(?![A-Za-z])|\s(?:times)\b")
RE_CONNECTOR = re.compile(r"\s*(?:至|到|~|～|-|–|—|－)\s*|\s+to\s+|\s*(?:and)\s+")
RE_EN_NOUN = re.compile(r"\s([A-Za-z][A-Za-z\-]*)(?:\s([a-z][a-z\-]*))?")
RE_LATIN_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9.\-]*")
RE_SENTENCE_END = re.compile(r"[。！？!?；;\n]|\.(?=\s|$)")
WORD_QUALIFIERS = sorted(PREFIX_QUALIFIERS, key=len, reverse=True)
CN_UNITS_ORDERED = sorted([*COUNT_UNITS, *DURATION_UNITS, *MEASURE_UNITS], key=len, reverse=True)
# A figure's sentence context: the words to trim off its subject, and paired-up years.
SUBJECT_TAIL = re.compile(
    r"(?:的|预计|将|会|约为|约|为|是|达到|达|增长至|增长到|增至|需要|共|合计|总计|可达|将超过|超过|,|，|、|\s)+$"
)
RESPECTIVELY = re.compile(r"分别|respectively", re.IGNORECASE)
# What stands between the items of a list: "6月、7月", "A和B", "A, B and C".
LIST_JOINER = re.compile(r"\s*(?:[、,，/]|和|及|与|以及|\band\b|,\s*and\b)\s*", re.I)
