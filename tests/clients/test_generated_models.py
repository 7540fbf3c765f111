"""The package's typed models are what scripts/generate_models.py makes of schemas/ today."""

from __future__ import annotations

import subprocess
import sys

from testing import REPO_ROOT

SCRIPT = REPO_ROOT / "clients" / "python" / "scripts" / "generate_models.py"


def test_generated_models_match_the_schemas() -> None:
    checked = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, (
        f"{checked.stdout}{checked.stderr}refresh them: python {SCRIPT.relative_to(REPO_ROOT)}"
    )
