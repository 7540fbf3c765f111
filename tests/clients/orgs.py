"""Who plays what in the client package's tests: bodies no other test files for, so that the
grants they hold are only these tests' (a grant token carries one grant per dataset)."""

from __future__ import annotations

from broker.oauth.scopes import FIXED_SCOPES

PROVIDER = "gd-rst"  # 省人社厅: owns both datasets below
LICENCES = "gd-rst-labour-dispatch-licences"  # unconditional: granted at filing
AGENCIES = "gd-rst-hr-service-agencies"  # unconditional, with division_code
CONDITIONAL = ("gz-rsj-talent-green-card", ["card_number", "name"])  # gz-rsj's CDO decides
CONDITIONAL_APPROVER = "gz-rsj"
# A client must be allowed `grants:use` to get grant tokens (issue 18's authority rules);
# asked for wherever the broker knows the scope.
GRANT_USE = " grants:use" if "grants:use" in FIXED_SCOPES else ""
REQUESTER_SCOPES = "requests:submit requests:read grants:read" + GRANT_USE
PROVIDER_SCOPES = "grants:read grants:revoke tokens:introspect"
