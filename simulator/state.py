"""What the simulator is told (knobs, faults) and what it counts (requests in flight)."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field


@dataclass
class Fault:
    """Answer the next `times` matching requests with `status` instead of audio."""

    status: int
    times: int = 1
    path: str = ""  # substring of the request path; empty matches every TTS request
    retry_after_s: float | None = None
    message: str = "injected fault"
    # A vendor's own error code for endpoints that answer one in their body (Volcano Engine:
    # e.g. 3003 with HTTP 200 or 429); None: the endpoint's usual code for `status`.
    code: int | None = None


@dataclass
class Knobs:
    latency_ms: float = 0.0
    voices_latency_ms: float = 0.0  # how long listing voices takes
    max_in_flight: int | None = None  # an account's concurrency limit: 429 above it
    api_key: str | None = None  # when set, any other key gets 401
    app_id: str | None = None  # Volcano Engine: when set, any other appid gets 403


@dataclass
class SimState:
    knobs: Knobs = field(default_factory=Knobs)
    faults: list[Fault] = field(default_factory=list)
    in_flight: int = 0
    peak_in_flight: int = 0
    tts_requests: int = 0
    rejected_over_limit: int = 0
    voice_listings: int = 0
    # (monotonic time, in-flight count after the change), to average over time
    timeline: list[tuple[float, int]] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)
    recent: list[dict] = field(default_factory=list)
    uploads: dict = field(default_factory=dict)  # public id -> simulator.cloudinary.Upload
    volc_reqids: set = field(default_factory=set)  # Volcano Engine refuses a reqid seen before
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_fault(self, path: str, named_only: bool = False) -> Fault | None:
        """The next fault for `path`; `named_only`: only one whose path was given (listings
        are not TTS requests, which a fault without a path stands for)."""
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.path in path and (fault.path or not named_only):
                    fault.times -= 1
                    return fault
        return None

    def enter(self, record: dict) -> bool:
        """Count a TTS request in; False (and not counted) when over the account limit."""
        with self.lock:
            self.tts_requests += 1
            self.recent = [*self.recent[-199:], record]
            limit = self.knobs.max_in_flight
            if limit is not None and self.in_flight >= limit:
                self.rejected_over_limit += 1
                return False
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            now = time.monotonic()
            self.timeline.append((now, self.in_flight))
            self.starts.append(now)
            return True

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1
            self.timeline.append((time.monotonic(), self.in_flight))

    def average_in_flight(self) -> float:
        """Time-weighted requests in flight from the first request's start to the last's.

        That window is while blocks were still queued: after the last start, the tail only
        drains, and no limiter could keep the account busy.
        """
        with self.lock:
            if len(self.starts) < 2:
                return float(self.in_flight)
            begin, end = self.starts[0], self.starts[-1]
            area, previous_t, previous_n = 0.0, begin, 0
            for t, n in self.timeline:
                if t > end:
                    break
                area += previous_n * (t - previous_t)
                previous_t, previous_n = t, n
            area += previous_n * (end - previous_t)
            return area / (end - begin) if end > begin else float(previous_n)

    def handoff_ms(self) -> list[float]:
        """For each request that ended while others were still to start, how long until the
        next one started: the time an account's freed slot stood idle (sorted, ms)."""
        with self.lock:
            if len(self.starts) < 2:
                return []
            end = self.starts[-1]
            gaps, freed, previous_n = [], [], 0
            for t, n in self.timeline:
                if t > end:
                    break
                if n < previous_n:
                    freed.append(t)
                elif n > previous_n and freed:
                    gaps.append((t - freed.pop(0)) * 1000)
                previous_n = n
            return sorted(gaps)

    def stats(self) -> dict:
        average = self.average_in_flight()
        gaps = self.handoff_ms()
        with self.lock:
            return {
                "in_flight": self.in_flight,
                "peak_in_flight": self.peak_in_flight,
                "average_in_flight": average,
                # a freed slot's idle time before the next request: median and 90th percentile
                "handoff_ms_p50": round(gaps[len(gaps) // 2], 1) if gaps else None,
                "handoff_ms_p90": round(gaps[len(gaps) * 9 // 10], 1) if gaps else None,
                "tts_requests": self.tts_requests,
                "rejected_over_limit": self.rejected_over_limit,
                "voice_listings": self.voice_listings,
                "faults_left": [asdict(f) for f in self.faults if f.times > 0],
                "recent": list(self.recent),
                "uploads": sorted(self.uploads),
            }
