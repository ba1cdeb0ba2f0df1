"""``scan.proven_clean_text``, the daemon's file thread's shortcut, never says clean where the scan
would not: every file it clears is clean with no finding and no error in a real ``run_scan``
(workers included), over the marks of markings.md in every encoding and frame, the "not a mark"
lines, generated reports in every encoding, and files that are not plain text at all."""

import random

from bmnn_guard.scanner.content import scan
from bmnn_guard.scanner.content.scan import proven_clean_text, run_scan
from tests.scanner.content.forms import LEGACY_FORMS, LEVELS, NOT_MARKS, unicode_forms

BODY = "Báo cáo kết quả công tác quý III, Sở Nội vụ tỉnh.\n"


def _files() -> dict[str, bytes]:
    from bench.plaintext import MIX, make_file
    out: dict[str, bytes] = {}
    for level in LEVELS:
        for form, text in unicode_forms(level).items():
            for frame in ("{}", "[ {} ]", "═══ {} ═══", "“{}”", "  {}  "):
                line = frame.format(text)
                out[f"u-{level}-{form}-{frame}.txt"] = ("Số: 1/BC\n" + line + "\n" + BODY).encode()
                out[f"u16-{level}-{form}-{frame}.txt"] = ("Số: 1/BC\n" + line + "\n").encode("utf-16")
                out[f"cr-{level}-{form}-{frame}.txt"] = ("Số: 1/BC\r" + line + "\r" + BODY).encode()
    for enc, (upper, lower) in LEGACY_FORMS.items():
        for i, form in enumerate(upper + lower):
            out[f"l-{enc}-{i}.txt"] = b"So: 1/BC\n" + form + b"\n" + BODY.encode("ascii", "ignore")
    for i, line in enumerate(NOT_MARKS):
        out[f"n-{i}.txt"] = (BODY + line + "\n").encode()
    rng = random.Random(15)
    for i in range(120):
        enc = MIX[i % len(MIX)][0]
        out[f"r-{enc}-{i}.txt"] = make_file(rng, i, enc)[0]
    out["plain.txt"] = (BODY * 40).encode()
    out["empty.txt"] = b""
    out["binary.bin"] = bytes(range(256)) * 8
    out["page.html"] = ("<html><body><p>TỐI MẬT</p>" + BODY + "</body></html>").encode()
    out["clean.html"] = ("<html><body>" + BODY + "</body></html>").encode()
    out["x.rtf"] = rb"{\rtf1\ansi T\'d4I M\'c2T}"
    out["x.pdf.txt"] = b"%PDF-1.4\n" + BODY.encode()
    out["big.txt"] = (BODY * 2000).encode()  # over the size the shortcut takes
    return out


def test_what_it_clears_the_scan_finds_clean(tmp_path):
    files = _files()
    for name, data in files.items():
        (tmp_path / name.replace("/", "_")).write_bytes(data)
    report = run_scan([str(tmp_path)], jobs=1)
    flagged = {f.path for f in report.facts.findings} | {e.source for e in report.facts.errors}
    cleared = [name for name, data in files.items() if proven_clean_text(data, name)]
    assert len(cleared) > 40  # it does clear the common case
    for name in cleared:
        assert str(tmp_path / name.replace("/", "_")) not in flagged, name
    # and every file the scan flags is one it did not clear
    assert not {str(tmp_path / n.replace("/", "_")) for n in cleared} & flagged
    assert len(flagged) > 60  # the marks were there to be found
    assert not proven_clean_text(b"", "empty.txt") and not proven_clean_text(files["big.txt"], "big.txt")
    assert len(files["big.txt"]) > scan.THREAD_TEXT_BYTES
