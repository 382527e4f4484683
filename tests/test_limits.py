"""The heavy-work limiter: at most `running` at once, `waiting` more queued, the rest refused; a
slot is always given back (also when the work fails or the client goes away)."""

import asyncio
import threading

import pytest

from app.limits import Busy, WorkLimiter


def test_work_beyond_the_running_and_waiting_slots_is_refused() -> None:
    async def scenario() -> tuple[int, int, int]:
        limiter = WorkLimiter("what-if", running=2, waiting=3)
        release = threading.Event()
        started = 0
        lock = threading.Lock()

        def work() -> int:
            nonlocal started
            with lock:
                started += 1
            release.wait(30)
            return 1

        tasks = [asyncio.create_task(limiter.run(work)) for _ in range(5)]
        while started < 2:  # the first two run, the next three wait
            await asyncio.sleep(0.001)
        with pytest.raises(Busy):
            await limiter.run(work)  # a sixth: nowhere to wait
        most_running = limiter.active
        release.set()
        results = await asyncio.gather(*tasks)
        return most_running, sum(results), limiter.active

    most_running, done, active_after = asyncio.run(scenario())
    assert most_running == 2
    assert done == 5
    assert active_after == 0


def test_a_slot_is_given_back_when_the_work_fails_or_is_cancelled() -> None:
    async def scenario() -> None:
        limiter = WorkLimiter("batch", running=1, waiting=0)

        def fail() -> None:
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            await limiter.run(fail)

        async def hold() -> None:
            async with limiter.slot():
                await asyncio.sleep(30)

        task = asyncio.create_task(hold())
        while limiter.active == 0:
            await asyncio.sleep(0.001)
        with pytest.raises(Busy):
            async with limiter.slot():
                pass
        task.cancel()  # a client that went away
        with pytest.raises(asyncio.CancelledError):
            await task
        async with limiter.slot():  # free again
            assert limiter.active == 1

    asyncio.run(scenario())
