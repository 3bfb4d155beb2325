"""ui.uploads: which files are accepted, under what names, and how they are saved."""
from __future__ import annotations

import pytest

from index import BadRequest
from ui.uploads import Rejected, Saved, safe_name, save_uploads


@pytest.mark.parametrize("original, expected", [
    ("report.txt", "report.txt"),
    ("Annual Report 2024.PDF", "Annual_Report_2024.pdf"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\evil.md", "evil.md"),
    (".hidden.txt", "hidden.txt"),
    ("~$lock.docx", "lock.docx"),
    ("<img src=x onerror=alert(1)>.html", "img_src_x_onerror_alert_1.html"),
    ("<script>alert(1)</script>.html", "script.html"),  # "/" separates folders: base name only
    ("...txt", "document.txt"),
    ("Überblick.md", "Überblick.md"),
    ("a\u202etxt.exe.txt", "a_txt.exe.txt"),  # right-to-left override
    ("CON.txt", "CON_.txt"),
    ("x" * 300 + ".txt", "x" * 80 + ".txt"),
])
def test_safe_name(original, expected):
    assert safe_name(original) == expected


@pytest.mark.parametrize("original", ["tool.exe", "archive.zip", "README", "photo.png"])
def test_unsupported_types_are_refused(original):
    with pytest.raises(BadRequest, match="cannot be indexed"):
        safe_name(original)


@pytest.fixture
def uploads(tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()

    def make(name: str, data: bytes):
        path = folder / name
        path.write_bytes(data)
        return path

    return make


def test_saves_into_the_source_folder(ui_settings_factory, uploads):
    settings = ui_settings_factory()
    result = save_uploads([uploads("new notes.txt", b"Zephyr station has 47 scientists.")], settings)
    assert result.saved == (Saved("new_notes.txt", "new notes.txt"),)
    assert (settings.source_dir / "new_notes.txt").read_bytes() == b"Zephyr station has 47 scientists."
    assert [p.name for p in settings.source_dir.iterdir()] == ["new_notes.txt"]  # no temp files left


def test_never_overwrites(ui_settings_factory, uploads):
    settings = ui_settings_factory()
    settings.source_dir.mkdir(parents=True)
    (settings.source_dir / "a.txt").write_bytes(b"old")
    same = save_uploads([uploads("a.txt", b"old")], settings)
    assert same.unchanged == ("a.txt",) and not same.saved
    other = save_uploads([uploads("a.txt", b"new")], settings)
    assert other.saved == (Saved("a-2.txt", "a.txt"),)
    assert (settings.source_dir / "a.txt").read_bytes() == b"old"
    assert (settings.source_dir / "a-2.txt").read_bytes() == b"new"


def test_rejections_say_why(ui_settings_factory, uploads):
    settings = ui_settings_factory(upload_max_mb=1)
    result = save_uploads([
        uploads("empty.txt", b""),
        uploads("big.txt", b"x" * (2**20 + 1)),
        uploads("fake.pdf", b"hello"),
        uploads("fake.docx", b"hello"),
        uploads("binary.txt", b"ab\x00cd"),
        uploads("tool.exe", b"MZ"),
        uploads("ok.md", b"# fine"),
    ], settings)
    reasons = {r.name: r.reason for r in result.rejected}
    assert set(reasons) == {"empty.txt", "big.txt", "fake.pdf", "fake.docx", "binary.txt", "tool.exe"}
    assert "empty" in reasons["empty.txt"]
    assert "limit is 1 MB" in reasons["big.txt"]
    assert "not a PDF" in reasons["fake.pdf"]
    assert "not a Word" in reasons["fake.docx"]
    assert "binary" in reasons["binary.txt"]
    assert ".exe cannot be indexed" in reasons["tool.exe"]
    assert [s.name for s in result.saved] == ["ok.md"]
    assert sorted(p.name for p in settings.source_dir.iterdir()) == ["ok.md"]
    assert isinstance(result.rejected[0], Rejected)


def test_real_pdf_and_utf16_text_are_accepted(ui_settings_factory, uploads):
    settings = ui_settings_factory()
    result = save_uploads([uploads("a.pdf", b"%PDF-1.7\n..."), uploads("u.txt", "hé".encode("utf-16"))],
                          settings)
    assert [s.name for s in result.saved] == ["a.pdf", "u.txt"] and not result.rejected
