"""Chinese lexical analysis for the recognizers: words, part-of-speech tags and context words.

The segmenter is jieba-rs (PyPI `rjieba`): jieba's dictionary and part-of-speech tags (`nr` for
person names) are compiled into the wheel, so nothing is downloaded at run time, and it tags a
line in microseconds, which keeps the Spark scrub a fast batch function. (Measured against
Python jieba's `posseg`, same dictionary, about 90x slower, and THULAC, better raw name tags but
about 2,000x slower and licensed for research only; see BENCHMARKS.md.)

Context words follow Presidio's LemmaContextAwareEnhancer exactly (the word holding the span's
first character and the `PREFIX_WORDS` keywords before it; a keyword is a word that is neither
a stop word nor punctuation; a context word counts when it is a substring of one of them), so the
batch scrubber and Presidio's analyzer, which does its own context enhancement on the words this
module gives it, score every span the same.
"""
from __future__ import annotations

import bisect
import re
from functools import lru_cache
from typing import NamedTuple

PREFIX_WORDS = 5
# Function words that do not count towards the context window (Presidio's `is_stopword`).
STOP_WORDS = frozenset("的 了 着 过 是 在 于 和 与 及 或 并 也 都 就 还 又 等 把 被 对 将 其 之 而 从 向 往 到 为 以 且 则".split())
# Words the default dictionary lacks or splits badly in incident notes (role nouns that often
# precede a name, and verbs that often follow one); added so names are not glued to them.
EXTRA_WORDS = (
    "目击者", "涉事人员", "涉事", "持卡人", "网格员", "值班员", "外卖员", "快递员", "辅警", "民警", "报警人", "当事人",
    "嫌疑人", "受害人", "驾驶人", "求助人", "联系人", "负责人", "店主", "房东", "租客", "保安", "司机", "邻居", "同事",
    "车主", "失主", "业主", "户主", "伤者", "乘客", "群众", "市民", "租户", "操作人", "寄件人", "收件人", "持证人", "来电人",
    "报案人", "收款人", "使用人", "机主", "家属", "室友", "其母", "其父", "其妻", "其子", "村民", "居民", "住户", "教练", "学员",
    "访客", "清障员", "楼长", "名下", "登记人", "申请人", "被申请人", "委托人", "代理人", "投诉人", "记录人", "住客", "值班人",
    "报称", "反映", "表示", "描述", "陪同", "驾驶", "离开", "自称", "声称", "证实", "供述", "辨认",
)

EXTRA_FREQUENCY = 20000


class Word(NamedTuple):
    text: str
    tag: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _segmenter():
    import rjieba

    seg = rjieba.Jieba()
    for w in EXTRA_WORDS:  # frequent enough to win over a split that glues a surname to them
        seg.add_word(w, EXTRA_FREQUENCY, "n" if w[-1] in "者员警人主东安机居事客众民户" else "v")
    return seg


def tag(text: str) -> list[Word]:
    """`text` as words with their part-of-speech tags and character offsets."""
    out, pos = [], 0
    new = tuple.__new__
    for w, t in _segmenter().tag(text, True):
        end = pos + len(w)
        out.append(new(Word, (w, t, pos, end)))
        pos = end
    return out


def in_dictionary(word: str) -> bool:
    return _segmenter().has_word(word)


def frequency(word: str) -> int:
    """How strongly the dictionary holds `word` together: jieba's `suggest_freq`, at least the
    word's dictionary frequency, 1 for a sequence it does not know."""
    return _segmenter().suggest_freq(word)


_WORD_CHAR = re.compile(r"[^\W_]")


def is_punct(word: str) -> bool:
    """Punctuation or space: no letter, digit or Chinese character in it."""
    return _WORD_CHAR.search(word) is None


def is_stop(word: str) -> bool:
    return word in STOP_WORDS


def keywords(words: list[Word]) -> set[str]:
    """The words that count as context (Presidio's `NlpArtifacts.keywords`)."""
    out = set()
    for w in words:
        t = w.text
        if t not in STOP_WORDS and _WORD_CHAR.search(t) is not None:
            if ":" in t:
                out.update(t.lower().split(":"))
            else:
                out.add(t.lower())
    return out


def context_before(words: list[Word], starts: list[int], keys: set[str], start: int, n: int = PREFIX_WORDS) -> list[str]:
    """The context words of a span starting at `start`: the word holding that character and the
    `n` keywords before it (Presidio's `_extract_surrounding_words` with no suffix words).
    `starts` are the words' start offsets and `keys` their keywords, both computed once per text."""
    if not words or start >= words[-1].end:
        return []
    index = bisect.bisect_right(starts, start) - 1  # the word holding `start`
    out, remaining = [], n + 1
    i = index
    while i >= 0 and remaining > 0:
        lower = words[i].text.lower()
        if lower in keys:
            out.append(lower)
            remaining -= 1
        i -= 1
    return out
