"""Recognizers for Chinese personal information: patterns, validators, lexical analysis and context.

The same recognizers serve three callers: Presidio's analyzer (wrapped in `govlake.pii.engine`,
whose NLP engine gives Presidio the words of `govlake.pii.words`), the batch scrubber used in
Spark (an Arrow UDF calling `find` directly), and the column classifier. Each recognizer yields
candidate spans with a base score; validators (GB 11643 check digit, dates of legacy IDs, Luhn,
the ISO 3779 VIN check digit, IP parsing) turn a look-alike into a non-match; context words among
the words before a span (电话, 身份证号, 车牌, 目击者 ...) raise its score the way Presidio's
context enhancer does, and some candidates count only with context (a bare 8-digit number is a
Taiwan compatriot permit only next to 台胞证). Digit and letter lookarounds replace `\\b`, which
does not separate Chinese characters from digits; numbers glued to Latin letters (hex tokens,
serials) are not phones, cards or IDs.

Names are found by lexical analysis, not a list of cue words: the segmenter's person-name tags and
unknown-word merges give candidate words, govlake's surname knowledge (single and compound
surnames) decides which can be names, and the neighbourhood scores them: a following verb of
speech or movement (称, 驾驶, 离开) raises the score, a following place or shop word (路, 小区,
面馆) or a title with a bare surname (刘师傅, 老王) removes the candidate, role words before it
(目击者, 民警, 持卡人) are context.
"""
from __future__ import annotations

import bisect
import ipaddress
import re
from dataclasses import dataclass
from datetime import date
from typing import Callable, Iterable

from govlake.pii import words as W
from govlake.pii.checksums import id_check_ok, luhn_ok, vin_check_ok

ENTITY_TYPES = ("ID_NUMBER", "PHONE", "PLATE", "BANK_CARD", "EMAIL", "IP_ADDRESS", "PERSON", "ADDRESS", "COORDINATES",
                "PASSPORT", "TRAVEL_PERMIT", "VIN", "IMEI", "MAC_ADDRESS")
THRESHOLD = 0.5
CONTEXT_BOOST = 0.35

PROVINCE_CHARS = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_BODY = "A-HJ-NP-Z0-9"  # GA 36: no I or O
# Single-character surnames (the Hundred Family Surnames and common modern ones), without the
# few that are mostly function words in running text (和, 能, 都, 那 ...).
SURNAMES = (
    "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏水窦章云苏潘葛奚范彭郎鲁韦昌马苗凤花方俞任袁柳"
    "酆鲍史唐费廉岑薛雷贺倪汤滕殷罗毕郝邬安常乐于傅皮卞齐康伍余元卜顾孟黄穆萧尹姚邵湛汪祁毛禹狄米贝臧计伏成戴谈宋茅庞熊"
    "纪舒屈项祝董梁杜阮蓝闵席季麻强贾路娄危江童颜郭梅盛林刁钟徐邱骆高夏蔡田樊胡凌霍虞万支柯昝管卢莫房裘缪干解应宗丁宣贲邓"
    "郁单杭洪包诸左石崔吉钮龚程嵇邢滑裴陆荣翁荀羊於惠甄曲封芮羿储靳汲邴糜松井段富巫乌焦巴弓牧隗谷车侯宓蓬郗班仰秋仲伊宫宁"
    "仇栾暴甘钭厉戎祖武符刘景詹束龙叶幸司韶郜黎蓟薄印宿白怀蒲邰鄂索咸籍赖卓蔺屠蒙池乔阴郁胥苍闻莘党翟谭贡劳逄姬申扶堵冉宰郦"
    "尉栗豆漆邸晋辜芦兰满战尧楚苑宾时文智粟查檀赫盖禤綦肖涂阳隋衣楼初苟修鹿"
    "雍璩桑桂濮牛寿边扈燕冀郏浦尚农温庄晏柴瞿阎充慕连茹习宦艾鱼容向古易慎戈廖庾暨居衡步耿弘匡寇禄阙欧殳沃蔚越夔隆师巩厍聂"
    "晁勾敖融冷訾辛阚简饶曾毋沙乜鞠丰巢关蒯荆游竺权逯盖桓闫覃邝植亓仝揭鄢展丛迟商冼麦区练仉岳帅缑亢况佟佘牟付谯笪"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "令狐", "夏侯",
                     "澹台", "端木", "独孤", "南宫", "西门", "轩辕", "呼延", "百里", "东郭", "申屠", "闻人", "万俟", "钟离", "宗政", "濮阳",
                     "淳于", "单于", "太叔", "公羊", "公冶", "赫连", "仲孙", "梁丘", "左丘", "拓跋", "夹谷", "谷梁", "乐正", "漆雕", "巫马",
                     "鲜于", "司空", "亓官", "司寇", "颛孙")
# Characters that end a name in running text (verbs and particles that follow a name).
NAME_STOP = "某在称于的已电手身报反说到向和与等是为了去来从往被把将对及或并也都就还又因所以但而却处场"
# Second characters that make a surname a form of address, not a name (刘师傅, 张氏, 王某, 李记).
ADDRESS_FORMS = "氏某记总姐哥叔伯姨婶爷奶嫂师工队局所科处"
# Words after a candidate that make it a place, a shop or an organisation (王府井大街, 李记面馆).
PLACE_WORDS = ("路", "街", "大街", "大道", "道", "巷", "胡同", "弄", "村", "镇", "乡", "县", "市", "区", "省", "州", "小区", "花园", "家园",
               "公园", "广场", "大厦", "商场", "超市", "店", "面馆", "饭店", "酒店", "宾馆", "餐厅", "公司", "集团", "医院", "学校", "中学",
               "小学", "大学", "银行", "公寓", "苑", "雅苑", "新村", "大楼", "写字楼", "中心", "二路", "一路", "三路", "桥", "河", "江",
               "湖", "山", "站", "地铁站", "口", "门", "庄", "屯", "营", "堡", "湾", "港", "寺", "庙", "烧烤", "火锅", "药店", "诊所", "修车", "修车行", "专卖店", "分店", "支行", "派出所", "街道", "社区", "方向", "附近",
               "一带", "境内", "以东", "以西", "以南", "以北", "路口", "高速", "隧道", "立交", "处", "科", "局", "办", "部", "队",
               "所", "室", "组", "粥铺", "铺", "机场")
PLACE_ENDINGS = "路街村镇乡县市区省巷道桥河江湖庄店馆楼园苑站庭湾营屯坡沟岭堡坝科处局"
# Words after a name: speech, movement and acts a person does (王建国驾驶, 张伟称).
PERSON_VERBS = ("称", "说", "表示", "报称", "反映", "描述", "自称", "声称", "驾驶", "驾车", "离开", "陪同", "报警", "到场", "证实", "供述",
                "辨认", "称其", "介绍", "回忆", "承认", "拒绝", "同意", "签字", "签名", "要求", "投诉", "求助", "受伤", "被", "先后", "随后")
# Well-known places that the dictionary tags like names.
PLACE_NAMES = frozenset("石家庄 王府井 张家口 张家界 周口 黄山 马鞍山 丁字沽 马家堡 何家村 向东 向西 向南 向北 万寿路 高碑店 石景山 "
                        "郑州 常州 温州 金华 洪湖 邢台 安阳 吉林 马尾 龙岩 华山 庞各庄 白云 黄浦 黄埔 宋庄 于家堡 毛家湾".split())

# Context words, by entity type. Words found before a span raise its score.
CONTEXT = {
    "ID_NUMBER": ("身份证", "身份证号", "证件号", "公民身份号码", "证号", "id"),
    "PHONE": ("电话", "手机", "联系方式", "联系电话", "手机号", "号码", "座机", "固话", "tel", "phone", "mobile"),
    "PLATE": ("车牌", "号牌", "车辆", "车号", "plate"),
    "BANK_CARD": ("银行卡", "卡号", "账号", "储蓄卡", "信用卡", "card"),
    "EMAIL": ("邮箱", "email", "mail"),
    "IP_ADDRESS": ("ip", "地址", "来源"),
    "PERSON": ("姓名", "报警人", "联系人", "驾驶人", "当事人", "车主", "群众", "嫌疑人", "受害人", "负责人", "户主", "求助人", "市民", "失主",
               "乘客", "伤者", "业主", "租户", "目击者", "民警", "辅警", "人员", "持卡人", "店主", "房东", "保安", "司机", "邻居", "同事",
               "母亲", "父亲", "妻子", "丈夫", "其子", "其女", "其妻", "老人", "学生", "name",
               # any person noun: 收件人, 机主, 家属, 室友, 其母, 辅警, 目击者 ...
               "人", "主", "员", "警", "者", "属", "友", "妻", "夫", "母", "父", "子", "女", "姐", "妹", "兄", "弟", "师", "长"),
    "ADDRESS": ("地址", "住址", "位于", "家住", "户籍", "居住", "address"),
    "COORDINATES": ("经度", "纬度", "坐标", "位置", "经纬度", "lon", "lat", "gps", "position"),
    "PASSPORT": ("护照", "passport"),
    "TRAVEL_PERMIT": ("通行证", "港澳", "台湾", "回乡证", "台胞证", "签注", "permit"),
    "VIN": ("车架号", "vin", "车辆识别代号", "识别代号", "识别码", "车架"),
    "IMEI": ("imei", "串号", "设备识别码"),
    "MAC_ADDRESS": ("mac", "物理地址", "网卡"),
}
TITLES = ("先生", "女士", "同志", "警官", "师傅", "老师", "经理", "医生", "主任", "队长", "所长", "律师", "阿姨", "大爷", "老人", "老板", "大姐",
          "大哥", "总", "书记", "科长", "处长", "局长", "校长", "院长", "大夫", "护士", "教授", "同学", "老板娘", "姐", "哥", "叔", "嫂")
# Characters that do not occur in given names in practice: function words, measure words,
# numerals and the words of place and time a name is often followed by.
NOT_GIVEN = frozenset(NAME_STOP + "了着过个们这那哪谁什么怎很更最太不没无非未有所曾要会能应该得地上下里外内年日时分秒号路街区市省县镇村"
                      "层楼室岁名位辆次起条件台部只块店馆门口站现经系称说停许车队至贷老")


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
    """One pattern of one entity type: a compiled pattern (the first named group that matched is
    the span, else the whole match), a base score, and an optional validator. A base score below
    THRESHOLD means the candidate counts only with context."""

    entity: str
    pattern: re.Pattern
    score: float
    validate: Callable[[str], float | None] | None = None  # None: not this entity; else a score
    name: str = ""
    anchor: re.Pattern | None = None  # a cheap pattern every match contains: no anchor, no scan
    after: int = 0  # context words this many characters after a match count too (H62324221（回乡证）)
    needs_digit: bool = True  # every match holds a digit: a text without one is not scanned

    def candidates(self, text: str, words: list[W.Word], hint: str = "") -> Iterable[tuple[int, int, float]]:
        if self.anchor is not None and self.anchor.search(text) is None and (not hint or self.anchor.search(hint) is None):
            return ()
        return self._matches(text)

    @property
    def context(self) -> tuple[str, ...]:
        return CONTEXT[self.entity]

    def _matches(self, text: str) -> Iterable[tuple[int, int, float]]:
        for m in self.pattern.finditer(text):
            group = next((g for g in self.pattern.groupindex if m.group(g) is not None), 0)
            start, end = m.span(group)
            score = self.score
            if self.validate is not None:
                checked = self.validate(m.group(group))
                if checked is None:
                    continue
                score = checked
            if self.after and any(c in text[end:end + self.after] for c in CONTEXT[self.entity]):
                score = min(1.0, score + CONTEXT_BOOST)
            yield start, end, score


def _id_number(value: str) -> float | None:
    if not id_check_ok(value):
        return None  # a wrong check digit is not an ID
    return 0.9 if _valid_date(int(value[6:10]), int(value[10:12]), int(value[12:14])) else None


# First two digits of resident ID area codes (GB/T 2260 provinces).
ID_PROVINCES = frozenset("11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65".split())


def _valid_date(y: int, m: int, d: int) -> bool:
    try:
        date(y, m, d)
    except ValueError:
        return False
    return True


def _id_number_15(value: str) -> float | None:
    """A legacy 15-digit resident ID (issued before 1999): area code, YYMMDD birth date, sequence."""
    if value[:2] not in ID_PROVINCES or not _valid_date(1900 + int(value[6:8]), int(value[8:10]), int(value[10:12])):
        return None
    return 0.6


def _bank_card(value: str) -> float | None:
    digits = re.sub(r"[ -]", "", value)
    if not 16 <= len(digits) <= 19 or not luhn_ok(digits):
        return None
    if digits.startswith("62"):  # China UnionPay
        return 0.75
    if digits[0] in "45" or digits[:2] in ("34", "35", "37"):
        return 0.4  # international schemes: counts with context (卡号, 银行卡)
    return None


def _landline(value: str) -> float | None:
    """Area code (010, 02x, or 4 digits from 03xx to 09xx) and a 7- or 8-digit local number that
    does not start with 0 or 1; without any separator it counts only with context."""
    digits = re.sub(r"[^0-9]", "", value)
    area = 3 if digits[1] in "12" else 4
    if area == 3 and digits[1] == "1" and digits[2] != "0":
        return None
    local = digits[area:]
    if len(local) not in (7, 8) or local[0] in "01" or (area == 3 and len(local) != 8):
        return None
    return 0.7 if re.search(r"[-() ]", value) else 0.4


def _imei(value: str) -> float | None:
    if not luhn_ok(value):
        return None
    return 0.55 if value[:2] in ("35", "86", "01", "99", "30", "33", "44", "45", "49", "53", "54") else 0.3


def _vin(value: str) -> float | None:
    v = value.upper()
    if not (re.search(r"[A-Z]", v) and re.search(r"\d", v)) or not vin_check_ok(v):
        return None
    return 0.8


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


def _mac(value: str) -> float | None:
    hexdigits = re.sub(r"[^0-9A-Fa-f]", "", value)
    return None if len(set(hexdigits.lower())) == 1 else 0.8  # 00:00:.. and ff:ff:.. are not a device


_SURNAME = "(?:" + "|".join(COMPOUND_SURNAMES) + f"|[{SURNAMES}])"
_ADDR_CHAR = "(?:(?!现居|居住|家住|住在|位于|一家|地址|住址)(?![称在于到的向从往位住是与及为了就号，。、；：,. ])[\u4e00-\u9fa5])"
_NUM = r"(?:\d{1,5}|[一二三四五六七八九十]{1,3})"
_ROOM = r"(?:\d{1,3}单元)?(?:\d{1,5}(?:室|号房|号)?)?"
_BUILDING = r"(?:\d{1,4}(?:号楼|栋|幢|座|号院)|[A-Z一二三四五六七八九十]{1,2}(?:栋|座|幢))"
_ESTATE_END = "小区|花园|家园|嘉园|佳园|名居|新村|公寓|大厦|苑|里|社区|新城|城|华庭|广场|中心|大楼|写字楼|国际"
_REGION = (rf"(?:{_ADDR_CHAR}{{2,6}}(?:省|自治区))?(?:{_ADDR_CHAR}{{1,6}}(?:市|州|盟))?(?:{_ADDR_CHAR}{{1,6}}(?:区|县|旗))?"
           rf"(?:{_ADDR_CHAR}{{1,6}}(?:街道|镇|乡))?")
_ROAD = rf"{_ADDR_CHAR}{{1,10}}(?:路|街|大街|大道|道|巷|胡同|弄)(?:[东西南北中]|[一二三四五六七八九十]段)?(?:\d{{1,5}}(?:弄|巷))?[甲乙丙丁]?\d{{1,5}}(?:-\d{{1,5}})?号(?:院)?"
_ESTATE = rf"{_ADDR_CHAR}{{2,10}}(?:{_ESTATE_END})"
_VILLAGE = rf"{_ADDR_CHAR}{{1,8}}村(?:(?:第?{_NUM}(?:村民小)?组)(?:\d{{1,4}}号)?|\d{{1,4}}号)"

RECOGNIZERS: tuple[Recognizer, ...] = (
    Recognizer(
        "ID_NUMBER",
        re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Za-z])"),
        0.9, _id_number, "id18", re.compile(r"\d{17}"),
    ),
    Recognizer("ID_NUMBER", re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?![0-9A-Za-z])"),
               0.6, _id_number_15, "id15", re.compile(r"\d{15}")),
    Recognizer(
        "PHONE",
        re.compile(r"(?<![0-9A-Za-z+])(?:(?:\+|00)?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?![0-9A-Za-z])"),
        0.75, None, "mobile", re.compile(r"1[3-9]\d"),
    ),
    Recognizer("PHONE", re.compile(r"(?<![0-9A-Za-z+\-])(?:[(（]0\d{2,3}[)）]\s?|(?<![0-9] )0\d{2,3}[ -]?)\d{3,4}[ -]?\d{4}(?![0-9A-Za-z]|[ -]\d)"),
               0.7, _landline, "landline", re.compile(r"0\d{2,3}\D?\d{3}")),
    Recognizer(
        "PLATE",
        re.compile(
            rf"(?<![A-Za-z0-9])[{PROVINCE_CHARS}][A-HJ-NP-Z][·• ]?"
            rf"(?:[DF][{PLATE_BODY}]\d{{4}}|\d{{5}}[DF]|[{PLATE_BODY}]{{4}}[挂学警港澳]|[{PLATE_BODY}]{{5}})(?![A-Za-z0-9])"
        ),
        0.85, None, "", re.compile(rf"[{PROVINCE_CHARS}][A-HJ-NP-Z]"), needs_digit=False,
    ),
    Recognizer("BANK_CARD", re.compile(r"(?<![0-9A-Za-z-])(?:\d{4}(?:[ -]\d{4}){3}(?:[ -]\d{1,3})?|\d{16,19})(?![0-9A-Za-z-])"), 0.75, _bank_card,
               "", re.compile(r"\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}")),
    Recognizer("EMAIL", re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"), 0.9, None, "",
               re.compile("@"), needs_digit=False),
    Recognizer(
        "IP_ADDRESS",
        re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])|(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])"),
        0.7, _ip, "", re.compile(r"\d\.\d{1,3}\.|[0-9A-Fa-f]?:[0-9A-Fa-f]{0,4}:"), needs_digit=False,
    ),
    Recognizer("ADDRESS", re.compile(rf"{_REGION}{_ROAD}(?:\s?{_ESTATE})?(?:{_BUILDING})?{_ROOM}"), 0.8, None, "street",
               re.compile(r"(?:路|街|道|巷|胡同|弄)(?:[东西南北中]|[一二三四五六七八九十]段)?[甲乙丙丁]?\d")),
    Recognizer("ADDRESS", re.compile(rf"{_REGION}{_ESTATE}{_BUILDING}{_ROOM}"), 0.8, None, "estate", re.compile(r"栋|幢|座|号楼|号院"),
               needs_digit=False),
    Recognizer("ADDRESS", re.compile(rf"{_REGION}{_ESTATE}\d{{3,5}}室?(?![0-9A-Za-z])"), 0.6, None, "estate_room",
               re.compile(rf"(?:{_ESTATE_END})\d{{3}}")),
    Recognizer("ADDRESS", re.compile(rf"{_REGION}{_VILLAGE}"), 0.8, None, "village", re.compile(r"村"), needs_digit=False),
    Recognizer("COORDINATES", re.compile(r"(?:经度|纬度|东经|西经|北纬|南纬)[：:]?\s*-?\d{1,3}\.\d{4,}°?[，,、;；\s]*"
                                         r"(?:经度|纬度|东经|西经|北纬|南纬)[：:]?\s*-?\d{1,3}\.\d{4,}°?"),
               0.9, None, "named_pair"),
    Recognizer(
        "COORDINATES",
        re.compile(r"(?<![\d.])-?\d{1,3}\.\d{4,}(?:\s*[,，/;；\s]\s*-?\d{1,3}\.\d{4,})?(?![\d.])"),
        0.7, _coordinates, "", re.compile(r"\d\.\d{4}"),
    ),
    Recognizer("PASSPORT", re.compile(r"(?<![0-9A-Za-z])(?:E[A-HJ-NP-Z0-9]\d{7}|G\d{8}|[DSP]E?\d{7})(?![0-9A-Za-z])"), 0.6, None, "",
               re.compile(r"[EGDSP][A-Z0-9]?\d{7}")),
    Recognizer("TRAVEL_PERMIT", re.compile(r"(?<![0-9A-Za-z])(?:C[A-HJ-NP-Z0-9]\d{7}|[LT]\d{8})(?![0-9A-Za-z])"), 0.55, None, "permit",
               re.compile(r"[CLT][A-Z0-9]?\d{7}")),
    # home-return permits (H/M): the same shape as drug approval numbers (国药准字H...), so only with context
    Recognizer("TRAVEL_PERMIT", re.compile(r"(?<![0-9A-Za-z])[HM]\d{8}(?:\d{2})?(?![0-9A-Za-z])"), 0.3, None, "home_return",
               re.compile(r"[HM]\d{8}"), after=8),
    # bare 8 or 10 digits: a Taiwan compatriot permit only next to its context word (base score 0.2)
    Recognizer("TRAVEL_PERMIT", re.compile(r"(?<![0-9A-Za-z.\-:])\d{8}(?:\d{2})?(?![0-9A-Za-z.\-:])"), 0.2, None, "taiwan",
               re.compile(r"(?i)台胞|台湾|通行证|回乡|permit"), after=8),
    Recognizer("VIN", re.compile(r"(?<![0-9A-Za-z])[A-HJ-NPR-Za-hj-npr-z0-9]{17}(?![0-9A-Za-z])"), 0.8, _vin, "", re.compile(r"[0-9A-Za-z]{17}")),
    Recognizer("IMEI", re.compile(r"(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])"), 0.55, _imei, "", re.compile(r"\d{15}")),
    Recognizer(
        "MAC_ADDRESS",
        re.compile(r"(?<![0-9A-Fa-f:-])[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}(?![0-9A-Fa-f:-])"
                   r"|(?<![0-9A-Fa-f.])[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}(?![0-9A-Fa-f.])"),
        0.8, _mac, "", re.compile(r"[0-9A-Fa-f]{2}[:-][0-9A-Fa-f]{2}[:-]|[0-9A-Fa-f]{4}\."), needs_digit=False,
    ),
)


def _han(s: str) -> bool:
    return bool(s) and all("\u4e00" <= c <= "\u9fa5" for c in s)


@dataclass(frozen=True)
class NameRecognizer:
    """Person names in running text, from the segmenter's words (see the module docstring)."""

    entity: str = "PERSON"
    name: str = "name"
    needs_digit: bool = False

    @property
    def context(self) -> tuple[str, ...]:
        return CONTEXT[self.entity]

    def candidates(self, text: str, words: list[W.Word], hint: str = "") -> Iterable[tuple[int, int, float]]:
        if not isinstance(words, Words):
            words = Words(words, text)  # called by Presidio with its artifacts' words
        for i, w in enumerate(words):
            c0 = w.text[0]
            if c0 in SURNAME_SET or c0 in GLUE:
                found = self._at(words, i)
                if found is not None:
                    yield found
                if c0 in SURNAME_SET and i:
                    k = i - 1
                    while k > 0 and (W.is_punct(words[k].text) or words[k].text in ("为", "是", "叫")):
                        k -= 1  # 收件人为苏林天, 报警人：亢栋
                    if _role_noun(words[k]):
                        found = self._after_role(text, words, i)
                        if found is not None:
                            yield found

    def _after_role(self, text: str, words: list[W.Word], i: int) -> tuple[int, int, float] | None:
        """A name right after a role noun (驾驶人于洋, 群众张志在): the surname and the one or two
        characters up to the next boundary, even when the segmenter split them into other words;
        not when the first word is a common word (群众安全)."""
        w = words[i]
        if len(w.text) >= 2 and not w.tag.startswith("nr") and W.frequency(w.text) >= ROLE_COMMON_WORD:
            return None
        surname = _surname_len(w.text)
        end = w.start + surname
        while end < len(text) and end - w.start < surname + 3 and "\u4e00" <= text[end] <= "\u9fa5" and text[end] not in NAME_STOP \
                and text[end] not in GLUED_AFTER:
            end += 1
        n = end - w.start
        if n > surname + 2:  # no boundary within a name's length: end at a word boundary (许 + 航海 | 前往)
            ends = [x.end for x in words[i:] if x.end - w.start <= surname + 2]
            end = ends[-1] if ends else end
            n = end - w.start
        if not surname + 1 <= n <= surname + 2 or any(c in NOT_GIVEN for c in text[w.start + surname:end]):
            return None
        name = text[w.start:end]
        if W.in_dictionary(name) and W.frequency(name) >= ROLE_COMMON_WORD and not name.startswith(COMPOUND_SURNAMES):
            return None
        j = bisect.bisect_left(words.starts, end)  # the first word starting at or after `end`
        return self._score(words, w.start, end, j, known=False, after_role=True)

    def _at(self, words: list[W.Word], i: int) -> tuple[int, int, float] | None:
        w = words[i]
        t = w.text
        if not _han(t):
            return None
        if len(t) >= 2 and t[0] in GLUE and _surname_len(t[1:]) and not W.in_dictionary(t):
            # 经杭帆, 据车垚宇, 据叶 + 清海: a preposition glued to a name
            return self._word(words, i, W.Word(t[1:], "nr" if len(t) == 2 else w.tag, w.start + 1, w.end))
        return self._word(words, i, w)

    def _word(self, words: list[W.Word], i: int, w: W.Word) -> tuple[int, int, float] | None:
        t = w.text
        surname = _surname_len(t)
        if not surname:
            return None
        if len(t) == surname:  # a surname standing alone: join the given name that follows
            if w.tag in ("p", "c"):
                return None  # 向 (towards), 和 (and): a preposition or conjunction here, not a surname
            tagged = w.tag.startswith("nr") or surname == 2
            end, j = w.end, i + 1
            while j < len(words) and end - w.start + len(words[j].text) <= surname + 2 and _given_word(words[j], tagged):
                end, j = words[j].end, j + 1
            if end - w.start == surname and j < len(words) and _han(words[j].text) and (tagged or len(words[j].text) >= 3):
                # the given name glued to a verb or particle (上官 + 婉清称, 涂 + 超龙持, 匡 + 墨倩称)
                x = words[j].text
                k = next((k for k, c in enumerate(x) if c in NAME_STOP or c in GLUED_AFTER), len(x))
                if 1 <= k <= 2 and not any(c in NOT_GIVEN for c in x[:k]) and all(c in NAME_STOP or c in GLUED_AFTER for c in x[k:]):
                    end = w.end + k
                    if k == len(x):
                        j += 1
                    else:
                        return self._score(words, w.start, end, j, known=False, glued=True)
            if end - w.start <= surname or end - w.start > surname + 2:
                return None
            return self._score(words, w.start, end, j, known=False)
        if len(t) > surname + 3:
            return None
        name, j = t, i + 1
        # a name glued to what follows it (张伟称, 宁健渊持): cut the trailing verb or particle
        while len(name) > surname + 1 and (name[-1] in NAME_STOP or name[-1] in GLUED_AFTER):
            name = name[:-1]
        if len(name) > surname + 2 or name[surname:surname + 1] in NOT_GIVEN:
            return None
        known = W.in_dictionary(name)
        end = w.start + len(name)
        if known and not w.tag.startswith("nr") and len(name) == len(t):
            # a dictionary word that is not a name (高速, 黄色, 严明): a name only when a given-name
            # character follows it, and then only with context (报警人严明佳)
            if len(name) != surname + 1 or j >= len(words) or len(words[j].text) != 1 or not _given_word(words[j]):
                return None
            return self._score(words, w.start, words[j].end, j + 1, known=False, weak=True)
        if len(name) < len(t):
            return self._score(words, w.start, end, i + 1, known=False, glued=True)
        if len(name) == surname + 1 and j < len(words) and _one_more_char(words[j]) and _ends_name(words, j + 1, nouns=True):
            end, j = words[j].end, j + 1  # 李四 + 娜, 姬帅 + 瀚: a name the dictionary knows shorter
            known = False
        elif len(name) == surname + 1 and j < len(words) and _third_char_glued(words[j]):
            return self._score(words, w.start, end + 1, j, known=False, glued=True)  # 荆茜 + 月联系, 刁然 + 宁称
        return self._score(words, w.start, end, j, known=known)

    def _score(self, words, start: int, end: int, j: int, known: bool, glued: bool = False,
               weak: bool = False, after_role: bool = False) -> tuple[int, int, float] | None:
        name = words.text[start:end]
        surname = _surname_len(name)
        if (name in PLACE_NAMES or name[-1] in PLACE_ENDINGS or name[surname:] in ADDRESS_FORMS or name[surname:surname + 1] in "记氏"
                or name.endswith(TITLES) or name[surname:].startswith(TITLES) or name.startswith(TITLES)):
            return None  # a place (安定路), a shop (郑记粥铺), or a surname with a form of address (张氏, 刘师傅, 长孙姐)
        before = words.text[start - 1:start]
        if before in ("老", "小", "阿"):
            return None  # 老蒯, 小翟: a form of address, whatever follows it
        if not glued and W.frequency(words.text[end - 1:end + 1]) >= 1000:
            return None  # the last character belongs to the next word (白云机|场)
        if name.startswith(ROLE_WORDS):
            return None  # a role noun glued to a surname (司机高师傅)
        nxt = words[j].text if j < len(words) else ""
        if nxt in PLACE_WORDS or (nxt[:1] in ("路", "街", "村", "镇", "店", "馆") and not glued) or (len(nxt) == 2 and nxt[-1] in "村镇乡庄"):
            return None
        score = 0.55 if len(name) >= 3 else 0.5
        if after_role:
            score = 0.5  # found by position alone: the role noun before it is its context
        elif weak or (known and W.frequency(name) >= 500):
            score = 0.3  # a frequent dictionary word tagged as a name (向东): only with context
        if glued or nxt in PERSON_VERBS or nxt[:1] == "称" or nxt in TITLES:
            score += 0.2
        elif nxt in ("、", "和", "与", "及", "等"):
            score += 0.1
        return start, end, min(score, 0.85)


COMMON_WORD = 200  # dictionary frequency from which a two-character word is an ordinary word
ROLE_COMMON_WORD = 1000  # the same right after a role noun (驾驶人江东), where a name is expected
# Characters glued before a name by the segmenter (经杭帆同意, 据车垚宇称).
GLUE = "经据由被让对给和与及将把向人为系"
# Characters glued after a name by the segmenter (宁健渊持, 权永已).
GLUED_AFTER = "持已将也曾于在系均常"
# Words after which a name has ended (曾胜名下, 叶德心一家, 亓月所述).
NAME_FOLLOWERS = ("名下", "一家", "所述", "本人", "夫妇", "三人", "两人", "二人", "家属", "同意", "提供", "报警", "称")


SURNAME_SET = frozenset(SURNAMES) | frozenset(c[0] for c in COMPOUND_SURNAMES)
COMPOUND_SET = frozenset(COMPOUND_SURNAMES)
# Words ending in these are role nouns a name often follows (报警人, 目击者, 快递员, 机主, 辅警, 群众).
ROLE_ENDINGS = "人者员主警众民属友长工生"


ROLE_WORDS = tuple(sorted({*W.EXTRA_WORDS, *(c for c in CONTEXT["PERSON"] if len(c) >= 2)}, key=len, reverse=True))


def _role_noun(w: W.Word) -> bool:
    t = w.text
    return len(t) >= 2 and (t[-1] in ROLE_ENDINGS or t in CONTEXT["PERSON"]) and _han(t) and not w.tag.startswith("v")


class Words(list):
    """The words of one text, with the text and the words' start offsets (lookups stay linear)."""

    def __init__(self, words: list[W.Word], text: str):
        super().__init__(words)
        self.text = text
        self.starts = [w.start for w in words]


def _surname_len(t: str) -> int:
    if t[:2] in COMPOUND_SET:
        return 2
    return 1 if t[:1] in SURNAMES else 0


def _third_char_glued(w: W.Word) -> bool:
    """Whether word `w` starts with a name's last character glued to what follows the name:
    an unknown word whose rest is a particle, a verb or a word of its own (月联系, 宁称, 成本人)."""
    x = w.text
    if len(x) < 2 or not _han(x) or x[0] in NOT_GIVEN or W.in_dictionary(x):
        return False
    rest = x[1:]
    return all(c in NAME_STOP or c in GLUED_AFTER for c in rest) or rest in PERSON_VERBS or rest in NAME_FOLLOWERS or W.in_dictionary(rest)


def _one_more_char(w: W.Word) -> bool:
    """A single character after a two-character name that may be its third (李四 + 娜, 戚勇 + 银),
    whatever the segmenter tagged it: not a particle, numeral word or place character."""
    return len(w.text) == 1 and _han(w.text) and w.text not in NOT_GIVEN and w.text not in "一二三四五六七八九十百千万两几每各该本此"


def _ends_name(words: list[W.Word], j: int, nouns: bool = False) -> bool:
    """Whether a name may end before word `j`: the end of the text, punctuation, a verb, a title
    (with `nouns`, also a noun of two or more characters: 戚勇银 + 血液)."""
    if j >= len(words):
        return True
    w = words[j]
    return (W.is_punct(w.text) or w.tag.startswith("v") or w.tag in ("p", "c", "uj", "f", "d") or w.text in TITLES or w.text in PERSON_VERBS
            or w.text in NAME_FOLLOWERS or (nouns and len(w.text) >= 2 and w.tag[:1] in ("n", "l")))


FUNCTION_TAGS = ("p", "c", "u", "uj", "ul", "uz", "ud", "ug", "uv", "d", "m", "q", "f", "r", "y", "e", "o")
VERB_TAGS = ("v", "vn", "vd", "vg")


def _given_word(w: W.Word, after_name_tag: bool = False) -> bool:
    """Whether word `w` can be (part of) the given name after a surname standing alone; a verb
    or a common word only after a surname the segmenter itself tagged as a name (寇 + 强盛)."""
    if len(w.text) > 2 or not _han(w.text) or any(c in NOT_GIVEN for c in w.text) or w.tag in FUNCTION_TAGS:
        return False
    if w.tag in VERB_TAGS and not after_name_tag:
        return False
    return len(w.text) == 1 or w.tag.startswith("nr") or after_name_tag or W.frequency(w.text) < COMMON_WORD  # 民警: a word, not a given name


PERSON_RECOGNIZER = NameRecognizer()
ALL: tuple = RECOGNIZERS + (PERSON_RECOGNIZER,)


_CONTEXT_LOWER = {k: tuple(w.lower() for w in v) for k, v in CONTEXT.items()}
_DIGIT = re.compile(r"\d")
_WHOLE_NAME = re.compile(f"{_SURNAME}[\u4e00-\u9fa5]{{1,2}}")


def boosted(entity: str, context: str) -> bool:
    """Presidio's substring context match: a context word of the entity type inside one of the
    context words, given joined by "\\x00" (no context word holds it), so one scan per word."""
    return any(c in context for c in _CONTEXT_LOWER[entity])


def candidates(text: str, hint: str = "") -> list[Entity]:
    """Every candidate span with its context-adjusted score (before thresholding and overlaps).
    `hint` is extra context, e.g. a column name."""
    out = []
    hint = hint.lower()
    if hint and any(w in hint for w in CONTEXT["PERSON"]):  # a whole value in a name column
        m = _WHOLE_NAME.fullmatch(text.strip())
        if m:
            lead = len(text) - len(text.lstrip())
            out.append(Entity("PERSON", lead, lead + len(m.group(0)), 0.85))
    words = Words(W.tag(text), text)
    keys: set[str] | None = None
    contexts: dict[int, str] = {}
    digits = _DIGIT.search(text) is not None or _DIGIT.search(hint) is not None
    for r in ALL:
        if r.needs_digit and not digits:
            continue
        for start, end, score in r.candidates(text, words, hint):
            context = contexts.get(start)
            if context is None:
                if keys is None:  # computed once, for the first candidate of the text
                    keys = W.keywords(words)
                context = contexts[start] = "\x00".join(W.context_before(words, words.starts, keys, start) + ([hint] if hint else []))
            if boosted(r.entity, context):
                score = min(1.0, score + CONTEXT_BOOST)
            out.append(Entity(r.entity, start, end, score))
    return out


def _merge_addresses(entities: list[Entity]) -> list[Entity]:
    """Overlapping address candidates are parts of one address (street, estate, room): their
    union, with the highest score among them."""
    addresses = sorted((e for e in entities if e.type == "ADDRESS"), key=lambda e: e.start)
    if len(addresses) < 2:
        return entities
    merged: list[Entity] = []
    for e in addresses:
        if merged and e.start < merged[-1].end:
            m = merged[-1]
            merged[-1] = Entity("ADDRESS", m.start, max(m.end, e.end), max(m.score, e.score))
        else:
            merged.append(e)
    return [e for e in entities if e.type != "ADDRESS"] + merged


def resolve(entities: list[Entity], threshold: float = THRESHOLD) -> list[Entity]:
    """Keep entities at or above `threshold`; of overlapping ones keep the higher score, then the
    longer. An address whose front overlaps a kept entity (a name the address pattern ran into:
    庞振宇送回东城区...) keeps the part after it. Kept spans are held sorted, so a long text with
    many entities costs n log n, not n squared."""
    starts: list[int] = []  # kept spans, sorted by start; they never overlap
    spans: list[Entity] = []

    def overlapping(e: Entity) -> list[Entity]:
        i = bisect.bisect_left(starts, e.end)  # kept spans starting before e ends ...
        out = []
        while i > 0 and spans[i - 1].end > e.start:  # ... that end after e starts
            out.append(spans[i - 1])
            i -= 1
        return out

    for e in sorted(_merge_addresses(entities), key=lambda e: (-e.score, -(e.end - e.start), e.start)):
        if e.score < threshold:
            continue
        if e.type == "ADDRESS":
            for k in sorted(overlapping(e), key=lambda k: k.start):
                if k.start < e.end and e.start < k.end < e.end - 4:
                    e = Entity(e.type, k.end, e.end, e.score)
        if not overlapping(e):
            i = bisect.bisect_left(starts, e.start)
            starts.insert(i, e.start)
            spans.insert(i, e)
    return spans


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
