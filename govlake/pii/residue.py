"""Residue: personal information still present in text that was scrubbed.

The analytic tier's free text (`events_deidentified.note_scrubbed`) crosses into other
departments' hands, so the compliance report states the share of scrubbed notes in which
personal information is still found, by two detectors:

- **classifier**: govlake's own recognizers again, at the lower suspicion threshold
  (`SUSPICION`), so a span the scrub scored just under its threshold counts here;
- **second opinion**: an independent detector that shares no code with the recognizers and
  works differently: person names by cue words and forms of address (not by lexical analysis),
  and identifier shapes without validation (any run of seven or more digits, anything
  plate-shaped, e-mail-shaped or address-shaped). It is deliberately broad: what it flags is
  worth a look, not necessarily a leak.

Only counts by type leave this module; the flagged text itself is never returned or logged.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

from govlake.pii import recognizers as rec

SUSPICION = 0.3
PLACEHOLDER = re.compile(r"<[A-Z_]+>")

_CUES = ("报警人", "联系人", "驾驶人", "当事人", "车主", "嫌疑人", "受害人", "负责人", "户主", "求助人", "市民", "失主", "乘客", "伤者",
         "业主", "租户", "目击者", "民警", "辅警", "持卡人", "店主", "房东", "保安", "司机", "邻居", "同事", "母亲", "父亲", "妻子", "丈夫",
         "姓名", "涉事人员", "网格员", "快递员", "外卖员", "学生", "老人")
_SURNAME_CHARS = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
SECOND_OPINION = {
    "PERSON": re.compile(rf"(?:{'|'.join(_CUES)})[：:是为\s]*[{_SURNAME_CHARS}][\u4e00-\u9fa5]|[{_SURNAME_CHARS}][\u4e00-\u9fa5]{{0,2}}(?:先生|女士)"),
    "NUMBER": re.compile(r"\d(?:[ -]?\d){6,}"),
    "PLATE": re.compile(r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][·\s]?[A-Z0-9]{5,6}"),
    "EMAIL": re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),
    "ADDRESS": re.compile(r"\d+(?:号楼|栋|幢)|\d+单元|\d+室|村[\d一二三四五六七八九十]+组"),
}


def _clean(text: str) -> str:
    return PLACEHOLDER.sub("＊", text)


def classifier_types(scrubbed: str) -> set[str]:
    """Entity types the recognizers still find in a scrubbed text, at the suspicion threshold."""
    return {e.type for e in rec.find(_clean(scrubbed), threshold=SUSPICION)}


def second_opinion_types(scrubbed: str) -> set[str]:
    """Entity shapes the independent detector finds in a scrubbed text."""
    text = _clean(scrubbed)
    return {t for t, p in SECOND_OPINION.items() if p.search(text)}


def measure(scrubbed: Iterable[str | None]) -> dict:
    """Shares of non-empty scrubbed texts flagged by each detector, with counts by type."""
    checked = 0
    flagged = Counter()
    by_type = {"classifier": Counter(), "second_opinion": Counter()}
    for text in scrubbed:
        if not text or not text.strip():
            continue
        checked += 1
        found = {"classifier": classifier_types(text), "second_opinion": second_opinion_types(text)}
        for k, types in found.items():
            by_type[k].update(types)
            flagged[k] += bool(types)
        flagged["either"] += bool(found["classifier"] or found["second_opinion"])
    share = lambda n: round(n / checked, 6) if checked else None  # noqa: E731
    return {"checked": checked,
            **{k: {"flagged": flagged[k], "share": share(flagged[k]), "by_type": dict(sorted(by_type[k].items()))} for k in by_type},
            "either": {"flagged": flagged["either"], "share": share(flagged["either"])}}


def leaked(text: str, labels: list[tuple[str, int, int]], scrubbed_entities: list[rec.Entity]) -> list[str]:
    """Types of labelled spans the scrub did not cover completely (ground truth for generated text)."""
    out = []
    for t, s, e in labels:
        covered = set()
        for ent in scrubbed_entities:
            covered.update(range(max(s, ent.start), min(e, ent.end)))
        if len(covered) < e - s:
            out.append(t)
    return out
