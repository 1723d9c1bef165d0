"""A worker's rights (issue 10, "what must be true" 10): a copy of their data, erasure and withdrawal of
consent, after proving the phone with a one-time code; and the organizers' command for requests in person."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from xinye.accounts.models import Role
from xinye.algorithms.geo import h3_cell
from xinye.common import ratelimit
from xinye.demands import liaison
from xinye.demands.models import Category, Contact, Demand, LiaisonPair
from xinye.demands.services import demand_submit
from xinye.people import rights, sms
from xinye.people.models import WORK_CELL_RESOLUTION, ConsentRecord, Membership, Person, PhoneCode
from xinye.places.models import Division

pytestmark = pytest.mark.django_db

PHONE = "13977770001"
NAME = "王小明"


@pytest.fixture(autouse=True)
def test_sender(settings):
    settings.XINYE_SMS_SENDER = "xinye.people.sms.LocmemSender"
    sms.outbox.clear()
    cache.clear()
    ratelimit.reset()
    yield
    sms.outbox.clear()
    cache.clear()
    ratelimit.reset()


@pytest.fixture
def community():
    return Division.objects.filter(level="community", code__startswith="440306", lat__isnull=False).order_by("code")[0]


@pytest.fixture
def worker(community):
    """A worker with a consent, a demand naming them, a liaison member and a contact."""
    p = Person.objects.create(
        name=NAME,
        phone=PHONE,
        occupation="delivery_rider",
        work_community=community,
        work_cell=h3_cell(community.lat, community.lon, WORK_CELL_RESOLUTION),
    )
    p.name = NAME  # a second history row with the same values: old rows must be erased too
    p.save()
    ConsentRecord.objects.create(person=p, purpose="report to the community", scope="s", given_at=timezone.now())
    member = Person.objects.get(user__username="member")
    LiaisonPair.objects.create(member=member, worker=p, since=timezone.localdate() - timedelta(days=30))
    Contact.objects.create(member=member, worker=p, on=timezone.localdate(), channel="phone", note=f"{NAME} 很忙")
    demand_submit(
        category=Category.objects.filter(active=True).first(),
        description=f"我是{NAME}，电话 {PHONE[:3]} {PHONE[3:7]} {PHONE[7:]}，工资被扣",
        person=p,
        community=community,
    )
    return p


def _code() -> str:
    assert len(sms.outbox) == 1, sms.outbox
    phone, text = sms.outbox.pop()
    assert phone == PHONE
    return re.search(r"\b(\d{6})\b", text).group(1)


def _prove(client, phone=PHONE) -> None:
    assert client.post("/my-data/", {"phone": phone}).url == "/my-data/code/"
    response = client.post("/my-data/code/", {"code": _code()})
    assert response.status_code == 302 and response.url == "/my-data/view/"


def test_a_worker_proves_the_phone_and_gets_a_copy_of_everything_held(client, worker):
    assert client.get("/my-data/view/").url == "/my-data/"  # nothing without the proof
    assert client.get("/my-data/").status_code == 200
    _prove(client)

    page = client.get("/my-data/view/")
    assert page.status_code == 200
    html = page.content.decode()
    assert NAME in html and PHONE in html and Demand.objects.get(person=worker).reference in html
    body = re.split(r"<main[^>]*>", html)[1]
    assert "style=" not in body and "<script" not in body

    download = client.get("/my-data/xinye-my-data.json")
    assert download["Content-Disposition"].startswith("attachment")
    data = json.loads(download.content)
    [me] = data["people"]
    assert (me["name"], me["phone"]) == (NAME, PHONE)
    assert me["work_community"]["code"] == worker.work_community.code
    assert me["consents"][0]["purpose"] == "report to the community"
    assert me["demands"][0]["status"] and NAME in me["demands"][0]["description"]
    assert me["liaison"] and me["liaison_contacts"][0]["channel"]
    # only the status of a demand, never the handlers' notes
    assert all(set(d) >= {"reference", "status"} and "notes" not in d for d in me["demands"])


def test_a_code_is_single_use_hashed_and_five_wrong_codes_lock_it(client, worker):
    client.post("/my-data/", {"phone": PHONE})
    code = _code()
    row = PhoneCode.objects.get()
    assert code not in row.code_hash and PHONE not in row.phone_hash
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    statuses = [client.post("/my-data/code/", {"code": wrong}).status_code for _ in range(5)]
    assert statuses == [400] * 5
    locked = client.post("/my-data/code/", {"code": code})
    assert locked.status_code == 400 and client.get("/my-data/view/").status_code == 302
    assert rights.phone_code_verify(phone=PHONE, code=code) == rights.LOCKED

    # a new code works once
    client.post("/my-data/", {"phone": PHONE})
    code = _code()
    assert rights.phone_code_verify(phone=PHONE, code=code) == rights.OK
    assert rights.phone_code_verify(phone=PHONE, code=code) == rights.EXPIRED


def test_an_expired_code_is_refused(worker):
    rights.phone_code_issue(phone=PHONE)
    code = _code()
    later = timezone.now() + rights.CODE_TTL + timedelta(seconds=1)
    assert rights.phone_code_verify(phone=PHONE, code=code, now=later) == rights.EXPIRED


def test_an_unknown_phone_gets_the_same_answers_and_nothing_is_sent(client, worker):
    unknown = "13977770009"
    known_start = client.post("/my-data/", {"phone": PHONE})
    known_page = client.get("/my-data/code/").content.decode().replace("139****0001", "X")
    known_wrong = client.post("/my-data/code/", {"code": "000000"})
    sms.outbox.clear()

    other = client.__class__()
    unknown_start = other.post("/my-data/", {"phone": unknown})
    unknown_page = other.get("/my-data/code/").content.decode().replace("139****0009", "X")
    unknown_wrong = other.post("/my-data/code/", {"code": "000000"})
    assert sms.outbox == []
    assert (known_start.status_code, known_start.url) == (unknown_start.status_code, unknown_start.url)
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", known_page) == strip.sub("", unknown_page)
    assert known_wrong.status_code == unknown_wrong.status_code == 400
    assert strip.sub("", known_wrong.content.decode().replace("139****0001", "X")) == strip.sub(
        "", unknown_wrong.content.decode().replace("139****0009", "X")
    )


def test_code_requests_are_limited_per_phone_and_per_address(client, worker):
    codes = [client.post("/my-data/", {"phone": PHONE}).status_code for _ in range(rights.LIMIT_PER_PHONE + 1)]
    assert codes == [302] * rights.LIMIT_PER_PHONE + [429]
    others = [
        client.post("/my-data/", {"phone": f"139888800{i:02d}"}).status_code
        for i in range(rights.LIMIT_PER_ADDRESS - rights.LIMIT_PER_PHONE)
    ]
    assert others[-1] == 429
    assert client.post("/my-data/", {"phone": "12"}).status_code == 400


def test_erasure_removes_identity_from_rows_and_history_but_keeps_counts_and_demands(client, worker, community):
    in_community = Person.objects.filter(work_community=community).count()
    demand = Demand.objects.get(person=worker)
    # an anonymous demand someone else wrote with the worker's phone in it
    other = demand_submit(
        category=demand.category, description=f"请联系 {PHONE} 或 13800000000", anonymous=True, community=community
    )
    _prove(client)
    assert client.get("/my-data/delete/").status_code == 200
    done = client.post("/my-data/delete/", {"confirm": "1"})
    assert done.status_code == 200

    worker.refresh_from_db()
    assert worker.erased_at is not None and worker.phone == "" and NAME not in worker.name
    assert worker.work_cell is None and worker.occupation == "delivery_rider"
    history = list(Person.history.filter(id=worker.pk).values("name", "phone", "history_change_reason"))
    assert len(history) >= 3
    assert all(h["name"] != NAME and h["phone"] == "" for h in history)
    assert Person.history.filter(id=worker.pk).latest().history_change_reason == rights.REASON_ERASED
    assert not Person.history.filter(phone=PHONE).exists() and not Person.history.filter(name=NAME).exists()
    # the demand stays, with no one attached and no name or phone in its text
    demand.refresh_from_db()
    assert demand.person_id is None and NAME not in demand.description
    assert "7777" not in demand.description and "工资被扣" in demand.description
    other.refresh_from_db()
    assert other.description == f"请联系 {rights.REDACTED} 或 13800000000"
    assert Contact.objects.filter(worker=worker).get().note == ""
    assert not LiaisonPair.objects.filter(worker=worker, until__isnull=True).exists()
    assert Person.objects.filter(work_community=community).count() == in_community
    # the proof ends with the erasure, and nothing is held for the phone any more
    assert client.get("/my-data/view/").status_code == 302
    assert rights.person_data(phone=PHONE)["people"] == []


def test_withdrawing_consent_stops_processing(client, worker):
    member = Person.objects.get(user__username="member")
    assert worker.pk in {r["worker"].pk for r in liaison.my_workers(scope=_scope("member"))}
    _prove(client)
    assert client.post("/my-data/withdraw/", {"confirm": "1"}).status_code == 200

    worker.refresh_from_db()
    assert worker.consent_withdrawn_at is not None and worker.name == NAME
    assert worker.consents.filter(purpose=rights.WITHDRAWAL_PURPOSE).exists()
    assert not worker.consents.filter(withdrawn_at__isnull=True).exists()
    assert not LiaisonPair.objects.filter(worker=worker, until__isnull=True).exists()
    assert worker.pk not in {r["worker"].pk for r in liaison.my_workers(scope=_scope("member"))}
    # a later assignment run leaves them out
    own = Membership.objects.filter(person=member, until__isnull=True).first().organization
    area = liaison.area_for_organization(own)
    snap = liaison.liaison_snapshot(area)
    assert str(worker.pk) not in {w.id for w in snap.workers}
    liaison.liaison_assign_run(area=area)
    assert not LiaisonPair.objects.filter(worker=worker, until__isnull=True).exists()


def test_a_withdrawn_worker_in_an_assignment_area_is_not_assigned():
    own = Role.objects.get(user__username="secretary").organization
    area = liaison.area_for_organization(own)
    snap = liaison.liaison_snapshot(area)
    target = Person.objects.get(pk=int(snap.workers[0].id))
    rights.consent_withdraw(phone=target.phone)
    assert int(snap.workers[0].id) not in {int(w.id) for w in liaison.liaison_snapshot(area).workers}
    liaison.liaison_assign_run(area=area)
    assert not LiaisonPair.objects.filter(worker=target, until__isnull=True).exists()


def test_an_organizer_handles_a_request_in_person_with_the_command(worker, tmp_path, capsys):
    out = tmp_path / "data.json"
    call_command("people", "export-data", "--phone", PHONE, "-o", str(out))
    assert json.loads(out.read_text())["people"][0]["name"] == NAME
    with pytest.raises(CommandError, match="--yes"):
        call_command("people", "erase", "--phone", PHONE)
    with pytest.raises(CommandError, match="11 digits"):
        call_command("people", "erase", "--phone", "123", "--yes")
    call_command("people", "erase", "--phone", PHONE, "--yes", "--by", "organizer")
    last = Person.history.filter(id=worker.pk).latest()
    assert last.history_user.username == "organizer" and last.history_date is not None
    assert last.name != NAME and last.phone == ""


def _scope(username):
    from django.contrib.auth import get_user_model

    from xinye.accounts.scope import scope_for

    return scope_for(get_user_model().objects.get(username=username))


def test_a_member_who_withdrew_consent_is_left_out_of_the_organization_exports(login):
    branch = Role.objects.get(user__username="member").organization
    me = Person.objects.get(user__username="member")
    client = login("admin")
    url = f"/organizations/{branch.pk}/export.popolo.json"
    assert f"person/{me.pk}" in {m["person_id"] for m in client.get(url).json()["memberships"]}
    rights.consent_withdraw(phone=me.phone)
    assert f"person/{me.pk}" not in {m["person_id"] for m in client.get(url).json()["memberships"]}
    assert f"person:{me.pk}>" not in client.get(f"/organizations/{branch.pk}/export.ttl").content.decode()


def test_erasure_also_empties_a_pending_report_that_holds_the_phone(client, worker, community):
    # given a report to the community, still pending (it holds the phone and the name as said, nothing else)
    from xinye.people.models import CommunityReport
    from xinye.people.services import community_report_submit

    report = community_report_submit(
        name=NAME, phone=PHONE, occupation="courier", community_code=community.code, consent=True
    )
    assert CommunityReport.objects.get(pk=report.pk).phone == PHONE
    # when the worker erases their data
    _prove(client)
    client.post("/my-data/delete/", {"confirm": "1"})
    # then the pending report keeps neither the phone nor the name
    report.refresh_from_db()
    assert report.phone == "" and NAME not in json.dumps(report.reported, ensure_ascii=False)
