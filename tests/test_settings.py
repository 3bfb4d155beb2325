"""Settings: env names, .env, defaults documented in .env.example, secrets hidden, layers."""
from __future__ import annotations

import re

import pytest

import index
import qa
from index import BadRequest
from ui import Settings  # the whole app's settings: every layer's fields

from .conftest import ROOT


def test_env_names_are_read(monkeypatch):
    monkeypatch.setenv("QA_SOURCE_DIR", "/data/docs")
    monkeypatch.setenv("QA_CHROMA_HOST", "chroma.internal")
    monkeypatch.setenv("QA_CHROMA_PORT", "9000")
    monkeypatch.setenv("QA_CHUNK_SIZE", "128")
    monkeypatch.setenv("QA_CHUNK_OVERLAP", "16")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")
    s = Settings.from_env(env_file=None)
    assert str(s.source_dir) == "/data/docs" and s.chroma_host == "chroma.internal"
    assert (s.chroma_port, s.chunk_size, s.chunk_overlap) == (9000, 128, 16)
    assert s.llm_configured


def test_dotenv_file_and_blank_values(tmp_path):
    env = tmp_path / ".env"
    env.write_text("QA_COLLECTION=my-docs\nOPENAI_API_KEY=\nQA_CHROMA_HOST=\n")
    s = Settings.from_env(env_file=env)
    assert s.collection == "my-docs"
    assert s.openai_api_key is None and s.chroma_host is None and not s.llm_configured


def test_secrets_never_in_repr(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    monkeypatch.setenv("QA_UI_AUTH", "admin:hunter2")
    s = Settings.from_env(env_file=None)
    for text in (repr(s), str(s), s.model_dump_json()):
        assert "sk-very-secret" not in text and "hunter2" not in text
    assert s.openai_api_key.get_secret_value() == "sk-very-secret"


def test_bad_values_give_a_clear_error(monkeypatch):
    monkeypatch.setenv("QA_CHUNK_SIZE", "1000")
    with pytest.raises(BadRequest, match="QA_CHUNK_SIZE"):
        Settings.from_env(env_file=None)
    monkeypatch.setenv("QA_CHUNK_SIZE", "100")
    monkeypatch.setenv("QA_CHUNK_OVERLAP", "60")
    with pytest.raises(BadRequest, match="QA_CHUNK_OVERLAP"):
        Settings.from_env(env_file=None)


def test_env_example_documents_every_setting_with_its_default():
    text = (ROOT / ".env.example").read_text()
    documented = dict(re.findall(r"^([A-Z_]+)=(.*)$", text, re.M))
    defaults = Settings()
    for name, field in Settings.model_fields.items():
        env_name = field.validation_alias.choices[0]
        assert env_name in documented, f"{env_name} missing from .env.example"
        default = getattr(defaults, name)
        if default is not None:
            parsed = Settings(**{name: documented[env_name]})
            assert getattr(parsed, name) == default, env_name


def test_each_layer_holds_its_own_fields_and_inherits_the_rest(monkeypatch):
    monkeypatch.setenv("QA_CHUNK_SIZE", "128")
    monkeypatch.setenv("QA_CHUNK_OVERLAP", "16")
    monkeypatch.setenv("QA_ANSWERER", "extractive")
    monkeypatch.setenv("QA_UI_PORT", "9999")
    i, q, u = (cls.from_env(env_file=None) for cls in (index.Settings, qa.Settings, Settings))
    assert (type(i), type(q), type(u)) == (index.Settings, qa.Settings, Settings)
    assert issubclass(Settings, qa.Settings) and issubclass(qa.Settings, index.Settings)
    assert i.chunk_size == q.chunk_size == u.chunk_size == 128
    assert not hasattr(i, "answerer") and not hasattr(i, "llm_configured")
    assert q.answerer == u.answerer == "extractive" and not hasattr(q, "ui_port")
    assert u.ui_port == 9999
    index_fields = {"source_dir", "chroma_path", "chroma_host", "chroma_port", "collection", "embed_model",
                    "embed_batch_size", "chunk_size", "chunk_overlap", "chunker", "openai_api_key", "openai_base_url",
                    "llm_timeout", "llm_retries", "kb_root"}
    assert set(index.Settings.model_fields) == index_fields
    assert set(qa.Settings.model_fields) - index_fields == {"top_k", "answerer", "llm_model", "history_path"}
    assert set(Settings.model_fields) - set(qa.Settings.model_fields) == {
        "ui_host", "ui_port", "ui_auth", "api_token", "upload_max_mb"}


def test_blank_values_are_unset_in_every_layer(tmp_path, monkeypatch):
    env = tmp_path / ".env"
    env.write_text("QA_CHROMA_HOST=\nQA_UI_AUTH=\nOPENAI_BASE_URL= \n")
    s = Settings.from_env(env_file=env)
    assert s.chroma_host is None and s.ui_auth is None and s.openai_base_url is None
    monkeypatch.setenv("QA_UI_PORT", "0")
    with pytest.raises(BadRequest, match="QA_UI_PORT"):
        Settings.from_env(env_file=None)
