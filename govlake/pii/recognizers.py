"""Recognizers for Chinese personal information: patterns, validators and context scoring.

The same recognizers serve three callers: Presidio's analyzer (wrapped in `govlake.pii.engine`),
the batch scrubber used in Spark (an Arrow UDF calling `find` directly, no NLP pipeline per row),
and the column classifier. Each recognizer yields candidate spans with a base score; validators
(GB 11643 check digit, Luhn, IP parsing) turn a look-alike into a non-match; context words in a
window before the span (电话, 身份证号, 车牌 ...) raise the score, and some entity types count only
with context (a bare surname-shaped word is not a name). Digit and letter lookarounds replace
`\\b`, which does not separate Chinese characters from digits; numbers glued to Latin letters
(hex tokens, serials) are not phones, cards or IDs.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Callable, Iterable

from govlake.pii.checksums import id_check_ok, luhn_ok

ENTITY_TYPES = ("ID_NUMBER", "PHONE", "PLATE", "BANK_CARD", "EMAIL", "IP_ADDRESS", "PERSON", "ADDRESS", "COORDINATES")
THRESHOLD = 0.5
CONTEXT_WINDOW = 12  # characters before a span searched for context words
CONTEXT_BOOST = 0.35

PROVINCE_CHARS = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_BODY = "A-HJ-NP-Z0-9"  # GA 36: no I or O
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴"
    "霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "令狐", "夏侯")
# Characters that end a name in running text (verbs and particles that follow a name).
NAME_STOP = "某在称于的已电手身报反说到向和与等是为了去来从往被把将对及或并也都就还又因所以但而却处到场"

# Context words, by entity type. Words found before a span raise its score.
CONTEXT = {
    "ID_NUMBER": ("身份证", "身份证号", "证件号", "公民身份号码", "证号", "id"),
    "PHONE": ("电话", "手机", "联系方式", "联系电话", "手机号", "号码", "tel", "phone", "mobile"),
    "PLATE": ("车牌", "号牌", "车辆", "车号", "plate"),
    "BANK_CARD": ("银行卡", "卡号", "账号", "储蓄卡", "信用卡", "card"),
    "EMAIL": ("邮箱", "email", "mail"),
    "IP_ADDRESS": ("ip", "地址", "来源"),
    "PERSON": ("姓名", "报警人", "联系人", "驾驶人", "当事人", "车主", "群众", "嫌疑人", "受害人", "负责人", "户主", "求助人", "市民", "失主",
               "乘客", "伤者", "业主", "租户", "name"),
    "ADDRESS": ("地址", "住址", "位于", "家住", "户籍", "address"),
    "COORDINATES": ("经度", "纬度", "坐标", "位置", "经纬度", "lon", "lat", "gps", "position"),
}


@dataclass(frozen=True)
class Entity:
    type: str
    start: int
    end: int
    score: float

    def as_dict(self) -> dict:
        return {"type": self.type, "start": self.start, "end": self.end, "score": round(self.score, 2)}


@dataclass(frozen=True)
class Recognizer:
    """One entity type: a compiled pattern (the first named group that matched is the span, else
    the whole match), a base score, and an optional validator. A base score below THRESHOLD
    means the entity counts only with context."""

    entity: str
    pattern: re.Pattern
    score: float
    validate: Callable[[str], float | None] | None = None  # None: not this entity; else a score

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:
        for m in self.pattern.finditer(text):
            group = next((g for g in self.pattern.groupindex if m.group(g) is not None), 0)
            start, end = m.span(group)
            score = self.score
            if self.validate is not None:
                checked = self.validate(m.group(group))
                if checked is None:
                    continue
                score = checked
            yield start, end, score

    def scored(self, text: str, hint: str = "") -> Iterable[tuple[int, int, float]]:
        """Candidates with context applied: context words before a span raise its score."""
        for start, end, score in self.candidates(text):
            if _context_near(text, start, self.entity, hint):
                score = min(1.0, score + CONTEXT_BOOST)
            yield start, end, score


def _id_number(value: str) -> float | None:
    if not id_check_ok(value):
        return None  # a wrong check digit is not an ID
    month, day = int(value[10:12]), int(value[12:14])
    return 0.9 if 1 <= month <= 12 and 1 <= day <= 31 else None


def _bank_card(value: str) -> float | None:
    digits = re.sub(r"[ -]", "", value)
    if not 16 <= len(digits) <= 19 or not luhn_ok(digits):
        return None
    if digits.startswith("62"):  # China UnionPay
        return 0.75
    if digits[0] in "45" or digits[:2] in ("34", "35", "37"):
        return 0.4  # international schemes: counts with context (卡号, 银行卡)
    return None


def _ip(value: str) -> float | None:
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return None
    if addr.version == 6 and "::" not in value and value.count(":") != 7:
        return None
    return 0.7 if addr.version == 4 else 0.75


def _coordinates(value: str) -> float | None:
    nums = [float(x) for x in re.findall(r"-?\d+\.\d+", value)]
    if len(nums) == 2:
        lon_lat = 73 <= nums[0] <= 136 and 3 <= nums[1] <= 54
        lat_lon = 3 <= nums[0] <= 54 and 73 <= nums[1] <= 136
        return 0.7 if lon_lat or lat_lon else None
    if len(nums) == 1:
        return 0.3 if 3 <= abs(nums[0]) <= 136 else None  # a lone coordinate counts with context
    return None


def _given_class() -> str:
    stops = "".join(NAME_STOP)
    return f"(?:(?![{stops}])[\u4e00-\u9fa5])"


_SURNAME = "(?:" + "|".join(COMPOUND_SURNAMES) + f"|[{SURNAMES}])"
_NAME_CONTEXT = "|".join(sorted(CONTEXT["PERSON"][:-1], key=len, reverse=True))
_ADDR_CHAR = "(?:(?![称在于到的向从往位住是和与及为了就]" + ")[\u4e00-\u9fa5])"

_WHOLE_NAME = re.compile(f"{_SURNAME}[\u4e00-\u9fa5]{{1,2}}")

RECOGNIZERS: tuple[Recognizer, ...] = (
    Recognizer(
        "ID_NUMBER",
        re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Za-z])"),
        0.9, _id_number,
    ),
    Recognizer(
        "PHONE",
        re.compile(r"(?<![0-9A-Za-z+])(?:(?:\+|00)?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?![0-9A-Za-z])"),
        0.75,
    ),
    Recognizer(
        "PLATE",
        re.compile(
            rf"(?<![A-Za-z0-9])[{PROVINCE_CHARS}][A-HJ-NP-Z][·• ]?"
            rf"(?:[DF][{PLATE_BODY}]\d{{4}}|\d{{5}}[DF]|[{PLATE_BODY}]{{4}}[挂学警港澳]|[{PLATE_BODY}]{{5}})(?![A-Za-z0-9])"
        ),
        0.85,
    ),
    Recognizer("BANK_CARD", re.compile(r"(?<![0-9A-Za-z-])(?:\d{4}(?:[ -]\d{4}){3}(?:[ -]\d{1,3})?|\d{16,19})(?![0-9A-Za-z-])"), 0.75, _bank_card),
    Recognizer("EMAIL", re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"), 0.9),
    Recognizer(
        "IP_ADDRESS",
        re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])|(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])"),
        0.7, _ip,
    ),
    Recognizer(
        "PERSON",
        re.compile(rf"(?:{_NAME_CONTEXT})[：:是为\s]*(?P<v>{_SURNAME}{_given_class()}{{1,2}})|(?P<w>{_SURNAME}{_given_class()}?)(?:先生|女士|同志)"),
        0.85,
    ),
    Recognizer(
        "ADDRESS",
        re.compile(
            rf"(?:{_ADDR_CHAR}{{2,6}}(?:省|市))?(?:{_ADDR_CHAR}{{1,6}}(?:区|县|镇|乡))?{_ADDR_CHAR}{{1,10}}(?:路|街|大街|大道|道|巷|胡同|弄)"
            r"\d{1,5}(?:-\d{1,5})?号(?:院)?(?:\d{1,4}(?:号楼|栋|幢))?(?:\d{1,3}单元)?(?:\d{1,5}(?:室|号房))?"
        ),
        0.8,
    ),
    Recognizer(
        "COORDINATES",
        re.compile(r"(?<![\d.])-?\d{1,3}\.\d{4,}(?:\s*[,，/;；\s]\s*-?\d{1,3}\.\d{4,})?(?![\d.])"),
        0.7, _coordinates,
    ),
)


def _context_near(text: str, start: int, entity: str, hint: str) -> bool:
    window = (hint + " " + text[max(0, start - CONTEXT_WINDOW):start]).lower()
    return any(w in window for w in CONTEXT[entity])


def candidates(text: str, hint: str = "") -> list[Entity]:
    """Every candidate span with its context-adjusted score (before thresholding and overlaps).
    `hint` is extra context, e.g. a column name."""
    out = []
    if hint and any(w in hint.lower() for w in CONTEXT["PERSON"]):  # a whole value in a name column
        m = _WHOLE_NAME.fullmatch(text.strip())
        if m:
            lead = len(text) - len(text.lstrip())
            out.append(Entity("PERSON", lead, lead + len(m.group(0)), 0.85))
    for r in RECOGNIZERS:
        out += [Entity(r.entity, start, end, score) for start, end, score in r.scored(text, hint)]
    return out


def resolve(entities: list[Entity], threshold: float = THRESHOLD) -> list[Entity]:
    """Keep entities at or above `threshold`; of overlapping ones keep the higher score, then the longer."""
    kept: list[Entity] = []
    for e in sorted(entities, key=lambda e: (-e.score, -(e.end - e.start), e.start)):
        if e.score >= threshold and all(e.end <= k.start or e.start >= k.end for k in kept):
            kept.append(e)
    return sorted(kept, key=lambda e: e.start)


def find(text: str, hint: str = "", threshold: float = THRESHOLD) -> list[Entity]:
    """The personal information in `text`: non-overlapping entities, in order."""
    if not text:
        return []
    return resolve(candidates(text, hint), threshold)


def scrub(text: str, entities: list[Entity] | None = None) -> str:
    """`text` with every entity replaced by its typed placeholder, e.g. `<PHONE>`."""
    entities = find(text) if entities is None else entities
    out, pos = [], 0
    for e in entities:
        out.append(text[pos:e.start])
        out.append(f"<{e.type}>")
        pos = e.end
    out.append(text[pos:])
    return "".join(out)
