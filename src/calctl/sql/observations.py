"""What the analyser saw in one file, in neutral terms: observations.

The extractor (``calctl.sql.extract``) and :mod:`calctl.sql.analyse` record *what is
there* (a statement that destroys data, one that cannot run in a transaction, a DO
block running dynamic SQL…) with its position and the words that identify it; the
rule that cares (``calctl.sql.rules``: the rule whose ``observes`` names the kind)
turns it into a finding with its own message and hint. Adding a check on something
the analyser already observes is then one rule file; a new kind of observation is a
constant here and one ``observe`` call in the extractor family that sees it.
"""

from __future__ import annotations

from typing import NamedTuple

# kinds
PARSE_ERROR = "parse-error"                # subject: the parser's message; more: other failures
NON_TRANSACTIONAL = "non-transactional"    # subject: the statement ("CREATE INDEX CONCURRENTLY")
ENUM_VALUE_USED = "enum-value-used"        # subject: the value; related_line: where it is used
DESTRUCTIVE = "destructive"                # subject: what is destroyed ("DROP TABLE public.t")
UNRENDERED_TEMPLATE = "unrendered-template"  # subject: the placeholder's expression
DYNAMIC_SQL = "dynamic-sql"                # a DO block runs EXECUTE
FOREIGN_LANGUAGE = "foreign-language"      # subject: a DO block's language, not PL/pgSQL

KINDS = frozenset({PARSE_ERROR, NON_TRANSACTIONAL, ENUM_VALUE_USED, DESTRUCTIVE,
                   UNRENDERED_TEMPLATE, DYNAMIC_SQL, FOREIGN_LANGUAGE})


class Observation(NamedTuple):
    kind: str
    line: int
    column: int = 1
    subject: str = ""
    related_line: int = 0
    more: int = 0
