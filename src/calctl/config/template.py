"""The commented ``calctl.toml`` that ``calctl init`` writes."""

from __future__ import annotations

DEFAULT_CONFIG = '''\
# calctl configuration. Every key is optional; `calctl config show` lists the
# resolved values and where each came from. Secrets never go here: settings
# ending in _env name the environment variable that holds one.


# state_dir = ".calctl"          # audit store, events, snapshots, journals, locks
# store_url = "postgresql://calctl@db.example/calctl"   # shared audit store
#                                 # (password from PGPASSWORD or ~/.pgpass; or set
#                                 #  CALCTL_STORE_URL in the environment)


[migrate]
dir = "migrations"               # where the *.sql migrations live
# search_path = ["public"]
# known_objects = ["auth.users"] # objects created outside the directory
# defines = { Namespace = "app" } # values for templated migrations
database_url_env = "DATABASE_URL" # the application database, read from this variable
# lock_timeout = 60              # seconds to wait for another `migrate apply`
# ddl_lock_timeout = 5           # a file's lock_timeout: a busy table fails it fast
# statement_timeout = 0          # a file's statement_timeout in seconds (0: none)
# sort = "auto"                  # file order: auto (the tool's), natural, prisma, flyway …

# [migrate.lint]                 # which rules `migrate lint` reports (as ruff selects)
# select = ["ALL"]               # codes, names, squawk's names, prefixes (CAL0) or ALL
# ignore = ["CAL008"]
# per_file_ignores = { "migrations/legacy/*.sql" = ["ALL"] }   # gitignore-style globs
# severity = { CAL011 = "error" }
# pg_version = 15                # the target's PostgreSQL major version


[patch]
# verify = ["pytest -x -q"]      # commands that must pass after a patch
# verify_timeout = 600
# allow_protected = false        # may a patch touch tests, CI files, applied migrations?
# git = false                    # commit each verified patch


[report]
# service = "my-app"
# context_lines = 5
# breadcrumbs = 20
# cooldown = 3600                # the same fault within this many seconds reuses its diagnosis
# providers = ["memory", "rules"]  # add "openai"
# publish = ["github"]           # or "coderabbit"


[openai]
# base_url = "http://127.0.0.1:11434/v1"   # any OpenAI-compatible endpoint
# model = "gpt-4o-mini"
api_key_env = "OPENAI_API_KEY"


[github]
# repo = "owner/name"
token_env = "GITHUB_TOKEN"


[guard]
# interval = 60
# default_timeout = 10
# notify_url = "https://hooks.example.com/calctl"   # POSTed on every transition
# checks = [
#   { name = "api", type = "http", url = "http://127.0.0.1:8000/health" },
#   { name = "tests", type = "command", run = "pytest -x -q", timeout = 300 },
# ]


[heal]
# budget_per_hour = 5            # patches guard once --heal may try an hour, then it reports
# verify = ["pytest -x -q"]      # commands a heal's patch must pass, besides [patch] verify


[dashboard]
# host = "127.0.0.1"
# port = 5001
'''


def default_config(migrations_dir: str | None = None) -> str:
    """:data:`DEFAULT_CONFIG`, with ``[migrate] dir`` set to ``migrations_dir`` (the
    directory ``calctl init`` found) when given."""
    if not migrations_dir or migrations_dir == "migrations":
        return DEFAULT_CONFIG
    import json

    line = 'dir = "migrations"'
    value = json.dumps(migrations_dir)  # a TOML basic string is a JSON string
    return DEFAULT_CONFIG.replace(line, f"dir = {value}".ljust(len(line)), 1)
