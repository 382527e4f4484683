"""Bounded heavy work per process: what-if answers and batches.

The engine never releases the GIL, so work on the event loop delays every other request on the
process, liveness probes included, and unbounded concurrent batches hold unbounded memory. Two
limiters keep both in hand:

- what-if (tens of evaluations a request) runs in a worker thread, at most `running` at once: the
  event loop thread then gets the GIL every switch interval and keeps answering /healthz;
- a batch holds a slot from its first entry to its last (it streams on the event loop, one entry at
  a time, yielding between entries).

Four times as many requests again wait for a slot (without holding a thread); beyond that the
answer is 503 with Retry-After, so a flood is refused quickly instead of queueing without end. The
limits are settings (LIVERMETS_MAX_CONCURRENT_*), by default the number of cores, so ordinary load
is served, not refused. Fewer threads competing for the GIL is also what keeps the event loop's turn
short: with two what-if threads /healthz waits at most a couple of switch intervals."""

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import partial
from typing import ParamSpec, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from app.errors import error_response, problem

P = ParamSpec("P")
T = TypeVar("T")


class Busy(Exception):
    """Every slot is taken and the waiting line is full: answered 503 with Retry-After."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class WorkLimiter:
    def __init__(self, what: str, running: int, waiting: int) -> None:
        self.what = what
        self.running = running
        self.waiting = waiting
        self._slots: asyncio.Semaphore | None = None  # made on first use, inside the serving loop
        self._queued = 0
        self._threads: ThreadPoolExecutor | None = None
        self.active = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot for the block; Busy when none is free and the waiting line is full."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.running)
        if self._slots.locked() and self._queued >= self.waiting:
            raise Busy(self.what)
        self._queued += 1
        try:
            await self._slots.acquire()
        finally:
            self._queued -= 1
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1
            self._slots.release()

    async def run(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`work` in one of this limiter's own `running` threads, in a slot. Not the framework's pool
        of 40: every thread that allocates gets its own malloc arena, and dozens of them grew the
        process by about 10 MiB under varied traffic."""
        async with self.slot():
            if self._threads is None:
                self._threads = ThreadPoolExecutor(max_workers=self.running, thread_name_prefix=self.what)
            return await asyncio.get_running_loop().run_in_executor(self._threads, partial(work, *args, **kwargs))


class Limits:
    """The limiters of one app, made from its settings (app.state.limits)."""

    def __init__(self, what_if: int, batches: int) -> None:
        self.what_if = WorkLimiter("what-if", running=what_if, waiting=4 * what_if)
        self.batches = WorkLimiter("batch", running=batches, waiting=4 * batches)
        # Reading a FHIR Bundle (up to 1 MiB: about 0.5 ms a resource with fhir.resources) and explaining it.
        self.fhir = WorkLimiter("FHIR", running=what_if, waiting=4 * what_if)


async def busy(request: Request, exc: Exception) -> Response:
    what = exc.what if isinstance(exc, Busy) else "work"
    message = f"too many {what} requests at once on this server; retry in a moment"
    return error_response(503, "busy", [problem("request", message)], headers={"Retry-After": "1"})
