"""Generate the package's typed models from the broker's schemas, with datamodel-code-generator.

    python clients/python/scripts/generate_models.py          # rewrite src/.../generated/
    python clients/python/scripts/generate_models.py --check  # exit 1 if they differ

`schemas/openapi.json` becomes `generated/api.py` (request and response bodies) and each
`schemas/events/*.schema.json` a module of `generated/events/` (the data of Kafka events and
webhooks). The output is formatted by ruff with the repository's configuration, so it is the same
wherever it is generated; tests/clients/test_generated_models.py fails when it is stale.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CLIENT = Path(__file__).resolve().parent.parent
REPO = CLIENT.parent.parent
SCHEMAS = REPO / "schemas"
TARGET = CLIENT / "src" / "cdo_broker_client" / "generated"
BIN = Path(sys.executable).parent

OPTIONS = [
    "--output-model-type", "pydantic_v2.BaseModel",
    "--target-python-version", "3.11",
    "--use-standard-collections",
    "--use-union-operator",
    "--use-annotated",
    "--field-constraints",
    "--collapse-root-models",
    "--enum-field-as-literal", "all",
    "--use-schema-description",
    "--disable-timestamp",
    # What the broker adds later must not break a client already deployed.
    "--extra-fields", "ignore",
    "--no-formatters",
]  # fmt: skip
HEADER = '"""Generated from the broker\'s schemas by scripts/generate_models.py: do not edit."""\n'


def _codegen(source: Path, kind: str, output: Path) -> None:
    subprocess.run(
        [str(BIN / "datamodel-codegen"), "--input", str(source), "--input-file-type", kind,
         "--output", str(output), *OPTIONS],
        check=True,
    )  # fmt: skip


def generate(into: Path) -> None:
    """Write the generated package into `into` (created)."""
    into.mkdir(parents=True)
    (into / "__init__.py").write_text(HEADER)
    _codegen(SCHEMAS / "openapi.json", "openapi", into / "api.py")
    _codegen(SCHEMAS / "events", "jsonschema", into / "events")
    for path in into.rglob("*.py"):  # our header instead of the tool's comment
        lines = path.read_text().splitlines(keepends=True)
        while lines and (lines[0].startswith("#") or not lines[0].strip()):
            del lines[0]
        path.write_text(HEADER + ("\n" + "".join(lines) if lines else ""))
    config = ["--config", str(REPO / "pyproject.toml")]
    ruff = str(BIN / "ruff")
    fix = [ruff, "check", "--fix", "--exit-zero", "--quiet", *config, str(into)]
    subprocess.run(fix, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([ruff, "format", "--quiet", *config, str(into)], check=True)


def differences(a: Path, b: Path) -> list[str]:
    """Files that are not the same in both trees (relative paths)."""
    names = {p.relative_to(root) for root in (a, b) for p in root.rglob("*.py")}
    return sorted(
        str(n) for n in names
        if not ((a / n).exists() and (b / n).exists() and filecmp.cmp(a / n, b / n, shallow=False))
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    check = parser.parse_args().check
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "generated"
        generate(fresh)
        stale = differences(fresh, TARGET)
        if check:
            for name in stale:
                print(f"stale: {TARGET / name}")
            return 1 if stale else 0
        shutil.rmtree(TARGET, ignore_errors=True)
        shutil.copytree(fresh, TARGET)
    return 0


if __name__ == "__main__":
    sys.exit(main())
