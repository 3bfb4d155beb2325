"""The one citation path: markers, verification, numbering (no index needed)."""
from __future__ import annotations

from qa import markers
from qa.citations import Claim, compose, verify_quote
from qa.types import Citation, Passage

DOC = "Alpha one. Beta two has 8 parts. Gamma three."


def _cit(number, start, end, source="d.txt", text=DOC):
    return Citation(number=number, source=source, title="D", quote=text[start:end], start=start,
                    end=end, score=1.0, verified=False)


def _passage(start, end, source="d.txt", rank=1):
    return Passage(rank=rank, chunk_id=f"c{start}", source=source, title="D", text=DOC[start:end],
                   start=start, end=end, score=1.0)


class _Reader:
    def __init__(self, chunks):
        self.chunks = chunks

    def document_chunks(self, source):
        return self.chunks if source == "d.txt" else []


def test_markers_grammar_reads_single_and_grouped_markers_but_not_years():
    text = "A [1]. B [2, 3]. In [2020] nothing. C [4][5]"
    assert [m[2] for m in markers.find(text)] == [[1], [2, 3], [4], [5]]
    assert markers.numbers("x [3] y [1] z [3]") == [3, 1]
    # a model's draft is read more leniently; a range is expanded, a huge one is not a citation
    assert [markers.draft_numbers(m.group(1)) for m in markers.DRAFT_MARKER.finditer(
        "a [passage 2] b [1-3] c [1 and 4] d [1-300]")] == [[2], [1, 2, 3], [1, 4], []]
    assert markers.defuse("see [12] and [3, 4]") == "see (ref. 12) and (ref. 3, 4)"
    assert markers.strip("Alpha [1]. Beta [2, 3].") == "Alpha. Beta."


def test_a_quoted_documents_own_references_are_kept_and_read_as_no_marker():
    from qa.composing import display
    shown = display("transmit CHIKV (Day 24 to Day +1) [33, 34] , and it\nis [5]. In [2020] too.")
    assert shown == "transmit CHIKV (Day 24 to Day +1) (33, 34) , and it is (5). In [2020] too."
    assert markers.numbers(f"“{shown}” [1]") == [1]  # the answer's own marker only


def test_stream_pieces_add_up_to_the_text_and_end_at_markers():
    text = "Eight U.S. personnel [1]. “Quote one.” [1] “Quote two.” [2]"
    pieces = list(markers.pieces(text))
    assert "".join(pieces) == text
    assert pieces == ["Eight U.S. personnel [1]. “Quote one.” [1]", " “Quote two.” [2]"]


def test_split_lead_finds_the_short_answer_and_its_marker():
    assert markers.split_lead("Eight U.S. personnel [1]. “Quote.” [1]") == ("Eight U.S. personnel [1].", "“Quote.” [1]")
    assert markers.split_lead("“Quote.” [1]") == ("", "“Quote.” [1]")


def _claim(text, *quotes):
    return Claim.cited(text, *quotes, before_stop=True)


def test_compose_numbers_by_first_appearance_one_number_per_place():
    passages = [_passage(0, 45)]
    beta, gamma = _cit(0, 11, 32), _cit(0, 33, 45)
    out = compose([_claim("Beta.", beta), _claim("Gamma.", gamma), _claim("Beta again.", beta)], passages)
    assert out.text == "Beta [1]. Gamma [2]. Beta again [1]."
    assert [(c.number, c.quote, c.verified) for c in out.citations] == [(1, DOC[11:32], True), (2, DOC[33:45], True)]
    assert out.flags == ()


def test_compose_writes_markers_where_the_claim_puts_them():
    passages = [_passage(0, 45)]
    alpha, beta = _cit(0, 0, 10), _cit(0, 11, 32)
    claim = Claim("Alpha and beta .", ((5, (alpha,)), (14, (beta, alpha)), (14, (beta,))), gap=" ")
    assert compose([claim], passages).text == "Alpha [1] and beta [2][1]."
    quoted = Claim.cited("“Gamma three.”", _cit(0, 33, 45))
    assert compose([claim, quoted], passages).text == "Alpha [1] and beta [2][1]. “Gamma three.” [3]"


def test_compose_drops_unverifiable_quotes_and_claims_left_without_one():
    passages = [_passage(0, 45)]
    bad = Citation(number=0, source="d.txt", title="D", quote="Beta has nine parts.", start=11, end=31,
                   score=1.0, verified=False)
    out = compose([_claim("Alpha.", _cit(0, 0, 10)), _claim("Beta.", bad), _claim("Gamma.", _cit(0, 33, 45))], passages)
    assert out.text == "Alpha [1]. Gamma [2]."
    assert [c.number for c in out.citations] == [1, 2] and all(c.verified for c in out.citations)
    assert any("dropped citation: quote not found verbatim in d.txt at 11-31" in f for f in out.flags)
    assert any(f.startswith("dropped claim without a verified citation: Beta") for f in out.flags)
    # one good and one bad quote at one place: the claim stays with the good one
    both = compose([_claim("Beta.", bad, _cit(0, 11, 32))], passages)
    assert both.text == "Beta [1]." and len(both.citations) == 1


def test_compose_asks_the_reader_about_quotes_outside_the_passages():
    from index.models import Chunk

    reader = _Reader([Chunk("x", "d.txt", "D", DOC[0:32], 0, 32, 0), Chunk("y", "d.txt", "D", DOC[33:], 33, 45, 1)])
    gamma = _cit(0, 33, 45)
    assert compose([_claim("Gamma.", gamma)], [_passage(0, 32)]).citations == ()
    assert compose([_claim("Gamma.", gamma)], [_passage(0, 32)], fallback=reader).text == "Gamma [1]."


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


def test_verify_quote_falls_back_to_the_documents_chunks():
    from index.models import Chunk

    reader = _Reader([Chunk("x", "d.txt", "D", DOC[0:32], 0, 32, 0), Chunk("y", "d.txt", "D", DOC[33:], 33, 45, 1)])
    assert verify_quote(DOC[33:45], "d.txt", 33, 45, reader)
    assert not verify_quote(DOC[33:45], "e.txt", 33, 45, reader)
