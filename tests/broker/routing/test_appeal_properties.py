"""Properties of the appeal's coordinator over random directories: nobody who
refused and never the requester decides an appeal, wherever it starts or climbs to."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from broker.routing.appeal import appeal_coordinator, next_coordinator
from broker.routing.model import DirectoryView, NoIndependentApprover
from testing.directories import directories

CHAIN = ("department", "government", "data_bureau")


def _can_decide(directory: DirectoryView, org_id: str) -> bool:
    org = directory.organisation(org_id)
    return org.has_active_cdo or org.kind == "data_bureau"


@given(directories(), st.data())
def test_no_appeal_is_decided_by_the_requester_or_a_body_that_refused(
    directory: DirectoryView, data: st.DataObject
) -> None:
    ids = sorted(directory.organisations)
    requester = data.draw(st.sampled_from(ids), label="requester")
    refused = data.draw(
        st.lists(
            st.sampled_from([i for i in ids if i != requester] or ids),
            min_size=1,
            max_size=3,
            unique=True,
        ),
        label="refused_by",
    )
    try:
        coordinator = appeal_coordinator(refused, requester, directory, CHAIN)
    except NoIndependentApprover:
        return
    climbed = [coordinator]
    while (
        above := next_coordinator(climbed[-1], refused, requester, directory, CHAIN)
    ) is not None:
        assert above not in climbed, "an overdue appeal never comes back down"
        climbed.append(above)
    for body in climbed:
        assert body != requester
        assert body not in refused
        assert _can_decide(directory, body)


@given(directories(), st.data())
def test_a_department_s_refusal_goes_to_its_government_s_cdo_when_it_has_one(
    directory: DirectoryView, data: st.DataObject
) -> None:
    departments = sorted(o.id for o in directory.organisations.values() if o.kind == "department")
    if not departments:
        return
    refused = data.draw(st.sampled_from(departments))
    government = directory.government_of(refused)
    requester = data.draw(st.sampled_from(sorted(set(directory.organisations) - {government})))
    if requester == refused or not directory.organisation(government).has_active_cdo:
        return
    assert appeal_coordinator([refused], requester, directory, CHAIN) == government
