"""The lint rule registry: one class per file, listed here explicitly."""

from __future__ import annotations

from calctl.sql.rules.base import Rule, RuleContext
from calctl.sql.rules.cal001_forward_dependency import ForwardDependency
from calctl.sql.rules.cal002_dependency_cycle import DependencyCycle
from calctl.sql.rules.cal003_missing_object import MissingObject
from calctl.sql.rules.cal004_duplicate_creator import DuplicateCreator
from calctl.sql.rules.cal005_duplicate_version import DuplicateVersion
from calctl.sql.rules.cal006_parse_error import ParseError
from calctl.sql.rules.cal007_non_transactional import NonTransactional
from calctl.sql.rules.cal008_destructive_ddl import DestructiveDDL
from calctl.sql.rules.cal009_unrendered_template import UnrenderedTemplate
from calctl.sql.rules.cal010_opaque_sql import OpaqueSQL

RULES: tuple[type[Rule], ...] = (
    ForwardDependency,
    DependencyCycle,
    MissingObject,
    DuplicateCreator,
    DuplicateVersion,
    ParseError,
    NonTransactional,
    DestructiveDDL,
    UnrenderedTemplate,
    OpaqueSQL,
)


def rules_for(scope: str) -> list[Rule]:
    """Instances of the rules that run in ``scope`` ("order" or "lint": lint runs all)."""
    return [cls() for cls in RULES if scope == "lint" or cls.scope == "order"]


def rule_by_code(code: str) -> type[Rule] | None:
    return next((cls for cls in RULES if cls.code == code.upper()), None)


__all__ = ["RULES", "Rule", "RuleContext", "rule_by_code", "rules_for"]
