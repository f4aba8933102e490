"""The lint rule registry: one class per file, listed here explicitly.

Adding a rule: its file ``calN_<name>.py`` (a :class:`Rule`; an
:class:`ObservationRule` when it words what the analyser observes; a
:class:`~calctl.sql.rules.statement.StatementRule` when it reads each statement's
tree, as squawk's rules do), its cases in ``tests/fixtures/rules/CALN.toml``, and one
line in :data:`EAGER` (a rule of ``migrate order``, or one that words an observation) or
in ``_LINT_ONLY`` (every other: loaded only by ``migrate lint``)."""

from __future__ import annotations

from collections.abc import Iterable

from calctl.sql.facts import Note
from calctl.sql.observations import Observation
from calctl.sql.rules.base import ObservationRule, Rule, RuleContext
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

# the rules of `migrate order` and those that word the analyser's observations: imported
# by every analysing process
EAGER: tuple[type[Rule], ...] = (
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

# squawk's rules (statement rules, `migrate lint` only): "module:Class", imported the first
# time RULES is read, so that `migrate order` and the analyser never load them
_LINT_ONLY = (
    "cal011_require_concurrent_index_creation:RequireConcurrentIndexCreation",
    "cal012_require_concurrent_index_deletion:RequireConcurrentIndexDeletion",
    "cal013_require_concurrent_reindex:RequireConcurrentReindex",
    "cal014_require_concurrent_partition_detach:RequireConcurrentPartitionDetach",
    "cal015_constraint_missing_not_valid:ConstraintMissingNotValid",
    "cal016_adding_field_with_default:AddingFieldWithDefault",
    "cal017_adding_foreign_key_constraint:AddingForeignKeyConstraint",
    "cal018_changing_column_type:ChangingColumnType",
    "cal019_adding_not_nullable_field:AddingNotNullableField",
    "cal020_adding_required_field:AddingRequiredField",
    "cal021_adding_serial_primary_key_field:AddingSerialPrimaryKeyField",
    "cal022_renaming_column:RenamingColumn",
    "cal023_renaming_table:RenamingTable",
    "cal024_disallowed_unique_constraint:DisallowedUniqueConstraint",
    "cal025_require_lock_timeout:RequireLockTimeout",
    "cal026_require_statement_timeout:RequireStatementTimeout",
    "cal027_ban_drop_not_null:BanDropNotNull",
    "cal028_ban_set_schema:BanSetSchema",
    "cal029_ban_truncate_cascade:BanTruncateCascade",
    "cal030_ban_drop_database:BanDropDatabase",
    "cal031_ban_drop_view:BanDropView",
    "cal032_ban_drop_function:BanDropFunction",
    "cal033_ban_drop_type:BanDropType",
    "cal034_ban_drop_sequence:BanDropSequence",
    "cal035_ban_drop_domain:BanDropDomain",
    "cal036_ban_drop_constraint:BanDropConstraint",
    "cal037_ban_drop_extension:BanDropExtension",
    "cal038_prefer_bigint_over_int:PreferBigintOverInt",
    "cal039_prefer_bigint_over_smallint:PreferBigintOverSmallint",
    "cal040_prefer_identity:PreferIdentity",
    "cal041_prefer_robust_stmts:PreferRobustStmts",
    "cal042_prefer_text_field:PreferTextField",
    "cal043_prefer_timestamp_tz:PreferTimestampTz",
    "cal044_ban_char_field:BanCharField",
    "cal045_transaction_nesting:TransactionNesting",
    "cal046_ban_uncommitted_transaction:BanUncommittedTransaction",
    "cal047_ban_create_domain_with_constraint:BanCreateDomainWithConstraint",
    "cal048_ban_alter_domain_with_add_constraint:BanAlterDomainWithAddConstraint",
    "cal049_require_enum_value_ordering:RequireEnumValueOrdering",
    "cal050_identifier_too_long:IdentifierTooLong",
    "cal051_ban_alter_identity:BanAlterIdentity",
    "cal052_ban_drop_generated_expression:BanDropGeneratedExpression",
    "cal053_renaming_object:RenamingObject",
)

_all: tuple[type[Rule], ...] | None = None


def all_rules() -> tuple[type[Rule], ...]:
    """Every rule, in code order (what :data:`RULES` is)."""
    global _all
    if _all is None:
        import importlib

        loaded = [getattr(importlib.import_module(f"calctl.sql.rules.{module}"), name)
                  for module, name in (entry.split(":") for entry in _LINT_ONLY)]
        _all = (*EAGER, *loaded)
    return _all


def __getattr__(name: str) -> tuple[type[Rule], ...]:
    if name == "RULES":  # module attribute, loaded lazily (PEP 562)
        return all_rules()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# observation kind → the rule that words it (each kind has exactly one)
_OWNERS: dict[str, type[ObservationRule]] = {
    kind: cls for cls in EAGER if issubclass(cls, ObservationRule) for kind in cls.observes
}


def notes_of(observations: Iterable[Observation]) -> tuple[Note, ...]:
    """The notes of one file's observations, each worded by the rule that owns its kind."""
    return tuple([_OWNERS[seen.kind].note(seen) for seen in observations])


def rules_for(scope: str) -> list[Rule]:
    """Instances of the rules that run in ``scope`` ("order" or "lint": lint runs all)."""
    if scope == "lint":
        return [cls() for cls in all_rules()]
    return [cls() for cls in EAGER if cls.scope == "order"]


def rule_by_code(code: str) -> type[Rule] | None:
    return next((cls for cls in all_rules() if cls.code == code.upper()), None)


__all__ = [
    "EAGER",
    "RULES",
    "ObservationRule",
    "Rule",
    "RuleContext",
    "all_rules",
    "notes_of",
    "rule_by_code",
    "rules_for",
]
