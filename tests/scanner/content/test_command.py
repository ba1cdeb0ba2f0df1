"""The click command: exit codes, JSON, languages."""

import json

from click.testing import CliRunner

from scanner.content.command import content_command

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
