"""The Chinese PII recognizers on the labelled corpus, through Presidio and directly."""
from __future__ import annotations

from pathlib import Path

import pytest

from govlake.departments import personal
from govlake.pii import engine, evaluate, recognizers as rec

CORPUS = Path(__file__).resolve().parents[1] / "cases" / "pii_corpus.jsonl"


@pytest.fixture(scope="module")
def corpus():
    rows = evaluate.load(CORPUS)
    assert len(rows) >= 500 and sum(len(r["entities"]) for r in rows) >= 500
    return rows


def test_precision_and_recall_on_the_labelled_corpus(corpus):
    scores, mistakes = evaluate.score(corpus)
    for t in ("ID_NUMBER", "PHONE", "PLATE"):
        assert scores[t]["precision"] >= 0.97 and scores[t]["recall"] >= 0.97, (t, scores[t], mistakes[:10])
    for t in rec.ENTITY_TYPES:
        assert scores[t]["tp"] > 0, t
        assert scores[t]["precision"] >= 0.9 and scores[t]["recall"] >= 0.9, (t, scores[t], mistakes[:10])


def test_presidio_analyzer_gives_the_same_entities_as_the_batch_path(corpus, settings):
    for row in corpus:
        if row["hint"]:
            continue  # column hints are a classifier feature, not part of free-text analysis
        assert engine.analyze(settings, row["text"]) == rec.find(row["text"]), row["text"]


def test_the_blank_pipeline_is_loaded_from_disk_not_downloaded(settings):
    path = engine.blank_model(settings)
    assert (path / "meta.json").is_file() and str(path).startswith(str(settings.state))


@pytest.mark.parametrize("text", [
    "11010519900307123X",  # check digit wrong for this body
    "订单号202611251234567890",
    "座机010-62345678",
    "时间20261125143000",
    "1764057600000",
    "6222021234567890127",  # fails Luhn
    "京I12345",  # I is not a plate letter
    "11010500001321000001",  # 20-digit device ID
])
def test_near_misses_are_not_flagged(text):
    assert rec.find(text) == [], text


def test_a_valid_check_digit_is_required_for_an_id_number():
    import random

    rng = random.Random(1)
    for _ in range(200):
        good = personal.id_number(rng)
        assert [e.type for e in rec.find(good)] == ["ID_NUMBER"]
        bad = good[:17] + next(c for c in "0123456789X" if c != good[17])
        assert rec.find(bad) == []


def test_context_raises_scores():
    bare = rec.find("116.397128")
    assert bare == []  # a lone decimal is not a coordinate ...
    assert [e.type for e in rec.find("经度116.397128")] == ["COORDINATES"]  # ... next to 经度 it is
    assert [e.type for e in rec.find("116.397128", hint="lon")] == ["COORDINATES"]  # or in a column named lon
    phone = rec.find("13812345678")[0].score
    assert rec.find("电话13812345678")[0].score > phone


def test_scrub_replaces_each_entity_with_its_placeholder():
    text = "报警人张伟，电话138-1234-5678，车牌京AD12345。"
    assert rec.scrub(text) == "报警人<PERSON>，电话<PHONE>，车牌<PLATE>。"
    assert engine.anonymize(text, rec.find(text)) == rec.scrub(text)
