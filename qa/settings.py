"""Answering's settings: ``index.Settings`` plus retrieval depth, the answerer, the LLM.

One flat object (``settings.chunk_size`` and ``settings.llm_model`` alike); ``python -m qa``
and the one-shot :func:`qa.answer` build it with :meth:`Settings.from_env`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from index import Settings as IndexSettings
from index.settings import blank_is_unset, env_name


class Settings(IndexSettings):
    """The index's settings and answering's; environment names are in each field's alias."""

    top_k: int = Field(5, ge=1, le=50, validation_alias=env_name("QA_TOP_K"))
    answerer: Literal["auto", "extractive", "llm"] = Field(
        "auto", validation_alias=env_name("QA_ANSWERER")
    )
    llm_model: str = Field("gpt-4o-mini", validation_alias=env_name("QA_LLM_MODEL"))
    # Conversations and feedback (qa.history); None: history.sqlite3 beside the index.
    history_path: Path | None = Field(None, validation_alias=env_name("QA_HISTORY_PATH"))

    @field_validator("history_path", mode="before")
    @classmethod
    def _blank_history_is_default(cls, v):
        return blank_is_unset(v)

    @model_validator(mode="after")
    def _default_history_path(self) -> Self:
        if self.history_path is None:  # frozen: set once, while validating
            object.__setattr__(self, "history_path", self.chroma_path / "history.sqlite3")
        return self

    @property
    def llm_configured(self) -> bool:
        """An OpenAI-compatible server is set (a key for OpenAI itself, or a base URL)."""
        return bool(self.openai_api_key or self.openai_base_url)
