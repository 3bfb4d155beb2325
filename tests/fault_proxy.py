"""A loopback proxy in front of an OpenAI-compatible server that injects faults on demand.

The LLM fault tests point ``OPENAI_BASE_URL`` at this proxy, which fronts the real
llama.cpp server (tests/llm_server.py). Faults are deterministic: set ``proxy.mode``
before a question.

* ``pass``       forward the request and the reply unchanged (streamed replies too)
* ``http500``    answer HTTP 500 with an error body, as a crashed backend would
* ``malformed``  forward, then cut the server's JSON reply (or its second stream event) short
* ``slow``       say nothing for ``delay`` seconds (longer than the client's timeout), then hang up
* ``stall``      forward a streamed reply's first event, then go silent for ``delay``
* ``stop()``     close the port: connection refused

``max_tokens`` of forwarded requests is capped at ``max_tokens`` (the faults are about the
protocol, and a 2-core test machine should not spend seconds generating text nobody reads).
``requests`` counts chat-completion requests, so tests can check the retries the client made.
"""
from __future__ import annotations

import json
import queue
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import httpx

MODES = ("pass", "http500", "malformed", "slow", "stall")


class FaultProxy:
    def __init__(self, upstream: str, *, delay: float = 5.0, max_tokens: int | None = 16):
        self.upstream = upstream.rstrip("/")  # e.g. http://127.0.0.1:PORT/v1
        self.mode = "pass"
        self.delay = delay
        self.max_tokens = max_tokens
        self.requests = 0
        self._count_lock = threading.Lock()
        self._stopping = threading.Event()
        self._client = httpx.Client(timeout=120)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def stop(self) -> None:
        """Close the port (later requests are refused) and wake any request it holds."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._client.close()

    def _count(self) -> None:
        with self._count_lock:
            self.requests += 1


def _handler(proxy: FaultProxy):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            r = proxy._client.get(proxy.upstream + self.path.removeprefix("/v1"), headers=self._auth())
            self._send(r.status_code, r.headers.get("content-type", "application/json"), r.content)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
            if self.path.endswith("/chat/completions"):
                proxy._count()
            mode = proxy.mode
            if mode == "http500":
                error = {"error": {"message": "injected fault: backend crashed", "type": "server_error"}}
                return self._send(500, "application/json", json.dumps(error).encode())
            if mode == "slow":
                proxy._stopping.wait(proxy.delay)
                return  # hang up without a reply (the client gave up long ago)
            if proxy.max_tokens is not None:
                body["max_tokens"] = min(int(body.get("max_tokens") or proxy.max_tokens), proxy.max_tokens)
            url = proxy.upstream + self.path.removeprefix("/v1")
            headers = {**self._auth(), "content-type": "application/json"}
            if body.get("stream"):
                return self._stream(url, headers, body, mode)
            r = proxy._client.post(url, headers=headers, json=body)
            content = r.content
            if mode == "malformed":
                content = content[: len(content) // 2]
            self._send(r.status_code, r.headers.get("content-type", "application/json"), content)

        def _stream(self, url: str, headers: dict, body: dict, mode: str) -> None:
            """Relay the server's events. Until its first one arrives, SSE comments keep the
            connection visibly alive (clients skip them), so a short client timeout measures
            the injected silence, not how long the real server takes to read the prompt."""
            lines: queue.Queue = queue.Queue()

            def pump() -> None:
                try:
                    with proxy._client.stream("POST", url, headers=headers, json=body) as r:
                        for line in r.iter_lines():
                            lines.put(line)
                            if proxy._stopping.is_set():
                                break
                finally:
                    lines.put(None)

            threading.Thread(target=pump, daemon=True).start()
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()  # HTTP/1.0: the body ends when the connection closes
            events = 0
            while True:
                try:
                    line = lines.get(timeout=0.25)
                except queue.Empty:
                    if events == 0:
                        self.wfile.write(b": waiting for the server\n\n")
                        self.wfile.flush()
                    continue
                if line is None:
                    return
                if line.startswith("data:") and events >= 1 and mode in ("malformed", "stall"):
                    if mode == "malformed":
                        self.wfile.write((line[: len(line) // 2] + "\n\n").encode())
                        self.wfile.flush()
                    else:
                        proxy._stopping.wait(proxy.delay)
                    return
                self.wfile.write((line + "\n").encode())
                self.wfile.flush()
                if line.startswith("data:"):
                    events += 1

        def _auth(self) -> dict:
            auth = self.headers.get("authorization")
            return {"authorization": auth} if auth else {}

        def _send(self, status: int, content_type: str, content: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

    return Handler


@contextmanager
def fault_proxy(upstream: str, **kwargs) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream, **kwargs)
    try:
        yield proxy
    finally:
        proxy.stop()
