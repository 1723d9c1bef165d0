"""Users and roles (issue 12, item 2): invite, give, change, revoke, deactivate, only within one's own scope;
every change in the history; first sign-in sets the password; switching roles; "my account" with sessions."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client

from xinye.accounts import policy
from xinye.accounts.models import AccountChange, Role, RoleKind, UserSession
from xinye.accounts.scope import scope_for
from xinye.organizations.models import Organization, OrgKind
from xinye.places.models import Division, Level

pytestmark = pytest.mark.django_db
User = get_user_model()


def _u(name):
    """A demo user; "district" is an organizer of a district given two branches of its own (the demo's
    organizations are registered at the city)."""
    if name == "district":
        user = User.objects.filter(username="district_b").first()
        if user is None:
            district = Division.objects.filter(level=Level.COUNTY, code__startswith="4403").order_by("code")[1]
            for i in (1, 2):
                Organization.objects.create(
                    name=f"{district.name}测试第{i}党支部",
                    kind=OrgKind.BRANCH,
                    anchor_kind="division",
                    division=district,
                )
            user = User.objects.create_user("district_b", password="x-long-password-123")
            Role.objects.create(user=user, kind=RoleKind.ORGANIZER, division=district)
        return user
    return User.objects.get(username=name)


def _district_of(user) -> Division:
    return Role.objects.get(user=user, kind=RoleKind.ORGANIZER).division


def _other_district(user) -> Division:
    mine = _district_of(user)
    return Division.objects.filter(level=Level.COUNTY, code__startswith=mine.code[:4]).exclude(pk=mine.pk).first()


def _org_in(division: Division, exclude=()) -> Organization:
    return (
        Organization.objects.filter(division__code__startswith=division.code, dissolved_on__isnull=True)
        .exclude(pk__in=exclude)
        .first()
    )


def _org_outside(division: Division) -> Organization:
    return (
        Organization.objects.filter(dissolved_on__isnull=True, division__isnull=False)
        .exclude(division__code__startswith=division.code)
        .first()
    )


# ---------------------------------------------------------------- the rule


def test_who_may_give_which_role(demo):
    district = scope_for(_u("district"))
    mine, other = _district_of(_u("district")), _other_district(_u("district"))
    assert policy.may_assign(district, "organizer", division=mine)
    assert not policy.may_assign(district, "organizer", division=other)
    assert not policy.may_assign(district, "admin")
    assert policy.may_assign(district, "secretary", organization=_org_in(mine))
    assert not policy.may_assign(district, "secretary", organization=_org_outside(mine))
    assert not policy.may_assign(district, "secretary", organization=None)  # a secretary of nothing

    secretary = scope_for(_u("secretary"))
    branch = Role.objects.get(user__username="secretary").organization
    assert policy.assignable_kinds(secretary) == ["member"]
    assert policy.may_assign(secretary, "member", organization=branch)
    assert not policy.may_assign(secretary, "secretary", organization=branch)
    assert not policy.may_assign(secretary, "member", organization=_org_in(_district_of(_u("district")), [branch.pk]))

    staff = scope_for(_u("staff"))
    assert "organizer" not in policy.assignable_kinds(staff)
    top = Role.objects.get(user__username="staff").organization
    assert policy.may_assign(staff, "org_staff", organization=top)

    for name in ("member", "operator"):
        assert policy.assignable_kinds(scope_for(_u(name))) == []


def test_role_q_is_may_assign(demo):
    """The list filter and the per-role rule are one rule: over every demo role and every demo manager."""
    _u("district")
    roles = list(Role.objects.select_related("division", "organization"))
    for name in ("admin", "organizer", "district", "staff", "secretary", "member", "operator"):
        scope = scope_for(_u(name))
        listed = set(Role.objects.filter(policy.role_q(scope)).values_list("pk", flat=True))
        if not policy.assignable_kinds(scope):
            listed = set()
        decided = {
            r.pk
            for r in roles
            if policy.may_assign(
                scope, r.kind, division=r.division, organization=r.organization, operator_name=r.operator_name
            )
        }
        assert listed == decided, name


# ---------------------------------------------------------------- pages


def test_invite_first_sign_in_and_history(login, demo):
    c = login(_u("district").username)
    mine = _district_of(_u("district"))
    org = _org_in(mine)
    r = c.post(
        "/users/invite/",
        {"username": "new_secretary", "full_name": "李新", "email": "", "kind": "secretary", "organization": org.pk},
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    new = _u("new_secretary")
    assert not new.has_usable_password()
    page = c.get(r["Location"]).content.decode()
    link = re.search(r"(/accounts/welcome/[^<\s]+/)", page).group(1)
    change = AccountChange.objects.get(user=new, action="invited")
    assert change.actor_name == "district_b" and change.role_kind == "secretary" and change.role_scope == org.name

    stranger = Client()
    assert stranger.get(link).status_code == 200
    r = stranger.post(link, {"new_password1": "a long pass phrase 2026", "new_password2": "a long pass phrase 2026"})
    assert r.status_code == 302
    new.refresh_from_db()
    assert new.check_password("a long pass phrase 2026")
    assert stranger.get("/").status_code == 200  # signed in
    assert Client().get(link).status_code == 404  # the link works once
    assert AccountChange.objects.filter(user=new, action="password_set").exists()
    assert Role.objects.get(user=new).organization == org


def test_invite_outside_scope_is_refused(login, demo):
    c = login(_u("district").username)
    outside = _org_outside(_district_of(_u("district")))
    r = c.post(
        "/users/invite/",
        {"username": "sneaky", "full_name": "X", "kind": "secretary", "organization": outside.pk},
    )
    assert r.status_code == 400
    assert not User.objects.filter(username="sneaky").exists()
    r = c.post("/users/invite/", {"username": "sneaky", "full_name": "X", "kind": "admin"})
    assert r.status_code == 400 and not User.objects.filter(username="sneaky").exists()


def test_change_revoke_and_deactivate_within_scope(login, demo):
    c = login(_u("district").username)
    mine = _district_of(_u("district"))
    a, b = Organization.objects.filter(division__code__startswith=mine.code, dissolved_on__isnull=True)[:2]
    user = User.objects.create_user("helper1", password="x-long-password-123")
    role = Role.objects.create(user=user, kind=RoleKind.MEMBER, organization=a)
    r = c.post(f"/users/{user.pk}/roles/{role.pk}/", {"kind": "secretary", "organization": b.pk})
    assert r.status_code == 302
    role.refresh_from_db()
    assert (role.kind, role.organization_id) == ("secretary", b.pk)
    changed = AccountChange.objects.get(user=user, action="changed")
    assert changed.before.endswith(a.name) and changed.role_scope == b.name

    other = Client()
    other.force_login(user)
    assert Session.objects.count() >= 1
    r = c.post(f"/users/{user.pk}/account/", {"action": "deactivate"})
    assert r.status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    assert other.get("/").status_code == 302  # signed out: sent to the sign-in page
    assert c.post(f"/users/{user.pk}/roles/{role.pk}/revoke/").status_code == 302
    assert not Role.objects.filter(pk=role.pk).exists()
    actions = list(AccountChange.objects.filter(user=user).values_list("action", flat=True))
    assert set(actions) >= {"changed", "deactivated", "revoked"}


def test_users_outside_scope_are_missing(login, demo):
    c = login(_u("district").username)
    organizer = _u("organizer")  # the city organizer: above the district organizer
    assert c.get(f"/users/{organizer.pk}/").status_code == 404
    assert c.post(f"/users/{organizer.pk}/account/", {"action": "deactivate"}).status_code == 404
    organizer.refresh_from_db()
    assert organizer.is_active
    listing = c.get("/users/").content.decode()
    assert 'data-user="organizer"' not in listing and 'data-user="admin"' not in listing
    # a user with one role inside and one outside: listed, the inside role changeable, the account not
    mine = _district_of(_u("district"))
    both = User.objects.create_user("both", password="x-long-password-123")
    Role.objects.create(user=both, kind=RoleKind.MEMBER, organization=_org_in(mine))
    outside = Role.objects.create(user=both, kind=RoleKind.MEMBER, organization=_org_outside(mine))
    assert c.post(f"/users/{both.pk}/account/", {"action": "deactivate"}).status_code == 302
    both.refresh_from_db()
    assert both.is_active
    assert c.post(f"/users/{both.pk}/roles/{outside.pk}/revoke/").status_code == 404
    assert Role.objects.filter(pk=outside.pk).exists()


def test_no_changing_ones_own_roles(login, demo):
    c = login(_u("district").username)
    me = _u("district")
    role = Role.objects.get(user=me)
    assert c.post(f"/users/{me.pk}/roles/{role.pk}/revoke/").status_code == 302
    assert Role.objects.filter(pk=role.pk).exists()
    r = c.post(f"/users/{me.pk}/roles/", {"kind": "organizer", "division": _district_of(me).pk})
    assert r.status_code == 302 and Role.objects.filter(user=me).count() == 1


@pytest.mark.parametrize("name", ["member", "operator"])
def test_users_pages_are_missing_for_those_who_give_no_roles(login, demo, name):
    c = login(name)
    assert c.get("/users/").status_code == 404
    assert c.get("/users/invite/").status_code == 404


def test_switching_roles_narrows_the_scope(login, demo):
    user = _u("district")
    branch = Role.objects.get(user__username="secretary").organization
    member_role = Role.objects.create(user=user, kind=RoleKind.SECRETARY, organization=branch)
    c = login(_u("district").username)
    page = c.get("/accounts/me/").content.decode()
    assert 'name="role"' in page
    c.post("/accounts/me/role/", {"role": member_role.pk})
    assert scope_for(user, member_role.pk).division_prefixes == ()
    assert c.get("/users/").status_code == 200  # a secretary gives member roles
    assert 'data-nav="reports"' not in c.get("/").content.decode()  # an organizer's page, not a secretary's
    c.post("/accounts/me/role/", {"role": ""})
    assert 'data-nav="reports"' in c.get("/").content.decode()


def test_switching_to_a_lesser_role_does_not_lift_the_second_factor(settings, demo):
    from xinye.accounts import second_factor

    settings.XINYE_REQUIRE_2FA = True
    user = _u("district")
    branch = Role.objects.get(user__username="secretary").organization
    role = Role.objects.create(user=user, kind=RoleKind.SECRETARY, organization=branch)
    assert second_factor.required_for(user, scope_for(user, role.pk))


def test_my_account_lists_and_ends_sessions(demo):
    user = User.objects.create_user("traveller", password="x-long-password-123")
    Role.objects.create(
        user=user, kind=RoleKind.MEMBER, organization=Organization.objects.filter(kind=OrgKind.BRANCH)[0]
    )
    phone, laptop = Client(HTTP_USER_AGENT="Phone"), Client(HTTP_USER_AGENT="Laptop")
    for c in (phone, laptop):
        assert (
            c.post("/accounts/login/", {"username": "traveller", "password": "x-long-password-123"}).status_code == 302
        )
    assert UserSession.objects.filter(user=user).count() == 2
    page = laptop.get("/accounts/me/").content.decode()
    assert page.count("data-session") == 2 and "Phone" in page
    other = UserSession.objects.get(user=user, user_agent="Phone")
    assert laptop.post(f"/accounts/me/sessions/{other.pk}/end/").status_code == 302
    assert phone.get("/").status_code == 302  # signed out
    assert laptop.get("/").status_code == 200
    # someone else's session cannot be ended by its id
    stranger = User.objects.create_user("stranger", password="x-long-password-123")
    s = Client()
    s.force_login(stranger)
    mine = UserSession.objects.get(user=user)
    s.post(f"/accounts/me/sessions/{mine.pk}/end/")
    assert laptop.get("/").status_code == 200


def test_zh_hans_user_pages(login, demo):
    c = login("organizer")
    c.cookies["django_language"] = "zh-hans"
    for path in ("/users/", "/users/invite/", "/accounts/me/", f"/users/{_u('secretary').pk}/"):
        page = c.get(path, HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
        for english in ("Invite a user", "User name", "Roles", "My roles", "History", "Where I am signed in"):
            assert english not in page, (path, english)


def test_no_staff_role_whose_subtree_reaches_beyond_the_giver(demo):
    """A district organizer may not make someone staff of an organization located in their district whose
    tree reaches other districts (a company's tree often does): that user would see more than the giver."""
    district_user = _u("district")
    mine = _district_of(district_user)
    top = _org_in(mine)
    other = _other_district(district_user)
    Organization.objects.create(
        name="外区站点党支部", kind=OrgKind.BRANCH, anchor_kind="division", division=other, parent=top
    )
    scope = scope_for(district_user)
    assert not policy.may_assign(scope, "org_staff", organization=top)
    assert not policy.may_assign(scope, "secretary", organization=top)
    assert policy.may_assign(scope, "member", organization=top)  # a member role sees only that organization
    leaf = _org_in(mine, exclude=[top.pk])
    assert policy.may_assign(scope, "secretary", organization=leaf)
