"""The dbt vars a user may set: one list, in step with dbt_project.yml, checked before dbt runs."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from flows.errors import VocError
from flows.settings import PACKAGE_ROOT
from flows.warehouse.dbt import with_report_week
from flows.warehouse.dbt_vars import DbtVars, check_vars


def project_vars() -> dict[str, Any]:
    text = (PACKAGE_ROOT / "dbt_project" / "dbt_project.yml").read_text(encoding="utf-8")
    return dict(yaml.safe_load(text)["vars"])


def test_every_var_of_dbt_project_yml_is_declared_here_with_its_default() -> None:
    """A var added to dbt_project.yml must be given its type and range in DbtVars (and back)."""
    declared = {name: field.default for name, field in DbtVars.model_fields.items()}
    defaults = {name: None if value == "" else value for name, value in project_vars().items()}
    assert declared == defaults


def test_the_defaults_pass_their_own_check() -> None:
    given = {name: value for name, value in project_vars().items() if value != ""}
    assert check_vars(given) == given


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"critical_increase_pct": 50}, {"critical_increase_pct": 50}),
        (
            {"monitor_increase_pct": 12.5, "fdr_alpha": 0.01},
            {"monitor_increase_pct": 12.5, "fdr_alpha": 0.01},
        ),
        ({"critical_min_volume": 0}, {"critical_min_volume": 0}),
        ({"report_week": "2026-11-18"}, {"report_week": "2026-11-18"}),
    ],
)
def test_documented_vars_of_the_right_type_and_range_are_kept(
    given: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert check_vars(given) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"critical_increse_pct": 50}, "no var 'critical_increse_pct' (did you mean critical_increase_pct?)"),
        ({"threshold": 1}, "no var 'threshold' (the vars are report_week, "),
        ({"fdr_alpha": 2}, "fdr_alpha=2: must be a number greater than 0 and less than 1"),
        ({"fdr_alpha": -1}, "fdr_alpha=-1: must be a number greater than 0 and less than 1"),
        ({"fdr_alpha": "abc"}, "fdr_alpha='abc': must be a number"),
        ({"critical_increase_pct": "50; drop table x"}, "critical_increase_pct='50; drop table x': must be"),
        ({"critical_min_volume": 2.5}, "critical_min_volume=2.5: must be a whole number from 0 to 1000000"),
        ({"samples_per_week": True}, "samples_per_week=True: must be a whole number from 1 to 100"),
        ({"baseline_weeks": 0}, "baseline_weeks=0: must be a whole number from 1 to 52"),
        ({"report_week": "yesterday"}, "report_week='yesterday': must be a day as YYYY-MM-DD"),
    ],
)
def test_anything_else_is_refused_in_one_line_naming_the_var(given: dict[str, Any], expected: str) -> None:
    """Regression (issue 21): misspelled keys were ignored, 2 and -1 accepted, and 'abc' reached the
    SQL as a column name (Binder Error)."""
    with pytest.raises(VocError) as error:
        check_vars(given)
    assert str(error.value).startswith(f"--vars: {expected}")
    assert "\n" not in str(error.value)


def test_dbt_gets_the_checked_values_never_the_typed_text() -> None:
    args = with_report_week(["build", "--vars", "{critical_increase_pct: 50, report_week: 2026-11-18}"])
    assert json.loads(args[2]) == {"critical_increase_pct": 50, "report_week": "2026-11-18"}
    with pytest.raises(VocError, match="^--vars: fdr_alpha='abc'"):
        with_report_week(["run", "--vars={fdr_alpha: abc}"])
