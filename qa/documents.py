"""A document's whole text, as indexed: what a viewer shows around a citation's quote.

A citation's ``start``/``end`` index into this text (``text[c.start:c.end] == c.quote``), and
its ``page`` is the page holding ``start`` among ``pages``. The reader keeps the text
(:meth:`index.IndexReader.document_text`); this module checks the name first, so a name that
is not an indexed document is a :class:`NotFound` naming close matches.
"""
from __future__ import annotations

from index import BadRequest, DocumentText, NotFound

from .evidence import Evidence
from .sources import unknown

__all__ = ["document_text"]


def document_text(reader: Evidence, source: str) -> DocumentText:
    """The whole text of indexed document ``source`` (its exact name, as ``python -m index
    status`` lists it), with its pages and the file it was read from."""
    read = getattr(reader, "document_text", None)
    if read is None:
        raise BadRequest(f"This assistant's index ({type(reader).__name__}) cannot give a document's "
                         "whole text: use an index.IndexReader.")
    if not isinstance(source, str) or not source.strip():
        raise BadRequest("Name the document, e.g. \"report.pdf\" (`python -m index status` lists them).")
    names = reader.source_names()
    if source not in names:
        raise NotFound(unknown(source, sorted(names)))
    return read(source)
