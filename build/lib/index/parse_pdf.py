"""PDF to text with pypdf: the pages joined by a blank line, each page's offsets kept
(:class:`~index.models.Page`) so a citation can name its page.
"""
from __future__ import annotations

import io

from index.models import Page

from .parse_text import Parsed, Skip, newlines, title_from_text


def parse_pdf(data: bytes, stem: str) -> Parsed:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Skip("encrypted PDF")
        texts = []
        for page in reader.pages:
            try:
                raw = page.extract_text() or ""
            except Exception:  # one bad page does not lose the others
                raw = ""
            # Lone surrogates and NULs from odd font maps would break storage downstream.
            raw = newlines(raw).replace("\x00", "").encode("utf-8", "replace").decode()
            texts.append(raw.strip())
    except Skip:
        raise
    except DependencyError:
        raise Skip("encrypted PDF (decrypting needs the 'cryptography' package)") from None
    except Exception as err:
        raise Skip(f"corrupt PDF: {err or type(err).__name__}") from None
    text = "\n\n".join(texts)
    if not text.strip():
        raise Skip("no extractable text (scanned PDF?)")
    pages, start = [], 0
    for number, page_text in enumerate(texts, 1):
        pages.append(Page(number, start, start + len(page_text)))
        start += len(page_text) + 2
    return title_from_text(text, stem), text, tuple(pages)

