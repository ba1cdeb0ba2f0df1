"""ContentWatch without a daemon: real worker subprocesses, plain folders standing in for media."""

import queue
import shutil

from bmnn_guard.agent.content import ContentWatch
from bmnn_guard.agent.sources.mounts import read_mounts
from tests.scanner.content import corpus as C

STAMP = {"runs": [{"text": "TUYỆT MẬT", "bold": True, "color": "FF0000"}], "border": True}


def _next(q, timeout=30):
    return q.get(timeout=timeout)


def test_index_copy_stamp_forget_and_media_removal(tmp_path):
    marked, media = tmp_path / "mat", tmp_path / "usb"
    marked.mkdir()
    media.mkdir()
    (marked / "ke-hoach.docx").write_bytes(C.letter(STAMP))
    (media / "old.docx").write_bytes(C.letter(STAMP, extra=["Bản cũ"]))
    q: "queue.Queue" = queue.Queue()
    cw = ContentWatch(q.put, workers=1, on_error=lambda m: q.put(RuntimeError(m)))
    cw.start([str(marked)], [])
    try:
        first = _next(q)
        assert [f.path for f in first.findings] == [str(marked / "ke-hoach.docx")]
        assert first.findings[0].in_marked_folder is True and first.findings[0].level == "tuyet_mat"

        cw.set_media([str(media)])  # mounted: scanned in full
        f = {x.path: x for x in _next(q).findings}
        assert f[str(media / "old.docx")].on_removable is True and f[str(media / "old.docx")].copy_of is None

        shutil.copyfile(marked / "ke-hoach.docx", media / "x.bin")  # any name
        cw.changed(str(media / "x.bin"))
        f = {x.path: x for x in _next(q).findings}
        assert f[str(media / "x.bin")].copy_of == str(marked / "ke-hoach.docx")

        (media / "x.bin").unlink()
        cw.removed(str(media / "x.bin"))
        assert str(media / "x.bin") not in {x.path for x in _next(q).findings}

        cw.set_media([])  # unmounted: its findings go
        assert [x.path for x in _next(q).findings] == [str(marked / "ke-hoach.docx")]
        import time
        deadline = time.monotonic() + 5
        while not cw.idle() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert cw.idle()
    finally:
        cw.stop()
    assert not cw.alive()


def test_unreadable_file_is_an_error_not_clean(tmp_path):
    media = tmp_path / "usb"
    media.mkdir()
    q: "queue.Queue" = queue.Queue()
    cw = ContentWatch(q.put)
    cw.start([], [])
    try:
        cw.set_media([str(media)])
        _next(q)
        (media / "gone.docx").write_bytes(b"PK\x03\x04 truncated")
        cw.changed(str(media / "gone.docx"))
        facts = _next(q)
        assert not facts.findings
        assert [e.source for e in facts.errors] == [str(media / "gone.docx")], facts
    finally:
        cw.stop()


def test_mountinfo_parsing_unescapes_and_pairs_device_and_type():
    text = ("36 35 98:0 / /mnt1 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n"
            "40 35 7:0 / /media/Hoa\\040Binh\\134x rw shared:5 - vfat /dev/loop0 rw\n"
            "garbage line\n")
    assert read_mounts(text) == {"/mnt1": ("/dev/root", "ext3"), "/media/Hoa Binh\\x": ("/dev/loop0", "vfat")}


def test_marking_and_unmarking_folders(tmp_path):
    a, b, media = tmp_path / "a", tmp_path / "b", tmp_path / "usb"
    for d in (a, b, media):
        d.mkdir()
    (a / "ke-hoach.docx").write_bytes(C.letter(STAMP))
    (b / "bao-cao.docx").write_bytes(C.letter(STAMP, extra=["Báo cáo"]))
    shutil.copyfile(a / "ke-hoach.docx", media / "copy.docx")
    q: "queue.Queue" = queue.Queue()
    cw = ContentWatch(q.put)
    cw.start([str(a)], [])
    try:
        _next(q)
        cw.set_marked([str(a), str(b)])  # b is marked now: scanned and indexed
        f = {x.path: x for x in _next(q).findings}
        assert f[str(b / "bao-cao.docx")].in_marked_folder is True
        cw.set_marked([str(b)])  # a is no longer marked: its findings and its hashes go
        assert str(a / "ke-hoach.docx") not in {x.path for x in _next(q).findings}
        cw.set_media([str(media)])
        f = {x.path: x for x in _next(q).findings}
        assert f[str(media / "copy.docx")].copy_of is None  # a stamped file on a medium, not a copy any more
    finally:
        cw.stop()


def _file_events(cw, journaled):
    import concurrent.futures

    from bmnn_guard.agent.filemeta import FileEvents

    def journal(events):
        journaled.extend(events)
        fut = concurrent.futures.Future()
        fut.set_result(None)
        return fut
    return FileEvents(journal, journal_now=journaled.extend, content=lambda: cw)


def _idle(*things, timeout=30):
    import time
    deadline = time.monotonic() + timeout
    while not all(t.idle() for t in things):
        assert time.monotonic() < deadline, "not idle"
        time.sleep(0.01)


def test_clean_text_read_by_the_file_thread_is_indexed_without_a_scan(tmp_path):
    """A small plain-text file with no line that could be a mark, read whole by the file thread
    to hash it, is handed over as clean: indexed (a copy of it on a medium is still found), no
    scan run; a file that could hold a mark, or is not plain text, is scanned as before; a file
    that was stamped and is rewritten clean loses its finding."""
    marked, media = tmp_path / "mat", tmp_path / "usb"
    marked.mkdir()
    media.mkdir()
    q: "queue.Queue" = queue.Queue()
    cw = ContentWatch(q.put, workers=1, on_error=lambda m: q.put(RuntimeError(m)))
    cw.start([str(marked)], [str(media)])
    journaled: list = []
    fe = _file_events(cw, journaled)
    try:
        _next(q)
        _idle(cw)
        scans = cw.scans
        draft = marked / "du-thao.txt"
        draft.write_text("Báo cáo tình hình công tác quý III.\nKính gửi: Sở Nội vụ\n" * 20, encoding="utf-8")
        fe.submit([{"event": "closed", "path": str(draft), "root": str(marked)}])
        _idle(fe, cw)
        assert cw.scans == scans  # decided by the file thread: no scan
        assert journaled[-1].evidence["sha256"] == __import__("hashlib").sha256(draft.read_bytes()).hexdigest()
        assert cw.index.source_of(journaled[-1].evidence["sha256"], draft.stat().st_size) == str(draft)

        stamped = marked / "bao-cao.txt"
        stamped.write_text("Số: 12/BC\nTỐI MẬT\nBáo cáo tình hình\n", encoding="utf-8")
        fe.submit([{"event": "closed", "path": str(stamped), "root": str(marked)}])
        facts = _next(q)
        assert cw.scans == scans + 1
        assert [(f.path, f.level) for f in facts.findings] == [(str(stamped), "toi_mat")]

        stamped.write_text("Số: 12/BC\nBáo cáo tình hình, bản đã bỏ dấu\n", encoding="utf-8")  # rewritten clean
        fe.submit([{"event": "closed", "path": str(stamped), "root": str(marked)}])
        assert _next(q).findings == ()
        assert cw.scans == scans + 1

        shutil.copyfile(draft, media / "x.txt")  # the clean draft copied out: a copy, found by its hash
        fe.submit([{"event": "closed", "path": str(media / "x.txt"), "root": str(media)}])
        f = {x.path: x for x in _next(q).findings}
        assert f[str(media / "x.txt")].copy_of == str(draft)

        binary = marked / "data.bin"
        binary.write_bytes(bytes(range(256)) * 4)
        fe.submit([{"event": "closed", "path": str(binary), "root": str(marked)}])
        _idle(fe, cw)
        assert cw.scans == scans + 3  # not plain text: scanned
    finally:
        fe.stop()
        cw.stop()
