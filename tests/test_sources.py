"""Asking only chosen files: ``sources=[...]`` in the reader, retrieval, the assistant and the CLI.

A real index (real Chroma, the packaged MiniLM, BM25) of documents where two both answer
the keeper question, so restricting changes which one is cited.
"""
from __future__ import annotations

import json

import pytest

from index import BadRequest, IndexReader, bm25, build_index
from qa import Assistant, answer
from qa.__main__ import main as cli
from qa.retrieval import rank_chunks, retrieve

QUESTION = "How many keepers staff the Kestrel lighthouse?"
DOCS = {
    "alpha.txt": "Kestrel lighthouse keepers' log\n\nThe Kestrel lighthouse is staffed by three keepers "
                 "all year round. The three Kestrel lighthouse keepers live on the north cliff.\n",
    "beta.md": "# Visitor notes\n\nDuring the summer season five keepers staff the lighthouse on Kestrel "
               "island, the visitor centre says.\n",
    "reports/q1.txt": "First quarter report\n\nRevenue of the ferry company rose 12 percent in the first "
                      "quarter, driven by tourist crossings.\n",
    "reports/q2.txt": "Second quarter report\n\nRevenue of the ferry company fell 4 percent in the second "
                      "quarter after the storms closed the harbour.\n",
    "zebra notes.txt": "Zebra notes\n\nThe island's zebra herd grazes near the old quarry in spring.\n",
}


@pytest.fixture(scope="module")
def settings(tmp_path_factory, embedder):
    from qa import Settings

    root = tmp_path_factory.mktemp("sources")
    for name, text in DOCS.items():
        (root / "docs" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "docs" / name).write_text(text)
    s = Settings(source_dir=root / "docs", chroma_path=root / "chroma", answerer="extractive")
    build_index(s, embedder=embedder, show_progress=False)
    return s


@pytest.fixture(scope="module")
def assistant(settings, embedder):
    return Assistant(settings, embedder=embedder)


def cited(a) -> set[str]:
    return {c.source for c in a.citations}


def test_restricting_changes_which_document_is_cited(assistant):
    everywhere = assistant.ask(QUESTION)
    assert not everywhere.refused and cited(everywhere) == {"beta.md"}, everywhere.text
    assert everywhere.sources == () and everywhere.to_dict()["sources"] == []

    only_alpha = assistant.ask(QUESTION, sources=["alpha.txt"])
    assert not only_alpha.refused, only_alpha.text
    assert cited(only_alpha) == {"alpha.txt"} and "three keepers" in only_alpha.text
    assert {p.source for p in only_alpha.passages} == {"alpha.txt"}
    assert only_alpha.sources == ("alpha.txt",) and only_alpha.to_dict()["sources"] == ["alpha.txt"]

    streamed = list(assistant.stream(QUESTION, sources=["alpha.txt"]))
    assert cited(streamed[-1]) == {"alpha.txt"}


def test_a_glob_names_every_matching_document(assistant):
    a = assistant.ask("How did the ferry company's revenue change?", sources=["reports/*.txt"])
    assert a.sources == ("reports/q1.txt", "reports/q2.txt")
    assert {p.source for p in a.passages} <= {"reports/q1.txt", "reports/q2.txt"}
    one = assistant.ask("How did the ferry company's revenue change?", sources=["reports/q2.*", "reports/q2.txt"])
    assert one.sources == ("reports/q2.txt",)  # each document once
    assert {p.source for p in one.passages} == {"reports/q2.txt"}


def test_an_unknown_name_is_a_bad_request_with_close_matches(assistant):
    with pytest.raises(BadRequest) as exc:
        assistant.ask(QUESTION, sources=["alpah.txt"])
    assert "'alpah.txt'" in str(exc.value) and "Did you mean alpha.txt" in str(exc.value)
    with pytest.raises(BadRequest) as exc:
        assistant.ask(QUESTION, sources=["*.pdf"])
    message = str(exc.value)
    assert "No indexed document matches '*.pdf'" in message and "reports/q1.txt" in message  # what there is
    with pytest.raises(BadRequest, match="list of document names"):
        assistant.ask(QUESTION, sources=[3])
    assert assistant.ask(QUESTION, sources=[]).sources == ()  # empty: all


def test_a_refusal_says_which_files_were_searched(assistant):
    a = assistant.ask(QUESTION, sources=["reports/q1.txt", "zebra notes.txt"])
    assert a.refused, a.text
    assert a.text.endswith("I searched only reports/q1.txt and zebra notes.txt."), a.text
    unrestricted = assistant.ask("What is the capital of France?")
    assert unrestricted.refused and "I searched only" not in unrestricted.text


def test_bm25_only_and_dense_only_hits_respect_the_filter(settings, embedder):
    reader = IndexReader(settings, embedder=embedder)
    keyword_all = reader.search(QUESTION, dense_k=0, keyword_k=10)
    dense_all = reader.search(QUESTION, dense_k=10, keyword_k=0)
    assert keyword_all.keyword[0].chunk.source == "alpha.txt" and dense_all.dense[0].chunk.source == "alpha.txt"

    keyword = reader.search(QUESTION, dense_k=0, keyword_k=10, sources=["beta.md"])
    dense = reader.search(QUESTION, dense_k=10, keyword_k=0, sources=["beta.md"])
    assert keyword.keyword and {h.chunk.source for h in keyword.keyword} == {"beta.md"}
    assert dense.dense and {h.chunk.source for h in dense.dense} == {"beta.md"}
    assert not keyword.dense and not dense.keyword
    # BM25 scores are the unrestricted index's, masked: the same chunk scores the same
    same = {h.chunk.id: h.score for h in keyword_all.keyword}
    assert all(same[h.chunk.id] == pytest.approx(h.score) for h in keyword.keyword)
    # no match in the chosen documents: nothing from the keyword side
    assert reader.search(QUESTION, dense_k=0, keyword_k=10, sources=["reports/q1.txt"]).keyword == ()

    ranked = rank_chunks(reader, QUESTION, 3, sources=["beta.md", "zebra notes.txt"])
    assert ranked and {h.chunk.source for h in ranked} <= {"beta.md", "zebra notes.txt"}
    assert {p.source for p in retrieve(reader, QUESTION, 3, sources=["beta.md"])} == {"beta.md"}


def test_an_index_saved_without_chunk_sources_reads_them_from_the_store(settings, embedder):
    reader = IndexReader(settings, embedder=embedder)
    state = reader.state()
    directory = bm25.bm25_dir(settings.bm25_dir, state.physical, state.generation)
    saved = json.loads((directory / "sources.json").read_text())
    ids = json.loads((directory / "ids.json").read_text())
    assert len(saved) == len(ids) and set(saved) == set(DOCS)
    (directory / "sources.json").rename(directory / "sources.json.bak")
    try:
        fresh = IndexReader(settings, embedder=embedder)
        assert fresh.source_names() == tuple(sorted(DOCS))
        hits = fresh.search(QUESTION, dense_k=0, keyword_k=10, sources=["beta.md"]).keyword
        assert hits and {h.chunk.source for h in hits} == {"beta.md"}
    finally:
        (directory / "sources.json.bak").rename(directory / "sources.json")


def test_a_custom_retriever_gets_sources_only_if_it_takes_them(settings, embedder):
    reader = IndexReader(settings, embedder=embedder)
    seen = []

    def with_sources(query, k, *, sources=()):
        seen.append(sources)
        return retrieve(reader, query, k, sources=sources)

    a = Assistant(settings, reader=reader, retriever=with_sources).ask(QUESTION, sources=["beta.*"])
    assert seen == [("beta.md",)] and cited(a) == {"beta.md"}

    plain_calls = []

    def plain(query, k):  # knows nothing of sources: its other documents' passages are dropped
        plain_calls.append(query)
        return retrieve(reader, query, k)

    b = Assistant(settings, reader=reader, retriever=plain).ask(QUESTION, sources=["beta.md"])
    assert plain_calls and {p.source for p in b.passages} <= {"beta.md"} and "alpha.txt" not in cited(b)


def test_follow_up_keeps_the_restriction(assistant):
    from qa import Turn

    history = [Turn(QUESTION, "The Kestrel lighthouse is staffed by three keepers [1].")]
    a = assistant.ask("And in summer?", history, sources=["beta.md"])
    assert {p.source for p in a.passages} == {"beta.md"} and a.sources == ("beta.md",)


def test_cli_source_option(settings, monkeypatch, capsys):
    monkeypatch.setenv("QA_CHROMA_PATH", str(settings.chroma_path))
    monkeypatch.setenv("QA_SOURCE_DIR", str(settings.source_dir))
    assert cli([QUESTION, "--answerer", "extractive", "--json", "--source", "beta.md"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sources"] == ["beta.md"] and {c["source"] for c in data["citations"]} == {"beta.md"}

    assert cli([QUESTION, "--source", "reports/q1.txt", "--source", "zebra*"]) == 0
    assert "I searched only reports/q1.txt and zebra notes.txt." in capsys.readouterr().out

    assert cli([QUESTION, "--source", "beta.txt"]) == 1
    assert "Did you mean beta.md" in capsys.readouterr().err


def test_the_one_shot_answer_takes_sources(settings):
    a = answer(QUESTION, settings=settings, sources="beta.md")  # one name alone is fine too
    assert cited(a) == {"beta.md"}


def test_the_llm_answerer_searches_only_the_chosen_files(settings, embedder, llm_server):
    """The real llama.cpp server: a streamed follow-up (condensed by the LLM) restricted to
    one file retrieves, drafts and cites from that file only, whatever the model writes."""
    from qa import Settings, Turn

    s = Settings(source_dir=settings.source_dir, chroma_path=settings.chroma_path, answerer="llm",
                 openai_base_url=llm_server.base_url, openai_api_key=llm_server.api_key, llm_model="smollm2")
    assistant = Assistant(s, embedder=embedder)
    history = [Turn("Tell me about the Kestrel lighthouse.", "It stands on Kestrel island.")]
    *_, a = assistant.stream(QUESTION, history, top_k=2, sources=["alpha.txt"])
    assert a.sources == ("alpha.txt",)
    assert a.passages and {p.source for p in a.passages} == {"alpha.txt"}
    assert cited(a) <= {"alpha.txt"}
    if a.refused:
        assert a.text.endswith("I searched only alpha.txt."), a.text


def test_an_evidence_that_cannot_list_its_documents_refuses_sources_clearly(settings, embedder):
    reader = IndexReader(settings, embedder=embedder)

    class Plain:  # an Evidence of its own, from before sources: everything but source_names
        def __getattr__(self, name):
            if name == "source_names":
                raise AttributeError(name)
            return getattr(reader, name)

    assistant = Assistant(settings, reader=Plain())
    assert not assistant.ask(QUESTION).refused  # unrestricted: works as before
    with pytest.raises(BadRequest, match="cannot list its documents"):
        assistant.ask(QUESTION, sources=["alpha.txt"])
