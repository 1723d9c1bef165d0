"""Rule citations match the published texts (issue 13, item 7; docs/domain.md section 1).

Regulations on the Work of Party Branches (trial, 2018): art. 4 holds both the floor (a unit with 3 or more
formal members sets up a branch) and the cap (a branch generally has no more than 50 members); art. 5 holds
joint branches (at most 5 units); ch. 6 the branch committee and terms. The general-branch (50) and
primary-committee (100) figures are established practice: the Party Constitution (art. 30) gives no figure.
"""

import re

import pytest
from django.utils import translation

from xinye.algorithms.rules import RulesError, get_rules
from xinye.organizations.findings import SOURCES

CPC = get_rules("cpc")
BRANCH_REGULATIONS = "Regulations on the Work of Party Branches (trial, 2018)"


def _clauses(text: str) -> list[str]:
    return [c.strip() for c in re.split(r"[;；]", text) if c.strip()]


def _figures_attributed_to_constitution(text: str) -> list[str]:
    """The 50 or 100 figures in a clause that cites the Party Constitution (it has none)."""
    return [
        c
        for c in _clauses(text)
        if ("Constitution" in c or "党章" in c) and re.search(r"(?<!\d)(50|100)(?!\d)", c.replace("art. 30", ""))
    ]


def test_floor_and_cap_cite_article_4():
    for rule in ("min_formal_members", "branch_cap"):
        assert CPC.source(rule).startswith(f"{BRANCH_REGULATIONS}, art. 4:"), CPC.source(rule)
    assert "3 or more formal members" in CPC.source("min_formal_members")
    assert "no more than 50 members" in CPC.source("branch_cap")


def test_joint_branch_cites_article_5_and_committee_and_terms_chapter_6():
    assert CPC.source("joint_max_units").startswith(f"{BRANCH_REGULATIONS}, art. 5:")
    assert "no more than 5 units" in CPC.source("joint_max_units")
    for rule in ("committee_at", "term_years"):
        assert CPC.source(rule).startswith(f"{BRANCH_REGULATIONS}, ch. 6:"), CPC.source(rule)
    assert "3 to 5 members" in CPC.source("committee_at") and "no more than 7" in CPC.source("committee_at")


def test_no_source_gives_the_constitution_a_50_or_100_figure():
    for rule in ("general_branch_at", "primary_committee_at"):
        text = CPC.source(rule)
        assert text.startswith("Established practice"), text
        assert "approval of the higher organization" in text
        assert "gives no figure" in text
    for rule, text in CPC.sources.items():
        assert not _figures_attributed_to_constitution(text), (rule, text)
        # the branch regulations' figures sit in art. 4 and 5, never in art. 6 (or a guessed art. 18/19)
        assert not re.search(r"art\. (6|18|19)\b", text), (rule, text)


def test_translated_sources_match_the_rule_set_and_cite_the_same_articles():
    with translation.override("en"):
        for rule, text in SOURCES.items():
            assert str(text) == CPC.source(rule), rule  # the page shows the same citation as the CLI
    with translation.override("zh-hans"):
        zh = {rule: str(text) for rule, text in SOURCES.items()}
    assert zh["min_formal_members"].startswith("《中国共产党支部工作条例（试行）》（2018）第四条")
    assert zh["branch_cap"].startswith("《中国共产党支部工作条例（试行）》（2018）第四条")
    assert zh["joint_max_units"].startswith("《中国共产党支部工作条例（试行）》（2018）第五条")
    assert zh["committee_at"].startswith("《中国共产党支部工作条例（试行）》（2018）第六章")
    assert zh["term_years"].startswith("《中国共产党支部工作条例（试行）》（2018）第六章")
    for rule, text in zh.items():
        assert text != CPC.source(rule), f"{rule} is not translated"
        assert not _figures_attributed_to_constitution(text.replace("第三十条", "")), (rule, text)
        assert "第六条" not in text, (rule, text)


def test_committee_sizes_are_rule_set_data_with_a_source():
    assert CPC.committee_size("branch") == (3, 5, 7)
    assert CPC.committee_size("joint_branch") == (3, 5, 7)
    assert CPC.committee_size("general_branch") == (5, 7, 9)
    assert CPC.committee_size("committee") == (5, 9, 9)
    assert CPC.committee_size("secondary_committee") is None  # no national figure
    assert CPC.source("committee_sizes").startswith(f"{BRANCH_REGULATIONS}, ch. 6:")
    assert get_rules("union").committee_sizes == {}
    custom = get_rules("cpc", overrides={"committee_sizes": {"branch": [3, 5, 5]}})
    assert custom.committee_size("branch") == (3, 5, 5) and custom.committee_size("committee") is None
    assert CPC.committee_size("branch") == (3, 5, 7)  # the shipped rule set is unchanged


def test_bad_committee_sizes_are_refused():
    for bad in ({"branch": [5, 3, 7]}, {"branch": [0, 3, 5]}, {"branch": [3, 5]}, {"branch": [3, 5, True]}, [3]):
        with pytest.raises(RulesError):
            get_rules("cpc", overrides={"committee_sizes": bad})
