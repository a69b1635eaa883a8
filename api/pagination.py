"""Pagination: page numbers for every list, a cursor for the event log (which only grows)."""
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from rest_framework.pagination import CursorPagination, PageNumberPagination

MAX_OFFSET = 2**63 - 1  # a 64-bit signed integer: the largest LIMIT/OFFSET PostgreSQL and SQLite take


class CountWhenNeededPaginator(Paginator):
    """Django's paginator, without the COUNT(*) when the page itself gives the total.

    The page's rows are read first. A page shorter than the page size is the
    last one, so the total is the rows before it plus its own: most lists (an
    investor's distributions, a deal's classes) fit in their first page and
    cost one query, not two. Only a full page leaves the total unknown; it is
    then counted as Django does, when the answer asks for it. Pages, errors
    and totals are Django's: a page past the end is still EmptyPage (a 404).
    """

    def page(self, number):
        if self.orphans:
            return super().page(number)  # orphans move rows between pages: Django's way, count first
        number = self._page_number(number)
        bottom = (number - 1) * self.per_page
        if bottom + self.per_page > MAX_OFFSET:
            # An OFFSET the database cannot even hold (?page=10**20): Django counts, and answers EmptyPage.
            return super().page(number)
        rows = list(self.object_list[bottom:bottom + self.per_page])
        if (rows and len(rows) < self.per_page) or (not rows and number == 1):
            self.__dict__["count"] = bottom + len(rows)  # fills the cached_property: no COUNT(*)
        if not rows and (number > 1 or not self.allow_empty_first_page):
            raise EmptyPage(self.error_messages["no_results"])
        return self._get_page(rows, number, self)

    def _page_number(self, number) -> int:
        """validate_number's checks that need no total: an integer, at least 1."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number


class PageNumber(PageNumberPagination):
    django_paginator_class = CountWhenNeededPaginator
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class LogCursor(CursorPagination):
    """The log in position order; a cursor stays correct while events are appended behind it."""

    ordering = "position"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
