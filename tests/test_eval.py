"""The evaluation: metric functions on hand-made cases, and a small run end to end."""
from __future__ import annotations

import json
import random

import pytest

from qa.eval import (
    SUMMARY_KEYS, EvalQuestion, citation_correct, citation_supports, collection_name, contains_answer,
    eval_settings, evaluate, exact_match, f1_score, first_hit_rank, load_corpus, load_questions,
    normalize_answer, passage_hits, reciprocal_rank,
)
from qa.eval.metrics import hit_at, percentile
from qa.eval.report import format_table, render_html
from qa.types import Citation, Passage

DOC = "The bridge opened in 1932. It carries eight lanes of traffic. Its main span is 503 metres long."


def _passage(source, start, end, text="", rank=1):
    return Passage(rank=rank, chunk_id=f"{source}:{start}", source=source, title="", text=text or DOC[start:end],
                   start=start, end=end, score=1.0)


def _question(**kw):
    base = dict(qid="q1", question="How long is the main span?", answers=("503 metres",),
                gold_doc_ids=("bridge",), answer_starts=(DOC.index("503 metres"),))
    base.update(kw)
    return EvalQuestion(**base)


# ---- answers ----------------------------------------------------------------------------
def test_normalisation_is_squad_style():
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert normalize_answer("an apple, a pear") == "apple pear"


def test_exact_match_and_f1():
    assert exact_match("the 503 metres.", ["503 metres"]) == 1.0
    assert exact_match("503 m", ["503 metres"]) == 0.0
    assert f1_score("503 metres", ["503 metres"]) == 1.0
    # pred: {main, span, 503}, gold: {503, metres} -> p=1/3, r=1/2, f1=0.4
    assert f1_score("main span 503", ["503 metres"]) == pytest.approx(0.4)
    assert f1_score("nothing", ["503 metres", "nothing at all"]) == pytest.approx(2 * 1 * (1 / 3) / (1 + 1 / 3))
    assert f1_score("", ["503 metres"]) == 0.0


def test_contains_answer_needs_whole_words():
    assert contains_answer("Its main span is 503 metres long.", ["503 metres"]) == 1.0
    assert contains_answer("about 1503 metres", ["503 metres"]) == 0.0
    assert contains_answer("anything", [""]) == 0.0


# ---- retrieval --------------------------------------------------------------------------
def test_passage_hits_by_span_overlap_or_text():
    q = _question()
    span = DOC.index("503 metres")
    assert passage_hits(_passage("bridge", span - 10, span + 3), q)  # overlaps the span
    assert not passage_hits(_passage("bridge", 0, 26), q)  # gold doc, elsewhere
    assert not passage_hits(_passage("other", span, span + 10, text="503 metres"), q)  # wrong doc
    # no offsets: the answer text inside a gold-doc passage counts
    q2 = _question(answer_starts=(None,))
    assert passage_hits(_passage("bridge", 60, 100, text="is 503 metres long"), q2)


def test_rank_hit_and_mrr():
    q = _question()
    span = DOC.index("503 metres")
    miss, hit = _passage("bridge", 0, 26), _passage("bridge", span, span + 10)
    assert first_hit_rank([miss, miss, hit], q) == 3
    assert first_hit_rank([miss], q) is None
    assert (hit_at(3, 1), hit_at(3, 5), hit_at(None, 10)) == (0.0, 1.0, 0.0)
    assert reciprocal_rank(3) == pytest.approx(1 / 3)
    assert reciprocal_rank(11, 10) == 0.0 and reciprocal_rank(None) == 0.0


def test_citation_precision_checks_the_corpus_at_the_offsets():
    corpus = {"bridge": DOC}
    s = DOC.index("It carries")
    good = Citation(1, "bridge", "", "It carries eight lanes of traffic.", s, s + 34, 1.0, True)
    shifted = Citation(2, "bridge", "", good.quote, s + 1, s + 35, 1.0, True)
    invented = Citation(3, "bridge", "", "It carries nine lanes.", s, s + 22, 1.0, True)
    unknown = Citation(4, "nowhere", "", good.quote, s, s + 34, 1.0, True)
    assert citation_correct(good, corpus)
    assert not citation_correct(shifted, corpus)
    assert not citation_correct(invented, corpus)
    assert not citation_correct(unknown, corpus)


def test_citation_recall_needs_a_gold_doc_citation_on_the_answer():
    q = _question()
    span = DOC.index("Its main")
    on = Citation(1, "bridge", "", DOC[span:], span, len(DOC), 1.0, True)
    off = Citation(1, "bridge", "", DOC[:26], 0, 26, 1.0, True)
    assert citation_supports([off, on], q)
    assert not citation_supports([off], q)


def test_percentile_interpolates():
    assert percentile([10, 20, 30, 40], 50) == 25
    assert percentile([5], 95) == 5
    assert percentile([], 50) is None


# ---- data -------------------------------------------------------------------------------
def test_load_questions_variants(tmp_path):
    a = tmp_path / "a.jsonl"
    a.write_text(
        json.dumps({"qid": "1", "question": "Q one?", "answers": ["x"], "gold_doc_ids": ["d"], "answer_start": 4}) + "\n"
        + json.dumps({"qid": "2", "question": "Q two?", "answers": ["y", "yy"], "gold_doc_ids": ["d"],
                      "answer_starts": [1, 2]}) + "\n"
        + json.dumps({"qid": "3", "question": "Q three?", "answers": [], "gold_doc_ids": []}) + "\n"
    )
    b = tmp_path / "b.jsonl"
    b.write_text(json.dumps({"qid": "1", "question": "Nobody knows?"}) + "\n")
    qs = load_questions([a], unanswerable=[b])
    assert [q.qid for q in qs] == ["1", "2", "3", "b:1"]
    assert qs[0].answer_starts == (4,) and qs[0].gold_spans("d") == [(4, 5)]
    assert qs[1].answer_starts == (1, 2)
    assert qs[2].unanswerable and qs[3].unanswerable and not qs[0].unanswerable
    assert len(load_questions([a], limit=1)) == 1


def test_collection_name_from_corpus(tmp_path):
    assert collection_name(tmp_path / "covid-qa" / "corpus.jsonl", 200, 40) == "eval-covid-qa-200-40"
    assert collection_name(tmp_path / "my docs!.jsonl", 128, 32) == "eval-my-docs-128-32"
    assert len(collection_name(tmp_path / ("x" * 80 + ".jsonl"), 256, 48)) <= 50


# ---- end to end -------------------------------------------------------------------------
FACTS = [
    ("lighthouse", "Harbour Lighthouse", "The harbour lighthouse was built from granite in 1848. "
     "Its lamp is visible from 23 nautical miles away. A keeper lived there until 1977."),
    ("orchard", "Hillside Orchard", "The hillside orchard grows apples and quinces. "
     "Harvest starts in late September. The oldest tree was planted by Agnes Whitlow."),
    ("observatory", "Mountain Observatory", "The mountain observatory houses a 2.4 metre telescope. "
     "It sits at an altitude of 3,200 metres. Observations began in 1991."),
    ("bakery", "Corner Bakery", "The corner bakery opens at six in the morning. "
     "Its rye bread uses a sourdough starter kept since 1962. Marta Ivanova runs it."),
    ("canal", "Old Canal", "The old canal links the river to the salt works. "
     "It has fourteen locks over 9 kilometres. Barges stopped using it in 1954."),
    ("library", "Town Library", "The town library lends books, maps and music scores. "
     "It holds 82,000 volumes. The reading room was designed by Oskar Lind."),
    ("glacier", "Valley Glacier", "The valley glacier has retreated 1.3 kilometres since 1900. "
     "Its meltwater feeds a turquoise lake. Scientists measure it every August."),
    ("stadium", "City Stadium", "The city stadium seats 41,500 spectators. "
     "It was renovated for the 2008 championship. Its roof is made of translucent panels."),
]
QUESTIONS = [
    ("lighthouse", "How far away is the lighthouse lamp visible?", "23 nautical miles"),
    ("lighthouse", "Until when did a keeper live in the lighthouse?", "1977"),
    ("orchard", "Who planted the oldest tree of the orchard?", "Agnes Whitlow"),
    ("observatory", "At what altitude is the observatory?", "3,200 metres"),
    ("bakery", "Since when has the bakery kept its sourdough starter?", "1962"),
    ("canal", "How many locks does the old canal have?", "fourteen"),
    ("library", "How many volumes does the town library hold?", "82,000"),
    ("glacier", "How far has the valley glacier retreated since 1900?", "1.3 kilometres"),
    ("stadium", "How many spectators does the city stadium seat?", "41,500"),
    ("stadium", "For which championship was the stadium renovated?", "2008 championship"),
]


@pytest.fixture
def tiny_eval(tmp_path, qa_settings_factory):
    corpus = tmp_path / "tiny" / "corpus.jsonl"
    corpus.parent.mkdir()
    corpus.write_text("".join(json.dumps({"doc_id": d, "title": t, "text": x}) + "\n" for d, t, x in FACTS))
    texts = {d: x for d, _, x in FACTS}
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(
        json.dumps({"qid": str(i), "question": q, "answers": [a], "gold_doc_ids": [d],
                    "answer_start": texts[d].index(a)}) + "\n"
        for i, (d, q, a) in enumerate(QUESTIONS)
    ))
    unanswerable = tmp_path / "unanswerable.jsonl"
    unanswerable.write_text(json.dumps({"qid": "u1", "question": "What is the airspeed of an unladen swallow?"}) + "\n")
    settings = eval_settings(qa_settings_factory(), corpus)
    return settings, corpus, load_questions([questions], unanswerable=[unanswerable])


def _wrong_doc_retriever(corpus: dict[str, str]):
    """Passages of a random document other than the best one: a deliberately broken retriever."""
    rng = random.Random(0)
    docs = sorted(corpus)

    def retrieve(query: str, k: int) -> list[Passage]:
        words = set(query.lower().split())
        best = max(docs, key=lambda d: len(words & set(corpus[d].lower().split())))
        wrong = rng.choice([d for d in docs if d != best])
        text = corpus[wrong]
        return [Passage(1, f"{wrong}:0", wrong, wrong, text, 0, len(text), 0.0)]

    return retrieve


def test_end_to_end_run_keys_and_a_broken_retriever_scores_lower(tiny_eval, embedder, monkeypatch):
    settings, corpus_path, questions = tiny_eval
    run = evaluate(settings, corpus_path, questions, k=3, embedder=embedder, progress=False)
    out = run.to_json()
    assert set(SUMMARY_KEYS) <= set(out) and out["baselines"] == {}
    assert settings.collection == f"eval-tiny-{settings.chunk_size}-{settings.chunk_overlap}"
    assert run.summary["hit@5"] >= 0.9 and run.summary["mrr@10"] >= 0.8
    assert run.summary["contains_answer"] >= 0.6
    assert run.summary["shown_hit"] >= 0.9  # the passages shown with the answers hold the gold span
    assert run.summary["citation_precision"] == 1.0
    assert run.summary["latency_p50_ms"] > 0 and run.summary["build_seconds"] >= 0
    assert run.summary["unanswerable_refusal_rate"] is not None
    json.dumps(out)  # serialisable as is

    # the second run reuses the index: nothing embedded
    again = evaluate(settings, corpus_path, questions, k=3, embedder=embedder, progress=False, retrieval_only=True)
    assert again.meta["chunks_embedded"] == 0 and again.summary["exact_match"] is None

    # a broken retriever, for the ranking and (given to the assistant) for the answers
    corpus = load_corpus(corpus_path)
    broken = _wrong_doc_retriever(corpus)
    bad = evaluate(settings, corpus_path, questions, k=3, embedder=embedder, progress=False, retriever=broken)
    assert bad.summary["hit@5"] < run.summary["hit@5"]
    assert bad.summary["mrr@10"] < run.summary["mrr@10"]
    assert bad.summary["f1"] < run.summary["f1"]
    assert bad.summary["citation_recall"] < run.summary["citation_recall"]
    assert bad.summary["shown_hit"] < run.summary["shown_hit"]

    table = format_table(run)
    assert "hit@5" in table and "retrieve()" in table
    page = render_html(bad)
    assert page.startswith("<!doctype html>") and "<svg" in page and "<script" not in page


def test_report_escapes_html(tiny_eval, embedder):
    settings, corpus_path, questions = tiny_eval
    evil = EvalQuestion("x", "<script>alert(1)</script>?", ("<b>no</b>",), ("lighthouse",), (None,))
    run = evaluate(settings, corpus_path, [evil], k=2, embedder=embedder, progress=False, retrieval_only=True)
    page = render_html(run)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_cli_writes_json_and_report(tiny_eval, embedder, monkeypatch, tmp_path, capsys):
    from qa.eval.__main__ import main

    settings, corpus_path, _ = tiny_eval
    monkeypatch.setenv("QA_CHROMA_PATH", str(settings.chroma_path))
    questions = tmp_path / "questions.jsonl"
    out, page = tmp_path / "out.json", tmp_path / "out.html"
    code = main(["--corpus", str(corpus_path), "--questions", str(questions), "--retrieval-only",
                 "--limit", "4", "--json", str(out), "--report", str(page), "--no-progress"],
                embedder=embedder)
    assert code == 0
    data = json.loads(out.read_text())
    assert set(SUMMARY_KEYS) <= set(data) and data["meta"]["questions"] == 4
    assert "<svg" in page.read_text()
    assert "retrieval hit@5" in capsys.readouterr().out


def test_baselines_include_the_plain_llama_index_pipeline(tiny_eval, embedder):
    settings, corpus_path, questions = tiny_eval
    from qa.eval.baselines import evaluate_with_baselines

    run = evaluate_with_baselines(settings, corpus_path, questions, k=3, embedder=embedder, progress=False,
                                  retrieval_only=True)
    assert set(run.baselines) == {"bm25", "dense", "rrf", "llama-index"}
    for figures in run.baselines.values():
        assert {"hit@1", "hit@5", "hit@10", "mrr@10", "latency_p50_ms"} <= set(figures)
    llama = run.baselines["llama-index"]
    assert llama["chunks"] > 0 and llama["hit@10"] >= 0.8
    # reused on the second run (same corpus and settings)
    again = evaluate_with_baselines(settings, corpus_path, questions[:2], k=3, embedder=embedder,
                                    progress=False, retrieval_only=True)
    assert again.baselines["llama-index"]["reused"] is True


def test_llama_pipeline_never_configures_openai(settings_factory, embedder):
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core.llms import MockLLM

    from qa.eval.llama_pipeline import LlamaEmbedding, LlamaPipeline

    LlamaPipeline(settings_factory(), embedder=embedder)
    assert isinstance(LlamaSettings.llm, MockLLM)
    assert isinstance(LlamaSettings.embed_model, LlamaEmbedding)
