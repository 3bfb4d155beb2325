"""PDF pages: a citation's page is the page holding the quote's start (chunks and passages
carry the page breaks inside them, through Chroma and back); pypdf's warnings on a damaged
file land in the build report, not on stderr. Real index (Chroma, MiniLM), PDFs built here."""
from __future__ import annotations

import bisect

import pytest

from index import IndexReader, build_index
from index.loaders import load_documents
from index.models import Chunk
from index.records import ChunkRecord
from index.store import ChromaStore

from .helpers import checked_draft
from qa.retrieval import CHUNK_LEVEL, RetrievalConfig, retrieve
from qa.tables import find_cell
from qa.types import Passage

from .pdfs import SENTENCE, damaged_pdf, safety_manual_pdf


def _page_of(doc, offset: int) -> int:
    starts = [p.start for p in doc.pages]
    return doc.pages[bisect.bisect_right(starts, offset) - 1].number


@pytest.fixture(scope="module")
def manual(tmp_path_factory, embedder):
    """An index of the safety manual with small chunks (several per document, overlapping)."""
    from index import Settings

    root = tmp_path_factory.mktemp("pdf-pages")
    safety_manual_pdf(root / "docs" / "manual.pdf")
    settings = Settings(source_dir=root / "docs", chroma_path=root / "chroma", collection="pdf-pages",
                        chunk_size=40, chunk_overlap=12)
    build_index(settings, embedder=embedder, show_progress=False)
    doc = load_documents(root / "docs").documents[0]
    return settings, IndexReader(settings, embedder=embedder), doc


def test_chunks_carry_the_page_breaks_inside_them_through_chroma(manual):
    settings, _, doc = manual
    store = ChromaStore(settings)
    chunks = sorted((r.chunk for r in store.visible_records(store.require_state(), with_text=True)),
                    key=lambda c: c.start)
    assert len(chunks) > 2 and any(c.page_breaks for c in chunks)
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        assert c.page == _page_of(doc, c.start)
        assert c.page_breaks == tuple((p.start, p.number) for p in doc.pages if c.start < p.start < c.end)


@pytest.mark.parametrize("config", [CHUNK_LEVEL, RetrievalConfig(window=1), RetrievalConfig(window=3)])
def test_passages_give_the_page_of_any_offset(manual, config):
    _, reader, doc = manual
    passages = retrieve(reader, "How many minor injuries were there in 2022?", 4, config=config)
    assert passages
    for p in passages:
        assert doc.text[p.start:p.end] == p.text
        for offset in range(p.start, p.end):
            assert p.page_at(offset) == _page_of(doc, offset), (p, offset)


def test_a_table_cell_of_page_3_is_cited_on_page_3(manual):
    _, reader, doc = manual
    passages = retrieve(reader, "How many minor injuries were there in 2022?", 4)
    cell = find_cell("How many minor injuries were there in 2022?", passages)
    assert cell is not None and cell.text == "21"
    assert doc.text[cell.row_start:cell.row_end] == "2022 21 3 0"
    assert doc.text[cell.start:cell.end] == "21"
    assert cell.passage.page_at(cell.row_start) == 3


def test_llm_citations_name_the_page_of_the_quote(tmp_path):
    doc = load_documents(safety_manual_pdf(tmp_path / "manual.pdf")).documents[0]
    # one passage over the whole document, starting on page 1
    breaks = tuple((p.start, p.number) for p in doc.pages[1:])
    p = Passage(1, "c1", doc.source, doc.title, doc.text, 0, len(doc.text), 1.0, page=1, page_breaks=breaks)
    g = checked_draft("In 2023 there were 14 minor injuries [1]. In 2022 there were 21 minor injuries [1].", [p])
    assert not g.refused, g.flags
    pages = {c.quote: c.page for c in g.citations}
    assert pages[SENTENCE] == 2
    assert pages["2022 21 3 0"] == 3


def test_page_at_without_page_breaks_is_the_passage_page():
    p = Passage(1, "c", "a.pdf", "T", "text", 10, 14, 1.0, page=4)
    assert p.page_at(12) == 4 and Passage(1, "c", "a.txt", "T", "x", 0, 1, 1.0).page_at(0) is None
    p = Passage(1, "c", "a.pdf", "T", "x" * 100, 0, 100, 1.0, page=1, page_breaks=((40, 2), (70, 3)))
    assert [p.page_at(o) for o in (0, 39, 40, 69, 70, 99)] == [1, 1, 2, 2, 3, 3]


def test_records_without_page_breaks_still_load():
    chunk = Chunk("id1", "a.pdf", "T", "text", 0, 4, 0, page=2, page_breaks=((2, 3),))
    rec = ChunkRecord(chunk, "dh", "a.pdf", "fh", "eh", "now")
    md = rec.to_metadata()
    assert md["page_breaks"] == "2:3" and ChunkRecord.from_chroma("id1", md, "text").chunk == chunk
    old = {k: v for k, v in md.items() if k != "page_breaks"}  # an index built before page breaks
    assert ChunkRecord.from_chroma("id1", old, "text").chunk.page_breaks == ()
    assert "page_breaks" not in ChunkRecord(Chunk("i", "a.txt", "T", "x", 0, 1, 0), "d", "a", "f", "e", "n").to_metadata()


def test_pypdf_warnings_go_to_the_build_report_not_stderr(tmp_path, settings_factory, embedder, capfd):
    s = settings_factory()
    damaged_pdf(s.source_dir / "damaged.pdf")
    safety_manual_pdf(s.source_dir / "manual.pdf")
    capfd.readouterr()
    report = build_index(s, embedder=embedder, show_progress=False)
    out, err = capfd.readouterr()
    assert report.files_added == ("damaged.pdf", "manual.pdf") and not report.skipped
    assert report.warnings and all(w.startswith("damaged.pdf: ") for w in report.warnings), report.warnings
    assert any("startxref" in w for w in report.warnings)
    assert report.to_dict()["warnings"] == list(report.warnings)
    assert "startxref" not in err + out and "damaged" not in err + out


def test_pypdf_warnings_of_a_skipped_pdf_are_reported_too(tmp_path, capfd):
    good = damaged_pdf(tmp_path / "x.pdf").read_bytes()
    (tmp_path / "x.pdf").write_bytes(good.replace(b"/Pages", b"/Pagez"))  # unreadable page tree
    capfd.readouterr()
    result = load_documents(tmp_path / "x.pdf")
    out, err = capfd.readouterr()
    assert result.documents == () and result.skipped[0].reason.startswith(("corrupt PDF", "no extractable"))
    assert result.warnings and all(w.startswith("x.pdf: ") for w in result.warnings)
    assert not err and not out


def test_other_threads_pypdf_records_still_reach_the_root_logger(tmp_path, caplog):
    import logging
    import threading

    from index import loaders

    seen = []
    with loaders._parser_warnings() as caught:
        t = threading.Thread(target=lambda: logging.getLogger("pypdf._reader").warning("from elsewhere"))
        t.start()
        t.join()
        logging.getLogger("pypdf._reader").warning("mine")
        seen = [r.getMessage() for r in caplog.records]
    assert caught == ["mine"] and "from elsewhere" in seen and "mine" not in seen
    assert logging.getLogger("pypdf").propagate and not logging.getLogger("pypdf").handlers
