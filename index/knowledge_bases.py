"""Knowledge bases: the logical collections in one Chroma, each built from its own folder.

    for kb in list_collections(settings):          # also: python -m index list
        print(kb.name, kb.source_dir, kb.documents, kb.chunks, kb.built_at)
    physics = collection_settings(settings, "physics")   # its own collection and folder
    build_index(physics)                                 # its own incremental rebuild

A knowledge base is a collection name (``QA_COLLECTION`` names the default one). Its index
state (:mod:`index.store`) records the folder it was last built from, so the settings for it
rebuild from the same folder; one that was never built gets ``<kb_root>/<name>``
(:attr:`Settings.knowledge_base_root`). A logical collection has a physical collection per
generation (``<name>__<hex>``): only the logical ones are listed.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

from .errors import BadRequest
from .models import IndexedDocument
from .records import IndexState
from .settings import Settings, collection_name_problem
from .store import ChromaStore

S = TypeVar("S", bound=Settings)


@dataclass(frozen=True)
class KnowledgeBase:
    """One logical collection: its name, the folder it was built from ("" when the index
    predates recording it), its documents and chunks, and when it was last built."""

    name: str
    source_dir: str
    documents: int
    chunks: int
    built_at: str

    def to_dict(self) -> dict:
        return asdict(self)


def check_collection_name(name: str) -> str:
    """``name`` (stripped) if it is a valid knowledge base name; else :class:`BadRequest`."""
    name = name.strip() if isinstance(name, str) else name
    problem = collection_name_problem(name)
    if problem:
        raise BadRequest(f"{problem}. Choose another knowledge base name.")
    return name


def list_collections(settings: Settings, store: ChromaStore | None = None) -> list[KnowledgeBase]:
    """The knowledge bases under ``QA_CHROMA_PATH`` (or on the Chroma server), by name."""
    store = store or ChromaStore(settings)
    return [_describe(store, settings, name, state) for name, state in sorted(store.states().items())]


def _describe(store: ChromaStore, settings: Settings, name: str, state: IndexState) -> KnowledgeBase:
    documents, chunks = state.documents, state.chunks
    if documents is None or chunks is None:  # built before the counts were recorded: count them
        docs = list_documents(store.sibling(settings.model_copy(update={"collection": name})))
        documents, chunks = len(docs), sum(d.chunks for d in docs)
    return KnowledgeBase(name, state.source_dir, documents, chunks, state.built_at)


def collection_settings(settings: S, name: str, store: ChromaStore | None = None) -> S:
    """``settings`` for the knowledge base ``name``: its collection and its source folder
    (the default collection keeps ``settings.source_dir``)."""
    name = check_collection_name(name)
    if name == settings.collection:
        return settings
    other = settings.model_copy(update={"collection": name})
    state = (store.sibling(other) if store else ChromaStore(other)).read_state()
    folder = Path(state.source_dir) if state and state.source_dir else settings.knowledge_base_root / name
    return other.model_copy(update={"source_dir": folder})


def list_documents(store: ChromaStore) -> list[IndexedDocument]:
    """The documents of ``store``'s live generation (what ``python -m index status`` lists)."""
    state = store.require_state()
    by_source = defaultdict(list)
    for r in store.visible_records(state):
        by_source[r.chunk.source].append(r)
    return sorted(
        (
            IndexedDocument(
                source=src, title=recs[0].chunk.title, chunks=len(recs),
                indexed_at=max(r.indexed_at for r in recs), content_hash=recs[0].doc_hash,
            )
            for src, recs in by_source.items()
        ),
        key=lambda d: d.source,
    )
