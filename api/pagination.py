"""Pagination: page numbers for every list, a cursor for the event log (which only grows)."""
from rest_framework.pagination import CursorPagination, PageNumberPagination


class PageNumber(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class LogCursor(CursorPagination):
    """The log in position order; a cursor stays correct while events are appended behind it."""

    ordering = "position"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
