"""Demo data: the compound 阳光花园 with ~300 units, imported through the real roster import."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlmodel import Session

from app.audit.service import SYSTEM
from app.auth import service as auth_service
from app.auth.models import ROLE_LABELS, Role, UserAccount
from app.roster import importer
from app.roster import service as roster_service
from app.roster.models import Compound

DEMO_PASSWORD = "gongjue-demo-2026"
COMPOUND_NAME = "阳光花园"
DEVELOPER_NAME = "阳光置业有限公司"
SEED = 20260301

MULTI_UNIT_PHONE = "13800000001"  # owns two flats
CO_OWNER_PHONE = "13800000002"  # co-owns one flat with 13800000003
CO_OWNER_PARTNER_PHONE = "13800000003"

_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁"
    "魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹"
)
_GIVEN = (
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建国", "建华", "志强", "海燕", "玉兰",
    "淑珍", "晓东", "晓燕", "文博", "子涵", "浩然", "欣怡", "雨桐", "梓轩", "思远", "嘉怡", "宇航",
    "国庆", "红梅", "丽华", "振华", "春生", "秋菊", "立新", "永强", "慧敏", "俊杰", "晨曦", "佳琪",
)
_DISTRICT_CODES = ("110101", "110102", "110105", "110106", "110108", "130102", "370102", "410105")


@dataclass(frozen=True)
class DemoLogin:
    """A demo staff account."""

    username: str
    role: str
    display_name: str
    organization: str = ""


@dataclass(frozen=True)
class DemoOwnerPhone:
    """A demo owner's phone, for logging in with a one-time code."""

    phone: str
    description: str


@dataclass(frozen=True)
class DemoInfo:
    """What the demo created (or found), for printing the logins."""

    created: bool
    compound_id: int | None
    compound_name: str = COMPOUND_NAME
    password: str = DEMO_PASSWORD
    staff: tuple[DemoLogin, ...] = ()
    owner_phones: tuple[DemoOwnerPhone, ...] = ()
    unit_count: int = 0
    subject_count: int = 0
    total_area: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def render(self) -> str:
        """The login instructions as printed by `python -m app.demo`."""
        if not self.created and self.compound_id is None:
            return "数据库中已有小区数据，未写入演示数据。"
        head = "已创建演示数据" if self.created else "演示数据已存在（未重复写入）"
        lines = [f"{head}：{self.compound_name}（小区编号 {self.compound_id}）"]
        if self.unit_count:
            lines.append(f"  房屋 {self.unit_count} 套，表决人数 {self.subject_count}，"
                         f"总专有面积 {self.total_area} ㎡")
        lines.append(f"工作人员账号（密码均为 {self.password}）：")
        lines += [f"  {s.username:<11} {s.role}  {s.display_name}"
                  + (f"（{s.organization}）" if s.organization else "") for s in self.staff]
        lines.append("业主登录（手机号 + 验证码；开发模式下验证码打印在服务器日志中）：")
        lines += [f"  {o.phone}  {o.description}" for o in self.owner_phones]
        lines += [f"注意：{n}" for n in self.notes]
        return "\n".join(lines)


STAFF: tuple[tuple[str, Role | None, str, str], ...] = (
    ("admin", None, "平台管理员（和平街道）", ""),
    ("committee", Role.COMMITTEE, "业委会主任 陈立新", "阳光花园业主委员会"),
    ("committee2", Role.COMMITTEE, "业委会委员 刘芳", "阳光花园业主委员会"),
    ("reviewer", Role.REVIEWER, "审核人 郑红", "幸福社区党委"),
    ("observer", Role.OBSERVER, "观察员 马建军", "区人大代表"),
    ("clerk", Role.CLERK, "物业客服 黄丽", "阳光物业服务有限公司"),
)

OWNER_PHONES = (
    DemoOwnerPhone(MULTI_UNIT_PHONE, "王建国，拥有两套住宅（1栋1单元301、3栋2单元1502），计一人"),
    DemoOwnerPhone(CO_OWNER_PHONE, "李秀英，与张伟（13800000003）共有1栋1单元302"),
)


@dataclass
class _Person:
    name: str
    id_number: str
    phone: str
    kind: str = "个人"


class _People:
    """Deterministic synthetic owners: Chinese names, 138 phones, valid-checksum ID numbers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.next_phone = 1
        self.ids: set[str] = set()

    def person(self, name: str | None = None) -> _Person:
        rng = self.rng
        while True:
            born = date(1950, 1, 1) + timedelta(days=rng.randrange(48 * 365))
            first17 = f"{rng.choice(_DISTRICT_CODES)}{born:%Y%m%d}{rng.randrange(1000):03d}"
            id_number = first17 + importer.resident_id_check_char(first17)
            if id_number not in self.ids:
                self.ids.add(id_number)
                break
        phone = f"138{self.next_phone:08d}"
        self.next_phone += 1
        return _Person(name or rng.choice(_SURNAMES) + rng.choice(_GIVEN), id_number, phone)


@dataclass
class _DemoUnit:
    building: str
    entrance: str
    room: str
    area_hundredths: int
    source: str = "不动产登记"
    usage: str = "住宅"
    status: str = "已交付"
    owners: list[_Person] = field(default_factory=list)

    @property
    def label(self) -> str:
        return importer.unit_label(self.building, self.entrance, self.room)


def _area_source(rng: random.Random) -> str:
    draw = rng.random()
    return "不动产登记" if draw < 0.85 else "测绘" if draw < 0.95 else "合同"


def demo_units(seed: int = SEED) -> list[_DemoUnit]:
    """The demo roster: 4 buildings × 2 entrances × 18 floors × 2 flats, 4 shops, 8 parking spaces."""
    rng = random.Random(seed)
    people = _People(rng)
    wang = people.person("王建国")
    li = people.person("李秀英")
    zhang = people.person("张伟")
    units: list[_DemoUnit] = []
    for b in range(1, 5):
        for entrance in ("1", "2"):
            layouts = [rng.randint(5200, 17800) for _ in range(2)]  # one flat type per position
            for floor in range(1, 19):
                for position in (1, 2):
                    area = min(18000, max(5000, layouts[position - 1] + rng.randint(-40, 40)))
                    units.append(_DemoUnit(f"{b}栋", entrance, f"{floor}{position:02d}", area,
                                           _area_source(rng)))
    by_label = {u.label: u for u in units}
    # The developer still holds 12 flats: 8 unsold, 4 sold but not yet delivered.
    for floor in (15, 16, 17, 18):
        for position in (1, 2):
            unit = by_label[f"4栋2单元{floor}{position:02d}"]
            unit.status, unit.source = "未售", "测绘"
    undelivered = [by_label[f"4栋1单元{room}"] for room in ("1701", "1702", "1801", "1802")]
    for unit in undelivered:
        unit.status, unit.source = "已售未交付", "合同"
    by_label["1栋1单元301"].owners = [wang]
    by_label["3栋2单元1502"].owners = [wang]
    by_label["1栋1单元302"].owners = [li, zhang]
    free = [u for u in units if u.status == "已交付" and not u.owners]
    rng.shuffle(free)
    for unit in free[:27]:  # with 1栋1单元302, about 10% of the flats are co-owned
        unit.owners = [people.person(), people.person()]
    multi = free[27:38]  # one owner with three flats, four owners with two
    for group in (multi[0:3], multi[3:5], multi[5:7], multi[7:9], multi[9:11]):
        owner = people.person()
        for unit in group:
            unit.owners = [owner]
    for unit in free[38:]:
        unit.owners = [people.person()]
    for unit in undelivered[:2]:  # buyers are recorded, but the developer votes for these
        unit.owners = [people.person()]
    company = _Person("阳光商业管理有限公司", _credit_code("91110105MA01ABCD1"), "", "单位")
    resident = multi[3].owners[0]
    shops = [company, company, people.person(), resident]
    for number, owner in enumerate(shops, start=1):
        units.append(_DemoUnit("1栋", "", f"S10{number}", rng.randint(6000, 18000),
                               _area_source(rng), usage="商业", owners=[owner]))
    parking_owners = [u.owners[0] for u in free[38:46]]
    for number, owner in enumerate(parking_owners, start=1):
        units.append(_DemoUnit("4栋", "", f"B1-{number:03d}", rng.randint(1200, 1500),
                               usage="车位", owners=[owner]))
    return units


def _credit_code(first17: str) -> str:
    return first17 + importer.credit_code_check_char(first17)


def demo_roster_csv(units: list[_DemoUnit]) -> bytes:
    """The demo roster as a CSV file in the template's columns."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(importer.COLUMNS)
    for u in units:
        join = "；".join
        writer.writerow([
            u.building, u.entrance, u.room, roster_service.format_area(u.area_hundredths),
            u.source, u.usage, u.status, join(o.kind for o in u.owners),
            join(o.name for o in u.owners), join(o.id_number for o in u.owners),
            join(o.phone for o in u.owners),
        ])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def _staff_account(session: Session, username: str, display_name: str, admin: bool,
                   notes: list[str]) -> UserAccount:
    existing = session.execute(
        select(UserAccount).where(UserAccount.username == username)
    ).scalar_one_or_none()
    if existing is not None:
        notes.append(f"账号 {username} 已存在，沿用原密码")
        return existing
    return auth_service.create_staff_account(
        session, username=username, password=DEMO_PASSWORD, display_name=display_name,
        is_platform_admin=admin,
    )


def seed_demo(session: Session) -> DemoInfo:
    """Create the demo compound, roster and staff, unless any compound exists already."""
    if session.execute(select(Compound.id).limit(1)).first() is not None:
        found = session.execute(
            select(Compound.id).where(Compound.name == COMPOUND_NAME).order_by(Compound.id)
        ).scalars().first()
        staff = tuple(DemoLogin(u, ROLE_LABELS[r or Role.PLATFORM_ADMIN], d, o)
                      for u, r, d, o in STAFF)
        return DemoInfo(created=False, compound_id=found,
                        staff=staff if found else (),
                        owner_phones=OWNER_PHONES if found else ())
    from app import clock

    clock.set_now(clock.FrozenClock(clock.now() - timedelta(days=60)))
    try:
        return _seed(session)
    finally:
        clock.set_now(None)


def _seed(session: Session) -> DemoInfo:
    """The demo's history starts 60 days ago (the ballots move the clock on from there)."""
    compound = roster_service.create_compound(
        session, name=COMPOUND_NAME, district="朝阳区", street="和平街道", community="幸福社区",
        address="和平街道阳光路8号", developer_name=DEVELOPER_NAME, actor=SYSTEM,
    )
    assert compound.id is not None
    units = demo_units()
    record = importer.create_preview(
        session, compound_id=compound.id, content=demo_roster_csv(units),
        file_name="阳光花园业主名册（演示）.csv",
    )
    assert record.id is not None
    importer.apply_import(session, compound_id=compound.id, import_id=record.id, actor=SYSTEM)
    notes: list[str] = []
    staff = []
    for username, role, display_name, organization in STAFF:
        account = _staff_account(session, username, display_name, role is None, notes)
        if role is not None:
            assert account.id is not None
            auth_service.grant_role(session, compound_id=compound.id, user_id=account.id,
                                    role=role, organization=organization, actor=SYSTEM)
        staff.append(DemoLogin(username, ROLE_LABELS[role or Role.PLATFORM_ADMIN], display_name,
                               organization))
    committee = session.execute(select(UserAccount.id).where(UserAccount.username == "committee")).scalar_one()
    from app.voting.demo import seed_voting_demo

    seed_voting_demo(session, compound_id=compound.id, committee_user_id=committee)
    totals = roster_service.roster_totals(session, compound_id=compound.id)
    return DemoInfo(
        created=True, compound_id=compound.id, staff=tuple(staff), owner_phones=OWNER_PHONES,
        unit_count=totals.unit_count, subject_count=totals.subject_count,
        total_area=roster_service.format_area(totals.total_area_hundredths), notes=tuple(notes),
    )


def main() -> None:
    """Seed the demo data when the database has no compound yet, and print the logins."""
    from app.config import get_settings
    from app.db import transaction

    if not get_settings().demo_data:
        print("GONGJUE_DEMO_DATA=false：不写入演示数据")
        return
    with transaction(write=True) as session:
        info = seed_demo(session)
    print(info.render())


if __name__ == "__main__":
    main()
