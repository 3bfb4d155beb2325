"""What the index keeps in Chroma, as the project's own types: the index state on the
pointer collection (:class:`IndexState`) and each chunk's record with the generations it
is visible at (:class:`ChunkRecord`), with their Chroma metadata form. Nothing here
talks to Chroma (:mod:`index.store` does).
"""
from __future__ import annotations

from dataclasses import dataclass

from .models import Chunk

FOREVER = 2**31 - 1


@dataclass(frozen=True)
class IndexState:
    """The live generation and what built it. ``source_dir`` (the folder it was built from,
    absolute), ``documents`` and ``chunks`` are recorded by builds since knowledge bases
    (issue 13); states written before have "" and None."""

    physical: str
    generation: int
    embedder: str
    dim: int
    chunking: str
    built_at: str
    source_dir: str = ""
    documents: int | None = None
    chunks: int | None = None

    def to_metadata(self) -> dict:
        md = {
            "qa_physical": self.physical,
            "qa_generation": self.generation,
            "qa_embedder": self.embedder,
            "qa_dim": self.dim,
            "qa_chunking": self.chunking,
            "qa_built_at": self.built_at,
            "qa_source_dir": self.source_dir,
        }
        if self.documents is not None and self.chunks is not None:  # (Chroma metadata holds no None)
            md.update(qa_documents=self.documents, qa_chunks=self.chunks)
        return md

    @classmethod
    def from_metadata(cls, md: dict | None) -> "IndexState | None":
        if not md or "qa_physical" not in md:
            return None
        return cls(
            physical=str(md["qa_physical"]),
            generation=int(md["qa_generation"]),
            embedder=str(md["qa_embedder"]),
            dim=int(md["qa_dim"]),
            chunking=str(md.get("qa_chunking", "")),
            built_at=str(md.get("qa_built_at", "")),
            source_dir=str(md.get("qa_source_dir", "")),
            documents=int(md["qa_documents"]) if "qa_documents" in md else None,
            chunks=int(md["qa_chunks"]) if "qa_chunks" in md else None,
        )


@dataclass(frozen=True)
class ChunkRecord:
    """A stored chunk with the bookkeeping the build needs."""

    chunk: Chunk
    doc_hash: str
    file: str
    file_hash: str
    embed_hash: str
    indexed_at: str
    gen_from: int = 0
    gen_to: int = FOREVER

    def to_metadata(self) -> dict:
        c = self.chunk
        md = {
            "source": c.source, "title": c.title, "start": c.start, "end": c.end,
            "ordinal": c.ordinal, "doc_hash": self.doc_hash, "file": self.file,
            "file_hash": self.file_hash, "embed_hash": self.embed_hash,
            "indexed_at": self.indexed_at, "gen_from": self.gen_from, "gen_to": self.gen_to,
        }
        if c.page is not None:
            md["page"] = c.page
        if c.page_breaks:  # Chroma metadata values are scalars: "offset:page,offset:page"
            md["page_breaks"] = ",".join(f"{o}:{n}" for o, n in c.page_breaks)
        return md

    @classmethod
    def from_chroma(cls, id_: str, md: dict, text: str | None) -> "ChunkRecord":
        chunk = Chunk(
            id=id_, source=str(md["source"]), title=str(md.get("title", "")),
            text=text or "", start=int(md["start"]), end=int(md["end"]),
            ordinal=int(md.get("ordinal", 0)),
            page=int(md["page"]) if md.get("page") is not None else None,
            page_breaks=_page_breaks(md.get("page_breaks")),
        )
        return cls(
            chunk=chunk, doc_hash=str(md.get("doc_hash", "")), file=str(md.get("file", "")),
            file_hash=str(md.get("file_hash", "")), embed_hash=str(md.get("embed_hash", "")),
            indexed_at=str(md.get("indexed_at", "")), gen_from=int(md.get("gen_from", 0)),
            gen_to=int(md.get("gen_to", FOREVER)),
        )

    def visible_at(self, generation: int) -> bool:
        return self.gen_from <= generation < self.gen_to


def _page_breaks(value) -> tuple[tuple[int, int], ...]:
    """``"120:2,480:3"`` → ``((120, 2), (480, 3))``; records from before page breaks have none."""
    if not value or not isinstance(value, str):
        return ()
    pairs = (part.split(":") for part in value.split(","))
    return tuple((int(o), int(n)) for o, n in pairs)

