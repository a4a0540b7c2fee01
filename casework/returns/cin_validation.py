"""Checking a CIN census file the way the DfE will: against the schema, and with the sector's
own validator, `csc-validator-be-cin` (data-to-insight).

The validator pins pandas 1.x, so it lives in its own environment (`make cin-validator`
builds `var/tools/cin-validator/`) and runs as a separate process. Its command line,
`python -m cin_validator run FILE -r cin2025_26`, always exits 0, prints child-level issues
only, and drops return-level ones (2883, 2886Q-2888Q) and rules that crashed. So the runner
below drives the same functions the command line calls and reports all three as JSON.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from lxml import etree

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "cin_census_2025_26.xsd"
VALIDATOR_RULESET = "cin2025_26"
MAKE_TARGET = "make cin-validator"


def validator_python() -> Path:
    return Path(settings.BASE_DIR) / "var" / "tools" / "cin-validator" / "bin" / "python"


def schema_errors(path: Path) -> list[str]:
    """The schema's complaints about the file at `path`, read incrementally (elements are
    dropped once checked, so a large return does not sit in memory)."""
    schema = etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))
    try:
        for _, element in etree.iterparse(str(path), events=("end",), schema=schema):
            if element.getparent() is not None and element.tag == "Child":
                element.clear()
    except etree.XMLSyntaxError as error:
        return [f"line {error.lineno}: {error.msg}"]
    return []


# Runs inside the validator's environment: the same steps as `cin_validator run`, plus the
# return-level issues and crashed rules that the command line leaves out.
_RUNNER = """
import contextlib, importlib, io, json, sys
import xml.etree.ElementTree as ET
from cin_validator import cin_validator

path, ruleset = sys.argv[1], sys.argv[2]
registry = importlib.import_module(f"cin_validator.rules.{ruleset}").registry
types = {str(rule.code): rule.rule_type.name for _, rule in registry.items()}
noise = io.StringIO()
with contextlib.redirect_stdout(noise):
    data = cin_validator.process_data(cin_validator.convert_data(ET.parse(path).getroot()))
    validator = cin_validator.CinValidator(data, registry)
issues = []
for row in validator.full_issue_df.to_dict("records"):
    issues.append({
        "rule": str(row.get("rule_code")), "child": str(row.get("child_id")),
        "table": str(row.get("tables_affected")), "field": str(row.get("columns_affected")),
        "message": str(row.get("rule_description")),
    })
for row in validator.multichild_issues.to_dict("records"):
    issues.append({"rule": str(row.get("rule_code")), "child": "", "table": "", "field": "",
                   "message": str(row.get("rule_description"))})
for issue in issues:
    issue["type"] = types.get(issue["rule"], "ERROR")
crashed = [line for line in noise.getvalue().splitlines() if line.startswith("Error with rule")]
print(json.dumps({"issues": issues, "crashed": crashed}))
"""


@dataclass(frozen=True)
class ValidatorIssue:
    rule: str
    rule_type: str  # "ERROR" or "QUERY"
    child: str
    table: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"child {self.child}, {self.table}.{self.field}: " if self.child else ""
        return f"{self.rule} ({self.rule_type.lower()}) {where}{self.message}"


@dataclass(frozen=True)
class ValidatorReport:
    issues: list[ValidatorIssue]
    crashed_rules: list[str]

    @property
    def errors(self) -> list[ValidatorIssue]:
        return [i for i in self.issues if i.rule_type != "QUERY"]

    @property
    def queries(self) -> list[ValidatorIssue]:
        return [i for i in self.issues if i.rule_type == "QUERY"]


class ValidatorMissing(RuntimeError):
    pass


def sector_validator_report(path: Path, ruleset: str = VALIDATOR_RULESET) -> ValidatorReport:
    """Run `csc-validator-be-cin` on the file at `path` in its own environment."""
    python = validator_python()
    if not python.exists():
        raise ValidatorMissing(
            f"The CIN validator's environment is missing ({python}). Run `{MAKE_TARGET}`."
        )
    completed = subprocess.run(  # noqa: S603 - our own interpreter and script, no shell
        [str(python), "-c", _RUNNER, str(path), ruleset],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"The CIN validator failed to run:\n{completed.stderr[-4000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    issues = [
        ValidatorIssue(
            rule=i["rule"],
            rule_type=i["type"],
            child=i["child"],
            table=i["table"],
            field=i["field"],
            message=i["message"],
        )
        for i in result["issues"]
    ]
    return ValidatorReport(issues=issues, crashed_rules=list(result["crashed"]))
