"""An OpenAI-compatible endpoint: the one place that builds an ``openai.OpenAI`` client,
and the one error ladder that turns what the client raises into a message saying what
failed and what to check.

Used by :mod:`index.openai_embedder` (``/embeddings``) and :mod:`qa.llm`
(``/chat/completions``); each raises its own error class ``from`` the openai error with
:func:`message`'s text. The API key is scrubbed from every detail shown, and a refused
key's body (which may echo part of it) is never shown.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import httpx
import openai

__all__ = [
    "DETAIL_MAX", "Names", "OMIT", "OPENAI_URL", "OpenAIError", "bad_request_text", "client",
    "detail", "is_api_error", "message", "scrub",
]

OPENAI_URL = "https://api.openai.com/v1"
DETAIL_MAX = 200  # characters of a server's or a library's reason shown in a message
OMIT = openai.omit  # a request parameter left out (e.g. ``temperature`` a model refuses)
OpenAIError = openai.OpenAIError  # the root of what the client raises: catch it, then message()


@dataclass(frozen=True)
class Names:
    """What a message tells the user to check: the settings (the defaults), or a given
    llama-index LLM's own fields. ``fallback`` ends every hint (", or use …")."""
    key: str = "OPENAI_API_KEY"
    url: str = "OPENAI_BASE_URL"
    model: str = "QA_LLM_MODEL"
    timeout: str = "QA_LLM_TIMEOUT"
    shorten: str = "QA_TOP_K or QA_CHUNK_SIZE"  # what makes a request shorter
    fallback: str = ""


def client(*, api_key: str | None, base_url: str | None, timeout: float, retries: int,
           http_client: httpx.Client | None = None) -> openai.OpenAI:
    """An ``openai.OpenAI`` client for ``base_url`` (OpenAI's when None: the environment is
    not read behind the settings' back), retrying ``retries`` times with its backoff."""
    return openai.OpenAI(
        api_key=api_key or "not-needed",  # a local server often needs no key; the client insists
        base_url=base_url or OPENAI_URL, timeout=timeout, max_retries=retries,
        http_client=http_client,
    )


def is_api_error(exc: BaseException) -> bool:
    """True for what :func:`message` has a specific hint for: an HTTP status, a timeout,
    or no connection (not a broken body, which the client may let through)."""
    return isinstance(exc, (openai.APIStatusError, openai.APIConnectionError))


def bad_request_text(exc: BaseException) -> str | None:
    """The server's reason when ``exc`` is a 400 (a refused parameter shows here), else None."""
    return str(exc.message or "") if isinstance(exc, openai.BadRequestError) else None


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without any of ``secrets`` (those of 4+ characters), at most DETAIL_MAX long."""
    for secret in secrets:
        if isinstance(secret, str) and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text if len(text) <= DETAIL_MAX else text[: DETAIL_MAX - 1] + "…"


def detail(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """A short reason from the error chain ("connection refused", or the deepest error's
    text), scrubbed."""
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in chain:
        chain.append(e)
        e = e.__cause__ or e.__context__
    for e in chain:
        if isinstance(e, ConnectionRefusedError) or "connection refused" in str(e).lower():
            return "connection refused"
    return scrub(str(chain[-1]) or type(chain[-1]).__name__, secrets)


def message(exc: BaseException, *, what: str, where: str, model: str, timeout: float, path: str,
            names: Names = Names(), secrets: Iterable[str] = ()) -> str:
    """What failed and what to check, for ``exc`` raised calling ``what`` ("The LLM", "The
    embeddings endpoint") at ``where`` (its URL) for ``model`` on ``path``
    ("/chat/completions", "/embeddings")."""
    at, n, then = f"{what} at {where}", names, names.fallback
    secrets = tuple(secrets)
    if isinstance(exc, openai.APITimeoutError):  # before APIConnectionError: it is one
        return (f"{at} did not answer within {timeout:g}s. Check that the server is up "
                f"({n.url}), or raise {n.timeout}{then}.")
    if isinstance(exc, openai.APIConnectionError):
        return (f"{at} did not answer ({detail(exc, secrets)}). Check {n.url} and that the "
                f"server is running{then}.")
    if isinstance(exc, openai.AuthenticationError):  # the body may echo part of the key: not shown
        return f"{at} refused the API key (401). Check {n.key}{then}."
    if isinstance(exc, openai.PermissionDeniedError):
        return f"{at} denied access to model {model!r} (403). Check {n.key} and {n.model}{then}."
    if isinstance(exc, openai.NotFoundError):
        return (f"{at} has no model {model!r} or no {path} path (404). Check {n.model}, and "
                f"that {n.url} ends in /v1{then}.")
    if isinstance(exc, openai.RateLimitError):
        return (f"{at} is rate-limiting requests or out of quota (429). Wait and try again, "
                f"or check your plan{then}.")
    if isinstance(exc, openai.BadRequestError):
        return (f"{at} rejected the request for model {model!r} (400: {detail(exc, secrets)}). "
                f"If the request is too long for the model, lower {n.shorten}; otherwise check "
                f"{n.model}{then}.")
    if isinstance(exc, openai.APIStatusError):  # the body is in the server's log, not here
        return (f"{at} failed with HTTP {exc.status_code} for model {model!r}. Check the "
                f"server's log and try again{then}.")
    return (f"{at} failed ({type(exc).__name__}: {detail(exc, secrets)}). Check {n.url} and "
            f"{n.key}{then}.")
