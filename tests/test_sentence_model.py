"""The sentence ranker (issue 12): its features, its shipped weights and its training.

Real spaCy model, real embedder, real Chroma index of documents written here.
"""
from __future__ import annotations

import json

import pytest

from qa import Settings, sentence_model
from qa.asking import ask
from qa.eval import eval_settings, train_sentences
from qa.eval.runner import prepare_index
from qa.extractive import Extraction, Scored, Sentence
from qa.question import analyse
from qa.sentence_features import observe
from qa.types import Passage

from .helpers import SCIENTISTS, write_jsonl

TEXT = ("The vaccine was approved in 2021. Trials enrolled 4,000 adults in Canada. "
        "Approval of the vaccine came after trials in 2019.")


def _pool(question: str, scores: list[tuple[float, float, float]]):
    """The sentences of TEXT as a ranked pool with the given (score, dense, words)."""
    p = Passage(1, "c0", "doc.txt", "Vaccine notes", TEXT, 0, len(TEXT), 1.0)
    spans, at = [], 0
    for part in TEXT.split(". "):
        part = part.rstrip(".") + "."
        start = TEXT.index(part, at)
        spans.append((start, start + len(part)))
        at = start + len(part)
    q = analyse(question)
    pool = [Scored(Sentence(p, s, e, TEXT[s:e], i), sc, d, w, w, True, frozenset(), 1.0)
            for i, ((s, e), (sc, d, w)) in enumerate(zip(spans, scores))]
    pool.sort(key=lambda c: -c.score)
    return ask(question), Extraction(q, tuple(pool[:1]), tuple(pool), {}, tuple(c.sentence for c in pool)), pool


def test_features_compare_each_sentence_with_the_best_of_its_question():
    asked, ex, pool = _pool("When was the vaccine approved?", [(0.9, 0.7, 0.8), (0.5, 0.4, 0.1), (0.7, 0.6, 0.6)])
    feats = observe(asked, ex, pool, [()] * len(pool))
    best, worst = feats[0], feats[-1]
    assert best["score_gap"] == best["dense_gap"] == 0.0 and best["first"] == 1.0
    assert worst["dense_gap"] == pytest.approx(0.4 - 0.7) and worst["first"] == 0.0
    assert best["run"] > worst["run"]  # "vaccine was approved" repeats the question's words in order


def test_a_sentence_that_states_another_year_loses_to_one_that_agrees():
    asked, ex, pool = _pool("How many adults did the trials enroll in 2019?", [(0.6, 0.6, 0.5)] * 3)
    feats = {c.sentence.text: f for c, f in zip(pool, observe(asked, ex, pool, [()] * len(pool)))}
    wrong_year = feats["The vaccine was approved in 2021."]
    right_year = feats["Approval of the vaccine came after trials in 2019."]
    assert wrong_year["contradicts"] == 1.0 and right_year["agrees"] == 1.0
    assert sentence_model.probability(wrong_year) < sentence_model.probability(right_year)


def test_the_shipped_weights_say_what_they_were_trained_on_and_how_they_did_held_out():
    shipped = json.loads(sentence_model.PATH.read_text())
    assert set(shipped["trained_on"]) == {"xquad-en/questions.jsonl", "covid-qa/questions.jsonl"}
    for figures in shipped["report"].values():
        assert 0 < figures["held_out"] <= 1 and figures["questions"] > 0
    w = sentence_model.weights()
    assert all(w[k] == v for k, v in sentence_model.FIXED.items())  # never overwritten by training
    assert not set(shipped["weights"]) & set(sentence_model.FIXED)


def _corpus(tmp_path):
    people = SCIENTISTS
    docs, qs = [], []
    for i, (first, last, city, year) in enumerate(people):
        text = (f"{first} {last} was a famous scientist of the computing age. "
                f"{last} wrote {i + 3} papers about programs and proofs. "
                f"The birthplace of {first} {last} was {city}, in {year}.")
        docs.append({"doc_id": f"d{i}", "title": f"{first} {last} ({year})", "text": text})  # 3 a half
        for question, answer in ((f"Where was {first} {last} born?", city),
                                 (f"How many papers did {last} write?", str(i + 3))):
            qs.append({"qid": f"q{len(qs)}", "question": question, "answers": [answer],
                       "answer_starts": [text.index(answer)], "gold_doc_ids": [f"d{i}"]})
    return write_jsonl(tmp_path / "corpus.jsonl", docs), write_jsonl(tmp_path / "questions.jsonl", qs)


def test_training_writes_weights_whose_top_sentence_holds_the_gold(tmp_path, monkeypatch, embedder, capsys):
    monkeypatch.setenv("QA_CHROMA_PATH", str(tmp_path / "chroma"))
    corpus, questions = _corpus(tmp_path)
    prepare_index(eval_settings(Settings.from_env(), corpus), corpus, embedder=embedder, show_progress=False)
    out = tmp_path / "model.json"
    assert train_sentences.main(["--set", str(corpus), str(questions), "--out", str(out)]) == 0
    model = json.loads(out.read_text())
    report = json.loads(capsys.readouterr().out)
    assert model["report"] == report and report[tmp_path.name]["questions"] == 12
    rows = train_sentences.examples(corpus, questions, progress=False)
    assert {r["half"] for r in rows} == {"A", "B"}
    assert train_sentences.top_hits(model["weights"], rows) >= 0.9
    assert not set(model["weights"]) & set(sentence_model.FIXED)


def test_training_on_missing_files_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit):
        train_sentences.main(["--set", str(tmp_path / "nope.jsonl"), str(tmp_path / "q.jsonl")])
    assert "does not exist" in capsys.readouterr().err


def test_a_third_sentence_is_quoted_when_it_is_likely_too_but_adds_no_support():
    from dataclasses import replace

    from qa.extractive import RANKED, choose
    from qa.refusal import judge

    _, ex, pool = _pool("When was the vaccine approved?", [(0.5, 0.5, 0.9), (0.2, 0.3, 0.1), (0.3, 0.4, 0.2)])
    chosen = choose(pool, ex.question, RANKED)
    assert len(chosen) == 3 and chosen[2].recall_only and not any(c.recall_only for c in chosen[:2])
    # quoted in case it holds the answer, it does not make the answer supported: the
    # refusal reads the two likeliest alone, whatever the third shares with the question
    third = replace(chosen[2], words=1.0, context=1.0)
    with_third = judge(replace(ex, chosen=(*chosen[:2], third)))
    assert with_third.support == judge(replace(ex, chosen=tuple(chosen[:2]))).support
    assert with_third.support < judge(replace(ex, chosen=(*chosen[:2], replace(third, recall_only=False)))).support
    # one much less likely than the best is not quoted
    _, ex, pool = _pool("When was the vaccine approved?", [(0.9, 0.5, 0.9), (0.3, 0.3, 0.1), (0.05, 0.4, 0.2)])
    assert len(choose(pool, ex.question, RANKED)) == 2
