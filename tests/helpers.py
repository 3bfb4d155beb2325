"""Shared test helpers (not fixtures): corpora written on the fly, free ports, servers."""
from __future__ import annotations

import json
from pathlib import Path

from bench.procs import free_port, stop, wait_for_port  # noqa: F401  (the tests' too)

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
COVID = SHARED / "datasets" / "covid-qa" / "corpus.jsonl"


def covid_docs(n: int, chars: int = 4000) -> list[dict]:
    """The first ``n`` covid-qa articles, cut to ``chars`` characters (small, real text)."""
    out = []
    with COVID.open() as f:
        for line in f:
            d = json.loads(line)
            out.append({"doc_id": d["doc_id"], "title": d.get("title", ""), "text": d["text"][:chars]})
            if len(out) == n:
                break
    return out


# first name, last name, birthplace, year: the small corpora the trainers' tests build
SCIENTISTS = [("Ada", "Lovelace", "London", 1815), ("Alan", "Turing", "Manchester", 1912),
              ("Grace", "Hopper", "New York", 1906), ("Edsger", "Dijkstra", "Rotterdam", 1930),
              ("Barbara", "Liskov", "Los Angeles", 1939), ("Donald", "Knuth", "Milwaukee", 1938)]


def write_jsonl(path: Path, docs: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    return path


SEED_FILE = "us-strikes-iran-backed-groups-iraq.txt"
SEED_PATH = Path(__file__).resolve().parent.parent / "seeds" / SEED_FILE
SEED_QUESTION = "how many personnel were injured?"
SEED_FACT = ("personnel", ("injur", "wound"))  # "eight U.S. personnel" or "wounded 25 U.S. military personnel"


def assert_cited(answer, fact: str | None = None) -> None:
    """``answer`` is drawn from the seed document: every citation verified and verbatim at
    its offsets, and one of them quotes ``fact`` (default: a sentence about injured personnel,
    which the document gives for two attacks)."""
    text = SEED_PATH.read_text()
    assert not answer.refused, answer.text
    assert answer.citations, answer
    for c in answer.citations:
        assert c.verified and c.source == SEED_FILE
        assert text[c.start:c.end] == c.quote

    def about(quote: str) -> bool:
        if fact is not None:
            return fact in quote
        noun, verbs = SEED_FACT
        return noun in quote and any(v in quote for v in verbs)

    assert any(about(c.quote) for c in answer.citations), answer.citations


def seed_index(settings, embedder):
    """``settings`` with the seed article copied into its source folder and indexed."""
    import shutil

    from index import build_index

    settings.source_dir.mkdir(parents=True)
    shutil.copy(SEED_PATH, settings.source_dir / SEED_FILE)
    build_index(settings, embedder=embedder)
    return settings


def indexed_sentences(settings) -> list[str]:
    """Every sentence of every visible chunk, as the build splits them (chunks overlap, so
    a sentence may come twice)."""
    from index import sentence_vectors as sv
    from index.store import ChromaStore

    store = ChromaStore(settings)
    out = []
    for r in store.visible_records(store.require_state(), with_text=True):
        spans, _ = sv.chunk_sentences(r.chunk.title, r.chunk.text)
        out.extend(r.chunk.text[s:e] for s, e in spans)
    return out


def checked_draft(draft: str, passages, embedder=None):
    """An LLM draft through the product's path: grounded (qa.grounding), then verified,
    numbered and marked (qa.citations.compose), as ``Assistant`` does."""
    from types import SimpleNamespace

    from qa.citations import compose
    from qa.grounding import ground
    from qa.refusal import NOT_FOUND

    g = ground(draft, passages, embedder)
    if g.refused:
        return SimpleNamespace(text=NOT_FOUND, citations=(), refused=True, flags=g.flags)
    out = compose(g.claims, passages)
    return SimpleNamespace(text=out.text if out.citations else NOT_FOUND, citations=out.citations,
                           refused=not out.citations, flags=g.flags + out.flags)
