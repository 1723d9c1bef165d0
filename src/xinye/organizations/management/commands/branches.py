"""`xinye branches plan COMMUNITIES.csv MEMBERS.csv -o PLAN.json`: community-based branches, no database."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinye.algorithms import branches
from xinye.algorithms.errors import XinyeError
from xinye.common.progress import progress_bar


class Command(BaseCommand):
    help = "Form community-based branches for members who work around communities (files in, files out)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("plan", help="group communities into branches")
        p.add_argument("communities", type=Path, help="COMMUNITIES.csv: code, lat, lon, street (WGS-84)")
        p.add_argument("members", type=Path, help="MEMBERS.csv: id, community, status, occupation")
        p.add_argument("-o", "--output", type=Path, required=True, help="PLAN.json")
        p.add_argument("--radius-km", type=float, help="work radius around the anchor (default: the rule set's, 3)")
        p.add_argument(
            "--radius",
            action="append",
            default=[],
            metavar="OCCUPATION=KM",
            help="work radius for one occupation, e.g. courier=2 (repeatable)",
        )
        p.add_argument("--floor", type=int, help="formal members a branch needs (default and least: the rules', 3)")
        p.add_argument("--cap", type=int, help="members a branch may have (default and most: the rules', 50)")
        p.add_argument("--max-edge-km", type=float, help="longest neighbour link (default: twice the radius)")

    def handle(self, *args, action, **o):
        radii = {}
        for item in o["radius"]:
            occ, _, km = item.partition("=")
            try:
                radii[occ.strip()] = float(km)
            except ValueError as exc:
                raise CommandError(f"--radius {item!r}: expected OCCUPATION=KM, e.g. courier=2") from exc
        from xinye.organizations.community_planning import community_params

        try:
            o.update(community_params(floor=o["floor"], cap=o["cap"], radius_km=o["radius_km"],
                                      field_names=("--floor", "--cap", "--radius-km")))  # fmt: skip
            communities = branches.load_communities_csv(o["communities"])
            members = branches.load_members_csv(o["members"], {c.code for c in communities})
            with progress_bar(o["verbosity"] > 0 and len(communities) > 20_000) as bar:
                result = branches.form_branches(
                    communities,
                    members,
                    floor=o["floor"],
                    cap=o["cap"],
                    radius_km=o["radius_km"],
                    radius_by_occupation=radii,
                    max_edge_km=o["max_edge_km"],
                    progress=bar,
                    files=(str(o["communities"]), str(o["members"])),
                )
        except XinyeError as exc:
            raise CommandError(str(exc)) from exc
        o["output"].write_text(json.dumps(result.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        s = result.stats
        self.stdout.write(
            f"{s['branches']} branches over {s['communities_with_members']} communities with members; "
            f"{s['placed']} members placed, {s['unplaced']} unplaced; {s['members_beyond_radius']} beyond the work "
            f"radius; mean distance to the anchor {s['mean_distance_to_anchor_m']:.0f} m"
        )
        self.stdout.write(f"written to {o['output']}")
