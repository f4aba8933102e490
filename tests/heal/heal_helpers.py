"""Helpers of the heal tests: the seed's misordered project."""

from __future__ import annotations

from pathlib import Path

# The seed's fault: 011 references users, which 012 creates.
MIGRATIONS = {
    "010_roles.sql": "CREATE TABLE roles (id serial PRIMARY KEY, name text NOT NULL);\n",
    "011_add_admin_roles.sql": (
        "CREATE TABLE admin_roles (\n"
        "  user_id int NOT NULL REFERENCES users (id),\n"
        "  role_id int NOT NULL REFERENCES roles (id)\n"
        ");\n"),
    "012_users.sql": "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);\n",
}


def migrations_project(root: Path, *, extra: str = "") -> Path:
    """A project with the seed's misordered migrations and a ``migrations`` check
    (heal = true) on the database named by $APP_DATABASE_URL."""
    (root / "migrations").mkdir(parents=True, exist_ok=True)
    (root / ".git").mkdir(exist_ok=True)
    for name, text in MIGRATIONS.items():
        (root / "migrations" / name).write_text(text, encoding="utf-8")
    (root / "calctl.toml").write_text(
        '[migrate]\ndir = "migrations"\n\n[report]\nproviders = ["memory", "rules"]\n\n'
        + extra + '\n[[guard.checks]]\nname = "schema"\ntype = "migrations"\n'
        'database_url_env = "APP_DATABASE_URL"\nheal = true\n', encoding="utf-8")
    return root
