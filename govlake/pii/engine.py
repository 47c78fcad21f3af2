"""Presidio, fully offline, with govlake's Chinese recognizers.

No spaCy model is downloaded: a blank Chinese pipeline (`spacy.blank("zh")`, character
segmentation, no dependencies) is saved once under `<state>/nlp/zh_blank` and loaded by path.
The blank pipeline splits text into single characters, so Presidio's own context enhancer never
sees words like 电话: context is scored inside the recognizers (`govlake.pii.recognizers`), and
Presidio's enhancer is not given context words.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from govlake.core.settings import Settings
from govlake.pii import recognizers as rec

LANGUAGE = "zh"


def blank_model(settings: Settings) -> Path:
    """The blank Chinese spaCy pipeline on disk (created on first use)."""
    path = settings.state / "nlp" / "zh_blank"
    if not (path / "meta.json").is_file():
        import spacy

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(".zh_blank.tmp")
        spacy.blank(LANGUAGE).to_disk(tmp)
        tmp.replace(path)
    return path


def _recognizer_class():
    from presidio_analyzer import EntityRecognizer, RecognizerResult

    class GovlakeRecognizer(EntityRecognizer):
        """One govlake recognizer (pattern, validator, context scoring) as a Presidio recognizer."""

        def __init__(self, recognizer: rec.Recognizer):
            self._rec = recognizer
            super().__init__(supported_entities=[recognizer.entity], name=f"govlake_{recognizer.entity.lower()}",
                             supported_language=LANGUAGE)

        def load(self) -> None:
            pass

        def analyze(self, text, entities, nlp_artifacts=None):
            if self._rec.entity not in entities:
                return []
            return [RecognizerResult(self._rec.entity, start, end, score) for start, end, score in self._rec.scored(text)]

    return GovlakeRecognizer


@lru_cache(maxsize=4)
def _analyzer(model_path: str):
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    nlp = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": LANGUAGE, "model_name": model_path}],
    }).create_engine()
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    cls = _recognizer_class()
    for r in rec.RECOGNIZERS:
        registry.add_recognizer(cls(r))
    return AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=[LANGUAGE])


def analyzer(settings: Settings):
    """Presidio's AnalyzerEngine with govlake's recognizers only (no model download)."""
    return _analyzer(str(blank_model(settings)))


def analyze(settings: Settings, text: str) -> list[rec.Entity]:
    """Presidio's analysis of `text`, resolved like `recognizers.find` (threshold, then overlaps)."""
    results = analyzer(settings).analyze(text=text, language=LANGUAGE, entities=list(rec.ENTITY_TYPES))
    return rec.resolve([rec.Entity(r.entity_type, r.start, r.end, r.score) for r in results])


@lru_cache(maxsize=1)
def _anonymizer():
    from presidio_anonymizer import AnonymizerEngine

    return AnonymizerEngine()


def anonymize(text: str, entities: list[rec.Entity]) -> str:
    """Replace each entity by its typed placeholder with Presidio's anonymizer."""
    from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

    if not entities:
        return text
    results = [RecognizerResult(e.type, e.start, e.end, e.score) for e in entities]
    operators = {t: OperatorConfig("replace", {"new_value": f"<{t}>"}) for t in {e.type for e in entities}}
    return _anonymizer().anonymize(text=text, analyzer_results=results, operators=operators).text
