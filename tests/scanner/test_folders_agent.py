"""Marked folders and agent health."""

import os

from bmnn_guard.policies import facts as F
from bmnn_guard.policies.context import EvalContext
from bmnn_guard.scanner.collect import collect_agent, collect_folders

from .support import IS_ROOT, as_nobody, judge, open_tmp  # noqa: F401 (fixture)

DECLARED = EvalContext(folders_declared=True)


def fld(folders):
    results, _ = judge(F.Facts(folders=folders, collected=("folders",)), context=DECLARED)
    return results["BMNN-FLD-001"]


def test_folder_facts(tmp_path):
    good = tmp_path / "mat"
    (good / "sub").mkdir(parents=True)
    os.chmod(good, 0o700)
    (good / "a.docx").write_bytes(b"x")
    (good / "sub" / "b.pdf").write_bytes(b"y")
    (good / "link").symlink_to("/etc")
    me = __import__("pwd").getpwuid(os.geteuid()).pw_name
    facts = collect_folders([{"path": str(good), "owner": me}])
    f = facts.folders[0]
    assert (f.exists, f.owner, f.mode, f.file_count, f.declared_owner) == (True, me, 0o700, 2, me)
    assert fld(facts).status == "pass"


def test_folder_problems(tmp_path):
    loose = tmp_path / "loose"
    loose.mkdir()
    os.chmod(loose, 0o770)  # group-writable
    facts = collect_folders([str(loose), str(tmp_path / "missing"), (str(tmp_path), "someone-else")])
    assert [f.exists for f in facts.folders] == [True, False, True]
    r = fld(facts)
    assert r.status == "fail" and {row["path"] for row in r.evidence} == {str(loose), str(tmp_path / "missing"), str(tmp_path)}


def test_unreadable_folder_is_error_as_normal_user(open_tmp):
    secret = open_tmp / "secret"
    (secret / "inner").mkdir(parents=True)
    os.chmod(secret, 0o700)
    hidden = open_tmp / "closed"
    (hidden / "x").mkdir(parents=True)
    os.chmod(hidden, 0o700)

    def run():
        return F.to_dict(collect_folders([str(secret), str(hidden / "x")]))

    data = as_nobody(run)
    facts = F.from_dict(F.FolderFacts, data)
    assert facts.folders[0].exists is True and facts.folders[0].file_count is None
    assert facts.folders[1].exists is None
    assert fld(facts).status == "error"


def test_agent_not_installed_not_running(tmp_path):
    a = collect_agent(unit_dirs=(str(tmp_path),), sock=str(tmp_path / "agent.sock"))
    assert (a.installed, a.running, a.journal_verified) == (False, False, None)
    assert any(e.affects == "agent.journal_verified" for e in a.errors)
    results, _ = judge(F.Facts(agent=a, collected=("agent",)))
    assert results["BMNN-AGT-001"].status == "fail"  # not installed decides it, whatever the journal says

# a daemon that answers, and the ways a socket can look alive without one: tests/scanner/test_agent_health.py
