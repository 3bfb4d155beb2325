"""qa.grounding: drafts checked against their passages with the real MiniLM embedder."""
from __future__ import annotations

import pytest

from qa.refusal import NOT_FOUND as REFUSAL, is_refusal
from qa.types import Passage

from .helpers import checked_draft

DOC = (
    "Kettle Point Light\n\n"
    "The lighthouse on Kettle Point was built in 1874. Its lamp was electrified in 1931. "
    "The tower is 28 metres tall and has 117 steps.\n\n"
    "Visitors may climb the tower on weekends from May to September. Dogs are not allowed "
    "inside the tower. Tickets cost 5 dollars for adults."
)


def _passages() -> list[Passage]:
    """Two passages cut from DOC, with document offsets, as retrieval returns them."""
    a = DOC.index("The lighthouse")
    b = DOC.index("Visitors")
    cuts = [(a, b), (b, len(DOC))]
    return [Passage(rank=i, chunk_id=f"c{i}", source="kettle.md", title="Kettle Point Light",
                    text=DOC[s:e].strip(), start=s, end=s + len(DOC[s:e].strip()), score=0.5)
            for i, (s, e) in enumerate(cuts, 1)]


P = _passages()


@pytest.fixture
def g(embedder):
    def run(draft: str, passages=P):
        return checked_draft(draft, passages, embedder)

    return run


def assert_quotes_are_verbatim(result) -> None:
    for c in result.citations:
        assert DOC[c.start:c.end] == c.quote and c.verified


def test_supported_answer_is_kept_with_verbatim_quotes(g):
    r = g("The lighthouse was built in 1874 [1]. Visitors can climb it on weekends [2].")
    assert not r.refused and r.flags == ()
    assert r.text == "The lighthouse was built in 1874 [1]. Visitors can climb it on weekends [2]."
    assert [c.quote for c in r.citations] == [
        "The lighthouse on Kettle Point was built in 1874.",
        "Visitors may climb the tower on weekends from May to September.",
    ]
    assert [c.number for c in r.citations] == [1, 2]
    assert_quotes_are_verbatim(r)


def test_out_of_range_marker_is_dropped(g):
    r = g("The lamp was electrified in 1931 [9][1].")
    assert r.text == "The lamp was electrified in 1931 [1]."
    assert [c.quote for c in r.citations] == ["Its lamp was electrified in 1931."]
    assert any("[9]" in f and "no passage 9" in f for f in r.flags)


def test_only_out_of_range_markers_and_nothing_else_supported_is_a_refusal(g):
    r = g("The keeper was named Thomas Hale [4].")
    assert r.refused and r.text == REFUSAL and r.citations == ()


def test_unsupported_sentence_is_dropped(g):
    r = g("The tower is 28 metres tall [1]. The lighthouse is painted bright purple [1].")
    assert r.text == "The tower is 28 metres tall [1]."
    assert len(r.citations) == 1 and not r.refused
    assert any(f.startswith("dropped unsupported") and "purple" in f for f in r.flags)


def test_number_mismatch_is_unsupported(g):
    r = g("The lighthouse was built in 1884 [1].")
    assert r.refused and r.citations == ()
    assert any("number 1884" in f for f in r.flags)


def test_number_written_as_a_word_in_the_passage_matches(embedder):
    p = [Passage(1, "c", "a.txt", "A", "The island has three harbours.", 0, 30, 1.0)]
    r = checked_draft("There are 3 harbours on the island [1].", p, embedder)
    assert not r.refused and r.citations[0].quote == "The island has three harbours."


def test_name_absent_from_the_passage_is_unsupported(g):
    r = g("The lighthouse on Kettle Point was built by Robert Stevenson in 1874 [1].")
    assert r.refused and any("name Robert" in f for f in r.flags)


def test_negation_must_match_the_passage(g):
    r = g("Dogs are allowed inside the tower [2].")
    assert r.refused and any("negation" in f for f in r.flags)
    assert not g("Dogs are not allowed in the tower [2].").refused


@pytest.mark.parametrize("draft", [
    REFUSAL,
    "I cannot find that in the documents.",
    "I can’t find the answer in the provided passages. It might be 1900.",
    "The documents do not mention the keeper.",
    "",
    "   \n",
])
def test_refusal_or_empty_answer_is_refused(g, draft):
    r = g(draft)
    assert r.refused and r.text == REFUSAL and r.citations == ()


def test_refusal_after_a_supported_answer_is_dropped(g):
    r = g("The tower has 117 steps [1]. I can't find that in the documents.")
    assert not r.refused and r.text == "The tower has 117 steps [1]."
    assert any(f.startswith("dropped refusal") for f in r.flags)


@pytest.mark.parametrize("draft", [
    "Tickets cost 5 dollars for adults [2]. The tower has 117 steps [1].",
    "Tickets cost 5 dollars for adults.[2] The tower has 117 steps.[1]",
    "Tickets cost 5 dollars for adults [Passage 2]. The tower has 117 steps [ 1 ].",
])
def test_citations_are_renumbered_in_order_of_appearance(g, draft):
    r = g(draft)
    assert r.text == "Tickets cost 5 dollars for adults [1]. The tower has 117 steps [2]."
    assert [(c.number, c.quote) for c in r.citations] == [
        (1, "Tickets cost 5 dollars for adults."),
        (2, "The tower is 28 metres tall and has 117 steps."),
    ]
    assert_quotes_are_verbatim(r)


@pytest.mark.parametrize("markers", ["[1, 2]", "[1][2]", "[1-2]", "[2,1]"])
def test_multi_passage_markers(g, markers):
    r = g(f"The tower was built in 1874 and is open on weekends {markers}.")
    assert r.text == "The tower was built in 1874 and is open on weekends [1][2]." or (
        markers == "[2,1]" and r.text.endswith("[1][2]."))
    assert {c.quote for c in r.citations} == {
        "The lighthouse on Kettle Point was built in 1874.",
        "Visitors may climb the tower on weekends from May to September.",
    }


def test_a_cited_passage_that_adds_nothing_loses_its_citation(g):
    r = g("The lamp was electrified in 1931 [1, 2].")
    assert r.text == "The lamp was electrified in 1931 [1]."
    assert [c.quote for c in r.citations] == ["Its lamp was electrified in 1931."]
    assert any("passage 2 does not support" in f for f in r.flags)


def test_same_quote_keeps_one_number(g):
    r = g("The lighthouse was built in 1874 [1]. It was built on Kettle Point [1].")
    assert r.text.count("[1]") == 2 and len(r.citations) == 1


def test_uncited_sentence_gets_a_citation_when_supported(g):
    r = g("The lamp was electrified in 1931. Tickets cost 5 dollars [2].")
    assert r.text == "The lamp was electrified in 1931 [1]. Tickets cost 5 dollars [2]."
    assert any(f.startswith("added citation") for f in r.flags)
    assert_quotes_are_verbatim(r)


def test_uncited_unsupported_sentence_is_dropped(g):
    r = g("Great question! The tower has 117 steps [1].")
    assert r.text == "The tower has 117 steps [1]."
    assert any(f.startswith("dropped uncited") and "Great question" in f for f in r.flags)


def test_works_without_an_embedder():
    r = checked_draft("The tower has 117 steps [1]. It is made of cheese [1].", P, None)
    assert r.text == "The tower has 117 steps [1]." and r.citations[0].verified


def test_passage_text_not_at_its_offsets_is_never_cited(embedder):
    bad = Passage(1, "c", "a.txt", "A", "The tower has 117 steps.", 10, 12, 1.0)  # end too small
    r = checked_draft("The tower has 117 steps [1].", [bad], embedder)
    assert r.refused and r.citations == ()
    assert any(f.startswith("dropped citation: quote not found verbatim in a.txt") for f in r.flags)


def test_is_refusal():
    assert is_refusal("I can't find that in the documents.")
    assert is_refusal("Sorry, I couldn't find this in the documents")
    assert not is_refusal("The documents were found in 1931.")


def test_the_passage_title_can_name_the_subject(embedder):
    text = "It was built in 1874 on the northern cape."
    p = [Passage(1, "c", "kettle.md", "Kettle Point Light", text, 0, len(text), 1.0)]
    r = checked_draft("The Kettle Point lighthouse was built in 1874 [1].", p, embedder)
    assert not r.refused and r.citations[0].quote == text
