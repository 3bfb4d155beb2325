"""``python -m ui`` — serve the chat app (builds the index first if there is none)."""
from __future__ import annotations

import argparse
import logging
import sys

EPILOG = """examples:
  python -m ui                        http://127.0.0.1:7860 (the chat) and /api (JSON, docs at /api/docs)
  python -m ui --host 0.0.0.0 --port 8080    (set QA_UI_AUTH first: without a login /api
                                              answers loopback clients only)

Settings come from .env and the environment (see .env.example): QA_UI_HOST, QA_UI_PORT,
QA_UI_AUTH=user:password (login), QA_API_TOKEN (bearer token for /api), QA_UPLOAD_MAX_MB,
QA_SOURCE_DIR, QA_CHROMA_PATH, QA_COLLECTION, QA_KB_ROOT (new knowledge bases' folders),
QA_HISTORY_PATH (conversations and feedback), QA_TOP_K, QA_ANSWERER,
OPENAI_BASE_URL / OPENAI_API_KEY (LLM answers), ...
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m ui",
        description="Chat with your documents in the browser: streamed answers with quoted sources, "
        "uploads and index rebuilds.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", help="address to listen on (default: QA_UI_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default: QA_UI_PORT, 7860)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from index import environment

    environment.configure()
    from index import ChromaStore, QAError, build_index

    from .settings import Settings

    overrides = {k: v for k, v in (("ui_host", args.host), ("ui_port", args.port)) if v is not None}
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env(**overrides)
        from .server import launch
        from .settings import parse_auth

        parse_auth(settings)  # a malformed QA_UI_AUTH is an error before anything starts
        if ChromaStore(settings).read_state() is None:
            print(f"No index yet: building it from {settings.source_dir} ...", file=sys.stderr, flush=True)
            report = build_index(settings, wait=60.0)
            print(f"Indexed {report.documents_total} documents, {report.chunks_total} chunks "
                  f"in {report.seconds:.1f} s", file=sys.stderr, flush=True)
        print(f"Serving on http://{settings.ui_host}:{settings.ui_port}", file=sys.stderr, flush=True)
        launch(settings)
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
