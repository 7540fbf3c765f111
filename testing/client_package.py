"""For the client package's tests (clients/python): who plays what, and its examples
(clients/python/examples/) imported as the tests' subjects."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from testing import REPO_ROOT

# Bodies no other test files for, so that the grants they hold are only these tests' (a grant
# token carries one grant per dataset).
PROVIDER = "gd-rst"  # 省人社厅: owns both datasets below
LICENCES = "gd-rst-labour-dispatch-licences"  # unconditional: granted at filing
AGENCIES = "gd-rst-hr-service-agencies"  # unconditional, with division_code
CONDITIONAL = ("gz-rsj-talent-green-card", ["card_number", "name"])  # gz-rsj's CDO decides
CONDITIONAL_APPROVER = "gz-rsj"
# `grants:use`: a client must be allowed it to get grant tokens
REQUESTER_SCOPES = "requests:submit requests:read grants:read grants:use"
PROVIDER_SCOPES = "grants:read grants:revoke tokens:introspect"

EXAMPLES = REPO_ROOT / "clients" / "python" / "examples"


def example(name: str) -> ModuleType:
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
