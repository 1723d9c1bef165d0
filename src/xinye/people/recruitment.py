"""Joining the Party from among the workers (issue 12, item 5): applicant, activist, development target,
probationary member, formal member, each step with its date, and the minimum intervals of the rule set
(`application_talk_days`, `activist_months`, `probation_months`, with their sources in `algorithms/rules.py`).

- A step goes forward one at a time (or stops), never before the previous step's date or in the future;
  activist -> development target only after `activist_months`, probationary -> formal only after
  `probation_months`.
- Admission (development target -> probationary) makes a probationary membership of the handling branch;
  becoming formal turns it formal. A person with a current membership cannot be admitted again.
- `due(...)`: what falls due next and when: the talk with an applicant, an activist who may become a
  development target, a probationary member whose year is up. The landing page counts the ones due.

Who sees and who records is `accounts.policy.recruitment_q` and `may_manage_recruitment`.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinye.accounts import policy
from xinye.accounts.scope import Scope
from xinye.algorithms.membership import add_months
from xinye.common.errors import XinyeError

from .models import Membership, Person, Recruit, RecruitStage

ORDER = [
    RecruitStage.APPLICANT,
    RecruitStage.ACTIVIST,
    RecruitStage.TARGET,
    RecruitStage.PROBATIONARY,
    RecruitStage.FORMAL,
]
DATE_FIELD = {
    RecruitStage.APPLICANT: "applied_on",
    RecruitStage.ACTIVIST: "activist_on",
    RecruitStage.TARGET: "target_on",
    RecruitStage.PROBATIONARY: "admitted_on",
    RecruitStage.FORMAL: "formal_on",
    RecruitStage.STOPPED: "stopped_on",
}
DUE_LABELS = {
    "talk": gettext_lazy("Talk with the applicant"),
    "target": gettext_lazy("May become a development target"),
    "formal": gettext_lazy("Probation ends: discuss becoming formal"),
}


class RecruitError(XinyeError):
    pass


def _rules():
    from xinye.organizations.planning import rules_for

    return rules_for()


def _check(scope: Scope, organization) -> None:
    if not policy.may_manage_recruitment(scope, organization):
        raise RecruitError(_("You may not record recruitment for this branch."))


def recruit_list(*, scope: Scope):
    return Recruit.objects.filter(policy.recruitment_q(scope)).select_related("person", "organization")


@transaction.atomic
def start(scope: Scope, actor, *, person: Person, organization, applied_on: date, note: str = "") -> Recruit:
    from xinye.organizations.models import BRANCH_KINDS

    _check(scope, organization)
    if not policy.party_status_known(scope, person):
        # "a member already" would tell a party status the viewer may not see (accounts.policy)
        raise RecruitError(_("You may not record recruitment for this person."))
    if organization.kind not in BRANCH_KINDS:
        raise RecruitError(_("Recruitment is handled by a branch."))
    if applied_on > timezone.localdate():
        raise RecruitError(_("The application cannot be in the future."))
    if Membership.objects.filter(person=person, until__isnull=True).exists():
        raise RecruitError(_("%(name)s is a member already.") % {"name": person.name})
    try:
        with transaction.atomic():
            r = Recruit(person=person, organization=organization, applied_on=applied_on, note=note.strip()[:300])
            r._change_reason = "application received"
            r.save()
    except IntegrityError as exc:
        raise RecruitError(_("%(name)s is on the way in already.") % {"name": person.name}) from exc
    return r


def next_stage(recruit: Recruit) -> str | None:
    if recruit.stage in (RecruitStage.FORMAL, RecruitStage.STOPPED):
        return None
    return ORDER[ORDER.index(recruit.stage) + 1]


@transaction.atomic
def advance(scope: Scope, actor, recruit: Recruit, *, to: str, on: date, note: str = "") -> Recruit:
    """Record the next step (or a stop, or the talk with an applicant: `to="talk"`)."""
    recruit = Recruit.objects.select_for_update().select_related("organization", "person").get(pk=recruit.pk)
    _check(scope, recruit.organization)
    rules = _rules()
    if on > timezone.localdate():
        raise RecruitError(_("A step cannot be in the future."))
    last = max(d for d in (getattr(recruit, f) for f in DATE_FIELD.values()) if d is not None)
    if to == "talk":
        if recruit.stage != RecruitStage.APPLICANT or on < recruit.applied_on:
            raise RecruitError(_("The talk is with an applicant, after the application."))
        recruit.talked_on = on
        recruit._change_reason = "talked with the applicant"
        recruit.save()
        return recruit
    if on < last:
        raise RecruitError(_("The step cannot be before the previous one (%(date)s).") % {"date": last.isoformat()})
    if to == RecruitStage.STOPPED:
        if recruit.stage in (RecruitStage.FORMAL, RecruitStage.STOPPED):
            raise RecruitError(_("This recruitment has ended already."))
        if recruit.stage == RecruitStage.PROBATIONARY:
            Membership.objects.filter(person=recruit.person, until__isnull=True, status="probationary").update(until=on)
    elif to != next_stage(recruit):
        raise RecruitError(
            _("The next step is %(step)s.") % {"step": RecruitStage(next_stage(recruit) or "stopped").label}
        )
    if to == RecruitStage.TARGET:
        ready = add_months(recruit.activist_on, rules.activist_months)
        if on < ready:
            raise RecruitError(
                _("An activist becomes a development target after %(n)d months of training: from %(date)s.")
                % {"n": rules.activist_months, "date": ready.isoformat()}
            )
    if to == RecruitStage.PROBATIONARY:
        if Membership.objects.filter(person=recruit.person, until__isnull=True).exists():
            raise RecruitError(_("%(name)s is a member already.") % {"name": recruit.person.name})
        m = Membership(
            person=recruit.person,
            organization=recruit.organization,
            status="probationary",
            joined_on=on,
            since=on,
            last_contact_on=on,
        )
        m._change_reason = "admitted as a probationary member"
        m.save()
    if to == RecruitStage.FORMAL:
        ready = add_months(recruit.admitted_on, rules.probation_months)
        if on < ready:
            raise RecruitError(
                _("The probationary period is %(n)d months: a probationary member becomes formal from %(date)s.")
                % {"n": rules.probation_months, "date": ready.isoformat()}
            )
        for m in Membership.objects.filter(person=recruit.person, until__isnull=True, status="probationary"):
            m.status = "formal"
            m._change_reason = "became a formal member"
            m.save()
    setattr(recruit, DATE_FIELD[to], on)
    recruit.stage = to
    if note.strip():
        recruit.note = note.strip()[:300]
    recruit._change_reason = f"step: {to}"
    recruit.save()
    return recruit


def due(recruit: Recruit, rules=None) -> tuple[str, date] | None:
    """What falls due next for this recruitment and from when ("talk", "target" or "formal"), or None."""
    rules = rules or _rules()
    if recruit.stage == RecruitStage.APPLICANT and recruit.talked_on is None:
        return "talk", recruit.applied_on + timedelta(days=rules.application_talk_days)
    if recruit.stage == RecruitStage.ACTIVIST and recruit.activist_on:
        return "target", add_months(recruit.activist_on, rules.activist_months)
    if recruit.stage == RecruitStage.PROBATIONARY and recruit.admitted_on:
        return "formal", add_months(recruit.admitted_on, rules.probation_months)
    return None


def due_count(*, scope: Scope, today: date | None = None) -> int:
    """How many recruitments in scope have a step due today or earlier."""
    today = today or timezone.localdate()
    rules = _rules()
    open_ = recruit_list(scope=scope).exclude(
        stage__in=[RecruitStage.FORMAL, RecruitStage.STOPPED, RecruitStage.TARGET]
    )
    return sum(1 for r in open_ if (d := due(r, rules)) is not None and d[1] <= today)


def counts(*, scope: Scope) -> dict:
    """Recruitments in scope by stage, by branch and stage, and by occupation and stage."""
    rows = list(recruit_list(scope=scope).values_list("stage", "organization__name", "person__occupation"))
    return {
        "stage": Counter(s for s, _o, _p in rows),
        "branch": Counter((o, s) for s, o, _p in rows),
        "occupation": Counter((p, s) for s, _o, p in rows),
    }
