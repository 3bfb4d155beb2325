"""``python -m index build|status|list`` — a thin shell over :func:`index.build_index`."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EPILOG = """examples:
  python -m index build                 index ./seeds (or QA_SOURCE_DIR), incrementally
  python -m index build --source docs/  index another folder or a single file
  python -m index build --full          re-embed everything (after changing QA_EMBED_MODEL)
  python -m index build --json          print the report as one JSON object (last line)
  python -m index status                list indexed documents
  python -m index list                  list the knowledge bases (collections) in QA_CHROMA_PATH
                                        or on the Chroma server: name, folder, documents, chunks
  python -m index build --collection physics --source ~/physics
                                        build another knowledge base from its own folder;
  python -m index build --collection physics    later rebuilds it from the same folder

Settings come from .env and the environment (see .env.example): QA_CHROMA_PATH,
QA_CHROMA_HOST/QA_CHROMA_PORT, QA_COLLECTION, QA_EMBED_MODEL, QA_CHUNK_SIZE, ...
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m index",
        description="Build and inspect the document index (Chroma + BM25).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="{build,status,list}")
    b = sub.add_parser("build", help="add new, re-embed changed, drop removed documents",
                       description="Bring the index up to date with a folder of documents "
                       "(.txt .md .html .pdf .docx, and .jsonl corpora). Only what changed is embedded.")
    b.add_argument("--source", type=Path, help="folder or file to index (default: QA_SOURCE_DIR, 'seeds')")
    b.add_argument("--collection", metavar="NAME",
                   help="the knowledge base to build (default: QA_COLLECTION); without --source, "
                   "from the folder it was last built from")
    b.add_argument("--full", action="store_true", help="rebuild from scratch into a new collection")
    b.add_argument("--json", action="store_true", help="print the report as JSON on the last line")
    b.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="wait this long for another running build instead of failing (default 0)")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    s = sub.add_parser("status", help="list the indexed documents")
    s.add_argument("--collection", metavar="NAME", help="the knowledge base (default: QA_COLLECTION)")
    s.add_argument("--json", action="store_true", help="print as JSON")
    k = sub.add_parser("list", help="list the knowledge bases (collections)",
                       description="List the knowledge bases in QA_CHROMA_PATH (or on the Chroma server): "
                       "each collection's name, the folder it was built from, its documents and chunks.")
    k.add_argument("--json", action="store_true", help="print as JSON")
    return p


def _print_knowledge_bases(kbs, default: str) -> None:
    rows = [(kb.name + (" *" if kb.name == default else ""), kb.source_dir or "?", str(kb.documents),
             str(kb.chunks), kb.built_at) for kb in kbs]
    head = ("name", "folder", "documents", "chunks", "built")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(5)]
    for r in [head, *rows]:
        print(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:>{widths[3]}}  {r[4]}")
    print(f"{len(kbs)} knowledge bases" + (" (* QA_COLLECTION)" if any(kb.name == default for kb in kbs) else ""))


def _print_report(r) -> None:
    print(f"Indexed {r.documents_total} documents, {r.chunks_total} chunks ({r.embedder}) in {r.seconds:.2f} s")
    print(f"  files added {len(r.files_added)}, changed {len(r.files_changed)}, "
          f"removed {len(r.files_removed)}, unchanged {r.files_unchanged}, skipped {len(r.skipped)}")
    print(f"  chunks embedded {r.chunks_embedded}, reused {r.chunks_reused}, deleted {r.chunks_deleted}, "
          f"sentences analysed {r.sentences_analysed}")
    for label, names in (("added", r.files_added), ("changed", r.files_changed), ("removed", r.files_removed)):
        for n in names[:20]:
            print(f"  {label}: {n}")
        if len(names) > 20:
            print(f"  ... and {len(names) - 20} more {label}")
    for sk in r.skipped:
        print(f"  skipped: {sk.path} — {sk.reason}")
    for w in r.warnings:  # e.g. pypdf on a damaged PDF: reported here, not on stderr
        print(f"  warning: {w}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from . import environment

    environment.configure()
    from . import QAError, Settings, build_index, collection_settings, list_collections, list_documents
    from .store import ChromaStore

    try:
        settings = Settings.from_env()
        if getattr(args, "collection", None):
            settings = collection_settings(settings, args.collection)
        if args.command == "build":
            report = build_index(settings, source=args.source, full=args.full, wait=args.wait,
                                 show_progress=False if args.no_progress else None)
            if args.json:
                print(json.dumps(report.to_dict()))
            else:
                _print_report(report)
            return 0
        if args.command == "list":
            kbs = list_collections(settings)
            if args.json:
                print(json.dumps([kb.to_dict() for kb in kbs]))
            else:
                _print_knowledge_bases(kbs, settings.collection)
            return 0
        docs = list_documents(ChromaStore(settings))
        if args.json:
            print(json.dumps([d.__dict__ for d in docs]))
        else:
            width = max((len(d.source) for d in docs), default=6)
            print(f"{'source':<{width}}  chunks  indexed at")
            for d in docs:
                print(f"{d.source:<{width}}  {d.chunks:>6}  {d.indexed_at}")
            print(f"{len(docs)} documents, {sum(d.chunks for d in docs)} chunks")
        return 0
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the previous index is intact", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
