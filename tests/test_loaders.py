"""index.loaders: every format, every way a file can be bad. Fixtures are built in tmp_path."""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from index.errors import BadRequest
from index.loaders import SUPPORTED_SUFFIXES, content_hash, file_hash, load_documents
from index.models import Skipped

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


# --- fixture builders -------------------------------------------------------------------

def make_pdf(page_texts: list[str]) -> bytes:
    """A real PDF, one Helvetica text line per page, with a correct xref table."""
    n = len(page_texts)
    font = 3 + 2 * n
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(n)), n),
    ]
    for i, text in enumerate(page_texts):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font, 4 + 2 * i)
        )
        stream = b"BT /F1 12 Tf 72 720 Td (%s) Tj ET" % text.encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_docx(paragraphs: list[str]) -> bytes:
    """A minimal real DOCX: content types, package rels, word/document.xml."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )
        z.writestr(
            "word/document.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}"><w:body>{body}</w:body></w:document>',
        )
    return buf.getvalue()


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def load_one(path: Path):
    result = load_documents(path)
    assert len(result.documents) == 1, result.skipped
    return result.documents[0]


def skip_reason(path: Path) -> str:
    result = load_documents(path)
    assert result.documents == ()
    assert len(result.skipped) == 1 and result.skipped[0].path == path.name
    return result.skipped[0].reason


# --- formats ----------------------------------------------------------------------------

def test_txt_is_verbatim_with_newlines_normalised_and_bom_stripped(tmp_path):
    doc = load_one(write(tmp_path / "a.txt", b"\xef\xbb\xbfHello World Notes\r\n\r\n  indented\rline\n"))
    assert doc.text == "Hello World Notes\n\n  indented\nline\n"
    assert doc.source == doc.file == "a.txt"
    assert doc.title == "Hello World Notes"
    assert doc.content_hash == content_hash(doc.text)
    assert doc.file_hash == file_hash(tmp_path / "a.txt") and len(doc.file_hash) == 64
    assert doc.pages == ()


@pytest.mark.parametrize(
    "text, title",
    [
        ("x" * 121 + "\nmore", "long"),  # first line too long: the stem
        ("Meeting notes\n\nAttendees: Bob, Alice, Carol\n", "Meeting notes"),
        ("Notes\n\nCall Bob About The Invoices.\n", "Notes"),
        ("A plain first line of prose\nThe Next Line Looks Like A Title\n", "A plain first line of prose"),
        ("Skip links\n\nNews\n\nStorm Hits The Coast Again\n\nBody.", "Storm Hits The Coast Again"),
    ],
)
def test_txt_title_rules(tmp_path, text, title):
    assert load_one(write(tmp_path / "long.txt", text)).title == title


def test_non_utf8_text_is_decoded_sensibly(tmp_path):
    doc = load_one(write(tmp_path / "cafe.txt", "Un café, s'il vous plaît.".encode("cp1252")))
    assert doc.text == "Un café, s'il vous plaît."


def test_markdown_kept_as_is_title_from_heading(tmp_path):
    md = "```sh\n# not a title\n```\n\nIntro line\n\n# The Real Title\n\nSome *text*.\n"
    doc = load_one(write(tmp_path / "notes.md", md))
    assert doc.text == md
    assert doc.title == "The Real Title"


def test_html_visible_text_blocks_and_title(tmp_path):
    html = (
        "<html><head><title> My  Page </title><style>p{}</style><script>var x=1;</script></head>"
        "<body><h1>Heading</h1><p>First   sentence\n ends here.</p><p>Second one.</p>"
        "<div>Code: &lt;script&gt;alert(1)&lt;/script&gt;<br>next line</div>"
        "<!-- a comment --><noscript>enable js</noscript><script>evil()</script>"
        "<ul><li>one</li><li>two</li></ul><pre>  keep\n    spacing</pre></body></html>"
    )
    doc = load_one(write(tmp_path / "page.html", html))
    assert doc.title == "My Page"
    assert doc.text == (
        "Heading\n\nFirst sentence ends here.\n\nSecond one.\n\n"
        "Code: <script>alert(1)</script>\nnext line\n\none\n\ntwo\n\n  keep\n    spacing"
    )
    for hidden in ("var x", "evil", "enable js", "a comment", "p{}"):
        assert hidden not in doc.text


def test_html_title_falls_back_to_h1(tmp_path):
    doc = load_one(write(tmp_path / "p.htm", "<body><h1>Big  Heading</h1><p>text</p></body>"))
    assert doc.title == "Big Heading"


def test_pdf_pages_round_trip(tmp_path):
    doc = load_one(write(tmp_path / "two.pdf", make_pdf(["Hello page one", "Second page text"])))
    assert [p.number for p in doc.pages] == [1, 2]
    assert doc.text[doc.pages[0].start : doc.pages[0].end] == "Hello page one"
    assert doc.text[doc.pages[1].start : doc.pages[1].end] == "Second page text"
    assert doc.text == "Hello page one\n\nSecond page text"
    assert doc.title == "Hello page one"


def test_pdf_encrypted_and_scanned(tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(["Secret words here"]))))
    writer.encrypt("s3cret", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    assert skip_reason(write(tmp_path / "locked.pdf", buf.getvalue())) == "encrypted PDF"

    blank = PdfWriter()
    blank.add_blank_page(612, 792)
    buf = io.BytesIO()
    blank.write(buf)
    assert skip_reason(write(tmp_path / "scan.pdf", buf.getvalue())) == "no extractable text (scanned PDF?)"


def test_pdf_with_empty_user_password_is_read(tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(["Open words here"]))))
    writer.encrypt("", owner_password="owner", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    assert load_one(write(tmp_path / "owner.pdf", buf.getvalue())).text == "Open words here"


def test_docx(tmp_path):
    doc = load_one(write(tmp_path / "memo.docx", make_docx(["Quarterly Memo For Staff", "Body text."])))
    assert doc.text == "Quarterly Memo For Staff\n\nBody text."
    assert doc.title == "Quarterly Memo For Staff"


def test_jsonl_good_and_bad_lines(tmp_path):
    lines = [
        '{"doc_id": "a", "text": "Alpha text", "title": "Alpha"}',
        '{"doc_id": "b", "text": "Beta text"}',
        "",
        "{not json",
        '{"text": "no id"}',
        '{"doc_id": "c"}',
        '{"doc_id": "d", "text": "   "}',
        '{"doc_id": "a", "text": "again"}',
        '["a list"]',
    ]
    write(tmp_path / "corpus" / "c.jsonl", "\n".join(lines) + "\n")
    result = load_documents(tmp_path / "corpus")
    assert [(d.source, d.title, d.text, d.file) for d in result.documents] == [
        ("a", "Alpha", "Alpha text", "c.jsonl"),
        ("b", "b", "Beta text", "c.jsonl"),
    ]
    assert result.documents[0].file_hash == result.documents[1].file_hash
    reasons = {s.path: s.reason for s in result.skipped}
    assert reasons["c.jsonl:4"].startswith("invalid JSON")
    assert reasons["c.jsonl:5"].startswith("missing doc_id")
    assert reasons["c.jsonl:6"].startswith("missing text")
    assert reasons["c.jsonl:7"] == "empty text"
    assert reasons["c.jsonl:8"].startswith("duplicate doc_id 'a' (first on line 1)")
    assert reasons["c.jsonl:9"] == "not a JSON object"
    assert len(reasons) == 6


# --- bad files --------------------------------------------------------------------------

@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"  \n\t\n", "empty"),
        ("bin.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        ("noise.txt", bytes(range(1, 32)) * 50, "binary file"),
        ("empty.jsonl", b"\n\n", "empty"),
        ("blank.html", b"<html><head><title>T</title></head><body> </body></html>", "empty"),
    ],
)
def test_empty_and_binary(tmp_path, name, data, reason):
    assert skip_reason(write(tmp_path / name, data)) == reason


def test_corrupt_pdf_and_docx(tmp_path):
    assert skip_reason(write(tmp_path / "bad.pdf", b"%PDF-1.4\ngarbage")).startswith("corrupt PDF: ")
    assert skip_reason(write(tmp_path / "bad.docx", b"not a zip")).startswith("corrupt DOCX: ")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "zip without word/document.xml")
    assert skip_reason(write(tmp_path / "nodoc.docx", buf.getvalue())).startswith("corrupt DOCX: ")


def test_unsupported_extension(tmp_path):
    reason = skip_reason(write(tmp_path / "sheet.xyz", b"data"))
    assert reason.startswith("unsupported file type .xyz (supported: ")
    assert all(s in reason for s in SUPPORTED_SUFFIXES)
    assert skip_reason(write(tmp_path / "README", b"x")).startswith("unsupported file type (no extension)")


def test_unreadable_broken_symlink_and_fifo(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "gone.txt").symlink_to(tmp_path / "missing.txt")
    os.mkfifo(folder / "pipe.txt")  # reading it would block: not a regular file
    (folder / "dir.txt").mkdir()  # a directory named like a file is just walked into
    write(folder / "dir.txt" / "inner.txt", "Inner text")
    result = load_documents(folder)
    assert [d.source for d in result.documents] == ["dir.txt/inner.txt"]
    assert result.skipped == (
        Skipped("gone.txt", "unreadable: broken symlink"),
        Skipped("pipe.txt", "unreadable: not a regular file"),
    )


def test_too_large(tmp_path, monkeypatch):
    import index.loaders

    monkeypatch.setattr(index.loaders, "MAX_FILE_BYTES", 10)
    assert skip_reason(write(tmp_path / "big.txt", "x" * 11)).startswith("too large")


def test_missing_source_raises(tmp_path):
    with pytest.raises(BadRequest):
        load_documents(tmp_path / "nope")


# --- folders, reuse, seed ---------------------------------------------------------------

def test_directory_walk_sorted_relative_and_hidden_ignored(tmp_path):
    root = tmp_path / "src"
    write(root / "b.txt", "bee")
    write(root / "a" / "z.md", "# Zed\nzz")
    write(root / "a" / "c.txt", "cee")
    write(root / ".hidden.txt", "no")
    write(root / ".git" / "config.txt", "no")
    write(root / ".DS_Store", b"\x00\x00")
    write(root / "~$lock.docx", b"\x00")
    result = load_documents(root)
    assert [d.source for d in result.documents] == ["a/c.txt", "a/z.md", "b.txt"]
    assert [d.file for d in result.documents] == ["a/c.txt", "a/z.md", "b.txt"]
    assert result.skipped == ()
    assert load_documents(root) == result  # deterministic


def test_jsonl_doc_id_clashing_with_a_file_path_is_skipped(tmp_path):
    root = tmp_path / "src"
    write(root / "a.txt", "file a")
    write(root / "b.jsonl", '{"doc_id": "a.txt", "text": "clash"}\n')
    result = load_documents(root)
    assert [d.text for d in result.documents] == ["file a"]
    assert result.skipped[0].path == "b.jsonl" and result.skipped[0].reason.startswith("duplicate source 'a.txt'")


def test_unchanged_files_are_reused_not_parsed(tmp_path, monkeypatch):
    import index.loaders

    root = tmp_path / "src"
    write(root / "one.pdf", make_pdf(["Page one words"]))
    write(root / "two.txt", "Two")
    first = load_documents(root)
    hashes = {d.file: d.file_hash for d in first.documents}
    by_file = {d.file: [d] for d in first.documents}
    write(root / "two.txt", "Two changed")

    def no_pdf_parsing(data, stem):
        raise AssertionError("unchanged PDF was parsed again")

    monkeypatch.setitem(index.loaders._PARSERS, ".pdf", no_pdf_parsing)
    asked = []
    second = load_documents(
        root, known_file_hashes=hashes, previous=lambda rel: asked.append(rel) or by_file[rel]
    )
    assert asked == ["one.pdf"]
    assert second.documents[0] is first.documents[0]
    assert second.documents[1].text == "Two changed"


def test_seed_document_loads_with_its_title():
    path = SEEDS / "us-strikes-iran-backed-groups-iraq.txt"
    doc = load_one(path)
    assert doc.source == path.name
    assert doc.title == "US Forces Strike Iran-Backed Group After Ballistic Missile Attack"
    assert "Kataib Hezbollah" in doc.text
    assert doc.text == path.read_text(encoding="utf-8").replace("\r\n", "\n")
