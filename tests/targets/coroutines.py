# Target: one worker runs asyncio.run() on a chain of three awaiting coroutines whose innermost blocks
# synchronously (stalling its event loop); another drives an `async def` chain by hand with
# .send(None), which blocks inside it.
import asyncio

import _harness


async def innermost_coroutine():
    _harness.park()


async def middle_coroutine():
    await innermost_coroutine()


async def outer_coroutine():
    await middle_coroutine()


def run_event_loop():
    asyncio.run(outer_coroutine())


async def manual_inner():
    _harness.park()


async def manual_outer():
    await manual_inner()


def drive_by_hand():
    coroutine = manual_outer()
    coroutine.send(None)


def setup():
    _harness.spawn(run_event_loop)
    _harness.spawn(drive_by_hand)


if __name__ == "__main__":
    _harness.main(setup)
