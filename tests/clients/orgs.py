"""Who plays what in the client package's tests: bodies no other test files for, so that the
grants they hold are only these tests' (a grant token carries one grant per dataset)."""

from __future__ import annotations

PROVIDER = "gd-rst"  # 省人社厅: owns both datasets below
LICENCES = "gd-rst-labour-dispatch-licences"  # unconditional: granted at filing
AGENCIES = "gd-rst-hr-service-agencies"  # unconditional, with division_code
CONDITIONAL = ("gz-rsj-talent-green-card", ["card_number", "name"])  # gz-rsj's CDO decides
CONDITIONAL_APPROVER = "gz-rsj"
# `grants:use`: a client must be allowed it to get grant tokens
REQUESTER_SCOPES = "requests:submit requests:read grants:read grants:use"
PROVIDER_SCOPES = "grants:read grants:revoke tokens:introspect"
