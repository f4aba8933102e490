"""Per-file extraction: what each statement creates, alters, drops, renames and uses."""

from __future__ import annotations

from typing import Any

from calctl.sql import analyse as _analyse
from calctl.sql.analyse import split_statements
from calctl.sql.facts import UNQUALIFIED, AnalysisInput, FileAnalysis
from calctl.sql.graph import stable_order
from calctl.sql.render import render


def analyse(text: str, **kw: Any) -> FileAnalysis:
    """The analysis of ``text`` (``path``, ``search_path``, ``defines`` as for a file)."""
    return _analyse.analyse(AnalysisInput.of(text, **kw))


def facts(sql: str, **kw: object) -> set[tuple[str, str, str]]:
    """(action, kind, first candidate) of every fact."""
    return {(f.action, f.kind, f.names[0]) for f in analyse(sql, **kw).facts}


def test_tables_columns_foreign_keys_and_lines() -> None:
    result = analyse("-- users\n\nCREATE TABLE app.orders (\n  id serial PRIMARY KEY,\n"
                     "  user_id int REFERENCES users (id),\n  kind mood\n);\n")
    got = {(f[0], f[1], f[2][0], f[3]) for f in result.facts}
    assert ("create", "relation", "app.orders", 3) in got
    assert ("create", "column", "app.orders.user_id", 5) in got
    assert ("ref", "relation", "public.users", 5) in got
    assert ("ref", "column", "public.users.id", 5) in got
    assert ("ref", "type", "public.mood", 6) in got
    assert ("create", "relation", "app.orders_id_seq", 4) in got  # serial
    assert ("ref", "schema", "app", 3) in got
    assert ("ref", "type", "pg_catalog.int4", 5) not in got  # built-ins are dropped


def test_search_path_quoting_and_builtins() -> None:
    got = facts('SET search_path TO billing, public;\nCREATE TABLE "Invoice" (id int);\n'
                "SELECT now(), count(*) FROM pg_class;\nRESET search_path;\n"
                "CREATE VIEW v AS SELECT * FROM \"Invoice\";")
    assert ("create", "relation", "billing.Invoice") in got
    assert ("create", "relation", "public.v") in got
    assert ("ref", "relation", "public.Invoice") in got
    assert not any(kind == "function" for _, kind, _ in got)
    assert not any(name.endswith("pg_class") for _, _, name in got)


def test_unqualified_references_are_marked() -> None:
    result = analyse("SELECT * FROM public.a JOIN b ON true;")
    marks = {f[2][0]: f[7] for f in result.facts if f[1] == "relation"}
    assert marks == {"public.a": "", "public.b": UNQUALIFIED}


def test_renames_drops_and_guards() -> None:
    got = {(f.action, f.kind, f.names[0], f.new, f.guarded) for f in analyse(
        "ALTER TABLE a RENAME TO b;\nALTER TABLE b RENAME COLUMN x TO y;\n"
        "DROP TABLE IF EXISTS old_stuff;\nDROP VIEW v;\nALTER TYPE mood RENAME TO feeling;\n"
        "ALTER TABLE c SET SCHEMA archive;").facts}
    assert ("rename", "relation", "public.a", "public.b", False) in got
    assert ("rename", "column", "public.b.x", "public.b.y", False) in got
    assert ("drop", "relation", "public.old_stuff", "", True) in got
    assert ("ref", "relation", "public.old_stuff", "", False) not in got
    assert ("drop", "relation", "public.v", "", False) in got
    assert ("rename", "type", "public.mood", "public.feeling", False) in got
    assert ("rename", "relation", "public.c", "archive.c", False) in got


def test_sequences_casts_ctes_aliases_and_dml() -> None:
    got = facts(
        "CREATE TABLE t (id bigint DEFAULT nextval('ids'), r regclass DEFAULT 'x'::regclass);\n"
        "WITH recent AS (SELECT * FROM events) SELECT r.id, e.kind FROM recent r, events e;\n"
        "INSERT INTO audit (who) SELECT name FROM people ON CONFLICT DO NOTHING;\n"
        "UPDATE accounts SET balance = balance + 1 WHERE owner = 'x';\n"
        "DELETE FROM sessions s WHERE s.expired;\n"
        "COPY imports (a, b) FROM STDIN;")
    assert ("ref", "relation", "public.ids") in got
    assert ("ref", "relation", "public.x") in got
    assert ("ref", "relation", "public.recent") not in got  # a CTE, not a table
    assert ("ref", "column", "public.events.kind") in got   # alias e → events
    assert ("ref", "column", "public.audit.who") in got
    assert ("ref", "column", "public.people.name") in got
    assert ("ref", "column", "public.accounts.balance") in got
    assert ("ref", "column", "public.accounts.owner") in got
    assert ("ref", "column", "public.sessions.expired") in got
    assert ("ref", "relation", "public.imports") in got


def test_function_bodies_triggers_policies_and_do_blocks() -> None:
    got = facts(
        "CREATE FUNCTION spent(p int) RETURNS numeric LANGUAGE sql AS $$\n"
        "  SELECT sum(total) FROM orders WHERE user_id = p\n$$;\n"
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n  INSERT INTO log (msg) VALUES ('x');\n  RETURN NEW;\nEND\n$body$;\n"
        "CREATE TRIGGER tr BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();\n"
        "CREATE POLICY own ON docs USING (owner = current_user);\n"
        "DO $$ BEGIN\n  CREATE TYPE mood AS ENUM ('a');\n"
        "EXCEPTION WHEN duplicate_object THEN NULL;\nEND $$;")
    assert ("ref", "relation", "public.orders") in got            # SQL body: checked at creation
    assert ("ref", "column", "public.orders.user_id") in got
    assert ("ref", "column", "public.orders.p") not in got        # a parameter, not a column
    assert ("weak", "relation", "public.log") in got              # PL/pgSQL: needed when called
    assert ("create", "trigger", "public.users.tr") in got
    assert ("ref", "function", "public.touch") in got
    assert ("create", "policy", "public.docs.own") in got
    assert ("ref", "column", "public.docs.owner") in got
    assert ("create", "type", "public.mood") in got               # created inside a DO block


def test_non_transactional_markers() -> None:
    assert analyse("CREATE INDEX CONCURRENTLY i ON t (a);").transaction is False
    assert analyse("VACUUM t;").transaction is False
    assert analyse("CREATE INDEX i ON t (a);").transaction is True
    assert analyse("-- calctl: no-transaction\nSELECT 1;").transaction is False
    assert analyse("SELECT 1;", path="1_x.autocommit.sql").transaction is False
    added = analyse("ALTER TYPE mood ADD VALUE 'meh';\nSELECT 'meh'::mood;")
    assert added.transaction is False
    assert [n.code for n in added.notes] == ["CAL007"]
    unused = analyse("ALTER TYPE mood ADD VALUE 'meh';\nSELECT 1;")
    assert unused.transaction is True


def test_parse_errors_keep_the_rest_exact() -> None:
    result = analyse("CREATE TABLE a (id int);\nCREATE TABLE b (id int,);\n"
                     "CREATE TABLE c (a_id int REFERENCES a (id));\n")
    assert result.approximate
    (note,) = result.notes
    assert note.code == "CAL006" and note.line == 2 and "syntax error" in note.message
    got = {(f.action, f.kind, f.names[0]) for f in result.facts}
    assert ("create", "relation", "public.c") in got
    assert ("ref", "column", "public.a.id") in got                  # exact, not tokens
    assert ("create", "relation", "public.b") in got                # from the tokens


def test_split_statements_respects_quotes_and_dollar_bodies() -> None:
    text = "SELECT ';';\nCREATE FUNCTION f() RETURNS int AS $x$ SELECT 1; $x$ LANGUAGE sql;\n" \
           "-- a ; comment\nSELECT 2"
    pieces = [text[a:b].strip() for a, b in split_statements(text)]
    assert pieces[0] == "SELECT ';'"
    assert pieces[1].endswith("LANGUAGE sql")
    assert pieces[2].endswith("SELECT 2")


def test_templates_render_and_report() -> None:
    text, missing = render('CREATE SCHEMA {{ index .Options "Namespace" }};\n'
                           "CREATE TABLE {{.Namespace}}.t ();\n{{ if .X }}\n${flyway}", {})
    assert missing == [(1, 'index .Options "Namespace"'), (2, ".Namespace"), (4, "flyway")]
    assert "tpl_namespace" in text and text.count("\n") == 3
    done, left = render("CREATE SCHEMA {{ .Namespace }};", {"Namespace": "app"})
    assert done == "CREATE SCHEMA app;" and left == []


def test_array_literals_are_not_templates_and_lines_never_move() -> None:
    arrays = "SELECT '{{1,2},{3,4}}'::int[], '{{\"a\"},{\"b\"}}'::text[];\n"
    assert render(arrays, {}) == (arrays, [])
    text, missing = render("SELECT {{ .Table\n }};\nSELECT 1;\n", {"Table": "t"})
    assert text == "SELECT t\n;\nSELECT 1;\n" and missing == []


def test_stable_order_moves_only_what_must_move_and_finds_cycles() -> None:
    assert stable_order(4, [(3, 1)]).order == [0, 2, 3, 1]
    assert stable_order(3, []).order == [0, 1, 2]
    ordering = stable_order(3, [(1, 2), (2, 1)])
    (cycle,) = ordering.cycles
    assert ordering.order == [0, 1, 2] and set(cycle) == {1, 2} and cycle[0] == cycle[-1]


def test_psql_meta_commands_and_non_type_words() -> None:
    result = analyse("\\set ON_ERROR_STOP on\nCREATE TABLE t (id int);\n\\echo done\n"
                     "CREATE TEXT SEARCH DICTIONARY d (TEMPLATE = snowball, Language = english);\n")
    assert not result.approximate and result.notes == ()
    assert {(f[0], f[2][0], f[3]) for f in result.facts} == {("create", "public.t", 2),
                                                            ("create", "public.t.id", 2)}
