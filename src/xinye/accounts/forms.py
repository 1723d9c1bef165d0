from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from xinye.places.selectors import division_q

from . import policy
from .models import RoleKind
from .scope import Scope


class LoginForm(AuthenticationForm):
    """Django's login form; django-axes counts its failures and locks out after repeated ones."""


# ---------------------------------------------------------------- users and roles (issue 12, item 2)


def _divisions(scope: Scope):
    from xinye.places.models import Division, Level

    qs = Division.objects.exclude(level=Level.COMMUNITY).order_by("code")
    if not scope.is_admin:
        qs = qs.filter(_prefix_q(scope))
    return qs


def _prefix_q(scope: Scope):
    from django.db.models import Q

    q = Q(pk__in=[])
    for prefix in scope.division_prefixes:
        q |= Q(code__startswith=prefix)
    return q


def _organizations(scope: Scope):
    from django.db.models import Q

    from xinye.organizations.models import Organization

    qs = Organization.objects.filter(dissolved_on__isnull=True).select_related("division").order_by("name")
    if scope.is_admin:
        return qs
    q = Q(pk__in=scope.staff_org_ids) | division_q(scope, "division")
    if "secretary" in scope.roles:
        q |= Q(pk__in=scope.org_ids)
    return qs.filter(q)


def _operator_names(scope: Scope) -> list[str]:
    from xinye.stations.models import Station

    if not scope.is_admin:
        return sorted(policy.operators_in_reach(scope))
    return sorted(set(Station.objects.exclude(operator_name="").values_list("operator_name", flat=True)))


class RoleForm(forms.Form):
    """A role to give (or a role's new kind and place): the kinds and places offered are those the acting user
    may give; whatever is posted is checked again by `policy.may_assign`."""

    kind = forms.ChoiceField(label=_("Role"))
    division = forms.ModelChoiceField(label=_("Division (organizers)"), queryset=None, required=False)
    organization = forms.ModelChoiceField(
        label=_("Organization (staff, secretaries, members)"), queryset=None, required=False
    )
    operator_name = forms.CharField(label=_("Station operator (operators)"), max_length=200, required=False)

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = scope
        self.fields["kind"].choices = [(k, RoleKind(k).label) for k in policy.assignable_kinds(scope)]
        self.fields["division"].queryset = _divisions(scope)
        self.fields["organization"].queryset = _organizations(scope)
        self.operator_names = _operator_names(scope)

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if not kind:
            return data
        need = {
            RoleKind.ORGANIZER: "division",
            RoleKind.ORG_STAFF: "organization",
            RoleKind.SECRETARY: "organization",
            RoleKind.MEMBER: "organization",
            RoleKind.STATION_OPERATOR: "operator_name",
        }.get(kind)
        if need and not data.get(need):
            self.add_error(need, _("This role needs this field."))
            return data
        if not policy.may_assign(
            self.scope,
            kind,
            division=data.get("division"),
            organization=data.get("organization"),
            operator_name=data.get("operator_name") or "",
        ):
            self.add_error(need or "kind", _("You may not give this role there."))
        return data

    def spec(self):
        from .users import RoleSpec

        d = self.cleaned_data
        return RoleSpec(d["kind"], d.get("division"), d.get("organization"), d.get("operator_name") or "")


class InviteForm(RoleForm):
    username = forms.RegexField(
        label=_("User name"),
        max_length=150,
        regex=r"^[\w.@+-]+\Z",
        error_messages={"invalid": _("Letters, digits and @ . + - _ only.")},
    )
    full_name = forms.CharField(label=_("Name"), max_length=150)
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)

    field_order = ["username", "full_name", "email", "kind", "division", "organization", "operator_name"]

    def clean_username(self):
        name = self.cleaned_data["username"].strip()
        if get_user_model().objects.filter(username__iexact=name).exists():
            raise forms.ValidationError(_("This user name is taken."))
        return name
