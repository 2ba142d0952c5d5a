"""Run the simulator on a free local port in a background thread, and drive its knobs."""

from __future__ import annotations

import threading
import time

import httpx
import uvicorn

from simulator.app import create_simulator
from utils.embedded_redis import free_port


class SimulatorServer:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_simulator(),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._control = httpx.Client(base_url=self.url, timeout=10)

    def start(self) -> SimulatorServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("simulator did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._control.close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def reset(self) -> None:
        self._control.post("/_sim/reset").raise_for_status()

    def knobs(self, **knobs) -> dict:
        response = self._control.post("/_sim/knobs", json=knobs)
        response.raise_for_status()
        return response.json()

    def fault(
        self,
        status: int,
        times: int = 1,
        path: str = "",
        retry_after_s: float | None = None,
        message: str = "injected fault",
        code: int | None = None,
    ) -> None:
        body = {
            "status": status,
            "times": times,
            "path": path,
            "retry_after_s": retry_after_s,
            "message": message,
            "code": code,
        }
        self._control.post("/_sim/faults", json=body).raise_for_status()

    def age_uploads(self, prefix: str, seconds: float) -> int:
        response = self._control.post(
            "/_sim/uploads/age", json={"prefix": prefix, "seconds": seconds}
        )
        response.raise_for_status()
        return response.json()["aged"]

    def stats(self) -> dict:
        return self._control.get("/_sim/stats").json()
