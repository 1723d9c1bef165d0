"""`GET /api/indicators/`: a division's indicators as the caller may see them (the same figures as the page, the
same policy: outside the caller's area a hidden figure's counts are null), with their monthly series
and definitions."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from xinye.accounts import policy
from xinye.accounts.scope import request_scope
from xinye.common.api import LabelField, query_params
from xinye.people.models import Occupation
from xinye.places.models import Division

from . import selectors
from .indicators import INDICATORS, indicator_get


class IndicatorQuery(serializers.Serializer):
    division = serializers.RegexField(
        r"^(?:[0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9})?$",
        required=False,
        allow_blank=True,
        help_text="statistical code of a province (2 digits), city (4), district (6) or street (9); empty: the "
        "whole country; default: the caller's own division",
    )
    platform = serializers.IntegerField(required=False, min_value=1, help_text="a platform company's id")
    occupation = serializers.ChoiceField(choices=Occupation.choices, required=False)
    indicator = serializers.ChoiceField(
        choices=[i.code for i in INDICATORS], required=False, help_text="the indicator given for the divisions below"
    )


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "nullable": True,
        "description": "a count; null: hidden (outside the caller's area) or not counted",
    }
)
class CountField(serializers.Field):
    def to_representation(self, value):
        return value


class PointSerializer(serializers.Serializer):
    period = serializers.DateField(help_text="the first day of the month")
    value = serializers.FloatField(allow_null=True, help_text="null: nothing counted, or not shown to the caller")


class FigureSerializer(serializers.Serializer):
    indicator = serializers.CharField(source="indicator.code")
    indicator_label = serializers.SerializerMethodField(help_text="the indicator's name in the request's language")
    numerator = CountField()
    denominator = CountField()
    value = serializers.FloatField(allow_null=True)
    counted = serializers.BooleanField(help_text="false: the indicator is not counted by occupation")
    suppressed = serializers.BooleanField(help_text="the figure rests on a count the caller may not see")
    series = serializers.SerializerMethodField()

    def get_indicator_label(self, f) -> str:
        return f.indicator.text("label")

    @extend_schema_field(PointSerializer(many=True))
    def get_series(self, f):
        return [{"period": p, "value": v} for p, v in f.series]


class BelowSerializer(serializers.Serializer):
    code = serializers.CharField(source="division.code")
    name = serializers.CharField(source="division.name")
    figure = FigureSerializer()


class DefinitionSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    numerator = serializers.CharField()
    denominator = serializers.CharField()
    unit = serializers.ChoiceField(choices=["percent", "mean", "hours"])
    unit_label = serializers.CharField()
    source = serializers.CharField()
    explanation = serializers.CharField()
    by_occupation = serializers.BooleanField()


class IndicatorsSerializer(serializers.Serializer):
    division = serializers.CharField(allow_blank=True)
    name = serializers.CharField(allow_blank=True)
    access = serializers.ChoiceField(choices=[policy.INSIDE, policy.OUTSIDE])
    as_of = serializers.DateField()
    platform = serializers.IntegerField(allow_null=True)
    occupation = serializers.CharField(allow_blank=True)
    occupation_label = LabelField(Occupation, source="occupation", help_text="the occupation's label; empty: all")
    figures = FigureSerializer(many=True)
    indicator = serializers.CharField(help_text="the indicator given for the divisions below")
    below = BelowSerializer(many=True)
    definitions = DefinitionSerializer(many=True)


def definition(i) -> dict:
    return {
        "code": i.code,
        "label": i.text("label"),
        "numerator": i.text("numerator"),
        "denominator": i.text("denominator"),
        "unit": i.unit,
        "unit_label": i.unit_label,
        "source": i.text("source"),
        "explanation": i.text("explanation"),
        "by_occupation": i.by_occupation,
    }


class IndicatorView(APIView):
    """A division's indicators (administrators and organizers; a division out of the caller's reach is a 404)."""

    @extend_schema(parameters=[IndicatorQuery], responses=IndicatorsSerializer)
    def get(self, request):
        scope = request_scope(request)
        if not policy.may_read_indicators(scope):
            raise NotFound
        q = query_params(request, IndicatorQuery)
        code = q.get("division", selectors.default_division(scope))
        platform = q.get("platform")
        if platform is not None and platform not in {pk for pk, _n in selectors.platform_choices("")}:
            raise NotFound("no platform company with this id")  # like any other id that names nothing
        try:
            data = selectors.board(
                scope=scope,
                code=code,
                platform=platform,
                occupation=q.get("occupation", ""),
                chosen=indicator_get(q.get("indicator", "")),
            )
        except Division.DoesNotExist as exc:
            raise NotFound from exc
        body = {
            "division": code,
            "name": data["division"].name if data["division"] is not None else "",
            "access": data["access"],
            "as_of": data["as_of"],
            "platform": platform,
            "occupation": q.get("occupation", ""),
            "figures": data["figures"],
            "indicator": data["chosen"].code,
            "below": data["rows"],
            "definitions": [definition(i) for i in INDICATORS],
        }
        return Response(IndicatorsSerializer(body).data)
