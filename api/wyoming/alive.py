"""`python -m api.wyoming.alive`: exits 0 if the Wyoming server of these settings answers a
ping with a pong within TIMEOUT_S (the health check of its container and pod), 1 otherwise."""

from __future__ import annotations

import asyncio
import sys

from wyoming.client import AsyncTcpClient
from wyoming.ping import Ping, Pong

from config import get_settings

TIMEOUT_S = 3.0


async def answers(host: str, port: int) -> bool:
    async with AsyncTcpClient(host, port) as client:
        await client.write_event(Ping(text="alive").event())
        event = await client.read_event()
        return event is not None and Pong.is_type(event.type)


def main() -> int:
    options = get_settings().wyoming
    host = "127.0.0.1" if options.host in ("0.0.0.0", "::", "") else options.host
    try:
        return 0 if asyncio.run(asyncio.wait_for(answers(host, options.port), TIMEOUT_S)) else 1
    except (OSError, TimeoutError):
        return 1


if __name__ == "__main__":
    sys.exit(main())
