"""The health sweep benchmark's data and raw-SQL bounds (``bench/sweep.py``):
the fleet put in trouble (1 % of it, one check each, with near misses and
healthy telemetry for the rest), maintenance windows over some of it, and
the hand-written statements that find, and find and file, the same
offenders: the lower bound the sweep is compared with."""

from __future__ import annotations

TROUBLE_MODULO = 500  # 5 of every 500 charge points (1%) are in trouble, one per check

# One statement per check, as tight as hand-written SQL gets; %(now)s is the
# sweep's clock, so both see the same offenders. Each row carries the
# description the sweep writes (the checks' texts at the default thresholds):
# the report table's trigram index costs by the length of the text, so a
# bound that wrote shorter texts would be doing less work than the sweep.
OFFENDERS_SQL = """
SELECT id, 'disconnected',
       'Disconnected since ' || to_char(state_since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')
       || ' UTC: more than 10 minutes.'
  FROM chargepoints_chargepoint
 WHERE state = 'disconnected' AND state_since < %(now)s - interval '10 minutes'
UNION ALL
SELECT id, 'in_error',
       'In error since ' || to_char(state_since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')
       || ' UTC: more than 10 minutes. Error code: ' || coalesce(nullif(error_code, ''), 'none')
       || '; vendor error code: ' || coalesce(nullif(vendor_error_code, ''), 'none') || '.'
  FROM chargepoints_chargepoint
 WHERE state = 'error' AND state_since < %(now)s - interval '10 minutes'
UNION ALL
SELECT charge_point_id, 'failed_charges', '3 or more failed charges within the last 60 minutes.'
  FROM chargepoints_charge
 WHERE outcome = 'failed' AND ended_at > %(now)s - interval '60 minutes'
 GROUP BY charge_point_id HAVING count(*) >= 3
UNION ALL
SELECT cp.id, 'bad_wifi',
       'Wi-Fi signal below -80 dBm in every reading of the last 15 minutes (at least 3); latest '
       || cp.wifi_signal_dbm || ' dBm.'
  FROM chargepoints_chargepoint cp
 WHERE cp.wifi_signal_dbm < -80 AND cp.wifi_signal_at > %(now)s - interval '15 minutes'
   AND (SELECT count(*) FROM chargepoints_signalreading r WHERE r.charge_point_id = cp.id
        AND r.kind = 'wifi' AND r.occurred_at > %(now)s - interval '15 minutes') >= 3
   AND NOT EXISTS (SELECT 1 FROM chargepoints_signalreading r WHERE r.charge_point_id = cp.id
        AND r.kind = 'wifi' AND r.occurred_at > %(now)s - interval '15 minutes' AND r.dbm >= -80)
UNION ALL
SELECT cp.id, 'bad_cell_signal',
       'Cellular signal below -105 dBm in every reading of the last 15 minutes (at least 3); latest '
       || cp.cellular_signal_dbm || ' dBm.'
  FROM chargepoints_chargepoint cp
 WHERE cp.cellular_signal_dbm < -105 AND cp.cellular_signal_at > %(now)s - interval '15 minutes'
   AND (SELECT count(*) FROM chargepoints_signalreading r WHERE r.charge_point_id = cp.id
        AND r.kind = 'cellular' AND r.occurred_at > %(now)s - interval '15 minutes') >= 3
   AND NOT EXISTS (SELECT 1 FROM chargepoints_signalreading r WHERE r.charge_point_id = cp.id
        AND r.kind = 'cellular' AND r.occurred_at > %(now)s - interval '15 minutes' AND r.dbm >= -105)
"""

# The sweep's timeline note for a report routed to the operator, as above.
FILED_NOTE = "Filed by the health checks and routed to the operator automatically."

FILE_SQL = f"""
WITH offenders(charge_point_id, reason, description) AS ({OFFENDERS_SQL}),
filed AS (
    INSERT INTO reporting_report (charge_point_id, owner_team_id, operator_team_id, source, reason, description,
        reporter_name, reporter_email, reporter_phone, state, assigned_party, resolution_note, reporter_count,
        occurrences, last_seen_at, created_at, updated_at)
    SELECT o.charge_point_id, cp.owner_id, cp.operator_id, 'system', o.reason, o.description, '', '', '', 'open',
           'operator', '', 1, 1, %(now)s, %(now)s, %(now)s
    FROM offenders o JOIN chargepoints_chargepoint cp ON cp.id = o.charge_point_id
    ON CONFLICT DO NOTHING
    RETURNING id
)
INSERT INTO reporting_reportevent (report_id, kind, actor_label, from_state, to_state, from_party,
    to_party, note, created_at)
SELECT id, 'created', 'System', '', 'open', '', 'operator', '{FILED_NOTE}', %(now)s FROM filed
"""


def seed_trouble() -> object:
    """Reset telemetry and reports, then put 1% of the fleet in trouble and
    give everyone healthy telemetry. Returns the database's clock at seeding,
    which the sweeps then use as their "now"."""
    from django.db import connection

    m = TROUBLE_MODULO
    with connection.cursor() as cur:
        cur.execute("SELECT now()")
        (now,) = cur.fetchone()
        cur.execute(
            "TRUNCATE chargepoints_signalreading, chargepoints_charge, chargepoints_statechange, "
            "chargepoints_heartbeat, reporting_reportevent, reporting_report CASCADE"
        )
        params = {"now": now, "m": m}
        # Everyone healthy first: states from the fleet seed, a good recent signal.
        cur.execute(
            """
            UPDATE chargepoints_chargepoint SET
              state = (ARRAY['available','busy','available','passive'])[1 + id %% 4],
              state_since = %(now)s - interval '1 day', error_code = '', vendor_error_code = '',
              wifi_signal_dbm = CASE WHEN connectivity = 'wifi' THEN -60 END,
              wifi_signal_at = CASE WHEN connectivity = 'wifi' THEN %(now)s - interval '1 minute' END,
              cellular_signal_dbm = CASE WHEN connectivity = 'cellular' THEN -85 END,
              cellular_signal_at = CASE WHEN connectivity = 'cellular' THEN %(now)s - interval '1 minute' END,
              last_heartbeat_at = %(now)s
            WHERE ocpp_id LIKE 'BENCH-%%'
            """,
            params,
        )
        cur.execute(
            """
            INSERT INTO chargepoints_signalreading (charge_point_id, event_id, received_at, kind, dbm, occurred_at)
            SELECT id, 'ok-' || id, %(now)s, connectivity, CASE WHEN connectivity = 'wifi' THEN -60 ELSE -85 END,
                   %(now)s - interval '1 minute'
            FROM chargepoints_chargepoint WHERE connectivity IN ('wifi', 'cellular')
            """,
            params,
        )
        # Completed charges for one in twenty in the last hour.
        cur.execute(
            """
            INSERT INTO chargepoints_charge (charge_point_id, event_id, received_at, started_at, ended_at,
                energy_wh, stop_reason, transaction_id, outcome, failure_reason)
            SELECT id, 'done-' || id, %(now)s, %(now)s - interval '50 minutes', %(now)s - interval '5 minutes',
                   12000, 'Local', '', 'completed', ''
            FROM chargepoints_chargepoint WHERE id %% 20 = 7
            """,
            params,
        )
        # The trouble: one check per residue.
        cur.execute(
            "UPDATE chargepoints_chargepoint SET state = 'disconnected', state_since = %(now)s - interval '20 minutes' "
            "WHERE id %% %(m)s = 0",
            params,
        )
        cur.execute(
            "UPDATE chargepoints_chargepoint SET state = 'error', state_since = %(now)s - interval '20 minutes', "
            "error_code = 'GroundFailure' WHERE id %% %(m)s = 1",
            params,
        )
        cur.execute(
            """
            INSERT INTO chargepoints_charge (charge_point_id, event_id, received_at, started_at, ended_at,
                energy_wh, stop_reason, transaction_id, outcome, failure_reason)
            SELECT cp.id, 'fail-' || cp.id || '-' || k, %(now)s, %(now)s - k * interval '10 minutes' - interval '2 minutes',
                   %(now)s - k * interval '10 minutes', 0, 'EVDisconnected', '', 'failed', 'No energy was delivered.'
            FROM chargepoints_chargepoint cp, generate_series(1, 3) k
            WHERE cp.id %% %(m)s = 2
            """,
            params,
        )
        for residue, kind, dbm in ((3, "wifi", -90), (4, "cellular", -112)):
            cur.execute(
                f"""
                UPDATE chargepoints_chargepoint SET connectivity = %(kind)s,
                  {kind}_signal_dbm = %(dbm)s, {kind}_signal_at = %(now)s - interval '1 minute'
                WHERE id %% %(m)s = %(r)s
                """,
                {**params, "kind": kind, "dbm": dbm, "r": residue},
            )
            cur.execute(
                """
                DELETE FROM chargepoints_signalreading r USING chargepoints_chargepoint cp
                WHERE r.charge_point_id = cp.id AND cp.id %% %(m)s = %(r)s
                """,
                {**params, "r": residue},
            )
            cur.execute(
                """
                INSERT INTO chargepoints_signalreading (charge_point_id, event_id, received_at, kind, dbm, occurred_at)
                SELECT cp.id, 'weak-' || cp.id || '-' || k, %(now)s, %(kind)s, %(dbm)s - k,
                       %(now)s - k * interval '4 minutes' + interval '3 minutes'
                FROM chargepoints_chargepoint cp, generate_series(1, 3) k
                WHERE cp.id %% %(m)s = %(r)s
                """,
                {**params, "kind": kind, "dbm": dbm, "r": residue},
            )
        # Near misses the checks must look at and reject: one failed charge;
        # a weak latest Wi-Fi reading after good ones.
        cur.execute(
            """
            INSERT INTO chargepoints_charge (charge_point_id, event_id, received_at, started_at, ended_at,
                energy_wh, stop_reason, transaction_id, outcome, failure_reason)
            SELECT id, 'miss-' || id, %(now)s, %(now)s - interval '30 minutes', %(now)s - interval '20 minutes',
                   0, 'Local', '', 'failed', 'No energy was delivered.'
            FROM chargepoints_chargepoint WHERE id %% %(m)s = 5
            """,
            params,
        )
        cur.execute(
            """
            UPDATE chargepoints_chargepoint SET wifi_signal_dbm = -84, wifi_signal_at = %(now)s - interval '30 seconds'
            WHERE id %% %(m)s = 6 AND connectivity = 'wifi'
            """,
            params,
        )
    # The seed rewrote every charge point: vacuum, as autovacuum would, so
    # index probes do not wade through the dead row versions of the seed.
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    return now


def clear_reports() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("TRUNCATE reporting_reportevent, reporting_report, reporting_healthflip, "
                    "reporting_silenceddetection CASCADE")


def seed_windows(now) -> None:
    """Maintenance windows active at ``now``: 20 on charge points in trouble
    (their detections become "would have filed" rows), 20 on healthy ones
    and one on a site, so the sweep looks every offender up in them."""
    from datetime import timedelta

    from chargepoints.models import ChargePoint, Site
    from reporting.maintenance import maintenance_window_create
    from reporting.models import MaintenanceWindow

    MaintenanceWindow.objects.all().delete()
    troubled = ChargePoint.objects.filter(state="disconnected").order_by("pk")[:20]
    healthy = ChargePoint.objects.filter(state="available").order_by("pk")[:20]
    for cp in [*troubled, *healthy]:
        maintenance_window_create(by=None, team=cp.owner_id, charge_point=cp, reason="Bench",
                                  starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    site = Site.objects.order_by("-pk").first()
    maintenance_window_create(by=None, team=site.team_id, site=site, reason="Bench",
                              starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
