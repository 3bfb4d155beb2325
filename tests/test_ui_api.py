"""The running app through gradio_client: /ask, concurrent clients, login, readable errors."""
from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests import browser as b

pytestmark = pytest.mark.slow

AUTH = ("tester", "s3cret:pass")  # a colon in the password is allowed
QUESTIONS = {  # question → what its answer and one of its quotes must contain
    "how many personnel were injured?": "personnel",
    "How many militants were killed in the two strikes?": "six",
    "How many U.S. troops are in Syria?": "900",
    "When did Hamas attack Israel?": "Oct. 7",
}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    env = {"QA_UI_AUTH": ":".join(AUTH)}
    with b.running_app(tmp_path_factory.mktemp("ui-api"), env) as running:
        yield running


def client(app):
    from gradio_client import Client

    return Client(app.url, auth=AUTH, verbose=False, analytics_enabled=False, download_files=False)


def check_cited(result: dict, expected: str) -> None:
    assert not result["refused"], result
    assert expected in result["text"], result["text"]
    assert "[1]" in result["text"]
    numbers = {c["number"] for c in result["citations"]}
    assert 1 in numbers
    for c in result["citations"]:
        assert c["source"] == b.SEED_FILE
        assert b.SEED_TEXT[c["start"]:c["end"]] == c["quote"]  # verbatim, at its offsets
    assert any(expected in c["quote"] for c in result["citations"]), result["citations"]


def test_ask_returns_a_cited_answer(app):
    result = client(app).predict("how many personnel were injured?", api_name="/ask")
    check_cited(result, "personnel")
    assert result["answerer"] == "extractive"
    assert result["passages"] and result["question"] == "how many personnel were injured?"


def test_concurrent_clients_get_their_own_answers(app):
    def one(item):
        question, expected = item
        return question, expected, client(app).predict(question, api_name="/ask")

    with ThreadPoolExecutor(len(QUESTIONS)) as pool:
        results = list(pool.map(one, QUESTIONS.items()))
    for question, expected, result in results:
        assert result["question"] == question
        check_cited(result, expected)


def test_ask_takes_the_documents_to_search(app):
    c = client(app)
    result = c.predict("how many personnel were injured?", sources=[b.SEED_FILE], api_name="/ask")
    check_cited(result, "personnel")
    assert result["sources"] == [b.SEED_FILE]
    assert c.predict("how many personnel were injured?", api_name="/ask")["sources"] == []
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="Did you mean us-strikes-iran-backed-groups-iraq.txt"):
        c.predict("how many personnel were injured?", sources=["us-strikes-iran.txt"], api_name="/ask")


def test_errors_are_readable_messages(app):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="Type a question"):
        client(app).predict("   ", api_name="/ask")


def test_login_is_required(app):
    from gradio_client import Client

    for path in ("/config", "/gradio_api/info"):
        assert httpx.get(app.url + path, timeout=30).status_code == 401, path
    with pytest.raises(ValueError, match="Could not login"):
        Client(app.url, auth=("tester", "wrong"), verbose=False, analytics_enabled=False)


def test_cli_help():
    out = subprocess.run([sys.executable, "-m", "ui", "--help"], cwd=b.ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0
    assert "--host" in out.stdout and "--port" in out.stdout and "QA_UI_AUTH" in out.stdout


# ---- in-process: failures are readable messages in the page, never a stack trace ----------

def _handlers(settings):
    from qa import Assistant
    from ui.handlers import Handlers

    return Handlers(settings, Assistant(settings), None)


def _reply(handlers, question: str, answerer: str = "extractive") -> str:
    *_, (_, messages, _) = handlers.chat(question, [], [], answerer, 5)
    return messages[-1]["content"]


def test_missing_index_is_explained(ui_settings_factory):
    from index import QAError

    h = _handlers(ui_settings_factory())  # no index, no documents folder
    for html in (_reply(h, "how many personnel were injured?"), h.documents()):
        assert 'class="qa-error"' in html and "No index" in html and "Traceback" not in html
    with pytest.raises(QAError, match="No index"):
        h.ask("how many personnel were injured?")


def test_unreachable_llm_falls_back_with_a_notice(ui_settings_factory, tmp_path):
    import shutil

    from tests.helpers import free_port

    shutil.copytree(b.SEEDS, tmp_path / "docs")
    settings = ui_settings_factory(openai_base_url=f"http://127.0.0.1:{free_port()}/v1", llm_timeout=2,
                                llm_retries=0)
    html = _reply(_handlers(settings), "How many militants were killed in the two strikes?", "llm")
    assert 'class="qa-notice"' in html and "LLM" in html and "six militants" in html


def test_build_in_progress_and_bad_uploads_are_explained(ui_settings_factory, tmp_path):
    from filelock import FileLock

    settings = ui_settings_factory()
    settings.source_dir.mkdir()
    settings.chroma_path.mkdir()
    h = _handlers(settings)
    with FileLock(str(settings.lock_path)):
        report, _ = h.rebuild(progress=lambda *args, **kwargs: None)
    assert 'class="qa-error"' in report and "Another build" in report
    bad = tmp_path / "tool.exe"
    bad.write_bytes(b"MZ")
    _, html = h.upload([str(bad)])
    assert "rejected tool.exe" in html and "cannot be indexed" in html


def test_follow_ups_carry_the_conversation(ui_settings_factory, tmp_path):
    import shutil

    from qa import Assistant, Turn
    from ui.handlers import Handlers

    shutil.copytree(b.SEEDS, tmp_path / "docs")
    settings = ui_settings_factory()
    assistant, histories = Assistant(settings), []

    class Recording:  # the real assistant, noting the history each question came with
        def __getattr__(self, name):
            return getattr(assistant, name)

        def stream(self, question, history=(), **kwargs):
            histories.append(tuple(history))
            return assistant.stream(question, history, **kwargs)

    h = Handlers(settings, Recording(), None)
    first = "How many militants were killed in the two strikes?"
    *_, (_, messages, turns) = h.chat(first, [], [], "extractive", 5)
    *_, (_, messages, turns) = h.chat("Where were they?", messages, turns, "extractive", 5)
    assert histories[0] == () and len(histories[1]) == 1
    assert histories[1][0].question == first and "six militants" in histories[1][0].answer
    assert isinstance(histories[1][0], Turn) and len(turns) == 2 and len(messages) == 4
    assert 'id="qa-0-1"' in messages[1]["content"]  # each answer's anchors are its own
    assert "qa-0-" not in messages[3]["content"]


def test_questions_are_answered_while_a_rebuild_runs(ui_settings_factory, tmp_path):
    import shutil
    import threading

    shutil.copytree(b.SEEDS, tmp_path / "docs")
    settings = ui_settings_factory()
    h = _handlers(settings)
    assert "six militants" in h.ask("How many militants were killed in the two strikes?")["text"]
    (tmp_path / "docs" / "zephyr.txt").write_text("The Zephyr research station houses 47 scientists.")

    embedding, answered = threading.Event(), threading.Event()

    def held_open(value, desc=None, **kwargs):  # the rebuild waits here, mid-embedding
        if value is not None:
            embedding.set()
            answered.wait(60)

    result = {}
    build = threading.Thread(target=lambda: result.update(report=h.rebuild(progress=held_open)[0]))
    build.start()
    try:
        assert embedding.wait(60)
        during = h.ask("How many militants were killed in the two strikes?")
        assert build.is_alive() and "six militants" in during["text"]
    finally:
        answered.set()
        build.join(60)
    assert "added: zephyr.txt" in result["report"]
    assert "47" in h.ask("How many scientists does the Zephyr research station house?")["text"]


def test_public_surface():
    import ui

    assert sorted(ui.__all__) == ["Settings", "create_app", "create_server", "launch"]
    assert all(callable(getattr(ui, name)) for name in ui.__all__)
