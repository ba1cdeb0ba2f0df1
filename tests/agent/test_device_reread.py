"""When the full device re-read runs after USB devices were judged from their uevents: 50 ms
after the last of them, but never later than 1 s after the first (a stream of uevents must not
postpone the reconcile for ever). The Watcher is the real one; its host (``WatchHost``, the
daemon's seam) only counts what the watch asks the main loop to run."""

import concurrent.futures
import threading
import time

from bmnn_guard.agent import watch
from bmnn_guard.agent.config import AgentConfig
from bmnn_guard.agent.daemon import WatchHost
from bmnn_guard.agent.paths import from_env


def _watcher(tmp_path):
    rereads: list[float] = []
    lock = threading.Lock()

    def call_soon(fn):
        fut = concurrent.futures.Future()
        if getattr(fn, "__name__", "") == "process":  # only the re-read triggers process() here
            with lock:
                rereads.append(time.monotonic())
            fn()  # no policy: it takes the batch and returns (as the main loop would run it)
        fut.set_result(None)
        return fut

    host = WatchHost(paths=from_env({}, config_dir=str(tmp_path / "etc"), state_dir=str(tmp_path / "state"),
                                    runtime_dir=str(tmp_path / "run"), log_dir=str(tmp_path / "log")), policy_dir=None,
                     call_soon=call_soon, record=lambda evs: [], register_source=lambda *a, **k: None,
                     on_reload=lambda fn: None, policy=lambda: None, config=AgentConfig,
                     open_fingerprints=dict, reconciled=lambda: None)
    return watch.Watcher(host), rereads


def test_one_judgement_is_reconciled_50_ms_later(tmp_path):
    w, rereads = _watcher(tmp_path)
    try:
        t0 = time.monotonic()
        w._reread_devices_later()
        time.sleep(0.5)
        assert len(rereads) == 1, rereads
        assert watch.DEVICE_REREAD_S <= rereads[0] - t0 < watch.DEVICE_REREAD_S + 0.2, rereads[0] - t0
    finally:
        w.close()


def test_a_stream_of_uevents_postpones_the_reread_at_most_a_second(tmp_path):
    w, rereads = _watcher(tmp_path)
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1.6:  # a judgement every 20 ms: never 50 ms of quiet
            w._reread_devices_later()
            time.sleep(0.02)
        end = time.monotonic()
        time.sleep(0.4)
        rel = [t - t0 for t in rereads]
        assert rel, "no re-read at all"
        assert watch.DEVICE_REREAD_MAX_S <= rel[0] < watch.DEVICE_REREAD_MAX_S + 0.25, rel
        # the stream went on after it: one more re-read, 50 ms after its last uevent
        assert len(rel) == 2 and rel[1] >= end - t0, rel
    finally:
        w.close()
