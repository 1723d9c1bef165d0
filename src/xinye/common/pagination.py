"""API pagination (its own module: DRF imports it while loading its settings)."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """limit/offset pagination with bounds: at most 1,000 rows a page, offsets a database can hold. A limit or
    offset that is not a whole number in range is a 400, not silently the default."""

    max_limit = 1000
    max_offset = 10**9

    def _param(self, request, name: str, minimum: int, maximum: int) -> int | None:
        values = request.query_params.getlist(name)
        if not values:
            return None
        if len(values) > 1:
            raise ValidationError({name: [_("Give this parameter once.")]})
        raw = values[0]
        if not (raw.isascii() and raw.isdigit()) or not minimum <= int(raw) <= maximum:
            raise ValidationError({name: [_("A whole number from %(lo)d to %(hi)d.") % {"lo": minimum, "hi": maximum}]})
        return int(raw)

    def get_limit(self, request) -> int:
        value = self._param(request, self.limit_query_param, 1, self.max_limit)
        return self.default_limit if value is None else value

    def get_offset(self, request) -> int:
        value = self._param(request, self.offset_query_param, 0, self.max_offset)
        return 0 if value is None else value

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        for p in params:
            if p["name"] == self.limit_query_param:
                p["schema"].update(minimum=1, maximum=self.max_limit)
            elif p["name"] == self.offset_query_param:
                p["schema"].update(minimum=0, maximum=self.max_offset)
        return params
