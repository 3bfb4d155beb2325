"""HTML (``.html``, ``.htm``) to text with bs4: one block a paragraph, a table one row per
line with its cells joined by " | "; scripts, styles and the head dropped.
"""
from __future__ import annotations

from .parse_text import Parsed, Skip, decode, newlines, title_from_text

_BLOCK, _LINE, _PRE = "\x1e", "\x1f", "\x1d"  # HTML-extraction markers (never in output)
_HTML_DROP = frozenset({"script", "style", "noscript", "head", "title", "template", "svg"})
_HTML_BLOCKS = frozenset(
    "address article aside blockquote body caption dd details dialog div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html li main nav ol "
    "p section summary table tbody td tfoot th thead tr ul".split()
)


def parse_html(data: bytes, stem: str) -> Parsed:
    from bs4 import BeautifulSoup
    from bs4.element import CData, NavigableString, PreformattedString

    decode(data)  # binary is refused as for .txt (bs4 would decode it into CJK-looking noise)
    try:
        soup = BeautifulSoup(data, "html.parser")
    except Exception as err:
        raise Skip(f"corrupt HTML: {err or type(err).__name__}") from None

    def clean(s: str) -> str:  # markers are ours: drop any the document itself contains
        return s.translate({ord(_BLOCK): " ", ord(_LINE): " ", ord(_PRE): " "})

    parts: list[str] = []
    stack = [(iter(soup.contents), False)]  # no recursion: deep nesting is no crash
    while stack:
        node = next(stack[-1][0], None)
        if node is None:
            parts.append(_BLOCK if stack.pop()[1] else "")
        elif isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString) or isinstance(node, CData):
                parts.append(clean(node))  # not comments, doctypes, processing instructions
        elif node.name in _HTML_DROP:
            continue
        elif node.name == "br":
            parts.append(_LINE)
        elif node.name == "pre":
            parts.append(_BLOCK + _PRE + clean(node.get_text()) + _BLOCK)
        elif node.name == "table":  # one row per line, so a row can be quoted whole
            parts.append(_BLOCK + _LINE.join(clean(row) for row in _html_table_lines(node)) + _BLOCK)
        else:
            parts.append(_BLOCK if node.name in _HTML_BLOCKS else "")
            stack.append((iter(node.contents), node.name in _HTML_BLOCKS))
    blocks = []
    for block in "".join(parts).split(_BLOCK):
        if block.startswith(_PRE):
            block = newlines(block[1:]).strip("\n").rstrip()
        else:
            block = "\n".join(filter(None, (" ".join(line.split()) for line in block.split(_LINE))))
        if block.strip():
            blocks.append(block)
    text = "\n\n".join(blocks)
    heading = soup.find("title") or soup.find("h1")
    title = " ".join(heading.get_text().split()) if heading else ""
    return title or title_from_text(text, stem), text, ()


def _html_table_lines(table) -> list[str]:
    """A table's caption, then each of its rows (not a nested table's) with its cells joined
    by " | "; a cell's own text (a nested table's too) on one line."""
    lines = []
    caption = table.find("caption")
    if caption is not None and caption.find_parent("table") is table:
        lines.append(_html_inline_text(caption))
    for tr in table.find_all("tr"):
        if tr.find_parent("table") is not table:
            continue
        cells = [_html_inline_text(c) for c in tr.find_all(("td", "th")) if c.find_parent("tr") is tr]
        if any(cells):
            lines.append(" | ".join(cells))
    return lines


def _html_inline_text(node) -> str:
    """The text of ``node`` on one line: block elements and line breaks become spaces."""
    from bs4.element import CData, NavigableString, PreformattedString, Tag

    parts = []
    for d in node.descendants:  # a generator, no recursion
        if isinstance(d, Tag):
            if d.name in _HTML_BLOCKS or d.name == "br":
                parts.append(" ")
        elif isinstance(d, NavigableString) and (not isinstance(d, PreformattedString) or isinstance(d, CData)):
            if not any(p.name in _HTML_DROP for p in d.parents):
                parts.append(d)
    return " ".join("".join(parts).split())

