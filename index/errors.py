"""The index's error tree. Every message says what the user should do next.

    QAError
    ├── IndexMissing         no index yet (build it)
    ├── EmbedderMismatch     index built with another embedder (full rebuild)
    ├── EmbedderUnavailable  the OpenAI-compatible embeddings endpoint failed
    ├── BuildInProgress      another build holds the lock
    ├── StoreUnavailable     Chroma (server or path) cannot be reached/opened
    ├── NotFound             no such document or conversation (the viewer, an export)
    └── BadRequest           invalid input or settings

Answering adds its own child (``qa.errors.LLMUnavailable``); ``qa.errors`` shows the
whole tree. A document that cannot be read is not an error: the build skips it and lists
it in ``BuildReport.skipped``.
"""
from __future__ import annotations


class QAError(Exception):
    """Base of every error this app raises on purpose."""


class IndexMissing(QAError):
    pass


class EmbedderMismatch(QAError):
    pass


class EmbedderUnavailable(QAError):
    """The ``openai:`` embedder's endpoint failed; the message names the setting to check
    (OPENAI_BASE_URL, OPENAI_API_KEY, QA_EMBED_MODEL or QA_LLM_TIMEOUT)."""


class BuildInProgress(QAError):
    pass


class StoreUnavailable(QAError):
    pass


class NotFound(QAError):
    """A named thing (a document) is not in the index; the message says what there is."""


class BadRequest(QAError):
    pass
