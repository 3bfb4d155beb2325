"""Press the running app's "Rebuild index" button over HTTP, the way the browser does.

The rebuild event is private (gradio_client refuses it), so this speaks the queue protocol
the page itself uses: find the button's event in ``/config``, ``POST /gradio_api/queue/join``
with a session of our own, and read ``/gradio_api/queue/data`` (server-sent events) until
the event completes. The rebuild then runs inside the app process, exactly as a click.
"""
from __future__ import annotations

import json
import uuid

import httpx


def _rebuild_event(config: dict, elem_id: str) -> tuple[int, int, int]:
    """``(fn_index, trigger_id, inputs)`` of the click event of the component with ``elem_id``
    (its inputs are session state, such as the knowledge base: sent as null, the server
    fills in the session's own)."""
    ids = [c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id]
    if not ids:
        raise RuntimeError(f"no component #{elem_id} in the app's /config")
    for dep in config["dependencies"]:
        for target, event in dep.get("targets", []):
            if target == ids[0] and event == "click":
                return dep["id"], target, len(dep.get("inputs", []))
    raise RuntimeError(f"#{elem_id} has no click event in /config")


def press_rebuild(url: str, *, timeout: float = 900, elem_id: str = "qa-rebuild") -> list:
    """Click the button and return the event's outputs (build report HTML, documents HTML).

    Raises RuntimeError when the event fails or the app closes the stream without output."""
    session = uuid.uuid4().hex[:11]
    with httpx.Client(base_url=url, timeout=httpx.Timeout(timeout, connect=30)) as http:
        fn_index, trigger, inputs = _rebuild_event(http.get("/config").raise_for_status().json(), elem_id)
        http.post("/gradio_api/queue/join", json={
            "data": [None] * inputs, "event_data": None, "fn_index": fn_index, "trigger_id": trigger,
            "session_hash": session}).raise_for_status()
        with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as events:
            for line in events.iter_lines():
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    if not msg.get("success"):
                        raise RuntimeError(f"the rebuild event failed: {msg.get('output')}")
                    return msg["output"]["data"]
                if msg.get("msg") == "close_stream":
                    break
    raise RuntimeError("the app closed the event stream before the rebuild completed")
