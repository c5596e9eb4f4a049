"""Role groups are declared once (app/auth/roles.py) and served by /auth/me as capabilities."""

from __future__ import annotations

import ast
from pathlib import Path

from app.auth.models import Role
from app.auth.roles import CAPABILITIES, capabilities
from tests.factories import UnitSpec, add_roster, bearer, make_compound, make_staff, owner_bearer

# The names the front end relies on and the roles behind them (reno_common.md / issue 12).
EXPECTED = {
    "vote": {"owner"},
    "staff": {"committee", "clerk", "reviewer", "observer", "platform_admin"},
    "manage": {"committee", "platform_admin"},
    "watch": {"committee", "platform_admin", "reviewer", "observer"},
    "roster": {"committee", "platform_admin", "clerk"},
    "ledger_record": {"committee", "clerk"},
    "ledger_approve": {"committee"},
    "review": {"reviewer"},
    "propose": {"committee", "clerk", "reviewer"},
    "appoint_observers": {"reviewer", "platform_admin"},
    "admin": {"platform_admin"},
    "roster_export": {"committee"},
    "work_orders": {"committee", "platform_admin", "clerk", "reviewer", "grid_worker"},
    "work_order_report": {"owner", "grid_worker"},
    "company_report": {"clerk"},  # the property company's quarterly reports and accounts
    "appraise": {"committee", "reviewer"},  # the annual appraisal's score sheets
    "committee": {"committee"},  # steps only a committee member takes (confirming rectification)
    "supervise": {"supervisor", "platform_admin"},  # 属地监管: the supervision screen
}


def test_capability_declaration_is_exactly_the_contract() -> None:
    assert {name: {r.value for r in group} for name, group in CAPABILITIES.items()} == EXPECTED


def _me(client, headers):  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 200, r.text
    return {c["compound_id"]: c for c in r.json()["compounds"]}


def test_me_serves_capabilities_per_compound(client, db, outbox) -> None:  # type: ignore[no-untyped-def]
    home, other = make_compound(db), make_compound(db)
    add_roster(db, home, [UnitSpec("1栋", "101", 9000, ["甲"])], phones={"甲": "13800000001"})
    make_staff(db, username="committee1", roles={home.id: [Role.COMMITTEE]})
    make_staff(db, username="clerk1", roles={home.id: [Role.CLERK], other.id: [Role.REVIEWER]})
    make_staff(db, username="admin1", platform_admin=True, roles={home.id: [Role.OBSERVER]})
    db.commit()

    committee = _me(client, bearer(client, "committee1"))[home.id]
    assert committee["capabilities"] == [
        "staff", "manage", "watch", "roster", "ledger_record", "ledger_approve", "propose",
        "roster_export", "work_orders", "appraise", "committee",
    ]
    clerk = _me(client, bearer(client, "clerk1"))
    assert clerk[home.id]["capabilities"] == ["staff", "roster", "ledger_record", "propose",
                                              "work_orders", "company_report"]
    assert clerk[other.id]["capabilities"] == [
        "staff", "watch", "review", "propose", "appoint_observers", "work_orders", "appraise",
    ]
    # The platform role stands in every compound, as the route checks see it.
    admin = _me(client, bearer(client, "admin1"))[home.id]
    assert admin["roles"] == ["observer"]
    assert admin["capabilities"] == [
        "staff", "manage", "watch", "roster", "appoint_observers", "admin", "work_orders", "supervise",
    ]
    owner = _me(client, owner_bearer(client, outbox, "13800000001"))[home.id]
    assert owner["roles"] == ["owner"]
    assert owner["capabilities"] == ["vote", "work_order_report"]


def test_capabilities_follow_the_declaration_order() -> None:
    assert capabilities([Role.OWNER, Role.COMMITTEE])[:2] == ["vote", "staff"]
    assert capabilities([]) == []


def test_route_dependencies_use_the_declared_groups() -> None:
    """No route re-declares a role tuple: every compound_access/item_access call takes groups."""
    offenders = []
    for path in sorted(Path("app").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in {"compound_access", "item_access"}):
                for arg in node.args:
                    if not isinstance(arg, ast.Starred):
                        offenders.append(f"{path}:{node.lineno}")
    assert offenders == []



def test_a_platform_admin_has_its_capabilities_in_every_compound(client, db) -> None:  # type: ignore[no-untyped-def]
    make_compound(db)
    make_staff(db, username="root", platform_admin=True)
    db.commit()
    me = client.get("/api/v1/auth/me", headers=bearer(client, "root")).json()
    assert me["capabilities_everywhere"] == capabilities({Role.PLATFORM_ADMIN})
    assert "manage" in me["capabilities_everywhere"] and "vote" not in me["capabilities_everywhere"]


def test_the_front_end_knows_exactly_the_served_names() -> None:
    session_js = Path(__file__).resolve().parents[2] / "frontend/src/shared/session.js"
    text = session_js.read_text(encoding="utf-8")
    block = text[text.index("const CAPABILITIES = new Set(["):]
    block = block[: block.index("]);")]
    names = set(ast.literal_eval("[" + block.split("[", 1)[1] + "]"))
    assert names == set(CAPABILITIES)
