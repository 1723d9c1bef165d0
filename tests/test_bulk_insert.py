"""Plain INSERTs for large imports write the same rows the ORM and django-simple-history would (issue 12,
item 1: the roster import's speed)."""

import pytest
from django.utils import timezone

from xinye.common.bulk import insert_history, insert_rows
from xinye.people.models import ConsentRecord, Person

pytestmark = pytest.mark.django_db


def _history_row(h):
    return (h.id, h.name, h.phone, h.occupation, h.union_since, h.history_type, h.history_change_reason,
            h.history_user_id, h.work_community_id)  # fmt: skip


def test_history_rows_read_back_as_simple_history_writes_them(django_user_model):
    user = django_user_model.objects.create(username="importer")
    today = timezone.localdate()
    a = Person(name="张三", phone="13800000001", occupation="courier", union_name="区工会", union_since=today)
    b = Person(name="李四", phone="13800000001", occupation="courier", union_name="区工会", union_since=today)
    a.save()
    a.history.all().delete()
    a._history_user = user
    Person.history.bulk_history_create([a], default_user=user, default_change_reason="roster import")
    Person.objects.bulk_create([b])
    when = timezone.now()
    assert insert_history([b], user=user, reason="roster import", when=when) == 1
    ha, hb = a.history.get(), b.history.get()
    assert _history_row(hb)[2:] == _history_row(ha)[2:] and hb.id == b.pk and hb.name == "李四"
    assert abs((hb.history_date - when).total_seconds()) < 1e-3
    # the history reads back the person as it was
    assert hb.instance.union_since == today and hb.instance.name == "李四"


def test_plain_rows_with_a_timestamp_read_back(django_user_model):
    p = Person.objects.create(name="王五", phone="13800000003", occupation="courier")
    now = timezone.now()
    cols = ["person_id", "purpose", "scope", "policy_version", "channel", "given_at", "created_at", "updated_at"]
    assert insert_rows(ConsentRecord, cols, [(p.pk, "test", "scope", "1", "roster import", now, now, now)]) == 1
    c = ConsentRecord.objects.get(person=p)
    assert (c.channel, c.withdrawn_at) == ("roster import", None)
    assert abs((c.given_at - now).total_seconds()) < 1e-3
