"""Access control (OWASP API1 broken object-level and API5 function-level authorization).

One cell per (route of the app's route table) × (platform admin, committee, reviewer, observer,
clerk, owner, a staff account holding every role in ANOTHER compound, no token) × (own compound,
other compound): the hand-written EXPECTED table (tests/security/access_helpers.py) says allow or
refuse, the running app answers. "Allowed" = the request got past authorization (not 401, not a
403 with an authorization code); "refused" = 401, or 403 with such a code. Every path parameter
is the id of a real row, so object-level checks run too; and ids of compound B used under
compound A's path must be "not found" (BOLA).

The always-running tests cover the own-compound cells of every principal (the outsider included),
an observer trying every write with a working body, BOLA, private files, an owner's and a
reviewer's view; the heavy ones add the other-compound cells of every principal and BOLA by
every principal each route allows. FastAPI resolves a route's dependencies (authorization)
before it validates the body, so a refused principal gets 401/403 whatever the body.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.clock import FrozenClock
from tests.security.access_helpers import (
    ADMIN,
    ANONYMOUS,
    CLERK,
    COMMITTEE,
    EXPECTED,
    OBSERVER,
    OUTSIDER,
    OWNER,
    PRINCIPALS,
    REVIEWER,
    SESSION_ROUTES,
    SUPERVISOR,
    WRITE_METHODS,
    CompoundWorld,
    allowed_in,
    app_routes,
    build_compound,
    response_text,
    table_counts,
    verdict,
)

LOGIN_OF = {ADMIN: "admin", COMMITTEE: "wy", REVIEWER: "sh", OBSERVER: "gc", CLERK: "wg",
            OWNER: "owner0", SUPERVISOR: "sv"}
# A write is sent with a JSON array: no route takes one, so once past authorization every
# route with a body stops at validation (422) and changes nothing; body-less writes point at
# rows in a final state (409).
NOT_A_BODY: list[Any] = []


def _headers(principal: str, home: CompoundWorld, away: CompoundWorld) -> dict[str, str]:
    if principal == ANONYMOUS:
        return {}
    if principal == OUTSIDER:
        return away.h("all")
    return home.h(LOGIN_OF[principal])


def _call(client: TestClient, method: str, url: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    if method in WRITE_METHODS:
        return client.request(method, url, headers=headers, json=NOT_A_BODY)
    return client.request(method, url, headers=headers)


# --- personal data in what each principal is allowed to read ---------------------------------

# The one answer carrying owners' phones in clear: the roster export, the committee's own copy of
# the roster it imports (phones are owners' logins; the file must import back unchanged). The
# committee only (PIPL), audited; ID numbers are never in it (checked below like everywhere).
_EXPORT = "/api/v1/compounds/{compound_id}/roster/export"
CLEAR_PHONES = {(COMMITTEE, "GET", _EXPORT), (OUTSIDER, "GET", _EXPORT)}


def _leaks(text: str, worlds: tuple[CompoundWorld, ...], principal: str, own_phone: str,
           route: tuple[str, str] | None = None) -> list[str]:
    """Unmasked phones, ID numbers and owners' names that this principal has no need for.

    Only the roster's keepers (the committee, the platform admin; the outsider holds the
    committee role in their own compound) may meet an owner's name; the clerk sees the roster
    masked, the others not at all. No one gets a full phone number (except one's own, and the
    committee in its roster export: CLEAR_PHONES) or an ID number.
    """
    found = []
    phones_allowed = route is not None and (principal, *route) in CLEAR_PHONES
    for w in worlds:
        for p in w.people:
            if p.phone in text and p.phone != own_phone and not phones_allowed:
                found.append(f"phone {p.phone}")
            if p.id_number in text or p.id_number[:17] in text:
                found.append(f"id number of {p.name}")
            if principal not in (ADMIN, COMMITTEE, OUTSIDER) and p.name in text:
                found.append(f"name {p.name}")
    return found


@pytest.fixture
def worlds(db: Session, client: TestClient, frozen_clock: FrozenClock, outbox):  # type: ignore[no-untyped-def]
    """Compound A (community 甲) and compound B (community 乙), each with a row of every kind."""
    a = build_compound(db, client, frozen_clock, outbox, tag="a", community="甲社区", base=0)
    b = build_compound(db, client, frozen_clock, outbox, tag="b", community="乙社区", base=100)
    return a, b


def _run(client: TestClient, target: CompoundWorld, home: CompoundWorld, away: CompoundWorld,
         principals: tuple[str, ...], db: Session, *, with_global: bool,
         ) -> tuple[int, list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every route against `target` for each principal (A's principals live in `home`, the
    outsider in `away`). Returns (cells, wrong cells, personal-data leaks)."""
    routes = app_routes(client)
    wrong: list[tuple[Any, ...]] = []
    leaks: list[tuple[Any, ...]] = []
    cells = 0
    logins = {p: _headers(p, home, away) for p in principals}  # before any state snapshot
    for principal in principals:
        own = (target is away) == (principal == OUTSIDER)
        before = table_counts(db) if principal == OBSERVER else None
        headers = logins[principal]
        for method, path in routes:
            if "{compound_id}" not in path and not with_global:
                continue
            # (POST /auth/logout too stops at the array body: the token stays valid.)
            r = _call(client, method, target.fill(path), headers)
            cells += 1
            got = verdict(r)
            want = "allowed" if allowed_in((method, path), principal, own=own) else "refused"
            if got != want:
                wrong.append((principal, "own" if own else "other", method, path, want,
                              r.status_code, r.text[:160]))
            elif got == "allowed" and r.status_code < 300 and principal != ANONYMOUS:
                own_phone = home.owner_phone if principal == OWNER else ""
                for leak in _leaks(response_text(r), (home, away), principal, own_phone,
                                   (method, path)):
                    leaks.append((principal, method, path, leak))
        if before is not None:
            after = table_counts(db)
            changed = {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}
            assert changed == {}, f"an observer's requests changed state: {changed}"
    return cells, wrong, leaks


def test_every_route_has_an_entry_in_the_expected_table(client: TestClient) -> None:
    routes = set(app_routes(client))
    missing = sorted(routes - EXPECTED.keys())
    stale = sorted(EXPECTED.keys() - routes)
    assert not missing, (
        "routes without an entry in EXPECTED (tests/security/access_helpers.py) — say who may "
        f"call each one, from the product's rules: {missing}")
    assert not stale, f"EXPECTED lists routes the app no longer has: {stale}"
    assert len(routes) >= 120


def test_matrix_in_own_compound(worlds, client: TestClient, db: Session) -> None:  # type: ignore[no-untyped-def]
    a, b = worlds
    cells, wrong, leaks = _run(client, a, a, b, PRINCIPALS, db, with_global=True)
    routes = app_routes(client)
    assert cells == len(routes) * len(PRINCIPALS)
    assert wrong == [], "\n".join(map(str, wrong))
    assert leaks == [], "\n".join(map(str, leaks))
    writes = _observer_cannot_write(client, a, db)
    print(f"\naccess matrix (own compound): {len(routes)} routes × {len(PRINCIPALS)} principals "
          f"= {cells} cells; observer with working bodies on {writes} write routes")


# --- BOLA: B's ids under A's path ---------------------------------------------------------------

C = "/api/v1/compounds/{compound_id}"
BL = C + "/ballots/{ballot_id}"
IT = C + "/procedures/items/{item_id}"


def _bola_body(method: str, path: str, w: CompoundWorld) -> Any:
    """A body valid enough to reach the service, naming rows of the foreign compound `w`."""
    i = w.ids
    bodies: dict[tuple[str, str], Any] = {
        ("PUT", C + "/subjects/{subject_id}/representative"): {"owner_id": i["owner_row"]},
        ("PATCH", C + "/units/{unit_id}"): {"area_hundredths": 9999, "reason": "按登记簿更正"},
        ("PATCH", C + "/owners/{owner_id}"): {"phone": "13700000077", "reason": "业主换号"},
        ("POST", C + "/roster/removals"): {"import_id": i["roster_import"], "typed_count": 0,
                                           "reason": "核对后移除"},
        ("PATCH", C + "/notices/{notice_id}"): {"title": "修改"},
        ("POST", C + "/notices/{notice_id}/corrections"): {"title": "更正", "body": "更正内容"},
        ("POST", C + "/notices/{notice_id}/postings"): {
            "posted_on": "2026-04-02", "location": "1栋大堂", "photo_file_id": i["document"]},
        ("POST", C + "/notices/{notice_id}/deliveries"): {"subject_id": i["subject"]},
        ("PUT", BL): {"title": "改", "starts_at": "2026-05-01T00:00:00+08:00",
                      "ends_at": "2026-05-08T00:00:00+08:00",
                      "matters": [{"title": "事项", "category": "survey"}]},
        ("POST", BL + "/notice"): {},
        ("POST", BL + "/cancel"): {"reason": "取消"},
        ("POST", BL + "/postpone"): {"reason": "推迟", "starts_at": "2026-06-01T00:00:00+08:00",
                                     "ends_at": "2026-06-08T00:00:00+08:00"},
        ("POST", BL + "/votes"): {"subject_id": i["subject"],
                                  "choices": {str(i["matter"]): "agree"}},
        ("POST", BL + "/proxies"): {"subject_id": i["subject"], "proxy_name": "钱多多",
                                    "proxy_phone": "13700000099",
                                    "document_file_id": i["document"]},
        ("POST", BL + "/proxies/{proxy_id}/reject"): {"reason": "不符合要求"},
        ("POST", BL + "/paper"): {"subject_id": i["subject"], "choices": {},
                                  "scan_file_id": i["document"]},
        ("POST", BL + "/paper/{entry_id}/reject"): {"reason": "字迹不清"},
        ("POST", BL + "/conflicts/{conflict_id}/resolve"): {"accept_incoming": True,
                                                            "note": "改判"},
        ("POST", BL + "/objections"): {"subject_id": i["subject"], "text": "异议"},
        ("POST", BL + "/objections/{objection_id}/answer"): {"answer": "答复"},
        ("POST", C + "/ledger/entries/{entry_id}/reject"): {"reason": "驳回"},
        ("POST", C + "/ledger/entries/{entry_id}/reverse"): {"reason": "冲销"},
        ("POST", C + "/ledger/imports/{import_id}/rows/{row_id}/accept"): {},
        ("POST", C + "/ledger/imports/{import_id}/rows/{row_id}/discard"): {"reason": "作废"},
        ("POST", IT + "/revisions"): {"title": "修改稿", "text": "修改后的方案", "note": "按意见修改"},
        ("POST", IT + "/decisions"): {"step_key": "publish_result", "action": "approve",
                                      "opinion": "同意"},
        ("POST", IT + "/ballot-link"): {"ballot_id": i["ballot"], "matter_id": i["matter"]},
        ("POST", IT + "/publications"): {"step_key": "publish_result", "title": "实施结果",
                                         "body": "已实施"},
        ("POST", IT + "/observations"): {"text": "观察意见"},
        ("POST", IT + "/observers"): {"username": w.user("dep"), "organization": "区人大代表"},
        ("POST", C + "/surveys/{survey_id}/answers"): {"subject_id": i["subject"], "answers": []},
        ("POST", C + "/work-orders/{work_order_id}/dispatch"): {},
        ("POST", C + "/work-orders/{work_order_id}/done"): {"note": "已处理"},
        ("POST", C + "/work-orders/{work_order_id}/rating"): {"rating": "satisfied"},
        ("POST", C + "/work-orders/{work_order_id}/visit"): {"note": "已回访"},
        ("POST", C + "/quarterly-reports/{report_id}/acknowledge"): {"opinion": "收悉"},
        ("POST", C + "/rectifications/{rectification_id}/done"): {"note": "已整改",
                                                                 "file_ids": [i["document"]]},
        ("POST", C + "/credit/findings/{finding_id}/withdraw"): {"reason": "登记有误"},
    }
    return bodies.get((method, path))


OBSERVATIONS = ("POST", IT + "/observations")


def _valid_write(method: str, path: str, w: CompoundWorld) -> dict[str, Any]:
    """Request arguments a member allowed on the route would succeed (or nearly) with."""
    i = w.ids
    csv = "日期,收支,类别,金额（元）,对方,摘要\n2026-04-01,收入,停车,10.00,某公司,停车费\n"
    multipart = {
        C + "/files": {"files": {"file": ("a.pdf", b"%PDF-1.4\n", "application/pdf")},
                       "data": {"purpose": "document"}},
        C + "/roster/imports": {"files": {"file": ("r.csv", "楼栋,房号,专有面积\n1栋,901,90\n"
                                                   .encode(), "text/csv")}},
        C + "/ledger/imports": {"files": {"file": ("l.csv", csv.encode(), "text/csv")}},
    }
    if path in multipart:
        return multipart[path]
    ballot = {"title": "新的表决", "starts_at": "2026-05-01T00:00:00+08:00",
              "ends_at": "2026-05-08T00:00:00+08:00",
              "matters": [{"title": "小区绿化满意度调查", "category": "survey"}]}
    bodies: dict[tuple[str, str], Any] = {
        ("POST", "/api/v1/accounts"): {"username": "newstaff", "display_name": "新", "password":
                                       "correct-horse-battery"},
        ("POST", "/api/v1/compounds"): {"name": "新小区", "district": "朝阳区", "street": "和平街道",
                                        "community": "甲社区"},
        ("POST", C + "/grants"): {"user_id": 1, "role": "clerk"},
        ("POST", C + "/notices"): {"kind": "general", "title": "通知", "body": "正文"},
        ("PUT", C + "/voting/settings"): {"publish_unit_record": False},
        ("PUT", C + "/roster/settings"): {"parking_counts_as_area": False},
        ("POST", C + "/ballots"): ballot,
        ("PUT", C + "/ledger/settings"): {"display_days": 20},
        ("POST", C + "/ledger/entries"): {
            "direction": "income", "category": "停车", "entry_date": "2026-04-01",
            "amount": "10.00", "description": "停车费", "voucher_file_ids": [i["voucher"]]},
        ("POST", C + "/ledger/periods/{start_date}/audit-report"): {"file_id": i["document"]},
        ("PUT", C + "/procedures/settings"): {"template_key": "sanyi_yishen"},
        ("POST", C + "/procedures/templates"): {"name": "模板", "steps": []},
        ("POST", C + "/procedures/items"): {
            "title": "议题", "text": "全文", "matter_type": "other", "proposer_body": "committee"},
        ("POST", C + "/procedures/observers"): {"username": w.user("dep"),
                                                "organization": "区人大代表"},
    }
    body = bodies.get((method, path), _bola_body(method, path, w))
    return {"json": body if body is not None else {}}


def _observer_cannot_write(client: TestClient, a: CompoundWorld, db: Session) -> int:
    """Every write route, with a body that would work for someone allowed: an observer is
    refused everywhere but observations, and nothing but the observation is stored."""
    headers = a.h("gc")
    before = table_counts(db)
    writes = [(m, p) for m, p in app_routes(client) if m in WRITE_METHODS and p not in SESSION_ROUTES]
    let_through = []
    for method, path in writes:
        r = client.request(method, a.fill(path), headers=headers, **_valid_write(method, path, a))
        if (method, path) == OBSERVATIONS:
            assert r.status_code == 201, r.text
        elif verdict(r) != "refused":
            let_through.append((method, path, r.status_code, r.text[:120]))
    assert let_through == [], let_through
    after = table_counts(db)
    changed = {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}
    one_more = {k: (before[k], before[k] + 1)
                for k in ("agenda_observation", "audit_event", f"audit_head:{a.cid}")}
    assert changed == one_more, changed
    return len(writes)


def _id_routes(client: TestClient) -> list[tuple[str, str]]:
    """Compound routes naming a row by id (a period's start date and an appraisal's year are
    not rows of another compound, so those routes are left out)."""
    out = []
    for method, path in app_routes(client):
        params = set(re.findall(r"\{([^}]+)\}", path)) - {"compound_id", "start_date", "year"}
        if "{compound_id}" in path and params:
            out.append((method, path))
    return out


class _Nowhere:
    """Ids that exist in no compound."""

    def param(self, name: str, path: str) -> str:
        return "987654321"


def _bola(client: TestClient, a: CompoundWorld, b: CompoundWorld, db: Session,
          every_principal: bool) -> tuple[int, list[tuple[Any, ...]]]:
    """A's people on A's path with B's row ids (all of them, then only the innermost one): the
    answer must be exactly the one for an id that exists nowhere — and never a success."""
    wrong = []
    cells = 0
    order = (COMMITTEE, ADMIN, REVIEWER, OBSERVER, CLERK, OWNER, SUPERVISOR)
    logins = {p: a.h(LOGIN_OF[p]) for p in order}
    before = table_counts(db)
    nowhere = _Nowhere()
    for method, path in _id_routes(client):
        allowed = [p for p in order if allowed_in((method, path), p, own=True)]
        assert allowed, (method, path)
        params = re.findall(r"\{([^}]+)\}", path)
        ids = frozenset(params) - {"compound_id", "start_date", "year"}
        variants = [ids] + ([frozenset({params[-1]})] if len(ids) > 1 else [])
        for principal in allowed if every_principal else allowed[:1]:
            headers = logins[principal]
            for foreign in variants:
                body = _bola_body(method, path, b) if method in WRITE_METHODS else None
                r = client.request(method, a.fill(path, b, foreign), headers=headers, json=body)
                missing = client.request(method, a.fill(path, nowhere, foreign),
                                         headers=headers, json=body)
                cells += 1
                code = r.json().get("error") if r.status_code >= 400 else None
                baseline = missing.json().get("error") if missing.status_code >= 400 else None
                if r.status_code < 400 or (r.status_code, code) != (missing.status_code, baseline):
                    wrong.append((principal, method, path, sorted(foreign), r.status_code,
                                  r.text[:160], "nowhere:", missing.status_code, baseline))
                if foreign == ids and r.status_code != 404:
                    wrong.append((principal, method, path, "all foreign", r.status_code,
                                  r.text[:160]))
    assert table_counts(db) == before, "a request with another compound's ids changed state"
    return cells, wrong


def _reviewer_sees_only_their_compounds(client: TestClient, a: CompoundWorld,
                                        b: CompoundWorld) -> None:
    queue = client.get("/api/v1/reviewer/queue", headers=a.h("sh")).json()
    assert queue["compound_ids"] == [a.cid]
    assert a.ids["waiting_item"] in {i["id"] for i in queue["items"]}
    assert {i["compound_id"] for i in queue["items"]} == {a.cid}
    other = client.get("/api/v1/reviewer/queue", headers=b.h("sh")).json()
    assert other["compound_ids"] == [b.cid]
    assert b.ids["waiting_item"] in {i["id"] for i in other["items"]}
    assert {i["compound_id"] for i in other["items"]} == {b.cid}
    # Compounds listed to each principal: their own only (the platform admin: all).
    for who, world, expected in (("sh", a, {a.cid}), ("gc", a, {a.cid}), ("wg", b, {b.cid}),
                                 ("owner0", a, {a.cid}), ("all", b, {b.cid}),
                                 ("admin", a, {a.cid, b.cid})):
        got = {c["id"] for c in client.get("/api/v1/compounds", headers=world.h(who)).json()}
        assert got == expected, who
    # Nothing of B through any GET route with B's rows (the heavy matrix covers every method).
    for method, path in app_routes(client):
        if method == "GET" and "{compound_id}" in path:
            r = client.get(b.fill(path), headers=a.h("sh"))
            assert (r.status_code, r.json().get("error")) == (403, "forbidden_compound_role"), path


def _owner_sees_own_data_only(client: TestClient, a: CompoundWorld) -> None:
    """Owner 1 finds their own unit and vote; never another owner's name, phone or ID data."""
    me, bid = a.h("owner1"), a.ids["ballot"]
    mine = client.get(a.url(f"/ballots/{bid}/my-votes"), headers=me)
    assert mine.status_code == 200 and a.labels[1] in mine.text, mine.text
    objections = client.get(a.url(f"/ballots/{bid}/objections"), headers=me).json()
    assert [o["id"] for o in objections] == [a.ids["objection"]]
    assert client.get(a.url(f"/ballots/{bid}/objections"), headers=a.h("owner2")).json() == []
    for path in ("", f"/ballots/{bid}", f"/ballots/{bid}/my-votes", f"/ballots/{bid}/objections",
                 f"/ballots/{bid}/results", f"/ballots/{bid}/unit-record",
                 f"/procedures/items/{a.ids['item']}/timeline", f"/notices/{a.ids['notice']}"):
        r = client.get(a.url(path), headers=me)
        assert r.status_code == 200, (path, r.text)
        assert "id_last4" not in r.text and "id_hash" not in r.text, path
        for p in a.people:
            assert p.id_number not in r.text, path
            if p is not a.people[1]:
                assert p.phone not in r.text and p.name not in r.text, (path, p.name)


def _private_files(client: TestClient, a: CompoundWorld) -> None:
    """A proxy authorization, a paper ballot and a voucher are not every member's file."""
    proxies = client.get(a.url(f"/ballots/{a.ids['ballot']}/proxies"), headers=a.h("wy")).json()
    paper = client.get(a.url(f"/ballots/{a.ids['ballot']}/paper"), headers=a.h("wy")).json()
    files = {"proxy_authorization": proxies[0]["document_file_id"],
             "paper_ballot": paper[0]["scan_file_id"], "voucher": a.ids["voucher"],
             "document": a.ids["document"]}
    # Who may download each through /files/{id} (app/policy.py; the ballot is published, the
    # quarter published): the file follows the object it is attached to. Refusals are 404.
    readers = {
        # Names and ID numbers: the committee (and the platform) and the owner who filed it.
        "proxy_authorization": {"admin", "wy", "owner3"},
        "paper_ballot": {"admin", "wy", "sh", "gc"},  # after the close: the overseers recount
        "voucher": {"admin", "wy", "sh", "gc", "wg", "owner0", "owner3"},  # published quarter
        "document": {"admin", "wy", "sh", "gc", "wg", "owner0", "owner3"},
    }
    for purpose, file_id in files.items():
        for who in ("admin", "wy", "sh", "gc", "wg", "owner0", "owner3"):
            r = client.get(a.url(f"/files/{file_id}"), headers=a.h(who))
            want = 200 if who in readers[purpose] else 404
            assert r.status_code == want, (purpose, who, r.status_code, r.text[:120])
            if want == 404:
                assert r.json()["error"] == "file_not_found"
    # The voucher reaches owners through the entry of the published quarter, and only there.
    r = client.get(a.url(f"/ledger/entries/{a.ids['entry']}/files/{a.ids['voucher']}"),
                   headers=a.h("owner0"))
    assert r.status_code == 200
    r = client.get(a.url(f"/ledger/entries/{a.ids['entry']}/files/{a.ids['document']}"),
                   headers=a.h("owner0"))
    assert r.status_code == 404


def test_object_level_access(worlds, client: TestClient, db: Session) -> None:  # type: ignore[no-untyped-def]
    """BOLA (B's ids under A's path answer exactly like ids that exist nowhere, and change
    nothing), private files, an owner's own data, a reviewer's own compounds."""
    a, b = worlds
    cells, wrong = _bola(client, a, b, db, every_principal=False)
    assert cells >= len(_id_routes(client))
    assert wrong == [], "\n".join(map(str, wrong))
    _private_files(client, a)
    _owner_sees_own_data_only(client, a)
    _reviewer_sees_only_their_compounds(client, a, b)
    print(f"\nBOLA: {len(_id_routes(client))} id-carrying routes, {cells} comparisons "
          f"({2 * cells} requests)")


@pytest.mark.heavy
def test_matrix_in_the_other_compound(worlds, client: TestClient, db: Session) -> None:  # type: ignore[no-untyped-def]
    """A's people against B's paths and rows (all refused but the platform admin), and the
    outsider in their own compound B (the union of the four staff roles)."""
    a, b = worlds
    cells, wrong, leaks = _run(client, b, a, b, PRINCIPALS, db, with_global=False)
    compound_routes = [r for r in app_routes(client) if "{compound_id}" in r[1]]
    assert cells == len(compound_routes) * len(PRINCIPALS)
    assert wrong == [], "\n".join(map(str, wrong))
    assert leaks == [], "\n".join(map(str, leaks))
    print(f"\naccess matrix (other compound): {len(compound_routes)} routes × "
          f"{len(PRINCIPALS)} principals = {cells} cells")


@pytest.mark.heavy
def test_ids_of_another_compound_are_not_found_by_anyone(worlds, client: TestClient,  # type: ignore[no-untyped-def]
                                                         db: Session) -> None:
    """BOLA by every principal each id-carrying route allows, not only the first."""
    a, b = worlds
    cells, wrong = _bola(client, a, b, db, every_principal=True)
    assert wrong == [], "\n".join(map(str, wrong))
    print(f"\nBOLA by every allowed principal: {cells} comparisons ({2 * cells} requests)")
