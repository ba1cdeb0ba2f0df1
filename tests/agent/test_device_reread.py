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


def _check_rule(arms: list[float], fires: list[float]) -> None:
    """Each re-read came after 50 ms without a judgement, or 1 s after the first judgement since
    the re-read before it (lateness is allowed: a loaded machine runs timers late)."""
    eps = 0.005
    prev = float("-inf")
    for f in fires:
        since = [a for a in arms if prev < a <= f]
        assert since, (f, arms)
        assert f - since[-1] >= watch.DEVICE_REREAD_S - eps or f - since[0] >= watch.DEVICE_REREAD_MAX_S - eps, \
            (f - since[0], f - since[-1])
        prev = f


def test_one_judgement_is_reconciled_50_ms_later(tmp_path):
    w, rereads = _watcher(tmp_path)
    try:
        t0 = time.monotonic()
        w._reread_devices_later()
        time.sleep(0.9)
        assert len(rereads) == 1, rereads
        _check_rule([t0], rereads)
        assert rereads[0] - t0 < 0.8, rereads[0] - t0  # not held back to the 1 s bound
    finally:
        w.close()


def test_a_stream_of_uevents_postpones_the_reread_at_most_a_second(tmp_path):
    w, rereads = _watcher(tmp_path)
    try:
        arms: list[float] = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1.6:  # a judgement every 5 ms: never 50 ms of quiet
            arms.append(time.monotonic())
            w._reread_devices_later()
            time.sleep(0.005)
        time.sleep(0.9)
        assert rereads, "no re-read at all"
        _check_rule(arms, rereads)
        assert rereads[0] - t0 < 1.5, rereads[0] - t0  # not postponed to the end of the stream
        assert rereads[-1] > arms[-1], (rereads, arms[-1])  # the last judgements are reconciled too
    finally:
        w.close()
