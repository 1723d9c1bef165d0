"""A worker's rights over what Xinye holds about them (PIPL art. 44-47): a copy, erasure, withdrawal of consent.

Workers have no account. They prove that a phone is theirs with a one-time code sent to it; the pages
(`rights_views`) and the organizers' command (`xinye people export-data|erase|withdraw-consent`) are thin
wrappers over the services and the selector here.

One-time codes: 6 digits, valid `CODE_TTL`, at most `CODE_ATTEMPTS` tries, single use; a new code ends the
old ones. Phone and code are stored only as keyed hashes (HMAC-SHA256 with the secret key). A request for a
phone Xinye does not know is answered exactly like one for a known phone (a code row is created so the
attempts and expiry behave the same), but nothing is sent.

Erasure keeps counts and demands, not identity: the person row stays as an anonymous count (occupation,
community, platforms, memberships), its name, phone, work cell and union date are blanked in the row *and*
in every historical row (django-simple-history keeps old values), their demands lose the submitter and the
person's name and mobile numbers in their text, their reports lose the reported name, their liaison
contacts lose the notes, open liaison pairs end. The history records who erased and when, not what.

Withdrawal of consent: a withdrawal consent record; every earlier consent marked withdrawn; the person is no
longer processed (`processable_q`: liaison assignment, members' worker lists, contacts, exports), open
liaison pairs end.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from xinye.algorithms.errors import InputError, RowError

from .models import CommunityReport, ConsentRecord, Person, PhoneCode, ReportStatus

CODE_TTL = timedelta(minutes=10)
CODE_ATTEMPTS = 5
CODE_DIGITS = 6
#: code requests allowed per phone and per client address in an hour
LIMIT_PER_PHONE = 3
LIMIT_PER_ADDRESS = 10
#: what an erased name becomes (the row stays as a count); texts get `REDACTED` where a name or phone was
ERASED_NAME = "—"
REDACTED = "[***]"
#: keys of a report's `reported` data that identify the person
PERSONAL_KEYS = ("name", "phone")

WITHDRAWAL_PURPOSE = "withdrawal of consent"
WITHDRAWAL_SCOPE = gettext_noop(
    "The person withdrew their consent: Xinye no longer processes their data (no liaison, no contact lists, "
    "no exports); what is kept is kept only as counts until it is erased."
)
REASON_ERASED = "erased at the person's request"
REASON_WITHDRAWN = "consent withdrawn by the person"

# result of `phone_code_verify`
OK, WRONG, EXPIRED, LOCKED = "ok", "wrong", "expired", "locked"

_MOBILE = re.compile(r"(?<!\d)1\d{2}[\s-]?\d{4}[\s-]?\d{4}(?!\d)")


def processable_q(prefix: str = "") -> Q:
    """People Xinye may still process: consent not withdrawn and not erased. `prefix` e.g. "worker__"."""
    return Q(**{f"{prefix}consent_withdrawn_at__isnull": True, f"{prefix}erased_at__isnull": True})


def normalize_phone(raw: str) -> str:
    """The 11 digits of a mainland mobile number; InputError naming the field otherwise."""
    phone = "".join(ch for ch in (raw or "") if ch in "0123456789")
    if not (len(phone) == 11 and phone.startswith("1")):
        shown = "…" + phone[-4:] if phone else ""
        raise InputError([RowError("form", None, "phone", shown, "a mobile number has 11 digits")], summary="bad phone")
    return phone


def _keyed(*parts: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def phone_hash(phone: str) -> str:
    return _keyed("phone", phone)


# ----------------------------------------------------------------------------------------------- limits


def code_request_allowed(*, phone: str, address: str) -> bool:
    """True if one more code may be sent: at most LIMIT_PER_PHONE per phone and LIMIT_PER_ADDRESS per client
    address per hour, counted by the project's limiter (shared, atomic counters)."""
    from xinye.common import ratelimit

    by_phone = ratelimit.hit("my_data_phone", phone_hash(phone), f"{LIMIT_PER_PHONE}/hour")
    by_address = ratelimit.hit("my_data_address", address, f"{LIMIT_PER_ADDRESS}/hour")
    return by_phone.allowed and by_address.allowed


# ----------------------------------------------------------------------------------------------- codes


def _known(phone: str) -> bool:
    # a report not yet confirmed is held too: its sender may look at it, or delete it (issue 16, item 11)
    return (
        Person.objects.filter(phone=phone, erased_at__isnull=True).exists()
        or CommunityReport.objects.filter(person__isnull=True, phone=phone).exists()
    )


def phone_code_issue(*, phone: str, now=None) -> None:
    """Create a code for the phone and send it if Xinye holds anything about that phone. Earlier codes end.
    The caller checks `code_request_allowed` first."""
    from django.utils.translation import gettext as _

    from .sms import get_sender

    now = now or timezone.now()
    ph = phone_hash(phone)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    with transaction.atomic():
        PhoneCode.objects.filter(phone_hash=ph, used_at__isnull=True).update(used_at=now)
        PhoneCode.objects.create(
            phone_hash=ph, code_hash=_keyed("code", ph, code), created_at=now, expires_at=now + CODE_TTL
        )
        PhoneCode.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()  # keep the table small
    # sent once the code is stored; never for a phone Xinye does not know
    if _known(phone):
        text = _("Xinye: your code is %(code)s. It is valid for 10 minutes. Do not share it.") % {"code": code}
        get_sender().send(phone, text)


def phone_code_verify(*, phone: str, code: str, now=None) -> str:
    """OK (the code is used up), WRONG, EXPIRED (or none requested) or LOCKED (too many wrong codes: ask for a
    new one). Known and unknown phones behave the same."""
    now = now or timezone.now()
    ph = phone_hash(phone)
    code = "".join(ch for ch in (code or "") if ch in "0123456789")
    with transaction.atomic():
        row = PhoneCode.objects.select_for_update().filter(phone_hash=ph).order_by("-created_at", "-pk").first()
        if row is None or row.used_at is not None or row.expires_at <= now:
            return EXPIRED
        if row.attempts >= CODE_ATTEMPTS:
            return LOCKED
        if len(code) == CODE_DIGITS and hmac.compare_digest(row.code_hash, _keyed("code", ph, code)):
            PhoneCode.objects.filter(pk=row.pk).update(used_at=now)
            return OK
        PhoneCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
        return LOCKED if row.attempts + 1 >= CODE_ATTEMPTS else WRONG


# ----------------------------------------------------------------------------------------------- the copy


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def person_data(*, phone: str) -> dict:
    """Everything Xinye holds about the people with this phone (the caller proved the phone is theirs), as
    JSON-ready data. Other people's notes on their demands are not included, only the status."""
    from xinye.demands.models import Contact, Demand, LiaisonPair

    people = (
        Person.objects.filter(phone=phone, erased_at__isnull=True)
        .select_related("work_community__parent__parent", "business_unit", "employer")
        .order_by("pk")
    )
    out = []
    for p in people:
        community = p.work_community
        out.append(
            {
                "id": p.pk,
                "name": p.name,
                "phone": p.phone,
                "occupation": p.get_occupation_display(),
                "platforms": sorted(c.name for c in p.platforms.all()),
                "employer": p.employer.name if p.employer else None,
                "business_unit": p.business_unit.name if p.business_unit else None,
                "work_community": (
                    {"code": community.code, "name": community.name, "street": community.parent.name}
                    if community
                    else None
                ),
                "work_cell": format(p.work_cell & (2**64 - 1), "x") if p.work_cell is not None else None,
                "trade_union": {"name": p.union_name, "since": _iso(p.union_since)} if p.union_name else None,
                "recorded_at": _iso(p.created_at),
                "consent_withdrawn_at": _iso(p.consent_withdrawn_at),
                "memberships": [
                    {
                        "status": m.get_status_display(),
                        "branch": m.organization.name if m.organization else None,
                        "joined_on": _iso(m.joined_on),
                        "floating": m.floating,
                        "home_organization": m.home_organization,
                        "home_place": m.home_place,
                        "since": _iso(m.since),
                        "until": _iso(m.until),
                        "last_contact_on": _iso(m.last_contact_on),
                        "certificate_from": _iso(m.certificate_from),
                        "certificate_until": _iso(m.certificate_until),
                    }
                    for m in p.memberships.select_related("organization").order_by("since", "pk")
                ],
                "consents": [
                    {
                        "purpose": c.purpose,
                        "what_and_who": c.scope,
                        "policy_version": c.policy_version,
                        "channel": c.channel,
                        "given_at": _iso(c.given_at),
                        "withdrawn_at": _iso(c.withdrawn_at),
                    }
                    for c in p.consents.order_by("given_at", "pk")
                ],
                "community_reports": [
                    {
                        "reference": r.tracking_code,
                        "community": r.community.name,
                        "status": r.get_status_display(),
                        "reported_at": _iso(r.created_at),
                        "decided_at": _iso(r.decided_at),
                        "reported": r.reported,
                    }
                    for r in _reports(p, phone).select_related("community").order_by("created_at", "pk")
                ],
                "union_applications": [
                    {
                        "status": a.get_status_display(),
                        "applied_at": _iso(a.created_at),
                        "answered_at": _iso(a.answered_at),
                        "union": a.union_name,
                        "answer": a.note,
                    }
                    for a in p.union_applications.order_by("created_at", "pk")
                ],
                "demands": [
                    {
                        "reference": d.reference,
                        "category": str(d.category),
                        "status": d.get_status_display(),
                        "submitted_at": _iso(d.created_at),
                        "description": d.description,
                        "place": d.address,
                        "hidden_from_platform": d.hide_from_platform,
                        "resolved_at": _iso(d.resolved_at),
                    }
                    for d in Demand.objects.filter(person=p).select_related("category").order_by("created_at", "pk")
                ],
                "liaison": [
                    {"since": _iso(x.since), "until": _iso(x.until)}
                    for x in LiaisonPair.objects.filter(worker=p).order_by("since", "pk")
                ],
                "liaison_contacts": [
                    {
                        "on": _iso(c.on),
                        "channel": c.get_channel_display(),
                        "note": c.note,
                        "follow_up_on": _iso(c.follow_up_on),
                    }
                    for c in Contact.objects.filter(worker=p).order_by("on", "pk")
                ],
            }
        )
    # a report not yet confirmed belongs to no person: the worker who sent it finds it here by its reference,
    # the one the report's thank-you page gave them (issue 16, item 11)
    unconfirmed = [
        {
            "reference": r.tracking_code,
            "community": r.community.name,
            "status": r.get_status_display(),
            "reported_at": _iso(r.created_at),
            "reported": r.reported,
        }
        for r in CommunityReport.objects.filter(person__isnull=True, phone=phone)
        .select_related("community")
        .order_by("created_at", "pk")
    ]
    return {"generated_at": _iso(timezone.now()), "phone": phone, "people": out, "unconfirmed_reports": unconfirmed}


# ----------------------------------------------------------------------------------------------- erasure


def redact(text: str, *, names=(), phones=(), all_mobiles: bool = True) -> str:
    """`text` without the given names and phone numbers, and (`all_mobiles`) without anything that looks like
    a mainland mobile number, also written with spaces or dashes."""
    if not text:
        return text
    for value in sorted({n for n in names if n and len(n) >= 2 and n != ERASED_NAME}, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    for value in {p for p in phones if p}:
        text = text.replace(value, REDACTED)
    return _MOBILE.sub(REDACTED, text) if all_mobiles else text


def _end_liaisons(person: Person, *, user, reason: str, today) -> None:
    from xinye.demands.models import LiaisonPair

    for pair in LiaisonPair.objects.filter(worker=person, until__isnull=True):
        pair.until = today
        pair._history_user, pair._change_reason = user, reason
        pair.save()


def _withdraw_one(person: Person, *, user, reason: str, channel: str, now) -> None:
    for c in person.consents.filter(withdrawn_at__isnull=True):
        c.withdrawn_at = now
        c._history_user, c._change_reason = user, reason
        c.save()
    ConsentRecord.objects.create(
        person=person,
        purpose=WITHDRAWAL_PURPOSE,
        scope=WITHDRAWAL_SCOPE,
        channel=channel,
        given_at=now,
        withdrawn_at=now,
    )
    _end_liaisons(person, user=user, reason=reason, today=timezone.localdate(now))


@transaction.atomic
def consent_withdraw(*, phone: str, user=None, channel: str = "web", reason: str = REASON_WITHDRAWN) -> int:
    """The people with this phone withdraw consent: no more processing. Returns how many people."""
    now = timezone.now()
    people = list(
        Person.objects.select_for_update().filter(phone=phone, erased_at__isnull=True, consent_withdrawn_at=None)
    )
    for p in people:
        _withdraw_one(p, user=user, reason=reason, channel=channel, now=now)
        p.consent_withdrawn_at = now
        p._history_user, p._change_reason = user, reason
        p.save()
    return len(people)


@transaction.atomic
def person_erase(*, phone: str, user=None, channel: str = "web", reason: str = REASON_ERASED) -> int:
    """Erase the personal fields of the people with this phone (see the module docstring). Returns how many."""
    from xinye.demands.models import Contact, Demand, DemandEvent

    now = timezone.now()
    people = list(Person.objects.select_for_update().filter(phone=phone, erased_at__isnull=True))
    for p in people:
        old = list(Person.history.filter(id=p.pk).values_list("name", "phone"))
        names = {p.name, *(n for n, _ in old)}
        phones = {p.phone, *(ph for _, ph in old)}
        for r in _reports(p, phone):
            names.add((r.reported or {}).get("name") or "")
        # demands stay (they count, and others work on them) but without the person
        for d in Demand.objects.filter(person=p):
            fields = {
                "person": None,
                "description": redact(d.description, names=names, phones=phones),
                "rating_note": redact(d.rating_note, names=names, phones=phones),
                "version": F("version") + 1,
            }
            if p.user_id and d.entered_by_id == p.user_id:
                fields["entered_by"] = None
            Demand.objects.filter(pk=d.pk).update(**fields)
            for e in DemandEvent.objects.filter(demand=d).exclude(note=""):
                DemandEvent.objects.filter(pk=e.pk).update(note=redact(e.note, names=names, phones=phones))
        Contact.objects.filter(worker=p).exclude(note="").update(note="")
        for r in _reports(p, phone):
            r.reported = {k: v for k, v in (r.reported or {}).items() if k not in PERSONAL_KEYS}
            r.phone = ""  # the phone as reported (a pending report holds it until confirmed)
            r.note = redact(r.note, names=names, phones=phones)
            r._history_user, r._change_reason = user, reason
            r.save()
            for h in CommunityReport.history.filter(id=r.pk):
                # a report's history never holds the phone or what was reported (excluded fields), only notes
                CommunityReport.history.filter(pk=h.pk).update(note=redact(h.note, names=names, phones=phones))
        if p.consent_withdrawn_at is None:
            _withdraw_one(p, user=user, reason=reason, channel=channel, now=now)
            p.consent_withdrawn_at = now
        else:
            _end_liaisons(p, user=user, reason=reason, today=timezone.localdate(now))
        p.name, p.phone, p.work_cell, p.union_since, p.erased_at = ERASED_NAME, "", None, None, now
        p.id_hash = ""
        p._history_user, p._change_reason = user, reason
        p.save()
        # simple-history keeps every earlier value: erase them there too (the rows stay, with who and when)
        Person.history.filter(id=p.pk).update(name=ERASED_NAME, phone="", work_cell=None, union_since=None, id_hash="")
    # the reports not yet confirmed that hold this phone (no person yet) end as a rejected one does: nothing
    # of what was reported stays, so nothing is left for an organizer to confirm
    for r in CommunityReport.objects.select_for_update().filter(person__isnull=True, phone=phone):
        if r.status == ReportStatus.PENDING:
            r.status, r.decided_by, r.decided_at = ReportStatus.REJECTED, user, now
            r.note = "deleted at the worker's request"
        r.reported, r.phone = {}, ""
        r._history_user, r._change_reason = user, reason
        r.save()
    if people:
        # the phone written into anyone's demand (a member entering it for the worker, say)
        for d in Demand.objects.filter(description__contains=phone):
            Demand.objects.filter(pk=d.pk).update(
                description=redact(d.description, phones=[phone], all_mobiles=False), version=F("version") + 1
            )
        for e in DemandEvent.objects.filter(note__contains=phone):
            DemandEvent.objects.filter(pk=e.pk).update(note=redact(e.note, phones=[phone], all_mobiles=False))
    PhoneCode.objects.filter(phone_hash=phone_hash(phone)).delete()
    return len(people)


def _reports(person: Person, phone: str):
    """The person's reports, and any report that holds their phone in what was reported (pending ones)."""
    return CommunityReport.objects.filter(Q(person=person) | Q(phone=phone) | Q(reported__phone=phone)).distinct()
