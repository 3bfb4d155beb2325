"""PDFs built in the tests (fpdf2, a test dependency), for the loaders and end-to-end tests.

pypdf extracts the safety manual's pages as (the table one row per line, cells by spaces)::

    1  "Site Safety Manual\nThis manual sets out the safety rules that apply at every site
       of the company. Read it before your\nfirst shift and keep it at hand."
    2  "Incident summary\nIn 2023 there were 14 minor injuries and 2 serious injuries across all sites."
    3  "Injuries by year\nYear Minor Serious Fatal\n2021 25 4 1\n2022 21 3 0\n2023 14 2 0"
"""
from __future__ import annotations

from pathlib import Path

INTRO = ("This manual sets out the safety rules that apply at every site of the company. "
         "Read it before your first shift and keep it at hand.")
SENTENCE = "In 2023 there were 14 minor injuries and 2 serious injuries across all sites."
TABLE_TITLE = "Injuries by year"
TABLE = (("Year", "Minor", "Serious", "Fatal"),
         ("2021", "25", "4", "1"),
         ("2022", "21", "3", "0"),
         ("2023", "14", "2", "0"))


def safety_manual_pdf(path: Path) -> Path:
    """Write a 3-page safety manual to ``path``: page 1 an introduction, page 2 the
    sentence :data:`SENTENCE`, page 3 the table :data:`TABLE` titled "Injuries by year"."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "Site Safety Manual\n" + INTRO)
    pdf.add_page()
    pdf.multi_cell(0, 8, "Incident summary\n" + SENTENCE)
    pdf.add_page()
    pdf.multi_cell(0, 8, TABLE_TITLE)
    with pdf.table() as table:
        for cells in TABLE:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def damaged_pdf(path: Path) -> Path:
    """The safety manual with a wrong ``startxref`` pointer: pypdf repairs it (and warns)."""
    safety_manual_pdf(path)
    data = path.read_bytes()
    cut = data.rindex(b"startxref")
    path.write_bytes(data[:cut] + b"startxref\n99\n%%EOF\n")
    return path
