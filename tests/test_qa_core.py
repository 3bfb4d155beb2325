"""The assistant end to end on the seed article: real Chroma, BM25 and MiniLM."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from index import BadRequest, IndexMissing, IndexReader, build_index
import qa
from qa import Answer, Assistant, Settings, Turn
from qa.refusal import NOT_FOUND

from .conftest import SEEDS

SEED = SEEDS / "us-strikes-iran-backed-groups-iraq.txt"
QUESTIONS = [json.loads(line) for line in (Path(__file__).parent / "seed_questions.jsonl").open()]
ANSWERABLE = [q for q in QUESTIONS if not q.get("unanswerable")]
UNANSWERABLE = [q for q in QUESTIONS if q.get("unanswerable")]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, embedder):
    """One seed index for the module, and an assistant over it."""
    root = tmp_path_factory.mktemp("seeded")
    settings = Settings(source_dir=SEEDS, chroma_path=root / "chroma")
    build_index(settings, embedder=embedder, show_progress=False)
    return Assistant(settings, reader=IndexReader(settings, embedder=embedder))


@pytest.fixture(scope="module")
def seed_answers(seeded):
    return {q["question"]: seeded.ask(q["question"]) for q in QUESTIONS}


def _assert_citations_verbatim(answer: Answer) -> None:
    text = SEED.read_text()
    for c in answer.citations:
        assert c.verified and c.source == SEED.name
        assert text[c.start : c.end] == c.quote
        assert f"[{c.number}]" in answer.text
    assert [c.number for c in answer.citations] == list(range(1, len(answer.citations) + 1))


def test_seed_questions_are_answered_with_the_fact(seed_answers):
    wrong = []
    for q in ANSWERABLE:
        a = seed_answers[q["question"]]
        ok = not a.refused and q["fact"] in a.text and any(q["fact"] in c.quote for c in a.citations)
        if not ok:
            wrong.append((q["question"], q["fact"], a.text))
    assert len(ANSWERABLE) >= 25
    assert 1 - len(wrong) / len(ANSWERABLE) >= 0.9, wrong


@pytest.mark.parametrize("question, short", [
    # the number that counts what is asked ("150 times", not "two" officials) ...
    ("How many times have Iran-backed proxies attacked U.S. forces since Biden took office?", "At least 150"),
    # ... in the place the question names ("900 in Syria", not "2,500 troops in Iraq")
    ("How many U.S. troops are in Syria?", "900"),
    ("How many troops does the United States have in Iraq?", "2,500"),
])
def test_a_count_is_of_the_asked_thing_where_the_question_says(seed_answers, question, short):
    a = seed_answers[question]
    assert a.short_answer is not None and a.short_answer.text.lower() == short.lower()  # verbatim
    assert a.text.startswith(short)  # the lead, capitalised


def test_every_answer_cites_verbatim_at_its_offsets(seed_answers):
    for a in seed_answers.values():
        assert a.answerer == "extractive" and a.passages
        if not a.refused:
            assert a.citations
            _assert_citations_verbatim(a)


def test_every_unanswerable_seed_question_is_refused(seed_answers):
    assert len(UNANSWERABLE) >= 10
    answered = [(q["question"], seed_answers[q["question"]].text) for q in UNANSWERABLE
                if not seed_answers[q["question"]].refused]
    assert not answered
    for q in UNANSWERABLE:
        a = seed_answers[q["question"]]
        assert a.text.startswith(NOT_FOUND) and a.citations == () and a.passages


def test_a_refusal_names_what_is_missing(seed_answers):
    """"commander" and "Command" share a stem: the refusal must still see that no passage
    names a commander, and say so."""
    a = seed_answers["Who is the commander of U.S. Central Command?"]
    assert a.refused and "commander" in a.text


def test_a_refusal_names_a_missing_name_as_a_name_not_its_possessive(seeded):
    a = seeded.ask("What did Japan's prime minister say about the strikes?")
    assert a.refused and "mention “Japan”" in a.text and "Japan's" not in a.text


def test_the_readme_question(seeded):
    a = seeded.ask("how many personnel were injured?")
    assert not a.refused and "eight U.S. personnel" in a.text
    assert a.text.endswith("]") and a.seconds > 0
    _assert_citations_verbatim(a)


def test_followup_carries_the_previous_turn(seeded):
    first = seeded.ask("How many personnel were injured?")
    history = [Turn("How many personnel were injured?", first.text)]
    a = seeded.ask("And how many in March?", history)
    assert not a.refused
    assert "traumatic brain injuries in 23 military personnel and wounded 25" in a.text
    assert "personnel" in a.retrieval_query
    assert 0 < a.retrieval_seconds < a.seconds  # the search's share of the answer's time
    assert a.to_dict()["retrieval_seconds"] == a.retrieval_seconds
    _assert_citations_verbatim(a)
    # a question that stands on its own is not rewritten
    b = seeded.ask("Who was Qassem Soleimani?", history)
    assert b.retrieval_query == "Who was Qassem Soleimani?" and "Quds Force" in b.text


def test_followup_chain_keeps_the_topic(seeded):
    history = [Turn("How many troops does the United States have in Iraq?"), Turn("And in Syria?")]
    a = seeded.ask("What about Iraq?", history)
    assert "2,500" in a.text


@pytest.mark.parametrize(
    "question, match",
    [("", "empty"), ("   \n\t", "empty"), ("x" * 2001, "2000"), (None, "text")],
)
def test_bad_questions_are_refused_with_a_clear_error(seeded, question, match):
    with pytest.raises(BadRequest, match=match):
        seeded.ask(question)


def test_bad_options_are_clear(seeded):
    with pytest.raises(BadRequest, match="top_k"):
        seeded.ask("Who was Qassem Soleimani?", top_k=0)
    with pytest.raises(BadRequest, match="answerer"):
        seeded.ask("Who was Qassem Soleimani?", answerer="magic")
    with pytest.raises(BadRequest, match="history"):
        seeded.ask("Who was Qassem Soleimani?", history=["not a turn"])
    with pytest.raises(BadRequest, match="empty"):
        list(seeded.stream(" "))


def test_stream_yields_deltas_then_the_same_answer_as_ask(seeded):
    q = "How many troops does the United States have in Iraq?"
    items = list(seeded.stream(q))
    *deltas, final = items
    assert deltas and all(isinstance(d, str) for d in deltas)
    assert isinstance(final, Answer) and "".join(deltas) == final.text
    assert replace(final, seconds=0, retrieval_seconds=0) == replace(seeded.ask(q), seconds=0, retrieval_seconds=0)


def test_the_one_shot_answer_builds_a_missing_index_the_assistant_never_does(tmp_path, qa_settings_factory, embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    s = qa_settings_factory()
    assistant = Assistant(s, reader=IndexReader(s, embedder=embedder))
    with pytest.raises(IndexMissing, match="python -m index build"):
        assistant.ask("How many hostages did Hamas take?")
    a = qa.answer("How many hostages did Hamas take?", settings=s)
    assert "240" in a.text and a.notice and "built" in a.notice
    again = qa.answer("How many hostages did Hamas take?", settings=s)
    assert again.notice is None and again.text == a.text
    assert assistant.ask("How many hostages did Hamas take?").text == a.text


def test_missing_index_without_documents_says_how_to_build(qa_settings_factory, embedder):
    s = qa_settings_factory()
    assert not s.source_dir.exists()
    with pytest.raises(IndexMissing, match="python -m index build"):
        Assistant(s, reader=IndexReader(s, embedder=embedder)).ask("anything?")


def test_llm_unreachable_falls_back_to_the_extractive_answer(seeded):
    s = seeded.settings.model_copy(update={"openai_base_url": "http://127.0.0.1:9/v1", "llm_timeout": 2.0,
                                           "llm_retries": 0})
    a = Assistant(s, reader=seeded.reader).ask("How many hostages did Hamas take?", answerer="llm")
    assert a.answerer == "extractive" and "240" in a.text
    assert a.notice and "LLM" in a.notice


class _ScriptedLLM:
    """A deterministic stand-in for the chat model (the real one costs money or a server)."""

    def __init__(self, reply: str | Exception):
        self.reply = reply
        self.calls = 0

    def chat(self, messages, *, stream=False, max_tokens=None, **_):
        self.calls += 1
        if isinstance(self.reply, Exception):
            raise self.reply
        if stream:
            words = self.reply.split(" ")
            return iter([w + " " for w in words[:-1]] + [words[-1]])
        return self.reply


def test_llm_answer_is_streamed_grounded_and_verified(seeded):
    from qa.retrieval import retrieve

    q = "How many personnel were injured in the ballistic missile attack?"
    rank = next(p.rank for p in retrieve(seeded.reader, q, 5) if "eight U.S. personnel" in p.text)
    reply = (f"The ballistic missile attack caused injuries to eight U.S. personnel [{rank}]. "
             "Ten tanks were also destroyed [9].")
    llm = _ScriptedLLM(reply)
    assistant = Assistant(seeded.settings, reader=seeded.reader, llm=llm)
    *deltas, final = list(assistant.stream(q, answerer="llm"))
    assert "".join(deltas) == reply  # streamed as the model wrote it
    assert final.answerer == "llm" and not final.refused and final.notice is None
    assert "eight U.S. personnel [1]" in final.text and "tanks" not in final.text
    assert [c.number for c in final.citations] == [1] and final.citations[0].verified
    _assert_citations_verbatim(final)
    assert final.flags  # what grounding dropped is recorded


def test_llm_failure_mid_answer_falls_back_with_a_notice(seeded):
    from qa import LLMUnavailable

    llm = _ScriptedLLM(LLMUnavailable("The LLM server at http://x did not answer in 2s: check OPENAI_BASE_URL."))
    a = Assistant(seeded.settings, reader=seeded.reader, llm=llm).ask("How many hostages did Hamas take?",
                                                                     answerer="llm")
    assert llm.calls == 1 and a.answerer == "extractive" and "240" in a.text
    assert "did not answer" in a.notice and "extractive" in a.notice
