"""Demo data for `manage.py seed_demo`: a handful of teams in every
arrangement the brief names, charge points in every state, and reports of
every source and state with their timelines. Safe to run again: everything is
looked up by its natural key first, so a second run adds nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.models import SUPPORT_GROUP, ApiKey, Membership, Role, Team, User
from accounts.services import api_key_authenticate, api_key_create_platform, api_key_revoke
from chargepoints.health_marks import health_marks_add
from chargepoints.models import ChargePoint, ChargePointState, Connectivity, Site

from . import services
from .catalogue import Party, Reason, Source
from .models import Report, ReportContact, ReportSettings

DEMO_PASSWORD = "demo-reports-2026"
DEMO_PLATFORM_KEY_NAME = "Demo drivers' app"
FLEET_PREFIX = "FLEET-"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    where: str
    what: str


TEAMS = [
    # name, country, language
    ("Voltway Charging", "NL", "en"),  # owns and operates its own charge points
    ("Greenpark Properties", "NL", "en"),  # owner only: ChargeOps operates for it
    ("ChargeOps Services", "DE", "en"),  # operator only
    ("Nordlys Energi", "DK", "da"),  # owns and operates, in Denmark
]

SITES = [
    # team, name, address, city, postal code, country, lat, lon
    ("Voltway Charging", "Utrecht Central P+R", "Croeselaan 1", "Utrecht", "3521 BJ", "NL", "52.088", "5.110"),
    ("Voltway Charging", "Amsterdam Zuidas Garage", "Gustav Mahlerlaan 10", "Amsterdam", "1082 PP", "NL", "52.338", "4.873"),
    ("Greenpark Properties", "Greenpark Office Campus", "Parkweg 20", "Rotterdam", "3011 AA", "NL", "51.922", "4.479"),
    ("Nordlys Energi", "Aarhus Harbour", "Havnegade 4", "Aarhus", "8000", "DK", "56.153", "10.214"),
    ("Nordlys Energi", "Odense Station", "Østre Stationsvej 27", "Odense", "5000", "DK", "55.401", "10.387"),
]

CHARGE_POINTS = [
    # ocpp id, name, site, owner, operator, vendor, model, connectivity, state, minutes in state
    ("NL-VW-001", "Utrecht P+R 1", "Utrecht Central P+R", "Voltway Charging", "Voltway Charging", "Alfen", "Eve Double Pro", Connectivity.ETHERNET, ChargePointState.AVAILABLE, 300),
    ("NL-VW-002", "Utrecht P+R 2", "Utrecht Central P+R", "Voltway Charging", "Voltway Charging", "Alfen", "Eve Double Pro", Connectivity.CELLULAR, ChargePointState.BUSY, 40),
    ("NL-VW-003", "Utrecht P+R 3", "Utrecht Central P+R", "Voltway Charging", "Voltway Charging", "Alfen", "Eve Single S", Connectivity.CELLULAR, ChargePointState.DISCONNECTED, 95),
    ("NL-VW-004", "Zuidas Level -2 A", "Amsterdam Zuidas Garage", "Voltway Charging", "Voltway Charging", "ABB", "Terra AC", Connectivity.WIFI, ChargePointState.ERROR, 25),
    ("NL-VW-005", "Zuidas Level -2 B", "Amsterdam Zuidas Garage", "Voltway Charging", "Voltway Charging", "ABB", "Terra AC", Connectivity.WIFI, ChargePointState.PASSIVE, 1440),
    ("NL-GP-001", "Greenpark Bay 1", "Greenpark Office Campus", "Greenpark Properties", "ChargeOps Services", "Zaptec", "Pro", Connectivity.WIFI, ChargePointState.AVAILABLE, 600),
    ("NL-GP-002", "Greenpark Bay 2", "Greenpark Office Campus", "Greenpark Properties", "ChargeOps Services", "Zaptec", "Pro", Connectivity.WIFI, ChargePointState.ERROR, 70),
    ("NL-GP-003", "Greenpark Bay 3", "Greenpark Office Campus", "Greenpark Properties", "ChargeOps Services", "Zaptec", "Pro", Connectivity.CELLULAR, ChargePointState.BUSY, 15),
    ("DK-NL-001", "Aarhus Havn 1", "Aarhus Harbour", "Nordlys Energi", "Nordlys Energi", "Easee", "Charge", Connectivity.CELLULAR, ChargePointState.AVAILABLE, 120),
    ("DK-NL-002", "Aarhus Havn 2", "Aarhus Harbour", "Nordlys Energi", "Nordlys Energi", "Easee", "Charge", Connectivity.CELLULAR, ChargePointState.DISCONNECTED, 30),
    ("DK-NL-003", "Odense St. 1", "Odense Station", "Nordlys Energi", "Nordlys Energi", "Kempower", "S-Series", Connectivity.ETHERNET, ChargePointState.BUSY, 20),
]

# (email, first, last, team or None for support, role)
USERS = [
    ("support@example.com", "Sam", "Support", None, None),
    ("owner@voltway.example", "Olivia", "Owner", "Voltway Charging", Role.OWNER),
    ("admin@voltway.example", "Adam", "Admin", "Voltway Charging", Role.ADMIN),
    ("installer@voltway.example", "Ines", "Installer", "Voltway Charging", Role.INSTALLER),
    ("viewer@voltway.example", "Victor", "Viewer", "Voltway Charging", Role.VIEWER),
    ("admin@greenpark.example", "Greta", "Park", "Greenpark Properties", Role.ADMIN),
    ("admin@chargeops.example", "Carl", "Ops", "ChargeOps Services", Role.ADMIN),
    ("installer@chargeops.example", "Ivo", "Tech", "ChargeOps Services", Role.INSTALLER),
    ("admin@nordlys.example", "Nanna", "Lund", "Nordlys Energi", Role.ADMIN),
]


def demo_logins() -> list[DemoLogin]:
    logins = []
    for email, _first, _last, team, role in USERS:
        if team is None:
            logins.append(DemoLogin(email, "/admin/", "support staff: every team"))
        else:
            logins.append(DemoLogin(email, "/operator/", f"{Role(role).label.lower()} of {team}"))
    return logins


@transaction.atomic
def seed_demo() -> dict[str, int]:
    """Create the demo world if it is not there yet. Returns what was created."""
    created = {"teams": 0, "users": 0, "sites": 0, "charge_points": 0, "reports": 0}
    now = timezone.now()

    teams: dict[str, Team] = {}
    for name, country, language in TEAMS:
        teams[name], new = Team.objects.get_or_create(
            name=name, defaults={"country": country, "language": language}
        )
        created["teams"] += new

    support_group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    users: dict[str, User] = {}
    for email, first, last, team_name, role in USERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email, DEMO_PASSWORD, first_name=first, last_name=last, is_staff=team_name is None
            )
            created["users"] += 1
            if team_name is None:
                user.groups.add(support_group)
            else:
                Membership.objects.create(user=user, team=teams[team_name], role=role)
        users[email] = user

    for team in teams.values():
        report_settings, new = ReportSettings.objects.get_or_create(team=team)
        if new:
            member = team.memberships.filter(role__in=[Role.ADMIN, Role.INSTALLER]).select_related("user").first()
            if member:
                ReportContact.objects.create(
                    settings=report_settings,
                    name=member.user.get_full_name(),
                    email=member.user.email,
                    phone="+31 20 123 4567" if team.country == "NL" else "+45 70 12 34 56",
                )

    sites: dict[str, Site] = {}
    for team_name, name, address, city, postal, country, lat, lon in SITES:
        sites[name], new = Site.objects.get_or_create(
            team=teams[team_name],
            name=name,
            defaults=dict(address=address, city=city, postal_code=postal, country=country, latitude=lat, longitude=lon),
        )
        created["sites"] += new

    cps: dict[str, ChargePoint] = {}
    fresh: list[int] = []
    for index, (ocpp_id, name, site, owner, operator, vendor, model, conn, state, minutes) in enumerate(CHARGE_POINTS):
        cps[ocpp_id], new = ChargePoint.objects.get_or_create(
            ocpp_id=ocpp_id,
            defaults=dict(
                name=name,
                site=sites[site],
                owner=teams[owner],
                operator=teams[operator],
                serial_number=f"{vendor[:3].upper()}{240000 + index}",
                vendor=vendor,
                model=model,
                firmware_version="5.2.1",
                connectivity=conn,
                state=state,
                state_since=now - timedelta(minutes=minutes),
                error_code="GroundFailure" if state == ChargePointState.ERROR else "",
                last_heartbeat_at=now - timedelta(minutes=minutes if state == ChargePointState.DISCONNECTED else 1),
                wifi_signal_dbm=-67 if conn == Connectivity.WIFI else None,
                wifi_signal_at=now if conn == Connectivity.WIFI else None,
                cellular_signal_dbm=-95 if conn == Connectivity.CELLULAR else None,
                cellular_signal_at=now if conn == Connectivity.CELLULAR else None,
            ),
        )
        created["charge_points"] += new
        if new:
            fresh.append(cps[ocpp_id].pk)
    # Born in trouble, not through telemetry: the health engine looks at them.
    health_marks_add(fresh)

    if not Report.objects.filter(charge_point__in=cps.values()).exists():
        created["reports"] = _seed_reports(cps, users)
    return created


def demo_tour(*, base_url: str, platform_key: str = "") -> list[str]:
    """What `make run` prints once the web server answers: where to look
    first, and with which demo login."""
    from django.urls import reverse

    cp = ChargePoint.objects.filter(ocpp_id=CHARGE_POINTS[0][0]).first()
    lines = [
        "",
        "=" * 78,
        "The demo is running. Every kind of system report appears within five minutes (DEMO_SPEED),",
        "drivers report on the public page and from the app, and write to support by e-mail.",
        f"Every login's password: {DEMO_PASSWORD}",
        f"  Support (every team):          {base_url}/admin/             support@example.com",
        f"  Operator admin (Voltway):      {base_url}/operator/          admin@voltway.example",
        f"  Operator viewer (Voltway):     {base_url}/operator/          viewer@voltway.example",
        f"  Installer (Voltway):           {base_url}/operator/          installer@voltway.example",
    ]
    if cp is not None:
        change = reverse("operator:chargepoints_chargepoint_change", args=[cp.pk])
        lines += [
            f"  Driver's page of {cp.ocpp_id}:    {base_url}{reverse('drivers:report', args=[cp.public_code])}",
            f"  Its QR sticker sheet:          "
            f"{base_url}{reverse('operator:chargepoints_chargepoint_stickers', args=[cp.pk])}"
            f" (more: select charge points in {base_url}{change.rsplit('/', 3)[0]}/, "
            "action 'Print QR stickers')",
        ]
    lines += [
        f"  API docs:                      {base_url}/api/docs/  (Authorize: the drivers' app key below)",
        f"  Demo drivers' app key:         {platform_key or '(run seed_demo: var/demo-platform-key)'}",
        f"  Inbox (every e-mail sent):     {base_url}/admin/notifications/notification/",
        "=" * 78,
        "",
    ]
    return lines


def demo_platform_key(*, key_file: Path) -> str:
    """The raw key of the demo drivers' app (a platform key, created by the
    demo support login), kept only in ``key_file`` (untracked, under var/).
    A new key, the old one revoked, when the file is missing or its key no
    longer works."""
    if key_file.exists():
        raw_key = key_file.read_text().strip()
        if raw_key and api_key_authenticate(raw_key=raw_key) is not None:
            return raw_key
    support = User.objects.get(email="support@example.com")
    with transaction.atomic():
        for old in ApiKey.objects.filter(is_platform=True, name=DEMO_PLATFORM_KEY_NAME, revoked_at__isnull=True):
            api_key_revoke(api_key=old, by=support, note="Replaced: its raw key was no longer on this machine.")
        _key, raw_key = api_key_create_platform(name=DEMO_PLATFORM_KEY_NAME, by=support)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(raw_key + "\n")
    key_file.chmod(0o600)
    return raw_key


def _seed_reports(cps: dict[str, ChargePoint], users: dict[str, User]) -> int:
    support = users["support@example.com"]
    vw_admin = users["admin@voltway.example"]
    vw_installer = users["installer@voltway.example"]
    ops_admin = users["admin@chargeops.example"]
    count = 0

    def create(**kwargs) -> Report:
        nonlocal count
        count += 1
        return services.report_create(**kwargs)

    # System reports, as the health checks file them.
    create(charge_point=cps["NL-VW-003"], source=Source.SYSTEM, reason=Reason.DISCONNECTED,
           description="No heartbeat for 95 minutes; the OCPP connection is closed.")
    in_error = create(charge_point=cps["NL-GP-002"], source=Source.SYSTEM, reason=Reason.IN_ERROR,
                      description="Faulted with GroundFailure (vendor code 0x2F) for 70 minutes.")
    services.report_assign(report=in_error, party=Party.OPERATOR, person=users["installer@chargeops.example"],
                           by=ops_admin, note="Ivo is on site tomorrow morning.")
    wifi = create(charge_point=cps["NL-VW-004"], source=Source.SYSTEM, reason=Reason.BAD_WIFI,
                  description="Wi-Fi signal around -84 dBm for the last 15 minutes.")
    services.report_resolve(report=wifi, by=vw_installer, note="Moved the access point closer to the garage bay.")
    create(charge_point=cps["DK-NL-002"], source=Source.SYSTEM, reason=Reason.BAD_CELL_SIGNAL,
           description="Cellular signal below -105 dBm for 20 minutes.")

    # Driver reports from the app.
    create(charge_point=cps["NL-VW-001"], source=Source.USER, reason=Reason.PARKING_BLOCKED,
           description="A petrol car has been parked in the bay all afternoon.",
           reporter_name="Mila de Vries", reporter_email="mila@example.net")
    broken = create(charge_point=cps["NL-GP-001"], source=Source.USER, reason=Reason.BROKEN,
                    description="The cable holder is cracked and the plug lies on the ground.",
                    reporter_name="Jan Bakker", reporter_email="jan@example.net")
    services.report_assign(report=broken, party=Party.OWNER, by=ops_admin,
                           note="Hardware damage on the property: the owner handles repairs.")
    create(charge_point=cps["DK-NL-001"], source=Source.USER, reason=Reason.TAX_REFUND,
           description="My refund for last month's charging is missing.",
           reporter_name="Freja Madsen", reporter_email="freja@example.dk")
    interrupted = create(charge_point=cps["NL-VW-002"], source=Source.USER, reason=Reason.CHARGE_INTERRUPTED,
                         description="Charging stopped after 5 minutes twice in a row.",
                         reporter_name="Tom Jansen")
    services.report_resolve(report=interrupted, by=vw_admin, note="Firmware 5.2.1 fixes the contactor timing.")
    services.report_reopen(report=interrupted, by=vw_admin, note="The driver says it happened again tonight.")

    # Support conversations.
    create(charge_point=cps["DK-NL-003"], source=Source.SUPPORT, reason=Reason.CONVERSATION, by=support,
           description="Driver cannot start a charge with the app.",
           messages=[
               {"sender": "driver", "author_name": "Anders Holm", "body": "The app says the charger is offline, but it shows green."},
               {"sender": "support", "body": "Thanks Anders, I'm checking the charger's connection now."},
           ])
    settled = create(charge_point=cps["NL-VW-005"], source=Source.SUPPORT, reason=Reason.CONVERSATION, by=support,
                     description="Driver asked why the charger is not offered in the app.",
                     messages=[
                         {"sender": "driver", "author_name": "Eva Smit", "body": "Zuidas B is missing in the app."},
                         {"sender": "support", "body": "It is out of service for maintenance until Friday."},
                     ])
    services.report_resolve(report=settled, by=support, note="Explained the maintenance window; nothing to fix.")
    return count


def seed_fleet(count: int, *, batch_size: int = 5000, progress=None) -> int:
    """Add charge points until the demo fleet has ``count`` of them.

    They are spread over fleet sites of the demo operator teams and created
    with bulk inserts. Returns how many were added.
    """
    voltway = Team.objects.get(name="Voltway Charging")
    nordlys = Team.objects.get(name="Nordlys Energi")
    fleet_sites = []
    for team, city, country in [(voltway, "Eindhoven", "NL"), (voltway, "Groningen", "NL"), (nordlys, "Aalborg", "DK")]:
        site, _ = Site.objects.get_or_create(
            team=team, name=f"{city} fleet depot", defaults={"city": city, "country": country}
        )
        fleet_sites.append(site)

    existing = ChargePoint.objects.filter(ocpp_id__startswith=FLEET_PREFIX).count()
    missing = max(count - existing, 0)
    now = timezone.now()
    states = [ChargePointState.AVAILABLE] * 6 + [ChargePointState.BUSY] * 3 + [ChargePointState.PASSIVE]
    connectivity = list(Connectivity)
    added = 0
    number = existing
    while added < missing:
        batch = []
        for _ in range(min(batch_size, missing - added)):
            number += 1
            site = fleet_sites[number % len(fleet_sites)]
            batch.append(
                ChargePoint(
                    site=site,
                    owner_id=site.team_id,
                    operator_id=site.team_id,
                    name=f"{site.city} {number:06d}",
                    serial_number=f"FL{number:08d}",
                    ocpp_id=f"{FLEET_PREFIX}{number:07d}",
                    vendor="Alfen",
                    model="Eve Single Pro",
                    firmware_version="6.4.0",
                    connectivity=connectivity[number % len(connectivity)],
                    state=states[number % len(states)],
                    state_since=now,
                    last_heartbeat_at=now,
                )
            )
        ChargePoint.objects.bulk_create(batch, batch_size=batch_size)
        added += len(batch)
        if progress is not None:
            progress(len(batch))
    return added
