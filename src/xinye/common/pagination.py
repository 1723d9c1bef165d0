"""API pagination (its own module: DRF imports it while loading its settings)."""

from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """limit/offset pagination with bounds: at most 1,000 rows a page, offsets a database can hold."""

    max_limit = 1000
    max_offset = 10**9

    def get_offset(self, request) -> int:
        return min(super().get_offset(request), self.max_offset)
