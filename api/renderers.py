"""CSV and PDF for the statements and the remittance report (?format=csv|pdf, or Accept: text/csv|application/pdf)."""
from rest_framework.renderers import BaseRenderer


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # The views hand over the finished text (the reports module writes the CSV).
        return data.encode(self.charset) if isinstance(data, str) else b""


class PDFRenderer(BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None  # binary

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # The views hand over the finished document (remittance.statement_pdf); an error's body is JSON-less.
        return data if isinstance(data, bytes) else b""
