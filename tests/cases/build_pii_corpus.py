"""Build `pii_corpus.jsonl`: labelled values and free-text lines for the PII recognizers.

Labels come from construction (the generator knows what it embedded and where), never from the
recognizers under test. Near-misses (order numbers, 400 hotlines, timestamps, IDs with a wrong check
digit, Luhn failures, plate look-alikes) are labelled with no entities. Deterministic:
`python tests/cases/build_pii_corpus.py` rewrites the same file.
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from govlake.departments import personal as P  # noqa: E402

OUT = Path(__file__).with_name("pii_corpus.jsonl")


def value(kind, text, hint=""):
    return {"kind": "value", "hint": hint, "text": text, "entities": [[kind, 0, len(text)]] if kind else []}


def line(text, entities, kind="text"):
    return {"kind": kind, "hint": "", "text": text, "entities": [list(e) for e in entities]}


def fmt_phone(rng, p):
    style = rng.randrange(6)
    return [p, f"+86{p}", f"+86 {p}", f"{p[:3]}-{p[3:7]}-{p[7:]}", f"{p[:3]} {p[3:7]} {p[7:]}", f"86-{p}"][style]


def wrong_check(idn):
    body = idn[:17]
    return body + next(c for c in "0123456789X" if c != idn[17])


def bad_luhn(card):
    return card[:-1] + str((int(card[-1]) + 1) % 10)


def build(seed: int = 20261125) -> list[dict]:
    rng = random.Random(seed)
    rows: list[dict] = []
    # structured values, with and without a column-name hint
    for _ in range(40):
        rows.append(value("ID_NUMBER", P.id_number(rng), rng.choice(["", "身份证号", "id_no"])))
        rows.append(value("PHONE", fmt_phone(rng, P.mobile(rng)), rng.choice(["", "联系电话", "phone"])))
        rows.append(value("PLATE", P.plate(rng), rng.choice(["", "车牌号码", "plate_no"])))
    for _ in range(20):
        card = P.bank_card(rng)
        rows.append(value("BANK_CARD", card if rng.random() < 0.5 else " ".join(card[i:i + 4] for i in range(0, len(card), 4)), rng.choice(["", "卡号"])))
        user = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randrange(4, 10)))
        rows.append(value("EMAIL", f"{user}{rng.randrange(100)}@{rng.choice(['163.com', 'qq.com', 'gov.cn', 'example.org'])}"))
        rows.append(value("IP_ADDRESS", ".".join(str(rng.randrange(1, 255)) for _ in range(4))))
        rows.append(value("PERSON", P.person_name(rng), rng.choice(["姓名", "联系人", "name"])))
        rows.append(value("ADDRESS", P.address(rng), rng.choice(["", "地址"])))
        lon, lat = 116 + rng.random(), 39.5 + rng.random()
        rows.append(value("COORDINATES", f"{lon:.6f},{lat:.6f}"))
    for _ in range(8):
        rows.append(value("IP_ADDRESS", f"2001:db8:{rng.randrange(65535):x}::{rng.randrange(65535):x}"))
        rows.append(value("PLATE", P.plate(rng)[:2] + f"{rng.randrange(10000, 99999)}D"))  # large new-energy plate
    # free text: event notes with their labelled spans
    for _ in range(150):
        _, _, note = P.note(rng)
        rows.append(line(note.text, note.entities))
    # free text with several separators and mixed content
    for _ in range(30):
        name, phone, plate = P.person_name(rng), P.mobile(rng), P.plate(rng)
        shown = fmt_phone(rng, phone)
        text = f"车主{name}（手机{shown}）驾驶{plate}于路口闯红灯。"
        s1 = text.index(name); s2 = text.index(shown); s3 = text.index(plate)
        rows.append(line(text, [("PERSON", s1, s1 + len(name)), ("PHONE", s2, s2 + len(shown)), ("PLATE", s3, s3 + len(plate))]))
    # near-misses: no personal information
    for _ in range(20):
        rows.append(value(None, f"{rng.randrange(2019, 2027)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{rng.randrange(10**9, 10**10)}", "order_no"))  # 18-digit order number
        rows.append(value("PHONE", f"0{rng.choice(['10', '21', '755', '571'])}-{rng.randrange(20000000, 89999999)}", "座机"))  # landline
        rows.append(value(None, f"{rng.randrange(2019, 2027)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{rng.randrange(0, 24):02d}{rng.randrange(0, 60):02d}{rng.randrange(0, 60):02d}"))
        rows.append(value(None, str(rng.randrange(1600000000000, 1800000000000))))  # epoch ms
        rows.append(value(None, wrong_check(P.id_number(rng)), "身份证号"))
        rows.append(value(None, bad_luhn(P.bank_card(rng)), "卡号"))
        rows.append(value(None, f"{rng.choice(P.PROVINCES)}{rng.choice('IO')}{rng.randrange(10000, 99999)}"))  # I/O are not plate letters
        rows.append(value(None, f"1100000000{rng.randrange(10**9, 10**10)}"))  # 20-digit GB/T 28181 device id
        rows.append(value(None, f"v{rng.randrange(1, 9)}.{rng.randrange(0, 20)}.{rng.randrange(0, 50)}"))
        rows.append(value(None, f"{rng.randrange(300, 999)}.{rng.randrange(0, 255)}.{rng.randrange(0, 255)}.{rng.randrange(0, 255)}"))
    near_lines = [
        "订单号{o}已支付，金额{a}元。", "请拨打客服热线400-{l}咨询。", "抓拍时间{t}，设备在线。", "事件编号{o}，处理完毕。",
        "设备离线告警，最近一次心跳超过{n}分钟。", "区域入侵告警：禁区内检测到人员闯入，请值班人员核查。", "人群聚集告警，现场人数约{n}人。",
        "系统版本v3.{n}.1升级完成，共{n}台设备。", "本月共处理警情{n}起，同比下降{n}%。",
    ]
    for _ in range(60):
        t = rng.choice(near_lines).format(o=f"2026{rng.randrange(10**13, 10**14)}", a=rng.randrange(10, 9999),
                                          l=f"{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}", t=f"2026-11-{rng.randrange(1, 29):02d} 1{rng.randrange(0, 9)}:30:00",
                                          n=rng.randrange(2, 99))
        rows.append(line(t, [], "near_miss"))
    rows += handwritten()
    return rows


# Hand-written lines in varied phrasing (not from the generator's templates); spans by substring.
HANDWRITTEN = [
    ("接报：市民赵丽华（13911112222）反映小区门口有车辆违停。", [("PERSON", "赵丽华"), ("PHONE", "13911112222")]),
    ("当事人张三丰，身份证110101199003071233，电话：186 0000 1111。", [("PERSON", "张三丰"), ("ID_NUMBER", "110101199003071233"), ("PHONE", "186 0000 1111")]),
    ("嫌疑车辆：苏E·8K2M1，白色SUV，往南逃逸。", [("PLATE", "苏E·8K2M1")]),
    ("车牌号粤BD12345的新能源车在充电桩处起火。", [("PLATE", "粤BD12345")]),
    ("失主王女士称钱包内有工商银行卡一张，卡号6222 0212 3456 7890 128。", [("BANK_CARD", "6222 0212 3456 7890 128")]),  # a surname with a form of address is not a name
    ("请将处理结果发送至 zhang.wei@police.gov.cn 并抄送值班室。", [("EMAIL", "zhang.wei@police.gov.cn")]),
    ("异常登录来源IP 10.23.4.188，已封禁。", [("IP_ADDRESS", "10.23.4.188")]),
    ("摄像头安装位置（116.397128, 39.916527），朝向北。", [("COORDINATES", "116.397128, 39.916527")]),
    ("家住海淀区学院路38号院2号楼3单元401室的李先生报警称家中被盗。", [("ADDRESS", "海淀区学院路38号院2号楼3单元401室")]),
    ("联系人：欧阳娜娜，手机号+86 135-0011-2233。", [("PERSON", "欧阳娜娜"), ("PHONE", "+86 135-0011-2233")]),
    ("驾驶人刘某某无证驾驶，已查扣车辆京N3Q8F0。", [("PLATE", "京N3Q8F0")]),
    ("110指令：报警人称在朝阳区光华路1号附近发生交通事故，无人员受伤。", [("ADDRESS", "朝阳区光华路1号")]),
    ("车主陈建国驾驶沪A12345D（大型新能源）违规占道。", [("PERSON", "陈建国"), ("PLATE", "沪A12345D")]),
    ("求助人孙悦电话15800001234，称孩子走失。", [("PERSON", "孙悦"), ("PHONE", "15800001234")]),
    ("其身份证号码为440305198512310026，户籍地深圳。", [("ID_NUMBER", "440305198512310026")]),
    ("经核实，京A·F1234为挂失号牌。", [("PLATE", "京A·F1234")]),
    ("服务器2001:db8:85a3::8a2e:370:7334出现异常流量。", [("IP_ADDRESS", "2001:db8:85a3::8a2e:370:7334")]),
    ("今日14:30:00起，长安街实行交通管制。", []),
    ("工单号202611250000123456，已派发至东城区。", []),
    ("固定电话010-65123456，传真010-65123457。", [("PHONE", "010-65123456"), ("PHONE", "010-65123457")]),
    ("本次升级至算法版本v3.2.1，误报率下降2.5%。", []),
    ("设备编码11010500001321000001离线超过30分钟。", []),
    ("统计周期2026-11-01至2026-11-24，共计1234起。", []),
    ("身份证号110101199003071234核验不通过（校验位错误）。", []),
    ("交易流水号6217000010012345678已退款。", []),
    ("请联系值班民警，分机号8001。", []),
    ("时间戳1764057600000对应的记录已归档。", []),
    ("路段限速60公里每小时，摄像头编号K12+300。", []),
]


def handwritten() -> list[dict]:
    rows = []
    for text, spans in HANDWRITTEN:
        entities = []
        for kind, sub in spans:
            start = text.index(sub)
            entities.append((kind, start, start + len(sub)))
        rows.append(line(text, entities, "handwritten"))
    return rows


if __name__ == "__main__":
    rows = build()
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} labelled rows, {sum(len(r['entities']) for r in rows)} entities -> {OUT}")
