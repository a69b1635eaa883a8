"""PDF documents (ReportLab) every statement is made of: a titled document of headings, paragraphs and grid tables.

Shared by the trust's and investors' statements (remittance.statement_pdf) and the borrowers' statements
(servicing.borrower_statement_pdf), which sit in apps that do not import each other: so it lives in the lowest
app. Values in, bytes out; no database. (Not under domain/: ReportLab has no type hints for the strict checks
the domain packages take.)
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import landscape, letter
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

STYLES = getSampleStyleSheet()
_GRID = TableStyle([
    ("FONT", (0, 0), (-1, -1), "Helvetica", 7), ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7),
    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
    ("ALIGN", (1, 1), (-1, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "TOP"),
])


def pdf_table(rows: Sequence[Sequence[object]]) -> Table:
    """A grid table, its first row the header (repeated on each page), amounts right-aligned."""
    table = Table([[str(cell) for cell in row] for row in rows], repeatRows=1, hAlign="LEFT")
    table.setStyle(_GRID)
    return table


def pdf_heading(text: str) -> list[Any]:
    return [Spacer(1, 0.12 * inch), Paragraph(text, STYLES["Heading3"])]


def pdf_paragraph(text: str) -> Paragraph:
    return Paragraph(text, STYLES["Normal"])


def pdf_gap() -> Spacer:
    return Spacer(1, 0.05 * inch)


def pdf_document(title: str, story: list[Any], *, wide: bool = True) -> bytes:
    """The document's bytes: its title, then the story (landscape letter when `wide`, else portrait)."""
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(letter) if wide else letter, title=title,
                            leftMargin=0.5 * inch, rightMargin=0.5 * inch, topMargin=0.5 * inch,
                            bottomMargin=0.5 * inch)
    doc.build([Paragraph(title, STYLES["Title"]), *story])
    return out.getvalue()
