"""Reading and writing the patch records calctl acts on, sealed with the user's key.

Journals and snapshot manifests decide what recovery and rollback write and delete,
so one found on disk is acted on only when it carries a valid tag of this user's
key (:mod:`calctl.trust`): anything else — a file a repository shipped, another
user's or machine's, an older calctl's — is :class:`Unsealed`, reported and left
alone by the callers.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from calctl import trust
from calctl.errors import StateError
from calctl.patch.atomic import write_atomic

# A journal holds the patch document and its diff (each capped at patch.max_patch_bytes);
# anything far larger is not ours, and reading it whole would only cost memory.
MAX_RECORD_BYTES = 64 * 1024 * 1024


class Unsealed(Exception):
    """A record without a valid seal of this user's key; the message says why."""


def require_key() -> None:
    """StateError unless a key is usable: without one nothing calctl writes can be trusted
    later, so nothing that needs a journal may start."""
    if trust.state_key() is None:
        raise StateError(f"cannot journal a patch: {trust.key_problem()}",
                         hint="calctl seals its journals and snapshots with this key; make it "
                         "a 32-byte file of yours with mode 0600, or point CALCTL_KEY_FILE at "
                         "one.", code="state-key")


def write(path: Path, data: bytes, purpose: str, *, tag: str) -> None:
    """Write ``data`` sealed for ``purpose`` atomically (OSError passes through)."""
    sealed = trust.seal(data, purpose)
    if sealed is None:
        require_key()  # raises, naming the reason
        raise AssertionError("seal failed with a usable key")  # pragma: no cover
    write_atomic(path, sealed, mode=0o600, tag=tag)


def read(path: Path, purpose: str) -> bytes:
    """The data of the sealed file at ``path``; Unsealed when its tag is not ours.

    Never follows a symbolic link and reads only a regular file (a FIFO planted under
    a journal's name would block). FileNotFoundError and other OSError pass through.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Unsealed("it is a symbolic link") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Unsealed("not a regular file")
        if st.st_size > MAX_RECORD_BYTES:
            raise Unsealed(f"{st.st_size} bytes, larger than any record calctl writes")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    finally:
        os.close(fd)
    blob = b"".join(chunks)
    data = trust.unseal(blob, purpose)
    if data is None:
        raise Unsealed(_why(blob))
    return data


def _why(blob: bytes) -> str:
    if trust.state_key(create=False) is None:
        if not trust.key_path().exists():
            return (f"no state key exists on this machine yet ({trust.key_path()}), so "
                    "calctl did not write it here")
        return trust.key_problem()
    if not blob.startswith(trust.MAGIC):
        return "it carries no seal (written by an older calctl, or not by calctl)"
    return ("its seal does not verify under this user's key (written by another user or "
            "machine, or altered since)")
