"""Joining the Party from among the workers (issue 12, item 5): the steps in order, the rule set's minimum
intervals, admission and becoming formal as memberships, steps falling due, counts, and who may."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from xinye.accounts.scope import scope_for
from xinye.algorithms.membership import add_months
from xinye.organizations.models import Organization, OrgKind
from xinye.organizations.planning import rules_for
from xinye.people import recruitment as svc
from xinye.people.models import Membership, Person, RecruitStage

pytestmark = pytest.mark.django_db


def _admin():
    return get_user_model().objects.get(username="admin")


def _setup():
    branch = Organization.objects.filter(kind=OrgKind.BRANCH, dissolved_on__isnull=True).first()
    worker = Person.objects.filter(memberships__isnull=True, recruitments__isnull=True).first()
    return scope_for(_admin()), _admin(), branch, worker


def test_the_steps_in_order_with_the_rule_sets_intervals():
    scope, actor, branch, worker = _setup()
    rules = rules_for()
    today = timezone.localdate()
    applied = add_months(today, -40)
    r = svc.start(scope, actor, person=worker, organization=branch, applied_on=applied)
    with pytest.raises(svc.RecruitError):  # not a step ahead of its turn
        svc.advance(scope, actor, r, to=RecruitStage.TARGET, on=applied)
    r = svc.advance(scope, actor, r, to=RecruitStage.ACTIVIST, on=applied + timedelta(days=60))
    too_soon = add_months(r.activist_on, rules.activist_months) - timedelta(days=1)
    with pytest.raises(svc.RecruitError, match=str(rules.activist_months)):
        svc.advance(scope, actor, r, to=RecruitStage.TARGET, on=too_soon)
    r = svc.advance(scope, actor, r, to=RecruitStage.TARGET, on=too_soon + timedelta(days=1))
    admitted = r.target_on + timedelta(days=90)
    r = svc.advance(scope, actor, r, to=RecruitStage.PROBATIONARY, on=admitted)
    m = Membership.objects.get(person=worker, until__isnull=True)
    assert (m.organization, m.status, m.since) == (branch, "probationary", admitted)
    with pytest.raises(svc.RecruitError, match=str(rules.probation_months)):
        svc.advance(
            scope, actor, r, to=RecruitStage.FORMAL, on=add_months(admitted, rules.probation_months) - timedelta(days=1)
        )
    r = svc.advance(scope, actor, r, to=RecruitStage.FORMAL, on=add_months(admitted, rules.probation_months))
    m.refresh_from_db()
    assert m.status == "formal" and r.stage == RecruitStage.FORMAL
    with pytest.raises(svc.RecruitError):
        svc.advance(scope, actor, r, to=RecruitStage.STOPPED, on=today)


def test_no_future_steps_no_second_recruitment_no_member():
    scope, actor, branch, worker = _setup()
    today = timezone.localdate()
    with pytest.raises(svc.RecruitError):
        svc.start(scope, actor, person=worker, organization=branch, applied_on=today + timedelta(days=1))
    svc.start(scope, actor, person=worker, organization=branch, applied_on=today)
    with pytest.raises(svc.RecruitError):
        svc.start(scope, actor, person=worker, organization=branch, applied_on=today)
    member = Membership.objects.filter(until__isnull=True).first().person
    with pytest.raises(svc.RecruitError):
        svc.start(scope, actor, person=member, organization=branch, applied_on=today)


def test_steps_fall_due_and_are_counted(login, demo):
    scope, actor, branch, worker = _setup()
    rules = rules_for()
    applied = timezone.localdate() - timedelta(days=rules.application_talk_days + 1)
    r = svc.start(scope, actor, person=worker, organization=branch, applied_on=applied)
    assert svc.due(r)[0] == "talk" and svc.due(r)[1] <= timezone.localdate()
    assert svc.due_count(scope=scope) >= 1
    c = login("admin")
    page = c.get("/recruitment/?due=1").content.decode()
    assert worker.name in page
    assert "/recruitment/?due=1" in c.get("/").content.decode()
    r = c.post(f"/recruitment/{r.pk}/", {"to": "talk", "on": timezone.localdate().isoformat()})
    assert r.status_code == 302
    assert worker.name not in c.get("/recruitment/?due=1").content.decode()


def test_pages_and_who_may(login, demo):
    scope, actor, branch, worker = _setup()
    c = login("admin")
    r = c.post(f"/people/{worker.pk}/recruitment/", {"organization": branch.pk, "applied_on": "2026-01-05"})
    assert r.status_code == 302
    rec = worker.recruitments.get()
    assert c.get(r["Location"]).status_code == 200
    for name in ("member", "operator"):
        other = login(name)
        assert other.get("/recruitment/").status_code == 404
        assert other.get(f"/recruitment/{rec.pk}/").status_code == 404
        assert other.post(f"/recruitment/{rec.pk}/", {"to": "activist", "on": "2026-02-01"}).status_code == 404
    rec.refresh_from_db()
    assert rec.stage == RecruitStage.APPLICANT


def test_recruitment_pages_in_chinese(login, demo):
    scope, actor, branch, worker = _setup()
    r = svc.start(scope, actor, person=worker, organization=branch, applied_on=date(2026, 1, 5))
    c = login("admin")
    c.cookies["django_language"] = "zh-hans"
    for path in ("/recruitment/", f"/recruitment/{r.pk}/"):
        page = c.get(path, HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
        for english in ("Joining the Party", "Applicant", "Development target", "Record the step", "By branch"):
            assert english not in page, (path, english)
