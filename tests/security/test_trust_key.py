"""The per-user key that seals the state directory (calctl.trust), attacked for real:
files on disk, real permissions and owners, a fresh process for each case."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import sys
from calctl import trust
purpose, action = sys.argv[1], sys.argv[2]
if action == "seal":
    out = trust.seal(sys.stdin.buffer.read(), purpose)
    sys.stdout.buffer.write(out if out is not None else b"NOKEY")
else:
    out = trust.unseal(sys.stdin.buffer.read(), purpose)
    sys.stdout.buffer.write(b"INVALID" if out is None else b"OK:" + out)
"""


def run(config_home: Path, purpose: str, action: str, data: bytes) -> bytes:
    env = {k: v for k, v in os.environ.items() if k != "CALCTL_KEY_FILE"}
    env["XDG_CONFIG_HOME"] = str(config_home)
    proc = subprocess.run([sys.executable, "-c", SCRIPT, purpose, action], input=data,
                          capture_output=True, env=env, check=True, timeout=60)
    return proc.stdout


def test_key_is_made_once_private_and_outside_the_project(tmp_path: Path) -> None:
    home = tmp_path / "config"
    sealed = run(home, "journal", "seal", b"{}")
    key = home / "calctl" / "state.key"
    assert key.stat().st_mode & 0o777 == 0o600
    before = key.read_bytes()
    assert run(home, "journal", "unseal", sealed) == b"OK:{}"
    assert key.read_bytes() == before  # reused, not remade


def test_tampered_foreign_or_repurposed_data_does_not_verify(tmp_path: Path) -> None:
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    sealed = run(mine, "journal", "seal", b'{"phase": "writing"}')
    assert run(mine, "journal", "unseal", sealed.replace(b"writing", b"verified")) == b"INVALID"
    assert run(mine, "cache", "unseal", sealed) == b"INVALID"  # a journal is no cache
    assert run(theirs, "journal", "unseal", sealed) == b"INVALID"  # another machine's key
    assert run(mine, "journal", "unseal", b'{"phase": "writing"}') == b"INVALID"  # unsealed


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o666])
def test_a_key_others_can_read_or_write_is_not_used(tmp_path: Path, mode: int) -> None:
    home = tmp_path / "config"
    sealed = run(home, "journal", "seal", b"data")
    key = home / "calctl" / "state.key"
    key.chmod(mode)
    assert run(home, "journal", "unseal", sealed) == b"INVALID"
    assert run(home, "journal", "seal", b"data") == b"NOKEY"  # and never silently replaced
    assert key.stat().st_mode & 0o777 == mode


def test_a_key_another_user_owns_is_not_used(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.fail("this test changes a file's owner: run it as root (CI does)")
    home = tmp_path / "config"
    sealed = run(home, "journal", "seal", b"data")
    key = home / "calctl" / "state.key"
    os.chown(key, 65534, 65534)  # nobody
    assert run(home, "journal", "unseal", sealed) == b"INVALID"


def test_a_symlinked_key_is_not_followed(tmp_path: Path) -> None:
    home = tmp_path / "config"
    (home / "calctl").mkdir(parents=True)
    planted = tmp_path / "planted.key"
    planted.write_bytes(b"k" * 32)
    planted.chmod(0o600)
    (home / "calctl" / "state.key").symlink_to(planted)
    assert run(home, "journal", "seal", b"data") == b"NOKEY"
