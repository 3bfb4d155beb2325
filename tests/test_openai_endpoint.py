"""index.openai_endpoint: the one openai client set-up and the one error ladder, on openai's
own exception objects (built on httpx requests and responses: no network)."""
from __future__ import annotations

import httpx
import openai
import pytest

from index import openai_endpoint as endpoint

KEY = "sk-unit-secret-0123456789abcdef"
URL = "http://127.0.0.1:9/v1"
LLM_NAMES = endpoint.Names(fallback=", or unset OPENAI_BASE_URL to use the offline answerer")
EMBED_NAMES = endpoint.Names(model="QA_EMBED_MODEL", shorten="QA_CHUNK_SIZE")
GIVEN_NAMES = endpoint.Names(key="the LLM's api_key", url="the LLM's api_base",
                             model="the LLM's model", timeout="the LLM's timeout")
PATHS = {"The LLM": "/chat/completions", "The embeddings endpoint": "/embeddings"}


def _request(path: str = "/chat/completions") -> httpx.Request:
    return httpx.Request("POST", URL + path, headers={"Authorization": f"Bearer {KEY}"})


def _status(cls: type[openai.APIStatusError], code: int) -> openai.APIStatusError:
    """What the client raises for ``code``: a body that echoes the key, as a hostile server's."""
    body = {"error": {"message": f"Incorrect API key provided: {KEY}", "code": code}}
    response = httpx.Response(code, request=_request(), json=body)
    return cls(f"Error code: {code} - {body}", response=response, body=body["error"])


def _refused() -> openai.APIConnectionError:
    exc = openai.APIConnectionError(request=_request())
    exc.__cause__ = httpx.ConnectError(f"[Errno 111] Connection refused (key {KEY})")
    return exc


# exception → what the message must say (the hint of what to check), for the LLM's names
LADDER = {
    "timeout": (lambda: openai.APITimeoutError(request=_request()),
                ["did not answer within 2.5s", "server is up", "raise QA_LLM_TIMEOUT", "OPENAI_BASE_URL"]),
    "refused": (_refused, ["did not answer (connection refused)", "OPENAI_BASE_URL", "server is running"]),
    "401": (lambda: _status(openai.AuthenticationError, 401), ["refused the API key (401)", "OPENAI_API_KEY"]),
    "403": (lambda: _status(openai.PermissionDeniedError, 403),
            ["denied access to model 'm-1' (403)", "OPENAI_API_KEY", "QA_LLM_MODEL"]),
    "404": (lambda: _status(openai.NotFoundError, 404),
            ["no model 'm-1'", "(404)", "QA_LLM_MODEL", "OPENAI_BASE_URL ends in /v1"]),
    "429": (lambda: _status(openai.RateLimitError, 429), ["(429)", "rate-limiting", "out of quota", "Wait"]),
    "400": (lambda: _status(openai.BadRequestError, 400),
            ["rejected the request for model 'm-1' (400: ", "too long", "QA_TOP_K or QA_CHUNK_SIZE",
             "QA_LLM_MODEL"]),
    "500": (lambda: _status(openai.InternalServerError, 500),
            ["failed with HTTP 500 for model 'm-1'", "server's log"]),
    "409": (lambda: _status(openai.ConflictError, 409), ["failed with HTTP 409", "server's log"]),
    "other": (lambda: openai.OpenAIError(f"odd failure with {KEY}"),
              ["failed (OpenAIError: odd failure with ***)", "OPENAI_BASE_URL", "OPENAI_API_KEY"]),
}


def _message(exc, what="The LLM", names=LLM_NAMES):
    return endpoint.message(exc, what=what, where=URL, model="m-1", timeout=2.5, path=PATHS[what],
                            names=names, secrets=(KEY,))


@pytest.mark.parametrize("case", list(LADDER))
def test_each_error_gets_its_hint_and_never_the_key(case):
    make, said = LADDER[case]
    msg = _message(make())
    assert msg.startswith(f"The LLM at {URL} "), msg
    for part in said:
        assert part in msg, (part, msg)
    assert msg.endswith(", or unset OPENAI_BASE_URL to use the offline answerer."), msg
    assert KEY not in msg and "0123456789abcdef" not in msg
    assert ("Incorrect API key" in msg) == (case == "400")  # only a 400's reason is shown (scrubbed)


def test_the_key_is_scrubbed_from_a_detail_that_echoes_it():
    msg = _message(_status(openai.BadRequestError, 400))
    assert "Incorrect API key provided: ***" in msg and KEY not in msg
    assert "***" not in _message(_status(openai.AuthenticationError, 401))  # that body is not shown at all


@pytest.mark.parametrize("case, hint", [
    ("404", "no model 'm-1' or no /embeddings path (404). Check QA_EMBED_MODEL, and that OPENAI_BASE_URL ends in /v1."),
    ("timeout", "raise QA_LLM_TIMEOUT."),
    ("refused", "Check OPENAI_BASE_URL and that the server is running."),
    ("400", "lower QA_CHUNK_SIZE; otherwise check QA_EMBED_MODEL."),
    ("401", "Check OPENAI_API_KEY."),
])
def test_the_embeddings_endpoint_names_its_own_settings(case, hint):
    msg = _message(LADDER[case][0](), what="The embeddings endpoint", names=EMBED_NAMES)
    assert msg.startswith(f"The embeddings endpoint at {URL} ") and msg.endswith(hint), msg
    assert "QA_LLM_MODEL" not in msg and KEY not in msg


@pytest.mark.parametrize("case, named", [
    ("401", ["the LLM's api_key"]), ("404", ["the LLM's model", "the LLM's api_base ends in /v1"]),
    ("timeout", ["raise the LLM's timeout"]), ("refused", ["Check the LLM's api_base"]),
])
def test_a_given_llm_is_told_its_own_fields(case, named):
    msg = _message(LADDER[case][0](), names=GIVEN_NAMES)
    assert all(n in msg for n in named) and "OPENAI_" not in msg and "QA_LLM" not in msg, msg


def test_the_helpers_that_callers_branch_on():
    assert endpoint.is_api_error(_refused()) and endpoint.is_api_error(_status(openai.NotFoundError, 404))
    assert endpoint.is_api_error(openai.APITimeoutError(request=_request()))
    assert not endpoint.is_api_error(openai.OpenAIError("x")) and not endpoint.is_api_error(ValueError())
    assert endpoint.bad_request_text(_status(openai.BadRequestError, 400)).startswith("Error code: 400")
    assert endpoint.bad_request_text(_status(openai.NotFoundError, 404)) is None
    assert endpoint.bad_request_text(ValueError("400")) is None
    assert endpoint.detail(_refused(), (KEY,)) == "connection refused"
    assert endpoint.scrub("k and k", ("k",)) == "k and k"  # too short to be a key: left alone
    long = endpoint.scrub(KEY + "x" * 500, (KEY,))
    assert long.startswith("***x") and len(long) == endpoint.DETAIL_MAX and long.endswith("…")


def test_the_client_needs_no_key_and_defaults_to_openai():
    c = endpoint.client(api_key=None, base_url=None, timeout=3.0, retries=1)
    assert c.api_key == "not-needed" and str(c.base_url).rstrip("/") == endpoint.OPENAI_URL
    assert c.timeout == 3.0 and c.max_retries == 1
    c = endpoint.client(api_key=KEY, base_url=URL, timeout=1, retries=0)
    assert c.api_key == KEY and str(c.base_url).rstrip("/") == URL


def test_a_client_error_goes_through_the_ladder():
    """The client built here raises what the ladder expects (a mock transport answers 404)."""
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.headers.get("authorization")))
        return httpx.Response(404, json={"error": {"message": "model 'm-1' not found"}})

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        c = endpoint.client(api_key=None, base_url=URL, timeout=1, retries=0, http_client=http)
        with pytest.raises(endpoint.OpenAIError) as info:
            c.embeddings.create(model="m-1", input=["x"])
    assert seen == [("/v1/embeddings", "Bearer not-needed")]
    msg = _message(info.value, what="The embeddings endpoint", names=EMBED_NAMES)
    assert "(404)" in msg and "QA_EMBED_MODEL" in msg
