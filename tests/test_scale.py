"""Scale: what a large, repetitive corpus costs the index (see bench/scale.py for the
100k-chunk run through a Chroma server; docs/reliability/load.md for its figures)."""
from __future__ import annotations

import numpy as np


class CountingClient:
    """The real Chroma client, counting the vectors its collections' ``get`` sends back."""

    def __init__(self, client):
        self._client = client
        self.vectors = 0

    def __getattr__(self, name):
        return getattr(self._client, name)

    def get_collection(self, *args, **kwargs):
        return CountingCollection(self._client.get_collection(*args, **kwargs), self)


class CountingCollection:
    def __init__(self, col, owner: CountingClient):
        self._col = col
        self._owner = owner

    def __getattr__(self, name):
        return getattr(self._col, name)

    def get(self, *args, **kwargs):
        got = self._col.get(*args, **kwargs)
        if got.get("embeddings") is not None:
            self._owner.vectors += len(got["embeddings"])
        return got


def test_reused_vectors_are_fetched_once_per_text_not_once_per_copy(settings_factory):
    """A corpus holding the same text many times (copies, a document under two names) must
    not make a rebuild pull every copy's vector: at 32 copies of a 3k-chunk corpus that
    was 100k vectors, 1.7 GB in the build process, for 3k distinct texts."""
    import chromadb

    from index.models import Chunk
    from index.records import ChunkRecord
    from index.store import ChromaStore

    settings = settings_factory()
    settings.chroma_path.mkdir(parents=True)
    counting = CountingClient(chromadb.PersistentClient(path=str(settings.chroma_path),
                                                        settings=chromadb.Settings(anonymized_telemetry=False)))
    store = ChromaStore(settings, client=counting)
    physical = store.new_physical()
    texts = {f"h{i}": f"distinct text number {i}" for i in range(3)}
    vectors = {h: np.eye(8, dtype=np.float32)[i] for i, h in enumerate(texts)}
    records, rows = [], []
    for copy in range(20):
        for h, text in texts.items():
            chunk = Chunk(f"{h}-copy{copy}", f"doc~{copy}", "t", text, 0, len(text), 0)
            records.append(ChunkRecord(chunk, "d", "f", "fh", h, "now"))
            rows.append(vectors[h])
    store.add(physical, records, np.stack(rows))

    counting.vectors = 0
    found = store.embeddings_by_hash(physical, [*texts, "h-missing"])
    assert sorted(found) == sorted(texts)
    for h, v in vectors.items():
        np.testing.assert_allclose(found[h], v, atol=1e-6)
    assert counting.vectors == len(texts), f"{counting.vectors} vectors fetched for {len(texts)} texts"
    assert store.embeddings_by_hash(physical, ["h-missing"]) == {} and counting.vectors == len(texts)
