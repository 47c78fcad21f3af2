"""Presidio, fully offline, with govlake's Chinese lexical analysis and recognizers.

Presidio's NLP engine here is govlake's own (`LexicalNlpEngine`): it gives Presidio the words and
tags of `govlake.pii.words` (jieba-rs, dictionary inside its wheel), so no spaCy model is
downloaded or loaded. Presidio's own LemmaContextAwareEnhancer scores context on those whole
words (电话, 身份证号, 目击者), configured like the batch path (`CONTEXT_BOOST`, no minimum score,
`PREFIX_WORDS` words before the span), and the recognizers hand Presidio their context words
instead of applying them themselves. The batch scrubber (`recognizers.find`) applies the same
rule to the same words; a test checks both give the same entities on the labelled corpora.
"""
from __future__ import annotations

from functools import lru_cache

from govlake.pii import recognizers as rec, words as W

LANGUAGE = "zh"


def _engine_class():
    from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine

    class LexicalNlpEngine(NlpEngine):
        """Words, tags and offsets from `govlake.pii.words`; no named entities of its own."""

        def load(self) -> None:
            W.tag("")

        def is_loaded(self) -> bool:
            return True

        def process_text(self, text: str, language: str) -> NlpArtifacts:
            words = W.tag(text)
            artifacts = NlpArtifacts(entities=[], tokens=[w.text for w in words], tokens_indices=[w.start for w in words],
                                     lemmas=[w.text for w in words], nlp_engine=self, language=language)
            artifacts.words = words  # the tagged words, for the name recognizer
            return artifacts

        def process_batch(self, texts, language, batch_size=1, n_process=1, **kwargs):
            for text in texts:
                yield text, self.process_text(text, language)

        def is_stopword(self, word: str, language: str) -> bool:
            return W.is_stop(word)

        def is_punct(self, word: str, language: str) -> bool:
            return W.is_punct(word)

        def get_supported_entities(self) -> list[str]:
            return []

        def get_supported_languages(self) -> list[str]:
            return [LANGUAGE]

    return LexicalNlpEngine


def _recognizer_class():
    from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult

    class GovlakeRecognizer(EntityRecognizer):
        """One govlake recognizer (pattern and validator, or the name finder) as a Presidio
        recognizer; Presidio applies its context words."""

        def __init__(self, recognizer):
            self._rec = recognizer
            super().__init__(supported_entities=[recognizer.entity], name=f"govlake_{recognizer.entity.lower()}_{recognizer.name or 'pattern'}",
                             supported_language=LANGUAGE, context=list(recognizer.context))

        def load(self) -> None:
            pass

        def analyze(self, text, entities, nlp_artifacts=None):
            if self._rec.entity not in entities:
                return []
            words = getattr(nlp_artifacts, "words", None)
            words = W.tag(text) if words is None else words
            return [RecognizerResult(self._rec.entity, start, end, score, analysis_explanation=AnalysisExplanation(self.name, score))
                    for start, end, score in self._rec.candidates(text, words)]

    return GovlakeRecognizer


@lru_cache(maxsize=1)
def analyzer():
    """Presidio's AnalyzerEngine with govlake's NLP engine and recognizers only (no model download).
    Presidio's own logger is kept at WARNING: at INFO it lists every recognizer on each start, and
    at DEBUG it logs the context words around spans, which are note text."""
    import logging

    logging.getLogger("presidio-analyzer").setLevel(logging.WARNING)
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    cls = _recognizer_class()
    for r in rec.ALL:
        registry.add_recognizer(cls(r))
    enhancer = LemmaContextAwareEnhancer(context_similarity_factor=rec.CONTEXT_BOOST, min_score_with_context_similarity=0,
                                         context_prefix_count=W.PREFIX_WORDS, context_suffix_count=0)
    return AnalyzerEngine(registry=registry, nlp_engine=_engine_class()(), supported_languages=[LANGUAGE], context_aware_enhancer=enhancer)


def analyze(text: str, hint: str = "") -> list[rec.Entity]:
    """Presidio's analysis of `text`, resolved like `recognizers.find` (threshold, then overlaps).
    `hint` (a column name) is passed to Presidio as context."""
    results = analyzer().analyze(text=text, language=LANGUAGE, entities=list(rec.ENTITY_TYPES), context=[hint.lower()] if hint else None)
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
