"""Chat with an LLM through llama-index: OpenAI or any OpenAI-compatible server (vLLM,
Ollama, llama.cpp) built from the settings, or any llama-index LLM given.

The ONE module that touches llama-index's LLMs; the ``openai`` client handed to them, and
the messages for its errors, come from :mod:`index.openai_endpoint`. What crosses the
border is plain text (a whole answer, or an iterator of text deltas) and
:class:`~qa.errors.LLMUnavailable`: every failure — nothing listening, too slow, a
refused key, an unknown model, a stream cut short, an answer that is not a chat
completion — becomes one, ``from`` the library error, with a message that says what to
check. Any other llama-index LLM failing gives one naming its class and the error. The
API key is never part of a message or a ``repr``.

llama-index's global ``Settings.llm`` is never read (it would resolve to OpenAI), and
nothing here counts tokens (``TIKTOKEN_CACHE_DIR`` is set by :mod:`qa` all the same).
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Iterator, Mapping, Sequence

import httpx
from llama_index.core.llms import LLM as LlamaLLM
from llama_index.core.llms import ChatMessage
from llama_index.llms.openai import OpenAI as LlamaOpenAI
from llama_index.llms.openai_like import OpenAILike

from index import openai_endpoint as endpoint

from .errors import LLMUnavailable

if TYPE_CHECKING:  # pragma: no cover
    from .settings import Settings

__all__ = ["LLM", "Message", "OPENAI_URL", "as_llm"]

Message = Mapping[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}
OPENAI_URL = endpoint.OPENAI_URL
CONTEXT_WINDOW = 8192  # metadata only: the prompt's size is bounded by QA_TOP_K × QA_CHUNK_SIZE
_SHAPE = (AttributeError, IndexError, TypeError, KeyError)  # a body that is no chat completion


class LLM:
    """A chat model: by default ``OpenAILike`` built from ``settings``; ``llm`` is any
    llama-index LLM instead (Ollama, vLLM, a hosted model), used as configured.

    A given LLM keeps its own timeout and retries (llama-index's OpenAI retries on top of
    its openai client's: ``max_retries=0`` there leaves one layer). ``http_client`` (an
    ``httpx.Client``) carries the default's requests; tests pass one with a mock
    transport. Thread-safe when the llama-index LLM is (OpenAI's is).
    """

    def __init__(self, settings: "Settings", llm: LlamaLLM | None = None, *,
                 http_client: httpx.Client | None = None) -> None:
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
        own = None
        if llm is None:
            if not settings.llm_configured:
                raise LLMUnavailable(
                    "No LLM is configured: set OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL "
                    "(an OpenAI-compatible server) in .env, or use the offline answerer."
                )
            llm = _openai_like(settings, key, http_client)
            unset = "OPENAI_BASE_URL" if settings.openai_base_url else "OPENAI_API_KEY"
            self._names = endpoint.Names(fallback=f", or unset {unset} to use the offline answerer")
        else:
            self._names = endpoint.Names(
                key="the LLM's api_key", url="the LLM's api_base", model="the LLM's model",
                timeout="the LLM's timeout",
                fallback=", or use the offline answerer (QA_ANSWERER=extractive)")
            own = getattr(llm, "api_key", None)  # its own key, scrubbed as well
        self._secrets = tuple(s for s in (key, own) if isinstance(s, str) and len(s) >= 4)
        self._llm = llm
        self._openai = isinstance(llm, LlamaOpenAI)  # OpenAILike and AzureOpenAI are ones
        self.model = str(getattr(llm, "model", "") or _model_name(llm))
        self.where = str(llm.api_base or OPENAI_URL) if self._openai else type(llm).__name__
        self.timeout = float(getattr(llm, "timeout", 0) or settings.llm_timeout)
        # Newer OpenAI models refuse ``max_tokens``/``temperature``; learned on first refusal.
        self._token_param = "max_tokens"
        self._send_temperature = True

    def __repr__(self) -> str:
        if self._openai:
            return f"LLM(model={self.model!r}, base_url={self.where!r})"
        return f"LLM(llm={self.where!r}, model={self.model!r})"

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
        and reads the first piece (so an unreachable endpoint raises here), then returns
        an iterator of text deltas; a stream cut short raises :class:`LLMUnavailable` from
        the iterator. An OpenAI-family LLM gets ``max_tokens`` and ``temperature``; any
        other is called as configured.
        """
        chat = [ChatMessage(role=m["role"], content=m["content"]) for m in messages]
        for _ in range(3):  # at most two adaptations (token parameter, temperature)
            kwargs = self._kwargs(max_tokens, temperature)
            try:
                if not stream:
                    return self._text(self._llm.chat(chat, **kwargs))
                responses = iter(self._llm.stream_chat(chat, **kwargs))  # lazy: nothing sent yet
                first = next(responses, None)
                return self._deltas(first, responses)
            except LLMUnavailable:
                raise
            except Exception as exc:
                if not self._adapt(exc):
                    raise self._failure(exc, stream) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    # -- request ------------------------------------------------------------------

    def _kwargs(self, max_tokens: int, temperature: float) -> dict:
        if not self._openai:
            return {}
        return {self._token_param: max_tokens,
                "temperature": temperature if self._send_temperature else endpoint.OMIT}

    def _adapt(self, exc: Exception) -> bool:
        """Switch a parameter the model refused (o-series, gpt-5); True when worth a retry."""
        text = endpoint.bad_request_text(exc)
        if text is None:
            return False
        if self._token_param == "max_tokens" and "max_completion_tokens" in text:
            self._token_param = "max_completion_tokens"
            return True
        if self._send_temperature and "temperature" in text:
            self._send_temperature = False
            return True
        return False

    # -- response -----------------------------------------------------------------

    def _text(self, response) -> str:
        if self._openai:  # the raw completion: tells "" from no text at all
            content = response.raw.choices[0].message.content
        else:
            content = response.message.content
        if content is None:
            raise self._garbage("a reply without text")
        if not isinstance(content, str):
            raise self._garbage(f"a {type(content).__name__} instead of text")
        return content

    def _deltas(self, first, responses) -> Iterator[str]:
        if first is None:
            raise self._garbage("a stream without any chat completion chunk")
        saw_choice, text, response = False, "", first
        try:
            while response is not None:
                if self._openai:
                    choices = response.raw.choices
                    if not isinstance(choices, list):
                        raise self._garbage("a stream event that is not a chat completion chunk")
                    saw_choice = saw_choice or bool(choices)
                delta = response.delta
                if delta is None:  # an LLM that only gives the text so far
                    so_far = response.message.content or ""
                    delta = so_far[len(text):] if so_far.startswith(text) else ""
                if isinstance(delta, str) and delta:
                    text += delta
                    yield delta
                response = next(responses, None)
        except LLMUnavailable:
            raise
        except Exception as exc:
            raise self._failure(exc, True, midway=True) from exc
        finally:
            close = getattr(responses, "close", None)
            if close is not None:
                close()
        if self._openai and not saw_choice:
            raise self._garbage("a stream without any chat completion chunk")

    # -- errors -------------------------------------------------------------------

    def _failure(self, exc: Exception, stream: bool, midway: bool = False) -> LLMUnavailable:
        if not self._openai:
            return LLMUnavailable(
                f"The LLM ({self.where}, model {self.model!r}) failed{' mid-reply' if midway else ''}: "
                f"{type(exc).__name__}: {endpoint.scrub(str(exc), self._secrets)}. Check that it is "
                f"running and configured{self._names.fallback}."
            )
        if endpoint.is_api_error(exc):
            return LLMUnavailable(endpoint.message(
                exc, what="The LLM", where=self.where, model=self.model, timeout=self.timeout,
                path="/chat/completions", names=self._names, secrets=self._secrets))
        if isinstance(exc, json.JSONDecodeError):  # the openai client lets a broken body through
            return self._garbage("a stream event that is not valid JSON" if stream
                                 else "a reply that is not valid JSON")
        if isinstance(exc, _SHAPE):
            return self._garbage("a stream event that is not a chat completion chunk" if stream
                                 else "no choices")
        if isinstance(exc, httpx.TimeoutException):
            return LLMUnavailable(
                f"The LLM at {self.where} stopped answering mid-reply (no data for "
                f"{self.timeout:g}s). Check that the server is up, or raise {self._names.timeout}."
            )
        if isinstance(exc, (httpx.HTTPError, endpoint.OpenAIError)):
            return LLMUnavailable(
                f"The LLM at {self.where} broke off its reply ({endpoint.detail(exc, self._secrets)}). "
                f"Check that the server is still running, then ask again{self._names.fallback}."
            )
        return LLMUnavailable(
            f"The LLM at {self.where} failed ({type(exc).__name__}: "
            f"{endpoint.detail(exc, self._secrets)}). Check {self._names.url}, {self._names.key} "
            f"and {self._names.model}{self._names.fallback}."
        )

    def _garbage(self, what: str) -> LLMUnavailable:
        if not self._openai:
            return LLMUnavailable(
                f"The LLM ({self.where}, model {self.model!r}) sent {what}. Check its "
                f"configuration{self._names.fallback}."
            )
        return LLMUnavailable(
            f"The LLM at {self.where} sent {what} for model {self.model!r}, not a chat "
            f"completion. Check that {self._names.url} points to an OpenAI-compatible API "
            f"(it usually ends in /v1){self._names.fallback}."
        )

def as_llm(settings: "Settings", given=None):
    """The project's :class:`LLM` for what an :class:`~qa.Assistant` was given: built from
    ``settings`` when nothing, wrapped when a llama-index LLM, else ``given`` itself (an
    :class:`LLM` already, or a stand-in with the same ``chat``)."""
    if given is None:
        return LLM(settings)
    if isinstance(given, LlamaLLM):
        return LLM(settings, llm=given)
    return given


def _openai_like(settings: "Settings", key: str, http_client: httpx.Client | None) -> OpenAILike:
    base_url = settings.openai_base_url or OPENAI_URL
    # The retries are the openai client's alone (its backoff, ``llm_retries`` of them):
    # llama-index's own retry layer (``max_retries`` on the LLM) would multiply them.
    client = endpoint.client(api_key=key, base_url=base_url, timeout=settings.llm_timeout,
                             retries=settings.llm_retries, http_client=http_client)
    return OpenAILike(
        # the key lives on the openai client only: a llama-index LLM's repr shows its fields
        model=settings.llm_model, api_base=base_url, api_key="on-the-client", openai_client=client,
        timeout=settings.llm_timeout, max_retries=0, is_chat_model=True,
        context_window=CONTEXT_WINDOW, temperature=0.0,
    )


def _model_name(llm) -> str:
    try:
        return llm.metadata.model_name
    except Exception:  # a property that needs the network or a setting: only for messages
        return "unknown"
