"""The click command: exit codes, JSON, languages."""

import json

from click.testing import CliRunner

from bmnn_guard.scanner.content.command import content_command

from . import corpus as C


def test_exit_codes_and_json(tmp_path):
    (tmp_path / "a.docx").write_bytes(C.letter({"runs": [{"text": "MẬT", "bold": True, "color": "FF0000"}], "border": True}))
    (tmp_path / "b.txt").write_text("mật khẩu", encoding="utf-8")
    r = CliRunner().invoke(content_command, ["--json", str(tmp_path)])
    assert r.exit_code == 2, r.output
    data = json.loads(r.output)
    assert data["files_scanned"] == 2 and data["findings"][0]["level"] == "mat"
    r = CliRunner().invoke(content_command, ["--lang", "en", str(tmp_path / "b.txt")])
    assert r.exit_code == 0 and "No stamped document found" in r.output
    r = CliRunner().invoke(content_command, [str(tmp_path / "b.txt")])
    assert r.exit_code == 0 and "Không tìm thấy" in r.output


def test_usage_errors_exit_1(tmp_path):
    assert CliRunner().invoke(content_command, []).exit_code == 1
    assert CliRunner().invoke(content_command, [str(tmp_path / "missing")]).exit_code == 1


def _bmnn(*args, state, **kw):
    import os
    import shutil
    import subprocess
    import sys
    exe = shutil.which("bmnn") or os.path.join(os.path.dirname(sys.executable), "bmnn")
    env = {k: v for k, v in os.environ.items() if k != "BMNN_LANG"}
    env["BMNN_STATE_DIR"] = str(state)
    return subprocess.run([exe, *args], capture_output=True, text=True, env=env, timeout=120, **kw)


def _unreadable_tree(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "ok.txt").write_text("thông báo họp", encoding="utf-8")
    (d / "broken.pdf").write_bytes(b"%PDF-1.4\n garbage, no xref")
    (d / "broken.docx").write_bytes(b"PK\x03\x04 truncated zip")
    return d


def test_the_root_language_reaches_the_content_command(tmp_path):
    """`bmnn --lang en content PATH` speaks English (it printed Vietnamese)."""
    (tmp_path / "b.txt").write_text("mật khẩu", encoding="utf-8")
    p = _bmnn("--lang", "en", "content", str(tmp_path / "b.txt"), state=tmp_path / "s")
    assert p.returncode == 0 and "No stamped document found." in p.stdout, p.stdout + p.stderr
    assert "Không" not in p.stdout
    p = _bmnn("content", str(tmp_path / "b.txt"), state=tmp_path / "s")
    assert "Không tìm thấy tài liệu mang dấu độ mật." in p.stdout


def test_unreadable_files_make_the_scan_incomplete_and_are_named(tmp_path):
    """Files that could not be read are not clean: exit 3, how many and which, in the language asked."""
    d = _unreadable_tree(tmp_path)
    p = _bmnn("content", str(d), state=tmp_path / "s")
    assert p.returncode == 3, p.stdout + p.stderr
    out = " ".join(p.stdout.split())  # rich wraps long lines
    assert "Chưa đủ căn cứ kết luận: 2 tệp không đọc được" in out
    assert str(d / "broken.pdf") in out and str(d / "broken.docx") in out
    assert "PDF hỏng" in out and "damaged PDF" not in out
    p = _bmnn("--lang", "en", "content", "--json", str(d), state=tmp_path / "s")
    assert p.returncode == 3
    data = json.loads(p.stdout)
    assert sorted(e["source"] for e in data["errors"]) == [str(d / "broken.docx"), str(d / "broken.pdf")]
    assert "Incomplete: 2 files could not be read:" in p.stderr and str(d / "broken.pdf") in p.stderr
    # a classified document found outranks incomplete: exit 2
    (d / "a.docx").write_bytes(C.letter({"runs": [{"text": "MẬT", "bold": True, "color": "FF0000"}], "border": True}))
    assert _bmnn("content", str(d), state=tmp_path / "s").returncode == 2


def test_content_errors_speak_vietnamese_by_default(tmp_path):
    p = _bmnn("content", state=tmp_path / "s")
    assert p.returncode == 1 and "Cần ít nhất một đường dẫn hoặc --marked." in p.stderr
