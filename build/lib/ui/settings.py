"""The web app's settings: ``qa.Settings`` plus where to serve, the login, the upload limit.

``python -m ui`` builds it with :meth:`Settings.from_env`.
"""
from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from index.settings import blank_is_unset, env_name
from qa import Settings as QASettings


class Settings(QASettings):
    """Every setting of the app; environment names are in each field's alias."""

    ui_host: str = Field("127.0.0.1", validation_alias=env_name("QA_UI_HOST"))
    ui_port: int = Field(7860, ge=1, le=65535, validation_alias=env_name("QA_UI_PORT"))
    ui_auth: SecretStr | None = Field(None, repr=False, validation_alias=env_name("QA_UI_AUTH"))
    upload_max_mb: int = Field(20, ge=1, le=1024, validation_alias=env_name("QA_UPLOAD_MAX_MB"))

    @field_validator("ui_auth", mode="before")
    @classmethod
    def _blank_auth_is_unset(cls, v):
        return blank_is_unset(v)
