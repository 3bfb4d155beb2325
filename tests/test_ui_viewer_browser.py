"""The document viewer in a real browser: a citation opens the whole document with the quote
highlighted at its offsets and scrolled into view, the PDF's page, and a link to the original
file at that page, which the app serves. A 3-page PDF built here is uploaded and indexed in
the page; a text with characters outside the BMP checks the offsets are Python's."""
from __future__ import annotations

from urllib.parse import parse_qsl

import httpx
import pytest

pytest.importorskip("playwright")

from playwright.sync_api import expect  # noqa: E402

from tests import browser as b  # noqa: E402
from tests.pdfs import SENTENCE, safety_manual_pdf  # noqa: E402

pytestmark = pytest.mark.slow

ROCKET = ("🚀 Launch log 🛰️\n\n"
          "The 🚀 launch was on time. The Kestrel rocket carries 12 astronauts to the orbital station.\n")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with b.running_app(tmp_path_factory.mktemp("ui-viewer")) as running:
        yield running


@pytest.fixture(scope="module")
def indexed(app, chromium, tmp_path_factory):
    """The manual and the launch log, uploaded and indexed through the page."""
    files = tmp_path_factory.mktemp("uploads")
    page = b.open_page(chromium, app.url)
    try:
        rocket = files / "launch log.txt"
        rocket.write_text(ROCKET, encoding="utf-8")
        page.locator("#qa-upload input[type=file]").set_input_files(
            [str(safety_manual_pdf(files / "safety manual.pdf")), str(rocket)])
        report = page.locator("#qa-upload-report")
        expect(report).to_contain_text("saved launch_log.txt", timeout=60_000)
        expect(report).to_contain_text("saved safety_manual.pdf")
        report = b.rebuild(page)
        assert "added: launch_log.txt, safety_manual.pdf" in report, report
    finally:
        page.close()
    return app


@pytest.fixture
def page(indexed, chromium, request):
    page = b.open_page(chromium, indexed.url)
    yield page
    b.screenshot(page, f"viewer-{request.node.name}")
    page.close()


def _entry_of(reply, source: str):
    """The first source entry of ``source``, and what its "open" link tells the viewer."""
    entry = reply.locator("li.qa-source").filter(has=reply.page.locator(".qa-file", has_text=source)).first
    expect(entry).to_have_count(1)
    href = entry.locator("a.qa-open").get_attribute("href")
    assert href.startswith("#qa-view?"), href
    fields = dict(parse_qsl(href.removeprefix("#qa-view?")))
    assert fields["source"] == source
    return entry, int(fields["start"]), int(fields["end"]), fields.get("page")


def _document(app, source: str) -> dict:
    r = httpx.get(f"{app.url}/api/documents/{source}/text", timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_citation_opens_the_pdf_at_its_quote_and_page(page, indexed):
    reply = b.ask(page, "How many minor injuries were there in 2023?")
    assert "qa-error" not in (reply.get_attribute("class") or ""), indexed.log_tail()
    entry, start, end, page_number = _entry_of(reply, "safety_manual.pdf")
    assert page_number == "2"
    doc = _document(indexed, "safety_manual.pdf")
    quote = doc["text"][start:end]
    assert SENTENCE in quote or quote in SENTENCE

    marker = reply.locator(f'a.qa-marker[href="#{entry.get_attribute("id")}"]').first
    marker.click()
    viewer = page.locator("#qa-viewer")
    expect(viewer).to_be_visible()
    mark = viewer.locator("mark.qa-view-quote")
    expect(mark).to_have_text(quote)
    expect(mark).to_be_in_viewport()
    expect(viewer.locator(".qa-viewer-page")).to_have_text("page 2 of 3")
    assert viewer.locator(".qa-viewer-text").text_content() == doc["text"]  # the whole document, as text
    assert viewer.locator(".qa-viewer-text *").count() == 1  # nothing but the highlight is an element
    # the highlight is at the citation's offsets, not merely the same words elsewhere
    assert page.evaluate("""() => { const t = document.querySelector('#qa-viewer .qa-viewer-text');
        return t.firstChild.nodeType === 3 ? Array.from(t.firstChild.textContent).length : 0; }""") == start

    link = viewer.get_by_role("link", name="open original")
    href = link.get_attribute("href")
    assert href == "/api/documents/safety_manual.pdf/file#page=2"
    r = httpx.get(indexed.url + href.split("#")[0], timeout=60)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and r.content == (indexed.source_dir / "safety_manual.pdf").read_bytes()

    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    entry.locator("a.qa-open").click()  # the source entry's own link opens it again
    expect(viewer).to_be_visible()
    expect(viewer.locator("mark.qa-view-quote")).to_have_text(quote)
    viewer.get_by_role("button", name="Close the viewer").click()
    expect(viewer).to_be_hidden()
    assert b.finished_count(page) == 1  # the viewer asked nothing again


def test_offsets_past_characters_outside_the_bmp(page, indexed):
    reply = b.ask(page, "How many astronauts does the Kestrel rocket carry?")
    entry, start, end, page_number = _entry_of(reply, "launch_log.txt")
    assert page_number is None
    quote = ROCKET[start:end]  # Python's offsets (code points)
    assert "12 astronauts" in quote
    reply.locator("details.qa-sources summary").click()
    entry.locator("a.qa-open").click()
    viewer = page.locator("#qa-viewer")
    expect(viewer.locator("mark.qa-view-quote")).to_have_text(quote)
    expect(viewer.locator(".qa-viewer-notice")).to_have_text("")
    expect(viewer.locator(".qa-viewer-page")).to_have_text("")  # a text file has no pages
    expect(viewer.get_by_role("link", name="open original")).to_have_attribute(
        "href", "/api/documents/launch_log.txt/file")


def test_a_long_passage_shows_its_quote_in_context_and_the_rest_on_show_more(page, indexed):
    reply = b.ask(page, "how many personnel were injured?")
    reply.locator("details.qa-sources > summary").click()
    entry = reply.locator("li.qa-source").first
    short, full = entry.locator(".qa-passage"), entry.locator(".qa-passage-full")
    expect(short).to_be_visible()
    expect(full).to_be_hidden()
    quote = entry.locator("mark.qa-quote").inner_text()
    shown = short.inner_text()
    assert quote in shown and shown.startswith("…") and len(shown) < len(full.text_content())
    entry.get_by_role("link", name="show more").click()
    expect(full).to_be_visible()
    expect(short).to_be_hidden()
    assert quote in full.inner_text() and full.inner_text().replace("\n", " ") in b.SEED_TEXT.replace("\n", " ")
    entry.get_by_role("link", name="show less").click()
    expect(short).to_be_visible()
    assert b.finished_count(page) == 1 and page.locator("#qa-viewer").count() == 0  # no viewer, no new answer
