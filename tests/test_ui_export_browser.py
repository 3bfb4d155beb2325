"""Export and feedback in a real browser: ask in the page, download the conversation as
Markdown (its footnotes quote the document verbatim) and JSON, and rate an answer down (the
rating is in the app's SQLite history file).

One app (``python -m ui`` on a free port, over a copy of seeds/) serves the module.
"""
from __future__ import annotations

import json
import re
import sqlite3
import time

import pytest

pytest.importorskip("playwright")

from playwright.sync_api import expect  # noqa: E402

from tests import browser as b  # noqa: E402

pytestmark = pytest.mark.slow

QUESTION = "how many personnel were injured?"
FOOTNOTE = re.compile(
    r"^\[\^(\d+)-(\d+)\]: (.+?)(?:, page (\d+))?, characters (\d+)–(\d+): \"(.*?)\"$", re.M | re.S,
)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("ui-export")
    with b.running_app(workdir) as running:
        running.history_path = workdir / "chroma" / "history.sqlite3"  # the default: beside the index
        yield running


@pytest.fixture
def page(app, chromium, request):
    context = chromium.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(app.url, wait_until="domcontentloaded")
    page.locator("#qa-question textarea").wait_for()
    yield page
    b.screenshot(page, f"browser-{request.node.name}")
    context.close()


def _download(page, elem_id: str):
    button = page.locator(f"#{elem_id}")
    expect(button).to_be_enabled(timeout=30_000)
    with page.expect_download() as info:
        button.click()
    return info.value


def _rows(path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT t.question, f.rating, t.conversation_id FROM feedback f JOIN turns t USING (conversation_id, turn)"
        ).fetchall()


def _wait_rows(path, predicate, timeout: float = 20.0) -> list[tuple]:
    deadline = time.monotonic() + timeout
    while True:
        rows = _rows(path) if path.exists() else []
        if predicate(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def test_export_markdown_quotes_the_sources_verbatim_and_json_holds_the_answers(page, app):
    expect(page.locator("#qa-export-md")).to_be_disabled()  # nothing to export yet
    reply = b.ask(page, QUESTION)
    assert "qa-error" not in (reply.get_attribute("class") or ""), app.log_tail()

    download = _download(page, "qa-export-md")
    assert download.suggested_filename.endswith(".md")
    md = open(download.path(), encoding="utf-8").read()
    assert f"## 1. {QUESTION}" in md and "[^1-1]" in md.split("\n[^1-1]:")[0]
    notes = list(FOOTNOTE.finditer(md))
    assert notes, md
    for note in notes:
        _, _, source, _, start, end, quote = note.groups()
        assert source == b.SEED_FILE
        assert b.SEED_TEXT[int(start):int(end)] == quote.replace("\n    ", "\n")
    shown = [q.inner_text() for q in reply.locator("mark.qa-quote").all()]
    assert any("personnel" in n.group(7) for n in notes) and shown

    data = json.loads(open(_download(page, "qa-export-json").path(), encoding="utf-8").read())
    assert [d["question"] for d in data] == [QUESTION]
    assert [(c["start"], c["end"]) for c in data[0]["citations"]] == [(int(n.group(5)), int(n.group(6))) for n in notes]

    b.ask(page, "What is the capital of France?")  # a second turn: the export grows
    expect(page.locator("#qa-export-md")).to_be_enabled()
    page.wait_for_timeout(500)  # the buttons are updated right after the answer
    md2 = open(_download(page, "qa-export-md").path(), encoding="utf-8").read()
    assert "## 2. What is the capital of France?" in md2

    page.get_by_role("button", name="Clear chat").click()  # a new conversation: nothing to export
    expect(page.locator("#qa-export-md")).to_be_disabled()


def test_thumbs_down_is_stored_in_the_history_file(page, app):
    reply = b.ask(page, "Which group did the U.S. strikes target?")
    assert "qa-error" not in (reply.get_attribute("class") or ""), app.log_tail()
    before = len(_rows(app.history_path)) if app.history_path.exists() else 0

    page.locator("#qa-chat").get_by_role("button", name="Dislike").last.click()
    rows = _wait_rows(app.history_path, lambda r: len(r) > before)
    assert ("Which group did the U.S. strikes target?", "down") in [r[:2] for r in rows], (rows, app.log_tail())

    page.locator("#qa-chat").get_by_role("button", name="Disliked").last.click()  # taken back
    rows = _wait_rows(app.history_path, lambda r: len(r) == before)
    assert ("Which group did the U.S. strikes target?", "down") not in [r[:2] for r in rows]
