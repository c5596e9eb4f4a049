"""Every irreversible action on a screen goes through a confirmation that names its consequence.

The server's write routes are classified here, by hand, as irreversible (a step that cannot be
undone: publishing, closing, approving, revoking, sending...) or not (a draft, a setting that can
be set back, a vote that may be changed until closing...). A new write route fails the first test
until it is classified, so a new irreversible action cannot slip in unnoticed.

Then, reading the front end as text:
- every function of a domain's api.js that reaches an irreversible route is wrapped in
  `irreversible(...)` (frontend/src/shared/irreversible.js), which refuses the call unless it runs
  from a confirmation (`runConfirmed`, which useConfirm()/ConfirmDialog use); no other is wrapped;
- every screen that calls one has a confirmation (useConfirm + <ConfirmDialog>, or its own dialog
  that runs the step through runConfirmed);
- every confirmation asked through useConfirm says what cannot be undone.
The wrapper itself is tested in frontend/unit/irreversible.test.mjs, and the browser tests click
through the dialogs (frontend/e2e/settings.test.mjs closes a ledger period).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.main import create_app
from tests.test_frontend_api import _LITERAL, _route_pattern, _strip_comments, _template

SRC = Path(__file__).resolve().parents[1] / "frontend" / "src"
C = "/api/v1/compounds/{compound_id}"
B = C + "/ballots/{ballot_id}"
L = C + "/ledger"
P = C + "/procedures"
CR = C + "/credit"

# Steps that cannot be undone, each with what makes it final.
IRREVERSIBLE: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/accounts/{user_id}/disable"): "ends every session of the account at once",
    ("POST", "/api/v1/accounts/{user_id}/password-reset"): "the old password is void",
    ("DELETE", C + "/grants/{grant_id}"): "a revoked role is granted anew, never restored",
    ("POST", C + "/roster/imports/{import_id}/apply"): "the roster is updated from the file: "
                                                         "only another import changes it back",
    ("POST", C + "/roster/removals"): "units and owners leave the roster",
    ("DELETE", B): "the draft disappears from every list",
    ("POST", B + "/cancel"): "a cancellation notice is published; the ballot never resumes",
    ("POST", B + "/postpone"): "a postponement notice is published to the owners",
    ("POST", C + "/surveys/{survey_id}/open"): "owners may answer from now on",
    ("POST", C + "/surveys/{survey_id}/close"): "no more answers; a closed survey never reopens",
    ("POST", C + "/surveys/{survey_id}/publish"): "the aggregates are published to the owners",
    # 三单一访: each step of a work order is final (no route withdraws or undoes one); a 不满意
    # rating sends the order back once as a new round, it does not undo the company's record.
    ("POST", C + "/work-orders"): "a report cannot be withdrawn; it goes to dispatch",
    ("POST", C + "/work-orders/{work_order_id}/dispatch"): "hands the order to the property company",
    ("POST", C + "/work-orders/{work_order_id}/accept"): "the company is answerable for the deadline",
    ("POST", C + "/work-orders/{work_order_id}/done"): "the record of the work goes to the owner to rate",
    ("POST", C + "/work-orders/{work_order_id}/rating"):
        "the owner's rating is final; 不满意 reopens the order once, never again",
    ("POST", C + "/work-orders/{work_order_id}/visit"): "the follow-up visit closes the order for good",
    ("POST", C + "/appraisals/{year}/publish"): "the result is fixed and published to the owners",
    ("POST", C + "/quarterly-reports/{report_id}/acknowledge"): "the party organization's opinion is final",
    ("POST", C + "/rectifications/{rectification_id}/confirm"): "the item is closed for good",
    ("POST", C + "/notices/{notice_id}/publish"): "a published notice is never withdrawn",
    ("POST", C + "/notices/{notice_id}/corrections"): "a correction is published at once",
    ("POST", C + "/notices/{notice_id}/postings"): "evidence of posting, never withdrawn",
    ("POST", C + "/notices/{notice_id}/deliveries"): "evidence of delivery, never withdrawn",
    ("POST", B + "/notice"): "the meeting notice is published; matters are fixed",
    ("POST", B + "/open"): "the roster is frozen for the ballot",
    ("POST", B + "/close"): "voting ends and the ballot is tallied",
    ("POST", B + "/publish"): "the result is final and published",
    ("POST", B + "/reminder"): "text messages are sent",
    ("POST", B + "/proxies/{proxy_id}/accept"): "the proxy may vote for the flat",
    ("POST", B + "/proxies/{proxy_id}/reject"): "the proxy form is void",
    ("POST", B + "/paper/{entry_id}/confirm"): "the paper ballot is counted",
    ("POST", B + "/paper/{entry_id}/reject"): "the paper entry is void",
    ("POST", B + "/conflicts/{conflict_id}/resolve"): "decides which vote counts",
    ("POST", B + "/objections/{objection_id}/answer"): "the answer is sent to the owner",
    ("POST", L + "/entries/{entry_id}/approve"): "the entry counts in the balance",
    ("POST", L + "/entries/{entry_id}/reject"): "the entry is void",
    ("POST", L + "/entries/{entry_id}/reverse"): "a reversing entry is recorded",
    ("POST", L + "/periods/{start_date}/close"): "the statement is fixed",
    ("POST", L + "/periods/{start_date}/publish"): "the statement is published to the owners",
    ("POST", L + "/imports/{import_id}/rows/{row_id}/discard"): "the row is never entered",
    ("POST", P + "/items/{item_id}/decisions"): "approval, return or refusal in review, public",
    ("POST", P + "/items/{item_id}/ballot-link"): "the ballot decides the item",
    ("POST", P + "/items/{item_id}/resolution"): "the resolution is recorded",
    ("POST", P + "/items/{item_id}/publications"): "a notice is published to the owners",
    ("POST", P + "/observers/{grant_id}/revoke"): "the observer loses access",
    ("POST", P + "/items/{item_id}/observers/{appointment_id}/revoke"): "the observer loses access",
    ("POST", "/api/v1/credit/lists"): "the list is published to the compounds it names; a correction "
                                      "is a new version, this one stays",
    ("POST", CR + "/findings/{finding_id}/withdraw"): "the finding no longer counts; a withdrawal is not undone",
    ("POST", CR + "/dismissal-prompt/dismiss"): "these causes no longer prompt; only a new cause does",
}

# Writes that are not final, each with why.
REVERSIBLE: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/auth/otp/request"): "signing in",
    ("POST", "/api/v1/auth/otp/verify"): "signing in",
    ("POST", "/api/v1/auth/login"): "signing in",
    ("POST", "/api/v1/auth/refresh"): "signing in",
    ("POST", "/api/v1/auth/logout"): "signing out",
    ("POST", "/api/v1/auth/password"): "the person's own password, changed again at will",
    ("POST", "/api/v1/accounts"): "an account, disabled at will",
    ("POST", "/api/v1/accounts/{user_id}/enable"): "disabled again at will",
    ("POST", C + "/grants"): "a role, revoked at will",
    ("POST", "/api/v1/compounds"): "platform set-up",
    ("PUT", C + "/roster/settings"): "a setting, set back at will",
    ("PUT", C + "/subjects/{subject_id}/representative"): "chosen again at will",
    ("POST", C + "/roster/imports"): "a preview: nothing changes until it is applied",
    ("PATCH", C + "/units/{unit_id}"): "one unit corrected: it can be corrected back, with a reason",
    ("PATCH", C + "/owners/{owner_id}"): "one owner corrected: it can be corrected back, with a reason",
    ("POST", C + "/surveys"): "a draft survey: nothing is asked until it opens",
    ("POST", C + "/surveys/{survey_id}/answers"): "an owner's answer, changeable until the close",
    ("POST", C + "/quarterly-reports"): "a report version; a correction is the next version",
    ("POST", C + "/appraisals/{year}/accounts"): "an account version; a correction is the next version",
    ("POST", C + "/appraisals/{year}/scores"): "a score sheet; the same appraiser entered again supersedes it",
    ("POST", C + "/appraisals/{year}/rectifications"): "an item of the unpublished result",
    ("POST", C + "/rectifications/{rectification_id}/done"): "reported done; the committee still confirms",
    ("POST", C + "/audit/checkpoints"): "signs what is recorded; changes nothing",
    ("POST", C + "/files"): "an upload, used only once attached",
    ("POST", C + "/notices"): "a draft",
    ("PATCH", C + "/notices/{notice_id}"): "a draft",
    ("PUT", C + "/voting/settings"): "a setting, set back at will",
    ("POST", C + "/ballots"): "a draft",
    ("PUT", B): "a draft",
    ("POST", B + "/votes"): "an owner may vote again until closing; the last vote counts",
    ("POST", B + "/proxies"): "waits for the committee's acceptance",
    ("POST", B + "/paper"): "waits for a second member's confirmation",
    ("POST", B + "/objections"): "an owner's question, answered by the committee",
    ("PUT", L + "/settings"): "a setting, set back at will",
    ("POST", L + "/entries"): "waits for a second member's approval",
    ("POST", L + "/periods/{start_date}/audit-report"): "replaced at will until published",
    ("POST", L + "/imports"): "a preview of a bank statement",
    ("POST", L + "/imports/{import_id}/rows/{row_id}/accept"): "becomes an entry awaiting approval",
    ("PUT", P + "/settings"): "a setting, set back at will",
    ("POST", P + "/templates"): "a template, adopted or not at will",
    ("POST", P + "/items"): "a proposal, revised in review",
    ("POST", P + "/items/{item_id}/revisions"): "a new draft of the proposal",
    ("POST", P + "/items/{item_id}/observations"): "an observer's note",
    ("POST", P + "/observers"): "revoked at will",
    ("POST", P + "/items/{item_id}/observers"): "revoked at will",
    ("PUT", "/api/v1/me/messages/opt-out"): "the person's own choice, changed at will",
    ("POST", CR + "/company"): "a record of who serves the compound; a change or correction is a new record",
    ("POST", CR + "/findings"): "withdrawn with a reason if recorded in error",
    ("POST", CR + "/dismissal-prompt/shown"): "records that the committee saw the prompt; changes nothing",
    ("POST", CR + "/dismissal-prompt/proposal"): "a proposal at the procedure's first step, revised in review",
}

WRITE_METHODS = {"post", "put", "patch", "delete"}
_METHOD_OF = {"post": "POST", "put": "PUT", "patch": "PATCH", "del": "DELETE", "upload": "POST"}
# A definition of api.js: `export const name = …` or an object's member `  name: …`.
_DEFINITION = re.compile(r"^(?:export const (?P<name>\w+) =|  (?P<member>\w+): )", re.M)
_CALL = re.compile(r"\bapi\.(?P<method>post|put|patch|del|upload)\(\s*" + _LITERAL)
_OBJECT = re.compile(r"^export const (?P<name>\w+) = \{", re.M)


def _write_routes() -> set[tuple[str, str]]:
    paths = create_app().openapi()["paths"]
    return {(m.upper(), p) for p, ops in paths.items() for m in ops if m in WRITE_METHODS}


def test_every_write_route_is_classified() -> None:
    routes = _write_routes()
    both = set(IRREVERSIBLE) & set(REVERSIBLE)
    assert not both, f"classified twice: {sorted(both)}"
    missing = sorted(routes - set(IRREVERSIBLE) - set(REVERSIBLE))
    assert not missing, (
        "classify these write routes in tests/test_irreversible_confirm.py (IRREVERSIBLE if the "
        f"step cannot be undone; the screen must then confirm it): {missing}")
    stale = sorted((set(IRREVERSIBLE) | set(REVERSIBLE)) - routes)
    assert not stale, f"no longer routes of the app: {stale}"


def _route_of(method: str, template: str) -> tuple[str, str] | None:
    for key in (*IRREVERSIBLE, *REVERSIBLE):
        if key[0] == method and _route_pattern(key[1]).fullmatch(template):
            return key
    return None


def _definitions() -> list[tuple[Path, str, str, tuple[str, str], bool]]:
    """(file, exported name, member or "", route, wrapped) for each api.js write call."""
    out = []
    for f in sorted(SRC.rglob("api.js")):
        text = _strip_comments(f.read_text(encoding="utf-8"))
        starts = [m for m in _DEFINITION.finditer(text)]
        exported = ""
        for i, m in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
            body = text[m.start():end]
            if m.group("name"):
                exported = m.group("name")
            call = _CALL.search(body)
            if call is None:
                continue
            method = _METHOD_OF[call.group("method")]
            route = _route_of(method, _template(call.group("path")))
            assert route is not None, f"{f.name}: {method} {call.group('path')} is not a route"
            wrapped = "irreversible(" in body[:call.start()]
            out.append((f, exported, m.group("member") or "", route, wrapped))
    return out


def test_irreversible_api_calls_are_wrapped() -> None:
    defs = _definitions()
    assert len(defs) > 40  # the parser found the front end's writes
    unwrapped = [f"{f.parent.name}/api.js {name}{'.' + member if member else ''} → {route[0]} {route[1]}"
                 for f, name, member, route, wrapped in defs if route in IRREVERSIBLE and not wrapped]
    assert not unwrapped, "wrap these in irreversible(…) (shared/irreversible.js): " + "; ".join(unwrapped)
    over = [f"{f.parent.name}/api.js {name}" for f, name, _, route, wrapped in defs
            if route in REVERSIBLE and wrapped]
    assert not over, "only irreversible steps are wrapped: " + "; ".join(over)
    reached = {route for *_, route, _ in defs}
    # The steps this issue names are all on screens, behind a confirmation.
    for key in [("POST", L + "/periods/{start_date}/close"), ("POST", P + "/items/{item_id}/decisions"),
                ("POST", C + "/notices/{notice_id}/publish"), ("POST", B + "/publish"),
                ("POST", B + "/close"), ("DELETE", C + "/grants/{grant_id}")]:
        assert key in reached


def _irreversible_names() -> dict[str, str]:
    """Names a screen imports that lead to an irreversible call: functions and step objects."""
    names = {}
    for _f, name, _member, route, wrapped in _definitions():
        if wrapped:
            names[name] = route[1]
    return names


def _importers(names: dict[str, str]) -> dict[Path, list[str]]:
    out: dict[Path, list[str]] = {}
    for f in sorted([*SRC.rglob("*.vue"), *SRC.rglob("*.js")]):
        if f.name == "api.js":
            continue
        text = f.read_text(encoding="utf-8")
        used = [n for n in names if re.search(rf"import \{{[^}}]*\b{n}\b[^}}]*\}} from '[./]+(?:\w+/)*api\.js'", text)]
        if used:
            out[f] = used
    return out


def test_every_screen_with_an_irreversible_step_confirms_it() -> None:
    users = _importers(_irreversible_names())
    assert len(users) >= 15, sorted(str(u) for u in users)
    for f, used in users.items():
        text = f.read_text(encoding="utf-8")
        shared = "useConfirm(" in text and "<ConfirmDialog" in text
        own = "runConfirmed(" in text and "<van-dialog" in text
        assert shared or own, (
            f"{f.relative_to(SRC)} calls {used} without a confirmation: use useConfirm() and "
            "<ConfirmDialog>, or run the step from its own dialog through runConfirmed()")
        if own and not shared:
            dialog = text[text.index("<van-dialog"):text.index("</van-dialog>")]
            script = text[text.index("<script"):]
            assert re.search("不能|不可", dialog + script), f"{f.relative_to(SRC)}: the dialog must say what cannot be undone"


def _args(text: str, start: int) -> list[str]:
    """The top-level arguments of the call whose "(" is at text[start - 1]: strings, template
    literals (with ${…} inside) and brackets are skipped over."""
    args: list[str] = []
    stack: list[str] = []  # open quotes, brackets and "${"
    begin = i = start
    while i < len(text):
        ch = text[i]
        top = stack[-1] if stack else ""
        if top in ("'", '"', "`"):
            if ch == "\\":
                i += 2
                continue
            if top == "`" and text.startswith("${", i):
                stack.append("${")
                i += 2
                continue
            if ch == top:
                stack.pop()
        elif ch in "'\"`([{":
            stack.append(ch)
        elif ch in ")]}":
            if not stack:  # the call's own ")" (after a trailing comma, no argument)
                last = text[begin:i].strip()
                return [*args, last] if last else args
            stack.pop()
        elif ch == "," and not stack:
            args.append(text[begin:i].strip())
            begin = i + 1
        i += 1
    raise AssertionError("unbalanced call")


def _asks() -> list[tuple[Path, list[str]]]:
    out = []
    for f in sorted(SRC.rglob("*.vue")):
        text = f.read_text(encoding="utf-8")
        if "useConfirm(" not in text:
            continue
        script = text[text.index("<script"):]
        for m in re.finditer(r"(?<!function )\bask\(", script):
            args = _args(script, m.end())
            if args and not args[0].startswith("..."):
                out.append((f, args))
    return out


def test_every_confirmation_says_what_cannot_be_undone() -> None:
    asks = _asks()
    assert len(asks) >= 25, len(asks)  # the scanner finds the dialogs
    for f, args in asks:
        assert len(args) == 4, f"{f.relative_to(SRC)}: ask(title, message, confirmText, run): {args}"
        message = args[1]
        assert re.search("不能|不可", message), (
            f"{f.relative_to(SRC)}: the confirmation {args[0]} must name the consequence and that it "
            f"cannot be undone (不能…/不可…): {message}")


@pytest.mark.parametrize("text", ["a(b, c(d, e), `x${f(g, h)}y`, 'i,j')"])
def test_the_argument_scanner(text: str) -> None:
    assert _args(text, 2) == ["b", "c(d, e)", "`x${f(g, h)}y`", "'i,j'"]
    assert _args("f(a, {b: [1, 2]},\n)", 2) == ["a", "{b: [1, 2]}"]
