"""The one module that talks to Chroma.

Layout inside Chroma, for a collection name ``N`` (``QA_COLLECTION``):

* ``N`` — a pointer collection holding no records; its metadata is the index state
  (:class:`IndexState`): which physical collection is live, its generation, the embedder
  and chunking that built it. Chroma writes a collection's metadata in one step, so
  switching generations is atomic.
* ``N__<hex>`` — the physical collection with the chunks. Every record carries
  ``gen_from``/``gen_to``: a record is visible at generation ``G`` when
  ``gen_from <= G < gen_to``. A build adds records at ``G+1`` and retires others at
  ``G+1`` while readers keep seeing ``G``; then it flips the pointer and deletes what is
  no longer visible. A crash before the flip leaves ``G`` intact; the next build first
  removes the orphans.

A question reads one generation: the dense hits are kept to the chunks that generation's
keyword index lists, its chunks are read with their ``gen_from``/``gen_to``, and a search
whose chunks a rebuild deleted meanwhile is run again, so a query never mixes two
generations. Chroma never embeds anything itself: vectors are passed in.
The state and the records are :mod:`index.records`' types.
"""
from __future__ import annotations

import uuid
from typing import Container, Iterable, Sequence

import numpy as np

from .cache import LRU
from .errors import IndexMissing, StoreUnavailable
from .models import Chunk
from .records import ChunkRecord, IndexState

_BATCH = 1000




def _chunked(items: Sequence, size: int = _BATCH) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class _Guarded:
    """A Chroma client or collection whose calls turn a server that went away (restarted,
    network cut) into :class:`StoreUnavailable`, so a build or a question cut short at any
    step stops with a message instead of an httpx traceback. Other errors pass unchanged
    (``NotFoundError`` is handled where it means something)."""

    _COLLECTIONS = frozenset({"get_collection", "create_collection", "get_or_create_collection"})

    def __init__(self, target, where: str):
        self._target = target
        self._where = where

    def __getattr__(self, name: str):
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            import httpx

            try:
                result = attr(*args, **kwargs)
            except (ConnectionError, httpx.TransportError) as exc:
                raise StoreUnavailable(
                    f"Lost the connection to {self._where} ({exc}). Check that it is up "
                    "(QA_CHROMA_HOST/QA_CHROMA_PORT; is `chroma run` running?) and try again: "
                    "a build cut short leaves the previous index in place."
                ) from exc
            return _Guarded(result, self._where) if name in self._COLLECTIONS else result

        return call


class ChromaStore:
    """Chroma behind the project's own types. ``client`` may be passed in (tests)."""

    def __init__(self, settings, client=None):
        self.name = settings.collection
        self.where = (
            f"Chroma server {settings.chroma_host}:{settings.chroma_port}"
            if settings.chroma_host
            else f"Chroma at {settings.chroma_path}"
        )
        self._client = _Guarded(client or self._connect(settings), self.where)
        self._handles: LRU[str, object] = LRU(16)  # by physical collection name

    @staticmethod
    def _connect(settings):
        import chromadb

        chroma_settings = chromadb.Settings(anonymized_telemetry=False)
        try:
            if settings.chroma_host:
                return chromadb.HttpClient(
                    host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
                )
            settings.chroma_path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
        except Exception as exc:  # chromadb raises bare ValueError/ConnectionError here
            if settings.chroma_host:
                raise StoreUnavailable(
                    f"Cannot open the Chroma server at {settings.chroma_host}:{settings.chroma_port}: "
                    f"{exc}. Check QA_CHROMA_HOST/QA_CHROMA_PORT (is `chroma run` up?)."
                ) from exc
            # A local store that cannot be opened is damaged (truncated or overwritten
            # chroma.sqlite3): nothing in it can be trusted, and it is rebuilt from the documents.
            # chromadb caches the failed client per path; forget it, or this process (the UI)
            # would keep failing after the folder is deleted and rebuilt.
            from chromadb.api.shared_system_client import SharedSystemClient

            getattr(SharedSystemClient, "_identifier_to_system", {}).pop(str(settings.chroma_path), None)
            raise StoreUnavailable(
                f"Cannot open the index at {settings.chroma_path} ({exc}); it looks damaged. "
                f"Delete that folder and rebuild it with `python -m index build`, or point "
                "QA_CHROMA_PATH at another folder."
            ) from exc

    # ---- the pointer -------------------------------------------------------------
    def read_state(self) -> IndexState | None:
        from chromadb.errors import NotFoundError

        try:
            pointer = self._client.get_collection(self.name, embedding_function=None)
        except NotFoundError:
            return None
        except StoreUnavailable:
            raise
        except Exception as exc:
            raise StoreUnavailable(
                f"{self.where} is not answering: {exc}. Check QA_CHROMA_HOST/QA_CHROMA_PORT "
                "(is `chroma run` up?) or QA_CHROMA_PATH."
            ) from exc
        return IndexState.from_metadata(pointer.metadata)

    def require_state(self) -> IndexState:
        state = self.read_state()
        if state is None:
            raise IndexMissing(
                f"No index named '{self.name}' in {self.where}. "
                "Build it with `python -m index build` (or `make run`)."
            )
        return state

    def states(self) -> dict[str, IndexState]:
        """Every logical collection (pointer) in this Chroma, by name, with its state."""
        found = {}
        for col in self._client.list_collections():
            state = IndexState.from_metadata(col.metadata) if "__" not in col.name else None
            if state is not None:
                found[col.name] = state
        return found

    def sibling(self, settings) -> "ChromaStore":
        """A store for ``settings.collection`` on this store's Chroma client."""
        return ChromaStore(settings, client=self._client._target)

    def write_state(self, state: IndexState) -> None:
        pointer = self._client.get_or_create_collection(
            self.name, embedding_function=None, metadata=state.to_metadata()
        )
        pointer.modify(metadata=state.to_metadata())

    # ---- physical collections ----------------------------------------------------
    def new_physical(self) -> str:
        name = f"{self.name}__{uuid.uuid4().hex[:12]}"
        self._client.create_collection(
            name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )
        return name

    def physicals(self) -> list[str]:
        prefix = f"{self.name}__"
        return [c.name for c in self._client.list_collections() if c.name.startswith(prefix)]

    def drop_physical(self, name: str) -> None:
        from chromadb.errors import NotFoundError

        self._handles.discard(name)
        try:
            self._client.delete_collection(name)
        except NotFoundError:
            pass

    def drop_all(self) -> None:
        for name in self.physicals():
            self.drop_physical(name)
        self.drop_physical(self.name)

    def _col(self, physical: str):
        """The physical collection's handle. Handles are kept: looking one up is a Chroma
        round trip (~2 ms a call, several calls a question), and a physical collection's
        name is never reused, so a kept handle never points at the wrong records."""
        from chromadb.errors import NotFoundError

        found = self._handles.get(physical)
        if found is not None:
            return found
        try:
            col = self._client.get_collection(physical, embedding_function=None)
            self._handles.put(physical, col)
            return col
        except NotFoundError as exc:
            raise IndexMissing(
                f"The index '{self.name}' points at a collection that is gone ({physical}). "
                "Run `python -m index build --full`."
            ) from exc

    # ---- records -----------------------------------------------------------------
    def records(self, physical: str, *, with_text: bool = False, where: dict | None = None) -> list[ChunkRecord]:
        col = self._col(physical)
        include = ["metadatas", "documents"] if with_text else ["metadatas"]
        out: list[ChunkRecord] = []
        offset = 0
        while True:
            got = col.get(where=where, include=include, limit=5000, offset=offset)
            ids = got["ids"]
            docs = got.get("documents") or [None] * len(ids)
            # a record another process is rewriting can come back without metadata: skip it
            out.extend(ChunkRecord.from_chroma(i, m, d) for i, m, d in zip(ids, got["metadatas"], docs) if m)
            if len(ids) < 5000:
                return out
            offset += len(ids)

    def visible_records(self, state: IndexState, *, with_text: bool = False) -> list[ChunkRecord]:
        return [r for r in self.records(state.physical, with_text=with_text) if r.visible_at(state.generation)]

    def add(self, physical: str, records: Sequence[ChunkRecord], embeddings: np.ndarray) -> None:
        col = self._col(physical)
        for idx in _chunked(range(len(records))):
            recs = [records[i] for i in idx]
            col.upsert(
                ids=[r.chunk.id for r in recs],
                embeddings=np.asarray(embeddings[idx.start : idx.stop], dtype=np.float32),
                documents=[r.chunk.text for r in recs],
                metadatas=[r.to_metadata() for r in recs],
            )

    def set_gen_to(self, physical: str, ids: Sequence[str], gen_to: int) -> None:
        col = self._col(physical)
        for batch in _chunked(list(ids)):
            col.update(ids=list(batch), metadatas=[{"gen_to": gen_to}] * len(batch))

    def update_bookkeeping(self, physical: str, ids: Sequence[str], metadatas: Sequence[dict]) -> None:
        """Merge these metadata keys into existing records (texts and vectors untouched)."""
        col = self._col(physical)
        for idx in _chunked(range(len(ids))):
            col.update(ids=[ids[i] for i in idx], metadatas=[metadatas[i] for i in idx])

    def delete(self, physical: str, ids: Sequence[str]) -> None:
        col = self._col(physical)
        for batch in _chunked(list(ids)):
            col.delete(ids=list(batch))

    def embeddings_by_hash(self, physical: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of chunks whose embedded text has one of these hashes."""
        col = self._col(physical)
        found: dict[str, np.ndarray] = {}
        for batch in _chunked(sorted(set(hashes)), 500):
            # Copies of one text (a document under two names, a replicated corpus) share
            # a vector: find the ids first, then fetch one vector per hash. Fetching every
            # copy's made a rebuild over 32 copies pull 100k vectors (1.7 GB) for 3k texts.
            got = col.get(where={"embed_hash": {"$in": list(batch)}}, include=["metadatas"])
            ids_by_hash: dict[str, list[str]] = {}
            for id_, md in zip(got["ids"], got["metadatas"]):
                if md:
                    ids_by_hash.setdefault(str(md["embed_hash"]), []).append(id_)
            if not ids_by_hash:
                continue  # (get(ids=[]) would not mean "none")
            try:
                got = col.get(ids=[ids[0] for ids in ids_by_hash.values()], include=["metadatas", "embeddings"])
                pairs = list(zip(got["metadatas"], got["embeddings"]))
            except Exception:
                # A build killed mid-write can leave records whose vectors Chroma never
                # stored ("Error finding id"); fetch one by one (the next copy of a text
                # when one fails) and treat what never comes as a miss.
                pairs = []
                for ids in ids_by_hash.values():
                    for id_ in ids:
                        try:
                            one = col.get(ids=[id_], include=["metadatas", "embeddings"])
                        except Exception:
                            continue
                        pairs.extend(zip(one["metadatas"], one["embeddings"]))
                        break
            for md, emb in pairs:
                found.setdefault(str(md["embed_hash"]), np.asarray(emb, dtype=np.float32))
        return found

    def count(self, physical: str) -> int:
        return self._col(physical).count()

    # ---- reading at a generation -------------------------------------------------
    def nearest(self, state: IndexState, vector: np.ndarray, n: int, visible: Container[str],
                sources: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """The ids and cosine similarities of the ``n`` chunks among ``visible`` (the ids of
        ``state``'s generation) closest to ``vector`` (of the documents ``sources`` only,
        when given). Ids only: reading a record back costs ~0.1 ms, ten times the search
        itself for 90 hits, and the caller reads just the few it keeps (:meth:`chunks`)."""
        col = self._col(state.physical)
        fetch = n + 10  # records of other generations may come first: then ask for more
        where = {"source": {"$in": list(sources)}} if sources else None
        while True:
            # No count() first (~40 ms on a 100k-chunk collection): asking for more results
            # than there are returns them all, which ends the loop.
            got = col.query(query_embeddings=[np.asarray(vector, dtype=np.float32)],
                            n_results=fetch, where=where, include=["distances"])
            ids = got["ids"][0]
            hits = [(i, 1.0 - float(d)) for i, d in zip(ids, got["distances"][0]) if i in visible]
            if len(hits) >= n or len(ids) < fetch:
                return hits[:n]
            fetch *= 4

    def chunks(self, state: IndexState, ids: Sequence[str]) -> dict[str, Chunk]:
        col = self._col(state.physical)
        out: dict[str, Chunk] = {}
        for batch in _chunked(list(ids)):
            got = col.get(ids=list(batch), include=["metadatas", "documents"])
            for i, md, doc in zip(got["ids"], got["metadatas"], got["documents"]):
                if not md:
                    continue
                rec = ChunkRecord.from_chroma(i, md, doc)
                if rec.visible_at(state.generation):
                    out[i] = rec.chunk
        return out

    def document_chunks(self, state: IndexState, value: str, *, field: str = "source") -> list[Chunk]:
        """All visible chunks of the document named ``value`` (``field="title"``: of every
        document with that title), in reading order."""
        recs = self.records(state.physical, with_text=True, where={field: value})
        return sorted((r.chunk for r in recs if r.visible_at(state.generation)), key=lambda c: (c.source, c.start))
