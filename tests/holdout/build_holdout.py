"""Held-out labelled check set of Chinese free text for the personal-information recognizers.

Written apart from the recognizers and from the other corpora: used to MEASURE only, never to tune.
Genres differ from plain police notes: hospital emergency admissions, 12345 hotline summaries,
property-management logs, school safety reports, court/mediation records, bank fraud reports,
taxi / ride-hailing complaints, community grid-worker diaries, traffic accident quick records,
hotel guest registration anomalies, express-delivery complaints, telecom shop records.

Labels are made by construction: every template slot that holds an identifier records its own
offsets while the text is assembled. Self-checks: text[start:end] is exactly the inserted value,
spans do not overlap, every labelled value passes its own validator (check digits, Luhn, ISO 3779),
and the unlabelled text holds no stray value that a validator would accept.

    python tests/holdout/build_holdout.py        # writes tests/holdout/pii_holdout.jsonl

Stdlib only, deterministic (random.Random(2027)).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections import Counter
from pathlib import Path
from random import Random

OUT = Path(__file__).with_name("pii_holdout.jsonl")
N_NOTES = 300
N_NEAR = 100

# --------------------------------------------------------------------------------------------
# validators (independent implementations)
# --------------------------------------------------------------------------------------------
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
VIN_VALUES = dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ", (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9)))
VIN_VALUES.update({str(d): d for d in range(10)})
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # A-H, J-N, P-Z: no I, no O
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def id_check_char(body17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS)) % 11]


def valid_date(yyyymmdd: str) -> bool:
    try:
        dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return True


def id18_ok(s: str) -> bool:
    return (re.fullmatch(r"[1-6]\d{16}[\dX]", s) is not None and 11 <= int(s[:2]) <= 65
            and valid_date(s[6:14]) and id_check_char(s[:17]) == s[17])


def id15_ok(s: str) -> bool:
    return re.fullmatch(r"\d{15}", s) is not None and 11 <= int(s[:2]) <= 65 and valid_date("19" + s[6:12])


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_complete(body: str) -> str:
    for c in "0123456789":
        if luhn_ok(body + c):
            return body + c
    raise AssertionError(body)


def vin_check_char(vin: str) -> str:
    r = sum(VIN_VALUES[c] * w for c, w in zip(vin, VIN_WEIGHTS)) % 11
    return "X" if r == 10 else str(r)


def vin_ok(s: str) -> bool:
    return re.fullmatch(r"[A-HJ-NPR-Z0-9]{17}", s) is not None and vin_check_char(s) == s[8]


def digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def phone_ok(s: str) -> bool:
    d = digits(s)
    if d.startswith("86") and len(d) == 13:
        d = d[2:]
    if re.fullmatch(r"1[3-9]\d{9}", d) and re.fullmatch(r"(\+86[ -]?)?1\d{2}([ -]?)\d{4}\2\d{4}", s):
        return True
    return re.fullmatch(r"(0\d{2,3}-|0\d{2,3} |\(0\d{2,3}\))[2-8]\d{6,7}", s) is not None


def ipv4_ok(s: str) -> bool:
    parts = s.split(".")
    return len(parts) == 4 and all(p.isdigit() and str(int(p)) == p and int(p) <= 255 for p in parts)


VALIDATORS = {
    "ID_NUMBER": lambda s: id18_ok(s) or id15_ok(s),
    "PHONE": phone_ok,
    "PLATE": lambda s: re.fullmatch(rf"[{PROVINCES}][{PLATE_LETTERS}]([DF][{PLATE_LETTERS}0-9]{{5}}|[{PLATE_LETTERS}0-9]{{5}})", s) is not None,
    "BANK_CARD": lambda s: re.fullmatch(r"62\d{14,17}", digits(s)) is not None and luhn_ok(digits(s))
    and re.fullmatch(r"\d+|\d{4}( \d{4})*( \d{1,3})?", s) is not None,
    "EMAIL": lambda s: re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", s) is not None,
    "IP_ADDRESS": ipv4_ok,
    "PASSPORT": lambda s: re.fullmatch(r"E\d{8}|E[A-HJ-NP-Z]\d{7}|G\d{8}", s) is not None,
    "TRAVEL_PERMIT": lambda s: re.fullmatch(r"[CHM]\d{8}|\d{8}", s) is not None,
    "VIN": vin_ok,
    "IMEI": lambda s: re.fullmatch(r"(35|86)\d{13}", s) is not None and luhn_ok(s),
    "MAC_ADDRESS": lambda s: re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}|[0-9A-F]{2}(-[0-9A-F]{2}){5}|[0-9A-F]{2}(:[0-9A-F]{2}){5}", s) is not None,
    "PERSON": lambda s: 2 <= len(s) <= 4 and re.fullmatch(r"[\u4e00-\u9fff]+", s) is not None,
    "ADDRESS": lambda s: re.search(r"[区县]", s) is not None and re.search(r"[号室组\d]$", s) is not None,
}

# --------------------------------------------------------------------------------------------
# word lists
# --------------------------------------------------------------------------------------------
SURNAMES_COMMON = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方邹孟熊秦邱尹薛闫段雷侯史陶黎贺顾毛郝龚邵钱严覃武戴莫孔汤")
SURNAMES_RARE = list("禹阙甘綦宓蒯璩佘冼仉亓郜逯訾隗昝晏禤蔺靳芮邝濮翟栾敖阚谯郦荀粟揭仝巫檀蒙沃邬牟麦谌庹冉匡鞠缪伍聂詹柏苗尤闵滕喻盛裴霍毕储柴骆葛祁景岑符凌卜乔闻晁奚宗扈隆郗戚娄雍")
SURNAMES_COMPOUND = ["欧阳", "司马", "诸葛", "上官", "皇甫", "慕容", "东方", "长孙", "夏侯", "公孙", "端木", "令狐", "宇文", "尉迟", "南宫"]

GIVEN_M1 = list("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭龙林阳峰建亮成东晨坤锋彬毅锐翔昊骁铭博瀚琛澍屹峥岩钊炜煜骏劼淞恺睿霖")
GIVEN_F1 = list("芳娜敏静丽艳娟霞秀玲萍红燕莉婷雪琳倩颖蕾璐瑶妍欣怡悦薇菲岚彤茜蓉瑾珂钰琰娴婕媛芸茹湘潇晗")
GIVEN_M2 = ["建国", "国强", "志强", "志明", "卫东", "建军", "海涛", "俊杰", "浩然", "子轩", "宇航", "文博", "明轩", "天佑", "德福", "长贵",
            "永康", "振华", "立新", "学军", "春生", "庆丰", "晓东", "振宇", "泽楷", "一鸣", "思远", "皓轩", "梓豪", "承泽", "奕辰", "景行",
            "修远", "启航", "书恒", "逸飞", "敬轩", "柏霖", "炳坤", "家骏", "锦程", "嘉树", "国栋", "宏伟", "红军", "福生", "金宝", "守义",
            "有才", "新民", "玉田", "兆麟", "胜利", "子墨", "沐辰", "嘉佑", "铁柱", "满仓"]
GIVEN_F2 = ["秀英", "桂兰", "淑珍", "素芬", "凤琴", "玉梅", "丽华", "海燕", "晓燕", "雅婷", "欣怡", "梓涵", "诗涵", "语桐", "一诺", "佳琪",
            "思琪", "雨萱", "梦瑶", "紫萱", "若曦", "可馨", "婉清", "静怡", "慧敏", "春梅", "美玲", "月娥", "秋菊", "兰英", "宛如", "清妍",
            "沐瑶", "芷若", "书瑶", "昕玥", "翠英", "金凤", "小红", "丹丹", "晶晶", "婷婷", "素云", "巧玲", "彩霞", "雪梅", "冬梅", "亚楠",
            "晓雯", "佩琳", "嘉欣", "洛伊", "语嫣", "芊芊"]
FAMOUS = set("""王菲 李娜 刘翔 姚明 成龙 李白 杜甫 王维 李宁 马云 雷军 孔子 孙俪 赵薇 周迅 韩寒 郭晶晶 刘德华 张学友 黎明 郭富城 周杰伦 林俊杰 王力宏
陈奕迅 李连杰 章子怡 巩俐 张曼玉 范冰冰 李冰冰 杨幂 赵丽颖 刘亦菲 黄晓明 邓超 杨紫 鲁迅 胡适 钱钟书 钱学森 袁隆平 屠呦呦 莫言 余华 王朔
冯小刚 张艺谋 陈凯歌 李安 马化腾 李彦宏 刘强东 王健林 丁磊 张朝阳 任正非 董明珠 宗庆后 曹雪芹 施耐庵 罗贯中 吴承恩 关羽 张飞 刘备 曹操
孙权 赵云 诸葛亮 李清照 苏轼 王安石 岳飞 文天祥 林则徐 孙中山 毛泽东 周恩来 朱德 邓小平 江泽民 胡锦涛 习近平 李克强 温家宝 朱镕基 李鹏
刘少奇 彭德怀 贺龙 陈毅 林彪 叶剑英 蒋介石 宋庆龄 张国荣 梅艳芳 王祖贤 林青霞 邓丽君 那英 孙燕姿 蔡依林 王心凌 张惠妹 周星驰 吴京 沈腾
贾玲 王俊凯 王源 鹿晗 吴亦凡 黄渤 徐峥 葛优 陈道明 孙红雷 胡歌 霍建华 杨洋 李现 朱一龙 唐嫣 刘诗诗 王一博 肖战 李宇春 张靓颖 朴树 许巍
汪峰 李健 郎朗 丁俊晖 武大靖 谷爱凌 苏炳添 孙杨 林丹 张继科 马龙 许昕 樊振东 陈梦 王楠 邓亚萍 刘国梁 郎平 朱婷 伏明霞 田亮 刘璇 李小鹏
杨威 张怡宁 王皓 马琳 司马懿 司马光 司马迁 欧阳修 东方朔 令狐冲 欧阳锋 夏侯惇 公孙瓒 皇甫嵩 长孙无忌 宇文泰 尉迟恭 欧阳娜娜 慕容复
上官婉儿 诸葛瑾 高明 高兴 高峰 高强 高超 高亮 高飞 高平 江山 方正 白雪 金华 万里 龙飞 宁静 安静 石林 文明 常春 钟情 黎明 马力 于是
乔丹 成功 田野 林海 雷锋 包拯 海瑞 武松 宋江 李逵 林冲 孙悟空 唐僧 杨过 郭靖 黄蓉 张无忌 韦小宝 段誉 乔峰""".split())

AREA_CODES = ["110101", "110105", "110108", "110114", "120104", "120111", "130102", "130602", "130184", "140105", "140202", "150102",
              "210102", "210202", "220102", "230103", "230602", "310104", "310115", "310112", "320106", "320506", "320282", "330106",
              "330108", "330302", "330327", "340104", "341221", "350203", "350524", "360102", "360731", "370102", "370212", "371721",
              "410105", "411625", "420106", "420111", "421126", "430104", "430424", "440106", "440305", "441900", "445202", "450103",
              "450923", "460105", "500103", "500235", "510107", "511324", "520102", "522426", "530102", "540102", "610113", "620102",
              "620523", "630104", "640104", "650102"]

CITY_DATA = [
    ("北京市", "", [("朝阳区", ["建国路", "朝阳北路", "望京西路", "酒仙桥路", "广顺北大街", "双井东路"]),
                   ("海淀区", ["中关村大街", "学院路", "北四环西路", "清河中街", "万泉河路"]),
                   ("丰台区", ["南三环西路", "丰台北路", "马家堡东路"]), ("通州区", ["新华大街", "九棵树东路", "梨园中街"])]),
    ("上海市", "", [("浦东新区", ["张杨路", "世纪大道", "锦绣路", "川沙路", "浦电路"]), ("徐汇区", ["漕溪北路", "天钥桥路", "龙华中路", "田林路"]),
                   ("闵行区", ["七莘路", "莘松路", "沪闵路", "都市路"]), ("杨浦区", ["国定路", "控江路", "黄兴路"])]),
    ("天津市", "", [("南开区", ["鞍山西道", "长江道", "白堤路"]), ("河西区", ["友谊路", "围堤道", "解放南路"])]),
    ("重庆市", "", [("渝中区", ["民族路", "中山三路", "大坪正街"]), ("江北区", ["建新北路", "北城天街", "洋河一路"]),
                   ("渝北区", ["金开大道", "龙山大道", "新牌坊一路"])]),
    ("广州市", "广东省", [("天河区", ["天河北路", "黄埔大道西", "中山大道西", "龙口西路"]), ("越秀区", ["环市东路", "东风中路", "北京路"]),
                      ("海珠区", ["江南大道中", "新港西路", "昌岗中路"]), ("白云区", ["机场路", "白云大道北", "同和路"])]),
    ("深圳市", "广东省", [("南山区", ["南海大道", "桃园路", "科苑南路", "前海路"]), ("福田区", ["深南中路", "福华三路", "红荔路", "景田路"]),
                      ("宝安区", ["宝安大道", "新安六路", "建安一路"]), ("龙岗区", ["龙岗大道", "布吉路", "五和大道"])]),
    ("杭州市", "浙江省", [("西湖区", ["文三路", "天目山路", "古墩路", "教工路"]), ("拱墅区", ["莫干山路", "湖墅南路", "上塘路"]),
                      ("余杭区", ["文一西路", "五常大道", "良睦路"]), ("滨江区", ["江南大道", "滨盛路", "长河路"])]),
    ("成都市", "四川省", [("武侯区", ["科华北路", "一环路南四段", "武侯祠大街", "玉林南路"]), ("锦江区", ["东大街", "春熙路", "静康路"]),
                      ("成华区", ["建设北路", "府青路二段", "双林路"])]),
    ("武汉市", "湖北省", [("洪山区", ["珞喻路", "雄楚大道", "民族大道"]), ("江汉区", ["解放大道", "建设大道", "新华路"]),
                      ("武昌区", ["中北路", "中南路", "武珞路"])]),
    ("南京市", "江苏省", [("鼓楼区", ["中山北路", "湖南路", "汉中门大街"]), ("玄武区", ["中山东路", "龙蟠路", "珠江路"]),
                      ("江宁区", ["双龙大道", "天元中路", "胜太路"])]),
    ("西安市", "陕西省", [("雁塔区", ["小寨东路", "长安南路", "科技路", "丈八东路"]), ("未央区", ["凤城八路", "未央路", "文景路"]),
                      ("碑林区", ["南关正街", "友谊西路"])]),
    ("苏州市", "江苏省", [("姑苏区", ["人民路", "干将西路", "三香路"]), ("吴中区", ["东吴北路", "宝带西路"])]),
    ("长沙市", "湖南省", [("岳麓区", ["麓山南路", "金星中路", "枫林三路"]), ("芙蓉区", ["五一大道", "韶山北路"])]),
    ("郑州市", "河南省", [("金水区", ["花园路", "农业路", "经三路"]), ("二七区", ["大学路", "嵩山南路"])]),
    ("青岛市", "山东省", [("市南区", ["香港中路", "闽江路", "东海西路"]), ("崂山区", ["海尔路", "松岭路"])]),
    ("厦门市", "福建省", [("思明区", ["湖滨南路", "莲前西路", "厦禾路"]), ("湖里区", ["仙岳路", "枋湖北二路"])]),
]
ESTATES = ["金桥花园", "阳光新城", "翠苑一区", "城市花园", "碧水湾", "和平里小区", "锦绣江南", "紫薇苑", "华侨新村", "御景湾", "世纪城",
           "春江郦城", "香槟国际", "蓝湾国际", "幸福里", "东湖名苑", "望京花园", "世纪嘉园", "星河湾", "丽景华庭", "枫林绿洲", "馨园",
           "桂花城", "明珠公寓", "水岸名邸", "康乐新村", "青年汇", "汇景台", "南湖家园", "光明小区"]
RURAL = [("湖南省", "衡阳市", "衡东县", ["杨桥镇", "新塘镇", "石湾镇"]), ("河南省", "周口市", "郸城县", ["秋渠乡", "汲冢镇", "宁平镇"]),
         ("四川省", "南充市", "仪陇县", ["马鞍镇", "新政镇", "金城镇"]), ("安徽省", "阜阳市", "临泉县", ["姜寨镇", "长官镇", "老集镇"]),
         ("江西省", "赣州市", "于都县", ["罗坳镇", "岭背镇", "禾丰镇"]), ("山东省", "菏泽市", "曹县", ["青菏镇", "庄寨镇", "普连集镇"]),
         ("湖北省", "黄冈市", "蕲春县", ["漕河镇", "株林镇", "檀林镇"]), ("广西壮族自治区", "玉林市", "博白县", ["龙潭镇", "沙河镇"]),
         ("贵州省", "毕节市", "大方县", ["羊场镇", "猫场镇", "星宿乡"]), ("河北省", "邯郸市", "大名县", ["大街镇", "金滩镇", "束馆镇"]),
         ("甘肃省", "天水市", "甘谷县", ["大像山镇", "新兴镇", "六峰镇"]), ("浙江省", "温州市", "苍南县", ["灵溪镇", "钱库镇", "马站镇"]),
         ("福建省", "泉州市", "安溪县", ["城厢镇", "蓬莱镇", "龙门镇"]), ("云南省", "曲靖市", "会泽县", ["娜姑镇", "待补镇"])]
VILLAGES = ["新塘村", "红星村", "石桥村", "大坪村", "柳树村", "太平村", "建设村", "前进村", "和平村", "长岭村", "黄泥村", "东湖村", "三合村",
            "龙潭村", "高坎村", "白果村", "杨柳村", "青山村", "双河村", "桃园村", "永丰村", "团结村", "联合村", "沙坝村"]

PINYIN_SUR = "li wang zhang chen liu yang huang zhao wu zhou xu sun ma hu guo lin he gao luo zheng liang xie song tang han feng deng cao peng".split()
PINYIN_SUR += "zeng xiao tian dong pan yuan cai jiang yu du ye cheng wei su lv ding ren shen yao lu cui zhong tan fan ouyang".split()
PINYIN_GIV = "wei fang na min jing li qiang lei jun yong yan jie juan tao ming chao xiu xia ping gang hui peng hao kai ting xue lin".split()
PINYIN_GIV += "chen xin yi zi han xuan yu yue yao xiao qian lu bo yuan zhe bin nan qi rui hang tian jia si meng hong".split()
EMAIL_DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "sohu.com", "foxmail.com", "yeah.net", "outlook.com", "gmail.com", "hotmail.com",
                 "139.com", "aliyun.com", "vip.163.com", "jinxiu-wuye.cn", "hzlawfirm.com.cn", "city-hosp.org.cn", "mail.school-edu.cn"]
IMEI_TAC = ["86", "35"]
VIN_WMI = ["LSV", "LFV", "LGB", "LHG", "LVS", "LSG", "LBV", "LE4", "LGX", "LRW", "LNB", "LVV", "LGW", "LZW", "LFP", "LDC", "WDD", "JTD"]
VIN_YEARS = "BCDEFGHJKLMNPRS"
CARD_BINS = [("622202", 19), ("622208", 19), ("621226", 19), ("622848", 19), ("621700", 19), ("622700", 19), ("621661", 19), ("622588", 16),
             ("621483", 16), ("622609", 16), ("622260", 19), ("621799", 19), ("623058", 19), ("625807", 16), ("622155", 16), ("621462", 18),
             ("622823", 17), ("620200", 19)]
MOBILE_PREFIX = ["130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "147", "150", "151", "152", "153", "155", "156",
                 "157", "158", "159", "166", "171", "173", "175", "176", "177", "178", "180", "181", "182", "183", "185", "186", "187", "188",
                 "189", "191", "193", "195", "198", "199"]
LANDLINE = [("010", "568"), ("021", "56"), ("020", "38"), ("0755", "28"), ("0571", "85"), ("025", "58"), ("027", "8"), ("028", "8"),
            ("029", "8"), ("023", "6"), ("0512", "6"), ("0731", "8"), ("0371", "6"), ("0532", "8"), ("0592", "5")]
PUBLIC_OCTET1 = [36, 39, 42, 58, 59, 60, 61, 101, 106, 110, 111, 112, 113, 114, 115, 116, 117, 119, 120, 121, 122, 123, 124, 125, 171,
                 175, 180, 182, 183, 202, 203, 210, 211, 218, 219, 220, 221, 222, 223]

FILL = {
    "complaint": ["胸闷气促2小时", "腹痛伴呕吐半天", "头部外伤出血", "右手腕疼痛肿胀", "高热39.5℃伴寒战", "醉酒后意识模糊", "车祸后左腿疼痛",
                  "突发言语不清", "误服降压药约10片", "被狗咬伤左小腿", "反复咳嗽咯血", "从二楼阳台坠落"],
    "dx": ["急性胃肠炎", "头皮裂伤", "右桡骨远端骨折", "急性酒精中毒", "急性冠脉综合征待排", "脑梗死待排", "药物中毒", "多处软组织挫伤", "肺部感染"],
    "dept": ["神经内科", "心内科", "骨科", "普外科", "ICU", "消化内科", "呼吸科"],
    "rel": ["同事", "朋友", "室友", "邻居", "亲戚", "老乡", "同学", "工友"],
    "place": ["小区门口", "KTV包厢", "烧烤摊", "公司聚餐的饭店", "自家楼道", "地铁站台"],
    "quote": ["我没喝多，就是脚滑了", "胸口像压了块石头", "别告诉我老婆", "昨天开始就吃不下东西", "头晕，想吐", "我自己能走"],
    "bed": ["抢救3床", "留观12床", "EICU-05", "急诊留观区A7", "抢救室1床"],
    "hosp": ["市第一人民医院", "区中医院", "省儿童医院", "附属第二医院", "市中心医院急诊科"],
    "issue": ["夜间施工噪音扰民", "餐馆油烟直排", "垃圾清运不及时", "路灯损坏", "共享单车乱停放", "流浪犬聚集", "广场舞音响过大", "下水道反味",
              "电动车在楼道充电", "违规群租"],
    "street": ["湖滨", "北山", "翠苑", "文新", "南苑", "五里墩", "长庆", "石桥"],
    "satis": ["满意", "基本满意", "不满意", "表示理解"],
    "school": ["市实验小学", "育才中学", "第二十七中学", "阳光外国语学校", "城东职业技术学校", "明德小学", "滨江初级中学"],
    "grade": ["三年级（2）班", "初二（5）班", "高一（7）班", "五年级4班", "初三(1)班", "六年级（3）班"],
    "spot": ["操场", "食堂门口", "三楼走廊", "校门口", "体育馆", "实验楼楼梯"],
    "incident": ["与同学发生推搡后摔倒", "课间突发晕厥", "被校外人员索要财物", "从单杠上跌落", "被开水烫伤"],
    "incident2": ["在校内遭同学欺凌", "放学后未按时回家", "手机被盗", "在体育课上受伤"],
    "company": ["某物流公司", "城南农贸市场", "鑫达汽修厂", "某外卖平台", "电子厂", "连锁便利店"],
    "bank": ["工商银行", "农业银行", "建设银行", "招商银行", "交通银行", "邮储银行", "中国银行", "农商银行"],
    "scam": ["冒充客服退款", "刷单返利", "冒充公检法", "杀猪盘", "虚假贷款", "冒充领导"],
    "fakeid": ["某银行风控专员", "市公安局经侦民警", "电商平台客服", "快递理赔专员", "贷款公司经理"],
    "doc": ["资金核查通知书.pdf", "退款链接", "冻结令", "理赔协议.docx", "安全账户说明"],
    "city": ["杭州", "成都", "昆明", "哈尔滨", "佛山", "泉州", "柳州"],
    "poi": ["虹桥站", "首都机场T3", "白云机场", "东站", "市民中心", "万象城", "大学城"],
    "taxicomp": ["态度恶劣", "中途甩客", "拒开空调", "未按导航行驶", "车内吸烟"],
    "ins": ["人保财险", "平安产险", "太平洋保险", "大地保险"],
    "road": ["解放路与延安路交叉口", "中山北路高架下匝道", "建设大道与新华路路口", "绕城高速西出口", "长江路隧道出口", "环城东路公交站旁"],
    "hotel": ["如家酒店（火车站店）", "锦江之星", "汉庭酒店", "某快捷酒店", "全季酒店", "城市便捷酒店"],
    "ota": ["携程", "美团", "飞猪", "Booking.com", "前台walk-in"],
    "locker": ["丰巢快递柜", "小区驿站", "门卫室", "菜鸟驿站"],
    "color": ["白色", "黑色", "银灰色", "红色", "蓝色"],
    "repair": ["卫生间天花板渗水", "入户门锁损坏", "阳台推拉门脱轨", "电表跳闸", "楼道声控灯不亮"],
    "fact": ["借款事实属实", "当晚双方确有争执", "车辆当时停放在路边", "房屋已于去年交付"],
    "dispute": ["租赁押金", "装修款", "宠物伤人", "邻里漏水", "劳务费", "车辆买卖"],
    "drug": ["阿莫西林胶囊", "头孢克肟分散片", "布洛芬缓释胶囊", "硝苯地平控释片", "复方甘草片", "蒙脱石散"],
    "appissue": ["登录后白屏", "验证码收不到", "闪退", "付款后订单不显示"],
}

PLACE_LOOKALIKE = ["张家港", "王府井", "李沧区", "刘家窑", "陈家祠", "赵公口", "马家堡", "黄浦江", "朱家角", "杨家坪", "何家营", "宋家庄",
                   "周庄", "胡家庙", "罗湖", "谢家湾", "韩城", "唐山", "许昌", "邓州", "曹妃甸", "董家渡", "潘家园", "蒋村", "魏公村",
                   "沈家门", "崔各庄", "陆家嘴", "方庄", "白家庄", "秦皇岛", "侯马", "史家胡同", "陶然亭", "孙河", "邹城", "苏家坨", "叶家宅"]
SHOPS = ["老李面馆", "王记烧饼", "陈记肠粉", "张姐麻辣烫", "刘家小厨", "赵记包子铺", "孙师傅修鞋铺", "周记牛杂", "老马烧烤", "黄家菜馆",
         "吴妈水饺", "郑记粥铺", "何氏跌打诊所", "胡记锁匠", "林记五金", "马家羊肉泡馍", "冯记干洗店", "郭记水果店", "罗记理发", "老杨家卤味",
         "徐记海鲜排档", "宋嫂鱼羹馆", "田记米线", "谢记凉茶铺"]
SERVICE = ["95588", "95533", "95555", "95566", "95599", "95559", "12345", "12315", "12306", "12328", "12348", "110", "120", "122",
           "96110", "10086", "10010", "10000", "12333", "95598"]

# --------------------------------------------------------------------------------------------
# note genres: templates with slots.  {p1} person, {pf2} relative of p1 (same surname; {pf4of3}: of p3,
# {pfm6}: a male relative), {t1} polite title of p1 (王女士), {x1} casual title (老王/小王), {m1} 王某,
# {s1} bare surname before a literal title (王主任), {g1} 男/女, {bd1} birth date of id1. Identifiers:
# id idk(child) idold(15-digit) ph tel pl card em ip lip(private) addr raddr(rural) ppt hk(C) hx hxh(H) hxm(M)
# tw(台胞证) vin imei mac; every other slot is an unlabelled filler. A body template may start with a
# [group] tag: at most one template of a group goes into one note.
# --------------------------------------------------------------------------------------------
GENRES = {
    "hospital": dict(weight=30, k=(2, 3), open=[
        "【急诊入院记录】{time}，患者{p1}，{g1}，{age}岁，由家属{pf2}陪同入院，主诉“{complaint}”。",
        "{time} 120送入抢救室：{p1}（{g1}，{age}岁），身份证号{id1}，现住{addr1}。",
        "急诊科 night shift 记录：患者{p1}，{age}岁，因{complaint}就诊，联系电话{ph1}。",
        "EICU收治登记｜姓名：{p1}｜性别：{g1}｜证件号：{id1}｜住址：{addr1}｜电话：{ph1}",
        "预检分诊：{p1}，{g1}，{bd1}出生，身份证{id1}，自诉{complaint}，分诊级别II级。",
    ], body=[
        "另有陪同人{p9}自称系患者{rel}，联系电话{ph9}，称患者当晚在{place}饮酒后摔倒。",
        "[nat]患者为香港居民，出示港澳居民来往内地通行证（回乡证）{hxh1}，紧急联系人{p3}，电话{ph3}。",
        "[nat]患者为澳门居民，回乡证号码{hxm1}，本人手机{ph1}，由朋友{p3}送来。",
        "[nat]患者系回国探亲的华侨，护照号码{ppt1}，由同事{p3}陪同。",
        "预交金{amt}由{p2}刷卡支付，卡号{card2}，收费员{p5}经手。",
        "患者自述“{quote}”，{t2}（家属）情绪激动，保安{p6}到场协助。",
        "家属要求检查报告发送至邮箱{em2}，CT室电话{tel1}。",
        "患者随身手机一部（IMEI {imei1}）及现金{amt2}，已由{p2}签字领回。",
        "疑似交通伤，肇事车辆{pl8}，驾驶人{p8}（{ph8}）在场，交警已通知。",
        "患者户籍地址{raddr1}，在本市无固定住所，暂住工地宿舍。",
        "[old]患者老伴{p13}使用老身份证{idold13}办理陪护证。",
        "值班医师{p4}、责任护士{p5}已接诊，上级医师{s12}主任电话指导。",
    ], close=[
        "初步诊断：{dx}。已请{dept}会诊，后续由{p4}跟进。",
        "家属{p2}签署知情同意书，落款电话{ph2}。",
        "收入留观，{bed}，登记人{p7}。",
        "诊断：{dx}；病情已告知{t1}本人及家属。",
    ]),
    "hotline": dict(weight=26, k=(2, 3), open=[
        "【12345工单 {gd}】来电人{p1}，来电号码{ph1}，反映{addr1}楼下{issue}。",
        "市民{p1}（{t1}）来电称：其居住的{addr1}附近{issue}，已持续{n}天。",
        "12345热线诉求摘要：诉求人{p1}，回访电话{ph1}；诉求地址{addr1}。",
        "来电人不愿透露全名（自称{t1}），号码{ph1}，反映{road}一带{issue}。",
        "热线转办｜诉求人：{p1}｜联系电话：{tel1}｜问题：{issue}",
    ], body=[
        "来电人称车牌{pl1}的{color}轿车长期占用消防通道，车主疑为{p2}。",
        "诉求人要求将处理结果发送至{em1}，并抄送社区工作人员{p3}。",
        "来电人表示已向物业经理{p2}反映多次无果，物业电话{tel2}。",
        "涉事商户负责人{p2}，联系方式{ph2}，经营地址{addr2}。",
        "诉求人补充：对方在二手平台交易时提供的收款卡号{card2}，户名{p2}。",
        "来电人提供邻居{p4}作为证人（电话{ph4}），称噪音多在22点后。",
        "来电人反映楼上住户{p5}常将电瓶车推入电梯，车牌{pl5}。",
        "来电人称其父{pfm6}（{idold6}）独居，希望纳入居家养老服务。",
        "诉求人同时咨询公租房申请，提供身份证号{id1}。",
    ], close=[
        "已派单至{street}街道，承办人{p7}，要求{n}个工作日内回复。",
        "话务员{p8}受理，工号{workid}。",
        "回访时市民{satis}，工单办结。",
        "已告知市民可拨打{svc}进一步咨询。",
    ]),
    "property": dict(weight=26, k=(2, 3), open=[
        "【物业值班日志】{time}，监控室{p1}值班，巡查中发现地库B2层消防门被撑开。",
        "{date} 夜班记录（值班：{p1}、{p2}）",
        "报修登记：业主{p20}，房号{addr20}，电话{ph20}，报修内容：{repair}。",
        "客服中心工单：业主{p20}（{addr20}）投诉邻居{issue}。",
    ], body=[
        "地库车位被车牌为{pl3}的车辆占用，车主{p3}（{ph3}）电话无人接听。",
        "门禁控制器（MAC {mac1}）于{time2}多次报“非法卡”，疑有人复制门禁卡。",
        "监控NVR（IP：{lip1}）在{time2}前后录像丢失，已联系维保{p4}。",
        "地面停车场一辆无牌白色面包车长期停放，车架号{vin1}，已拍照存档。",
        "租户{p5}（身份证{id5}）办理临时门禁卡，押金{amt}。",
        "业主{p21}反映楼上{addr21}漏水，要求维修工{x6}尽快上门。",
        "快递员{p7}（{ph7}）称包裹放在业主门口后丢失，业主{t20}要求调取监控。",
        "新能源车{pl8}在充电桩区域占位超时，车主{p8}称已缴费。",
        "访客系统记录：{p9}的手机{ph9}于{time2}登记进入，未见离开记录。",
        "园区Wi-Fi探针捕获陌生设备 {mac2} 反复连接，接入IP {lip2}。",
        "保洁员{p12}在电梯内拾到手机一部，串号{imei3}，已登记待认领。",
    ], close=[
        "已通报客服主管{p10}，次日跟进。",
        "交接班：{p1}→{p11}，{time3}。",
        "记录人：{p1}；复核：{x10}。",
    ]),
    "school": dict(weight=24, k=(2, 3), open=[
        "【校园安全情况报告】{school}{grade}学生{p1}（身份证号{idk1}）于{time}在{spot}{incident}。",
        "{school}安保处值班记录：{time}，家长{p2}（电话{ph2}）到校反映其孩子{pf1}{incident2}。",
        "班主任{p3}报告：{grade}{p1}、{p4}两名学生{incident2}。",
        "Safety report（{school}）：学生{p1}，{g1}，{agekid}岁，{spot}{incident}。",
    ], body=[
        "学生家庭住址：{addr1}；监护人{pf2}，联系电话{ph2}。",
        "接送车辆{pl5}（司机{p5}）在校门口违停，已劝离。",
        "涉事学生遗失手机一部，IMEI号{imei1}，已报辖区派出所。",
        "学生佩戴的电话手表最后一次联网记录：设备MAC {mac1}，时间{time2}。",
        "校医{p6}初步处理后由{s3}老师陪同送往{hosp}。",
        "校外人员{p7}（身份证{id7}）冒充家长进入校园，保安{x8}拦截。",
        "家长要求学校通过邮箱{em2}提供书面说明。",
        "另一名学生{p4}的身份证号为{idk4}，家长{pf9of4}电话{ph9}。",
        "学生户籍地址为{raddr1}，现随父母在本市借读。",
        "监控显示{time2}有一辆{color}轿车（{pl10}）在校门口徘徊。",
        "交换项目带队老师{p12}（护照{ppt12}）当时在场并协助处置。",
    ], close=[
        "已报告校长{p11}及教育局安全科，后续由{s3}老师与家长沟通。",
        "事件已妥善处置，无人员重伤。报告人：{p3}。",
        "学校已联系保险公司，报案人{p3}，联系电话{tel3}。",
    ]),
    "court": dict(weight=26, k=(2, 4), open=[
        "人民调解协议书（草稿）\n申请人：{p1}，{g1}，{bd1}出生，身份证号码{id1}，住{addr1}。\n被申请人：{p2}，{g2}，身份证号码{id2}，住{addr2}。",
        "{case}民事调解笔录：原告{p1}，委托诉讼代理人{p3}律师；被告{p2}未到庭。",
        "诉前调解记录｜当事人：{p1}、{p2}｜调解员：{p3}｜案由：{dispute}纠纷",
        "{date}，{p1}与{p2}{dispute}纠纷调解会，{p1}的联系电话{ph1}，{p2}的联系电话{ph2}。",
    ], body=[
        "双方确认，{p2}应于{date}前将欠款{amt}转入{p1}名下账户{card1}（开户行：{bank}）。",
        "被申请人持有往来港澳通行证{hk2}，近期频繁出入境，申请人担心其转移财产。",
        "原告提交{p2}名下车辆（号牌{pl2}，车辆识别代号{vin2}）的登记信息。",
        "第三人{p4}为台湾居民，台胞证号码{tw4}，经合法传唤到庭。",
        "证人{p5}，联系电话{ph5}，证明{fact}。",
        "被告送达地址确认为{addr2}，电子送达邮箱{em2}。",
        "被申请人的亲属{p6}愿意提供担保，身份证号{id6}。",
        "被申请人原籍{raddr2}，系{p7}介绍来本市务工。",
        "原告另称被告{m2}曾用手机号{ph8}冒名借款。",
        "原告提交的聊天记录来源手机IMEI为{imei3}，已当庭核验。",
        "调解员{p3}向双方释明法律后果，{t1}表示同意分期。",
        "涉案车辆车架号{vin10}，登记在{p10}名下，已办理抵押。",
        "第三人{p11}长期旅居国外，凭护照{ppt11}到庭，委托{p12}为代理人。",
    ], close=[
        "以上协议经双方签字确认。书记员：{p9}。",
        "调解不成，已告知当事人可另行起诉。",
        "双方当事人均无异议，{p1}、{p2}分别签名捺印。",
    ]),
    "bank": dict(weight=28, k=(2, 4), open=[
        "【可疑交易报告】客户{p1}（证件号{id1}）于{time}通过手机银行向户名{p2}的账户{card2}转账{amt}。",
        "反诈预警：我行客户{p1}，预留手机{ph1}，疑似遭遇“{scam}”诈骗。",
        "柜面反映：{time}，客户{p1}在{bank}城西支行欲将{amt}汇至卡号{card2}，柜员{p3}劝阻。",
        "Fraud case memo：客户{p1}，卡号{card1}，联系电话{ph1}，疑似{scam}。",
    ], body=[
        "登录设备IMEI：{imei1}，登录IP：{ip1}，与客户常用地（{city}）不符。",
        "客户称对方自称“{fakeid}”，通过邮箱{em2}发送“{doc}”。",
        "涉案收款卡：{card4}（户名{p4}），已提交止付申请。",
        "客户家中路由器MAC为{mac1}，网银登录IP {ip1}。",
        "客户本人账户{card1}近三日出现{n}笔异常小额入账。",
        "骗子来电号码{ph5}，另留有座机{tel5}，均已上报{svc}。",
        "客户子女{pf6}（电话{ph6}）赶到网点协助核实。",
        "第二收款人{p7}，证件号{id7}，账户{card7}。",
        "对方要求客户下载“会议App”共享屏幕，客户手机IMEI {imei1}。",
        "[nat]客户称其办理的往来港澳通行证{hk1}照片页也已发给对方。",
        "客户名下车贷抵押车辆车架号{vin9}，对方要求“解除抵押”需先缴费。",
        "[nat]客户常年旅居海外，开户证件为护照{ppt1}。",
    ], close=[
        "经办：{p3}，复核：{p8}。",
        "已按流程冻结并报送公安反诈中心。",
        "客户经理{p8}已电话回访{t1}，客户情绪稳定。",
    ]),
    "taxi": dict(weight=24, k=(2, 3), open=[
        "乘客{p1}投诉：{time}乘坐车牌{pl1}的网约车，从{addr1}前往{poi}，司机{p2}{taxicomp}。",
        "出租车服务投诉单：投诉人{p1}，电话{ph1}；被投诉车辆{pl1}，驾驶员{p2}。",
        "平台客服记录：乘客{p1} 反映 driver {p2} 绕路并多收{amt}。",
        "{time}，{p1}（{ph1}）致电投诉出租车{pl1}拒载，地点{road}。",
    ], body=[
        "乘客称手机遗落在车内，手机串号{imei1}，请司机联系{ph1}。",
        "司机端设备登录IP {ip2}，与订单轨迹不一致，疑似代驾刷单。",
        "该车车辆识别代号{vin1}与平台登记不符，实际车牌为{pl3}。",
        "车载终端（MAC {mac2}）于{time2}起离线，录音缺失。",
        "乘客要求将行程单及处理结果发送至{em1}。",
        "司机辩称乘客{t1}中途要求改道至{addr2}。",
        "同行乘客{p3}（电话{ph3}）可作证。",
        "司机{p2}的手机为{ph2}，车队长{p4}已介入。",
        "乘客系回国探亲的华侨，护照号码{ppt1}，要求开具英文发票。",
        "乘客补充：司机以“扫码付款失败”为由，要求转账至卡号{card2}。",
    ], close=[
        "客服{p5}已致电回访，先行赔付{amt2}。",
        "已按规定对驾驶员{p2}作停运培训处理。",
        "已转交交通运输执法部门，联系人{x5}。",
    ]),
    "grid": dict(weight=26, k=(2, 4), open=[
        "网格员工作日志（{date}，{street}第{n}网格，记录人{p1}）",
        "{date} 上午走访独居老人{p2}（{ageold}岁），住{addr2}，身体状况良好。",
        "今日入户核查出租屋{addr3}，房东{p3}，电话{ph3}。",
        "{date}巡查日记：和{p1}一起走访重点人员{p2}，地址{addr2}。",
    ], body=[
        "新登记租客{p4}，身份证{id4}，工作单位为{company}。",
        "居民{p5}自香港返回，出示往来港澳通行证{hk5}，已提醒报备。",
        "老人{p2}仍使用老身份证{idold2}，已督促家属{pf6of2}（{ph6}）带其补办。",
        "发现{p7}家门口停放小车{pl7}，堵塞消防通道，已电话{ph7}提醒。",
        "归国华侨{p8}（护照{ppt8}）租住{addr8}，已登记。",
        "居民{p9}户籍地{raddr9}，来本市投靠子女。",
        "居民{p10}称有人冒用其名义办卡，卡号{card10}，已引导报警。",
        "台湾居民{p11}（台胞证{tw11}）在社区租住，已登记。",
        "居民反映{x12}家{issue}，已协调。",
        "港澳居民{p13}持回乡证{hx13}登记暂住，联系电话{ph13}。",
        "小区内发现废弃车辆一辆，无号牌，车架号{vin15}，已通知车管所。",
    ], close=[
        "下午参加社区例会，向{s14}书记汇报。",
        "晚上回访{p2}家属{pf6of2}，情况已告知。",
        "今日走访{n}户，记录人{p1}。",
    ]),
    "traffic": dict(weight=26, k=(2, 3), open=[
        "交通事故快处快赔记录：{time}，{road}发生两车刮擦，甲车{pl1}（驾驶人{p1}，电话{ph1}），乙车{pl2}（驾驶人{p2}，电话{ph2}）。",
        "简易程序事故认定：当事人{p1}，驾驶证号{id1}，驾驶号牌为{pl1}的小型轿车与{p2}驾驶的{pl2}追尾。",
        "{time} 在{road}，电动自行车骑行人{p3}与{pl1}（驾驶人{p1}）发生碰撞。",
        "Accident quick record：{road}，{pl1} vs {pl2}，无人伤亡。",
    ], body=[
        "甲车车架号{vin1}，保险公司{ins}。",
        "乙方驾驶人{p2}现住{addr2}，身份证号{id2}。",
        "乙车为新能源车，号牌{pl2}，VIN {vin2}。",
        "伤者{p3}送往{hosp}，身份证号{id3}，家属{pf4of3}电话{ph4}。",
        "甲方同意赔付{amt}，转账至乙方卡号{card2}。",
        "目击者{p5}（{ph5}）提供行车记录仪视频。",
        "[nat]甲车驾驶人系香港居民，持回乡证{hxh1}，来内地探亲。",
        "车主与驾驶人不一致，车主为{p6}，电话{ph6}。",
        "乙车驾驶人未带身份证，出示护照{ppt2}。",
        "乙车车架号{vin2}，行驶证登记车主{p6}。",
    ], close=[
        "双方对事故责任无异议，签字：{p1}、{p2}。处理人：{p7}。",
        "责任划分：{p1}负全部责任，{p2}无责。",
        "现场撤离完毕，记录人{p7}，复核{x8}。",
    ]),
    "hotel": dict(weight=28, k=(2, 4), open=[
        "【旅业登记异常】{hotel}{room}房，登记住客{p1}，证件{id1}，入住时间{time}。",
        "前台{p2}报告：{time}有住客持护照{ppt1}办理入住，姓名登记为{p1}，与证件照片疑似不符。",
        "酒店 night audit：房间{room}实际入住{n2}人，仅登记{p1}一人。",
        "{hotel}前台{p2}反映：住客{p1}以{hx1}（回乡证）登记，系统提示证件状态异常。",
    ], body=[
        "[co]同住人{p3}出示台胞证，号码{tw3}，已补录。",
        "[co]同住人{p3}使用回乡证{hx3}登记。",
        "住客手机{ph1}，预订邮箱{em1}，预订渠道{ota}。",
        "客房Wi-Fi日志：设备MAC {mac1}，分配IP {lip1}，{time2}起大量上行流量。",
        "停车场登记车辆{pl4}，车主自称{p4}。",
        "押金{amt}通过银行卡预授权，卡号{card1}。",
        "访客{p5}（身份证{id5}）{time2}进入房间后未登记离开。",
        "住客登记的联系地址为{addr1}。",
        "另一住客{p6}持护照{ppt6}，与{p1}同行。",
        "网络审计系统记录该房间终端 {mac2} 登录境外网站，出口IP {ip2}。",
        "住客{p7}未带身份证，以往来港澳通行证{hk7}登记入住。",
        "住客车辆为临时牌照，车架号{vin10}，车主{p10}。",
        "客人遗留手机一部交前台保管，IMEI {imei2}，已电话通知{t1}。",
    ], close=[
        "已按要求上报治安管理系统，值班经理{p8}。",
        "当班前台{p2}，交接人{p9}。",
        "已联系{t1}补充材料，待复核。",
    ]),
    "express": dict(weight=16, k=(2, 3), open=[
        "快递投诉：寄件人{p1}（{ph1}），收件人{p2}（{ph2}），运单号{ord}，收件地址{addr2}。",
        "【理赔申请】{time}，客户{p1}称包裹破损，运单{ord}，寄件地址{addr1}。",
        "驿站异常记录：收件人{p2}的包裹被{p3}冒领，取件手机{ph3}。",
    ], body=[
        "快递员{p4}称已放入{locker}，收件人{t2}否认收到。",
        "包裹内为手机一部，IMEI {imei1}，保价{amt}。",
        "客户要求理赔材料发至邮箱{em1}，理赔款打入{card1}。",
        "派件网点负责人{p5}，网点电话{tel5}。",
        "退件地址改为{addr6}，联系人{p6}。",
        "跨境包裹清关需收件人护照号，收件人提供{ppt2}。",
    ], close=[
        "客服{p7}已登记，{n}个工作日内反馈。",
        "已升级至区域经理{s8}总处理。",
    ]),
    "telecom": dict(weight=16, k=(2, 3), open=[
        "营业厅补卡异常：{time}，自称{p1}的人持身份证{id1}办理{ph1}补卡，人脸比对未通过。",
        "机主{p1}反映其手机（IMEI {imei1}）被远程锁定，最后在线IP {ip1}。",
        "宽带报障：用户{p1}，装机地址{addr1}，光猫MAC {mac1}。",
    ], body=[
        "装维工程师{p2}（{ph2}）上门检测，光猫管理地址{lip1}无法访问。",
        "机主称收到冒充{bank}的短信，要求在“{url}”填写卡号{card1}。",
        "营业员{p3}核实后发现代办人{p4}持护照{ppt4}。",
        "机主备用联系人{pf5}，电话{ph5}，邮箱{em5}。",
        "新设备MAC {mac2} 于{time2}接入，非机主本人设备。",
    ], close=[
        "值班经理{p6}已签字确认。",
        "已报备并提醒机主拨打{svc}。",
    ]),
}

# --------------------------------------------------------------------------------------------
# near misses: no identifier at all, only look-alikes
# --------------------------------------------------------------------------------------------
NEAR = [
    "{nt}来电反映{placen}附近{issue}，已告知可拨打{svc}反映，工单号{gd}。",
    "【急诊】{nm}，男，约{age}岁，“三无”人员，由120送入，暂无法核实身份。",
    "{shop}店主{ns}老板反映门口共享单车乱停，已通知运维{nx}清理。",
    "交易流水号{badid}，交易金额{amt}，交易时间{ts}，状态：成功。",
    "客户出示的会员卡号为{badcard}，系统提示卡号无效，已引导其联系{svc}。",
    "门禁服务器升级至{ver}后，{bno}号楼读卡器偶发离线，维保{ns}工已远程处理。",
    "药房核对：{drug}，{batch}，有效期至{exp}。",
    "快递单号{ord}显示已由“{locker}”签收，收件人{nt}表示未收到。",
    "案号{case}：申请人{nm}与被申请人{nm2}就{dispute}纠纷达成调解，履行金额{amt}。",
    "{nx}在{placen}开的{shop}昨晚被盗，损失约{amt}，已报110。",
    "客服热线{hline}，投诉监督电话{hfree}，工作时间9:00-18:00。",
    "出租车司机{nx}称乘客在{placen}下车时遗落一部{phonemodel}，已交至失物招领处。",
    "网格员走访：{nt}家中{issue}，邻居{nt2}表示愿意协助。",
    "酒店前台：{room}房客人{nt}要求延迟退房至{tm}，已加收{amts}。",
    "系统日志：{ts} 用户 u_{uid} 登录失败3次，账户已锁定30分钟。",
    "手机号{masked}的用户反映被扣费{amt}，已转{svc}核实。",
    "身份证号已脱敏（{maskid}），仅用于内部统计，联系人{nt}。",
    "{nt}在{placen}的{shop}用餐后腹泻，向12315投诉，订单号{ord}。",
    "{school}{grade}{nx}同学午休时擅自离校，班主任{ns}老师已联系家长{nt}。",
    "调解员{ns}主任主持，{nm}、{nm2}到场，{nm2}表示愿意分期还款。",
    "{tm}在{road}，一辆{platepart}牌照的白色SUV与电动车刮擦，双方自行协商。",
    "发票代码{invcode}，发票号码{invno}，开票日期{date}，金额{amt}。",
    "【{bank}】尊敬的客户，您尾号{tail}的账户于{ts}支出{amt}。如有疑问请致电{bsvc}。",
    "统一社会信用代码{uscc}，法定代表人{nm}，注册资本{capital}。",
    "G{train}次列车{carno}车{seat}号座旅客突发不适，列车长{ns}某广播寻医，{ns2}医生应答。",
    "病历号{mrn}，住院号{inpat}，{bed}，主管医生{ns}主任，责任护士{nx}。",
    "App版本{appver}，设备型号{phonemodel}，问题描述：“{appissue}”。",
    "{tm}，{nx}和{nx2}在{placen}{shop}门口因停车发生口角，经劝解离开。",
    "取件码{pick}，{locker}，超时费{amts}，{nt}已代取。",
    "社区通知：{date}上午在{placen}社区活动室召开居民议事会，请{nt}等楼栋长准时参加。",
    "{nm}驾驶的{color}轿车停在{placen}附近，{nt}称该车已停放超过一周。",
    "ETC账单：{ts}通行{placen}收费站，扣费{amts}，交易编号{etcno}。",
    "{nt}的支付宝交易号{alipay}，退款{amt}已原路返回。",
    "{nt}反映{placen}地铁站{n}号口扶梯异常，已转{svc}。",
    "保单号{policy}，出险时间{ts}，被保险人{nm}，查勘员{ns}工。",
    "设备序列号{sn}，固件{ver}，通道{n}录像正常，巡检人{nx}。",
    "群聊截图显示对方昵称“{nick}”，自称{ns}警官，头像为卡通图片。",
    "{placen}派出所接报后出警，{nt}称系误会，双方握手言和。",
    "经查，{nm}此前因同类纠纷已于{date}调解过一次，{nt}到场见证。",
    "客房{room}的{nt}投诉隔壁噪音，前台{nx}已致电提醒。",
    "{tm} 收到{svc}短信验证码{sms}，客户{nt}称非本人操作。",
    "医保结算单号{settle}，统筹支付{amt}，个人自付{amt2}，经办{nx}。",
    "外卖订单{mtord}，骑手{nx}配送超时{n}分钟，平台赔付{amts}。",
    "{nt}（{school}家长）来电询问{grade}放学时间，已告知{tm}。",
    "车辆年检：行驶里程{km}公里，检验有效期至{exp}，送检人{nx}。",
    "小区{bno}号楼{unit}单元{roomno}室电梯故障，{nx}已报修，预计{tm}恢复。",
    "{nm}（女，{age}岁）与{nm2}因{dispute}发生争执，{nt}调解后双方离开。",
    "订单{eorder}已取消，退款{amt}预计{n}个工作日到账，客服{nt}。",
    "门诊收费：{drug}×{n}盒，{batch}，合计{amts}，收费员{nx}。",
    "{nt}称其在{placen}附近的ATM取款{amt}后，卡片被吞，已联系{svc}。",
    "二维码背面印有“{hline}”，扫码后跳转至{url}。",
    "报警回执编号{jjd}，接警时间{ts}，报警人{nt}，出警民警{ns}警官。",
    "{nt}和{nt2}反映{placen}夜市{issue}，已转城管{nx}处理。",
    "宾馆电视盒子固件{ver}，房号{room}，前台{ns}经理报修。",
    "电子回单号{badid}，付款方{nm}，收款方{shop}，金额{amt}。",
    "申报编号{badid}已受理，经办{ns}科长，请{nt}于{date}前补正材料。",
    "{nt}持加油卡（卡号{badcard}）充值{amt}未到账，已转{svc}。",
    "储值卡{badcard}余额{amts}，{shop}店员{nx}称系统故障无法核销。",
    "医院自助机打印的缴费流水{badid}与发票不一致，{nt}要求退费。",
    "{nt}反映在{shop}扫码支付后被重复扣款，商户订单号{mtord}，已联系{svc}。",
]

# --------------------------------------------------------------------------------------------
# generator
# --------------------------------------------------------------------------------------------
LABELLED = {"p": "PERSON", "pf": "PERSON", "pfm": "PERSON", "id": "ID_NUMBER", "idk": "ID_NUMBER", "idold": "ID_NUMBER", "ph": "PHONE",
            "tel": "PHONE", "pl": "PLATE", "card": "BANK_CARD", "em": "EMAIL", "ip": "IP_ADDRESS", "lip": "IP_ADDRESS", "addr": "ADDRESS",
            "raddr": "ADDRESS", "ppt": "PASSPORT", "hk": "TRAVEL_PERMIT", "hx": "TRAVEL_PERMIT", "hxh": "TRAVEL_PERMIT", "hxm": "TRAVEL_PERMIT",
            "tw": "TRAVEL_PERMIT", "vin": "VIN", "imei": "IMEI", "mac": "MAC_ADDRESS"}
SLOT = re.compile(r"\{([a-z]+)(\d*)(?:of(\d+))?\}")  # {pf4of3}: p4 is a relative of p3 (same surname)


class Gen:
    def __init__(self, rng: Random):
        self.rng = rng
        self.used: set[str] = set()  # labelled values and person names already used (for variety)

    # --- helpers ---------------------------------------------------------------------------
    def pick(self, seq):
        return self.rng.choice(seq)

    def d(self, n: int) -> str:
        return "".join(self.pick("0123456789") for _ in range(n))

    def fresh(self, make):
        for _ in range(200):
            v = make()
            if v not in self.used:
                self.used.add(v)
                return v
        raise AssertionError("could not make a fresh value")

    # --- people ----------------------------------------------------------------------------
    def surname(self) -> str:
        r = self.rng.random()
        if r < 0.07:
            return self.pick(SURNAMES_COMPOUND)
        if r < 0.30:
            return self.pick(SURNAMES_RARE)
        return self.pick(SURNAMES_COMMON)

    def person(self, surname: str | None = None, gender: str | None = None) -> dict:
        gender = gender or self.pick("MF")
        for _ in range(500):
            s = surname or self.surname()
            r = self.rng.random()
            if r < 0.33:
                given = self.pick(GIVEN_M1 if gender == "M" else GIVEN_F1)
            elif r < 0.66:
                given = self.pick(GIVEN_M2 if gender == "M" else GIVEN_F2)
            else:
                pool = GIVEN_M1 if gender == "M" else GIVEN_F1
                given = self.pick(pool) + self.pick(pool)
            name = s + given
            if name in FAMOUS or name in self.used or len(name) > 4:
                continue
            self.used.add(name)
            return {"name": name, "surname": s, "gender": gender}
        raise AssertionError("names exhausted")

    def polite(self, p: dict) -> str:
        if self.rng.random() < 0.75:
            return p["surname"] + ("女士" if p["gender"] == "F" else "先生")
        return p["surname"] + self.pick(["阿姨", "姐"] if p["gender"] == "F" else ["师傅", "哥", "大爷"])

    def casual(self, p: dict) -> str:
        return self.pick(["老", "小"]) + p["surname"] if len(p["surname"]) == 1 else p["surname"] + self.pick(["姐", "哥", "师傅"])

    # --- identifiers -----------------------------------------------------------------------
    def birth(self, lo: int, hi: int) -> dt.date:
        start, end = dt.date(lo, 1, 1), dt.date(hi, 12, 31)
        return start + dt.timedelta(days=self.rng.randrange((end - start).days + 1))

    def id18(self, gender: str | None, lo=1940, hi=2004, force_x=False) -> tuple[str, dt.date]:
        for _ in range(1000):
            born = self.birth(lo, hi)
            seq = self.d(2)
            g = self.rng.randrange(10)
            if gender == "M" and g % 2 == 0 or gender == "F" and g % 2 == 1:
                g = (g + 1) % 10
            body = self.pick(AREA_CODES) + born.strftime("%Y%m%d") + seq + str(g)
            value = body + id_check_char(body)
            if force_x and not value.endswith("X"):
                continue
            if value not in self.used:
                self.used.add(value)
                return value, born
        raise AssertionError

    def id15(self, gender: str | None) -> tuple[str, dt.date]:
        born = self.birth(1930, 1979)
        g = self.rng.randrange(10)
        if gender == "M" and g % 2 == 0 or gender == "F" and g % 2 == 1:
            g = (g + 1) % 10
        return self.fresh(lambda: self.pick(AREA_CODES) + born.strftime("%y%m%d") + self.d(2) + str(g)), born

    def mobile(self) -> str:
        num = self.fresh(lambda: self.pick(MOBILE_PREFIX) + self.d(8))
        r = self.rng.random()
        if r < 0.66:
            return num
        if r < 0.79:
            return f"{num[:3]}-{num[3:7]}-{num[7:]}"
        if r < 0.92:
            return f"{num[:3]} {num[3:7]} {num[7:]}"
        if r < 0.96:
            return "+86 " + num
        return "+86" + num

    def landline(self) -> str:
        area, firsts = self.pick(LANDLINE)
        local = self.fresh(lambda: self.pick(firsts) + self.d(7))
        return self.pick([f"{area}-{local}", f"{area}-{local}", f"{area} {local}", f"({area}){local}"])

    def plate(self) -> str:
        L = PLATE_LETTERS

        def make():
            head = self.pick(PROVINCES) + self.pick(L)
            r = self.rng.random()
            if r < 0.25:  # new energy, small car: D/F + 5
                tail = self.pick("DF") + (self.d(5) if self.rng.random() < 0.7 else self.pick(L) + self.d(4))
            elif r < 0.55:
                tail = self.d(5)
            elif r < 0.85:
                pos = self.rng.randrange(5)
                tail = "".join(self.pick(L) if i == pos else self.pick("0123456789") for i in range(5))
            else:
                pos = sorted(self.rng.sample(range(5), 2))
                tail = "".join(self.pick(L) if i in pos else self.pick("0123456789") for i in range(5))
            return head + tail
        return self.fresh(make)

    def card(self) -> str:
        bin_, n = self.pick(CARD_BINS)
        num = self.fresh(lambda: luhn_complete(bin_ + self.d(n - len(bin_) - 1)))
        if self.rng.random() < 0.38:
            return " ".join(num[i:i + 4] for i in range(0, len(num), 4))
        return num

    def email(self) -> str:
        def make():
            r = self.rng.random()
            if r < 0.3:
                local = str(self.rng.randrange(10000, 3999999999))
                return local + "@" + self.pick(["qq.com", "foxmail.com"])
            if r < 0.6:
                local = self.pick(PINYIN_SUR) + self.pick(["", ".", "_"]) + self.pick(PINYIN_GIV) + self.pick(["", str(self.rng.randrange(1, 99))])
            elif r < 0.8:
                local = self.pick(PINYIN_GIV)[0] + self.pick(PINYIN_GIV)[0] + self.pick(PINYIN_SUR) + str(self.rng.randrange(1960, 2012))
            else:
                local = self.pick(["sunny", "echo", "kevin", "lucky", "tiger", "amy", "jack", "moon", "river", "leo"]) + self.pick(["_", ".", ""]) + \
                    self.pick(PINYIN_SUR) + str(self.rng.randrange(10, 999))
            return local + "@" + self.pick(EMAIL_DOMAINS)
        return self.fresh(make)

    def ip(self, private: bool) -> str:
        def make():
            if private:
                r = self.rng.random()
                if r < 0.5:
                    return f"192.168.{self.rng.randrange(0, 32)}.{self.rng.randrange(2, 254)}"
                if r < 0.8:
                    return f"10.{self.rng.randrange(0, 255)}.{self.rng.randrange(0, 255)}.{self.rng.randrange(2, 254)}"
                return f"172.{self.rng.randrange(16, 32)}.{self.rng.randrange(0, 255)}.{self.rng.randrange(2, 254)}"
            return f"{self.pick(PUBLIC_OCTET1)}.{self.rng.randrange(0, 256)}.{self.rng.randrange(0, 256)}.{self.rng.randrange(1, 255)}"
        return self.fresh(make)

    def address(self) -> str:
        city, prov, districts = self.pick(CITY_DATA)
        district, roads = self.pick(districts)
        road = self.pick(roads)
        r = self.rng.random()
        prefix = "" if r < 0.45 else (city if r < 0.8 or not prov else prov + city)
        core = f"{district}{road}{self.rng.randrange(1, 999)}号"
        floor = self.rng.randrange(1, 33)
        room = f"{floor}{self.rng.randrange(1, 9):02d}" if floor > 1 else f"10{self.rng.randrange(1, 9)}"
        bld = f"{self.rng.randrange(1, 30)}{self.pick(['栋', '号楼', '幢', '座', '号楼', '栋'])}"
        unit = f"{self.rng.randrange(1, 7)}单元"
        est = self.pick(ESTATES)
        sep = " " if self.rng.random() < 0.06 else ""
        shape = self.rng.random()
        if city == "上海市" and shape < 0.35:
            core = f"{district}{road}{self.rng.randrange(100, 2999)}弄{self.rng.randrange(1, 80)}号"
            tail = f"{room}室"
        elif shape < 0.15:
            tail = ""
        elif shape < 0.50:
            tail = f"{sep}{est}{bld}{unit}{room}室"
        elif shape < 0.65:
            tail = f"{sep}{est}{bld}{room}"
        elif shape < 0.80:
            tail = f"{bld}{unit}{room}"
        elif shape < 0.92:
            tail = f"{sep}{est}{bld}{unit}{room}"
        else:
            tail = f"{sep}{est}{bld}{room}室"
        return self.fresh(lambda: prefix + core + tail)

    def rural(self) -> str:
        prov, city, county, towns = self.pick(RURAL)
        r = self.rng.random()
        prefix = "" if r < 0.35 else (city if r < 0.6 else prov + city)
        town, village = self.pick(towns), self.pick(VILLAGES)
        shape = self.rng.random()
        if shape < 0.4:
            tail = f"{self.rng.randrange(1, 15)}组"
        elif shape < 0.7:
            tail = f"{self.rng.randrange(1, 15)}组{self.rng.randrange(1, 60)}号"
        else:
            tail = f"{self.rng.randrange(1, 199)}号"
        return self.fresh(lambda: prefix + county + town + village + tail)

    def passport(self) -> str:
        def make():
            r = self.rng.random()
            if r < 0.45:
                return "E" + str(self.rng.randrange(1, 10)) + self.d(7)
            if r < 0.75:
                return "E" + self.pick("ABCDEFGHJKLMNPQRSTUVWXYZ") + self.d(7)
            return "G" + str(self.rng.randrange(1, 10)) + self.d(7)
        return self.fresh(make)

    def vin(self) -> str:
        def make():
            body = self.pick(VIN_WMI) + "".join(self.pick(VIN_CHARS) for _ in range(5)) + "0" + self.pick(VIN_YEARS) + \
                self.pick(VIN_CHARS) + self.d(6)
            return body[:8] + vin_check_char(body) + body[9:]
        return self.fresh(make)

    def imei(self) -> str:
        return self.fresh(lambda: luhn_complete(self.pick(IMEI_TAC) + self.d(12)))

    def mac(self) -> str:
        def make():
            octets = [self.rng.randrange(0, 256) & 0xFC if i == 0 else self.rng.randrange(0, 256) for i in range(6)]
            r = self.rng.random()
            if r < 0.5:
                return ":".join(f"{o:02x}" for o in octets)
            if r < 0.8:
                return "-".join(f"{o:02X}" for o in octets)
            return ":".join(f"{o:02X}" for o in octets)
        return self.fresh(make)

    # --- unlabelled fillers ----------------------------------------------------------------
    def when(self) -> str:
        d = self.birth(2023, 2025)
        h, m = self.rng.randrange(0, 24), self.rng.randrange(0, 60)
        return self.pick([f"{d.year}年{d.month}月{d.day}日{h}时{m}分", f"{d:%Y-%m-%d} {h:02d}:{m:02d}", f"{d.month}月{d.day}日{h}点{m}分许",
                          f"{d.day}日{h}时许", f"{d:%Y/%m/%d} {h:02d}:{m:02d}", f"凌晨{self.rng.randrange(1, 5)}:{m:02d}"])

    def day(self) -> str:
        d = self.birth(2023, 2025)
        return self.pick([f"{d.year}年{d.month}月{d.day}日", f"{d.month}月{d.day}日", f"{d:%Y.%m.%d}", f"{d:%Y-%m-%d}"])

    def amount(self) -> str:
        v = self.rng.randrange(2, 2000) * self.pick([10, 50, 100])
        return self.pick([f"{v}元", f"¥{v:,}.00", f"{v / 10000:g}万元" if v >= 10000 else f"{v}元", f"人民币{v}元", f"RMB {v:,}"])

    def ts(self) -> str:
        d = self.birth(2023, 2025)
        h, m, s = self.rng.randrange(24), self.rng.randrange(60), self.rng.randrange(60)
        return self.pick([f"{d:%Y-%m-%d} {h:02d}:{m:02d}:{s:02d}", f"{d:%Y%m%d}{h:02d}{m:02d}{s:02d}", f"{d:%Y/%m/%d} {h:02d}:{m:02d}"])

    def bad_id(self) -> str:
        value, _ = self.id18(None)
        wrong = self.pick([c for c in ID_CHECK if c != value[-1]])
        return value[:-1] + wrong

    def bad_card(self) -> str:
        body = self.pick(["6222", "6228", "6217", "6212", "6259"]) + self.d(12)
        return body if not luhn_ok(body) else body[:-1] + str((int(body[-1]) + 1) % 10)

    def filler(self, kind: str) -> str:
        rng = self.rng
        if kind in FILL:
            return self.pick(FILL[kind])
        r = rng.randrange
        simple = {
            "time": self.when,
            "date": self.day,
            "amt": self.amount,
            "amts": self.amount_small,
            "capital": lambda: f"{r(10, 5000)}万元",
            "ts": self.ts,
            "badid": self.bad_id,
            "badcard": self.bad_card,
            "age": lambda: str(r(19, 88)),
            "agekid": lambda: str(r(7, 17)),
            "ageold": lambda: str(r(72, 95)),
            "n": lambda: str(r(2, 9)),
            "gd": lambda: "GD" + self.day_compact() + self.d(6),
            "workid": lambda: self.pick(["", "A", "H"]) + str(r(1000, 9999)),
            "room": lambda: str(r(2, 19)) + f"{r(1, 40):02d}",
            "svc": lambda: self.pick(SERVICE),
            "bsvc": lambda: self.pick(SERVICE[:6]),
            "hline": lambda: f"400-{self.d(3)}-{self.d(4)}",
            "hfree": lambda: f"800-{self.d(3)}-{self.d(4)}",
            "case": lambda: f"（{r(2021, 2026)}）{self.pick(['浙0106', '粤0305', '京0105', '川0107', '沪0115'])}"
                            f"{self.pick(['民初', '民调', '诉前调'])}{r(100, 29999)}号",
            "ord": lambda: self.pick(["SF", "JD", "YT", "ZTO"]) + self.d(13),
            "url": lambda: self.pick(["http://", "https://", "www."]) + self.pick(["icbc-vip", "kefu-tk", "ccb-safe", "etc-update"])
                           + "." + self.pick(["top", "cc", "xyz"]),
            "ns": self.nsurname,
            "nt": lambda: self.nsurname() + self.pick(["女士", "先生", "师傅", "阿姨", "大爷", "大姐", "老师", "经理", "老板", "女士", "先生"]),
            "nx": lambda: self.pick(["老", "小"]) + self.pick(SURNAMES_COMMON),
            "nm": lambda: self.nsurname() + self.pick(["某", "某某"]),
            "placen": lambda: self.pick(PLACE_LOOKALIKE),
            "shop": lambda: self.pick(SHOPS),
            "ver": lambda: self.pick([f"v{r(1, 9)}.{r(0, 20)}.{r(0, 30)}", f"V5.{r(3, 8)}.{r(10, 99)} build {self.d(6)}",
                                      f"V2.{r(400, 900)}.0000000.{r(1, 30)}.R", f"V{r(1, 4)}.{r(0, 9)}.{r(0, 20)}_{self.d(6)}"]),
            "appver": lambda: self.pick([f"iOS {r(15, 18)}.{r(0, 7)}.{r(1, 3)}", f"Android {r(10, 15)}", f"{r(5, 12)}.{r(0, 30)}.{r(0, 9)}",
                                         f"Chrome {r(100, 125)}.0.{r(5000, 6500)}.{r(10, 200)}", f"HIS 6.{r(0, 9)}.{r(0, 9)}"]),
            "phonemodel": lambda: self.pick(["iPhone 15 Pro", "HUAWEI Mate 60", "Redmi K70", "vivo X100", "OPPO Reno11", "荣耀Magic6"]),
            "bno": lambda: str(r(1, 30)),
            "unit": lambda: str(r(1, 6)),
            "roomno": lambda: f"{r(2, 30)}0{r(1, 6)}",
            "batch": lambda: self.pick([f"批号{self.d(6)}", f"批号：B{self.d(7)}", f"国药准字H{self.pick(['19', '20'])}{self.d(6)}",
                                       f"国药准字Z{self.pick(['19', '20'])}{self.d(6)}", f"批号 {self.pick(['23', '24'])}{self.d(4)}-{self.d(2)}"]),
            "exp": lambda: f"{r(2025, 2029)}.{r(1, 13):02d}",
            "tm": lambda: f"{r(7, 22)}:{self.pick(['00', '15', '30', '45'])}",
            "uid": lambda: self.d(7),
            "masked": lambda: self.pick(MOBILE_PREFIX) + "****" + self.d(4),
            "maskid": lambda: self.pick(AREA_CODES)[:4] + "*" * 10 + self.d(3) + self.pick("0123456789X"),
            "platepart": lambda: self.pick([self.pick(PROVINCES) + self.pick("ABCDE"), "沪牌",
                                            self.pick(PROVINCES) + self.pick("ABE") + "·" + self.d(1) + "**" + self.d(1) + "Q"]),
            "invcode": lambda: "0" + self.d(11),
            "invno": lambda: self.d(8),
            "tail": lambda: self.d(4),
            "uscc": lambda: "91" + self.pick(AREA_CODES) + "MA" + "".join(self.pick("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8)),
            "train": lambda: str(r(1, 9999)),
            "carno": lambda: f"{r(1, 17):02d}",
            "seat": lambda: f"{r(1, 18):02d}{self.pick('ABCDF')}",
            "mrn": lambda: "MZ" + self.d(10),
            "inpat": lambda: "ZY" + self.d(8),
            "pick": lambda: f"{r(1, 99)}-{r(1, 9)}-{self.d(4)}",
            "etcno": lambda: "ET" + self.d(12) + self.pick("ABC"),
            "alipay": lambda: self.day_compact() + "2200" + self.d(12),
            "policy": lambda: "PDAA" + self.day_compact()[:4] + "3301" + self.d(8),
            "sn": lambda: "DS-7808N-K1/C" + self.day_compact() + "CCRRJ" + self.d(8) + "WCVU",
            "nick": lambda: self.pick(["追风少年", "财富自由", "安心理财顾问", "小甜甜", "客服小美"]),
            "sms": lambda: self.d(6),
            "settle": lambda: "JS" + self.d(14),
            "mtord": lambda: "8" + self.d(17),
            "km": lambda: f"{r(3000, 190000)}",
            "eorder": lambda: "E" + self.day_compact() + self.d(6),
            "jjd": lambda: "J" + self.pick(["3301", "4403", "1101"]) + self.day_compact() + self.d(4),
        }
        if kind in simple:
            return simple[kind]()
        raise KeyError(kind)

    def amount_small(self) -> str:
        v = self.rng.randrange(3, 500)
        return self.pick([f"{v}元", f"¥{v}.00", f"{v}块", f"RMB {v}"])

    def nsurname(self) -> str:
        return self.pick(SURNAMES_COMPOUND) if self.rng.random() < 0.08 else self.pick(SURNAMES_COMMON + SURNAMES_RARE[:30])

    def day_compact(self) -> str:
        return f"{self.birth(2023, 2025):%Y%m%d}"


class Note:
    """One text being assembled: slot values are remembered, so {p1} twice is the same person."""

    def __init__(self, gen: Gen):
        self.g = gen
        self.cache: dict[str, object] = {}

    def person(self, idx: str, family: bool = False, gender: str | None = None, of: str | None = None) -> dict:
        key = "p" + idx
        if key not in self.cache:
            names = {p["name"] for k, p in self.cache.items() if k.startswith("p") and isinstance(p, dict)}
            sur = None
            anchor = self.cache.get("p" + (of or ("1" if idx != "1" else "2")))
            if family and isinstance(anchor, dict):
                sur = anchor["surname"]
            while True:
                p = self.g.person(sur, gender)
                if p["name"] not in names:
                    break
            self.cache[key] = p
        return self.cache[key]

    def ident(self, kind: str, idx: str) -> tuple[str, dt.date]:
        key = kind + idx
        if key not in self.cache:
            owner = self.cache.get("p" + idx)
            gender = owner["gender"] if isinstance(owner, dict) else None
            if kind == "idk":
                self.cache[key] = self.g.id18(gender, 2008, 2017)
            elif kind == "idold":
                self.cache[key] = self.g.id15(gender)
            else:
                self.cache[key] = self.g.id18(gender, force_x=self.g.rng.random() < 0.06)
        return self.cache[key]

    def value(self, kind: str, idx: str, of: str | None = None) -> str:
        g = self.g
        if kind in ("p", "pf", "pfm"):
            return self.person(idx, family=kind != "p", gender="M" if kind == "pfm" else None, of=of)["name"]
        if kind in ("id", "idk", "idold"):
            return self.ident(kind, idx)[0]
        if kind == "bd":
            born = self.ident("id", idx)[1]
            return self.cache.setdefault("bd" + idx, g.pick([f"{born.year}年{born.month}月{born.day}日", f"{born:%Y-%m-%d}", f"{born:%Y.%m.%d}"]))
        if kind == "g":
            return "男" if self.person(idx)["gender"] == "M" else "女"
        if kind == "t":
            return self.cache.setdefault("t" + idx, g.polite(self.person(idx)))
        if kind == "x":
            return self.cache.setdefault("x" + idx, g.casual(self.person(idx)))
        if kind == "m":
            return self.person(idx)["surname"] + "某"
        if kind == "s":  # bare surname, the template writes the title after it (王主任)
            return self.person(idx)["surname"]
        key = kind + idx
        if key in self.cache:
            return self.cache[key]
        makers = {"ph": g.mobile, "tel": g.landline, "pl": g.plate, "card": g.card, "em": g.email, "ip": lambda: g.ip(False),
                  "lip": lambda: g.ip(True), "addr": g.address, "raddr": g.rural, "ppt": g.passport,
                  "hk": lambda: g.fresh(lambda: "C" + g.d(8)), "hx": lambda: g.fresh(lambda: g.pick("HHM") + g.d(8)),
                  "hxh": lambda: g.fresh(lambda: "H" + g.d(8)), "hxm": lambda: g.fresh(lambda: "M" + g.d(8)),
                  "tw": lambda: g.fresh(lambda: g.pick("01") + g.d(7)), "vin": g.vin, "imei": g.imei, "mac": g.mac}
        v = makers[kind]() if kind in makers else g.filler(kind)
        self.cache[key] = v
        return v


def assemble(note: Note, template: str, style: dict) -> tuple[str, list[list]]:
    """Fill one template; returns text and labelled spans (offsets relative to this piece)."""
    rng = note.g.rng
    parts: list[tuple[str, str | None]] = []  # (text, label type or None for literal/filler)
    pos = 0
    for m in SLOT.finditer(template):
        if m.start() > pos:
            parts.append((template[pos:m.start()], "LIT"))
        kind, idx = m.group(1), m.group(2)
        parts.append((note.value(kind, idx, m.group(3)), LABELLED.get(kind)))
        pos = m.end()
    if pos < len(template):
        parts.append((template[pos:], "LIT"))

    text, spans = "", []
    for i, (piece, label) in enumerate(parts):
        if label == "LIT":
            piece = restyle(piece, style, rng)
            nxt = parts[i + 1][1] if i + 1 < len(parts) else None
            if nxt not in (None, "LIT") and piece and re.search(r"[\u4e00-\u9fff:：]$", piece) and rng.random() < style["space"]:
                piece += " "
            prv = parts[i - 1][1] if i > 0 else None
            if prv not in (None, "LIT") and piece and re.match(r"[\u4e00-\u9fff]", piece) and rng.random() < style["space"] / 3:
                piece = " " + piece
            text += piece
        elif label is None:
            text += piece
        else:
            spans.append([label, len(text), len(text) + len(piece), piece])
            text += piece
    return text, spans


HALF = {"，": ",", "：": ":", "；": ";", "（": "(", "）": ")", "！": "!", "？": "?"}


def restyle(piece: str, style: dict, rng: Random) -> str:
    out = []
    for ch in piece:
        if ch in HALF and rng.random() < style["half"]:
            ch = HALF[ch]
        if style["corner"] and ch in "“”":
            ch = "「" if ch == "“" else "」"
        out.append(ch)
    return "".join(out)


def make_note(gen: Gen, genre: dict) -> tuple[str, list[list]]:
    rng = gen.rng
    note = Note(gen)
    style = {"half": rng.choice([0, 0, 0.3, 0.8]), "space": rng.choice([0, 0, 0.25, 0.5]), "corner": rng.random() < 0.3}
    pieces = [rng.choice(genre["open"])]
    k = rng.randint(*genre["k"])
    groups: set[str] = set()
    for tpl in rng.sample(genre["body"], len(genre["body"])):
        m = re.match(r"\[(\w+)\]", tpl)
        if m and m.group(1) in groups:
            continue  # e.g. a Hong Kong resident and a foreign passport holder are not the same patient
        if m:
            groups.add(m.group(1))
        pieces.append(tpl[m.end():] if m else tpl)
        if len(pieces) == 1 + k:
            break
    if rng.random() < 0.85:
        pieces.append(rng.choice(genre["close"]))
    joiner = rng.choice(["", "", "\n", " "])
    text, spans = "", []
    for i, tpl in enumerate(pieces):
        if i:
            if not text.endswith("\n"):
                text += joiner if joiner == "\n" or text.endswith(("。", "！", "？", ".")) else "\n"
        piece, sp = assemble(note, tpl, style)
        base = len(text)
        spans += [[t, s + base, e + base, v] for t, s, e, v in sp]
        text += piece
    return text, spans


def make_near(gen: Gen, template: str) -> str:
    """A near miss: fillers only. {nm2}/{nt2}/{nx2} are a second, different value of {nm}/{nt}/{nx}."""
    style = {"half": gen.rng.choice([0, 0, 0.5]), "corner": gen.rng.random() < 0.3}
    seen: dict[str, str] = {}
    out, pos = [], 0
    for m in SLOT.finditer(template):
        out.append(restyle(template[pos:m.start()], style, gen.rng))
        key, kind = m.group(0), m.group(1)
        assert kind not in LABELLED, template
        if key not in seen:
            others = {v for k, v in seen.items() if k.startswith("{" + kind)}
            v = gen.filler(kind)
            while v in others:
                v = gen.filler(kind)
            seen[key] = v
        out.append(seen[key])
        pos = m.end()
    out.append(restyle(template[pos:], style, gen.rng))
    return "".join(out)


# --------------------------------------------------------------------------------------------
# self-checks
# --------------------------------------------------------------------------------------------
STRAY = [
    ("PHONE", re.compile(r"(?<![\d*])1[3-9]\d{9}(?!\d)")),
    ("ID_NUMBER", re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")),
    ("ID_NUMBER", re.compile(r"(?<!\d)\d{15}(?!\d)")),
    ("BANK_CARD", re.compile(r"(?<!\d)62\d{14,17}(?!\d)")),
    ("IMEI", re.compile(r"(?<!\d)(?:35|86)\d{13}(?!\d)")),
    ("EMAIL", re.compile(r"[A-Za-z0-9._-]+@[A-Za-z0-9-]+\.[A-Za-z]")),
    ("IP_ADDRESS", re.compile(r"(?<![\d.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\d.])")),
    ("MAC_ADDRESS", re.compile(r"[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}")),
    ("PLATE", re.compile(rf"[{PROVINCES}][{PLATE_LETTERS}][{PLATE_LETTERS}0-9]{{5}}")),
    ("VIN", re.compile(r"(?<![A-Z0-9])[A-HJ-NPR-Z0-9]{17}(?![A-Z0-9])")),
]


def stray_hits(text: str, spans: list[list]) -> list[str]:
    masked = list(text)
    for _, s, e, *_ in spans:
        for i in range(s, e):
            masked[i] = "\u3000"
    rest = "".join(masked)
    hits = []
    for label, rx in STRAY:
        for m in rx.finditer(rest):
            v = m.group(0)
            if label == "ID_NUMBER" and not (id18_ok(v) if len(v) == 18 else id15_ok(v)):
                continue
            if label in ("BANK_CARD", "IMEI") and not luhn_ok(v):
                continue
            if label == "IP_ADDRESS" and not ipv4_ok(v):
                continue
            if label == "VIN" and not vin_ok(v):
                continue
            hits.append(f"{label}:{v}")
    return hits


def check_row(row: dict) -> None:
    text = row["text"]
    last_end = -1
    for label, s, e in sorted(row["entities"], key=lambda x: x[1]):
        assert s >= last_end, ("overlap", row)
        last_end = e
        assert 0 <= s < e <= len(text), row
        v = text[s:e]
        assert v == v.strip(), ("edge whitespace", v)
        assert VALIDATORS[label](v), ("validator", label, v)


def build() -> list[dict]:
    rng = Random(2027)
    gen = Gen(rng)
    rows: list[dict] = []
    texts: set[str] = set()
    names = list(GENRES)
    weights = [GENRES[n]["weight"] for n in names]
    while sum(r["kind"] == "note" for r in rows) < N_NOTES:
        genre = GENRES[rng.choices(names, weights)[0]]
        text, spans = make_note(gen, genre)
        for label, s, e, v in spans:
            assert text[s:e] == v, (text, label, s, e, v)
        if text in texts or stray_hits(text, spans):
            continue
        texts.add(text)
        row = {"kind": "note", "hint": "", "text": text, "entities": [[t, s, e] for t, s, e, _ in spans]}
        check_row(row)
        rows.append(row)
    order = list(range(len(NEAR)))
    i = 0
    while sum(r["kind"] == "near_miss" for r in rows) < N_NEAR:
        if i % len(order) == 0:
            rng.shuffle(order)
        text = make_near(gen, NEAR[order[i % len(order)]])
        i += 1
        if text in texts or stray_hits(text, []):
            continue
        texts.add(text)
        rows.append({"kind": "near_miss", "hint": "", "text": text, "entities": []})
    rng.shuffle(rows)
    # no person name of the notes may occur inside a near miss
    persons = {r["text"][s:e] for r in rows if r["kind"] == "note" for t, s, e in r["entities"] if t == "PERSON"}
    for r in rows:
        if r["kind"] == "near_miss":
            assert not any(p in r["text"] for p in persons), r["text"]
    return rows


def main() -> int:
    rows = build()
    with OUT.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    kinds = Counter(r["kind"] for r in rows)
    labels = Counter(t for r in rows for t, _, _ in r["entities"])
    print(f"wrote {len(rows)} rows to {OUT} ({dict(kinds)})")
    for label, n in sorted(labels.items(), key=lambda kv: -kv[1]):
        print(f"  {label:14s} {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
