"""Every command's error paths speak the chosen language, in words from the catalog only.

Each `bmnn` command (found by walking the click tree, checked against `bmnn --help`) is run as a
user would run it, through the real CLI in a subprocess with empty configuration, state and
runtime folders (no daemon, no journal, no keys), with bad input: an unknown option, missing
arguments, nonexistent paths, garbage files, bad choices and numbers, each also with --json when
the command has it. Under the default language every line it prints must

- match a text of the Vietnamese catalog (msgstr, its {placeholders} as wildcards, each line of a
  multi-line text on its own), where what the wildcards took holds no English words (it may
  itself be catalog text, or a path, a number, an option, an identifier);
- hold no Python repr (None, True, False, {'...}, ['...]).

Under `--lang en` the same with the English catalog and no Vietnamese letters. JSON output is
parsed and its "message" texts are checked the same way.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
import re
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import click
import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "scanner" / "locale"
HEAVY = {("scan",), ("agent", "run"), ("snapshot", "export"), ("facts",), ("init",)}
"""Commands that do real work once their options parse: only their parse errors are driven."""

# Words of English that never belong in a Vietnamese message (and flag a leak when a wildcard of
# a catalog text took them). Identifiers, paths, options and metavars are not words here.
ENGLISH = set("""
an the is are was were be been not no cannot can could does do did done has have had must should
will would of to in on at by for from with without into as or and but if then than this that these
those it its there here which what when where who how why all any each every some only also
file files folder folders directory path paths found exist exists missing option options argument
arguments command commands error errors invalid value values usage try help running run read write
written unknown such given give use used choose one following valid expected required running
agent daemon journal key keys record records device devices serial approved unreadable skipped
permission denied allowed refused empty format formats number numbers date time text type name
""".split()) - {"an", "do", "to", "no", "in", "on", "at", "as", "or", "it", "be", "the"}  # also Vietnamese
ENGLISH |= {"the"}
FIELD = re.compile(r"\{\w*(?:![rsa])?(?::[^{}]*)?\}|%\(\w+\)[sd]")
VIETNAMESE = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.I)
NAMES = re.compile(r"\S*\d+/\d{4}/[\wĐđ-]+|(?:GIẢI |TỐI |TUYỆT )?MẬT|Tuyệt mật|Tối mật|Mật")
"""Vietnamese proper names an English text keeps: document numbers (26/2020/NĐ-CP), secrecy levels."""
REPR = re.compile(r"\b(None|True|False)\b|\{'|\['|\bdict\(|<[a-z_.]+ object at 0x")


@lru_cache(maxsize=None)
def patterns(lang: str) -> tuple[re.Pattern, ...]:
    with (LOCALE / lang / "LC_MESSAGES" / "bmnn.po").open("rb") as f:
        cat = read_po(f, locale=lang)
    out = set()
    for msg in cat:
        if not msg.id:
            continue
        strings = msg.string if isinstance(msg.string, (list, tuple)) else [msg.string]
        for text in strings:
            for piece in (text or "").split("\n"):
                piece = piece.strip()
                literal = FIELD.sub("", piece)
                if not re.search(r"\w", literal) and not (len(FIELD.findall(piece)) > 1 and literal.strip()):
                    continue  # a bare placeholder would match anything; "{path}: {why}" is kept
                parts, pos = [], 0
                for m in FIELD.finditer(piece):
                    parts.append(re.escape(piece[pos:m.start()]))
                    parts.append("(.*)")
                    pos = m.end()
                parts.append(re.escape(piece[pos:]))
                out.add("".join(parts))
    return tuple(re.compile(p, re.S) for p in sorted(out, key=len, reverse=True))


def inert(text: str, lang: str, depth: int) -> bool:
    """What a wildcard took: catalog text itself, or no English words (paths, options, ids, numbers)."""
    text = text.strip().strip("'\"“”«»()[]:;,.")
    if not text or known(text, lang, depth - 1):
        return True
    if lang != "en":
        return not english_words(text)
    return not VIETNAMESE.search(NAMES.sub(" ", text))


def english_words(text: str) -> list[str]:
    """English words of ``text`` once paths, options, command names, quoted values, hex and
    identifiers are taken out (they are not words of a sentence)."""
    if re.fullmatch(r"[\w.-]+(, [\w.-]+)+", text.strip()):
        return []  # a list of names (keys, choices, ids)
    for name in command_words():
        text = text.replace(name, " ")
    bare = re.sub(r"(?:/|\./|~)[^\s:,;'\"]*|--?[\w-]+|'[^']*'|\b[0-9a-f]{4}\b|\b[A-Z0-9_][A-Z0-9_.:-]+\b|\S*[=@#]\S*",
                  " ", text)
    return [w for w in re.findall(r"[A-Za-z]+", bare) if w.lower() in ENGLISH]


@lru_cache(maxsize=None)
def command_words() -> tuple[str, ...]:
    """"bmnn agent run", "bmnn agent", "bmnn": the command lines a message may quote, longest first."""
    names = {"bmnn " + " ".join(p) for p, _ in commands()} | {"bmnn " + p[0] for p, _ in commands()} | {"bmnn"}
    return tuple(sorted(names, key=len, reverse=True))


def known(line: str, lang: str, depth: int = 3) -> bool:
    """True when ``line`` is made of catalog text (its wildcards inert)."""
    if depth < 0:
        return False
    for rx in patterns(lang):
        m = rx.fullmatch(line)
        if m and all(inert(g, lang, depth) for g in m.groups()):
            return True
    return False


def usage_line(line: str, lang: str) -> bool:
    """click's "Usage: bmnn CMD [OPTIONS] ARGS...": the catalog's word, then syntax only."""
    word = {"vi": "Cách dùng:", "en": "Usage:"}[lang]
    rest = line[len(word):]
    for name in command_words():
        rest = rest.replace(name, " ")
    return line.startswith(word + " bmnn") and not re.search(r"[a-z]", re.sub(r"\{[a-z|]+\}", "", rest))


BOX = re.compile(r"[│┃┏┓┗┛┡┩└┘├┤┬┴┼━─╇╋┳┻╭╮╯╰]+")


def line_ok(line: str, lang: str) -> bool:
    if usage_line(line, lang) or known(line, lang) or known(line.removeprefix("bmnn: "), lang):
        return True
    if BOX.search(line):  # a table row: each cell is catalog text or data (ids, names, wrapped words)
        return all(known(c.strip(), lang) or inert(c, lang, 0) for c in BOX.split(line) if c.strip())
    return bool(re.fullmatch(r"\S+", line)) and inert(line, lang, 0)  # one token: a path, an id, a value


def check_output(text: str, lang: str) -> list[str]:
    """The lines of ``text`` that are not catalog text in ``lang`` (or leak a repr)."""
    bad = []
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        texts = []

        def messages(v, in_error):
            """The texts of error objects (facts and records are data for scripts)."""
            if isinstance(v, dict):
                for k, x in v.items():
                    if in_error and k == "message" and isinstance(x, str):
                        texts.append(x)
                    else:
                        messages(x, in_error or k in ("error", "problems", "warnings"))
            elif isinstance(v, list):
                for x in v:
                    messages(x, in_error)
        messages(doc, False)
        lines = [l for t in texts for l in t.splitlines()]
    else:
        lines = text.splitlines()
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if REPR.search(line):
            bad.append(f"repr: {line}")
        elif lang == "en" and VIETNAMESE.search(NAMES.sub(" ", line)):
            bad.append(f"vi in en: {line}")
        elif not line_ok(line, lang):
            bad.append(line)
    return bad


def commands():
    import bmnn_guard.cli as cli
    out = []

    def walk(cmd, path):
        if isinstance(cmd, click.Group):
            if cmd.invoke_without_command and path:
                out.append((path, cmd))
            for name, sub in sorted(cmd.commands.items()):
                walk(sub, path + (name,))
        else:
            out.append((path, cmd))
    walk(cli.cli, ())
    return out


def _filler(param: click.Parameter, garbage: str) -> list[str]:
    t = param.type
    if isinstance(t, click.Choice):
        v = str(t.choices[0])
    elif isinstance(t, (click.IntRange, click.types.IntParamType)):
        v = "1"
    elif isinstance(t, (click.Path, click.File)):
        v = garbage
    else:
        v = "x-i18n"
    if isinstance(param, click.Option):
        return [param.opts[0], v] if not param.is_flag else [param.opts[0]]
    return [v]


def cases(garbage: str, missing: str = "/nonexistent-i18n/x.json"):
    """(argv, has_json) for every error path of every command."""
    for path, cmd in commands():
        params = [p for p in cmd.params if p.name not in ("lang", "help")]
        has_json = any(getattr(p, "opts", None) and "--json" in p.opts for p in params)
        required = [p for p in params if p.required]
        fill = [a for p in required for a in _filler(p, garbage)]
        argv = [list(path) + ["--no-such-option-i18n"]]
        if required:
            argv.append(list(path))
        for p in params:
            if not isinstance(p, click.Option) or p.is_flag:
                continue
            if isinstance(p.type, click.Choice):
                argv.append(list(path) + [p.opts[0], "zz-bad"] + fill)
            elif isinstance(p.type, (click.IntRange, click.types.IntParamType)):
                argv.append(list(path) + [p.opts[0], "abc"] + fill)
        if tuple(path) not in HEAVY:
            for p in params:
                if isinstance(p.type, (click.Path, click.File)):
                    others = [a for q in required if q is not p for a in _filler(q, garbage)]
                    for bad in (missing, garbage):
                        mine = [p.opts[0], bad] if isinstance(p, click.Option) else [bad]
                        argv.append(list(path) + mine + others)
            if not required and not any(isinstance(p.type, (click.Path, click.File)) for p in params):
                argv.append(list(path))  # daemon not running, no journal, no keys
        for a in argv:
            yield a, False
            if has_json:
                yield a + ["--json"], True


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("i18n-errors")
    for sub in ("etc", "state", "run", "log", "home"):
        (d / sub).mkdir()
    garbage = d / "garbage.json"
    garbage.write_bytes(b"\x00\xffPK\x03\x04 not json {{{ \xc3\x28 " * 40)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BMNN_") and k not in ("LANGUAGE", "LC_ALL")}
    env.update(LANG="C.UTF-8", HOME=str(d / "home"), BMNN_CONFIG_DIR=str(d / "etc"), BMNN_STATE_DIR=str(d / "state"),
               BMNN_RUNTIME_DIR=str(d / "run"), BMNN_LOG_DIR=str(d / "log"), COLUMNS="200")
    return env, str(garbage), d


def run(env, argv, lang):
    exe = shutil.which("bmnn") or os.path.join(os.path.dirname(sys.executable), "bmnn")
    pre = [] if lang == "vi" else ["--lang", "en"]
    return subprocess.run([exe, *pre, *argv], capture_output=True, text=True, env=env, timeout=180,
                          stdin=subprocess.DEVNULL, cwd=env["HOME"])


def test_every_command_of_help_is_driven(world):
    env, garbage, _ = world
    listed = set(re.findall(r"^  (\S+)\s", run(env, ["--help"], "vi").stdout.split("Lệnh:")[1], re.M))
    assert listed and listed <= {p[0] for p, _ in commands()}


def test_the_checker_can_fail():
    assert check_output("Lỗi: Không có tùy chọn '--x'.", "vi") == []
    assert check_output("Error: No such option '--x'.", "vi")
    assert check_output("Lỗi: bmnn-agent is not running", "vi")
    assert check_output("bmnn: nhật ký None…13", "vi")
    assert check_output("Lỗi: Không có tùy chọn '--x'.", "en")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_error_paths_speak_the_catalog(world, lang):
    env, garbage, d = world
    problems = []
    seen = 0
    todo = list(cases(garbage, str(d / "nonexistent" / "x.json")))
    with ThreadPoolExecutor(3) as pool:
        done = list(pool.map(lambda c: (c, run(env, c[0], lang)), todo))
    for (argv, as_json), p in done:
        seen += 1
        if as_json and p.returncode != 0:
            try:
                json.loads(p.stdout)
            except ValueError:
                problems.append(f"bmnn {' '.join(argv)}: --json error is not JSON: {p.stdout[:200]!r}")
        for stream in (p.stdout, p.stderr):
            for line in check_output(stream, lang):
                problems.append(f"bmnn {' '.join(argv)} (exit {p.returncode}): {line}")
    assert seen > 100
    assert not (d / "nonexistent").exists(), "a command made the missing folder"
    assert not problems, f"{len(problems)} lines not from the catalog:\n" + "\n".join(dict.fromkeys(problems))
