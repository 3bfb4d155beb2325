"""Knowledge bases in a real browser: create one from an upload, ask it, switch back to the seeds.

The app is ``python -m ui`` on a free port over a copy of seeds/ (the default knowledge base);
the new one's folder is ``QA_KB_ROOT/<name>`` under the test's directory.
"""
from __future__ import annotations

import pytest

pytest.importorskip("playwright")

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests import browser as b  # noqa: E402

pytestmark = pytest.mark.slow

ORCHARD = (
    "Orchard cooperative minutes\n\n"
    "The Larkspur orchard cooperative planted 312 pear trees along the eastern terraces this spring. "
    "The harvest festival is held every October in the old cider barn.\n"
)
ORCHARD_QUESTION = "How many pear trees did the Larkspur orchard cooperative plant?"
SEED_QUESTION = "how many personnel were injured?"


def cited_files(reply) -> set[str]:
    reply.locator("details.qa-sources summary").click()
    return set(reply.locator(".qa-source .qa-file").all_inner_texts())


def choose_knowledge_base(page, name: str) -> None:
    page.locator("#qa-kb input").click()
    page.get_by_role("option", name=name, exact=True).click()
    expect(page.locator("#qa-kb input")).to_have_value(name)


def test_a_new_knowledge_base_from_an_upload_answers_then_switching_back_cites_the_seeds(tmp_path):
    with b.running_app(tmp_path / "app", {"QA_KB_ROOT": str(tmp_path / "bases")}) as app, \
            sync_playwright() as p:
        browser = b.launch_chromium(p)
        page = b.open_page(browser, app.url)
        try:
            expect(page.locator("#qa-kb input")).to_have_value("documents")
            page.get_by_text("New knowledge base").click()
            page.locator("#qa-kb-name input").fill("orchard-notes")
            doc = tmp_path / "larkspur minutes.txt"
            doc.write_text(ORCHARD)
            page.locator("#qa-kb-files input[type=file]").set_input_files(str(doc))
            expect(page.locator("#qa-kb-files")).to_contain_text("larkspur minutes.txt", timeout=60_000)
            page.get_by_role("button", name="Create knowledge base").click()
            report = page.locator("#qa-kb-report")
            report.locator(".qa-report, .qa-error").first.wait_for(timeout=180_000)
            expect(report).to_contain_text("Created the knowledge base orchard-notes")
            expect(report).to_contain_text("added: larkspur_minutes.txt")
            assert (tmp_path / "bases" / "orchard-notes" / "larkspur_minutes.txt").read_text() == ORCHARD

            # created and selected: its documents, its picker, its answers
            expect(page.locator("#qa-kb input")).to_have_value("orchard-notes")
            expect(page.locator("#qa-documents")).to_contain_text("larkspur_minutes.txt")
            expect(page.locator("#qa-documents")).not_to_contain_text(b.SEED_FILE)
            reply = b.ask(page, ORCHARD_QUESTION)
            assert "qa-error" not in (reply.get_attribute("class") or ""), app.log_tail()
            expect(reply.locator(".qa-text")).to_contain_text("312")
            assert cited_files(reply) == {"larkspur_minutes.txt"}
            reply.locator("a.qa-open").first.click()  # the viewer reads this knowledge base's document
            viewer = page.locator("#qa-viewer")
            expect(viewer.locator("mark.qa-view-quote")).to_contain_text("312 pear trees")
            assert viewer.locator(".qa-viewer-text").text_content() == ORCHARD
            page.keyboard.press("Escape")
            reply = b.ask(page, SEED_QUESTION)  # the seeds are not in this knowledge base
            expect(reply).to_contain_text("Not found in the documents")

            choose_knowledge_base(page, "documents")
            expect(page.locator("#qa-documents")).to_contain_text(b.SEED_FILE)
            expect(page.locator("#qa-documents")).not_to_contain_text("larkspur_minutes.txt")
            reply = b.ask(page, SEED_QUESTION)
            assert "qa-error" not in (reply.get_attribute("class") or ""), app.log_tail()
            expect(reply.locator(".qa-text")).to_contain_text("personnel")
            assert cited_files(reply) == {b.SEED_FILE}

            # another browser session still starts on the default, and lists the new one
            other = b.open_page(browser, app.url)
            expect(other.locator("#qa-kb input")).to_have_value("documents")
            choose_knowledge_base(other, "orchard-notes")
            expect(other.locator("#qa-documents")).to_contain_text("larkspur_minutes.txt")
            other.close()
        finally:
            b.screenshot(page, "browser-kb-switch")
            browser.close()
