"""The lint rule registry: one class per file, listed here explicitly.

Adding a rule: its file ``calN_<name>.py`` (a :class:`Rule`; an
:class:`ObservationRule` when it words what the analyser observes; a
:class:`~calctl.sql.rules.statement.StatementRule` when it reads each statement's
tree, as squawk's rules do), its cases in ``tests/fixtures/rules/CALN.toml``, and one
line in :data:`RULES`."""

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
from calctl.sql.rules.cal011_require_concurrent_index_creation import (
    RequireConcurrentIndexCreation,
)
from calctl.sql.rules.cal012_require_concurrent_index_deletion import (
    RequireConcurrentIndexDeletion,
)
from calctl.sql.rules.cal013_require_concurrent_reindex import RequireConcurrentReindex
from calctl.sql.rules.cal014_require_concurrent_partition_detach import (
    RequireConcurrentPartitionDetach,
)
from calctl.sql.rules.cal015_constraint_missing_not_valid import ConstraintMissingNotValid
from calctl.sql.rules.cal016_adding_field_with_default import AddingFieldWithDefault
from calctl.sql.rules.cal017_adding_foreign_key_constraint import AddingForeignKeyConstraint
from calctl.sql.rules.cal018_changing_column_type import ChangingColumnType
from calctl.sql.rules.cal019_adding_not_nullable_field import AddingNotNullableField
from calctl.sql.rules.cal020_adding_required_field import AddingRequiredField
from calctl.sql.rules.cal021_adding_serial_primary_key_field import (
    AddingSerialPrimaryKeyField,
)
from calctl.sql.rules.cal022_renaming_column import RenamingColumn
from calctl.sql.rules.cal023_renaming_table import RenamingTable
from calctl.sql.rules.cal024_disallowed_unique_constraint import DisallowedUniqueConstraint
from calctl.sql.rules.cal025_require_lock_timeout import RequireLockTimeout
from calctl.sql.rules.cal026_require_statement_timeout import RequireStatementTimeout
from calctl.sql.rules.cal027_ban_drop_not_null import BanDropNotNull
from calctl.sql.rules.cal028_ban_set_schema import BanSetSchema
from calctl.sql.rules.cal029_ban_truncate_cascade import BanTruncateCascade

# squawk's rules, group B (CAL030–CAL050)
from calctl.sql.rules.cal030_ban_drop_database import BanDropDatabase
from calctl.sql.rules.cal031_ban_drop_view import BanDropView
from calctl.sql.rules.cal032_ban_drop_function import BanDropFunction
from calctl.sql.rules.cal033_ban_drop_type import BanDropType
from calctl.sql.rules.cal034_ban_drop_sequence import BanDropSequence
from calctl.sql.rules.cal035_ban_drop_domain import BanDropDomain
from calctl.sql.rules.cal036_ban_drop_constraint import BanDropConstraint
from calctl.sql.rules.cal037_ban_drop_extension import BanDropExtension
from calctl.sql.rules.cal038_prefer_bigint_over_int import PreferBigintOverInt
from calctl.sql.rules.cal039_prefer_bigint_over_smallint import PreferBigintOverSmallint
from calctl.sql.rules.cal040_prefer_identity import PreferIdentity
from calctl.sql.rules.cal041_prefer_robust_stmts import PreferRobustStmts
from calctl.sql.rules.cal042_prefer_text_field import PreferTextField
from calctl.sql.rules.cal043_prefer_timestamp_tz import PreferTimestampTz
from calctl.sql.rules.cal044_ban_char_field import BanCharField
from calctl.sql.rules.cal045_transaction_nesting import TransactionNesting
from calctl.sql.rules.cal046_ban_uncommitted_transaction import BanUncommittedTransaction
from calctl.sql.rules.cal047_ban_create_domain_with_constraint import BanCreateDomainWithConstraint
from calctl.sql.rules.cal048_ban_alter_domain_with_add_constraint import (
    BanAlterDomainWithAddConstraint,
)
from calctl.sql.rules.cal049_require_enum_value_ordering import RequireEnumValueOrdering
from calctl.sql.rules.cal050_identifier_too_long import IdentifierTooLong

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
    RequireConcurrentIndexCreation,
    RequireConcurrentIndexDeletion,
    RequireConcurrentReindex,
    RequireConcurrentPartitionDetach,
    ConstraintMissingNotValid,
    AddingFieldWithDefault,
    AddingForeignKeyConstraint,
    ChangingColumnType,
    AddingNotNullableField,
    AddingRequiredField,
    AddingSerialPrimaryKeyField,
    RenamingColumn,
    RenamingTable,
    DisallowedUniqueConstraint,
    RequireLockTimeout,
    RequireStatementTimeout,
    BanDropNotNull,
    BanSetSchema,
    BanTruncateCascade,
    # squawk's rules, group B
    BanDropDatabase,
    BanDropView,
    BanDropFunction,
    BanDropType,
    BanDropSequence,
    BanDropDomain,
    BanDropConstraint,
    BanDropExtension,
    PreferBigintOverInt,
    PreferBigintOverSmallint,
    PreferIdentity,
    PreferRobustStmts,
    PreferTextField,
    PreferTimestampTz,
    BanCharField,
    TransactionNesting,
    BanUncommittedTransaction,
    BanCreateDomainWithConstraint,
    BanAlterDomainWithAddConstraint,
    RequireEnumValueOrdering,
    IdentifierTooLong,
)


# observation kind → the rule that words it (each kind has exactly one)
_OWNERS: dict[str, type[ObservationRule]] = {
    kind: cls for cls in RULES if issubclass(cls, ObservationRule) for kind in cls.observes
}


def notes_of(observations: Iterable[Observation]) -> tuple[Note, ...]:
    """The notes of one file's observations, each worded by the rule that owns its kind."""
    return tuple([_OWNERS[seen.kind].note(seen) for seen in observations])


def rules_for(scope: str) -> list[Rule]:
    """Instances of the rules that run in ``scope`` ("order" or "lint": lint runs all)."""
    return [cls() for cls in RULES if scope == "lint" or cls.scope == "order"]


def rule_by_code(code: str) -> type[Rule] | None:
    return next((cls for cls in RULES if cls.code == code.upper()), None)


__all__ = ["RULES", "ObservationRule", "Rule", "RuleContext", "notes_of", "rule_by_code",
           "rules_for"]
