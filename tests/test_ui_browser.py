"""The app in a real browser: ask, read the quoted source, upload + rebuild + ask, inert HTML.

One app (``python -m ui`` on a free port, over a copy of seeds/) serves the module; each test
gets a fresh page, and a screenshot of it at the end in tests/artifacts/ (pass or fail).
"""
from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright")

from playwright.sync_api import expect  # noqa: E402

from tests import browser as b  # noqa: E402

pytestmark = pytest.mark.slow

ZEPHYR = (
    "Zephyr Station field report\n\n"
    "The Zephyr research station in Antarctica houses 47 scientists during the winter season. "
    "Its supply ship, the Aurora Clipper, arrives every six weeks from Hobart.\n"
)
PAYLOAD = (
    "Quokka protocol manual\n\n"
    'The quokka protocol password hint is <img src=x onerror="window.__pwned=1"> and the '
    "quokka fallback hint is <script>window.__pwned=2</script> written on the wall.\n"
)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with b.running_app(tmp_path_factory.mktemp("ui-browser")) as running:
        yield running


@pytest.fixture
def page(app, chromium, request):
    page = b.open_page(chromium, app.url)
    yield page
    b.screenshot(page, f"browser-{request.node.name}")  # what the page showed at the end, pass or fail
    page.close()


def test_example_question_streams_a_cited_answer(page, app):
    before = b.finished_count(page)
    page.get_by_role("button", name="how many personnel were injured?").click()
    reply = b.wait_for_reply(page, before)
    assert "qa-error" not in (reply.get_attribute("class") or ""), app.log_tail()
    expect(reply.locator(".qa-text")).to_contain_text("personnel")
    marker = reply.locator("a.qa-marker").first
    expect(marker).to_have_text("[1]")

    sources = reply.locator("details.qa-sources")
    expect(sources.locator("summary")).to_contain_text("Sources")
    marker.click()  # opens the collapsed block at the entry the marker points to
    expect(sources).to_have_attribute("open", "")
    entry = page.locator(marker.get_attribute("href"))
    expect(entry).to_be_visible()
    expect(entry.locator(".qa-file")).to_have_text(b.SEED_FILE)
    quote = entry.locator("mark.qa-quote").inner_text()
    assert "personnel" in quote and quote in b.SEED_TEXT  # a verbatim sentence of the document
    passage = entry.locator(".qa-passage").inner_text()
    assert quote in passage and len(passage) > len(quote)  # shown inside its passage
    expect(entry.locator(".qa-score")).to_contain_text("score")


def test_refusal_looks_different_and_shows_the_nearest_passages(page):
    reply = b.ask(page, "What is the capital of France?")
    expect(reply).to_have_class(re.compile(r"\bqa-refused\b"))
    expect(reply).to_contain_text("Not found in the documents")
    expect(reply.locator("details.qa-nearest")).to_have_attribute("open", "")
    expect(reply.locator(".qa-passage").first).to_be_visible()
    assert reply.locator("a.qa-marker").count() == 0


def test_uploaded_document_is_cited_after_rebuild(page, app, tmp_path):
    doc = tmp_path / "zephyr station.txt"
    doc.write_text(ZEPHYR)
    assert "saved zephyr_station.txt" in b.upload(page, doc)
    assert (app.source_dir / "zephyr_station.txt").read_text() == ZEPHYR

    report = b.rebuild(page)
    assert "Index rebuilt" in report and "added: zephyr_station.txt" in report, report
    expect(page.locator("#qa-documents")).to_contain_text("zephyr_station.txt")

    reply = b.ask(page, "How many scientists does the Zephyr research station house?")
    expect(reply.locator(".qa-text")).to_contain_text("47")
    reply.locator("details.qa-sources summary").click()
    expect(reply.locator(".qa-source .qa-file").first).to_have_text("zephyr_station.txt")
    expect(reply.locator("mark.qa-quote").first).to_contain_text("47 scientists")


def test_html_in_documents_and_questions_is_inert(page, tmp_path):
    # Control: in this browser an injected <img onerror> does run, so the check below means something.
    page.evaluate("""() => { const d = document.createElement('div');
        d.innerHTML = '<img src=x onerror="window.__control=1">'; document.body.appendChild(d); }""")
    page.wait_for_function("window.__control === 1")

    doc = tmp_path / "quokka.txt"
    doc.write_text(PAYLOAD)
    assert "saved quokka.txt" in b.upload(page, doc)
    assert "added: quokka.txt" in b.rebuild(page)

    question = '<img src=x onerror="window.__pwned=3"> What is the quokka protocol password hint?'
    reply = b.ask(page, question)
    reply.locator("details.qa-sources summary").click()
    chat = page.locator("#qa-chat")
    expect(chat).to_contain_text('<img src=x onerror="window.__pwned=3">')  # the question, as text
    expect(reply.locator(".qa-passage").first).to_contain_text('<img src=x onerror="window.__pwned=1">')
    expect(reply.locator(".qa-passage").first).to_contain_text("<script>window.__pwned=2</script>")
    page.wait_for_timeout(500)  # give any injected handler the chance to run
    assert page.evaluate("window.__pwned") is None
    assert chat.locator("img[src=x], script").count() == 0


KESTREL = {
    "kestrel_log.txt": "Kestrel lighthouse keepers' log\n\nThe Kestrel lighthouse is staffed by three keepers "
                       "all year round. The three Kestrel lighthouse keepers live on the north cliff.\n",
    "kestrel_visitors.md": "# Visitor notes\n\nDuring the summer season five keepers staff the lighthouse on "
                           "Kestrel island, the visitor centre says.\n",
}
KESTREL_QUESTION = "How many keepers staff the Kestrel lighthouse?"


def cited_files(reply) -> set[str]:
    reply.locator("details.qa-sources summary").click()
    return set(reply.locator(".qa-source .qa-file").all_inner_texts())


def test_document_picker_restricts_the_answer_to_the_chosen_file(page, app, tmp_path):
    for name, text in KESTREL.items():
        (tmp_path / name).write_text(text)
    page.locator("#qa-upload input[type=file]").set_input_files([str(tmp_path / name) for name in KESTREL])
    for name in KESTREL:
        expect(page.locator("#qa-upload-report")).to_contain_text(f"saved {name}", timeout=60_000)
    report = b.rebuild(page)
    assert "added: kestrel_log.txt, kestrel_visitors.md" in report, report

    reply = b.ask(page, KESTREL_QUESTION)  # all documents: the visitor notes answer
    everywhere = cited_files(reply)
    assert "kestrel_visitors.md" in everywhere, everywhere

    picker = page.locator("#qa-sources")
    picker.locator("input").click()
    page.get_by_role("option", name="kestrel_log.txt", exact=True).click()
    page.keyboard.press("Escape")
    expect(picker).to_contain_text("kestrel_log.txt")

    reply = b.ask(page, KESTREL_QUESTION)
    assert "qa-error" not in (reply.get_attribute("class") or ""), app.log_tail()
    expect(reply.locator(".qa-text")).to_contain_text("three keepers")
    assert cited_files(reply) == {"kestrel_log.txt"}  # the visitor notes, cited before, are not

    reply = b.ask(page, "What is the capital of France?")  # a refusal names the file searched
    expect(reply).to_contain_text("I searched only kestrel_log.txt.")
