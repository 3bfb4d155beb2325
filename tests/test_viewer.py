"""The document viewer's data: each document's whole text as indexed (the build keeps it per
content hash), its PDF pages, ``qa.document_text``, and the ``/api/documents/<source>/text``
and ``/file`` routes of the running app (the login, traversal refused, readable 404s).
Real Chroma, the real embedder, PDFs built here."""
from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys

import httpx
import pytest

import qa
from index import IndexReader, NotFound, build_index, document_texts
from index.loaders import load_documents
from tests import browser as b

from .pdfs import SENTENCE, safety_manual_pdf

QUESTIONS = ("how many personnel were injured?", "How many militants were killed in the two strikes?",
             "How many minor injuries were there in 2023?", "How many minor injuries were there in 2022?")


def _texts_dir(settings):
    return document_texts.root(settings.chroma_path, settings.collection)


@pytest.fixture
def corpus(qa_settings_factory, embedder):
    """The seed article, the 3-page safety manual and a two-article .jsonl, indexed in small chunks."""
    settings = qa_settings_factory(chunk_size=64, chunk_overlap=8)
    settings.source_dir.mkdir(parents=True)
    shutil.copy(b.SEEDS / b.SEED_FILE, settings.source_dir)
    safety_manual_pdf(settings.source_dir / "manual.pdf")
    (settings.source_dir / "notes.jsonl").write_text(
        json.dumps({"doc_id": "note-1", "title": "Note one", "text": "The first note.\n\n\nIt has   gaps."}) + "\n"
        + json.dumps({"doc_id": "note-2", "title": "Note two", "text": "The second note."}) + "\n")
    build_index(settings, embedder=embedder, show_progress=False)
    return settings, qa.Assistant(settings, embedder=embedder)


def _loaded(settings):
    return {d.source: d for d in load_documents(settings.source_dir).documents}


def test_the_text_is_the_indexed_text_at_every_citations_offsets(corpus):
    settings, assistant = corpus
    loaded = _loaded(settings)
    seen_pdf = False
    for question in QUESTIONS:
        answer = assistant.ask(question, answerer="extractive")
        assert answer.citations, (question, answer.text)
        for c in answer.citations:
            doc = qa.document_text(c.source, assistant=assistant)
            assert doc.exact and doc.text == loaded[c.source].text
            assert doc.text[c.start:c.end] == c.quote
            if c.source == "manual.pdf":  # a citation's page is the page holding the quote's start
                seen_pdf = True
                assert c.page == doc.page_at(c.start) and c.page in (2, 3)
    assert seen_pdf


def test_pages_paths_and_jsonl_documents(corpus):
    settings, assistant = corpus
    loaded = _loaded(settings)
    pdf = qa.document_text("manual.pdf", assistant=assistant)
    assert pdf.pages == loaded["manual.pdf"].pages and len(pdf.pages) == 3
    assert [p.number for p in pdf.pages] == [1, 2, 3]
    assert pdf.text[pdf.pages[1].start:pdf.pages[1].end].endswith(SENTENCE)
    assert pdf.page_at(pdf.text.index(SENTENCE)) == 2
    assert pdf.path == settings.source_dir / "manual.pdf" and pdf.to_dict()["has_file"]
    assert pdf.to_dict()["pages"][2] == {"page": 3, "start": pdf.pages[2].start, "end": pdf.pages[2].end}
    note = qa.document_text("note-1", assistant=assistant)
    assert note.text == "The first note.\n\n\nIt has   gaps." and note.title == "Note one"
    assert note.path is None and note.pages == () and note.page_at(3) is None


def test_a_name_that_is_not_indexed_is_not_found_with_close_matches(corpus):
    _, assistant = corpus
    with pytest.raises(NotFound, match="Did you mean manual.pdf"):
        qa.document_text("manual.pfd", assistant=assistant)
    with pytest.raises(NotFound):
        assistant.reader.document_text("../../etc/passwd")
    with pytest.raises(qa.BadRequest, match="Name the document"):
        qa.document_text("  ", assistant=assistant)


def test_unchanged_documents_are_not_rewritten_and_removed_ones_are_pruned(corpus, embedder):
    settings, _ = corpus
    folder = _texts_dir(settings)
    files = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert len(files) == 4  # one per document (the .jsonl has two)
    (settings.source_dir / "zephyr.txt").write_text("The Zephyr station houses 47 scientists.")
    (settings.source_dir / "notes.jsonl").unlink()
    report = build_index(settings, embedder=embedder, show_progress=False)
    assert report.files_added == ("zephyr.txt",) and set(report.files_removed) == {"note-1", "note-2"}
    after = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert len(after) == 3 and not [n for n in after if n.startswith(".tmp-")]
    kept = set(files) & set(after)
    assert len(kept) == 2 and all(after[n] == files[n] for n in kept)  # not written again


def test_an_index_without_kept_texts_pieces_them_together_until_the_next_build(corpus, embedder):
    settings, _ = corpus
    loaded = _loaded(settings)
    shutil.rmtree(_texts_dir(settings))  # an index built before the viewer
    reader = IndexReader(settings, embedder=embedder)
    pieced = reader.document_text("manual.pdf")
    assert not pieced.exact and len(pieced.text) == len(loaded["manual.pdf"].text)
    for c in reader.document_chunks("manual.pdf"):
        assert pieced.text[c.start:c.end] == c.text
    assert [p.number for p in pieced.pages] == [1, 2, 3]
    assert pieced.page_at(pieced.text.index(SENTENCE)) == 2

    report = build_index(settings, embedder=embedder, show_progress=False)  # nothing changed ...
    assert report.chunks_embedded == 0 and not report.files_added and not report.files_changed
    again = IndexReader(settings, embedder=embedder).document_text("manual.pdf")
    assert again.exact and again.text == loaded["manual.pdf"].text  # ... and the texts are back


def test_a_damaged_text_file_reads_as_missing(corpus, embedder):
    settings, _ = corpus
    doc = _loaded(settings)[b.SEED_FILE]
    path = document_texts.path_for(_texts_dir(settings), doc.content_hash)
    path.write_bytes(path.read_bytes()[:40])
    assert document_texts.load(_texts_dir(settings), doc.content_hash) is None
    assert not IndexReader(settings, embedder=embedder).document_text(b.SEED_FILE).exact


def test_files_outside_the_source_folder_are_refused(tmp_path, ui_settings_factory):
    from fastapi import HTTPException

    from ui.documents_api import original_file

    settings = ui_settings_factory()
    settings.source_dir.mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("not a document")
    os.symlink(secret, settings.source_dir / "link.txt")
    for path in (settings.source_dir / "link.txt", settings.source_dir / ".." / "secret.txt",
                 settings.source_dir / "gone.txt", None):
        with pytest.raises(HTTPException) as err:
            original_file(settings, "x", path)
        assert err.value.status_code == 404 and err.value.detail
    (settings.source_dir / "a.txt").write_text("a")
    assert original_file(settings, "a.txt", settings.source_dir / "a.txt") == (settings.source_dir / "a.txt").resolve()


# ---- the running app ---------------------------------------------------------------------

AUTH = ("viewer", "s3cret")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """``python -m ui`` with a login; the manual, a .jsonl and a file not yet indexed added to
    its source folder and indexed by ``python -m index build`` while it runs."""
    workdir = tmp_path_factory.mktemp("viewer-api")
    with b.running_app(workdir, {"QA_UI_AUTH": ":".join(AUTH)}) as running:
        safety_manual_pdf(running.source_dir / "reports" / "safety manual.pdf")
        (running.source_dir / "notes.jsonl").write_text(json.dumps({"doc_id": "note-1", "text": "A note."}) + "\n")
        subprocess.run([sys.executable, "-m", "index", "build"], cwd=workdir, check=True, timeout=300,
                       env=b.app_env(workdir), capture_output=True)
        (running.source_dir / "later.txt").write_text("Uploaded but not indexed yet.")
        yield running


def _client(app, auth=AUTH) -> httpx.Client:
    return httpx.Client(base_url=app.url, auth=auth, timeout=60)


@pytest.mark.slow
def test_text_route(app):
    with _client(app) as c:
        r = c.get(f"/api/documents/{b.SEED_FILE}/text")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["text"] == b.SEED_TEXT and body["source"] == b.SEED_FILE and body["pages"] == []
        assert body["exact"] and body["has_file"]
        r = c.get("/api/documents/reports/safety%20manual.pdf/text")
        assert r.status_code == 200, r.text
        pdf = r.json()
        assert [p["page"] for p in pdf["pages"]] == [1, 2, 3]
        page2 = pdf["pages"][1]
        assert pdf["text"][page2["start"]:page2["end"]].endswith(SENTENCE)


@pytest.mark.slow
def test_file_route_serves_the_original(app):
    with _client(app) as c:
        r = c.get("/api/documents/reports/safety%20manual.pdf/file")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/pdf"
        assert r.headers["content-disposition"].startswith("inline")
        assert r.content == (app.source_dir / "reports" / "safety manual.pdf").read_bytes()
        r = c.get(f"/api/documents/{b.SEED_FILE}/file")
        assert r.status_code == 200 and r.text == b.SEED_TEXT
        assert r.headers["content-type"].startswith("text/plain")
        assert "sandbox" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.slow
def test_not_indexed_and_traversal_are_404s_with_a_message(app):
    with _client(app) as c:
        for path in ("/api/documents/later.txt/file", "/api/documents/missing.pdf/text",
                     "/api/documents/%2E%2E/%2E%2E/etc/passwd/file", "/api/documents/..%2F..%2Fetc%2Fpasswd/file",
                     "/api/documents/note-1/file", f"/api/documents/{b.SEED_FILE}%00/file"):
            r = c.get(path)
            assert r.status_code == 404, (path, r.status_code, r.text)
            assert r.json()["detail"], path
        assert "Did you mean" in c.get("/api/documents/reports/safety%20manul.pdf/text").json()["detail"]
        assert "not a file of its own" in c.get("/api/documents/note-1/file").json()["detail"]
        assert c.get("/api/documents/note-1/text").json()["text"] == "A note."
    # a raw request line with dot segments (httpx would normalise them away)
    host, port = app.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    token = __import__("base64").b64encode(":".join(AUTH).encode()).decode()
    conn.request("GET", "/api/documents/../../../../etc/passwd/file", headers={"Authorization": f"Basic {token}"})
    resp = conn.getresponse()
    assert resp.status == 404 and b"root:" not in resp.read()


@pytest.mark.slow
def test_the_routes_need_the_login_or_the_pages_session(app):
    path = f"/api/documents/{b.SEED_FILE}/text"
    assert httpx.get(app.url + path, timeout=60).status_code == 401
    assert _client(app, ("viewer", "wrong")).get(path).status_code == 401
    assert httpx.get(app.url + "/api/documents/reports/safety%20manual.pdf/file", timeout=60).status_code == 401
    with httpx.Client(base_url=app.url, timeout=60) as session:  # the browser's Gradio session cookie
        assert session.post("/login", data={"username": AUTH[0], "password": AUTH[1]}).status_code == 200
        r = session.get(path)
        assert r.status_code == 200 and r.json()["text"] == b.SEED_TEXT
