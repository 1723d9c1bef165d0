"""The station form: coordinates entered in WGS-84, GCJ-02 (Amap, Tencent) or BD-09 (Baidu) and stored as
WGS-84; amenities from the standard list plus custom ones; opening hours checked by opening-hours-py."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from xinye.algorithms import geo
from xinye.algorithms.errors import InputError
from xinye.common.concurrency import save_versioned
from xinye.common.forms import IsoDateField
from xinye.places.models import Division, Level

from . import registry
from .hours import humanize
from .models import Amenity, Station
from .services import opening_hours_check

CRS_LABELS = [
    ("wgs84", _("WGS-84 (GPS)")),
    ("gcj02", _("GCJ-02 (Amap, Tencent)")),
    ("bd09", _("BD-09 (Baidu)")),
]


class StationForm(forms.ModelForm):
    crs = forms.ChoiceField(label=_("coordinate system"), choices=CRS_LABELS, initial="wgs84")
    standard_amenities = forms.MultipleChoiceField(
        label=_("amenities"), choices=Amenity.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    custom_amenities = forms.CharField(
        label=_("other amenities"), required=False, help_text=_("separated by semicolons, e.g. 充电宝;雨具")
    )
    community = forms.CharField(
        label=_("community code"), required=False, help_text=_("12 digits; empty: the nearest community")
    )
    #: the version of the station the form was opened on (a stale save is refused: common.concurrency)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    class Meta:
        model = Station
        fields = [
            "name",
            "kind",
            "operator_name",
            "lat",
            "lon",
            "opening_hours",
            "capacity",
            "contact_phone",
            "address",
            "status",
            "verified_on",
        ]
        field_classes = {"verified_on": IsoDateField}  # ISO in the picker, whatever the language
        help_texts = {"opening_hours": _("OpenStreetMap syntax, e.g. 24/7 or Mo-Fr 08:00-20:00; PH off")}

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = scope
        s = self.instance
        if s.pk:
            self.initial["standard_amenities"] = [a for a in s.amenities if a in Amenity.values]
            custom = [a for a in s.amenities if a not in Amenity.values]
            self.initial["custom_amenities"] = registry.amenity_text(custom)
            self.initial["community"] = s.division.code if s.division_id else ""
            self.initial["version"] = s.version
            self.fields["version"].required = True
            self.fields["version"].error_messages["required"] = _(
                "This form is out of date (it has no version): reload the page and enter your change again."
            )
        if scope.operator_names and not scope.is_admin and not scope.division_prefixes:
            # an operator's stations carry their own name
            self.fields["operator_name"] = forms.ChoiceField(
                label=_("operator"), choices=[(n, n) for n in scope.operator_names]
            )
        if self.instance.pk and self.instance.opening_hours:
            # the raw syntax is edited here only; show how it reads to workers
            self.fields["opening_hours"].help_text = format_lazy(
                "{} — {}: {}",
                self.fields["opening_hours"].help_text,
                _("reads as"),
                humanize(self.instance.opening_hours, get_language() or "en"),
            )
        for name in ("lat", "lon"):
            self.fields[name].widget.attrs.update(step="any", inputmode="decimal")

    def clean_opening_hours(self):
        value = self.cleaned_data["opening_hours"].strip()
        try:
            opening_hours_check(value)
        except InputError as exc:
            # the parser's own message is English; the worker-facing text names the value and shows examples
            raise forms.ValidationError(
                _("“%(value)s” is not valid opening hours. Examples: 24/7 or Mo-Fr 08:00-20:00; PH off"),
                params={"value": value},
            ) from exc
        return value

    def clean_community(self):
        code = self.cleaned_data["community"].strip()
        if not code:
            return None
        d = Division.objects.filter(code=code, level=Level.COMMUNITY).first()
        if d is None:
            raise forms.ValidationError(_("No community has the code %(code)s."), params={"code": code})
        return d

    def clean(self):
        data = super().clean()
        lat, lon = data.get("lat"), data.get("lon")
        if lat is not None and lon is not None:
            try:
                data["lat"], data["lon"] = geo.to_wgs84(lat, lon, data.get("crs") or "wgs84")
            except geo.CoordinateError as exc:
                self.add_error("lat", str(exc))
        custom, problems = registry.parse_amenities(data.get("custom_amenities", ""))
        for p in problems:
            self.add_error("custom_amenities", p)
        data["amenities"] = list(data.get("standard_amenities") or []) + [
            a for a in custom if a not in (data.get("standard_amenities") or [])
        ]
        return data

    def save(self, commit=True):
        s = super().save(commit=False)
        d = self.cleaned_data
        s.lat, s.lon = d["lat"], d["lon"]
        s.h3_cell = geo.h3_cell(s.lat, s.lon, registry.STATION_CELL_RESOLUTION)
        s.amenities = d["amenities"]
        s.division = d.get("community") or registry.locate_community(s.lat, s.lon)
        if not s.pk and not s.operator_company_id and len(self.scope.staff_company_ids) == 1:
            s.operator_company_id = next(iter(self.scope.staff_company_ids))
        if commit:
            save_versioned(s, expected_version=self.cleaned_data.get("version"))
        return s
