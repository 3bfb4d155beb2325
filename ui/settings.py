"""The web app's settings: ``qa.Settings`` plus where to serve, the login, the API token, the
upload limit.

``python -m ui`` builds it with :meth:`Settings.from_env`.
"""
from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from index import BadRequest
from index.settings import blank_is_unset, env_name
from qa import Settings as QASettings


class Settings(QASettings):
    """Every setting of the app; environment names are in each field's alias."""

    ui_host: str = Field("127.0.0.1", validation_alias=env_name("QA_UI_HOST"))
    ui_port: int = Field(7860, ge=1, le=65535, validation_alias=env_name("QA_UI_PORT"))
    ui_auth: SecretStr | None = Field(None, repr=False, validation_alias=env_name("QA_UI_AUTH"))
    api_token: SecretStr | None = Field(None, repr=False, validation_alias=env_name("QA_API_TOKEN"))
    upload_max_mb: int = Field(20, ge=1, le=1024, validation_alias=env_name("QA_UPLOAD_MAX_MB"))

    @field_validator("ui_auth", "api_token", mode="before")
    @classmethod
    def _blank_auth_is_unset(cls, v):
        return blank_is_unset(v)


def parse_auth(settings: Settings) -> tuple[str, str] | None:
    """``QA_UI_AUTH=user:password`` → ``(user, password)``; None when not set."""
    if settings.ui_auth is None:
        return None
    user, sep, password = settings.ui_auth.get_secret_value().partition(":")
    if not sep or not user or not password:
        raise BadRequest("QA_UI_AUTH must look like user:password (both non-empty).")
    return user, password
