"""click's own texts (usage errors, --help headings) speak the chosen language."""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys

import pytest


def bmnn(*args: str, lang_env: str | None = None) -> subprocess.CompletedProcess:
    exe = shutil.which("bmnn") or os.path.join(os.path.dirname(sys.executable), "bmnn")
    env = {k: v for k, v in os.environ.items() if k not in ("BMNN_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env["LANG"] = "C.UTF-8"
    if lang_env:
        env["BMNN_LANG"] = lang_env
    return subprocess.run([exe, *args], capture_output=True, text=True, env=env, timeout=120)


def test_every_click_module_reads_our_catalog():
    import bmnn_guard.cli as cli  # noqa: F401  (rebinds click's gettext names on import)
    left = [name for name, mod in sys.modules.items() if (name == "click" or name.startswith("click."))
            and (getattr(mod, "_", None) is gettext.gettext or getattr(mod, "ngettext", None) is gettext.ngettext)]
    assert not left, left


@pytest.mark.parametrize("args, vi, en", [
    (["--bogus"], ["Cách dùng: bmnn", "Xem hướng dẫn: bmnn --help", "Lỗi: Không có tùy chọn '--bogus'."],
     ["Usage: bmnn", "Try 'bmnn --help' for help.", "Error: No such option '--bogus'."]),
    (["nosuch"], ["Lỗi: Không có lệnh 'nosuch'."], ["Error: No such command 'nosuch'."]),
    (["devices", "approve"], ["Lỗi: Thiếu tùy chọn '--label'."], ["Error: Missing option '--label'."]),
    (["scan", "--format", "xx"], ["Lỗi: Giá trị không hợp lệ cho '--format': 'xx' không phải một trong:"],
     ["Error: Invalid value for '--format': 'xx' is not one of"]),
    (["content", "/nonexistent-i18n"], ["Không tồn tại: '/nonexistent-i18n'."], ["does not exist."]),
    (["policy", "show"], ["Lỗi: Thiếu đối số"], ["Error: Missing argument"]),
])
def test_usage_errors(args, vi, en):
    p = bmnn(*args)
    assert p.returncode == 1 or p.returncode == 2, p
    for text in vi:
        assert text in p.stderr, p.stderr
    assert "Usage:" not in p.stderr and "Error:" not in p.stderr
    p = bmnn("--lang", "en", *args)
    for text in en:
        assert text in p.stderr, p.stderr
    p = bmnn(*args, lang_env="en")  # BMNN_LANG, before any option is parsed
    assert "Cách dùng" not in p.stderr and en[-1] in p.stderr


def test_help_headings():
    vi, en = (" ".join(bmnn(*a, "--help").stdout.split()) for a in ([], ["--lang", "en"]))
    for text in ("Cách dùng: bmnn", "Tùy chọn:", "Lệnh:", "Hiện hướng dẫn này rồi thoát.", "[mặc định: vi]"):
        assert text in vi
    for text in ("Usage: bmnn", "Options:", "Commands:", "Show this message and exit.", "[default: vi]"):
        assert text in en
    assert "Tùy chọn:" in bmnn("scan", "--help").stdout
    assert "Options:" in bmnn("scan", "--help", "--lang", "en").stdout
