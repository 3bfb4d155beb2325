"""The index's settings: documents, Chroma, the embedder, chunking.

The app has ONE settings object at run time, defined layer by layer: this class, then
``qa.Settings`` (answering, the LLM) derived from it, then ``ui.Settings`` (the web app)
derived from that. Fields stay flat (``settings.chunk_size``, ``settings.llm_model``).
Each entry point builds the most derived class it needs (``python -m index`` this one,
``python -m qa`` and ``qa.answer`` ``qa.Settings``, ``python -m ui`` ``ui.Settings``)
with :meth:`Settings.from_env`; everything else receives the object it was given.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, Self

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_EMBED_MODEL = "local:all-MiniLM-L6-v2"
# Chroma's collection-name rules, narrowed: its physical collections are named
# ``<name>__<12 hex>`` (index.store), so a name has at most 63 - 14 characters and no "__".
COLLECTION_NAME = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9_-]{1,47})[a-zA-Z0-9]")
NAME_RULES = ("3 to 49 letters, digits, '-' or '_', starting and ending with a letter or digit, "
              "without '__'")


def collection_name_problem(name: object) -> str | None:
    """What is wrong with ``name`` as a collection (knowledge base) name, or None."""
    if not isinstance(name, str) or not COLLECTION_NAME.fullmatch(name) or "__" in name:
        return f"{name!r} is not a valid name: use {NAME_RULES} (e.g. 'research-notes')"
    return None


def env_name(name: str) -> AliasChoices:
    """The field's environment variable (also accepted lower-cased, as a keyword)."""
    return AliasChoices(name, name.lower())


def blank_is_unset(v):
    """``OPENAI_API_KEY=`` in a .env means unset, not an empty key."""
    return None if isinstance(v, str) and not v.strip() else v


class Settings(BaseSettings):
    """The index's settings; environment names are in each field's alias."""

    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", populate_by_name=True, frozen=True
    )

    source_dir: Path = Field(Path("seeds"), validation_alias=env_name("QA_SOURCE_DIR"))
    chroma_path: Path = Field(Path(".qa/chroma"), validation_alias=env_name("QA_CHROMA_PATH"))
    chroma_host: str | None = Field(None, validation_alias=env_name("QA_CHROMA_HOST"))
    chroma_port: int = Field(8000, ge=1, le=65535, validation_alias=env_name("QA_CHROMA_PORT"))
    collection: str = Field("documents", validation_alias=env_name("QA_COLLECTION"))
    # Where "New knowledge base" puts each new collection's own folder (None: knowledge-bases/
    # beside QA_SOURCE_DIR); see index.knowledge_bases.
    kb_root: Path | None = Field(None, validation_alias=env_name("QA_KB_ROOT"))
    embed_model: str = Field(DEFAULT_EMBED_MODEL, validation_alias=env_name("QA_EMBED_MODEL"))
    embed_batch_size: int = Field(32, ge=1, le=1024, validation_alias=env_name("QA_EMBED_BATCH_SIZE"))
    chunk_size: int = Field(256, ge=32, le=256, validation_alias=env_name("QA_CHUNK_SIZE"))
    chunk_overlap: int = Field(48, ge=0, le=128, validation_alias=env_name("QA_CHUNK_OVERLAP"))
    chunker: Literal["sentences", "llama-sentence-splitter"] = Field(
        "sentences", validation_alias=env_name("QA_CHUNKER")
    )
    # The OpenAI-compatible endpoint: the openai: embedder's, and the LLM's (qa.Settings).
    openai_api_key: SecretStr | None = Field(
        None, repr=False, validation_alias=env_name("OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(None, validation_alias=env_name("OPENAI_BASE_URL"))
    # Seconds per request and retries after a failure, for the embedder and the LLM alike.
    llm_timeout: float = Field(60.0, gt=0, validation_alias=env_name("QA_LLM_TIMEOUT"))
    llm_retries: int = Field(2, ge=0, le=10, validation_alias=env_name("QA_LLM_RETRIES"))

    @field_validator("chroma_host", "openai_api_key", "openai_base_url", "kb_root", mode="before")
    @classmethod
    def _blank_is_unset(cls, v):
        return blank_is_unset(v)

    @field_validator("collection", mode="after")
    @classmethod
    def _collection_name(cls, v: str) -> str:
        problem = collection_name_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("chunker", mode="before")
    @classmethod
    def _chunker_name(cls, v):
        """``QA_CHUNKER=Llama-Sentence-Splitter `` names the same chunker; blank is the default."""
        if isinstance(v, str):
            return v.strip().lower() or "sentences"
        return v

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.chunk_overlap >= self.chunk_size // 2:
            raise ValueError(
                f"QA_CHUNK_OVERLAP ({self.chunk_overlap}) must be less than half of "
                f"QA_CHUNK_SIZE ({self.chunk_size})"
            )
        return self

    @classmethod
    def from_env(cls, env_file: str | Path | None = ".env", **overrides) -> Self:
        """Read ``.env`` (if present) and the environment; explicit overrides win."""
        from pydantic import ValidationError

        from .errors import BadRequest

        try:
            return cls(_env_file=env_file, **overrides)  # type: ignore[call-arg]
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
                for e in exc.errors()
            )
            raise BadRequest(f"Invalid settings ({problems}). Fix your .env or environment.") from exc

    @property
    def bm25_dir(self) -> Path:
        """Where the BM25 side of the index is persisted (beside the local Chroma data)."""
        return self.chroma_path / "bm25"

    @property
    def sentence_dir(self) -> Path:
        """Where each generation's sentence vectors are kept (see index.sentence_vectors)."""
        return self.chroma_path / "sentences"

    @property
    def knowledge_base_root(self) -> Path:
        """The folder holding each created knowledge base's own source folder."""
        return self.kb_root if self.kb_root is not None else Path(self.source_dir).parent / "knowledge-bases"

    @property
    def lock_path(self) -> Path:
        return self.chroma_path / f"{self.collection}.build.lock"
