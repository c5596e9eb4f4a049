"""The notices API: roles, drafts, immutability, corrections, audience, delivery and the PDF."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.models import Role
from app.auth.sender import MemorySender
from app.clock import FrozenClock
from tests.factories import bearer, make_staff, owner_bearer
from tests.notices.conftest import PHONES, Site, count_events, store

NOTICE_FIELDS = {
    "id", "compound_id", "kind", "kind_label", "title", "body", "audience", "audience_entrances",
    "audience_label",
    "display_days", "display_until", "status", "status_label", "created_at", "published_at",
    "supersedes_id", "superseded_by_id", "superseded_at", "attachments", "source_type",
    "source_id", "structured", "content_sha256", "public_url",
}


def _base(site: Site) -> str:
    return f"/api/v1/compounds/{site.id}/notices"


@pytest.fixture
def committee(client: TestClient, site: Site) -> dict[str, str]:
    return bearer(client, site.committee.username or "")


def _publish(client: TestClient, site: Site, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    payload = {"kind": "general", "title": "关于电梯维保的通知", "body": "3月5日上午电梯停运维保。"}
    payload.update(body)
    r = client.post(_base(site), json=payload, headers=headers)
    assert r.status_code == 201, r.text
    r = client.post(f"{_base(site)}/{r.json()['id']}/publish", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_committee_drafts_and_publishes_then_edits_are_refused(
    client: TestClient, site: Site, committee: dict[str, str], frozen_clock: FrozenClock
) -> None:
    r = client.post(_base(site), headers=committee, json={
        "kind": "meeting", "title": "草稿", "body": "", "audience": [site.buildings["1栋"]],
    })
    assert r.status_code == 201, r.text
    draft = r.json()
    assert set(draft) == NOTICE_FIELDS
    assert (draft["status"], draft["kind_label"], draft["published_at"]) == ("draft", "会议通知/表决公告", None)
    assert draft["audience"] == [site.buildings["1栋"]] and draft["audience_label"] == "1栋业主"
    url = f"{_base(site)}/{draft['id']}"

    r = client.post(f"{url}/publish", headers=committee)
    assert (r.status_code, r.json()["error"]) == (422, "notice_incomplete")
    r = client.patch(url, headers=committee, json={"title": "关于召开业主大会的通知",
                                                   "body": "定于3月20日召开。", "audience": "compound"})
    assert r.status_code == 200, r.text
    assert r.json()["audience"] == "compound"

    r = client.post(f"{url}/publish", headers=committee)
    assert r.status_code == 200, r.text
    published = r.json()
    assert published["published_at"].startswith("2026-03-02T02:00")
    assert published["display_until"] == "2026-03-17"
    assert published["status_label"] == "公示中"
    assert published["public_url"].endswith(f"/c/{site.id}/notices/{draft['id']}")
    assert len(published["content_sha256"]) == 64

    r = client.patch(url, headers=committee, json={"body": "改期到3月21日。"})
    assert (r.status_code, r.json()["error"]) == (409, "notice_immutable")
    r = client.post(f"{url}/publish", headers=committee)
    assert (r.status_code, r.json()["error"]) == (409, "notice_already_published")
    assert client.get(url, headers=committee).json()["body"] == "定于3月20日召开。"


def test_there_is_no_route_to_delete_or_replace_a_notice(client: TestClient) -> None:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    routes = {
        (method.upper(), path)
        for path, ops in spec["paths"].items() if "/notices" in path for method in ops
    }
    assert not any(method in {"DELETE", "PUT"} for method, _ in routes)
    base = "/api/v1/compounds/{compound_id}/notices"
    one = base + "/{notice_id}"
    assert routes == {
        ("POST", base), ("GET", base), ("GET", one), ("PATCH", one), ("POST", one + "/publish"),
        ("POST", one + "/corrections"), ("POST", one + "/postings"),
        ("POST", one + "/deliveries"), ("GET", one + "/delivery"), ("GET", one + "/pdf"),
    }
    r = client.delete("/api/v1/compounds/1/notices/1")
    assert r.status_code == 405


def test_drafts_are_for_the_committee_only(
    client: TestClient, db: Session, site: Site, committee: dict[str, str], outbox: MemorySender
) -> None:
    clerk_account = make_staff(db, roles={site.id: [Role.CLERK]})
    db.commit()
    published = _publish(client, site, committee)
    draft = client.post(_base(site), headers=committee,
                        json={"kind": "general", "title": "草稿", "body": "草稿正文"}).json()
    clerk = bearer(client, clerk_account.username or "")
    owner = owner_bearer(client, outbox, PHONES["赵六"])

    for headers in (clerk, owner):
        listed = client.get(_base(site), headers=headers).json()
        assert [n["id"] for n in listed["items"]] == [published["id"]]
        r = client.get(f"{_base(site)}/{draft['id']}", headers=headers)
        assert (r.status_code, r.json()["error"]) == (404, "notice_not_found")
        r = client.get(_base(site), params={"status": "draft"}, headers=headers)
        assert (r.status_code, r.json()["error"]) == (403, "notice_drafts_forbidden")
        r = client.post(_base(site), headers=headers, json={"kind": "general"})
        assert (r.status_code, r.json()["error"]) == (403, "forbidden_compound_role")
        r = client.post(f"{_base(site)}/{draft['id']}/publish", headers=headers)
        assert (r.status_code, r.json()["error"]) == (403, "forbidden_compound_role")
    r = client.get(_base(site), params={"status": "all"}, headers=committee)
    assert {n["id"] for n in r.json()["items"]} == {published["id"], draft["id"]}


def test_correction_links_both_and_both_stay_listed(
    client: TestClient, site: Site, committee: dict[str, str]
) -> None:
    original = _publish(client, site, committee)
    r = client.post(f"{_base(site)}/{original['id']}/corrections", headers=committee,
                    json={"title": "关于电梯维保的通知（更正）", "body": "维保改为3月6日上午。"})
    assert r.status_code == 201, r.text
    correction = r.json()
    assert correction["supersedes_id"] == original["id"]
    assert correction["published_at"] is not None

    old = client.get(f"{_base(site)}/{original['id']}", headers=committee).json()
    assert old["superseded_by_id"] == correction["id"]
    assert (old["status"], old["status_label"]) == ("superseded", "已被更正")
    assert old["body"] == "3月5日上午电梯停运维保。"
    listed = client.get(_base(site), headers=committee).json()
    assert [n["id"] for n in listed["items"]] == [correction["id"], original["id"]]

    r = client.post(f"{_base(site)}/{original['id']}/corrections", headers=committee,
                    json={"title": "再更正", "body": "正文"})
    assert (r.status_code, r.json()["error"]) == (409, "notice_already_superseded")


def test_owner_sees_own_audience_and_opening_records_the_read_once(
    client: TestClient, db: Session, site: Site, committee: dict[str, str], outbox: MemorySender
) -> None:
    building2 = _publish(client, site, committee, title="2栋停水通知",
                         audience=[site.buildings["2栋"]])
    everyone = _publish(client, site, committee, title="全体业主通知")
    zhao = owner_bearer(client, outbox, PHONES["赵六"])  # 2栋
    li = owner_bearer(client, outbox, PHONES["李四"])  # 1栋

    assert {n["id"] for n in client.get(_base(site), headers=li).json()["items"]} == {everyone["id"]}
    r = client.get(f"{_base(site)}/{building2['id']}", headers=li)
    assert (r.status_code, r.json()["error"]) == (404, "notice_not_found")
    r = client.get(f"{_base(site)}/{building2['id']}/pdf", headers=li)
    assert r.status_code == 404
    assert {n["id"] for n in client.get(_base(site), headers=zhao).json()["items"]} == {
        everyone["id"], building2["id"]}

    for _ in range(2):
        r = client.get(f"{_base(site)}/{building2['id']}", headers=zhao)
        assert r.status_code == 200, r.text
    status = client.get(f"{_base(site)}/{building2['id']}/delivery", headers=committee).json()
    assert status["online_read_count"] == 1
    assert [s["label"] for s in status["reached"]] == ["2栋101"]
    assert status["reached"][0]["reached_by"][0]["method_label"] == "线上已读"
    db.rollback()
    assert count_events(db, site.id, "notice.read_online") == 1

    r = client.get(f"{_base(site)}/{building2['id']}/delivery", headers=zhao)
    assert (r.status_code, r.json()["error"]) == (403, "forbidden_compound_role")


def test_paper_delivery_and_posting_over_http(
    client: TestClient, db: Session, site: Site, committee: dict[str, str],
    frozen_clock: FrozenClock,
) -> None:
    notice = _publish(client, site, committee)
    url = f"{_base(site)}/{notice['id']}"
    before = client.get(f"{url}/delivery", headers=committee).json()
    assert (before["subject_count"], before["not_reached_count"]) == (4, 4)

    photo = store(db, site)
    db.commit()
    r = client.post(f"{url}/postings", headers=committee, json={
        "posted_on": "2026-03-02", "location": "小区东门公告栏", "photo_file_id": photo.id})
    assert r.status_code == 201, r.text
    r = client.post(f"{url}/deliveries", headers=committee,
                    json={"subject_id": site.subjects["developer"]})
    assert r.status_code == 201, r.text
    assert (r.json()["method"], r.json()["method_label"]) == ("paper", "纸质送达")
    r = client.post(f"{url}/deliveries", headers=committee,
                    json={"subject_id": site.subjects["developer"]})
    assert (r.status_code, r.json()["error"]) == (409, "notice_delivery_exists")

    r = client.get(f"{url}/delivery", headers=committee)
    after = r.json()
    assert (after["reached_count"], after["not_reached_count"], after["paper_count"]) == (1, 3, 1)
    assert [s["label"] for s in after["not_reached"]] == ["1栋101、2栋201", "1栋102", "2栋101"]
    assert [p["location"] for p in after["postings"]] == ["小区东门公告栏"]
    assert after["postings"][0]["photo_file_id"] == photo.id
    assert not any(v in r.text for v in [*PHONES, *PHONES.values()])
    db.rollback()
    assert count_events(db, site.id, "notice.posted") == 1
    assert count_events(db, site.id, "notice.delivered_paper") == 1


def test_pdf_only_for_published_notices(
    client: TestClient, site: Site, committee: dict[str, str]
) -> None:
    draft = client.post(_base(site), headers=committee,
                        json={"kind": "general", "title": "草稿", "body": "正文"}).json()
    r = client.get(f"{_base(site)}/{draft['id']}/pdf", headers=committee)
    assert (r.status_code, r.json()["error"]) == (409, "notice_not_published")

    published = _publish(client, site, committee)
    r = client.get(f"{_base(site)}/{published['id']}/pdf", headers=committee)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("inline;")
    assert f'filename="notice-{published["id"]}.pdf"' in disposition
    assert "filename*=UTF-8''%E5%85%AC%E5%91%8A" in disposition  # "公告…"
