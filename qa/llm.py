"""Chat completions from OpenAI or any OpenAI-compatible server (vLLM, Ollama, llama.cpp).

The ONE module that touches the ``openai`` client. What crosses its border is plain text
(a whole answer, or an iterator of text deltas) and
:class:`~qa.errors.LLMUnavailable`: every failure — nothing listening, too slow, a
refused key, an unknown model, a stream cut short, an answer that is not a chat
completion — becomes one, ``from`` the library error, with a message that says what to
check. The API key is never part of a message or a ``repr``.

Nothing here uses tiktoken, so ``TIKTOKEN_CACHE_DIR`` is left alone.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Iterator, Mapping, Sequence

import httpx
import openai

from .errors import LLMUnavailable

if TYPE_CHECKING:  # pragma: no cover
    from .settings import Settings

__all__ = ["LLM", "Message", "OPENAI_URL"]

Message = Mapping[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}
OPENAI_URL = "https://api.openai.com/v1"
_DETAIL_MAX = 200


class LLM:
    """A chat model behind an OpenAI-compatible endpoint.

    ``client`` replaces the ``openai.OpenAI`` built from ``settings`` (tests pass one
    with a mock transport). Thread-safe: the openai client is.
    """

    def __init__(self, settings: "Settings", client: openai.OpenAI | None = None) -> None:
        self.model = settings.llm_model
        self.base_url = settings.openai_base_url
        self.timeout = settings.llm_timeout
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
        self._secret = key
        if client is None:
            if not settings.llm_configured:
                raise LLMUnavailable(
                    "No LLM is configured: set OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL "
                    "(an OpenAI-compatible server) in .env, or use the offline answerer."
                )
            client = openai.OpenAI(
                # a local OpenAI-compatible server often needs no key; the client insists on one
                api_key=key or "not-needed",
                base_url=self.base_url,
                timeout=self.timeout,
                max_retries=settings.llm_retries,
            )
        self._client = client
        # Newer OpenAI models refuse ``max_tokens``/``temperature``; learned on first refusal.
        self._token_param = "max_tokens"
        self._send_temperature = True

    def __repr__(self) -> str:
        return f"LLM(model={self.model!r}, base_url={self.where!r})"

    @property
    def where(self) -> str:
        return self.base_url or OPENAI_URL

    # -- public -------------------------------------------------------------------

    def chat(
        self,
        messages: Sequence[Message],
        *,
        stream: bool = False,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> str | Iterator[str]:
        """The assistant's reply to ``messages``.

        ``stream=False`` returns the whole text. ``stream=True`` sends the request now
        (so an unreachable endpoint raises here) and returns an iterator of text deltas;
        a stream cut short raises :class:`LLMUnavailable` from the iterator.
        """
        response = self._create(list(messages), stream, max_tokens, temperature)
        if stream:
            return self._deltas(response)
        return self._text(response)

    # -- request ------------------------------------------------------------------

    def _create(self, messages: list, stream: bool, max_tokens: int, temperature: float):
        for _ in range(3):  # at most two adaptations (token parameter, temperature)
            params: dict = {"model": self.model, "messages": messages, "stream": stream,
                            self._token_param: max_tokens}
            if self._send_temperature:
                params["temperature"] = temperature
            try:
                return self._client.chat.completions.create(**params)
            except openai.BadRequestError as exc:
                if not self._adapt(exc):
                    raise self._unavailable(exc) from exc
            except openai.OpenAIError as exc:
                raise self._unavailable(exc) from exc
            except json.JSONDecodeError as exc:  # the openai client lets a broken body through
                raise self._garbage("a reply that is not valid JSON") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _adapt(self, exc: openai.BadRequestError) -> bool:
        """Switch a parameter the model refused (o-series, gpt-5); True when worth a retry."""
        text = str(exc.message or "")
        if self._token_param == "max_tokens" and "max_completion_tokens" in text:
            self._token_param = "max_completion_tokens"
            return True
        if self._send_temperature and "temperature" in text:
            self._send_temperature = False
            return True
        return False

    # -- response -----------------------------------------------------------------

    def _text(self, response) -> str:
        try:
            choice = response.choices[0]
            content = choice.message.content
        except (AttributeError, IndexError, TypeError, KeyError) as exc:
            raise self._garbage("no choices") from exc
        if content is None:
            raise self._garbage("a reply without text")
        if not isinstance(content, str):
            raise self._garbage(f"a {type(content).__name__} instead of text")
        return content

    def _deltas(self, stream) -> Iterator[str]:
        saw_choice = False
        try:
            for chunk in stream:
                choices = getattr(chunk, "choices", None)
                if not isinstance(choices, list):
                    raise self._garbage("a stream event that is not a chat completion chunk")
                if not choices:  # e.g. a usage-only chunk
                    continue
                saw_choice = True
                content = getattr(getattr(choices[0], "delta", None), "content", None)
                if isinstance(content, str) and content:
                    yield content
        except httpx.TimeoutException as exc:
            raise LLMUnavailable(
                f"The LLM at {self.where} stopped answering mid-reply (no data for "
                f"{self.timeout:g}s). Check that the server is up, or raise QA_LLM_TIMEOUT."
            ) from exc
        except json.JSONDecodeError as exc:  # an event the openai client cannot parse
            raise self._garbage("a stream event that is not valid JSON") from exc
        except (httpx.HTTPError, openai.OpenAIError) as exc:
            raise LLMUnavailable(
                f"The LLM at {self.where} broke off its reply ({self._detail(exc)}). Check that "
                f"the server is still running, then ask again{self._fallback_hint()}."
            ) from exc
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        if not saw_choice:
            raise self._garbage("a stream without any chat completion chunk")

    # -- errors -------------------------------------------------------------------

    def _fallback_hint(self) -> str:
        if self.base_url:
            return ", or unset OPENAI_BASE_URL to use the offline answerer"
        return ", or unset OPENAI_API_KEY to use the offline answerer"

    def _detail(self, exc: BaseException) -> str:
        """A short reason from the error chain, with the API key scrubbed."""
        chain: list[BaseException] = []
        e: BaseException | None = exc
        while e is not None and e not in chain:
            chain.append(e)
            e = e.__cause__ or e.__context__
        for e in chain:
            if isinstance(e, ConnectionRefusedError) or "connection refused" in str(e).lower():
                return "connection refused"
        detail = str(chain[-1]) or type(chain[-1]).__name__
        if self._secret:
            detail = detail.replace(self._secret, "***")
        return detail if len(detail) <= _DETAIL_MAX else detail[: _DETAIL_MAX - 1] + "…"

    def _garbage(self, what: str) -> LLMUnavailable:
        return LLMUnavailable(
            f"The LLM at {self.where} sent {what} for model {self.model!r}, not a chat "
            f"completion. Check that OPENAI_BASE_URL points to an OpenAI-compatible API "
            f"(it usually ends in /v1){self._fallback_hint()}."
        )

    def _unavailable(self, exc: openai.OpenAIError) -> LLMUnavailable:
        where, model, hint = self.where, self.model, self._fallback_hint()
        if isinstance(exc, openai.APITimeoutError):
            return LLMUnavailable(
                f"The LLM at {where} did not answer within {self.timeout:g}s. Check that the "
                f"server is up, or raise QA_LLM_TIMEOUT{hint}."
            )
        if isinstance(exc, openai.APIConnectionError):
            return LLMUnavailable(
                f"The LLM at {where} did not answer ({self._detail(exc)}). Check OPENAI_BASE_URL "
                f"and that the server is running{hint}."
            )
        if isinstance(exc, openai.AuthenticationError):
            # the body may echo (part of) the key: not shown
            return LLMUnavailable(
                f"The LLM at {where} refused the API key (401). Check OPENAI_API_KEY{hint}."
            )
        if isinstance(exc, openai.PermissionDeniedError):
            return LLMUnavailable(
                f"The LLM at {where} denied access to model {model!r} (403). Check "
                f"OPENAI_API_KEY and QA_LLM_MODEL{hint}."
            )
        if isinstance(exc, openai.NotFoundError):
            return LLMUnavailable(
                f"The LLM at {where} has no model {model!r} or no /chat/completions path (404). "
                f"Check QA_LLM_MODEL, and that OPENAI_BASE_URL ends in /v1{hint}."
            )
        if isinstance(exc, openai.RateLimitError):
            return LLMUnavailable(
                f"The LLM at {where} is rate-limiting requests or out of quota (429). Wait and "
                f"ask again, or check your plan{hint}."
            )
        if isinstance(exc, openai.BadRequestError):
            return LLMUnavailable(
                f"The LLM at {where} rejected the request for model {model!r} (400: "
                f"{self._detail(exc)}). If the prompt is too long for the model, lower "
                f"QA_TOP_K or QA_CHUNK_SIZE; otherwise check QA_LLM_MODEL{hint}."
            )
        if isinstance(exc, openai.APIStatusError):
            return LLMUnavailable(
                f"The LLM at {where} failed with HTTP {exc.status_code} for model {model!r}. "
                f"Check the server's log and ask again{hint}."
            )
        return LLMUnavailable(
            f"The LLM at {where} failed ({self._detail(exc)}). Check OPENAI_BASE_URL, "
            f"OPENAI_API_KEY and QA_LLM_MODEL{hint}."
        )
