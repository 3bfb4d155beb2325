"""DOCX to text with python-docx: headers, body and footers as docx2txt reads them, except
that a table is one row per line, its cells joined by " | ".
"""
from __future__ import annotations

import io
import re

from .parse_text import Parsed, Skip, newlines, title_from_text


def parse_docx(data: bytes, stem: str) -> Parsed:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        package = document.part.package
        parts = sorted((p for p in package.iter_parts() if _DOCX_HEADER.fullmatch(str(p.partname))),
                       key=lambda p: str(p.partname))
        raw = "".join(
            [_docx_text(p.element) for p in parts if "header" in p.partname]
            + [_docx_text(document.element.body)]
            + [_docx_text(p.element) for p in parts if "footer" in p.partname]
        )
    except Exception as err:
        raise Skip(f"corrupt DOCX: {err or type(err).__name__}") from None
    text = re.sub(r"\n{3,}", "\n\n", newlines(raw)).strip()
    return title_from_text(text, stem), text, ()


_DOCX_HEADER = re.compile(r"/word/(?:header|footer)\d*\.xml")


def _docx_text(root) -> str:
    """The text of a WordprocessingML part as docx2txt gives it (a blank line before each
    paragraph, tabs and breaks kept), except that a table is one row per line, its cells
    joined by " | " (each cell's text, nested tables included, on one line)."""
    from docx.oxml.ns import qn
    from lxml import etree

    t, tab, br, cr, p = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr"), qn("w:p")
    tbl, tr, tc = qn("w:tbl"), qn("w:tr"), qn("w:tc")
    out: list[str] = []
    depth = 0  # tables we are inside
    row: list[str] = []  # the cells of the current top-level row
    cell: list[str] = []  # the text of the current top-level cell
    for event, el in etree.iterwalk(root, events=("start", "end")):  # no recursion
        tag = el.tag
        if tag == tbl:
            depth += 1 if event == "start" else -1
            if depth == 0 or (event == "start" and depth == 1):
                out.append("\n\n")
            continue
        if depth == 0:
            if event == "start":
                if tag == t:
                    out.append(el.text or "")
                elif tag == tab:
                    out.append("\t")
                elif tag in (br, cr):
                    out.append("\n")
                elif tag == p:
                    out.append("\n\n")
            continue
        if depth == 1 and tag == tr:
            if event == "start":
                row = []
            elif any(row):
                out.append(" | ".join(row) + "\n")
        elif depth == 1 and tag == tc:
            if event == "start":
                cell = []
            else:
                row.append(" ".join("".join(cell).split()))
        elif event == "start":
            if tag == t:
                cell.append(el.text or "")
            elif tag in (tab, br, cr, p):
                cell.append(" ")
    return "".join(out)

