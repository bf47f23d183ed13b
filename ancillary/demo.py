"""A demo court of the seed's size: Huancui District People's Court and its contractor."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ancillary.auth.models import Role, User
from ancillary.auth.services import hash_password
from ancillary.cases.identity import resident_id_check, uscc_check
from ancillary.cases.services import AddressIn, CaseIn, PartyIn, close_case, create_law_firm, file_case
from ancillary.custody.demo import load_demo_custody
from ancillary.queues.models import GroupCode
from ancillary.queues.services import create_follow_up_post, create_post
from ancillary.scheduling.demo import load_demo_scheduling
from ancillary.scheduling.services import create_courtroom
from ancillary.service.demo import load_demo_service

DEMO_PASSWORD = "ancillary-demo"
SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋"
            "蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎"
            "易常武乔贺赖龚文")
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志民海燕斌宇浩凯鹏辉丹阳晨"
STREETS = ["新威路", "统一路", "青岛路", "文化路", "世昌大道", "海滨北路", "昆明路", "东城路", "古寨西路", "戚谷疃路"]
COMPANY_WORDS = ["威海", "环翠", "海川", "远洋", "泰和", "华信", "东港", "宏达", "金海", "蓝天"]
COMPANY_KINDS = ["贸易有限公司", "建筑工程有限公司", "海产品有限公司", "物业服务有限公司", "商贸有限公司"]
TRIBUNALS = ["张村人民法庭", "孙家疃人民法庭", "温泉人民法庭"]
CAUSES = {
    "speedy": ["信用卡纠纷", "物业服务合同纠纷", "供用热力合同纠纷", "民间借贷纠纷"],
    "summary": ["买卖合同纠纷", "租赁合同纠纷", "劳务合同纠纷", "机动车交通事故责任纠纷"],
    "ordinary": ["建设工程施工合同纠纷", "股权转让纠纷", "房屋买卖合同纠纷", "金融借款合同纠纷"],
    "enforcement": ["申请执行民间借贷纠纷", "申请执行买卖合同纠纷"],
}
# Roughly the seed's mix of new cases.
KIND_WEIGHTS = {"speedy": 30, "summary": 35, "ordinary": 15, "enforcement": 20}


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _resident_id(rng: random.Random) -> str:
    birth = datetime(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50))
    first17 = f"371002{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return first17 + resident_id_check(first17)


def _uscc(rng: random.Random) -> str:
    first17 = "91371002" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return first17 + uscc_check(first17)


def _phone(rng: random.Random) -> str:
    return f"+861{rng.choice('3578')}{rng.randrange(0, 10**9):09d}"


def _office_hours(when: datetime, rng: random.Random, now: datetime, tz) -> datetime:
    """A time the filing office was open on ``when``'s day (or the working day before), not after ``now``."""
    local = when.astimezone(tz)
    while True:
        if local.weekday() < 5:
            opened = local.replace(hour=8, minute=30, second=0, microsecond=0)
            filed = opened + timedelta(minutes=rng.randrange(0, 8 * 60 + 30))
            if filed <= now:
                return filed
            if opened <= now:
                return opened + (now - opened) * rng.random()
        local -= timedelta(days=1)


def _address(rng: random.Random) -> AddressIn:
    return AddressIn(
        text=f"山东省威海市环翠区{rng.choice(STREETS)}{rng.randrange(1, 300)}号",
        latitude=round(37.48 + rng.random() * 0.08, 6),
        longitude=round(122.05 + rng.random() * 0.12, 6),
    )


@dataclass
class _Court:
    """The people of the demo court, as they are created."""

    admin: User
    judges: list[User]
    officers: list[User]
    staff: dict[Role, list[User]]
    follow_ups: list[User]
    serial: dict[str, int] = field(default_factory=lambda: {"民初": 1000, "执": 300})
    repeat_defendants: list[tuple[str, str]] = field(default_factory=list)


def load_demo(session: Session, *, settings, now: datetime, cases: int = 300, seed: int = 136, progress=None) -> dict:
    """Create rooms, officers, contractor staff, posts, law firms and cases (flushed; the command commits)."""
    if session.scalar(select(User.id).limit(1)) is not None:
        raise RuntimeError("the database already has users: demo data is loaded only into an empty court")
    rng = random.Random(seed)
    court = _people(session, rng, now)
    _posts(session, court, now)
    firms = _rooms_and_firms(session, court.admin, now)
    for index in range(cases):
        _one_case(session, court, firms, rng, now, settings)
        if progress and ((index + 1) % 25 == 0 or index + 1 == cases):
            progress(index + 1, cases)
    load_demo_custody(session, now=now, seed=seed, settings=settings)
    load_demo_service(session, settings=settings, now=now, rng=rng)
    load_demo_scheduling(session, settings=settings, now=now, scheduler=court.staff[Role.scheduler][0],
                         admin=court.admin)
    session.flush()
    logins = [("court_admin", "admin"), ("court_admin (president)", "president"), ("sysadmin", "sysadmin"),
              ("judge", "judge01"), ("enforcement_officer", "officer01")]
    logins += [(role.value, members[0].username) for role, members in court.staff.items()]
    logins.append(("follow_up", "follow01"))
    return {"password": DEMO_PASSWORD, "users": logins}


def _people(session: Session, rng: random.Random, now: datetime) -> _Court:
    password_hash = hash_password(DEMO_PASSWORD)

    def user(username: str, role: Role, display: str, *, president=False) -> User:
        account = User(username=username, display_name=display, role=role, phone=_phone(rng),
                       password_hash=password_hash, is_active=True, is_president=president, created_at=now)
        session.add(account)
        return account

    admin = user("admin", Role.court_admin, "审管办 管理员")
    user("president", Role.court_admin, "院长", president=True)
    user("sysadmin", Role.sysadmin, "系统管理员")
    judges = [user(f"judge{i:02d}", Role.judge, f"{_name(rng)}法官") for i in range(1, 31)]
    officers = [user(f"officer{i:02d}", Role.enforcement_officer, f"{_name(rng)}执行员") for i in range(1, 11)]
    staff = {
        Role.intake_clerk: [user(f"intake{i:02d}", Role.intake_clerk, _name(rng)) for i in range(1, 6)],
        Role.scheduler: [user(f"sched{i:02d}", Role.scheduler, _name(rng)) for i in range(1, 4)],
        Role.service_clerk: [user(f"serve{i:02d}", Role.service_clerk, _name(rng)) for i in range(1, 6)],
        Role.file_clerk: [user(f"file{i:02d}", Role.file_clerk, _name(rng)) for i in range(1, 4)],
        Role.archivist: [user(f"archive{i:02d}", Role.archivist, _name(rng)) for i in range(1, 4)],
        Role.contractor_manager: [user("manager", Role.contractor_manager, _name(rng))],
    }
    follow_ups = [user(f"follow{i:02d}", Role.follow_up, _name(rng)) for i in range(1, 23)]
    session.flush()
    return _Court(admin, judges, officers, staff, follow_ups)


GROUP_OF = {
    Role.intake_clerk: GroupCode.pre_trial,
    Role.scheduler: GroupCode.trial,
    Role.service_clerk: GroupCode.trial,
    Role.file_clerk: GroupCode.trial,
    Role.archivist: GroupCode.archive,
    Role.contractor_manager: GroupCode.trial,
}


def _posts(session: Session, court: _Court, now: datetime) -> None:
    for role, members in court.staff.items():
        for index, member in enumerate(members):
            group_code = GROUP_OF[role]
            if group_code == GroupCode.trial and role != Role.contractor_manager and index == len(members) - 1:
                group_code = GroupCode.enforcement  # the enforcement group has its own clerks
            create_post(session, user=member, group_code=group_code, kind=role.value, now=now)
    # 12 trial posts over 30 judges, 10 enforcement posts over 10 officers, 3-5 each.
    for index, post_user in enumerate(court.follow_ups[:12]):
        paired = [court.judges[(index * 5 // 2 + k) % 30].id for k in range(3 + index % 3)]
        create_follow_up_post(session, user_id=post_user.id, officer_ids=paired, actor=court.admin, now=now,
                              group_code="trial")
    for index, post_user in enumerate(court.follow_ups[12:]):
        paired = [court.officers[(index + k) % 10].id for k in range(3 + index % 2)]
        create_follow_up_post(session, user_id=post_user.id, officer_ids=paired, actor=court.admin, now=now,
                              group_code="enforcement")


def _rooms_and_firms(session: Session, admin: User, now: datetime) -> list:
    for n in range(1, 7):
        create_courtroom(session, name=f"第{n}法庭", venue="main", opens=time(8, 30), closes=time(17, 30),
                         has_video=n <= 2, actor=admin, now=now)
    for tribunal in TRIBUNALS:
        for n in range(1, 3):
            create_courtroom(session, name=f"第{n}法庭", venue=tribunal, opens=time(8, 30), closes=time(17, 0),
                             actor=admin, now=now)
    return [
        create_law_firm(session, name=f"山东{word}律师事务所", email=f"service{i}@lawfirm{i}.example.cn",
                        e_service_agreement=i < 4, actor=admin, now=now)
        for i, word in enumerate(["海明", "环翠", "正义", "信达", "东方", "泰山"])
    ]


def _defendants(rng: random.Random, repeat: list[tuple[str, str]]) -> list[PartyIn]:
    if repeat and rng.random() < 0.15:
        name, id_number = rng.choice(repeat)  # the same person sued again
    elif rng.random() < 0.4:
        name = rng.choice(COMPANY_WORDS) + rng.choice(COMPANY_WORDS) + rng.choice(COMPANY_KINDS)
        id_number = _uscc(rng)
    else:
        name, id_number = _name(rng), _resident_id(rng)
    repeat.append((name, id_number))
    defendants = [PartyIn(role="defendant", name=name, id_number=id_number, phones=[_phone(rng)],
                          addresses=[_address(rng)])]
    if rng.random() < 0.2:
        defendants.append(PartyIn(role="defendant", name=_name(rng), id_number=_resident_id(rng),
                                  phones=[_phone(rng)], addresses=[_address(rng)]))
    return defendants


def _one_case(session: Session, court: _Court, firms: list, rng: random.Random, now: datetime, settings) -> None:
    """File one case of the seed's mix (and close it, when it is old enough, a third of the time)."""
    serial = court.serial
    kind = rng.choices(list(KIND_WEIGHTS), list(KIND_WEIGHTS.values()))[0]
    prefix = "执" if kind == "enforcement" else "民初"
    serial[prefix] += 1
    # Speedy cases older than a week would long be heard and closed: keep them recent.
    filed_at = _office_hours(now - timedelta(days=rng.uniform(0, 5 if kind == "speedy" else 60)), rng, now,
                             settings.timezone)
    venue = "main" if rng.random() < 0.6 else rng.choice(TRIBUNALS)
    officer = rng.choice(court.officers if kind == "enforcement" else court.judges)
    plaintiff = PartyIn(role="plaintiff", name=_name(rng), id_number=_resident_id(rng), phones=[_phone(rng)],
                        addresses=[_address(rng)], law_firm_id=rng.choice(firms).id if rng.random() < 0.4 else None)
    defendants = _defendants(rng, court.repeat_defendants)
    case = file_case(
        session,
        CaseIn(number=f"({filed_at.year}){'鲁1002'}{prefix}{serial[prefix]}号", kind=kind, venue=venue,
               filed_at=filed_at, judge_id=officer.id, volumes=rng.choice((1, 1, 1, 2, 3)),
               cause=rng.choice(CAUSES[kind]), parties=[plaintiff, *defendants]),
        actor=rng.choice(court.staff[Role.intake_clerk]), now=filed_at, settings=settings,
    )
    if filed_at < now - timedelta(days=20) and rng.random() < 0.35:
        closed_at = filed_at + timedelta(days=rng.uniform(10, (now - filed_at).days))
        close_case(session, case, closed_at=closed_at, outcome=rng.choice(["调解结案", "判决结案", "撤诉", "执行完毕"]),
                   actor=officer, now=closed_at, settings=settings)
