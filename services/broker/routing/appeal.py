"""Who coordinates an appeal (申请协调). Pure functions (its deadlines are working days of the
broker's calendar: requests/appeals.py).

The seed makes the CDO the one who coordinates (统筹协调) and resolves the major problems of data
sharing: a refusal is taken up the hierarchy, never back to whoever refused. The coordinator of
an appeal against a body's refusal is the first body up the policy's appeal chain for the
refusing body's level (`appeal.levels`, else `appeal.chain`) from it: a
department's own government's CDO (the provider's government CDO), then that government's data
bureau (where the refusal was the government's own, or crossed to its level), then the bureaus
of the governments above, ending at the provincial bureau. Never the requester, never any body
that refused, and a body without an active CDO is passed over (a bureau always counts), just as
escalation does. An overdue appeal climbs the same ladder from its coordinator.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from broker.routing.model import DirectoryView, NoIndependentApprover
from broker.routing.plan import escalation_target
from broker.routing.policy import AppealPolicy


def appeal_chain(
    refused_by: Collection[str], directory: DirectoryView, policy: AppealPolicy
) -> tuple[str, ...]:
    """The chain the policy gives for the level of the (first) body that refused."""
    return policy.chain_for(directory.organisation(next(iter(refused_by))).level)


def appeal_coordinator(
    refused_by: Collection[str],
    requester_id: str,
    directory: DirectoryView,
    chain: Sequence[str],
) -> str:
    """The body whose CDO decides an appeal against the refusal by `refused_by` (the bodies that
    rejected or narrowed; the first one's place in the hierarchy decides where to start).
    `NoIndependentApprover` when nobody above them is left."""
    start = next(iter(refused_by))
    coordinator = next_coordinator(start, refused_by, requester_id, directory, chain)
    if coordinator is None:
        raise NoIndependentApprover(
            f"nobody above {start!r} may coordinate an appeal by {requester_id!r}"
        )
    return coordinator


def next_coordinator(
    current: str,
    refused_by: Collection[str],
    requester_id: str,
    directory: DirectoryView,
    chain: Sequence[str],
) -> str | None:
    """The next body up the chain from `current` that is neither the requester nor one that
    refused; None at the top (an overdue appeal then stays where it is)."""
    excluded = {requester_id, *refused_by}
    candidate = escalation_target(current, directory, chain, requester_id)
    while candidate is not None and candidate in excluded:
        candidate = escalation_target(candidate, directory, chain, requester_id)
    return candidate
