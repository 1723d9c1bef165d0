"""Pages of structure planning: a company's audit, running a plan, reviewing and approving a proposal."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinye.accounts.scope import request_scope
from xinye.algorithms.rules import RULE_SETS
from xinye.common.concurrency import Conflict
from xinye.common.jobs import job_submit
from xinye.common.views import get_or_404, paginate

from . import planning, selectors
from .findings import kind_label, localized, localized_unplaced
from .models import Proposal, ProposalStatus

PLANNER_ROLES = {"admin", "organizer", "org_staff"}


def _may_plan(scope, company) -> bool:
    return planning.may_plan(scope, company)


def _planning_company(request, pk: int):
    """The company, if the user may see its structure planning; otherwise 404 (as if it did not exist)."""
    scope = request_scope(request)
    company = get_or_404(selectors.company_get, scope=scope, pk=pk)
    if not _may_plan(scope, company):
        raise Http404
    return scope, company


@login_required
def company_structure(request, pk: int):
    scope, company = _planning_company(request, pk)
    rules = request.GET.get("rules", "cpc")
    if rules not in RULE_SETS:
        rules = "cpc"
    ruleset = planning.rules_for(rules)
    snap = planning.company_snapshot(company=company, rules=ruleset)
    from xinye.algorithms import structure

    findings = [localized(f) for f in structure.audit(snap.business, snap.orgs, ruleset, today=_today())]
    counts = {s: sum(f["severity"] == s for f in findings) for s in ("error", "warning", "info")}
    proposal_status = request.GET.get("status", "")
    proposals = company.proposals.order_by("-created_at", "-pk")
    if proposal_status in ProposalStatus.values:
        proposals = proposals.filter(status=proposal_status)
    page = paginate(request, proposals, per_page=20)
    return render(
        request,
        "organizations/structure.html",
        {
            "company": company,
            "findings": findings,
            "counts": counts,
            "rules": rules,
            # the algorithms' labels are English msgids (algorithms never import Django): translated here
            "rule_sets": {key: {"label": _(r.label)} for key, r in RULE_SETS.items()},
            "proposals": page,
            "page": page,
            "proposal_status": proposal_status,
            "proposal_statuses": ProposalStatus.choices,
            "may_plan": True,
            "members": len(snap.business.members),
            "units": len(snap.business.units),
        },
    )


@login_required
@require_POST
def company_plan(request, pk: int):
    scope = request_scope(request)
    company = get_or_404(selectors.company_get, scope=scope, pk=pk)
    if not _may_plan(scope, company):
        return HttpResponseForbidden(_("Only organizers and organization staff may plan."))
    rules = request.POST.get("rules", "cpc")
    j = job_submit(
        kind="structure_plan",
        params={"company_id": company.pk, "rules": rules if rules in RULE_SETS else "cpc"},
        user=request.user,
    )
    return redirect("job_detail", pk=j.pk)


def _proposal_get(request, pk: int) -> Proposal:
    proposal = get_or_404(Proposal.objects.select_related("company").get, pk=pk)
    _planning_company(request, proposal.company_id)  # 404 when out of scope
    return proposal


@login_required
def proposal_detail(request, pk: int):
    proposal = _proposal_get(request, pk)
    plan = proposal.plan
    before = proposal.before["organizations"]
    after = plan["organizations"]
    snap_names = _names(before, after, proposal)
    before_ids = {o["id"] for o in before}
    after_by_id = {o["id"]: o for o in after}
    status = {}
    for o in after:
        old = next((b for b in before if b["id"] == o["id"]), None)
        status[o["id"]] = "new" if old is None else ("kept" if _same(o, old) else "changed")
    for o in before:
        if o["id"] not in after_by_id:
            status[o["id"]] = "dissolved"
    fixed = _fixed(plan["findings"], plan.get("remaining_findings", []))
    return render(
        request,
        "organizations/proposal.html",
        {
            "proposal": proposal,
            "plan": plan,
            "stats": plan["stats"],
            "plan_rows": _aligned_rows(before, after, status, snap_names),
            "fixed": [localized(f) for f in fixed],
            "remaining": [localized(f) for f in plan.get("remaining_findings", [])],
            "unplaced": [localized_unplaced(u) for u in plan.get("unplaced", [])],
            "may_decide": proposal.status == ProposalStatus.PENDING,
            "dissolved": [o for o in before if o["id"] not in after_by_id],
            "before_ids": before_ids,
        },
    )


@login_required
@require_POST
def proposal_decide(request, pk: int):
    proposal = _proposal_get(request, pk)
    note = request.POST.get("note", "")[:2000]
    try:
        if request.POST.get("decision") == "approve":
            planning.proposal_approve(proposal=proposal, user=request.user, note=note)
            messages.success(request, _("The plan was approved and applied."))
        else:
            planning.proposal_reject(proposal=proposal, user=request.user, note=note)
            messages.info(request, _("The plan was rejected."))
    except (planning.PlanningError, Conflict) as exc:  # Conflict: an organization was saved meanwhile
        messages.error(request, str(exc))
    return redirect("proposal_detail", pk=proposal.pk)


def _today():
    from django.utils import timezone

    return timezone.localdate()


def _same(a: dict, b: dict) -> bool:
    keys = ("parent", "kind")
    return (
        all(a.get(k) == b.get(k) for k in keys)
        and sorted(a["units"]) == sorted(b["units"])
        and sorted(a["members"]) == sorted(b["members"])
    )


def _fixed(before: list[dict], after: list[dict]) -> list[dict]:
    remaining = {(f["code"], f["subject_id"]) for f in after}
    return [f for f in before if (f["code"], f["subject_id"]) not in remaining]


def _names(before, after, proposal) -> dict[str, str]:
    from .models import BusinessUnit, Organization

    ids = [int(o["id"]) for o in before + after if o["id"].isdigit()]
    names = {str(o.pk): o.name for o in Organization.objects.filter(pk__in=ids)}
    unit_ids = {int(u) for o in after + before for u in o["units"] if u.isdigit()}
    unit_rows = {str(u.pk): u for u in BusinessUnit.objects.filter(pk__in=unit_ids)}
    for o in after:
        if o["id"] not in names:
            kind = (
                planning.stored_kind(o["kind"], planning.rules_for(proposal.rules))
                if o["kind"] not in planning.CPC_KINDS
                else o["kind"]
            )
            names[o["id"]] = planning.org_name_for(
                proposal.company, o, [unit_rows[u] for u in o["units"] if u in unit_rows], kind
            )
    return names


def _tree(orgs: list[dict], status: dict, names: dict) -> list[dict]:
    nodes = {
        o["id"]: {
            "id": o["id"],
            "kind": kind_label(o["kind"]),
            "name": names.get(o["id"], o["id"]),
            "members": len(o["members"]),
            "units": len(o["units"]),
            "status": status.get(o["id"], ""),
            "children": [],
        }
        for o in orgs
    }
    roots = []
    for o in orgs:
        parent = o.get("parent")
        (nodes[parent]["children"] if parent in nodes else roots).append(nodes[o["id"]])
    return roots


def _aligned_rows(before: list[dict], after: list[dict], status: dict, names: dict) -> list[dict]:
    """One row per organization, before beside after, so a reader compares row by row (issue 16).
    Rows follow the plan's tree depth-first; organizations the plan dissolves follow at the end, in the
    order of the old tree. Each row: id, depth (0 = top), status (kept/changed/new/dissolved), before and
    after as {kind, name, members} or None."""
    before_nodes = {n["id"]: n for n in _flatten(_tree(before, status, names))}
    rows = []
    for node in _flatten(_tree(after, status, names)):
        rows.append(
            {
                "id": node["id"],
                "depth": node["depth"],
                "status": node["status"],
                "before": before_nodes.get(node["id"]),
                "after": node,
            }
        )
    after_ids = {r["id"] for r in rows}
    for node in before_nodes.values():
        if node["id"] not in after_ids:
            rows.append(
                {"id": node["id"], "depth": node["depth"], "status": "dissolved", "before": node, "after": None}
            )
    return rows


def _flatten(nodes: list[dict], depth: int = 0) -> list[dict]:
    out = []
    for n in nodes:
        out.append({**n, "depth": depth, "indent": depth * 1.25})
        out.extend(_flatten(n["children"], depth + 1))
    return out


@login_required
def company_business_download(request, pk: int):
    """The company's business architecture (units by key, members by person id) as .xlsx: edit and re-import."""
    import io

    from django.http import HttpResponse

    from xinye.algorithms import structure_io
    from xinye.common.labels import structure_label

    _, company = _planning_company(request, pk)
    buffer = io.BytesIO()
    structure_io.write_business_xlsx(buffer, planning.business_by_key(company), label=structure_label)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="business-{company.pk}.xlsx"'
    return response


@login_required
@require_POST
def company_business_import(request, pk: int):
    """Upload a new version of the business architecture: show what changed; apply unless a dry run."""
    from pathlib import Path

    from xinye.algorithms.errors import InputError, XinyeError
    from xinye.common.input_errors import localized_errors
    from xinye.common.uploads import uploaded_path

    scope, company = _planning_company(request, pk)
    upload = request.FILES.get("file")
    dry_run = request.POST.get("dry_run") == "1"
    context = {"company": company, "dry_run": dry_run, "error": "", "result": None}
    suffix = Path(upload.name).suffix.lower() if upload else ""
    if upload is None:
        context["error"] = _("Choose a file.")
    elif suffix not in (".json", ".xlsx"):
        context["error"] = _("Use a .json or .xlsx file (sheets units and members).")
    elif upload.size > 50 * 1024 * 1024:
        context["error"] = _("The file is larger than 50 MB.")
    else:
        with uploaded_path(upload) as path:
            try:
                context["result"] = planning.business_version_import(
                    company=company, path=path, dry_run=dry_run, user=request.user, scope=scope
                )
            except InputError as exc:
                # in the page's language: where each problem is (file, sheet, row, column, value) and what
                shown = localized_errors(exc, {str(path): upload.name})
                context["error"], context["errors"] = shown["summary"], shown["errors"]
            except XinyeError as exc:
                context["error"] = str(exc).replace(str(path), upload.name)
    status = 400 if context["error"] else 200
    return render(request, "organizations/business_import.html", context, status=status)
