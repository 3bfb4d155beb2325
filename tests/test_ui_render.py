"""ui.render: answers and reports as escaped HTML (pure functions, no gradio, no index)."""
from __future__ import annotations

import re

from index import BuildReport, IndexedDocument, Skipped
from qa.types import Answer, Citation, Passage
from ui import render
from ui.uploads import Rejected, Saved, UploadResult

DOC = ("First line of the report. U.S. Central Command said the attack caused injuries to eight "
       "U.S. personnel.\nOfficials say those injured have since returned to duty.")
QUOTE = "U.S. Central Command said the attack caused injuries to eight U.S. personnel."


def passage(text=DOC, start=100, source="report.txt", rank=1, chunk_id="c1") -> Passage:
    return Passage(rank=rank, chunk_id=chunk_id, source=source, title="Report", text=text, start=start,
                   end=start + len(text), score=0.5, page=None)


def citation(quote=QUOTE, start=None, number=1, source="report.txt", chunk_id="c1") -> Citation:
    start = 100 + DOC.index(quote) if start is None else start
    return Citation(number=number, source=source, title="Report", quote=quote, start=start,
                    end=start + len(quote), score=0.8123, verified=True, chunk_id=chunk_id)


def answer(text="Eight U.S. personnel were injured [1].", citations=None, refused=False, passages=None,
           notice=None) -> Answer:
    return Answer(question="how many personnel were injured?", text=text,
                  citations=(citation(),) if citations is None else citations, refused=refused,
                  passages=(passage(),) if passages is None else passages, answerer="extractive",
                  notice=notice, seconds=0.25)


def test_markers_link_to_their_source_entries():
    html = render.answer_html(answer(), turn=3)
    assert '<a class="qa-marker" href="#qa-3-1"' in html
    assert 'id="qa-3-1"' in html
    assert "<details class=\"qa-sources\">" in html and "Sources (1)" in html


def test_quote_is_highlighted_inside_its_passage():
    html = render.answer_html(answer(), turn=0)
    assert f'<mark class="qa-quote">{QUOTE}</mark>' in html
    assert "First line of the report. <mark" in html  # the passage around it is shown too
    assert "returned to duty." in html
    assert "score 0.812" in html and "report.txt" in html


def test_quote_found_by_text_when_offsets_disagree():
    html = render.answer_html(answer(citations=(citation(start=9999),)), turn=0)
    assert f'<mark class="qa-quote">{QUOTE}</mark>' in html


def test_quote_not_in_any_passage_is_shown_alone():
    c = citation(quote="A sentence from elsewhere.", start=5000)
    html = render.answer_html(answer(citations=(c,)), turn=0)
    assert '<mark class="qa-quote">A sentence from elsewhere.</mark>' in html


def test_unknown_and_grouped_markers():
    two = (citation(), citation(number=2))
    html = render.answer_html(answer(text="A [1, 2] and B [7].", citations=two), turn=1)
    assert 'href="#qa-1-1"' in html and 'href="#qa-1-2"' in html
    assert "B [7]." in html  # no citation 7: left as text


def test_everything_from_documents_and_questions_is_escaped():
    evil = 'Hi <script>alert(1)</script> <img src=x onerror="window.__pwned=1"> & "q"'
    p = passage(text=evil, start=0)
    c = Citation(number=1, source='<b>x</b>.txt', title="<i>t</i>", quote="<script>alert(1)</script>",
                 start=3, end=28, score=0.1, verified=False, chunk_id="c1")
    a = Answer(question=evil, text=evil + " [1]", citations=(c,), refused=False, passages=(p,),
               answerer="<x>", notice="<u>n</u>")
    html = render.answer_html(a, 0) + render.question_html(evil) + render.error_html(evil)
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "<u>" not in html and "<x>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in html
    assert "quote not verified" in html


def test_no_newlines_in_messages():
    # Gradio's Chatbot runs inspect.cleandoc on message strings; line breaks are <br>.
    html = render.answer_html(answer(text="line one\nline two [1]"), turn=0)
    assert "\n" not in html and "line one<br>line two" in html


def test_refusal_looks_different_and_shows_nearest_passages():
    refusal = answer(text="The documents do not say.", citations=(), refused=True,
                     passages=(passage(), passage(text="Another passage.", rank=2, chunk_id="c2")))
    html = render.answer_html(refusal, turn=0)
    assert "qa-refused" in html and "Not found in the documents" in html
    assert "Nearest passages (2)" in html and "Another passage." in html
    assert "<details class=\"qa-sources qa-nearest\" open>" in html
    assert "qa-refused" not in render.answer_html(answer(), 0)


def test_notice_is_shown():
    html = render.answer_html(answer(notice="The LLM did not answer; this is the extractive answer."), 0)
    assert 'class="qa-notice"' in html and "extractive answer" in html


def test_under_an_answer_what_was_searched_for_and_the_time_spent():
    from dataclasses import replace

    plain = replace(answer(), retrieval_query="How many personnel were injured", retrieval_seconds=0.04)
    html = render.answer_html(plain, 0)
    assert "qa-searched" not in html  # the question itself was searched for
    assert "retrieved in 0.04 s · answered in 0.21 s" in html
    follow = replace(plain, question="and <b>where</b>?",
                     retrieval_query="where were the <b>personnel</b> injured")
    html = render.answer_html(follow, 1)
    assert "searched for: “where were the &lt;b&gt;personnel&lt;/b&gt; injured”" in html
    assert "qa-searched" in render.answer_html(replace(follow, refused=True, citations=()), 1)


def test_streaming_text_is_escaped():
    assert "&lt;b&gt;" in render.streaming_html("<b>bold")


def test_documents_table():
    docs = [IndexedDocument("a<b>.txt", "A", 3, "2025-11-25T10:16:05+00:00", "h1"),
            IndexedDocument("b.md", "B", 2, "2025-11-25T11:00:00+00:00", "h2")]
    html = render.documents_html(docs)
    assert "a&lt;b&gt;.txt" in html and "2025-11-25 10:16 UTC" in html
    assert "2 documents, 5 chunks" in html
    assert "No documents" in render.documents_html([])


def test_build_report():
    report = BuildReport(files_added=("new<1>.txt",), skipped=(Skipped("bad.pdf", "corrupt PDF: <x>"),),
                         chunks_embedded=4, chunks_total=9, documents_total=2, seconds=1.25)
    html = render.build_report_html(report)
    assert "added: new&lt;1&gt;.txt" in html and "corrupt PDF: &lt;x&gt;" in html
    assert "2 documents, 9 chunks" in html
    assert "nothing changed" in render.build_report_html(BuildReport())


def test_upload_report():
    result = UploadResult(saved=(Saved("a_b.txt", "a b.txt"),), unchanged=("c.md",),
                          rejected=(Rejected("<x>.exe", ".exe cannot be indexed"),))
    html = render.upload_report_html(result)
    assert "saved a_b.txt (renamed from a b.txt)" in html
    assert "already there: c.md" in html
    assert "rejected &lt;x&gt;.exe" in html and "Rebuild index" in html
    assert not re.search(r"<(?!/?(div|ul|li|span)\b)", html)


LONG = ("The report has a long preamble. " * 6 + "It was filed on Monday. "
        "The strike injured eight personnel. Officials confirmed it later. " + "More text follows here. " * 6)


def test_a_long_passage_shows_the_quote_with_a_sentence_each_side_and_the_rest_under_show_more():
    quote = "The strike injured eight personnel."
    c = citation(quote=quote, start=100 + LONG.index(quote))
    html = render.answer_html(answer(citations=(c,), passages=(passage(text=LONG),)), turn=0)
    short = re.search(r'<div class="qa-passage">(.*?)</div>', html).group(1)
    assert short == f'… It was filed on Monday. <mark class="qa-quote">{quote}</mark> Officials confirmed it later. …'
    full = re.search(r'<div class="qa-passage-full">(.*?)</div><a class="qa-more" href="#qa-more"', html).group(1)
    assert full == render._marked(LONG, LONG.index(quote), LONG.index(quote) + len(quote), "qa-quote-full")
    assert html.count('<mark class="qa-quote">') == 1  # one highlight per entry outside "show more"


def test_context_span_takes_whole_sentences_and_the_rest_of_a_cut_one():
    text = "One. Two is here. Three. Four."
    at = text.index("Two")
    assert render.context_span(text, at, at + len("Two is here.")) == (0, text.index(" Four"))
    mid = text.index("is here.")  # a quote starting inside a sentence keeps that sentence's start
    assert render.context_span(text, mid, mid + len("is here.")) == (0, text.index(" Four"))
    assert render.context_span(text, 0, 4) == (0, text.index(" Three"))


def test_each_source_entry_opens_the_viewer_at_its_quote():
    from urllib.parse import parse_qsl

    c = Citation(number=2, source="reports/Q3 & Q4.pdf", title="Q3", quote=QUOTE, start=126, end=126 + len(QUOTE),
                 score=0.5, verified=True, chunk_id="c1", page=3)
    html = render.answer_html(answer(text="Eight [2].", citations=(c,)), turn=1)
    href = re.search(r'<a class="qa-open" href="([^"]+)"', html).group(1)
    assert href.startswith("#qa-view?") and "&amp;" in href  # escaped in the attribute
    fields = dict(parse_qsl(href.replace("&amp;", "&").removeprefix("#qa-view?")))
    assert fields == {"source": "reports/Q3 & Q4.pdf", "start": "126", "end": str(126 + len(QUOTE)), "page": "3"}
    no_page = render.viewer_href(Citation(1, "a.txt", "", "q", 0, 1, 0.1, True))
    assert no_page == "#qa-view?source=a.txt&start=0&end=1"
