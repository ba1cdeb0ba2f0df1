"""``Event.of`` gives evidence in the journal's form: exactly what the journal's canonical JSON
reads back as, key order included, whether it was copied (plain values) or parsed (the rest).
The sinks take records from memory without parsing them again, so this is what keeps a line the
same whichever way a record came."""

import json
import random

from bmnn_guard.agent.event import _NOT_PLAIN, Event, _journal_form, canonical_json


def _value(rng: random.Random, depth: int = 0):
    pick = rng.random()
    if depth > 5 or pick < 0.35:
        return rng.choice(["", "a", "Ậ", "\u202e", "\x00", "x\ny", 0, -7, 2**70, True, False, None])
    if pick < 0.7:
        return {rng.choice(["b", "a", "Z", "é", "10", "2", "", "ậ", "A"]) + str(rng.randint(0, 3)): _value(rng, depth + 1)
                for _ in range(rng.randint(0, 5))}
    return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def test_the_copied_form_is_what_the_json_reads_back():
    rng = random.Random(11)
    copied = 0
    for _ in range(3000):
        v = _value(rng)
        form = _journal_form(v)
        back = json.loads(canonical_json(v))
        if form is _NOT_PLAIN:  # deeper than the copy goes: parsed instead
            continue
        copied += 1
        assert form == back and json.dumps(form, ensure_ascii=False) == json.dumps(back, ensure_ascii=False)
        assert form is not v or not isinstance(v, (dict, list))  # the caller's object is not kept
    assert copied > 1500


def test_what_is_not_plain_is_read_back_from_its_json():
    for v in ({"x": 1.5}, {"x": (1, 2)}, {1: "a"}, {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}, [0.1]):
        assert _journal_form(v) is _NOT_PLAIN
    ev = Event.of("file", evidence={"z": (1, 2), "a": 0.1, "m": {"y": 1, "b": 2}})
    assert list(ev.evidence) == ["a", "m", "z"] and ev.evidence["z"] == [1, 2] and list(ev.evidence["m"]) == ["b", "y"]
    assert ev.evidence == json.loads(ev.evidence_json)


def test_event_evidence_has_the_journal_key_order():
    ev = Event.of("file", evidence={"path": "/m/a", "event": "closed", "actor": {"uid": 0, "comm": "cp"}})
    assert json.dumps(ev.evidence) == json.dumps(json.loads(ev.evidence_json))
