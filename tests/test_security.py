"""Security: where the app listens, that a login guards every route, and that API keys never leak.

* Binding: ``python -m ui`` listens on 127.0.0.1 only, unless ``QA_UI_HOST`` says otherwise.
* Login: with ``QA_UI_AUTH`` every HTTP route of the Gradio app — enumerated from the app itself,
  not from a list — answers 401 without a session, except the files the login page needs
  (:data:`ui.guard.PUBLIC_PATHS`), which must hold no app data; with the session they work.
* Keys: ``OPENAI_API_KEY`` is a canary; ``OPENAI_BASE_URL`` points at a closed port and at
  :class:`EchoServer`, which refuses every request (401, and 400/403/500) with a body that
  echoes the key, as some servers do. The qa and index CLIs, the assistant with logging
  at DEBUG, the UI handlers, and the running app (its page, its API answers, its log) never
  show the canary.
"""
from __future__ import annotations

import json
import logging
import re
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from index import build_index
from tests import browser as b
from ui import Settings

from .helpers import free_port

CANARY = "sk-canary-5f1c9e2ab7d04e8c93a1"
CANARY_PARTS = (CANARY, "5f1c9e2ab7d04e8c93a1", "9e2ab7d0")  # also no recognisable part of it
AUTH = ("guard", "pa55:word")
STATUSES = (401, 400, 403, 500)


def assert_no_canary(text: str, where: str) -> None:
    for part in CANARY_PARTS:
        assert part not in text, f"the API key leaked into {where}: ...{text[max(0, text.find(part) - 200):][:400]}"


# --------------------------------------------------------------------------- an echoing server

class EchoServer:
    """Refuses every request with the status in its path (``/s401/v1/...``) and a body that
    echoes the Authorization header: the worst an OpenAI-compatible server can do with a key."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                m = re.match(r"/s(\d{3})/", self.path)
                status = int(m.group(1)) if m else 401
                key = (self.headers.get("authorization") or "").removeprefix("Bearer ")
                body = json.dumps({"error": {
                    "message": f"Incorrect API key provided: {key}. Your header was "
                               f"'{self.headers.get('authorization')}'.",
                    "type": "invalid_request_error", "code": "invalid_api_key", "param": key,
                }}).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, status: int) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/s{status}/v1"

    def __enter__(self) -> "EchoServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def echo():
    with EchoServer() as server:
        yield server


def bad_endpoints(echo: EchoServer) -> dict[str, str]:
    """Where OPENAI_BASE_URL points in the leak tests: a closed port, and each echoing status."""
    return {"closed port": f"http://127.0.0.1:{free_port()}/v1"} | {
        f"HTTP {s} echoing the key": echo.url(s) for s in STATUSES
    }


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, embedder):
    """A built index over the seeds (local embedder): the LLM is the only thing that fails."""
    root = tmp_path_factory.mktemp("security-index")
    shutil.copytree(b.SEEDS, root / "docs")
    build_index(Settings(source_dir=root / "docs", chroma_path=root / "chroma"), embedder=embedder,
                show_progress=False)
    return root


def test_echo_server_really_echoes_the_key(echo):
    """Control: without the app's care, the key is right there in the response."""
    r = httpx.post(echo.url(401) + "/chat/completions", headers={"Authorization": f"Bearer {CANARY}"})
    assert r.status_code == 401 and CANARY in r.text


# --------------------------------------------------------------------------- keys: in process

def test_assistant_and_its_logs_never_show_the_key(seeded, echo, embedder, caplog):
    from index import IndexReader
    from qa import Assistant

    caplog.set_level(logging.DEBUG)  # openai and httpx log requests and errors at DEBUG
    for label, url in bad_endpoints(echo).items():
        s = Settings(source_dir=seeded / "docs", chroma_path=seeded / "chroma", openai_api_key=CANARY,
                     openai_base_url=url, llm_retries=0, llm_timeout=10)
        assistant = Assistant(s, reader=IndexReader(s, embedder=embedder))
        a = assistant.ask("how many personnel were injured?", answerer="llm")
        assert a.answerer == "extractive" and a.notice and "LLM" in a.notice, (label, a)
        streamed = list(assistant.stream("how many personnel were injured?", answerer="llm"))
        for text in (repr(a), json.dumps(a.to_dict()), repr(streamed), repr(assistant), repr(s), str(s)):
            assert_no_canary(text, f"an answer or repr ({label})")
    assert_no_canary(caplog.text, "the log at DEBUG")
    assert caplog.records, "nothing was logged: the DEBUG capture did not work"


def test_llm_errors_never_show_the_key(echo):
    from qa import LLMUnavailable
    from qa.llm import LLM

    for label, url in bad_endpoints(echo).items():
        llm = LLM(Settings(openai_api_key=CANARY, openai_base_url=url, llm_retries=0, llm_timeout=10))
        for stream in (False, True):
            with pytest.raises(LLMUnavailable) as info:
                out = llm.chat([{"role": "user", "content": "hi"}], stream=stream)
                list(out) if stream else out
            assert_no_canary(str(info.value), f"the LLM error ({label})")
        assert_no_canary(repr(llm), "the LLM's repr")


def test_openai_embedder_errors_never_show_the_key(echo):
    from index import EmbedderUnavailable
    from index.openai_embedder import OpenAIEmbedder

    for label, url in bad_endpoints(echo).items():
        e = OpenAIEmbedder("text-embedding-3-small", api_key=CANARY, base_url=url, retries=0, timeout=10)
        with pytest.raises(EmbedderUnavailable) as info:
            e.embed(["a sentence"])
        assert_no_canary(str(info.value), f"the embeddings error ({label})")
        assert_no_canary(repr(e), "the embedder's repr")


def test_cli_output_and_logs_never_show_the_key(seeded, echo, monkeypatch, capsys, caplog):
    """``python -m qa`` and ``python -m index``, in process (their main()), with DEBUG logging."""
    from index.__main__ import main as index_main
    from qa.__main__ import main as qa_main

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    monkeypatch.setenv("QA_LLM_RETRIES", "0")
    monkeypatch.setenv("QA_LLM_TIMEOUT", "10")
    monkeypatch.setenv("QA_SOURCE_DIR", str(seeded / "docs"))
    for label, url in bad_endpoints(echo).items():
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        monkeypatch.setenv("QA_CHROMA_PATH", str(seeded / "chroma"))
        monkeypatch.delenv("QA_EMBED_MODEL", raising=False)
        assert qa_main(["how many personnel were injured?", "--answerer", "llm"]) == 0
        assert qa_main(["how many personnel were injured?", "--answerer", "llm", "--json"]) == 0
        out = capsys.readouterr()
        assert "Note: The LLM" in out.out, out
        assert_no_canary(out.out + out.err, f"python -m qa ({label})")
        # an index embedded by the endpoint: the build fails, and says so without the key
        monkeypatch.setenv("QA_EMBED_MODEL", "openai:text-embedding-3-small")
        monkeypatch.setenv("QA_CHROMA_PATH", str(seeded / ("chroma-openai-" + re.sub(r"\W+", "-", label))))
        assert index_main(["build", "--no-progress"]) == 1
        assert index_main(["status"]) in (0, 1)
        out = capsys.readouterr()
        assert "error:" in out.err, out
        assert_no_canary(out.out + out.err, f"python -m index ({label})")
    assert_no_canary(caplog.text, "the log at DEBUG")


@pytest.mark.slow
def test_cli_subprocess_never_shows_the_key(seeded, echo):
    """The real entry points in a fresh interpreter (nothing configured by a test harness)."""
    import subprocess
    import sys

    env = b.app_env(seeded, {"OPENAI_API_KEY": CANARY, "OPENAI_BASE_URL": echo.url(401),
                             "QA_LLM_RETRIES": "0", "QA_SOURCE_DIR": str(seeded / "docs"),
                             "QA_CHROMA_PATH": str(seeded / "chroma")})
    qa = subprocess.run([sys.executable, "-m", "qa", "how many personnel were injured?"], cwd=seeded,
                        env=env, capture_output=True, text=True, timeout=120)
    assert qa.returncode == 0 and "refused the API key (401)" in qa.stdout, qa
    env |= {"QA_EMBED_MODEL": "openai:text-embedding-3-small", "QA_CHROMA_PATH": str(seeded / "chroma-sub")}
    index = subprocess.run([sys.executable, "-m", "index", "build", "--no-progress"], cwd=seeded, env=env,
                           capture_output=True, text=True, timeout=120)
    assert index.returncode == 1 and "refused the API key" in index.stderr, index
    for p in (qa, index):
        assert_no_canary(p.stdout + p.stderr, f"{p.args[2]}'s output")


def test_ui_handlers_never_show_the_key(seeded, echo, embedder, caplog):
    from index import IndexReader
    from qa import Assistant
    from ui.handlers import Handlers

    caplog.set_level(logging.DEBUG)
    s = Settings(source_dir=seeded / "docs", chroma_path=seeded / "chroma", openai_api_key=CANARY,
                 openai_base_url=echo.url(401), llm_retries=0)
    h = Handlers(s, Assistant(s, reader=IndexReader(s, embedder=embedder)), None)
    *_, (_, messages, turns) = h.chat("how many personnel were injured?", [], [], "llm", 5)
    assert "qa-notice" in messages[-1]["content"]
    result = h.ask("how many personnel were injured?", answerer="llm")
    assert_no_canary(json.dumps(messages) + repr(turns) + json.dumps(result), "the chat HTML / API answer")
    assert_no_canary(caplog.text, "the log at DEBUG")


# --------------------------------------------------------------------------- the running app

@pytest.fixture(scope="module")
def guarded_app(tmp_path_factory, echo):
    """``python -m ui`` with a login, the canary key, an echoing LLM and a 1 MB upload limit."""
    env = {"QA_UI_AUTH": ":".join(AUTH), "OPENAI_API_KEY": CANARY, "OPENAI_BASE_URL": echo.url(401),
           "QA_LLM_RETRIES": "0", "QA_UPLOAD_MAX_MB": "1"}
    with b.running_app(tmp_path_factory.mktemp("guarded"), env) as app:
        yield app


def logged_in(app) -> httpx.Client:
    client = httpx.Client(base_url=app.url, timeout=60)
    r = client.post("/login", data={"username": AUTH[0], "password": AUTH[1]})
    assert r.status_code == 200, r.text
    return client


def listening(pid: int) -> set[str]:
    import psutil

    return {c.laddr.ip for c in psutil.Process(pid).net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN}


@pytest.mark.slow
def test_the_app_listens_on_loopback_only_by_default(guarded_app):
    assert listening(guarded_app.proc.pid) == {"127.0.0.1"}


@pytest.mark.slow
def test_qa_ui_host_moves_it(tmp_path):
    with b.running_app(tmp_path / "anyhost", {"QA_UI_HOST": "0.0.0.0"}) as app:
        assert listening(app.proc.pid) == {"0.0.0.0"}
        assert httpx.get(app.url + "/config", timeout=30).status_code == 200  # no login: open


def test_guard_refuses_without_a_session_and_passes_with_one():
    """ui.guard on its own (the running app is checked route by route below)."""
    import asyncio

    from ui.guard import LoginRequired

    class GradioLike:  # what the guard reads from Gradio's app: its sessions and cookie name
        tokens = {"tok-1": "guard"}
        cookie_id = "cid"

    def call(path: str, cookie: str = "", kind: str = "http") -> list[dict]:
        sent, reached = [], []

        async def inner(scope, receive, send):
            reached.append(scope["path"])

        async def send(message):
            sent.append(message)

        scope = {"type": kind, "path": path, "app": GradioLike(), "headers": [(b"cookie", cookie.encode())]}
        asyncio.run(LoginRequired(inner)(scope, None, send))
        return reached or sent

    assert call("/gradio_api/heartbeat/s1")[0]["status"] == 401
    assert call("/openapi.json", "access-token-cid=wrong")[0]["status"] == 401
    assert call("/openapi.json", "other=1; access-token-cid=tok-1") == ["/openapi.json"]
    assert call("/config", "access-token-unsecure-cid=tok-1") == ["/config"]
    assert call("/", "") == ["/"] and call("/assets/index.js") == ["/assets/index.js"]
    assert call("/gradio_api/queue/join", kind="websocket") == [{"type": "websocket.close", "code": 1008}]
    assert call("/", kind="lifespan") == ["/"]


def app_routes() -> list[tuple[str, str]]:
    """Every (method, path) the server serves (the JSON API and the Gradio app mounted at /),
    read from the app that ui.create_server builds."""
    from ui.server import create_server

    server = create_server(Settings(source_dir=Path("unused"), chroma_path=Path("unused")))
    found: set[tuple[str, str]] = set()

    def walk(routes) -> None:
        for r in routes:
            if hasattr(r, "original_router"):  # an included router (the /gradio_api ones)
                walk(r.original_router.routes)
            elif hasattr(r, "routes"):
                walk(r.routes)
            for method in getattr(r, "methods", None) or ():
                found.add((method, r.path))

    walk(server.routes)
    return sorted(found)


PARAMS = {"api_name": "ask", "path_or_url": "{file}", "path": "x.js", "url_path": "x", "event_id": "e1",
          "session_hash": "s1", "size": "192", "run": "1", "component_id": "1", "segment_id": "1", "ext": "ts",
          "endpoint": "ask", "record_id": "1", "asset_id": "1", "id": "1", "environment": "client",
          "type": "index", "file_name": "x.js", "key": "k"}


def fill(path: str, file: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: PARAMS.get(m.group(1), "x").replace("{file}", file), path)


def status_of(client: httpx.Client, method: str, path: str) -> tuple[int, bytes]:
    """Status and the first bytes of the body (streams, like the heartbeat, are cut short)."""
    body = b""
    with client.stream(method, path, timeout=httpx.Timeout(30, read=3)) as r:
        try:
            for chunk in r.iter_bytes():
                body += chunk
                if len(body) > 4096:
                    break
        except (httpx.ReadTimeout, httpx.RemoteProtocolError):  # an event stream, cut or held open
            pass
        return r.status_code, body


@pytest.mark.slow
def test_every_route_needs_the_login(guarded_app):
    from ui.guard import is_public

    routes = app_routes()
    assert ("POST", "/gradio_api/upload") in routes and ("POST", "/gradio_api/queue/join") in routes
    assert len(routes) > 60
    seed = str(guarded_app.source_dir / b.SEED_FILE)
    anonymous, user = httpx.Client(base_url=guarded_app.url), logged_in(guarded_app)
    public, guarded = [], []
    for method, template in routes:
        path = fill(template, seed)
        status, body = status_of(anonymous, method, path)
        if is_public(path):
            public.append(path)
            for secret in ("Ask your documents", b.SEED_FILE, "qa-question", "Rebuild index"):
                assert secret.encode() not in body, (method, path)  # the login page holds no app data
            continue
        guarded.append(path)
        assert status == 401, (method, path, status, body[:200])
        status, body = status_of(user, method, path)
        assert status != 401, (method, path, "refused even with the login")
    assert len(guarded) > 50 and "/" in public
    # with the login the app really works: its page, its config, its API
    assert user.get("/config").status_code == 200
    assert "/ask" in user.get("/gradio_api/info").text
    page = user.get("/").text
    assert "Ask your documents" in page or "window.gradio_config" in page


@pytest.mark.slow
def test_named_endpoint_and_uploads_need_the_login(guarded_app):
    anonymous, user = httpx.Client(base_url=guarded_app.url, timeout=60), logged_in(guarded_app)
    ask = {"data": ["How many militants were killed in the two strikes?", 5, "extractive", []]}
    assert anonymous.post("/gradio_api/call/ask", json=ask).status_code == 401
    r = user.post("/gradio_api/call/ask", json=ask)
    assert r.status_code == 200, r.text
    event = r.json()["event_id"]
    assert anonymous.get(f"/gradio_api/call/ask/{event}").status_code == 401
    result = user.get(f"/gradio_api/call/ask/{event}").text
    assert "event: complete" in result and "six militants" in result, result
    huge = user.post("/gradio_api/call/ask", json={"data": ["why? " * 2**18, 5, "extractive", []]})
    error = user.get(f"/gradio_api/call/ask/{huge.json()['event_id']}").text
    assert "event: error" in error and "the limit is 2000. Ask something shorter" in error, error[:300]

    files = {"files": ("notes.txt", b"Quokkas live on Rottnest Island.", "text/plain")}
    assert anonymous.post("/gradio_api/upload", files=files).status_code == 401
    r = user.post("/gradio_api/upload", files=files)
    assert r.status_code == 200, r.text
    uploaded = r.json()[0]
    assert anonymous.get(f"/gradio_api/file={uploaded}").status_code == 401
    assert user.get(f"/gradio_api/file={uploaded}").content == b"Quokkas live on Rottnest Island."
    traversal = user.post("/gradio_api/upload", files={"files": ("../../../evil.txt", b"x", "text/plain")})
    staged = Path(traversal.json()[0])
    assert staged.name == "evil.txt" and ".." not in staged.parts and staged.resolve() == staged
    assert staged.parent.parent == Path(uploaded).parent.parent  # in Gradio's upload cache, like any upload
    big = {"files": ("big.txt", b"x" * (2**20 + 10), "text/plain")}
    r = user.post("/gradio_api/upload", files=big)
    assert r.status_code == 413 and "maximum allowed size of 1048576 bytes" in r.text, r.text[:300]
    assert not (guarded_app.source_dir / "notes.txt").exists()  # gradio's upload only stages it


@pytest.mark.slow
def test_gradio_client_works_with_the_login_and_not_without(guarded_app):
    from gradio_client import Client

    with pytest.raises(ValueError, match="Could not login"):
        Client(guarded_app.url, auth=("guard", "wrong"), verbose=False, analytics_enabled=False)
    client = Client(guarded_app.url, auth=AUTH, verbose=False, analytics_enabled=False, download_files=False)
    result = client.predict("how many personnel were injured?", api_name="/ask")
    assert not result["refused"] and "personnel" in result["text"]
    assert result["answerer"] == "extractive" and "refused the API key (401)" in result["notice"]
    assert_no_canary(json.dumps(result), "the /ask answer")


@pytest.mark.slow
def test_the_page_and_the_app_log_never_show_the_key(guarded_app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = b.launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(guarded_app.url, wait_until="domcontentloaded")
            page.get_by_label("username").fill(AUTH[0])  # the login page renders through the guard
            page.get_by_label("password").fill(AUTH[1])
            page.get_by_role("button", name="Login").click()
            page.locator("#qa-question textarea").wait_for()
            reply = b.ask(page, "how many personnel were injured?")
            assert "qa-notice" in reply.inner_html() and "personnel" in reply.inner_text()
            b.screenshot(page, "security-llm-key-refused")
            assert_no_canary(page.content(), "the page")
        finally:
            browser.close()
    for path in ("/config", "/gradio_api/info", "/"):
        assert_no_canary(logged_in(guarded_app).get(path).text, path)
    assert_no_canary(guarded_app.log_path.read_text(errors="replace"), "the app's log")
