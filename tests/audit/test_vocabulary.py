"""Every action code, object type and payload field the app can write has its Chinese words.

The codes are found by reading app/ with `ast`, not by listing them: every call passing an
`action=` / `audit_action=` keyword, every positional argument in the place of a parameter so
named (e.g. `audit_item(session, item, actor, "procedure.item_closed", …)`), and the defaults of
such parameters; all string constants in those expressions count (`"a" if x else "b"`). Object
types likewise from `object_type=` (a module constant such as `OBJECT` is followed), and payload
fields from the dict literals passed as `payload` (or a step's `data`). A domain that writes a
new action code without a line in `app/audit/vocabulary.py` fails here.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from pathlib import Path

from app.audit import vocabulary

APP = Path(__file__).resolve().parents[2] / "app"
CODE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
ACTION_PARAMS = {"action", "audit_action"}
PAYLOAD_PARAMS = {"payload", "data"}


def _strings(node: ast.AST | None, constants: dict[str, str]) -> Iterator[str]:
    """The texts an expression can take: a constant, a module constant, either branch of a
    conditional (not strings inside calls or subscripts, which are not the value)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.Name) and node.id in constants:
        yield constants[node.id]
    elif isinstance(node, ast.IfExp):
        yield from _strings(node.body, constants)
        yield from _strings(node.orelse, constants)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _strings(value, constants)


def _dict_keys(node: ast.AST | None) -> Iterator[str]:
    if node is None:
        return
    for sub in ast.walk(node):
        if isinstance(sub, ast.Dict):
            for key in sub.keys:
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    yield key.value


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def scan(sources: dict[str, str]) -> tuple[set[str], set[str], set[str]]:
    """(action codes, object types, payload fields) written by the given modules' sources."""
    trees = {name: ast.parse(text) for name, text in sources.items()}
    # Functions taking an action: the position of each such parameter, and their defaults.
    positions: dict[str, dict[int, str]] = {}  # by function name
    actions: set[str] = set()
    for tree in trees.values():
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef):
                continue
            params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
            named = set(params) | {a.arg for a in fn.args.kwonlyargs}
            if not named & ACTION_PARAMS:
                continue
            positions[fn.name] = {i: p for i, p in enumerate(params) if p in ACTION_PARAMS | PAYLOAD_PARAMS}
            for arg, default in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True):
                if arg.arg in ACTION_PARAMS:
                    actions.update(_strings(default, {}))
            for arg, default in zip(params[len(params) - len(fn.args.defaults):], fn.args.defaults, strict=True):
                if arg in ACTION_PARAMS:
                    actions.update(_strings(default, {}))
    objects: set[str] = set()
    fields: set[str] = set()
    for tree in trees.values():
        constants = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                     and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
                     for t in n.targets if isinstance(t, ast.Name)}
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            callee = _callee(call) or ""
            takes = positions.get(callee, {})
            keywords = {k.arg: k.value for k in call.keywords if k.arg}
            if callee not in positions and not (keywords.keys() & ACTION_PARAMS and "object_type" in keywords):
                continue
            given = dict(keywords)
            for i, arg in enumerate(call.args):
                if i in takes:
                    given[takes[i]] = arg
            for param in ACTION_PARAMS:
                actions.update(_strings(given.get(param), constants))
            objects.update(_strings(keywords.get("object_type"), constants))
            for param in PAYLOAD_PARAMS:
                fields.update(_dict_keys(given.get(param)))
    return {a for a in actions if CODE.match(a)}, objects, fields


def _app_sources() -> dict[str, str]:
    return {str(p.relative_to(APP)): p.read_text(encoding="utf-8") for p in sorted(APP.rglob("*.py"))
            if "audit/vocabulary.py" not in str(p)}


def test_every_action_the_app_writes_has_a_chinese_sentence() -> None:
    actions, _, _ = scan(_app_sources())
    # The scan reaches literal, conditional, passed-on and default codes.
    assert {"vote.cast", "vote.changed", "ledger.entry_withdrawn", "proxy.rejected", "paper.rejected",
            "procedure.step_recorded", "procedure.step_skipped", "procedure.item_closed",
            "audit.checkpoint_signed"} <= actions
    missing = sorted(actions - vocabulary.ACTIONS.keys())
    assert missing == [], f"action codes without a Chinese sentence in app/audit/vocabulary.py: {missing}"
    # And nothing stale: every registered code is one the app writes.
    assert sorted(vocabulary.ACTIONS.keys() - actions) == []


def test_every_object_type_and_payload_field_has_chinese_words() -> None:
    _, objects, fields = scan(_app_sources())
    assert {"ballot", "paper_entry", "agenda_item", "ledger_period", "stored_file"} <= objects
    assert sorted(objects - vocabulary.OBJECTS.keys()) == []
    assert {"subject_id", "opinion", "step_name", "amount_fen"} <= fields
    assert sorted(fields - vocabulary.FIELDS.keys()) == []


def test_templates_use_known_fields_and_groups() -> None:
    for code, action in vocabulary.ACTIONS.items():
        assert action.group in vocabulary.GROUPS, code
        templates = [action.template, *(t for by in (action.variants or {}).values() for t in by.values())]
        for template in templates:
            names = {f for _, f, _, _ in string.Formatter().parse(template) if f}
            assert names <= vocabulary.FIELDS.keys(), (code, names - vocabulary.FIELDS.keys())
    assert all(re.search(r"[\u4e00-\u9fff]", f.label) for f in vocabulary.FIELDS.values())


def test_the_scan_finds_a_new_code_in_any_form() -> None:
    source = '''
OBJECT = "grant_letter"

def helper(session, item, actor, action, payload, *, audit_action="accounts.default_code"):
    pass

def f(session, ok):
    append_event(session, compound_id=1, actor=None, action="accounts.invited" if ok else "accounts.refused",
                 object_type=OBJECT, object_id=1, payload={"invitee": 1})
    helper(session, None, None, "accounts.passed_on", {"nested": {"deep": 1}})
    record(session, action="skip")  # a step's action, not an audit code
'''
    actions, objects, fields = scan({"x.py": source})
    assert actions == {"accounts.invited", "accounts.refused", "accounts.passed_on", "accounts.default_code"}
    assert objects == {"grant_letter"}
    assert fields == {"invitee", "nested", "deep"}


def test_values_read_as_words() -> None:
    assert vocabulary.checkpoint_reason("ballot 3 closed") == "表决 #3 结束计票"
    assert vocabulary.checkpoint_reason("ballot 3 published") == "表决 #3 公布结果"
    assert vocabulary.checkpoint_reason("daily") == "每日签署"
    lines = {line.label: line for line in vocabulary.render_payload(
        {"amount_fen": -123456, "total_area_hundredths": 1234567, "passed": False,
         "starts_at": "2026-03-16T16:00:00.000000Z", "attachment_file_ids": [4, 5], "user_id": 9,
         "settings": {"notice_days": 20, "thresholds": {"quorum": ">=3/4"}}},
        compound_id=1, people={9: "王建国"})}
    assert lines["金额"].value == "-1,234.56元"
    assert lines["专有部分总面积"].value == "12,345.67平方米"
    assert lines["是否通过"].value == "否"
    assert lines["投票开始"].value == "2026年3月17日 00:00"
    assert lines["附件"].value == "文件 #4、文件 #5"
    assert lines["账号"].value == "王建国"
    assert lines["表决规则"].value == "会议通知提前天数：20；表决门槛：参与表决门槛：>=3/4"
    assert vocabulary.describe("gongjue.unknown", {}, people={}) == "操作 gongjue.unknown"
