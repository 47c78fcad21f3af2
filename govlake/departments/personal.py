"""Synthetic personal information in Chinese formats, for sample feeds and labelled test corpora.

Every value is made up but valid in form: resident identity numbers carry a correct GB 11643
check digit, bank card numbers pass Luhn, mobile numbers use real mainland prefixes, plates follow
GA 36. `note` writes an event note and returns the character spans of what it embedded, so a
corpus built from it is labelled by construction, not by the recognizers it is used to test.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from govlake.pii.checksums import id_check_digit, luhn_digit

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞建国志文斌宇浩凯晨欣怡雪梅婷慧佳琳晓东海波俊峰"
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156",
                   "157", "158", "159", "166", "170", "173", "176", "177", "178", "180", "181", "182", "185", "186",
                   "187", "188", "189", "191", "195", "198", "199")
DISTRICTS = ("朝阳区", "海淀区", "东城区", "西城区", "丰台区", "石景山区", "通州区", "昌平区")
STREETS = ("建国路", "中关村大街", "学院路", "长安街", "望京街", "花园路", "光华路", "知春路", "安定路", "劲松路")
AREA_CODES = ("110101", "110105", "110108", "310104", "440305", "510107", "330106", "420106")
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # GA 36 excludes I and O
PLATE_CHARS = PLATE_LETTERS + "0123456789"


def id_number(rng: random.Random) -> str:
    """An 18-digit resident identity number (GB 11643) with a valid check digit."""
    birth = f"{rng.randrange(1950, 2006)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
    body = rng.choice(AREA_CODES) + birth + f"{rng.randrange(0, 1000):03d}"
    return body + id_check_digit(body)


def bank_card(rng: random.Random) -> str:
    body = rng.choice(("622202", "621700", "622848", "622588", "621483")) + "".join(rng.choice("0123456789") for _ in range(9))
    return body + luhn_digit(body)


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8))


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def address(rng: random.Random) -> str:
    return f"{rng.choice(DISTRICTS)}{rng.choice(STREETS)}{rng.randrange(1, 300)}号"


def plate(rng: random.Random) -> str:
    """A GA 36 plate: province + letter + 5 characters, or a new-energy plate with 6."""
    head = rng.choice(PROVINCES) + rng.choice(PLATE_LETTERS)
    if rng.random() < 0.2:  # small new-energy plate: D (electric) or F (hybrid), a letter or digit, 4 digits
        return head + rng.choice("DF") + rng.choice(PLATE_CHARS) + "".join(rng.choice("0123456789") for _ in range(4))
    return head + "".join(rng.choice(PLATE_CHARS) for _ in range(5))


@dataclass
class Note:
    text: str
    entities: list[tuple[str, int, int]] = field(default_factory=list)  # (type, start, end)


# Event note templates: {slot:TYPE} embeds a value of TYPE; other text is plain.
NOTE_TEMPLATES = (
    ("alarm", "intrusion", "区域入侵告警：禁区内检测到人员闯入，请值班人员核查。"),
    ("alarm", "crowd", "人群聚集告警，现场人数约{n}人，已通知属地派出所。"),
    ("alarm", "vehicle", "布控车辆{plate:PLATE}出现在卡口，行驶方向由东向西。"),
    ("report", "dispute", "报警人{name:PERSON}，电话{phone:PHONE}，称{addr:ADDRESS}附近有人发生纠纷。"),
    ("report", "accident", "{plate:PLATE}与电动车发生剐蹭，驾驶人{name:PERSON}（身份证号{id:ID_NUMBER}）已到场处理。"),
    ("report", "parking", "联系人{name:PERSON} {phone:PHONE}，反映车辆{plate:PLATE}长时间占用消防通道。"),
    ("report", "lost", "群众{name:PERSON}在{addr:ADDRESS}遗失银行卡，卡号{card:BANK_CARD}，已协助挂失。"),
    ("alarm", "fault", "设备离线告警，最近一次心跳超过{n}分钟。"),
)
VALUES = {"PLATE": plate, "PERSON": person_name, "PHONE": mobile, "ADDRESS": address, "ID_NUMBER": id_number, "BANK_CARD": bank_card}


def render(template: str, rng: random.Random) -> Note:
    """Fill a template's slots; record the span of every embedded personal value."""
    import re

    out, entities, pos = [], [], 0
    for m in re.finditer(r"\{(\w+)(?::(\w+))?\}", template):
        out.append(template[pos:m.start()])
        start = sum(len(s) for s in out)
        if m.group(2):
            value = VALUES[m.group(2)](rng)
            entities.append((m.group(2), start, start + len(value)))
        else:
            value = str(rng.randrange(3, 60))
        out.append(value)
        pos = m.end()
    out.append(template[pos:])
    return Note("".join(out), entities)


def note(rng: random.Random) -> tuple[str, str, Note]:
    """(event type, category, note) for one event."""
    kind, category, template = rng.choice(NOTE_TEMPLATES)
    return kind, category, render(template, rng)
