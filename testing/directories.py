"""Directories for the routing and jurisdiction rules' tests: a small hand-built one named after
the pilot seed, and random ones for properties (hypothesis)."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st

from broker.routing.model import DirectoryView, OrgView

PROVINCIAL_BUREAU = "p-dsb"  # of every random directory


def org_view(
    id: str,
    kind: str,
    level: str,
    *,
    government: str | None = None,
    parent: str | None = None,
    cdo: bool = True,
) -> OrgView:
    return OrgView(id, kind, level, government, parent, cdo)


# Names follow the pilot seed; "no CDO" marks bodies outside the pilot.
DIRECTORY = DirectoryView.of(
    [
        org_view("gd-gov", "government", "province"),
        org_view("gd-dsb", "data_bureau", "province", government="gd-gov"),
        org_view("gd-gat", "department", "province", government="gd-gov"),
        org_view("gd-rst", "department", "province", government="gd-gov"),
        org_view("gd-jyt", "department", "province", government="gd-gov", cdo=False),
        org_view("gz-gov", "government", "city", parent="gd-gov"),
        org_view("gz-dsb", "data_bureau", "city", government="gz-gov"),
        org_view("gz-gaj", "department", "city", government="gz-gov"),
        org_view("gz-rsj", "department", "city", government="gz-gov"),
        org_view("gz-jyj", "department", "city", government="gz-gov", cdo=False),
        org_view("gz-th-gov", "government", "county", parent="gz-gov"),
        org_view("gz-th-gaj", "department", "county", government="gz-th-gov"),
        org_view("gz-by-gov", "government", "county", parent="gz-gov", cdo=False),
        org_view("gz-by-wjj", "department", "county", government="gz-by-gov", cdo=False),
        org_view("st-gov", "government", "city", parent="gd-gov", cdo=False),  # no bureau either
        org_view("st-gaj", "department", "city", government="st-gov", cdo=False),
    ]
)
# database=None: no .hypothesis/ folder in the repository; failures still print the example.
FAST = settings(deadline=None, max_examples=200, database=None)


@st.composite
def directories(draw: st.DrawFn) -> DirectoryView:
    """A province, up to 3 cities (some without bureau), each with up to 2 counties or towns;
    up to 3 departments per government; any body may lack a CDO. The provincial bureau exists."""
    orgs: list[OrgView] = []

    def government(id: str, level: str, parent: str | None, with_bureau: bool) -> None:
        orgs.append(OrgView(id, "government", level, None, parent, draw(st.booleans())))
        if with_bureau:
            orgs.append(OrgView(f"{id}-dsb", "data_bureau", level, id, None, draw(st.booleans())))
        for n in range(draw(st.integers(0, 3))):
            orgs.append(OrgView(f"{id}-d{n}", "department", level, id, None, draw(st.booleans())))

    government("p", "province", None, with_bureau=True)
    for c in range(draw(st.integers(0, 3))):
        government(f"c{c}", "city", "p", with_bureau=draw(st.booleans()))
        for k in range(draw(st.integers(0, 2))):
            level = draw(st.sampled_from(["county", "town"]))
            government(f"c{c}-k{k}", level, f"c{c}", with_bureau=False)
    return DirectoryView.of(orgs)
