"""Optimistic concurrency for everything people share and edit (stations, organizations, posts, categories):
no lost updates (issue 10, item 7).

A shared model inherits `Versioned` (a `version` counter). A page remembers the version it showed; the save
goes through `save_versioned`, which in one transaction runs `UPDATE ... SET version = version + 1 WHERE
pk = ? AND version = ?` and only then writes the fields. If another save got there first the UPDATE matches
no row and `Conflict` is raised, carrying the row as it is now and the other change(s), field by field, from
its history (django-simple-history), so the page can say who changed what, when, and keep what the user
typed. On PostgreSQL the conditional UPDATE takes the row lock: a concurrent save waits, then sees the new
version and fails; on SQLite writers are serialized (`transaction_mode=IMMEDIATE`), with the same outcome.
The demands app does the same for demands (`demands.services._locked_change`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django import forms
from django.db import models, router, transaction
from django.db.models import F
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .errors import XinyeError

#: fields never shown as "the other change"
_NOT_SHOWN = {"version", "updated_at", "created_at", "h3_cell"}


class Versioned(models.Model):
    """A `version` counter. Every save of an existing row is checked: it goes through only if the row is
    still at the version this instance holds (the one it was read at, or the one `save_versioned` was
    given), and bumps it; else `Conflict`. So no code path can overwrite a change it has not seen."""

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._state.adding or self.pk is None or kwargs.get("force_insert"):
            return super().save(*args, **kwargs)
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            self.version = claim_version(type(self), self.pk, self.version, using=using)
            if kwargs.get("update_fields") is not None:
                fields = {*kwargs["update_fields"], "version"}
                if any(f.name == "updated_at" for f in self._meta.concrete_fields):
                    fields.add("updated_at")
                kwargs["update_fields"] = fields
            return super().save(*args, **kwargs)


@dataclass
class Change:
    """One saved change by someone else: who, when, why, and each field's old -> new value."""

    who: str
    when: dt.datetime | None
    reason: str
    version: int
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (label, old, new)


class Conflict(XinyeError):
    """A save started from `expected` but the row is now at `current.version` (or gone: `current` None)."""

    def __init__(self, model, pk, expected: int, current, changes: list[Change]):
        self.model, self.pk, self.expected, self.current, self.changes = model, pk, expected, current, changes
        super().__init__(conflict_message(model, current, changes))


def conflict_message(model, current, changes: list[Change]) -> str:
    what = str(model._meta.verbose_name)
    if current is None:
        return gettext("This %(what)s was deleted by someone else while you were editing it.") % {"what": what}
    last = changes[-1] if changes else None
    if last is None:
        return gettext("Someone else saved this %(what)s while you were editing it; your values were not saved.") % {
            "what": what
        }
    return gettext(
        "%(who)s saved this %(what)s at %(when)s while you were editing it; your values were not saved. "
        "Their change is shown; your values are kept in the form: check them and save again to keep them."
    ) % {"who": last.who, "what": what, "when": _when(last.when)}


def _when(value) -> str:
    from django.utils import timezone

    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else "?"


def _display(model, name: str, value) -> str:
    if value is None or value == "":
        return "—"
    try:
        f = model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - a history-only field
        return str(value)
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if f.is_relation and f.related_model is not None:
        obj = f.related_model._base_manager.filter(pk=value).first()
        return str(obj) if obj is not None else str(value)
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def _label(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001
        return name


def changes_since(obj, version: int) -> list[Change]:
    """The history records of `obj` after `version`, oldest first, each compared with the one before."""
    history = getattr(obj, "history", None)
    if history is None:
        return []
    model = type(obj)
    records = list(history.filter(version__gte=version).select_related("history_user").order_by("history_date"))
    out: list[Change] = []
    previous = None
    for rec in records:
        if rec.version <= version:
            previous = rec
            continue
        prev = previous or rec.prev_record
        changes: list[tuple[str, str, str]] = []
        if prev is not None:
            delta = rec.diff_against(prev)
            for c in delta.changes:
                if c.field in _NOT_SHOWN:
                    continue
                changes.append(
                    (_label(model, c.field), _display(model, c.field, c.old), _display(model, c.field, c.new))
                )
        user = rec.history_user
        who = (user.get_full_name() or user.get_username()) if user is not None else gettext("someone")
        out.append(Change(who, rec.history_date, rec.history_change_reason or "", rec.version, changes))
        previous = rec
    return out


def conflict_for(model, pk, expected: int) -> Conflict:
    current = model._base_manager.filter(pk=pk).first()
    changes = changes_since(current, expected) if current is not None else []
    return Conflict(model, pk, expected, current, changes)


def claim_version(model, pk, expected: int, *, using: str = "default") -> int:
    """Inside a transaction: bump the row from `expected` to `expected + 1` or raise Conflict. The row stays
    locked (PostgreSQL) or the database write-locked (SQLite) until the transaction ends."""
    n = model._base_manager.using(using).filter(pk=pk, version=expected).update(version=F("version") + 1)
    if n != 1:
        raise conflict_for(model, pk, expected)
    return expected + 1


def save_versioned(instance, *, expected_version: int | None, update_fields=None) -> None:
    """Save `instance` (changed in memory) only if its row is still at `expected_version` (None: the version
    the instance holds); bump the version. A new row (no pk) is simply created. Conflict otherwise."""
    if expected_version is not None and not (instance.pk is None or instance._state.adding):
        instance.version = int(expected_version)
    instance.save(update_fields=update_fields)


def update_versioned(model, pk, expected_version: int, *, reason: str = "", user=None, **changes):
    """Set `changes` on row `pk` of `model` if it is still at `expected_version` (else Conflict); return it."""
    with transaction.atomic():
        obj = model._base_manager.select_for_update().filter(pk=pk).first()
        if obj is None:
            raise conflict_for(model, pk, expected_version)
        for name, value in changes.items():
            setattr(obj, name, value)
        if reason:
            obj._change_reason = reason
        if user is not None:
            obj._history_user = user
        save_versioned(obj, expected_version=expected_version)
    return obj


def conflict_in_form(form, exc: Conflict) -> Conflict:
    """Show a Conflict on a bound form: the message as a form error, and the version field set to the row's
    current version, so that saving again (after looking at the other change) keeps the user's values."""
    form.add_error(None, str(exc))
    if exc.current is not None and "version" in form.fields:
        form.data = form.data.copy()
        form.data[form.add_prefix("version")] = str(exc.current.version)
    return exc


def conflict_text(exc: Conflict) -> str:
    """The conflict message followed by the other change(s) field by field, as plain text (admin pages)."""
    lines = [str(exc)]
    for c in exc.changes:
        detail = "; ".join(f"{label}: {old} → {new}" for label, old, new in c.fields)
        lines.append(f"{c.who} {_when(c.when)}: {detail or '—'}")
    return "\n".join(lines)


class VersionedModelForm(forms.ModelForm):
    """A ModelForm for a Versioned model: a hidden `base_version` (the version the form was opened on); a stale form
    is refused in `clean()` with the other change, the version field moved on so that saving again keeps
    the user's values. The save itself is checked again atomically (Versioned.save)."""

    #: not named `version`: the admin refuses a form field named like a non-editable model field
    base_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["base_version"] = self.instance.version
            self.fields["base_version"].required = True

    def clean(self):
        data = super().clean()
        expected = data.get("base_version")
        if self.instance.pk is not None and expected is not None:
            current = type(self.instance)._base_manager.filter(pk=self.instance.pk).values_list("version", flat=True)
            now = current.first()
            if now != expected:
                exc = conflict_for(type(self.instance), self.instance.pk, expected)
                self.conflict = exc
                if now is not None:
                    self.data = self.data.copy()
                    self.data[self.add_prefix("base_version")] = str(now)
                raise forms.ValidationError(conflict_text(exc), code="conflict")
        return data

    def save(self, commit=True):
        expected = self.cleaned_data.get("base_version")
        if expected is not None and self.instance.pk is not None:
            self.instance.version = expected
        return super().save(commit=commit)
