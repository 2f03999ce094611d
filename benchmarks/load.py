"""A small HTTP/1.1 load generator: N keep-alive connections, each sending its next request as
soon as the last one is answered (what wrk does), on one asyncio loop so the client costs the
two-core machine as little as possible. Every answer must be the expected status."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoadFigures:
    label: str
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def http_request(method: str, path: str, *, body: bytes = b"",
                 headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers = {}
    for line in header_lines:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, b"".join(chunks)
            chunks.append(chunk[:-2])
    return status, await reader.read()


async def _connection(host: str, port: int, make_request: Callable[[], bytes],
                      deadline: float, figures: LoadFigures, expect: int) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(make_request())
            status, body = await _read_response(reader)
            if status != expect:
                figures.errors += 1
                figures.first_error = figures.first_error or f"{status}: {body[:300]!r}"
                continue
            figures.latencies_ms.append(1000 * (time.perf_counter() - started))
    finally:
        writer.close()


def closed_loop(label: str, port: int, make_request: Callable[[], bytes], *,
                connections: int = 8, seconds: float = 10.0, expect: int = 200) -> LoadFigures:
    """`connections` clients, each sending back to back for `seconds`."""

    async def run() -> LoadFigures:
        figures = LoadFigures(label, seconds)
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(*(_connection("127.0.0.1", port, make_request, deadline, figures,
                                           expect) for _ in range(connections)))
        figures.seconds = time.perf_counter() - started
        return figures

    figures = asyncio.run(run())
    if figures.errors:
        raise RuntimeError(f"{label}: {figures.errors} unexpected answers, the first "
                           f"{figures.first_error}")
    return figures
