"""Labelled Chinese incident notes for evaluating personal-information recognizers.

A second corpus, written apart from the recognizers (nothing here imports `govlake.pii`): police
and city-management notes of the kind a department's free-text field carries, with every piece
of personal information the generator put in labelled by construction. The writer keeps the
running offset as it appends each piece of text, so a label is the exact slice of the note that
holds the value; no detector is ever asked.

`generate(rng)` returns one note and its labels `(TYPE, start, end)` (Python string offsets, end
exclusive); `near_miss(rng)` returns a line with no personal information that looks as if it might
have some (surname characters at the start of place names and words, shop names, hotlines, order
numbers, serials, numbers that fail a check digit). Only `random.Random` is used, so a seed gives
the same text on every run.

Types and what a label covers:
  PERSON         surname + given name only; titles (警官, 师傅), role words and a bare surname
                 (刘师傅, 张某, 老王) are not labelled.
  ID_NUMBER      18-digit resident ID (GB 11643 check digit, valid birth date) or the 15-digit
                 legacy ID (area code, YYMMDD, three digits).
  PHONE          mobiles (plain, 3-4-4 with dashes or spaces, +86) and landlines with the area
                 code, brackets included when the area code is bracketed; an extension (转123)
                 is left outside the label.
  PLATE          mainland plates, the optional · included.
  BANK_CARD      UnionPay (62…) card numbers, 16-19 digits, Luhn-valid; spaces of a grouped
                 number are inside the label.
  EMAIL, IP_ADDRESS (IPv4, a few IPv6), MAC_ADDRESS (colon, dash or the dotted Cisco form).
  PASSPORT       E + 8 digits, E + letter + 7 digits, G + 8 digits.
  TRAVEL_PERMIT  C… (Hong Kong/Macao), L… (Taiwan), H/M… (home-return permit), and 8 digits
                 after 台胞证.
  VIN            17 characters, ISO 3779 check digit, Chinese WMIs.
  IMEI           15 digits, Luhn-valid.
  ADDRESS        the whole street or rural address, from the city or district (when given) to
                 the trailing room number.
  COORDINATES    the whole 经度…纬度… phrase when written with the words, else the number pair.
"""
from __future__ import annotations

import random
import re
from datetime import date

TYPES = (
    "PERSON", "ID_NUMBER", "PHONE", "PLATE", "BANK_CARD", "EMAIL", "IP_ADDRESS", "PASSPORT",
    "TRAVEL_PERMIT", "VIN", "IMEI", "MAC_ADDRESS", "ADDRESS", "COORDINATES",
)

# ---------------------------------------------------------------------------------------------
# Check digits (our own: the corpus must not lean on the recognizers' code)

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id18_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS)) % 11]


def _real_date(y: int, m: int, d: int) -> bool:
    try:
        date(y, m, d)
    except ValueError:
        return False
    return True


def is_valid_id18(s: str) -> bool:
    if len(s) != 18 or not s[:17].isdigit() or s[17] not in "0123456789X":
        return False
    if not _real_date(int(s[6:10]), int(s[10:12]), int(s[12:14])) or not 1900 <= int(s[6:10]) <= 2030:
        return False
    return id18_check_char(s[:17]) == s[17]


def is_valid_id15(s: str) -> bool:
    return len(s) == 15 and s.isdigit() and _real_date(1900 + int(s[6:8]), int(s[8:10]), int(s[10:12]))


def luhn_check_digit(payload: str) -> str:
    total = 0
    for i, c in enumerate(reversed(payload)):
        v = int(c)
        if i % 2 == 0:
            v *= 2
            if v > 9:
                v -= 9
        total += v
    return str((10 - total % 10) % 10)


def luhn_valid(s: str) -> bool:
    return s.isdigit() and len(s) > 1 and luhn_check_digit(s[:-1]) == s[-1]


VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
VIN_VALUES = {**{str(d): d for d in range(10)},
              **dict(zip("ABCDEFGH", range(1, 9))), **dict(zip("JKLMN", range(1, 6))),
              "P": 7, "R": 9, **dict(zip("STUVWXYZ", range(2, 10)))}
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_char(vin: str) -> str:
    r = sum(VIN_VALUES[c] * w for c, w in zip(vin, VIN_WEIGHTS)) % 11
    return "X" if r == 10 else str(r)


def is_valid_vin(s: str) -> bool:
    return len(s) == 17 and all(c in VIN_VALUES for c in s) and vin_check_char(s) == s[8]


def with_id_check(first17: str) -> str:
    return first17 + id18_check_char(first17)


def with_luhn(payload: str) -> str:
    return payload + luhn_check_digit(payload)


# ---------------------------------------------------------------------------------------------
# Names

def _chars(s: str) -> list[str]:
    return list(dict.fromkeys(s.replace(" ", "")))


COMMON_SURNAMES = _chars(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季"
    "裴霍涂成苗谷盛曲翁冉骆蓝游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤时穆农卓古吉缪简车项连芦麦褚娄窦戚岑")
RARE_SURNAMES = _chars(
    "桂覃蔺隋闵栾逯祁寇聂景党宫费卜冷晏席卫米柏宗瞿佟应臧苟邬边卞姬师仇商刁沙荣巫桑郎甄丛仲虞敖巩佘池查"
    "苑迟邝封谈匡鞠惠荆冀郁胥班储栗燕楚鄢劳谌奚皮粟冼楼盘满闻厉伊仝郜阚花权帅屠豆盖练廉禹井祖漆巴丰卿狄"
    "计索宣晋初扈晁芮阙浦戈伏鹿薄邸雍辜裘亓修邰赫杭况宿印隆茹战危亢嵇湛宾戎勾茅揭尉束檀衣展昝智幸植衡尧")
COMPOUND_SURNAMES = ["欧阳", "司马", "上官", "诸葛", "皇甫", "令狐", "慕容", "司徒", "东方", "夏侯", "尉迟", "公孙",
                     "长孙", "宇文", "端木", "南宫", "申屠", "钟离", "闻人", "万俟", "独孤", "澹台", "呼延", "百里"]

MALE_GIVEN = _chars(
    "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林阳洋峰亮成建国志新兵东武海山松森博彬昊轩"
    "泽睿航晨鹤毅锋锐豪振兴荣庆福贵祥德仁义忠永胜利立坤乾铭瀚哲琛晟煜炜烨骏驰腾翔鸿宏卫栋梁柱彪友顺发达"
    "旺喜宝银钢勤朴厚恒晋岳嵩崇川滨源清逸楷朗奕铮昌盛隆耀光辰恺璋琮珩柏桐槐杉舜禹尧钧铎磊彦渊淳湛雄奎魁"
    "培增垚堃岩崧峻嵘巍峥屹斐彰煊灿炳炎焕熠勋劲励勉敦捷谦谨诚坚韧")
FEMALE_GIVEN = _chars(
    "芳娜静丽艳娟秀霞桂英红玉兰梅婷雪琳欣怡萱雨嘉琪佳悦晓颖倩璐露岚菲蕾薇珊莹瑶婕妍丹彤青翠燕凤春月云萍洁"
    "慧淑贤惠巧琴诗梦婉娴媛姗妮娇婧瑾瑜璇曦晗昕沁滢澜漪荷莲菊蓉芸茜蓓蕊冰霜秋香馨韵灵黛钰珂玥琦珍珠翡璟"
    "瑛琼瑗茗苒菁蔓芷若蘅蓁苓芊莉莺鹂鸾雯霏霓岫婵娅嫣妤姝姣素雅娥嫦瑞")
NEUTRAL_GIVEN = _chars("子一思宇晨嘉文天辰星言墨书心语可乐然依知远元清明晓小少家锦诗凡安宁沐承景博雅涵若")
MALE_COMMON = _chars("伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙林阳洋峰亮成建东兵海松博彬昊轩睿航晨毅锋"
                     "锐豪振荣胜坤哲骏翔鸿宏卫栋岩勋国志新文武山德庆福祥永利立")
FEMALE_COMMON = _chars("芳娜静丽艳娟秀霞英红玉兰梅婷雪琳欣怡萱佳悦颖倩璐露岚菲蕾薇珊莹瑶妍丹彤青燕凤萍洁慧琴敏媛婧莉雯"
                       "蓉芸茜晓月云春桂琪嘉")

# Two-character names that are ordinary words, places or brands; and a few public figures.
_NOT_NAMES = set(
    "高明 白云 金华 江南 海南 平安 和平 明天 明星 高峰 高山 高兴 方正 文明 国庆 安宁 安康 宁静 万达 万科 "
    "石林 江山 江海 黄山 黄河 长江 金山 云南 秦岭 林海 柳林 温泉 梅花 莲花 兰花 桂林 桂花 关东 向阳 华山 泰山 "
    "钱江 贺兰 海宁 海阳 安阳 平阳 南宁 南京 东营 宁波 和田 龙岩 乐山 洛阳 雷雨 雷电 龙凤 金银 文武 武汉 "
    "白天 时光 金星 金牛 马龙 石龙 温暖 安心 安静 成都 成功 成立 成年 平原 华夏 左右 向东 方圆 严明 "
    "常青 常春 江东 江北 金刚 牛顿 戴安 于是 关心 关怀 高远 高原 林立 林林 海涛 花园 黎明 包容 齐心 齐全 "
    "毛泽东 周恩来 邓小平 习近平 李克强 江泽民 胡锦涛 温家宝 朱镕基 刘少奇 孙中山 李白 杜甫 王菲 刘德华 成龙 "
    "姚明 刘翔 张艺谋 马云 马化腾 周杰伦 李连杰 王力宏 李小龙 袁隆平 钱学森 鲁迅 屠呦呦 郎平 林丹 孔子 孟子".split())


def person_name(rng: random.Random, gender: str | None = None) -> tuple[str, str]:
    """(surname, given name): about 8% compound surnames, a third two-character names."""
    gender = gender or rng.choice("mf")
    while True:
        if rng.random() < 0.08:
            surname = rng.choice(COMPOUND_SURNAMES)
            given_len = 1 if rng.random() < 0.75 else 2
        else:
            surname = rng.choice(COMMON_SURNAMES if rng.random() < 0.8 else RARE_SURNAMES)
            given_len = 1 if rng.random() < 0.36 else 2
        name = surname + (given := given_name(rng, gender, given_len))
        if name not in _NOT_NAMES and given[0] != surname[-1]:
            return surname, given


def given_name(rng: random.Random, gender: str, n: int) -> str:
    """A given name of n characters: mostly everyday characters, a share of rarer ones."""
    common, full = (MALE_COMMON, MALE_GIVEN) if gender == "m" else (FEMALE_COMMON, FEMALE_GIVEN)
    if n == 1:
        return rng.choice(common) if rng.random() < 0.75 else rng.choice(full)
    if gender == "f" and rng.random() < 0.05:
        return rng.choice(common) * 2  # 婷婷, 丹丹
    out = ""
    while len(out) < n:
        r = rng.random()
        c = rng.choice(NEUTRAL_GIVEN) if r < 0.15 else rng.choice(common) if r < 0.6 else rng.choice(full)
        if not (out and c in "小少"):  # 小 and 少 lead a given name, never close it
            out += c
    return out


# ---------------------------------------------------------------------------------------------
# Identifiers

AREA_CODES = [
    "110101", "110102", "110105", "110106", "110108", "110114", "120101", "120104", "130102", "130605",
    "140105", "150102", "210102", "210203", "220102", "230102", "310101", "310104", "310115", "320102",
    "320106", "320583", "330102", "330106", "330282", "340102", "350102", "350203", "360102", "370102",
    "370202", "410102", "410305", "420102", "420106", "430102", "430104", "440103", "440106", "440304",
    "440305", "441900", "450102", "460105", "500103", "500112", "510104", "510107", "520102", "530102",
    "610103", "610113", "640104", "650102", "130984", "371302", "421002", "511302", "522401", "532901",
]


def _birth(rng: random.Random, lo: int, hi: int) -> tuple[int, int, int]:
    y, m = rng.randint(lo, hi), rng.randint(1, 12)
    d = rng.randint(1, 31)
    while not _real_date(y, m, d):
        d -= 1
    return y, m, d


def id18(rng: random.Random) -> str:
    y, m, d = _birth(rng, 1938, 2012)
    return with_id_check(f"{rng.choice(AREA_CODES)}{y:04d}{m:02d}{d:02d}{rng.randint(1, 999):03d}")


def id15(rng: random.Random) -> str:
    while True:
        y, m, d = _birth(rng, 1930, 1999)
        s = f"{rng.choice(AREA_CODES)}{y % 100:02d}{m:02d}{d:02d}{rng.randint(1, 999):03d}"
        if not luhn_valid(s):  # a Luhn-valid one would read as an IMEI too
            return s


MOBILE_PREFIXES = ["130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "147", "150", "151",
                   "152", "153", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180",
                   "181", "182", "183", "184", "185", "186", "187", "188", "189", "191", "193", "195", "198", "199"]


def mobile(rng: random.Random) -> str:
    p, a, b = rng.choice(MOBILE_PREFIXES), f"{rng.randint(0, 9999):04d}", f"{rng.randint(0, 9999):04d}"
    r = rng.random()
    if r < 0.55:
        return p + a + b
    if r < 0.67:
        return f"{p}-{a}-{b}"
    if r < 0.79:
        return f"{p} {a} {b}"
    if rng.random() < 0.3:
        return rng.choice([f"+86 {p} {a} {b}", f"+86-{p}-{a}-{b}"])
    return rng.choice(["+86 ", "+86", "+86-", "+86 "]) + p + a + b


AREA_3 = ["010", "020", "021", "022", "023", "024", "025", "027", "028", "029"]
AREA_4 = ["0755", "0571", "0512", "0731", "0871", "0531", "0532", "0591", "0898", "0851", "0951", "0931",
          "0371", "0311", "0351", "0471", "0431", "0451", "0551", "0791", "0771", "0991", "0574", "0757", "0769"]


def landline(rng: random.Random) -> tuple[str, str]:
    """(number, extension text after it or '')."""
    if rng.random() < 0.55:
        area, n = rng.choice(AREA_3), 8
    else:
        area, n = rng.choice(AREA_4), rng.choice([7, 8, 8])
    local = str(rng.randint(2, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(n - 1))
    r = rng.random()
    if r < 0.5:
        num = f"{area}-{local}"
    elif r < 0.64:
        num = f"({area}){local}"
    elif r < 0.74:
        num = f"（{area}）{local}"
    elif r < 0.88 and n == 8:
        num = f"{area} {local[:4]} {local[4:]}"
    else:
        num = f"{area} {local}"
    ext = ""
    if rng.random() < 0.15:
        ext = rng.choice(["转", "转", "分机"]) + str(rng.randint(100, 8999))
    return num, ext


PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
BODY_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def plate(rng: random.Random) -> str:
    head = rng.choice(PROVINCES) + rng.choice(PLATE_LETTERS[:12] if rng.random() < 0.7 else PLATE_LETTERS)
    dot = "·" if rng.random() < 0.2 else ""
    if rng.random() < 0.18:  # new energy
        second = rng.choice(BODY_LETTERS) if rng.random() < 0.4 else str(rng.randint(0, 9))
        body = rng.choice("DF") + second + f"{rng.randint(0, 9999):04d}"
    else:
        body = [str(rng.randint(0, 9)) for _ in range(5)]
        for _ in range(rng.choices([0, 1, 2], [6, 3, 1])[0]):
            body[rng.randrange(5)] = rng.choice(BODY_LETTERS)
        body = "".join(body)
    return head + dot + body


CARD_BINS = [("622202", 19), ("622208", 19), ("621226", 19), ("622848", 19), ("622845", 19), ("621700", 19),
             ("622700", 19), ("621661", 19), ("621663", 19), ("622588", 16), ("621483", 16), ("622262", 19),
             ("623058", 19), ("622155", 16), ("622689", 16), ("621792", 19), ("622630", 18), ("625965", 16),
             ("628288", 16), ("621799", 19), ("622609", 17), ("621462", 18), ("622580", 16), ("625807", 16),
             ("621559", 19), ("623668", 19), ("622908", 18), ("621098", 19), ("620058", 17)]


def bank_card(rng: random.Random, grouped: bool | None = None) -> str:
    while True:
        b, n = rng.choice(CARD_BINS)
        digits = with_luhn(b + "".join(str(rng.randint(0, 9)) for _ in range(n - 7)))
        if not is_valid_id18(digits):
            break
    if grouped if grouped is not None else rng.random() < 0.35:
        return " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))
    return digits


_PY_SUR = ["zhang", "wang", "li", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma", "zhu", "hu",
           "guo", "he", "gao", "lin", "luo", "zheng", "liang", "xie", "song", "tang", "han", "feng", "deng", "cao", "peng"]
_PY_GIVEN = ["wei", "fang", "na", "min", "jing", "li", "qiang", "lei", "jun", "yang", "yong", "yan", "jie", "juan", "tao",
             "ming", "chao", "xiu", "xia", "ping", "gang", "hui", "peng", "hua", "fei", "xin", "bo", "bin", "yu", "hao",
             "kai", "jian", "shuai", "ning", "long", "feng", "liang", "cheng", "zhi", "dong", "wen", "hai", "shan",
             "song", "ze", "rui", "hang", "yi", "zi", "han", "xuan", "tian", "jia", "qi", "yue", "xiao", "ying", "qian",
             "lu", "lan", "yao", "dan", "tong", "qing", "cui", "chun", "yun", "shu", "qin", "meng", "wan", "yuan"]
_WORDS = ["sunny", "happy", "tiger", "panda", "river", "cloud", "star", "ocean", "lucky", "moon", "snow", "apple",
          "winter", "forest", "light", "blue", "coffee", "maple", "rain", "dream"]
EMAIL_DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "sohu.com", "foxmail.com", "gmail.com", "outlook.com",
                 "hotmail.com", "yeah.net", "139.com", "aliyun.com", "vip.163.com", "sina.cn", "icloud.com"]
WORK_DOMAINS = ["cityguard.com.cn", "hxwl-tech.cn", "jinyuan-logistics.com", "mingda-edu.cn", "xinghe.net.cn"]


def email(rng: random.Random) -> str:
    s, g = rng.choice(_PY_SUR), rng.choice(_PY_GIVEN)
    g2 = rng.choice(_PY_GIVEN)
    forms = [
        lambda: f"{s}{g}{rng.randint(1960, 2012)}",
        lambda: f"{s}.{g}{g2}",
        lambda: f"{g}{g2}.{s}",
        lambda: f"{s}{g[0]}{g2[0]}{rng.randint(1, 99)}",
        lambda: str(rng.randint(10_000_000, 2_999_999_999)),
        lambda: f"{rng.choice(_WORDS)}_{s}{rng.randint(1, 999)}",
        lambda: f"{s}_{g}{g2}",
        lambda: f"{rng.choice(_WORDS)}{rng.choice(_WORDS)}{rng.randint(10, 99)}",
    ]
    local = rng.choice(forms)()
    if local.isdigit():
        return f"{local}@qq.com"
    domain = rng.choice(WORK_DOMAINS) if rng.random() < 0.12 else rng.choice(EMAIL_DOMAINS)
    return f"{local}@{domain}"


_PUBLIC_FIRST = [36, 39, 42, 58, 59, 60, 61, 101, 106, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122,
                 123, 124, 125, 139, 140, 144, 175, 180, 182, 183, 202, 211, 218, 219, 220, 221, 222, 223]


def ipv4(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.3:
        return f"192.168.{rng.choice([0, 1, 1, 2, 3, 10, 31, 100])}.{rng.randint(2, 254)}"
    if r < 0.45:
        return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}"
    if r < 0.55:
        return f"172.{rng.randint(16, 31)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}"
    return f"{rng.choice(_PUBLIC_FIRST)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def ipv6(rng: random.Random) -> str:
    def h() -> str:
        return f"{rng.randint(0, 0xFFFF):x}"
    r = rng.random()
    if r < 0.2:
        return f"fe80::{h()}:{h()}:{h()}:{h()}"
    head = rng.choice(["2409", "240e", "2408", "2001"]) + ":" + rng.choice(["8a1e", "3b0", "8456", "da8", "8a00", "388", "8c28"])
    if r < 0.6:
        return head + ":" + ":".join(h() for _ in range(6))
    if r < 0.8:
        return f"{head}:{h()}::{h()}"
    return f"{head}:{h()}:{h()}::{h()}"


def ip_address(rng: random.Random) -> str:
    return ipv6(rng) if rng.random() < 0.1 else ipv4(rng)


def passport(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.5:
        return "E" + str(rng.randint(1, 9)) + f"{rng.randint(0, 9_999_999):07d}"
    if r < 0.75:
        return "E" + rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") + f"{rng.randint(0, 9_999_999):07d}"
    return "G" + str(rng.randint(1, 9)) + f"{rng.randint(0, 9_999_999):07d}"


def hk_macao_permit(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return "C" + str(rng.randint(1, 9)) + f"{rng.randint(0, 9_999_999):07d}"
    return "C" + rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") + f"{rng.randint(0, 9_999_999):07d}"


def taiwan_permit(rng: random.Random) -> str:
    return "L" + str(rng.randint(1, 9)) + f"{rng.randint(0, 9_999_999):07d}"


def home_return_permit(rng: random.Random) -> str:
    s = rng.choice("HHM") + str(rng.randint(0, 9)) + f"{rng.randint(0, 9_999_999):07d}"
    return s + f"{rng.randint(0, 99):02d}" if rng.random() < 0.3 else s


def taiwan_compatriot_permit(rng: random.Random) -> str:
    return f"{rng.randint(0, 9)}{rng.randint(0, 9_999_999):07d}"


VIN_WMIS = ["LSV", "LFV", "LGB", "LVS", "LHG", "LBV", "LSG", "LVG", "LFM", "LGW", "LNB", "LDC", "LBE", "LZW", "LE4",
            "LGX", "LJD", "LVH", "LFP", "LS5"]
VIN_YEARS = "ABCDEFGHJKLMNPRST123456789"


def vin(rng: random.Random) -> str:
    vds = "".join(rng.choice(VIN_ALPHABET) for _ in range(5))
    tail = rng.choice(VIN_YEARS) + rng.choice(VIN_ALPHABET) + f"{rng.randint(0, 999_999):06d}"
    draft = rng.choice(VIN_WMIS) + vds + "0" + tail
    return draft[:8] + vin_check_char(draft) + draft[9:]


def imei(rng: random.Random) -> str:
    while True:
        tac = rng.choice(["86", "86", "86", "35", "35", "01"]) + f"{rng.randint(0, 999_999):06d}"
        s = with_luhn(tac + f"{rng.randint(0, 999_999):06d}")
        if not is_valid_id15(s):  # keep it from also reading as a legacy ID
            return s


def mac_address(rng: random.Random) -> str:
    octets = [rng.randint(0, 255) for _ in range(6)]
    octets[0] &= 0xFC
    if rng.random() < 0.1:
        h = "".join(f"{o:02x}" for o in octets)
        return f"{h[0:4]}.{h[4:8]}.{h[8:12]}"
    fmt = "{:02X}" if rng.random() < 0.55 else "{:02x}"
    return rng.choice([":", ":", "-"]).join(fmt.format(o) for o in octets)


# ---------------------------------------------------------------------------------------------
# Addresses and coordinates

CITY_DISTRICTS = {
    "北京市": ["朝阳区", "海淀区", "东城区", "西城区", "丰台区", "石景山区", "通州区", "昌平区", "大兴区", "顺义区"],
    "上海市": ["浦东新区", "徐汇区", "静安区", "黄浦区", "长宁区", "普陀区", "虹口区", "杨浦区", "闵行区", "宝山区"],
    "广州市": ["天河区", "越秀区", "海珠区", "荔湾区", "白云区", "番禺区"],
    "深圳市": ["福田区", "南山区", "罗湖区", "宝安区", "龙岗区", "龙华区"],
    "杭州市": ["西湖区", "拱墅区", "上城区", "滨江区", "余杭区", "萧山区"],
    "成都市": ["武侯区", "锦江区", "青羊区", "金牛区", "成华区"],
    "武汉市": ["江汉区", "江岸区", "武昌区", "洪山区", "汉阳区"],
    "南京市": ["鼓楼区", "玄武区", "秦淮区", "建邺区", "江宁区"],
    "西安市": ["雁塔区", "碑林区", "莲湖区", "未央区", "新城区"],
    "重庆市": ["渝中区", "江北区", "南岸区", "沙坪坝区", "九龙坡区", "渝北区"],
    "天津市": ["和平区", "河西区", "南开区", "河东区", "红桥区"],
    "济南市": ["历下区", "市中区", "槐荫区", "天桥区"],
    "沈阳市": ["和平区", "沈河区", "皇姑区", "铁西区"],
}
ROAD_STEMS = ["人民", "解放", "建设", "中山", "长江", "黄河", "新华", "胜利", "和平", "东风", "光明", "团结", "文化",
              "学院", "科技", "育才", "工农", "幸福", "迎宾", "滨河", "建国", "复兴", "延安", "淮海", "天河", "珠江",
              "青年", "红旗", "友谊", "朝阳", "安定", "花园", "劳动", "振兴", "五一", "八一", "金融", "商业", "车站",
              "体育", "银河", "星光", "望京", "安贞", "知春", "中关村", "凤凰", "金桥", "张杨", "世纪", "锦绣", "紫荆",
              "丁香", "玉兰", "梧桐", "桂花", "翠柏", "北四环", "西三环", "东二环", "德胜门外", "广渠门内", "芙蓉",
              "南湖", "西湖", "东湖", "金沙", "望江", "临江", "滨江", "高新", "创业", "环城"]
ROAD_SUFFIXES = ["路", "路", "路", "大街", "街", "大道", "东路", "西路", "南路", "北路", "中路", "一路", "二路", "巷"]
COMPOUND_STEMS = ["幸福", "阳光", "金色", "翠微", "碧水", "锦绣", "望京", "世纪", "东湖", "和谐", "梧桐", "丽都", "桃园",
                  "红旗", "水岸", "龙湖", "华润", "保利", "绿地", "馨园", "怡景", "名仕", "紫金", "芳草", "康乐", "富力",
                  "金地", "雅居", "春晓", "枫林", "清华", "滨江", "天悦", "恒大", "新城", "棕榈", "蓝湾", "翡翠"]
COMPOUND_SUFFIXES = ["小区", "家园", "花园", "苑", "新村", "社区", "公寓", "华庭", "名居", "雅苑", "嘉园", "城",
                     "新苑", "佳园", "国际"]
BUILDING_NAMES = ["国贸大厦", "金融中心", "科技大厦", "创业大厦", "时代广场", "发展大厦", "华远商务中心", "中信大厦",
                  "数码大厦", "财富中心", "环球中心", "银泰中心", "嘉里大厦", "世贸写字楼", "海航大厦", "新华大厦"]
RURAL = [
    ("河北省保定市", ["易县", "涞水县", "阜平县", "唐县", "顺平县"]),
    ("四川省成都市", ["大邑县", "蒲江县", "金堂县"]),
    ("浙江省湖州市", ["安吉县", "德清县", "长兴县"]),
    ("河南省洛阳市", ["嵩县", "栾川县", "汝阳县", "宜阳县"]),
    ("安徽省合肥市", ["长丰县", "肥西县", "肥东县", "庐江县"]),
    ("山东省济南市", ["平阴县", "商河县"]),
    ("云南省大理白族自治州", ["宾川县", "祥云县", "弥渡县"]),
    ("江西省赣州市", ["兴国县", "于都县", "宁都县"]),
    ("广西壮族自治区桂林市", ["阳朔县", "灵川县", "兴安县"]),
    ("湖北省黄冈市", ["红安县", "罗田县", "英山县"]),
    ("甘肃省天水市", ["秦安县", "甘谷县", "武山县"]),
]
TOWN_STEMS = ["城关", "西陵", "安仁", "永兴", "清河", "石桥", "大王", "新店", "柳泉", "双河", "龙门", "三合", "白马",
              "桥头", "东坝", "官庄", "黄土", "杨柳", "高桥", "河口", "马头", "青龙", "太平", "红星", "长岭", "古城"]
VILLAGE_STEMS = ["忠义", "永兴", "前进", "光明", "东风", "红旗", "新民", "胜利", "和平", "张庄", "李庄", "王营", "刘屯",
                 "何家", "赵家", "周家湾", "陈家坝", "上河", "下河", "南坪", "北坡", "石门", "杏花", "桃源", "柳树",
                 "大槐树", "五里", "七里", "双塔", "新华"]
CN_NUM = "一二三四五六七八九十"


def _room(rng: random.Random) -> str:
    floor = rng.choices([rng.randint(1, 6), rng.randint(7, 33)], [3, 2])[0]
    room = f"{floor}{rng.randint(1, 4):02d}"
    return room + rng.choice(["室", "室", "室", "", "", "号"])


def _road(rng: random.Random) -> str:
    suffix = rng.choice(ROAD_SUFFIXES)
    num = rng.choice([rng.randint(1, 120), rng.randint(1, 400), rng.randint(1, 1999)])
    pre = rng.choice(["甲", "乙"]) if rng.random() < 0.04 else ""
    return f"{rng.choice(ROAD_STEMS)}{suffix}{pre}{num}号"


def _compound(rng: random.Random) -> str:
    if rng.random() < 0.12:
        return rng.choice(["安贞里", "和平里", "团结湖", "劲松", "方庄芳城园", "六里屯"]) + "小区"
    return rng.choice(COMPOUND_STEMS) + rng.choice(COMPOUND_SUFFIXES)


def _building_unit_room(rng: random.Random) -> str:
    b = rng.randint(1, 32)
    bld = rng.choice([f"{b}号楼", f"{b}栋", f"{b}幢", f"{b}号楼", f"{rng.choice('ABCDE')}座"])
    unit = f"{rng.randint(1, 6)}单元" if rng.random() < 0.8 else ""
    return bld + unit + _room(rng)


def _city_district(rng: random.Random, p_city: float, p_district: float) -> str:
    city = rng.choice(list(CITY_DISTRICTS))
    district = rng.choice(CITY_DISTRICTS[city])
    out = ""
    if rng.random() < p_district:
        out = district
        if rng.random() < p_city:
            out = city + out
    return out


def rural_address(rng: random.Random) -> str:
    pref, counties = rng.choice(RURAL)
    head = (pref if rng.random() < 0.5 else "") + rng.choice(counties)
    town = rng.choice(TOWN_STEMS) + rng.choice(["镇", "镇", "乡"])
    village = rng.choice(VILLAGE_STEMS) + "村"
    g = rng.randint(1, 10)
    tail = rng.choice([f"{g}组", f"{CN_NUM[g - 1]}组", f"{CN_NUM[g - 1]}组{rng.randint(1, 60)}号", f"{rng.randint(1, 200)}号",
                       f"{g}组{rng.randint(1, 60)}号", f"第{CN_NUM[g - 1]}村民小组"])
    return head + town + village + tail


def address(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.25:
        return _city_district(rng, 0.25, 0.7) + _compound(rng) + _building_unit_room(rng)
    if r < 0.45:
        base = _city_district(rng, 0.35, 0.75) + _road(rng)
        return base + (_compound(rng) + _building_unit_room(rng) if rng.random() < 0.5 else "")
    if r < 0.58:
        b = rng.randint(1, 20)
        return (_city_district(rng, 0.2, 0.5) + _road(rng)[:-1] + "号院" + f"{b}{rng.choice(['栋', '号楼', '栋'])}"
                + f"{rng.randint(1, 4)}单元" + _room(rng))
    if r < 0.73:
        return rural_address(rng)
    if r < 0.83:
        return _city_district(rng, 0.3, 0.8) + _road(rng) + rng.choice(BUILDING_NAMES) + _room(rng)
    b = rng.randint(1, 30)
    return (_city_district(rng, 0.1, 0.4) + rng.choice(COMPOUND_STEMS) + rng.choice(["家园", "花园", "新村", "苑"])
            + f"{b}{rng.choice(['幢', '栋', '号楼'])}{rng.randint(1, 5)}单元{_room(rng)}")


CITY_CENTRES = [(116.397128, 39.916527), (121.473701, 31.230416), (113.264385, 23.129112), (114.057868, 22.543099),
                (120.155070, 30.274085), (104.065735, 30.659462), (114.305393, 30.593099), (108.940174, 34.341568),
                (118.796877, 32.060255), (106.551556, 29.563009), (117.200983, 39.084158), (117.000923, 36.675807)]


def coordinates(rng: random.Random) -> str:
    lon0, lat0 = rng.choice(CITY_CENTRES)
    lon = f"{lon0 + rng.uniform(-0.2, 0.2):.6f}"
    lat = f"{lat0 + rng.uniform(-0.2, 0.2):.6f}"
    return rng.choice([
        f"经度{lon}，纬度{lat}", f"经度{lon}，纬度{lat}", f"经度：{lon}，纬度：{lat}", f"东经{lon}°，北纬{lat}°",
        f"纬度{lat}，经度{lon}", f"经度{lon}、纬度{lat}",
    ])


def coordinate_pair(rng: random.Random) -> str:
    lon0, lat0 = rng.choice(CITY_CENTRES)
    lon, lat = f"{lon0 + rng.uniform(-0.2, 0.2):.6f}", f"{lat0 + rng.uniform(-0.2, 0.2):.6f}"
    return rng.choice([f"{lon},{lat}", f"{lat}, {lon}", f"{lon}, {lat}"])


# ---------------------------------------------------------------------------------------------
# Filler (no personal information)

UNITS = ["安贞派出所", "和平里派出所", "望京派出所", "小关派出所", "北新桥派出所", "南湖派出所", "城关派出所", "东关派出所",
         "江汉路派出所", "五里店派出所", "石牌派出所", "花园桥派出所", "交警一大队", "交警三大队", "城管执法中队",
         "巡特警支队", "街道综治中心", "刑侦大队", "治安大队", "社区警务室"]
PLACES = ["东门", "小区北门", "地铁2号线西直门站B口", "人民路与解放路交叉口", "市第一人民医院急诊科", "万达广场地下停车场",
          "中山公园南门", "火车站北广场", "第三中学门口", "农贸市场", "江边步道", "高速收费站", "沿江大道桥下", "公交站台",
          "长途汽车站", "体育中心西侧", "菜市场入口", "步行街", "加油站", "地下通道", "学校操场", "商场三楼", "网吧门口",
          "夜市摊位", "建设路口", "滨河公园", "立交桥下", "便利店门口", "写字楼大堂", "医院门诊楼", "快递驿站",
          "健身房更衣室", "KTV包间", "银行营业厅", "小区地下车库", "村口小卖部", "老旧小区楼道", "城中村巷口",
          "王府井步行街", "马家堡地铁站", "周庄古镇入口", "黄浦江边", "张家湾公交站", "石景山游乐园", "高碑店收费站"]
VEHICLES = ["白色丰田轿车", "黑色大众轿车", "银色本田SUV", "红色电动车", "蓝色货车", "灰色面包车", "黑色摩托车",
            "白色比亚迪新能源车", "绿色出租车", "黄色校车", "黑色奥迪", "白色厢式货车", "银色五菱面包车", "橙色渣土车"]
ITEMS = ["手机", "钱包", "电动车", "笔记本电脑", "背包", "自行车", "金项链", "电动车电瓶", "快递包裹", "现金", "平板电脑", "行李箱"]
EVENTS = ["邻里纠纷", "盗窃案", "噪音扰民警情", "人员走失", "电信诈骗案", "打架斗殴", "消费纠纷", "醉酒滋事", "财物遗失",
          "家庭纠纷", "劳资纠纷", "求助警情", "可疑人员警情"]
NICKS = ["风中的蒲公英", "追光的人", "小太阳", "深海鱼", "老街坊", "晴天", "一只猫", "夜行者", "不吃香菜", "甜甜圈",
         "向日葵", "孤独的狼", "清风徐来", "大漠孤烟"]
MODELS = ["华为Mate 60", "iPhone 15", "小米14", "OPPO Reno10", "vivo X100", "荣耀Magic6", "iPhone 13", "华为P50"]
DEVICES = ["3号摄像头", "东门门禁控制器", "车库道闸", "楼道烟感", "B区监控", "卡口抓拍机", "NVR录像机", "人脸识别终端"]
DIRECTIONS = ["东", "南", "西", "北", "东南", "西北", "东北", "西南"]
HOTLINES = ["110", "120", "119", "122", "12345", "12315", "96110"]
RELATIONS = ["朋友", "同事", "同学", "邻居", "前男友", "表哥", "堂弟", "室友", "生意伙伴"]


def _time(rng: random.Random) -> str:
    y, m = rng.choice([2025, 2026]), rng.randint(1, 12)
    d, h, mi = rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59)
    part, h12 = rng.choice([("上午", rng.randint(8, 11)), ("下午", rng.randint(1, 5)), ("晚上", rng.randint(7, 11)),
                            ("凌晨", rng.randint(1, 5)), ("中午", 12)])
    return rng.choice([
        f"{y}年{m}月{d}日{h}时{mi}分", f"{m}月{d}日{h}时许", f"当日{part}{h12}时许", f"今日{part}{h12}时{mi}分",
        f"{y}-{m:02d}-{d:02d} {h:02d}:{mi:02d}", f"昨晚{rng.randint(7, 11)}时许", f"{m}月{d}日凌晨{rng.randint(1, 5)}时",
        f"{m}月{d}日{part}",
    ])


def _date(rng: random.Random) -> str:
    y, m, d = rng.choice([2025, 2026]), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice([f"{y}年{m}月{d}日", f"{m}月{d}日", f"{y}-{m:02d}-{d:02d}", f"{y}年{m}月{d}日"])


def _hour(rng: random.Random) -> str:
    h = rng.randint(0, 23)
    return rng.choice([f"{h}时", f"{h}时{rng.randint(1, 59)}分", f"{h}时许", f"凌晨{rng.randint(1, 5)}时"])


def _amount(rng: random.Random) -> str:
    v = rng.choice([rng.randint(50, 999), rng.randint(1000, 50000), rng.randint(1, 300) * 100])
    return f"{v:,}" if v >= 10000 and rng.random() < 0.3 else str(v)


def _case_no(rng: random.Random) -> str:
    y = rng.choice([2025, 2026])
    return rng.choice([
        f"京公(朝)行罚决字〔{y}〕{rng.randint(100, 9999)}号", f"沪公(浦)立字〔{y}〕{rng.randint(100, 9999)}号",
        f"粤公(天)受案字〔{y}〕{rng.randint(100, 9999)}号", f"城管罚字〔{y}〕第{rng.randint(10, 999)}号",
    ])


FILLERS = {
    "TIME": _time, "DATE": _date, "HOUR": _hour, "AMT": _amount, "CASE": _case_no,
    "LOC": lambda r: r.choice(PLACES), "UNIT": lambda r: r.choice(UNITS), "VEH": lambda r: r.choice(VEHICLES),
    "ITEM": lambda r: r.choice(ITEMS), "EVENT": lambda r: r.choice(EVENTS), "NICK": lambda r: r.choice(NICKS),
    "MODEL": lambda r: r.choice(MODELS), "DEVICE": lambda r: r.choice(DEVICES), "DIR": lambda r: r.choice(DIRECTIONS),
    "HOTLINE": lambda r: r.choice(HOTLINES), "REL": lambda r: r.choice(RELATIONS), "SEX": lambda r: r.choice("男女"),
    "N": lambda r: str(r.randint(2, 9)), "AGE": lambda r: str(r.randint(16, 86)), "N4": lambda r: f"{r.randint(0, 9999):04d}",
    "OLD": lambda r: str(r.randint(68, 92)), "KID": lambda r: str(r.randint(4, 15)),
    "SUR": lambda r: r.choice(COMMON_SURNAMES[:80]),
    "BAC": lambda r: str(r.randint(21, 160)),
}

# ---------------------------------------------------------------------------------------------
# Entity slots: name -> (type, value maker)

ENTITY_SLOTS = {
    "ID": ("ID_NUMBER", lambda r: id18(r) if r.random() < 0.8 else id15(r)),
    "ID18": ("ID_NUMBER", id18), "ID15": ("ID_NUMBER", id15),
    "MOB": ("PHONE", mobile),
    "PLATE": ("PLATE", plate), "CARD": ("BANK_CARD", bank_card), "EMAIL": ("EMAIL", email),
    "IP": ("IP_ADDRESS", ip_address), "IP4": ("IP_ADDRESS", ipv4), "IP6": ("IP_ADDRESS", ipv6),
    "PASS": ("PASSPORT", passport), "HK": ("TRAVEL_PERMIT", hk_macao_permit), "TW": ("TRAVEL_PERMIT", taiwan_permit),
    "HX": ("TRAVEL_PERMIT", home_return_permit), "TBZ": ("TRAVEL_PERMIT", taiwan_compatriot_permit),
    "VIN": ("VIN", vin), "IMEI": ("IMEI", imei), "MAC": ("MAC_ADDRESS", mac_address),
    "ADDR": ("ADDRESS", address), "RADDR": ("ADDRESS", rural_address),
    "COORD": ("COORDINATES", coordinates), "COORDP": ("COORDINATES", coordinate_pair),
}

_SLOT = re.compile(r"\{([A-Z][A-Z0-9]*)(?:#(\d))?\}")


class NoteWriter:
    """Appends text and labelled values, keeping the offset of every label as it goes."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._n = 0
        self.spans: list[tuple[str, int, int]] = []
        self.values: list[str] = []

    def text(self, s: str) -> None:
        self._parts.append(s)
        self._n += len(s)

    def entity(self, kind: str, value: str) -> None:
        if kind not in TYPES:
            raise ValueError(kind)
        self.spans.append((kind, self._n, self._n + len(value)))
        self.values.append(value)
        self.text(value)

    def result(self) -> tuple[str, list[tuple[str, int, int]]]:
        text = "".join(self._parts)
        for (kind, s, e), v in zip(self.spans, self.values):
            assert text[s:e] == v, (kind, v)
        return text, sorted(self.spans, key=lambda x: x[1])


def render(template: str, rng: random.Random, w: NoteWriter) -> None:
    people: dict[str, tuple[str, str]] = {}
    pos = 0
    for m in _SLOT.finditer(template):
        w.text(template[pos:m.start()])
        pos = m.end()
        slot, idx = m.group(1), m.group(2)
        if slot in ("P", "PM", "PF"):
            gender = {"P": None, "PM": "m", "PF": "f"}[slot]
            if idx is not None and idx in people:
                sur, given = people[idx]
            else:
                sur, given = person_name(rng, gender)
                if idx is not None:
                    people[idx] = (sur, given)
            w.entity("PERSON", sur + given)
        elif slot in ("PS", "PSF"):  # kin: a new person sharing the surname of person #idx
            sur = people[idx][0]
            gender = "f" if slot == "PSF" else "m"
            while (given := given_name(rng, gender, 1 if rng.random() < 0.3 else 2)) == people[idx][1] \
                    or sur + given in _NOT_NAMES:
                pass
            w.entity("PERSON", sur + given)
        elif slot == "SUR" and idx is not None:
            w.text(people[idx][0])
        elif slot in ("TEL", "PHONE"):
            if slot == "PHONE" and rng.random() < 0.7:
                w.entity("PHONE", mobile(rng))
            else:
                num, ext = landline(rng)
                w.entity("PHONE", num)
                w.text(ext)
        elif slot in ENTITY_SLOTS:
            kind, make = ENTITY_SLOTS[slot]
            w.entity(kind, make(rng))
        elif slot in FILLERS:
            w.text(FILLERS[slot](rng))
        else:
            raise KeyError(f"unknown slot {slot} in {template!r}")
    w.text(template[pos:])


# ---------------------------------------------------------------------------------------------
# Sentence shapes

OPENINGS = [
    "{TIME}，{UNIT}接110指令：", "{TIME}，{UNIT}接群众报警。", "【警情摘要】", "接警记录（{UNIT}）：",
    "{DATE}{HOUR}许，{LOC}发生一起{EVENT}。", "{TIME}，{LOC}发生{EVENT}。", "出警情况：", "{UNIT}处警反馈：",
    "12345热线转办工单：", "续报：", "{DATE}，{UNIT}受理一起{EVENT}。", "网格巡查日志（{DATE}）：",
]
CLOSINGS = [
    "现场已处置完毕。", "案件正在进一步调查中。", "已告知当事人依法享有的权利和义务。", "已录入警情系统，{N}日内回访。",
    "双方均表示无异议。", "民警已制作询问笔录。", "相关视频已调取备查。", "已移交{UNIT}继续处理。", "暂无人员受伤。",
    "后续情况待续报。", "当事人情绪稳定。", "案件编号：{CASE}。",
]

SHAPES = [
    # people in roles that a short cue-word list would not cover
    "据目击者{P}描述，嫌疑人逃往{LOC}方向。",
    "{PM}驾驶{PLATE}于{HOUR}离开{LOC}。",
    "请联系{UNIT}民警{P}，电话{TEL}。",
    "涉事人员{P}（身份证{ID}）已离开现场。",
    "报警人{P#1}称其{ITEM}在{LOC}被盗，{SUR#1}某情绪稳定。",
    "辅警{P}与{P}到场处置。",
    "{P}、{P}和{P}三人在{LOC}发生口角，经调解已和解。",
    "值班员{P}于{TIME}接到{P}的求助电话（{MOB}）。",
    "店主{P#1}表示当晚共有{N}名顾客在店内，{SUR#1}老板已提供监控录像。",
    "保安{PM}报称，{LOC}停放的{PLATE}车窗被砸。",
    "司机{PM}（{AGE}岁，手机{MOB}）称车辆刹车失灵。",
    "房东{P}反映租客{P}已拖欠房租{N}个月，租客现住{ADDR}。",
    "网格员{P}在巡查中发现{LOC}有违规搭建，业主{P}联系电话{PHONE}。",
    "同事{P}陪同当事人{P}前往医院就诊。",
    "邻居{P}称听到{ADDR}内有争吵声。",
    "{PM#1}报称其子{PS#1}（{KID}岁）放学后未归，身穿蓝色校服。",
    "老人{P}（{OLD}岁）在{LOC}摔倒，其女{PF}已赶到。",
    "学生{P}放学后未归，其母亲{PF}报警，联系电话{MOB}。",
    "外卖员{PM}驾驶电动车与{PLATE}发生碰撞，双方车辆受损。",
    "快递员{P}称包裹收件人为{P}，收件地址{ADDR}，电话{MOB}。",
    "经查，“{P}”系化名，其真实姓名为{P}。",
    "当事人（{P}）拒绝在笔录上签字。",
    "【{P}】{TIME}来所反映情况。",
    "{P}警官、{P}警官和辅警{P}参与了现场勘查。",
    "出租车司机{SUR}师傅称乘客{P}在{LOC}下车后未付车费。",
    "嫌疑人{PM}，男，{AGE}岁，身份证号码{ID}，户籍地址{ADDR}。",
    "受害人{PF}，女，{AGE}岁，现住{ADDR}，手机号{MOB}。",
    "{P}表示自己当时在{LOC}，并未离开。",
    "{P}报称其父亲{PM}已两日未归。",
    "经民警{P}核实，{P}所述属实。",
    "持卡人{P}称其尾号{N4}的银行卡被盗刷{AMT}元，卡号{CARD}。",
    "退款银行卡号{CARD}，持卡人{P}。",
    "请将材料发送至{EMAIL}，联系人{P}。",
    "该账号登录IP为{IP}，绑定邮箱{EMAIL}。",
    "监控显示，{PLATE}于{TIME}驶入{LOC}，车主{P}。",
    "车辆识别代号{VIN}，号牌{PLATE}，登记车主{P}。",
    "被盗手机为{MODEL}，IMEI：{IMEI}，机主{P}。",
    "手机串号{IMEI}已提交运营商协查。",
    "路由器MAC地址{MAC}，接入IP {IP4}。",
    "持护照{PASS}入境的{P}于{DATE}离开本市。",
    "{P}出示往来港澳通行证{HK}。",
    "台湾居民{P}持台胞证{TBZ}办理住宿登记。",
    "港澳居民{P}，回乡证号码{HX}。",
    "往来台湾通行证{TW}，持证人{P}。",
    "报警位置：{COORD}。",
    "定位坐标{COORDP}，误差约{N}0米。",
    "{P}、{P}两人于{TIME}在{ADDR}门口发生纠纷。",
    "据{P}反映，{LOC}附近有可疑人员徘徊。",
    "目击者{P}和{P}均表示看到一辆{VEH}（{PLATE}）闯红灯。",
    "涉事车辆{PLATE}，驾驶人{P}，驾驶证号{ID18}。",
    "工作人员{P}已将情况告知业主{P}。",
    "{PM#1}醉酒后与家人争吵，其妻{PF}称{SUR#1}某有长期饮酒习惯。",
    "民警{P}联系上其家属{P}（{MOB}）。",
    "当事人{P}不服处罚，表示将申请行政复议。",
    "报警人：{P}；联系电话：{PHONE}；证件号码：{ID}；住址：{ADDR}。",
    "姓名：{P}，性别：{SEX}，身份证号：{ID18}，手机：{MOB}。",
    "{P}离开后，{P}随即拨打{HOTLINE}报警。",
    "保洁员{P}在{LOC}拾到钱包一个，内有{P}的身份证（{ID18}）及银行卡一张（{CARD}）。",
    "该车登记地址为{ADDR}，车主{P}电话{TEL}。",
    "调取{LOC}监控，发现{P}于{TIME}离开。",
    "{P}陪同其母{PF}到{UNIT}报案。",
    "经查，{P}名下另有车辆{PLATE}、{PLATE}两辆。",
    "经比对，嫌疑人使用的手机号{MOB}与{P}的登记信息一致。",
    "网名“{NICK}”的用户（实名{P}）在群内发布不实信息。",
    "业主{P}在群内称{ADDR}楼上漏水。",
    "物业经理{P}、保安队长{P}已配合调查。",
    "涉案网站服务器IP：{IP}，注册邮箱{EMAIL}。",
    "受害人{P}通过手机银行向对方账户{CARD}转账{AMT}元。",
    "对方自称“{SUR}经理”，使用号码{MOB}与{P}联系。",
    "教练{P}带领学员{P}在{LOC}练车时与{PLATE}剐蹭。",
    "环卫工人{P}称，{TIME}看到一名男子从{ADDR}出来。",
    "现场遗留手机一部，串号{IMEI}，经查机主为{P}，身份证号{ID}。",
    "旅客{P}（港澳通行证{HK}）在{LOC}遗失行李。",
    "网约车司机{PM}，车牌{PLATE}，平台登记手机{MOB}。",
    "门岗登记：访客{P}，来访{ADDR}，车辆{PLATE}。",
    "该摄像头IP地址{IP4}，MAC {MAC}，安装于{LOC}。",
    "{P}的电子邮箱{EMAIL}收到钓鱼邮件。",
    "村民{P}反映，{RADDR}附近河道有人非法采砂。",
    "经走访，{P}一家现居{ADDR}。",
    "送餐地址{ADDR}，收件人{P}，电话{MOB}。",
    "社区民警{P}已上门核实，{P}本人确认。",
    "涉事企业法人{P}，办公电话{TEL}。",
    "报案人{P}提供的定位为{COORD}。",
    "无人机起飞点{COORD}，操作人{P}。",
    "{P}在{LOC}附近的ATM机取款时银行卡（{CARD}）被吞。",
    "{SUR}某（{AGE}岁）与{P}系{REL}关系。",
    "在场人员：{P}、{P}、{P}、{P}。",
    "其子{PM}称父亲{PM}患有阿尔茨海默症，{TIME}独自出门。",
    "当晚值班的是民警{P}和辅警{P}。",
    "{P}驾驶的{VEH}（车架号{VIN}）在{LOC}自燃。",
    "车主{P}提供的车辆识别代码为{VIN}。",
    "指挥中心{P}通报：{PLATE}为套牌车辆。",
    "根据{P}提供的线索，民警在{ADDR}将{P}抓获。",
    "据{P}称，对方使用的微信绑定手机{MOB}。",
    "快递面单显示寄件人{P}，电话{MOB}，地址{ADDR}。",
    "经{P}同意，民警查看了其手机（IMEI {IMEI}）。",
    "当事人{P}的台湾居民来往大陆通行证（台胞证）号码{TBZ}。",
    "{P}于{DATE}持往来台湾通行证{TW}出境。",
    "航空公司提供的旅客信息：{P}，护照号{PASS}，联系电话{MOB}。",
    "出入境记录显示{P}（{PASS}）于{DATE}入境。",
    "学生家长{PF}、{PM}到校反映情况。",
    "家属{P}要求查看{LOC}的监控录像。",
    "{DEVICE}的MAC为{MAC}，最后在线IP {IP}。",
    "来电号码{PHONE}，来电人自称{P}。",
    "该手机号实际使用人为其{REL}{P}。",
    "涉嫌酒驾的{P}血液酒精含量为{BAC}mg/100ml。",
    "清障员{P}将{PLATE}拖离至停车场。",
    "市民{P}反映{ADDR}楼下餐馆油烟扰民，回复电话{PHONE}。",
    "居委会主任{P}、楼长{P}协助疏散居民。",
    "“{P}”（{AGE}岁）因涉嫌盗窃被刑事拘留。",
    "监控拍到{P}的电动车停在{ADDR}楼下。",
    "车辆{PLATE}（VIN:{VIN}）登记在{P}名下。",
    "办公室固定电话{TEL}，联系人{P}。",
    "微信转账记录显示收款人{P}，绑定银行卡{CARD}。",
    "上网日志：{IP}登录，终端MAC {MAC}，实名登记人{P}。",
    "{PM}师傅将{PLATE}停在消防通道，经劝导已驶离。",
    "被困人员{P}（{MOB}）已被消防救出。",
    "{P}向民警提供了其{REL}{P}的住址{ADDR}。",
    "{PF}报称其丈夫{PM}手机（{MOB}）无法接通。",
    "{P}反映，{SUR}师傅的货车长期占用{LOC}车位。",
    "王某等三人与{P}因停车问题发生争执。",
    "值班员{P}交班时称，{LOC}门禁于{HOUR}被破坏。",
    "房东{P}提供的租客身份证号为{ID}，电话{MOB}。",
    "{P}、{P}夫妇在{LOC}走失的孩子已找到。",
    "涉事车辆VIN {VIN}，发动机舱有改装痕迹。",
    "邮件发件人{EMAIL}，收件人{EMAIL}。",
    "登录记录：{DATE}，IP {IP}，设备串号{IMEI}。",
    "民警{P}使用执法记录仪全程录像，当事人{P}在场。",
    "{P}称其护照（{PASS}）在{LOC}丢失。",
    "外籍人员陪同翻译{P}，手机{MOB}。",
    "回乡证{HX}的持证人{P}入住{ADDR}。",
    "港澳通行证号{HK}，签注有效期至{DATE}。",
    "收款账户{CARD}（户名{P}）已被冻结。",
    "{P}将车辆{PLATE}借给{REL}{P}使用。",
    "住户{P}（{ADDR}）反映楼道堆放杂物。",
    "快递员{P}、外卖员{P}均称未见异常。",
    "{P}离开{LOC}后，其手机{MOB}一直处于关机状态。",
    "{P}名下的{MODEL}（{IMEI}）已被远程锁定。",
    "扣押{VEH}一辆（{VIN}），车主{P}称车辆系借用。",
    "证件号{ID15}的持有人{P}已于{DATE}注销户籍。",
    "其妻{PF}陪同{PM}到{UNIT}说明情况。",
    "{PF}（{ID}）与{PM}（{ID}）系夫妻关系，现住{ADDR}。",
    "{P}的护照号码{PASS}，有效期至{DATE}。",
    "无线接入日志：终端{MAC}（{MODEL}），使用人{P}。",
]

# ---------------------------------------------------------------------------------------------
# Near misses: no personal information, but surnames, numbers and codes that look like some


def _fail_luhn(rng: random.Random, n: int, prefix: str = "") -> str:
    while True:
        s = prefix + "".join(str(rng.randint(0, 9)) for _ in range(n - len(prefix)))
        if s[0] != "0" and not luhn_valid(s) and not is_valid_id18(s) and not is_valid_id15(s):
            return s


def _bad_id18(rng: random.Random) -> str:
    while True:
        good = id18(rng)
        wrong = rng.choice([c for c in "0123456789" if c != good[17]])
        s = good[:17] + wrong
        if not luhn_valid(s):
            return s


def _bad15(rng: random.Random) -> str:
    while True:
        s = f"{rng.randint(1, 9)}{rng.randint(0, 99999):05d}{rng.randint(0, 99):02d}{rng.randint(13, 99):02d}" \
            f"{rng.randint(0, 99999):05d}"
        if not luhn_valid(s) and not is_valid_id15(s):
            return s


def _bad_vin(rng: random.Random) -> str:
    if rng.random() < 0.5:
        v = vin(rng)
        wrong = rng.choice([c for c in "0123456789X" if c != v[8]])
        return v[:8] + wrong + v[9:]
    v = list(vin(rng))  # I, O or Q inside
    v[rng.choice([3, 4, 5, 6, 7, 10])] = rng.choice("IOQ")
    return "".join(v)


def _timestamp(rng: random.Random) -> str:
    return f"2026{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 23):02d}{rng.randint(0, 59):02d}" \
           f"{rng.randint(0, 59):02d}"


def _order(rng: random.Random) -> str:
    return rng.choice([
        lambda: "DD" + _timestamp(rng) + f"{rng.randint(0, 9999):04d}",
        lambda: _fail_luhn(rng, 19, "2026"),
        lambda: _fail_luhn(rng, 16, "3"),
        lambda: "WX" + f"{rng.randint(2 * 10**11, 10**12 - 1)}",
        lambda: "GD" + _timestamp(rng)[:8] + f"{rng.randint(0, 99999):05d}",
    ])()


def _waybill(rng: random.Random) -> str:
    return rng.choice([
        lambda: "SF" + f"{rng.randint(10**12, 10**13 - 1)}",
        lambda: "YT" + f"{rng.randint(10**12, 10**13 - 1)}",
        lambda: "JDVA" + f"{rng.randint(2 * 10**10, 10**11 - 1)}",
        lambda: "77" + f"{rng.randint(10**10, 10**11 - 1)}",
        lambda: "75" + f"{rng.randint(10**11, 10**12 - 1)}",
    ])()


def _hash(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(rng.choice([32, 40, 64])))


def _serial(rng: random.Random) -> str:
    alnum = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    return rng.choice([
        lambda: "SN" + "".join(rng.choice(alnum) for _ in range(10)),
        lambda: "DS-2CD" + str(rng.randint(2000, 3999)) + "FWD-I",
        lambda: "".join(rng.choice(alnum) for _ in range(rng.choice([9, 11, 13]))),
        lambda: f"CAM-{rng.randint(1, 9999):04d}-{rng.randint(1, 99):02d}",
        lambda: f"NVR{rng.randint(100, 999)}-{''.join(rng.choice(alnum) for _ in range(6))}",
    ])()


def _version(rng: random.Random) -> str:
    return rng.choice([
        f"v{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 30)}",
        f"V{rng.randint(1, 5)}.{rng.randint(0, 9)}.{rng.randint(0, 9)} build {rng.choice([2024, 2025, 2026])}{rng.randint(1, 12):02d}"
        f"{rng.randint(1, 28):02d}",
        f"{rng.randint(1, 12)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(1000, 9999)}",
        f"{rng.randint(1, 3)}.{rng.randint(0, 12)}.{rng.randint(0, 40)}-rc{rng.randint(1, 5)}",
    ])


def _clock(rng: random.Random) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"


def _room_only(rng: random.Random) -> str:
    n = f"{rng.randint(1, 9)}{rng.randint(1, 20):02d}"
    return rng.choice([f"会议室{n}", f"{n}会议室", f"{rng.randint(2, 9)}楼监控室", f"第{rng.randint(1, 9)}审讯室",
                       "值班室", f"{n}调解室", "大会议室"])


def _uscc(rng: random.Random) -> str:
    alnum = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return "91" + rng.choice(AREA_CODES) + "MA" + "".join(rng.choice(alnum) for _ in range(8))


def _masked_phone(rng: random.Random) -> str:
    return f"{rng.choice(MOBILE_PREFIXES)}****{rng.randint(0, 9999):04d}"


def _masked_id(rng: random.Random) -> str:
    return f"{rng.choice(AREA_CODES)}********{rng.randint(0, 9999):04d}"


SHOPS = ["老王烧烤", "李记面馆", "张氏修车行", "刘家小馆", "陈记粥铺", "周记煲仔饭", "黄家私房菜", "赵家铺子", "孙记五金",
         "吴家包子铺", "郑氏推拿", "马大姐水饺", "杨记凉皮", "胡记烧饼", "林记海鲜排档", "徐家酱鸭", "何记牛杂", "老高快修",
         "罗记螺蛳粉", "郭氏正骨", "韩记手擀面", "钱记米线"]
PLACE_WORDS = ["张家口", "王府井", "石家庄", "黄浦江", "周庄", "马家堡", "高碑店", "金山岭", "白洋淀", "孟津", "宋庄", "常熟",
               "温州", "江阴", "安庆", "方庄", "梁山", "何园", "曹妃甸", "许昌", "吴江", "韩城", "冯村桥", "石景山",
               "秦皇岛", "杜家坎", "宁波", "黎平", "田林", "邓州", "叶县", "胡同口", "潘家园", "于家堡", "崔各庄"]
HOTLINE_NUMBERS = ["400-810-8888", "800-820-8820", "95588", "95533", "95566", "12345", "10086", "12315", "110", "120",
                   "119", "122", "400-660-0000", "400-100-5678", "95555", "12306", "10010"]

NEAR_FILLERS = {
    "BADID18": _bad_id18, "BAD16": lambda r: _fail_luhn(r, 16, r.choice(["62", "43", "58"])), "BAD15": _bad15,
    "NUM20": lambda r: _fail_luhn(r, 20), "BADVIN": _bad_vin, "TS": _timestamp, "ORDER": _order, "WAYBILL": _waybill,
    "HASH": _hash, "SERIAL": _serial, "VER": _version, "CLOCK": _clock, "ROOM": _room_only, "USCC": _uscc,
    "MPHONE": _masked_phone, "MID": _masked_id, "SHOP": lambda r: r.choice(SHOPS), "PW": lambda r: r.choice(PLACE_WORDS),
    "HL": lambda r: r.choice(HOTLINE_NUMBERS), "N3": lambda r: str(r.randint(100, 999)),
    "N6": lambda r: f"{r.randint(0, 999999):06d}", "N8": lambda r: f"{r.randint(10**7, 10**8 - 1)}",
    "N12": lambda r: f"{r.randint(10**11, 10**12 - 1)}", "TEMP": lambda r: f"{r.randint(-10, 39)}.{r.randint(0, 9)}",
    "PCT": lambda r: f"{r.randint(1, 99)}.{r.randint(0, 9)}",
}

NEAR_MISSES = [
    "车辆沿{PW}方向高速行驶，{DIR}侧车道拥堵。", "{SHOP}门前{VEH}违停，已贴单告知。", "请拨打服务热线{HL}咨询。",
    "订单号{ORDER}已完成退款，金额{AMT}元。", "运单号{WAYBILL}显示包裹已签收。", "系统时间戳{TS}，事件类型：越线。",
    "设备序列号{SERIAL}，固件版本{VER}。", "文件校验值{HASH}。", "交易流水号{NUM20}，状态：成功。",
    "档案编号{BADID18}的记录校验失败，已退回。", "票据号码{BAD16}，作废。", "零件批次码{BADVIN}。",
    "数据包序号{BAD15}丢失，已重传。", "监控时间{CLOCK}，画面中无人员出现。", "执法文书{CASE}已依法送达。",
    "{ROOM}召开例会，传达上级文件精神。", "{SUR}师傅称车辆刚做过保养。", "{SUR}女士的诉求已转交相关部门。",
    "黄色预警已发布，周边道路积水，请注意安全。", "金额为{AMT}元的钱包已归还失主。", "{PW}方向高速拥堵{N}公里。",
    "王府井步行街人流量较大，已增派警力。", "黄浦江沿岸景观照明设施检修。", "周庄古镇游客量较昨日上升。",
    "马家堡路口信号灯故障，已报修。", "张家口方向车辆较多，请绕行。", "温度{TEMP}摄氏度，施工单位已做好防护。",
    "于是民警向东追赶，在路口将电动车拦下。", "任务编号T{N3}，程序版本{VER}。", "宋体小四号字打印文件{N}份。",
    "武警支队协助维持秩序。", "关于做好防寒工作的通知已下发。", "康复中心门口牛奶运输车左侧轮胎爆胎。",
    "白色面包车在林地边缘停放，车内无人。", "钱包内有现金{AMT}元及购物小票{N}张，未发现证件。",
    "常见诈骗手法：冒充客服、冒充公检法。", "江边石头上发现遗留衣物，已登记。", "{DATE} {CLOCK} 东门道闸抬杆{N3}次。",
    "IP摄像头固件升级至{VER}。", "金额合计{N}万元，已入账。", "方向盘锁已解除。", "高速公路K{N3}+{N3}处发生追尾，无人员伤亡。",
    "温馨提示：请勿在江边垂钓。", "短信验证码{N6}，5分钟内有效。", "出警记录：{TS}接警，{TS}到达现场。",
    "工单{ORDER}：路灯不亮，已派单维修。", "共享单车编号{N8}被损坏。", "航班CA{N3}1于{CLOCK}落地。",
    "列车G{N3}次晚点{N}分钟。", "发票号码{N8}，发票代码{N12}。", "药品批准文号国药准字H{N8}。",
    "统一社会信用代码{USCC}。", "温度传感器读数{TEMP}℃，湿度{PCT}%。", "邮编100020，请寄送至指定窗口。",
    "分机号{N3}暂停使用。", "手机号{MPHONE}（已脱敏）。", "身份证号{MID}（已脱敏）。", "张某、李某二人已被带回调查。",
    "{SUR}某某对处罚决定无异议。", "车牌识别系统误报率{PCT}%。", "充电桩编号{SERIAL}故障。", "{SHOP}今日停业整顿。",
    "{PW}附近发生轻微剐蹭，双方自行协商。", "石家庄方向来车较多。", "程序员反映公司拖欠工资。", "常规巡逻，未见异常。",
    "老{SUR}家的狗又跑出来了，已提醒看管。", "小{SUR}负责今晚的值班登记。", "时间：{CLOCK}，地点：{LOC}，事由：噪音扰民。",
    "方圆{N}公里内未发现可疑车辆。", "关于{PW}片区的消防检查已完成。", "武汉路与上海路交叉口信号灯倒计时异常。",
    "{LOC}的监控存储已满，需扩容至{N}TB。", "史上最强寒潮来袭，注意道路结冰。", "周边{N}个小区已完成燃气排查。",
    "施工围挡占用人行道，责令{N}日内整改。", "任务完成率{PCT}%，较上月提升。", "马路对面的便利店营业至{CLOCK}。",
    "林地防火期间严禁野外用火。", "万元以上的案件需报分局审批。", "金额不详，待核实。", "安全出口指示灯损坏。",
    "向东{N}00米即到派出所。", "路口东北角的井盖缺失。", "高速口临时管制至{CLOCK}。", "程序上需要补充材料。",
    "{SHOP}的老板称当晚没有客人。", "邮件系统版本{VER}已升级。", "版本号{VER}存在漏洞，已打补丁。",
    "快递单{WAYBILL}已退回寄件网点。", "{SUR}警官今日休假。", "{SUR}经理表示会尽快整改。", "案件编号{CASE}。",
    "{ROOM}内空调漏水。", "系统日志 {DATE} {CLOCK} 备份完成。", "卡口过车{N3}辆次，无布控车辆。",
    "车牌号码：未悬挂号牌。", "联系电话：见附件。", "身份证号码：（当事人未提供）。", "姓名：（不详），年龄约{AGE}岁。",
]


def near_miss(rng: random.Random) -> str:
    """One line with no personal information in it."""
    w = NoteWriter()
    shapes = rng.sample(NEAR_MISSES, rng.choice([1, 1, 2]))
    for template in shapes:
        pos = 0
        for m in _SLOT.finditer(template):
            w.text(template[pos:m.start()])
            pos = m.end()
            slot = m.group(1)
            maker = NEAR_FILLERS.get(slot) or FILLERS[slot]
            w.text(maker(rng))
        w.text(template[pos:])
    text, spans = w.result()
    assert not spans
    return text


def generate(rng: random.Random) -> tuple[str, list[tuple[str, int, int]]]:
    """One incident note and the spans of every piece of personal information written into it."""
    w = NoteWriter()
    if rng.random() < 0.4:
        render(rng.choice(OPENINGS), rng, w)
    for template in rng.sample(SHAPES, rng.choice([1, 2, 2, 2, 3, 3, 4])):
        render(template, rng, w)
    if rng.random() < 0.3:
        render(rng.choice(CLOSINGS), rng, w)
    return w.result()
