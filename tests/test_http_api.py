"""The JSON API (``/api``) over HTTP with httpx: against the running app (``python -m ui``) for
every route, the login and the loopback rule; in-process (the real router, assistant and
index) for what needs an app without an index, a held limiter or a stream that breaks."""
from __future__ import annotations

import json
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests import browser as b

pytestmark = pytest.mark.slow

AUTH = ("tester", "s3cret:pass")
TOKEN = "tok-9f2c"
QUESTION = "how many personnel were injured?"
TIMINGS = ("seconds", "retrieval_seconds")  # differ between two answers to the same question


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    env = {"QA_UI_AUTH": ":".join(AUTH), "QA_API_TOKEN": TOKEN}
    with b.running_app(tmp_path_factory.mktemp("http-api"), env) as running:
        yield running


@pytest.fixture(scope="module")
def user(app):
    with httpx.Client(base_url=app.url, auth=AUTH, timeout=180) as c:
        yield c


def check_cited(result: dict, expected: str) -> None:
    assert not result["refused"], result
    assert expected in result["text"] and "[1]" in result["text"], result["text"]
    for c in result["citations"]:
        assert c["source"] == b.SEED_FILE and c["verified"]
        assert b.SEED_TEXT[c["start"]:c["end"]] == c["quote"]  # verbatim, at its offsets
    assert any(expected in c["quote"] for c in result["citations"]), result["citations"]


def events(body: str) -> list[tuple[str, dict]]:
    """A server-sent event stream → [(event, data)]."""
    out = []
    for block in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((fields["event"], json.loads(fields["data"])))
    return out


def without_timings(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k not in TIMINGS}


# ---- the routes -------------------------------------------------------------------------------

def test_health_counts_the_index(user):
    r = user.get("/api/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "documents": 1, "chunks": r.json()["chunks"]}
    assert r.json()["chunks"] > 0


def test_ask_returns_a_cited_answer(user):
    r = user.post("/api/ask", json={"question": QUESTION})
    assert r.status_code == 200, r.text
    result = r.json()
    check_cited(result, "personnel")
    assert result["question"] == QUESTION and result["answerer"] == "extractive" and result["passages"]
    assert set(result) >= {"citations", "short_answer", "notice", "retrieval_query", "sources", "flags"}


def test_ask_takes_sources_top_k_and_history(user):
    r = user.post("/api/ask", json={"question": QUESTION, "sources": [b.SEED_FILE], "top_k": 2})
    result = r.json()
    check_cited(result, "personnel")
    assert result["sources"] == [b.SEED_FILE] and len(result["passages"]) <= 2
    first = "How many militants were killed in the two strikes?"
    answer = user.post("/api/ask", json={"question": first}).json()
    assert "six militants" in answer["text"]
    follow = user.post("/api/ask", json={"question": "Where were they?",
                                         "history": [{"question": first, "answer": answer["text"]}]}).json()
    assert follow["retrieval_query"] != "Where were they?"  # made standalone from the history
    assert "militants" in follow["retrieval_query"].lower() or "strikes" in follow["retrieval_query"].lower()


def test_concurrent_clients_get_their_own_answers(app):
    questions = {QUESTION: "personnel", "How many U.S. troops are in Syria?": "900",
                 "How many militants were killed in the two strikes?": "six", "When did Hamas attack Israel?": "Oct. 7"}

    def one(q):
        with httpx.Client(base_url=app.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=300) as c:
            return c.post("/api/ask", json={"question": q}).json()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, list(questions) * 2))
    for (q, expected), result in zip(list(questions.items()) * 2, results):
        assert result["question"] == q
        check_cited(result, expected)


def test_bad_requests_are_readable(user):
    def detail(r, status):
        assert r.status_code == status, r.text
        return r.json()["detail"]

    assert detail(user.post("/api/ask", json={"question": "   "}), 400) == "Type a question."  # as the page says
    unknown = detail(user.post("/api/ask", json={"question": QUESTION, "sources": ["us-strikes-iran.txt"]}), 400)
    assert "us-strikes-iran.txt" in unknown and b.SEED_FILE in unknown
    long = detail(user.post("/api/ask", json={"question": "why? " * 2000}), 400)
    assert "characters long" in long and "Ask something shorter" in long
    # what does not fit the schema is FastAPI's 422, naming the field
    for body in ({}, {"question": 3}, {"question": QUESTION, "top_k": "five"}, {"question": QUESTION, "top_k": 0},
                 {"question": QUESTION, "answerer": "gpt"}, {"question": QUESTION, "history": ["hi"]}):
        r = user.post("/api/ask", json=body)
        assert r.status_code == 422, (body, r.text)
        assert isinstance(r.json()["detail"], list) and r.json()["detail"][0]["loc"][0] == "body"
    r = user.post("/api/ask", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert "Traceback" not in r.text


def test_a_streamed_answer_ends_with_the_same_answer_as_ask(user):
    body = {"question": QUESTION, "top_k": 5, "answerer": "extractive"}
    with user.stream("POST", "/api/ask/stream", json=body) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        stream = events(r.read().decode())
    kinds = [kind for kind, _ in stream]
    assert kinds[-1] == "answer" and kinds.count("answer") == 1 and set(kinds[:-1]) == {"delta"}
    assert len(kinds) >= 2
    streamed = stream[-1][1]
    assert "".join(d["text"] for _, d in stream[:-1]) == streamed["text"]  # extractive: its sentences
    asked = user.post("/api/ask", json=body).json()
    assert set(streamed) == set(asked) and all(k in streamed for k in TIMINGS)
    assert without_timings(streamed) == without_timings(asked)
    check_cited(streamed, "personnel")


def test_stream_errors_before_the_answer_are_http_errors(user):
    r = user.post("/api/ask/stream", json={"question": " "})
    assert (r.status_code, r.json()) == (400, {"detail": "Type a question."})
    r = user.post("/api/ask/stream", json={"question": QUESTION, "sources": ["nothing-*.pdf"]})
    assert r.status_code == 400 and "nothing-*.pdf" in r.json()["detail"]
    assert user.post("/api/ask/stream", json={"question": QUESTION, "top_k": 99}).status_code == 422


def test_documents_upload_rebuild_and_ask_the_new_one(app, user):
    docs = user.get("/api/documents").json()
    assert [d["source"] for d in docs] == [b.SEED_FILE]
    assert set(docs[0]) == {"source", "title", "chunks", "indexed_at"} and docs[0]["chunks"] > 0
    text = b"Quokkas live on Rottnest Island, off the coast of Perth."
    files = [("files", ("quokka notes.txt", text, "text/plain")), ("files", ("tool.exe", b"MZ", "application/x-msdownload")),
             ("files", ("empty.txt", b"", "text/plain")), ("files", ("fake.pdf", b"hello", "application/pdf")),
             ("files", ("../../escape.md", b"# Escape\nNot outside.", "text/markdown"))]
    r = user.post("/api/documents", files=files)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["saved"] == [{"name": "quokka_notes.txt", "original": "quokka notes.txt"},
                               {"name": "escape.md", "original": "escape.md"}]
    reasons = {x["name"]: x["reason"] for x in report["rejected"]}
    assert "cannot be indexed" in reasons["tool.exe"] and "empty" in reasons["empty.txt"]
    assert "not a PDF" in reasons["fake.pdf"] and report["unchanged"] == []
    assert (app.source_dir / "quokka_notes.txt").read_bytes() == text
    assert not (app.source_dir.parent / "escape.md").exists()
    again = user.post("/api/documents", files=[("files", ("quokka notes.txt", text, "text/plain"))]).json()
    assert again["unchanged"] == ["quokka_notes.txt"] and again["saved"] == []
    assert user.post("/api/documents").status_code == 422  # no files

    r = user.post("/api/rebuild")
    assert r.status_code == 200, r.text
    build = r.json()
    assert sorted(build["files_added"]) == ["escape.md", "quokka_notes.txt"] and build["documents_total"] == 3
    assert {"chunks_embedded", "chunks_total", "skipped", "seconds", "embedder"} <= set(build)
    assert {d["source"] for d in user.get("/api/documents").json()} == {b.SEED_FILE, "quokka_notes.txt", "escape.md"}
    answer = user.post("/api/ask", json={"question": "Where do quokkas live?", "sources": ["quokka*"]}).json()
    assert "Rottnest Island" in answer["text"] and answer["citations"][0]["source"] == "quokka_notes.txt"
    assert user.post("/api/rebuild").json()["files_unchanged"] == 3  # nothing new: nothing re-embedded


def test_a_rebuild_while_another_runs_is_409(app, user):
    from filelock import FileLock

    from ui.settings import Settings

    lock = Settings(chroma_path=app.source_dir.parent / "chroma").lock_path
    with FileLock(str(lock)):
        r = user.post("/api/rebuild")
    assert r.status_code == 409 and "Another build" in r.json()["detail"]


# ---- OpenAPI and its page ---------------------------------------------------------------------

ROUTES = {("GET", "/api/health"), ("POST", "/api/ask"), ("POST", "/api/ask/stream"), ("GET", "/api/documents"),
          ("POST", "/api/documents"), ("POST", "/api/rebuild"), ("POST", "/api/conversations"),
          ("GET", "/api/knowledge-bases")}


def test_a_conversation_is_kept_exported_and_rated(app, user):
    cid = user.post("/api/conversations").json()["conversation"]
    first = user.post("/api/ask", json={"question": "How many militants were killed in the two strikes?",
                                        "conversation": cid}).json()
    assert first["conversation"] == cid and first["turn"] == 0 and "six militants" in first["text"]
    follow = user.post("/api/ask/stream", json={"question": "Where were they?", "conversation": cid})
    (kind, last), = [e for e in events(follow.text) if e[0] != "delta"]
    assert kind == "answer" and last["turn"] == 1
    assert last["retrieval_query"] != "Where were they?"  # the stored first turn was its history

    md = user.get("/api/export", params={"conversation": cid, "format": "md"})
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert "attachment" in md.headers["content-disposition"]
    footnotes = re.findall(r"^\[\^\d+-(\d+)\]: .*?characters (\d+)–(\d+)", md.text, re.M)
    assert footnotes, md.text
    for _, start, end in footnotes:
        # each footnote quotes the document verbatim (a quote's line breaks are indented continuations)
        assert " ".join(b.SEED_TEXT[int(start):int(end)].split()) in " ".join(md.text.split())
    exported = user.get("/api/export", params={"conversation": cid, "format": "json"}).json()
    assert [a["question"] for a in exported] == ["How many militants were killed in the two strikes?",
                                                 "Where were they?"]

    r = user.post("/api/feedback", json={"conversation": cid, "turn": 1, "rating": "down", "comment": "vague"})
    assert r.status_code == 200 and r.json() == {"ok": True}
    import sqlite3

    with sqlite3.connect(app.source_dir.parent / "chroma" / "history.sqlite3") as db:
        assert db.execute("SELECT turn, rating, comment FROM feedback WHERE conversation_id = ?",
                          (cid,)).fetchall() == [(1, "down", "vague")]
    assert user.post("/api/feedback", json={"conversation": cid, "turn": 7, "rating": "up"}).status_code == 400
    assert user.post("/api/feedback", json={"conversation": cid, "turn": 0, "rating": "meh"}).status_code == 422
    for r in (user.get("/api/export", params={"conversation": "nope"}),
              user.post("/api/ask", json={"question": QUESTION, "conversation": "nope"}),
              user.post("/api/feedback", json={"conversation": "nope", "turn": 0, "rating": "up"})):
        assert r.status_code == 404 and "no conversation" in r.json()["detail"], r.text


def test_a_knowledge_base_over_http(app, user):
    text = b"The Wexcombe lighthouse keeper logged 57 storms during the winter of 1911."
    r = user.post("/api/knowledge-bases", data={"name": "lighthouse-logs"},
                  files=[("files", ("keeper log.txt", text, "text/plain"))])
    assert r.status_code == 200, r.text
    assert r.json()["build"]["files_added"] == ["keeper_log.txt"]
    names = {kb["name"]: kb for kb in user.get("/api/knowledge-bases").json()}
    assert names["lighthouse-logs"]["documents"] == 1 and "documents" in names
    kb = {"collection": "lighthouse-logs"}
    answer = user.post("/api/ask", json={"question": "How many storms did the keeper log?", **kb}).json()
    assert "57" in answer["text"] and {c["source"] for c in answer["citations"]} == {"keeper_log.txt"}
    assert [d["source"] for d in user.get("/api/documents", params=kb).json()] == ["keeper_log.txt"]
    assert user.get("/api/health", params=kb).json()["documents"] == 1
    doc = user.get("/api/documents/keeper_log.txt/text", params=kb).json()
    assert doc["text"] == text.decode()
    assert user.get("/api/documents/keeper_log.txt/text").status_code == 404  # not in the default one
    assert user.post("/api/rebuild", params=kb).json()["files_unchanged"] == 1
    again = user.post("/api/knowledge-bases", data={"name": "lighthouse-logs"},
                      files=[("files", ("x.txt", b"more", "text/plain"))])
    assert again.status_code == 400 and "already exists" in again.json()["detail"]
    bad = user.post("/api/ask", json={"question": QUESTION, "collection": "no-such-base"})
    assert bad.status_code == 400 and "no knowledge base named" in bad.json()["detail"]


def test_openapi_documents_every_route(user):
    spec = user.get("/api/openapi.json").json()
    routes = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert ROUTES <= routes and all(p.startswith("/api/") for _, p in routes)
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("summary"), (method, path)
            assert op["responses"]["200"].get("content"), (method, path)
    ask = spec["paths"]["/api/ask"]["post"]
    assert ask["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Answer"}
    assert {"400", "409", "422", "500"} <= set(ask["responses"])
    assert {"Answer", "Citation", "AskRequest", "BuildReport", "UploadResult"} <= set(spec["components"]["schemas"])


def test_the_docs_page_works_offline(app, user):
    from playwright.sync_api import sync_playwright

    page_html = user.get("/api/docs").text
    links = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", page_html)
    assert not [u for u in links if re.match(r"(https?:)?//", u)], links  # nothing from a CDN
    for link in links:
        assert user.get(httpx.URL(app.url + "/api/docs").join(link)).status_code == 200, link
    with sync_playwright() as p:
        browser = b.launch_chromium(p)
        try:
            context = browser.new_context(http_credentials={"username": AUTH[0], "password": AUTH[1]})
            page = context.new_page()
            outside = []
            page.on("request", lambda req: None if req.url.startswith(app.url) else outside.append(req.url))
            page.goto(app.url + "/api/docs")
            # Swagger UI (fastapi-offline installed) or the plain list of routes
            page.wait_for_function("document.body.innerText.includes('/api/ask/stream')", timeout=60_000)
            b.screenshot(page, "api-docs")
        finally:
            browser.close()
    assert outside == []


# ---- who may call it --------------------------------------------------------------------------

def _every_route(user) -> list[tuple[str, str]]:
    spec = user.get("/api/openapi.json").json()
    documented = [(m.upper(), p) for p, ops in spec["paths"].items() for m in ops]
    return documented + [("GET", "/api/openapi.json"), ("GET", "/api/docs")]


def test_with_a_login_every_route_needs_credentials(app, user):
    routes = _every_route(user)
    assert len(routes) >= len(ROUTES) + 2
    bodies = {"/api/ask": {"question": " "}, "/api/ask/stream": {"question": " "}}  # quick: a 400
    with httpx.Client(base_url=app.url, timeout=180) as anonymous:
        for method, path in routes:
            kwargs = {"json": bodies[path]} if path in bodies else {}
            r = anonymous.request(method, path, **kwargs)
            assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic"), (path, r.text)
            assert "QA_UI_AUTH" in r.json()["detail"]
            for auth in (httpx.BasicAuth("tester", "wrong"), httpx.BasicAuth("other", AUTH[1])):
                assert anonymous.request(method, path, auth=auth, **kwargs).status_code == 401, path
            for header in (f"Bearer {TOKEN}x", "Bearer", f"Token {TOKEN}", f"Basic {TOKEN}"):
                assert anonymous.request(method, path, headers={"Authorization": header},
                                         **kwargs).status_code == 401, (path, header)
            for ok in ({"auth": AUTH}, {"headers": {"Authorization": f"Bearer {TOKEN}"}}):
                r = anonymous.request(method, path, **ok, **kwargs)
                assert r.status_code not in (401, 403) and r.status_code < 500, (path, ok, r.text)
                if path in bodies:
                    assert r.status_code == 400
                elif (method, path) in ROUTES - {("POST", "/api/documents")}:
                    assert r.status_code == 200, (path, r.text)


def _outside_address() -> str | None:
    """This machine's address on a non-loopback interface, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the route
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_without_a_login_only_loopback_or_the_token(tmp_path_factory):
    outside = _outside_address()
    if outside is None:
        pytest.skip("no non-loopback address to call from")
    env = {"QA_UI_HOST": "0.0.0.0", "QA_API_TOKEN": TOKEN}
    with b.running_app(tmp_path_factory.mktemp("http-api-open"), env) as running:
        port = httpx.URL(running.url).port
        assert httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=60).status_code == 200
        far = f"http://{outside}:{port}"
        r = httpx.get(far + "/api/health", timeout=60)
        assert r.status_code == 403 and "loopback" in r.json()["detail"]
        assert httpx.post(far + "/api/ask", json={"question": QUESTION}, timeout=60).status_code == 403
        r = httpx.post(far + "/api/ask", json={"question": QUESTION}, headers={"Authorization": f"Bearer {TOKEN}"},
                       timeout=180)
        assert r.status_code == 200
        check_cited(r.json(), "personnel")
        assert httpx.get(far + "/api/health", headers={"Authorization": "Bearer nope"}, timeout=60).status_code == 403


# ---- in-process: the real router, assistant and index, no Gradio ------------------------------

def _client(settings, assistant=None, host="127.0.0.1"):
    from fastapi import FastAPI
    from starlette.testclient import TestClient

    from qa import Assistant
    from ui import api
    from ui.handlers import Handlers

    handlers = Handlers(settings, assistant or Assistant(settings), None)
    server = FastAPI()
    server.include_router(api.router(settings, handlers, lambda: None))
    return TestClient(server, client=(host, 50000)), handlers


def test_no_index_is_409_saying_how_to_build_it(ui_settings_factory):
    client, _ = _client(ui_settings_factory())  # no index and no documents folder
    for r in (client.post("/api/ask", json={"question": QUESTION}),
              client.post("/api/ask/stream", json={"question": QUESTION}), client.get("/api/documents")):
        assert r.status_code == 409, r.text
        assert "No index" in r.json()["detail"] and "python -m index build" in r.json()["detail"]
    assert client.get("/api/health").json() == {"status": "ok", "documents": 0, "chunks": 0}
    r = client.post("/api/rebuild")
    assert r.status_code == 400 and "does not exist" in r.json()["detail"]


def test_a_non_loopback_client_without_a_login_is_403(ui_settings_factory):
    client, _ = _client(ui_settings_factory(), host="203.0.113.7")
    r = client.get("/api/health")
    assert r.status_code == 403 and "QA_UI_AUTH" in r.json()["detail"]
    assert _client(ui_settings_factory(), host="::1")[0].get("/api/health").status_code == 200


def test_the_api_and_the_page_share_one_limit_on_questions_answered_at_once(ui_settings_factory, tmp_path):
    import shutil

    from ui.handlers import ASK_CONCURRENCY

    shutil.copytree(b.SEEDS, tmp_path / "docs")
    client, handlers = _client(ui_settings_factory())
    assert client.post("/api/ask", json={"question": QUESTION}).status_code == 200  # builds the index
    for _ in range(ASK_CONCURRENCY):  # every slot taken, as by four questions being answered
        assert handlers.asking.acquire(timeout=5)
    results: dict = {}
    api_call = threading.Thread(target=lambda: results.update(api=client.post("/api/ask", json={"question": QUESTION})))
    page_call = threading.Thread(target=lambda: results.update(page=list(handlers.chat(QUESTION, [], [], "extractive", 5))))
    api_call.start()
    page_call.start()
    time.sleep(3)
    assert results == {}  # both wait for a slot
    handlers.asking.release()
    api_call.join(120)
    page_call.join(120)
    assert results["api"].status_code == 200
    check_cited(results["api"].json(), "personnel")
    assert "qa-answer" in results["page"][-1][1][-1]["content"]
    for _ in range(ASK_CONCURRENCY - 1):
        handlers.asking.release()


def test_an_error_after_the_first_delta_is_an_error_event(ui_settings_factory, tmp_path):
    import shutil

    from qa import Assistant
    from qa.errors import LLMUnavailable

    shutil.copytree(b.SEEDS, tmp_path / "docs")
    settings = ui_settings_factory()
    assistant = Assistant(settings)

    class DroppedMidAnswer:  # the real assistant, whose LLM connection drops after one piece
        def __getattr__(self, name):
            return getattr(assistant, name)

        def stream(self, question, history=(), **kwargs):
            pieces = assistant.stream(question, history, **kwargs)
            yield next(pieces)
            pieces.close()
            raise LLMUnavailable("The LLM stopped answering; check OPENAI_BASE_URL and try again.")

    client, handlers = _client(settings, DroppedMidAnswer())
    with client.stream("POST", "/api/ask/stream", json={"question": QUESTION}) as r:
        assert r.status_code == 200
        stream = events(r.read().decode())
    assert [k for k, _ in stream] == ["delta", "error"]
    assert stream[1][1] == {"detail": "The LLM stopped answering; check OPENAI_BASE_URL and try again.", "status": 503}
    # the limiter slot was given back
    assert all(handlers.asking.acquire(timeout=1) for _ in range(4))


def test_an_llm_answer_streams_piece_by_piece(ui_settings_factory, tmp_path, llm_server):
    import shutil

    shutil.copytree(b.SEEDS, tmp_path / "docs")
    settings = ui_settings_factory(openai_base_url=llm_server.base_url, openai_api_key=llm_server.api_key,
                                   llm_model="smollm2", top_k=2)
    client, _ = _client(settings)
    with client.stream("POST", "/api/ask/stream", json={"question": QUESTION, "answerer": "llm"}) as r:
        assert r.status_code == 200
        stream = events(r.read().decode())
    kinds = [k for k, _ in stream]
    assert kinds[-1] == "answer" and kinds.count("delta") >= 2 and set(kinds[:-1]) == {"delta"}
    final = stream[-1][1]
    assert final["answerer"] == "llm" and "LLM" not in (final["notice"] or ""), final  # not the fallback
    assert final["notice"].startswith("There was no index yet")  # this app built it for the question
    assert final["citations"] and "[1]" in final["text"]
    for c in final["citations"]:  # whatever the small model wrote, it quotes the document verbatim
        assert c["verified"] and b.SEED_TEXT[c["start"]:c["end"]] == c["quote"]
