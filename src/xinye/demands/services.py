"""Every write on demands: intake, routing, the workflow's transitions, merging, escalation and rating.

The workflow is a table (TRANSITIONS). Each change is one transaction that checks the version the actor
saw: when someone else changed the demand in between, StaleDemand is raised and nothing is written, so the
actor can reload and decide again (one wins, the other is told, nothing is lost).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from xinye.algorithms.errors import InputError, RowError, XinyeError
from xinye.organizations.models import Organization
from xinye.people.models import Membership

from .models import (
    OPEN_STATUSES,
    Attachment,
    BodyKind,
    Category,
    Channel,
    Demand,
    DemandEvent,
    DemandStatus,
    LiaisonPair,
    RoutingRule,
)

S = DemandStatus
#: who may move a demand from a status to which (handlers); the submitter may also reopen and close
TRANSITIONS: dict[str, frozenset[str]] = {
    S.SUBMITTED: frozenset({S.ACCEPTED, S.REJECTED}),
    S.ACCEPTED: frozenset({S.IN_PROGRESS, S.RESOLVED, S.REJECTED}),
    S.IN_PROGRESS: frozenset({S.RESOLVED, S.REJECTED}),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.CLOSED: frozenset({S.REOPENED}),
    S.REJECTED: frozenset({S.REOPENED}),
    S.REOPENED: frozenset({S.ACCEPTED, S.IN_PROGRESS, S.RESOLVED, S.REJECTED}),
    S.DUPLICATE: frozenset(),
}
#: statuses from which a demand can be merged into another (it becomes DUPLICATE)
MERGEABLE = frozenset(OPEN_STATUSES)
SUBMITTER_MAY = {S.RESOLVED: {S.CLOSED, S.REOPENED}, S.CLOSED: {S.REOPENED}, S.REJECTED: {S.REOPENED}}
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed on a phone
CODE_LENGTH = 10
MAX_DESCRIPTION = 4000
PHOTO_TYPES = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 3
PLACE_DECIMALS = 3  # about 100 m: a work area, not a position


class DemandError(XinyeError):
    """An action that is not allowed in the demand's current state."""


class StaleDemand(DemandError):
    """Someone else changed the demand after the actor loaded it; nothing was written."""


def new_tracking_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _event(
    demand: Demand,
    kind: str,
    *,
    actor=None,
    label: str = "",
    note: str = "",
    frm: str = "",
    to: str = "",
    public: bool = True,
    note_public: bool = True,
    now=None,
) -> DemandEvent:
    return DemandEvent.objects.create(
        demand=demand,
        kind=kind,
        actor=actor,
        actor_label=label[:40],
        note=note[:2000],
        from_status=frm,
        to_status=to,
        public=public,
        note_public=note_public,
        at=now or timezone.now(),
    )


# ---------------------------------------------------------------- attachments


@dataclass
class Photo:
    name: str
    data: bytes


def check_photos(photos: Iterable[Photo]) -> list[tuple[Photo, str, str, bytes]]:
    """Validate photos (JPEG, PNG or WebP, at most 5 MB, at most 3) and re-encode them without metadata
    (a phone photo's EXIF can hold the GPS position). Returns (photo, content type, extension, clean bytes);
    raises InputError naming the file."""
    from PIL import Image, UnidentifiedImageError

    photos = list(photos)
    errors: list[RowError] = []
    if len(photos) > MAX_PHOTOS:
        errors.append(RowError("photos", None, None, len(photos), f"at most {MAX_PHOTOS} photos"))
    out = []
    for p in photos[:MAX_PHOTOS]:
        if len(p.data) > MAX_PHOTO_BYTES:
            errors.append(RowError(p.name, None, None, None, f"larger than {MAX_PHOTO_BYTES // 1024 // 1024} MB"))
            continue
        try:
            with Image.open(io.BytesIO(p.data)) as im:
                fmt = im.format
                if fmt not in PHOTO_TYPES:
                    raise UnidentifiedImageError(fmt)
                im.load()
                if im.width * im.height > 40_000_000:
                    raise UnidentifiedImageError("too many pixels")
                clean = io.BytesIO()
                keep = im.convert("RGB") if fmt == "JPEG" and im.mode not in ("RGB", "L") else im
                keep.save(clean, format=fmt)  # saved without the EXIF/XMP of the original
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
            errors.append(RowError(p.name, None, None, None, "not a JPEG, PNG or WebP photo"))
            continue
        ctype, ext = PHOTO_TYPES[fmt]
        out.append((p, ctype, ext, clean.getvalue()))
    if errors:
        raise InputError(errors, summary="the photos could not be accepted; nothing was submitted")
    return out


# ---------------------------------------------------------------- routing


def route(demand: Demand) -> None:
    """Set who handles the demand: the body of the most specific routing rule for its category and place;
    and the worker's branch (through their liaison), else the organization anchored at their community."""
    code = demand.community.code if demand.community_id else ""
    rules = [
        r
        for r in RoutingRule.objects.filter(category=demand.category).select_related("division", "body")
        if (r.division_id is None or code.startswith(r.division.code))
        # a platform company's contact takes only the demands about that company
        and (r.body.kind != BodyKind.PLATFORM or r.body.company_id == demand.company_id)
    ]
    rules.sort(key=lambda r: (-(len(r.division.code) if r.division_id else 0), r.pk))
    demand.body = rules[0].body if rules else None
    demand.organization = demand.origin_organization = default_organization(demand)


def default_organization(demand: Demand):
    """The branch of the member who keeps in touch with the worker; else the organization anchored at, or
    covering, the demand's community (branches first); else None (the community's organizers see it)."""
    if demand.person_id:
        pair = LiaisonPair.objects.filter(worker_id=demand.person_id, until__isnull=True).first()
        if pair is not None:
            m = (
                Membership.objects.filter(person_id=pair.member_id, until__isnull=True, floating=False)
                .select_related("organization")
                .order_by("pk")
                .first()
            )
            if m is not None:
                return m.organization
    if demand.community_id:
        found = (
            Organization.objects.filter(
                Q(community=demand.community_id) | Q(communities=demand.community_id), dissolved_on__isnull=True
            )
            .distinct()
            .order_by("pk")
        )
        return min(found, key=lambda o: (not o.is_branch, o.pk), default=None)
    return None


# ---------------------------------------------------------------- intake


def demand_submit(
    *,
    category: Category,
    description: str,
    person=None,
    entered_by=None,
    anonymous: bool = False,
    hide_from_platform: bool = False,
    company=None,
    community=None,
    lat: float | None = None,
    lon: float | None = None,
    address: str = "",
    photos: Iterable[Photo] = (),
    channel: str = Channel.WEB,
    now: dt.datetime | None = None,
    idempotency_key: str | None = None,
    admit: Callable[[], object] | None = None,
) -> Demand:
    """Record a demand, route it and set its due date; all or nothing.

    `idempotency_key` (already namespaced and hashed by the caller, see `idempotency_hash`): when a demand
    with it exists, that demand is returned (with `replayed = True`) and nothing is written; a unique
    constraint makes this hold for concurrent submissions too. `admit` is called inside the transaction
    once the demand is written and may raise (a rate limit): then nothing is kept, and a concurrent
    resubmission of the same key, which waited on the unique index, is judged on its own.
    """
    description = (description or "").strip()
    errors = []
    if not description:
        errors.append(RowError("description", None, None, None, "describe the demand"))
    elif len(description) > MAX_DESCRIPTION:
        errors.append(RowError("description", None, None, len(description), f"at most {MAX_DESCRIPTION} characters"))
    if not category.active:
        errors.append(RowError("category", None, None, category.code, "this category is no longer used"))
    if (lat is None) != (lon is None):
        errors.append(RowError("place", None, None, None, "give both latitude and longitude"))
    elif lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        errors.append(RowError("place", None, None, f"{lat},{lon}", "not a valid WGS-84 position"))
    if errors:
        raise InputError(errors, summary="the demand could not be accepted; nothing was submitted")
    clean = check_photos(photos)
    now = now or timezone.now()
    with transaction.atomic():
        if idempotency_key and (seen := _replayed(idempotency_key)) is not None:
            return seen
        d = Demand(
            idempotency_key=idempotency_key or None,
            tracking_code=new_tracking_code(),
            category=category,
            description=description,
            person=None if anonymous else person,
            entered_by=entered_by,
            anonymous=anonymous,
            hide_from_platform=hide_from_platform or anonymous,
            company=company,
            community=community,
            lat=None if lat is None else round(lat, PLACE_DECIMALS),
            lon=None if lon is None else round(lon, PLACE_DECIMALS),
            address=address[:200],
            channel=channel,
            due_at=now + dt.timedelta(days=max(1, category.due_days)),
        )
        route(d)
        while Demand.objects.filter(tracking_code=d.tracking_code).exists():
            d.tracking_code = new_tracking_code()
        try:
            with transaction.atomic():
                d.save()
        except IntegrityError:
            # the same form sent twice at once: the other request's demand is committed by now
            if idempotency_key and (seen := _replayed(idempotency_key)) is not None:
                return seen
            raise
        if admit is not None:
            admit()
        Demand.objects.filter(pk=d.pk).update(created_at=now)
        member = channel == Channel.MEMBER
        from xinye.people.services import member_heard_from

        # whoever enters or submits it, if a member, is in touch ("lost contact" clears)
        entering = getattr(entered_by, "person", None) if entered_by is not None else None
        for pid in {getattr(entering, "pk", None), None if anonymous else getattr(person, "pk", None)}:
            member_heard_from(pid, timezone.localdate(now))
        # the worker's own account is never named in the history (the platform's people read it too)
        _event(
            d,
            DemandEvent.Kind.SUBMITTED,
            actor=entered_by if member else None,
            label="member" if member else "submitter",
            to=S.SUBMITTED,
            now=now,
        )
        target = ", ".join(str(x) for x in (d.body, d.organization) if x is not None)
        if target:
            _event(d, DemandEvent.Kind.ROUTED, label="system", note=target, now=now)
        for _photo, ctype, ext, data in clean:
            a = Attachment(
                demand=d, content_type=ctype, extension=ext, size=len(data), sha256=hashlib.sha256(data).hexdigest()
            )
            a.file.save(f"x.{ext}", ContentFile(data), save=False)
            a.save()
    return d


def idempotency_hash(namespace: str, key: str) -> str | None:
    """The stored form of a client's idempotency key, or None when there is none. The namespace (the
    channel and, for Open311, the caller) keeps one client's key from finding another client's demand."""
    key = (key or "").strip()
    if not key or len(key) > 200:
        return None
    return hashlib.sha256(f"{namespace}\x00{key}".encode()).hexdigest()


def _replayed(idempotency_key: str) -> Demand | None:
    seen = Demand.objects.filter(idempotency_key=idempotency_key).first()
    if seen is not None:
        seen.replayed = True
    return seen


# ---------------------------------------------------------------- the workflow


def _locked_change(demand_id: int, version: int, **fields) -> None:
    """Apply `fields` only if the demand is still at `version`; bump it. StaleDemand otherwise."""
    n = Demand.objects.filter(pk=demand_id, version=version).update(
        version=F("version") + 1, updated_at=timezone.now(), **fields
    )
    if n != 1:
        raise StaleDemand("this demand was changed by someone else after you opened it; nothing was saved")


def allowed(demand: Demand, *, submitter: bool = False) -> frozenset[str]:
    """The statuses the demand may move to, for a handler or for its submitter (a collective demand has no
    single submitter: its page is read-only for the people whose demands were merged into it)."""
    if submitter:
        if demand.collective:
            return frozenset()
        return frozenset(SUBMITTER_MAY.get(demand.status, ()))
    return TRANSITIONS[demand.status]


def demand_transition(
    demand: Demand,
    *,
    to: str,
    actor=None,
    version: int,
    note: str = "",
    label: str = "",
    submitter: bool = False,
    note_public: bool | None = None,
    now: dt.datetime | None = None,
) -> Demand:
    """Move a demand to status `to` (a rejection needs a reason), as a handler or as the submitter.

    The change itself is always shown to the submitter; a handler's `note` only when `note_public` (the
    "the submitter sees the note") box. The submitter's own note and the reason of a rejection, which is
    owed to them, are always shown."""
    now = now or timezone.now()
    if to not in allowed(demand, submitter=submitter):
        raise DemandError(f"a demand that is {demand.status} cannot become {to}")
    if to == S.REJECTED and not note.strip():
        raise DemandError("say why the demand is rejected")
    fields: dict = {"status": to}
    if to == S.RESOLVED:
        fields["resolved_at"] = now
    if to == S.REOPENED:
        fields["resolved_at"] = None
        fields["due_at"] = now + dt.timedelta(days=max(1, demand.category.due_days))
    with transaction.atomic():
        _locked_change(demand.pk, version, **fields)
        _event(
            demand,
            DemandEvent.Kind.STATUS,
            actor=actor,
            label=label or ("submitter" if submitter else ""),
            note=note,
            note_public=submitter or to == S.REJECTED or bool(note_public),
            frm=demand.status,
            to=to,
            now=now,
        )
    demand.refresh_from_db()
    return demand


def demand_note(demand: Demand, *, actor, note: str, public: bool = False, label: str = "") -> DemandEvent:
    """A note on a demand (internal unless `public`). Notes never conflict: no version is needed."""
    if not note.strip():
        raise DemandError("the note is empty")
    return _event(demand, DemandEvent.Kind.NOTE, actor=actor, label=label, note=note, public=public, note_public=public)


def demand_merge(
    demands: list[Demand],
    *,
    actor,
    into: Demand | None = None,
    label: str = "",
    versions: dict[int, int] | None = None,
    now: dt.datetime | None = None,
) -> Demand:
    """Merge similar demands into a collective demand: `into` when it is already a collective demand, else a
    new one that takes the first demand's category and place (an ordinary demand named as `into` is merged
    too: its submitter keeps following it, read-only, like the others). The merged ones become duplicates
    pointing at the collective demand; each keeps its events."""
    now = now or timezone.now()
    if into is not None and not into.collective:
        demands, into = [*demands, into], None
    seen: set[int] = set()
    others = [d for d in demands if (into is None or d.pk != into.pk) and not (d.pk in seen or seen.add(d.pk))]
    if len(others) + (into is not None) < 2:
        raise DemandError("choose at least two demands to merge")
    for d in others + ([into] if into else []):
        if d.status not in MERGEABLE:
            raise DemandError(f"demand {d.reference} is {d.status} and cannot be merged")
    versions = versions or {}
    with transaction.atomic():
        if into is None:
            first = others[0]
            into = Demand(
                tracking_code=new_tracking_code(),
                category=first.category,
                community=first.community,
                description="\n\n".join(f"[{d.reference}] {d.description}" for d in others)[:MAX_DESCRIPTION],
                collective=True,
                anonymous=True,
                hide_from_platform=True,
                company=first.company,
                organization=first.organization,
                body=first.body,
                lat=first.lat,
                lon=first.lon,
                due_at=min(d.due_at for d in others),
                channel=first.channel,
                entered_by=actor,
            )
            into.save()
            _event(
                into,
                DemandEvent.Kind.SUBMITTED,
                actor=actor,
                label=label,
                to=S.SUBMITTED,
                now=now,
                note="collective demand of " + ", ".join(d.reference for d in others),
            )
        else:
            Demand.objects.filter(pk=into.pk).update(version=F("version") + 1, updated_at=now)
        for d in others:
            _locked_change(d.pk, versions.get(d.pk, d.version), status=S.DUPLICATE, merged_into=into)
            _event(
                d,
                DemandEvent.Kind.MERGED,
                actor=actor,
                label=label,
                frm=d.status,
                to=S.DUPLICATE,
                now=now,
                note=f"merged into collective demand {into.reference}",
            )
        _event(
            into,
            DemandEvent.Kind.MERGED,
            actor=actor,
            label=label,
            now=now,
            note="merged: " + ", ".join(d.reference for d in others),
        )
    into.refresh_from_db()
    return into


def demand_rate(demand: Demand, *, rating: int, note: str = "", now=None) -> Demand:
    """The submitter rates the resolution (1 to 5), once, after it is resolved or closed."""
    if demand.collective:
        raise DemandError("a collective demand is rated through the demands merged into it")
    if demand.status not in (S.RESOLVED, S.CLOSED):
        raise DemandError("a demand can be rated once it is resolved")
    if demand.rating is not None:
        raise DemandError("this demand has been rated already")
    if not (isinstance(rating, int) and 1 <= rating <= 5):
        raise DemandError("a rating is 1 to 5")
    with transaction.atomic():
        n = Demand.objects.filter(pk=demand.pk, rating__isnull=True).update(rating=rating, rating_note=note[:500])
        if n != 1:
            raise StaleDemand("this demand has been rated already")
        _event(demand, DemandEvent.Kind.RATED, label="submitter", note=f"{rating}/5 {note}".strip(), now=now)
    demand.refresh_from_db()
    return demand


# ---------------------------------------------------------------- escalation


def escalation_target(demand: Demand):
    """The organization one level up from the one handling the demand (or the worker's organization when
    only a body had it); None at the top."""
    if demand.organization_id:
        return demand.organization.parent
    return default_organization(demand)


def demands_escalate(*, now: dt.datetime | None = None) -> int:
    """Escalate every open demand past its due date one level up the organization tree and give the new
    handler a fresh due period. Run it every few minutes (`xinye demands escalate`). Returns how many."""
    now = now or timezone.now()
    count = 0
    late = (
        Demand.objects.filter(status__in=OPEN_STATUSES, due_at__lt=now)
        .select_related("organization", "category", "body", "community__parent__parent")
        .order_by("pk")
    )
    for d in late:
        target = escalation_target(d)
        with transaction.atomic():
            fields = {
                "escalation_level": d.escalation_level + 1,
                "due_at": now + dt.timedelta(days=max(1, d.category.due_days)),
            }
            if target is not None:
                fields["organization"] = target
            try:
                _locked_change(d.pk, d.version, **fields)
            except StaleDemand:
                continue  # someone is working on it right now; the next run looks again
            # a stored note is read later by handlers: written in the deployment's language
            with translation.override(settings.LANGUAGE_CODE):
                if target is not None:
                    where = str(target)
                elif d.community_id and d.community.parent_id and d.community.parent.parent_id:
                    where = gettext("the organizers of %(name)s") % {"name": d.community.parent.parent.name}
                else:
                    where = gettext("the top level (no higher organization)")
                note = gettext("overdue since %(due)s; escalated to %(where)s") % {
                    "due": f"{timezone.localtime(d.due_at):%Y-%m-%d %H:%M}",
                    "where": where,
                }
            _event(d, DemandEvent.Kind.ESCALATED, label="system", now=now, note=note)
        count += 1
    return count
