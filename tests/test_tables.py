"""Tables: one row per line in the loaded text (HTML, DOCX, Markdown, pypdf's layout), each
row one sentence span, and qa.tables.find_cell reading a cell by its row label and column
header. Documents are built in tmp_path and loaded by the real loaders."""
from __future__ import annotations

import pytest

from index.loaders import load_documents
from index.sentences import sentence_spans
from qa.tables import TableCell, find_cell
from qa.types import Passage

from .pdfs import safety_manual_pdf

ROWS = [("Year", "Minor", "Serious", "Fatal"), ("2021", "25", "4", "1"), ("2022", "21", "3", "0"),
        ("2023", "14", "2", "0")]
PIPE_ROWS = [" | ".join(r) for r in ROWS]
QUESTION = "How many minor injuries were there in 2022?"

HTML = (
    "<html><head><title>Injury report</title><style>td { color: red }</style></head><body>"
    "<h1>Injury report</h1><p>The table lists the injuries of each year.</p>"
    "<table><caption>Injuries by year</caption>"
    "<thead><tr>" + "".join(f"<th>{c}</th>" for c in ROWS[0]) + "</tr></thead><tbody>"
    + "".join("<tr>" + "".join(f"<td> {c}\n</td>" for c in r) + "</tr>" for r in ROWS[1:])
    + "</tbody></table><p>Figures are reviewed every spring.</p></body></html>"
)
MARKDOWN = (
    "# Injury report\n\nThe table lists the injuries of each year.\n\n"
    "| Year | Minor | Serious | Fatal |\n|------|------:|:-------:|-------|\n"
    + "".join(f"| {' | '.join(r)} |\n" for r in ROWS[1:])
    + "\nFigures are reviewed every spring.\n"
)


def _load(path):
    result = load_documents(path)
    assert len(result.documents) == 1, result.skipped
    return result.documents[0]


def _passage(doc, rank: int = 1) -> Passage:
    return Passage(rank=rank, chunk_id=f"c{rank}", source=doc.source, title=doc.title, text=doc.text,
                   start=0, end=len(doc.text), score=1.0)


def _docx(path):
    import docx

    d = docx.Document()
    d.add_heading("Injury report", 1)
    d.add_paragraph("The table lists the injuries of each year.")
    table = d.add_table(rows=0, cols=4)
    for r in ROWS:
        for cell, value in zip(table.add_row().cells, r):
            cell.text = value
    d.add_paragraph("Figures are reviewed every spring.")
    d.save(str(path))
    return path


def _spans(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


# ---- loaders: one row per line, each row one span ------------------------------------------
def test_html_table_is_one_row_per_line_header_first(tmp_path):
    path = tmp_path / "report.html"
    path.write_text(HTML)
    doc = _load(path)
    assert "Injuries by year\n" + "\n".join(PIPE_ROWS) + "\n\nFigures" in doc.text
    spans = _spans(doc.text)
    assert all(row in spans for row in PIPE_ROWS)  # a row is quoted whole, at exact offsets
    assert "Injuries by year" in spans and "td {" not in doc.text


def test_docx_table_is_one_row_per_line(tmp_path):
    doc = _load(_docx(tmp_path / "report.docx"))
    assert doc.text == ("Injury report\n\nThe table lists the injuries of each year.\n\n"
                        + "\n".join(PIPE_ROWS) + "\n\nFigures are reviewed every spring.")
    assert all(row in _spans(doc.text) for row in PIPE_ROWS)


def test_docx_cells_with_several_paragraphs_and_nested_tables_stay_on_their_row(tmp_path):
    import docx

    d = docx.Document()
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Site", "Notes"
    table.cell(1, 0).text = "North"
    notes = table.cell(1, 1)
    notes.text = "Two falls."
    notes.add_paragraph("One burn.")
    inner = notes.add_table(rows=1, cols=2)
    inner.cell(0, 0).text, inner.cell(0, 1).text = "a", "b"
    d.save(str(tmp_path / "n.docx"))
    assert _load(tmp_path / "n.docx").text == "Site | Notes\nNorth | Two falls. One burn. a b"


def test_markdown_pipe_table_is_kept_verbatim(tmp_path):
    path = tmp_path / "report.md"
    path.write_text(MARKDOWN)
    doc = _load(path)
    assert doc.text == MARKDOWN
    spans = _spans(doc.text)
    assert all(f"| {' | '.join(r)} |" in spans for r in ROWS)


def test_pypdf_rows_stay_one_per_line_and_one_span_each(tmp_path):
    doc = _load(safety_manual_pdf(tmp_path / "manual.pdf"))
    assert "Injuries by year\nYear Minor Serious Fatal\n2021 25 4 1\n2022 21 3 0\n2023 14 2 0" in doc.text
    spans = _spans(doc.text)
    assert {"Year Minor Serious Fatal", "2021 25 4 1", "2022 21 3 0", "2023 14 2 0"} <= set(spans)


@pytest.mark.parametrize("text, rows", [
    ("Tallies for the long summer season across every northern site\n2022\t21\t3\n2023\t14\t2\n",
     ["2022\t21\t3", "2023\t14\t2"]),
    ("U.S. Army | 3 | 4\nU.K. Navy | 5 | 6", ["U.S. Army | 3 | 4", "U.K. Navy | 5 | 6"]),
    ("The figures for the whole region, including the two outlying depots 2021 25 4 1\nnext line",
     ["The figures for the whole region, including the two outlying depots 2021 25 4 1"]),
])
def test_rows_split_one_span_per_line(text, rows):
    spans = _spans(text)
    assert all(r in spans for r in rows), spans


# ---- find_cell ------------------------------------------------------------------------------
def _check(cell: TableCell | None, text: str, label: str, header: str) -> TableCell:
    assert cell is not None
    doc = cell.passage.text  # the passages here start at offset 0
    assert (cell.text, cell.label, cell.header) == (text, label, header)
    assert doc[cell.start:cell.end] == cell.text
    row = doc[cell.row_start:cell.row_end]
    assert cell.row_start <= cell.start < cell.end <= cell.row_end and "\n" not in row
    return cell


@pytest.mark.parametrize("make", ["html", "md", "docx", "pdf"])
def test_find_cell_reads_row_label_and_column_header(tmp_path, make):
    if make == "html":
        (tmp_path / "r.html").write_text(HTML)
        doc = _load(tmp_path / "r.html")
    elif make == "md":
        (tmp_path / "r.md").write_text(MARKDOWN)
        doc = _load(tmp_path / "r.md")
    elif make == "docx":
        doc = _load(_docx(tmp_path / "r.docx"))
    else:
        doc = _load(safety_manual_pdf(tmp_path / "r.pdf"))
    p = _passage(doc)
    cell = _check(find_cell(QUESTION, [p]), "21", "2022", "Minor")
    assert doc.text[cell.row_start:cell.row_end].strip("| ").startswith("2022")  # the quote is the row
    _check(find_cell("How many serious injuries happened in 2021?", [p]), "4", "2021", "Serious")
    _check(find_cell("Fatal injuries in 2023", [p]), "0", "2023", "Fatal")
    # the pdf's page 2 sentence gives 2023's figures in prose; the cell is still read from the table
    _check(find_cell("How many minor injuries were there in 2023?", [p]), "14", "2023", "Minor")


@pytest.mark.parametrize("question", [
    "How many minor injuries were there in 2020?",  # a year the table does not cover
    "How many injuries were there in 2022?",  # no column named
    "How many burns were there in 2022?",  # a column the table does not have
    "How many minor injuries were there in 2022 and 2023?",  # two cells, not one
    "How many minor injuries were there?",  # no row named
    "What is the Year?",
])
def test_find_cell_does_not_guess(question):
    p = Passage(1, "c", "doc", "T", "\n".join(PIPE_ROWS), 0, 0, 1.0)
    assert find_cell(question, [p]) is None


def test_find_cell_transposed_years_as_column_headers():
    text = ("Injuries by type\nInjury type | 2021 | 2022 | 2023\nMinor injuries | 25 | 21 | 14\n"
            "Serious injuries | 4 | 3 | 2")
    p = Passage(1, "c", "doc", "T", text, 0, len(text), 1.0)
    _check(find_cell(QUESTION, [p]), "21", "Minor injuries", "2022")
    _check(find_cell("serious injuries 2023", [p]), "2", "Serious injuries", "2023")
    assert find_cell("How many fatal injuries were there in 2022?", [p]) is None
    assert find_cell("How many injuries were there in 2022?", [p]) is None  # which kind?


def test_find_cell_transposed_pypdf_layout():
    text = "Injury type 2021 2022 2023\nMinor 25 21 14\nSerious 4 3 2"
    p = Passage(1, "c", "doc", "T", text, 0, len(text), 1.0)
    _check(find_cell(QUESTION, [p]), "21", "Minor", "2022")


def test_find_cell_quarters_names_and_document_offsets():
    text = ("Results\nQuarter | Revenue | Net income\nQ1 2021 | $10.4 bn | $0.4 bn\n"
            "Q1 2022 | $18.8 bn | $3.3 bn\n\nSite | Minor | Serious\nSite A | 3 | 1\nSite B | 5 | 0")
    p = Passage(2, "c", "doc", "T", text, 1000, 1000 + len(text), 1.0)  # offsets are the document's
    cell = find_cell("What was Tesla's revenue in Q1 2021?", [p])
    assert cell is not None and cell.text == "$10.4 bn" and text[cell.start - 1000:cell.end - 1000] == "$10.4 bn"
    assert text[cell.row_start - 1000:cell.row_end - 1000] == "Q1 2021 | $10.4 bn | $0.4 bn"
    assert find_cell("What was the net income in the first quarter of 2022?", [p]).text == "$3.3 bn"
    assert find_cell("What was the revenue in 2021?", [p]) is None  # a quarter is not the year
    assert find_cell("How many minor injuries were there at Site B?", [p]).text == "5"
    assert find_cell("How many minor injuries were there at Site C?", [p]) is None


def test_find_cell_needs_the_header_in_the_passage():
    text = "2022 | 21 | 3 | 0\n2023 | 14 | 2 | 0"  # the table's top is in another chunk
    assert find_cell(QUESTION, [Passage(1, "c", "doc", "T", text, 0, len(text), 1.0)]) is None


def test_find_cell_without_tables_or_with_two_equal_answers():
    prose = "In 2022 there were 21 minor injuries. In 2023 there were 14."
    assert find_cell(QUESTION, [Passage(1, "c", "a", "T", prose, 0, len(prose), 1.0)]) is None
    one = "\n".join(PIPE_ROWS)
    other = one.replace("| 21 |", "| 22 |")
    ps = [Passage(1, "a", "a", "T", one, 0, len(one), 1.0), Passage(2, "b", "b", "T", other, 0, len(other), 0.9)]
    assert find_cell(QUESTION, ps) is None  # two documents disagree: no guessing
    same = [ps[0], Passage(2, "b", "b", "T", one, 0, len(one), 0.9)]
    assert find_cell(QUESTION, same).passage.rank == 1


ONE_COLUMN = ("Table 1: Posterior model estimates of percentage of total population infected as of 28th March 2020.\n\n"
              "Country % of total population infected (mean [95% credible interval])\n"
              "Austria 1.1% [0.36%-3.1%]\nBelgium 3.7% [1.3%-9.7%]\nUnited Kingdom 2.7% [1.2%-5.4%]\n\n"
              "2.2 Reproduction numbers")


def test_find_cell_one_column_named_by_its_header_line():
    # pypdf's layout of a one-column table: a label, a value with its interval (one cell)
    p = Passage(1, "c", "doc", "T", ONE_COLUMN, 0, len(ONE_COLUMN), 1.0)
    q = "What is {}'s estimated mean percentage [95% credible interval] of total population infected as of 28th March?"
    _check(find_cell(q.format("Austria"), [p]), "1.1% [0.36%-3.1%]", "Austria", "")
    _check(find_cell(q.format("United Kingdom"), [p]), "2.7% [1.2%-5.4%]", "United Kingdom", "")
    assert find_cell(q.format("Denmark"), [p]) is None  # a row the table does not have
    assert find_cell("What is Austria's estimate?", [p]) is None  # the column is not named
    assert find_cell(q.format("Austria").replace("28th March", "April"), [p]) is None  # another month
