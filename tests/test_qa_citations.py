"""Citation checks and [n] marker bookkeeping (no index needed)."""
from __future__ import annotations

import pytest

from qa.citations import cited_numbers, finalise, find_markers, renumber, verify_quote
from qa.types import Citation, Passage

DOC = "Alpha one. Beta two has 8 parts. Gamma three."


def _cit(number, start, end, source="d.txt", text=DOC):
    return Citation(number=number, source=source, title="D", quote=text[start:end], start=start,
                    end=end, score=1.0, verified=False)


def _passage(start, end, source="d.txt", rank=1):
    return Passage(rank=rank, chunk_id=f"c{start}", source=source, title="D", text=DOC[start:end],
                   start=start, end=end, score=1.0)


def test_find_markers_reads_single_and_grouped_markers_but_not_years():
    text = "A [1]. B [2, 3]. In [2020] nothing. C [4][5]"
    assert [m[2] for m in find_markers(text)] == [[1], [2, 3], [4], [5]]
    assert cited_numbers("x [3] y [1] z [3]") == [3, 1]


def test_renumber_by_first_appearance_and_drop_citations_nobody_cites():
    cits = [_cit(1, 0, 10), _cit(2, 11, 32), _cit(3, 33, 45)]
    text, kept = renumber("Beta [2]. Gamma [3]. Beta again [2].", cits)
    assert text == "Beta [1]. Gamma [2]. Beta again [1]."
    assert [(c.number, c.quote) for c in kept] == [(1, DOC[11:32]), (2, DOC[33:45])]


def test_markers_out_of_range_are_removed_without_leaving_gaps():
    text, kept = renumber("Alpha [1] and more [7]. Done [1].", [_cit(1, 0, 10)])
    assert text == "Alpha [1] and more. Done [1]."
    assert len(kept) == 1


def test_duplicate_markers_collapse():
    cits = [_cit(1, 0, 10), _cit(2, 11, 32)]
    assert renumber("A [1][1] B [2] [2] C [1, 1, 2]", cits)[0] == "A [1] B [2] C [1][2]"


def test_two_citations_of_the_same_quote_share_a_number():
    cits = [_cit(1, 0, 10), _cit(2, 0, 10), _cit(3, 11, 32)]
    text, kept = renumber("A [2]. B [3]. C [1].", cits)
    assert text == "A [1]. B [2]. C [1]."
    assert len(kept) == 2


def test_verify_quote_checks_the_offsets_in_passages():
    passages = [_passage(0, 32), _passage(11, 45, rank=2)]
    good = _cit(1, 11, 32)
    assert verify_quote(good, evidence=passages)
    assert verify_quote(good.quote, "d.txt", 11, 32, passages)
    assert not verify_quote(good.quote, "d.txt", 12, 33, passages)  # shifted
    assert not verify_quote(good.quote, "other.txt", 11, 32, passages)  # wrong source
    assert not verify_quote("Beta two has 9 parts.", "d.txt", 11, 32, passages)  # altered
    assert not verify_quote("", "d.txt", 11, 11, passages)


def test_verify_quote_across_two_overlapping_passages():
    passages = [_passage(0, 20), _passage(11, 45, rank=2)]
    assert verify_quote(DOC[0:32], "d.txt", 0, 32, passages)
    assert not verify_quote(DOC[0:44], "d.txt", 0, 44, [_passage(0, 20), _passage(33, 45)])  # a gap


class _Reader:
    def __init__(self, chunks):
        self.chunks = chunks

    def document_chunks(self, source):
        return self.chunks if source == "d.txt" else []


def test_verify_quote_falls_back_to_the_documents_chunks():
    from index.models import Chunk

    reader = _Reader([Chunk("x", "d.txt", "D", DOC[0:32], 0, 32, 0), Chunk("y", "d.txt", "D", DOC[33:], 33, 45, 1)])
    assert verify_quote(DOC[33:45], "d.txt", 33, 45, reader)
    assert not verify_quote(DOC[33:45], "e.txt", 33, 45, reader)


def test_finalise_drops_unverifiable_citations_and_their_markers():
    passages = [_passage(0, 45)]
    bad = Citation(number=2, source="d.txt", title="D", quote="Beta has nine parts.", start=11, end=31,
                   score=1.0, verified=False)
    text, kept, flags = finalise("Alpha [1]. Beta [2]. Gamma [3].", [_cit(1, 0, 10), bad, _cit(3, 33, 45)], passages)
    assert text == "Alpha [1]. Beta. Gamma [2]."
    assert [c.number for c in kept] == [1, 2] and all(c.verified for c in kept)
    assert any("dropped citation [2]" in f for f in flags)


@pytest.mark.parametrize("text", ["", "No markers at all."])
def test_finalise_without_markers_keeps_text(text):
    out, kept, _ = finalise(text, [], [_passage(0, 45)])
    assert out == text and kept == ()
