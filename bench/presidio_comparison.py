"""Microsoft Presidio's analyzer on the screening bench's texts: the comparison bench/screening.py prints.

Needs `uv sync --group bench`; without it the comparison is reported as skipped. Nothing is downloaded.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

PRESIDIO_TEXTS = 300  # Presidio is slow: a fixed, evenly spread subset keeps the run bounded


def roster_deny_list(pupils) -> list[str]:
    """The roster as Presidio would be given it: every full name (forename and preferred forename + surname)."""
    return sorted({f"{forename} {surname}" for p in pupils for forename in p.forenames for surname in p.surnames})


def measure_presidio(texts, *, roster_names: list[str] | None = None) -> dict:
    try:
        import spacy
        import tldextract
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except ImportError as error:
        return {"skipped": f"presidio-analyzer/spacy not installed ({error}); run `uv sync --group bench`"}
    import tempfile

    from presidio_analyzer.predefined_recognizers.generic import email_recognizer

    # Presidio's email recogniser fetches the public suffix list at run time; use tldextract's bundled copy.
    email_recognizer.tldextract = type(
        "Offline", (), {"extract": staticmethod(tldextract.TLDExtract(suffix_list_urls=()))}
    )
    if spacy.util.is_package("en_core_web_sm"):
        model, note = "en_core_web_sm", "spaCy en_core_web_sm"
    else:
        # en_core_web_sm is not published on PyPI (only as a GitHub release), so it cannot be installed here.
        # A blank English pipeline has no NER: Presidio then runs only its pattern recognisers, which is
        # FASTER than real Presidio and finds no PERSON names, so the ratio below flatters Presidio.
        directory = Path(tempfile.mkdtemp()) / "blank_en"
        spacy.blank("en").to_disk(directory)
        model, note = str(directory), "spaCy blank('en') — NO NER (en_core_web_sm is not on PyPI)"
    provider = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]}
    )
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    if roster_names:
        # Presidio's own way to find a known list of names: a deny-list recogniser (one regex of every name).
        from presidio_analyzer import PatternRecognizer

        analyzer.registry.add_recognizer(PatternRecognizer(supported_entity="PUPIL", deny_list=roster_names))
        note += f" + the roster as a deny-list recogniser ({len(roster_names):,} full names)"
    analyzer.analyze(text="warm up 07700 900123", language="en")
    step = max(1, len(texts) // PRESIDIO_TEXTS)
    subset = texts[::step][:PRESIDIO_TEXTS]
    timings = []
    started = time.perf_counter()
    for text in subset:
        t0 = time.perf_counter_ns()
        analyzer.analyze(text=text, language="en")
        timings.append(time.perf_counter_ns() - t0)
    elapsed = time.perf_counter() - started
    timings.sort()
    return {
        "engine": note,
        "n": len(subset),
        "texts_per_s": len(subset) / elapsed,
        "p50_us": statistics.median(timings) / 1000,
        "p99_us": timings[int(len(timings) * 0.99) - 1] / 1000,
    }
