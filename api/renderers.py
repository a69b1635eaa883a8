"""CSV for the statement and the remittance report (?format=csv or Accept: text/csv)."""
from rest_framework.renderers import BaseRenderer


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # The views hand over the finished text (the reports module writes the CSV).
        return data.encode(self.charset) if isinstance(data, str) else b""
