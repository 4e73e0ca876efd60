"""Reads of the OCPP gateway."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from chargepoints.models import ChargePoint

from .services import password_hash

UNKNOWN = "unknown"
WRONG_PASSWORD = "wrong_password"
SWITCHED_OFF = "switched_off"


@dataclass(frozen=True)
class Authentication:
    charge_point_id: int | None
    refusal: str = ""  # "" when accepted


def gateway_authenticate(*, ocpp_id: str, password: str) -> Authentication:
    """Whether a charger may connect as ``ocpp_id`` with this password: one
    query, and a constant-time comparison. A charge point without a password
    cannot connect; nor can one whose operator team switched connections off."""
    return gateway_authenticate_many(attempts=[(ocpp_id, password)])[0]


def gateway_authenticate_many(*, attempts: list[tuple[str, str]]) -> list[Authentication]:
    """``gateway_authenticate`` for many handshakes at once (a reconnect
    storm), in one query; the answers in the same order."""
    rows = {
        row["ocpp_id"]: row
        for row in ChargePoint.objects.filter(ocpp_id__in={ocpp_id for ocpp_id, _ in attempts}).values(
            "pk", "ocpp_id", "ocpp_credential__salt", "ocpp_credential__password_hash",
            "operator__gateway_settings__connections_enabled",
        )
    }
    return [_check(rows.get(ocpp_id), password) for ocpp_id, password in attempts]


def _check(row: dict | None, password: str) -> Authentication:
    if row is None or not row["ocpp_credential__salt"]:
        return Authentication(None, UNKNOWN)
    expected = row["ocpp_credential__password_hash"]
    if not hmac.compare_digest(password_hash(password=password, salt=row["ocpp_credential__salt"]), expected):
        return Authentication(None, WRONG_PASSWORD)
    if row["operator__gateway_settings__connections_enabled"] is False:
        return Authentication(None, SWITCHED_OFF)
    return Authentication(row["pk"])
