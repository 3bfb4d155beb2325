"""Conversations and feedback in SQLite (qa.history), their export as Markdown and JSON
(qa.export), ``python -m qa feedback --export`` and the eval report's review section.

Real answers: the seed article and a PDF built here, indexed with the real MiniLM into a real
Chroma, answered by the extractive answerer.
"""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import threading

import pytest

import qa
from index import build_index
from index.loaders import load_documents
from qa import Answer, Assistant, BadRequest, QAError, Settings
from qa.history import History, NotFound

from .conftest import ROOT, SEEDS
from .pdfs import SENTENCE, safety_manual_pdf

SEED_FILE = "us-strikes-iran-backed-groups-iraq.txt"
QUESTIONS = ("how many personnel were injured?", "How many minor injuries were there in 2023?")
FOOTNOTE = re.compile(
    r"^\[\^(\d+)-(\d+)\]: (.+?)(?:, page (\d+))?, characters (\d+)–(\d+): \"(.*?)\"$", re.M | re.S,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, embedder):
    """An index of the seed article and a 3-page PDF; the documents' texts as loaded."""
    root = tmp_path_factory.mktemp("history-export")
    docs = root / "docs"
    docs.mkdir()
    shutil.copy(SEEDS / SEED_FILE, docs / SEED_FILE)
    safety_manual_pdf(docs / "manual.pdf")
    settings = Settings(source_dir=docs, chroma_path=root / "chroma", answerer="extractive")
    build_index(settings, embedder=embedder, show_progress=False)
    texts = {d.source: d.text for d in load_documents(docs).documents}
    return settings, texts


@pytest.fixture(scope="module")
def answers(corpus, embedder) -> list[Answer]:
    settings, _ = corpus
    assistant = Assistant(settings, embedder=embedder)
    found = [assistant.ask(q) for q in QUESTIONS]
    assert all(a.citations and not a.refused for a in found), [a.text for a in found]
    assert any(c.page for c in found[1].citations), found[1].citations  # the PDF's answer
    return found


def _json(answer: Answer) -> dict:
    """``answer.to_dict()`` as JSON gives it back (tuples as lists)."""
    return json.loads(json.dumps(answer.to_dict()))


def test_settings_put_the_history_beside_the_index(tmp_path, monkeypatch):
    assert Settings(chroma_path=tmp_path / "c").history_path == tmp_path / "c" / "history.sqlite3"
    monkeypatch.setenv("QA_HISTORY_PATH", str(tmp_path / "h.db"))
    assert Settings.from_env(env_file=None).history_path == tmp_path / "h.db"
    monkeypatch.setenv("QA_HISTORY_PATH", " ")
    assert Settings.from_env(env_file=None, chroma_path=tmp_path / "x").history_path == tmp_path / "x" / "history.sqlite3"


def test_store_and_reopen(tmp_path, answers):
    settings = Settings(chroma_path=tmp_path / "chroma")
    history = History(settings)
    cid = history.new_conversation()
    assert re.fullmatch(r"[0-9a-f]{32}", cid)
    assert history.answers(cid) == []
    assert [history.add(cid, a, collection="documents") for a in answers] == [0, 1]

    reopened = History(settings)  # a second process would see the same
    assert reopened.answers(cid) == [_json(a) for a in answers]
    other = reopened.new_conversation()
    assert other != cid and reopened.add(other, answers[1], collection="kb2") == 0
    assert [a["question"] for a in History(settings).answers(cid)] == list(QUESTIONS)
    with sqlite3.connect(settings.history_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_concurrent_adds_from_threads_get_distinct_turns(tmp_path, answers):
    history = History(Settings(chroma_path=tmp_path / "chroma"))
    cid = history.new_conversation()
    turns: list[int] = []
    errors: list[BaseException] = []

    def add(n: int) -> None:
        try:
            mine = History(Settings(chroma_path=tmp_path / "chroma")) if n % 2 else history
            for _ in range(5):
                turns.append(mine.add(cid, answers[n % 2], collection="documents"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(turns) == list(range(40))
    assert len(history.answers(cid)) == 40


def test_feedback_rows(tmp_path, answers):
    history = History(Settings(chroma_path=tmp_path / "chroma"))
    cid = history.new_conversation()
    for a in answers:
        history.add(cid, a, collection="documents")
    history.feedback(cid, 0, "up")
    history.feedback(cid, 1, "up")
    history.feedback(cid, 1, "down", "wrong year")  # a second rating replaces the first
    rows = list(history.feedback_rows())
    assert [(r["turn"], r["rating"], r["comment"]) for r in rows] == [(0, "up", ""), (1, "down", "wrong year")]
    row = rows[1]
    assert row["question"] == answers[1].question and row["answer"] == answers[1].text
    assert row["citations"] == _json(answers[1])["citations"]
    assert row["answerer"] == "extractive" and row["collection"] == "documents"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", row["time"])
    history.clear_feedback(cid, 0)
    assert [r["turn"] for r in history.feedback_rows()] == [1]


def test_unknown_conversation_and_bad_turn_or_rating(tmp_path, answers):
    history = History(Settings(chroma_path=tmp_path / "chroma"))
    with pytest.raises(NotFound, match="no conversation") as caught:
        history.answers("nope")
    assert isinstance(caught.value, QAError)
    with pytest.raises(NotFound):
        history.add("nope", answers[0], collection="documents")
    cid = history.new_conversation()
    with pytest.raises(BadRequest, match="has none yet"):
        history.feedback(cid, 0, "up")
    history.add(cid, answers[0], collection="documents")
    for turn in (1, -1, "0"):
        with pytest.raises(BadRequest, match="no turn"):
            history.feedback(cid, turn, "up")
    with pytest.raises(BadRequest, match='"up" or "down"'):
        history.feedback(cid, 0, "meh")
    with pytest.raises(NotFound):
        history.feedback("nope", 0, "up")
    assert list(history.feedback_rows()) == []


def test_markdown_footnotes_quote_the_source_verbatim(corpus, answers):
    _, texts = corpus
    md = qa.export_markdown(answers)
    assert md == qa.export_markdown([a.to_dict() for a in answers])  # dicts as well as Answers
    for turn, (question, answer) in enumerate(zip(QUESTIONS, answers), 1):
        assert f"## {turn}. {question}\n" in md
        for c in answer.citations:
            assert f"[^{turn}-{c.number}]" in md.split(f"## {turn}.")[1].split("\n\n")[1]  # in the text
    notes = [m.groups() for m in FOOTNOTE.finditer(md)]
    assert len(notes) == sum(len(a.citations) for a in answers)
    assert "[1]" not in md  # every marker became a footnote
    for turn, number, source, page, start, end, quote in notes:
        quote = quote.replace("\n    ", "\n")  # a footnote's continuation lines are indented
        assert texts[source][int(start):int(end)] == quote
        citation = answers[int(turn) - 1].citations[int(number) - 1]
        assert (source, quote) == (citation.source, citation.quote)
        assert (int(page) if page else None) == citation.page
    pdf_notes = [n for n in notes if n[2] == "manual.pdf"]
    assert pdf_notes and all(n[3] == "2" for n in pdf_notes if SENTENCE[:20] in n[6])


def test_markdown_keeps_multiline_quotes_verbatim_and_unknown_markers():
    from qa.types import Citation

    quote = "Line one.\n\nLine *two* [3]."
    answer = Answer("q?", "It says so [1] and [9].", (Citation(1, "a.md", "A", quote, 10, 10 + len(quote), 1.0,
                                                                  True),), False, (), "extractive")
    md = qa.export_markdown([answer])
    assert "It says so [^1-1] and [9]." in md
    (note,) = FOOTNOTE.finditer(md)
    assert note.group(7).replace("\n    ", "\n") == quote and note.group(4) is None


def test_json_round_trip(answers):
    data = json.loads(qa.export_json(answers))
    assert data == [_json(a) for a in answers]
    assert json.loads(qa.export_json(data)) == data


def _cli(*args, env):
    return subprocess.run([sys.executable, "-m", "qa", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", **env})


def test_cli_exports_feedback_as_json_lines(tmp_path, answers):
    path = tmp_path / "fb" / "history.sqlite3"
    env = {"QA_HISTORY_PATH": str(path), "QA_CHROMA_PATH": str(tmp_path / "chroma")}
    out = _cli("feedback", "--export", env=env)
    assert out.returncode == 0 and out.stdout == "" and "No feedback yet" in out.stderr

    history = History(Settings(history_path=path))
    cid = history.new_conversation()
    for a in answers:
        history.add(cid, a, collection="documents")
    history.feedback(cid, 1, "down", "not the 2023 figure")
    history.feedback(cid, 0, "up")
    out = _cli("feedback", "--export", env=env)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(r["question"], r["rating"], r["comment"]) for r in rows] == [
        (QUESTIONS[1], "down", "not the 2023 figure"), (QUESTIONS[0], "up", "")]
    assert rows == list(history.feedback_rows())

    help_ = _cli("feedback", "--help", env=env)
    assert help_.returncode == 0 and "JSON lines" in help_.stdout and "QA_HISTORY_PATH" in help_.stdout
    assert "feedback --export" in _cli("--help", env=env).stdout
    assert _cli("feedback", env=env).returncode == 2  # --export is the one thing it does


def test_eval_report_lists_the_thumbs_down_answers(tmp_path, answers, embedder):
    from qa.eval.__main__ import main

    rows = [
        {"question": answers[0].question, "answer": answers[0].text, "rating": "up", "comment": "",
         "citations": answers[0].to_dict()["citations"]},
        {"question": "<b>Bad</b> " + answers[1].question, "answer": answers[1].text, "rating": "down",
         "comment": "wrong <i>year</i>", "citations": answers[1].to_dict()["citations"],
         "answerer": "extractive", "collection": "documents", "time": "2026-12-01T10:00:00+00:00"},
    ]
    feedback = tmp_path / "fb.jsonl"
    feedback.write_text("".join(json.dumps(r) + "\n" for r in rows))

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps({"doc_id": "d1", "text": "The Zephyr station houses 47 scientists."}) + "\n")
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"qid": "1", "question": "How many scientists does Zephyr house?",
                                     "answers": ["47"], "gold_doc_ids": ["d1"]}) + "\n")
    report = tmp_path / "out.html"
    code = main(["--corpus", str(corpus), "--questions", str(questions), "--no-progress",
                 "--feedback", str(feedback), "--report", str(report)], embedder=embedder)
    assert code == 0
    page = report.read_text()
    section = page.split("Review: thumbs-down answers</h2>")[1].split("<h2>")[0]
    assert "&lt;b&gt;Bad&lt;/b&gt;" in section and "<b>Bad</b>" not in section  # escaped
    assert "wrong &lt;i&gt;year&lt;/i&gt;" in section
    assert answers[0].question not in section  # a thumbs-up is not for review
    c = answers[1].citations[0]
    assert f"{c.source}, page {c.page} [{c.start}:{c.end}]" in section
    import html
    assert html.escape(c.quote) in section

    alone = tmp_path / "review.html"
    assert main(["--feedback", str(feedback), "--report", str(alone)]) == 0
    assert "Review: thumbs-down answers" in alone.read_text() and "1 of 2 rated" in alone.read_text()
    feedback.write_text("not json\n")
    assert main(["--feedback", str(feedback), "--report", str(alone)]) == 2


def test_the_page_handlers_record_rate_and_export(corpus, embedder, tmp_path):
    """What the chat column's events do (ui.handlers, no gradio): each finished answer is a turn
    of the session's conversation, a like/dislike rates the turn its message shows."""
    from ui import Settings as UISettings
    from ui.handlers import Handlers

    settings, texts = corpus
    ui_settings = UISettings(**settings.model_dump(exclude={"history_path"}), history_path=tmp_path / "h.db")
    h = Handlers(ui_settings, Assistant(settings, embedder=embedder), None)
    c = h.conversations
    assert c.export({}, "md") is None  # nothing to export before the first answer
    conversation: dict = {}
    messages: list = []
    turns: list = []
    for q in ("", QUESTIONS[0], QUESTIONS[1]):
        *_, (_, messages, turns, conversation) = h.chat_recorded(q, messages, turns, conversation, "extractive", 5)
    assert conversation["turns"] == {1: 0, 3: 1} and len(turns) == 2
    assert [a["question"] for a in c.history.answers(conversation["id"])] == list(QUESTIONS)

    assert c.rate(conversation, 3, False) and not c.rate(conversation, 2, True)  # 2: a question
    assert [(r["question"], r["rating"]) for r in c.history.feedback_rows()] == [(QUESTIONS[1], "down")]
    assert c.rate(conversation, 3, "")  # the thumb clicked again
    assert list(c.history.feedback_rows()) == []

    md = open(c.export(conversation, "md"), encoding="utf-8").read()
    assert md == qa.export_markdown(c.history.answers(conversation["id"]))
    assert json.loads(open(c.export(conversation, "json"), encoding="utf-8").read())[1]["question"] == QUESTIONS[1]
    with pytest.raises(BadRequest):
        c.export(conversation, "pdf")
