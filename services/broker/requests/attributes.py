"""Events, tasks and views that repeat a row's attributes under the same names: each lists those
names once, as data, and takes the values from the row (what differs is still said by hand)."""

from __future__ import annotations

# What a request event, a view of the request and an approval task all say of the request as it
# is stored. A view of a request says more of it (views.py).
REQUEST_AS_STORED = ("kind", "status", "requester_id", "provider_id", "dataset_id", "trace_id")
# What the route shows of a decision, in an event and in a view alike.
DECISION_AS_STORED = ("organisation_id", "decision", "decided_by", "on_behalf_of", "comment")
