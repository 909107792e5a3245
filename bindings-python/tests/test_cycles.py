"""10,000 reconnect cycles against the fault server: memory (RSS and tracemalloc), threads
and file descriptors stay flat. Prints the numbers (``pytest -s`` shows them; test.sh's
log keeps them)."""

from __future__ import annotations

import gc
import os
import threading
import tracemalloc
from typing import Any

from conftest import FaultServer

import steadysock as websocket

CYCLES = int(os.environ.get("STEADYSOCK_CYCLES", "10000"))
WARMUP = min(1000, CYCLES // 10)


def rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def sample() -> dict[str, int]:
    gc.collect()
    return {
        "rss_kib": rss_kib(),
        "traced_kib": tracemalloc.get_traced_memory()[0] // 1024,
        "threads": threading.active_count(),
        "os_threads": len(os.listdir("/proc/self/task")),
        "fds": len(os.listdir("/proc/self/fd")),
    }


def test_ten_thousand_reconnect_cycles_keep_memory_and_threads_flat(fault_server: FaultServer) -> None:
    samples: dict[int, dict[str, int]] = {}
    opens = 0

    def on_open(app: websocket.WebSocketApp) -> None:
        nonlocal opens
        opens += 1
        if opens in (WARMUP, CYCLES):
            samples[opens] = sample()
        if opens == CYCLES:
            app.close()
        else:
            # The server closes this transport (1000); the session reconnects.
            assert fault_server.command("close 1000") == "ok"

    app = websocket.WebSocketApp(fault_server.url, on_open=on_open, on_reconnect=on_open)
    tracemalloc.start()
    try:
        done = threading.Event()
        result: list[Any] = []
        t = threading.Thread(target=lambda: (result.append(app.run_forever(reconnect=0.001)), done.set()))  # type: ignore[arg-type,func-returns-value]
        t.start()
        assert done.wait(300), "run_forever did not finish"
        t.join()
    finally:
        tracemalloc.stop()
    before, after = samples[WARMUP], samples[CYCLES]
    status = fault_server.status()
    print(f"\n{CYCLES} reconnect cycles (server handshakes: {status['handshakes']})")
    for key in before:
        print(f"  {key:>10}: after {WARMUP}: {before[key]:>8}   after {CYCLES}: {after[key]:>8}")
    assert result == [False]
    assert opens == CYCLES and status["handshakes"] == CYCLES
    assert after["threads"] == before["threads"] and after["os_threads"] == before["os_threads"]
    assert after["fds"] == before["fds"]
    # Flat: no growth per cycle (a leak of even 100 bytes a cycle would show 900 KiB).
    assert after["traced_kib"] - before["traced_kib"] < 256
    assert after["rss_kib"] - before["rss_kib"] < 2048
