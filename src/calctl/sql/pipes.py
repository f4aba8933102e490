"""Messages between the console script's two processes (:mod:`calctl.sql.early`).

Each message on a pipe is length-prefixed (:func:`send`, :func:`receive`), so one pipe
carries several and the reader takes exactly one. (cache key, plain analysis) pairs go in
marshalled chunks, made while the sender still analyses (:class:`Packed`). Imports
nothing beyond ``os`` until used: :mod:`calctl.sql.early` loads it before forking.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any


class Packed:
    """(cache key, plain analysis) pairs for the other process, marshalled as they come: a
    chunk every :attr:`CHUNK` pairs, so that the work is done while the other process
    still analyses, not after the two have met (~15 ms per 1,000 files, at the end).
    With ``stream`` (a pipe), each chunk is sent as soon as it is made (:func:`send`);
    :meth:`finish` sends the rest and an empty message, the end."""

    CHUNK = 64

    def __init__(self, stream: int = -1) -> None:
        self.pairs: list[tuple[bytes, Any]] = []
        self._chunks: list[bytes] = []
        self._done = 0  # pairs already in a chunk
        self._sent = 0  # chunks already sent
        self._stream = stream

    def add(self, key: bytes, plain: Any) -> None:
        self.pairs.append((key, plain))
        if len(self.pairs) - self._done >= self.CHUNK:
            self._chunk()

    def packed(self) -> bytes:
        """Every pair so far, as one message (:func:`unpacked` reads it)."""
        import marshal

        self._chunk()
        return marshal.dumps(self._chunks)

    def finish(self, fd: int) -> None:
        """Send on ``fd`` every chunk not sent yet, then the end."""
        self._chunk()
        self._send(fd)
        send(fd, b"")

    def _chunk(self) -> None:
        import marshal

        if self._done < len(self.pairs):
            self._chunks.append(marshal.dumps(self.pairs[self._done:]))
            self._done = len(self.pairs)
            if self._stream >= 0:
                self._send(self._stream)

    def _send(self, fd: int) -> None:
        for chunk in self._chunks[self._sent:]:
            send(fd, chunk)
        self._sent = len(self._chunks)


def unpacked(data: bytes) -> list[tuple[bytes, Any]]:
    """The pairs of :meth:`Packed.packed` (ValueError, EOFError or TypeError when ``data``
    is not such a message)."""
    import marshal

    pairs: list[tuple[bytes, Any]] = []
    for chunk in marshal.loads(data):
        pairs.extend(marshal.loads(chunk))
    return pairs


def send(fd: int, data: bytes) -> None:
    """Write ``data`` whole on a pipe, its length first (the pipe stays open after it)."""
    view = memoryview(len(data).to_bytes(8, "little") + data)
    while view:
        view = view[os.write(fd, view):]


def receive(fd: int) -> bytes:
    """What :func:`send` wrote on ``fd``, and nothing after it (EOFError when the writer
    ended first)."""
    size = int.from_bytes(_exactly(fd, 8), "little")
    return _exactly(fd, size)


def messages(buffer: bytearray) -> Iterator[bytes]:
    """The whole messages :func:`send` wrote at the start of ``buffer`` (bytes read so far
    without waiting), each taken out of it as it is yielded; a partial one stays."""
    while len(buffer) >= 8:
        size = int.from_bytes(buffer[:8], "little")
        if len(buffer) < 8 + size:
            return
        message = bytes(buffer[8:8 + size])
        del buffer[:8 + size]
        yield message


def _exactly(fd: int, size: int) -> bytes:
    parts: list[bytes] = []
    while size:
        part = os.read(fd, min(size, 1 << 20))
        if not part:
            raise EOFError("the early child ended before sending its message")
        parts.append(part)
        size -= len(part)
    return b"".join(parts)
