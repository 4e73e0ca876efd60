"""The error-hint catalogue: for each error code a charger reports, a hint in
plain language, the party most likely to act and a first step. The OCPP 1.6
ChargePointErrorCode values and the ChargeX Minimum Required Error Codes
(docs/error-hints.md names the sources). Support maps vendor-specific codes
onto these entries in /admin/ (``VendorErrorCode``); ``error_hint_for``
resolves a charger's codes to one hint."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from .catalogue import Party


class ActingParty(models.TextChoices):
    DRIVER = "driver", _("Driver")
    OPERATOR = "operator", _("Operator")
    OWNER = "owner", _("Team owner")
    INSTALLER = "installer", _("Installer")
    MANUFACTURER = "manufacturer", _("Manufacturer")
    GRID = "grid", _("Grid company")


# Who a report goes to when the team routes "in error" reports by the hint
# (ReportSettings.route_by_error_hint). The back-office has two parties for
# a charger's problems: the owner engages the installer and holds the grid
# connection; the operator runs the service drivers use and deals with the
# manufacturer (warranty, firmware).
ROUTE_TO: dict[str, str] = {
    ActingParty.DRIVER: Party.OPERATOR,
    ActingParty.OPERATOR: Party.OPERATOR,
    ActingParty.MANUFACTURER: Party.OPERATOR,
    ActingParty.OWNER: Party.OWNER,
    ActingParty.INSTALLER: Party.OWNER,
    ActingParty.GRID: Party.OWNER,
}


@dataclass(frozen=True)
class ErrorHint:
    code: str
    source: str  # "OCPP 1.6" or "ChargeX MREC"
    title: str
    hint: str
    party: str
    first_step: str

    def as_dict(self, *, own_hint: str = "", vendor_code: str = "") -> dict:
        return {
            "code": self.code,
            "source": self.source,
            "title": str(self.title),
            "hint": own_hint or str(self.hint),
            "party": self.party,
            "party_label": str(ActingParty(self.party).label),
            "first_step": str(self.first_step),
            "vendor_error_code": vendor_code,
        }


OCPP = "OCPP 1.6"
CHARGEX = "ChargeX MREC"
P = ActingParty

# The catalogue as tables, one row an entry: code, title, hint, acting
# party, first step. ``_hints`` turns a source's rows into ErrorHint objects.

# OCPP 1.6 ChargePointErrorCode (OCPP 1.6 edition 2, section 7.6).
_OCPP_ROWS = (
    ("ConnectorLockFailure", _("Connector lock failure"),
     _("The charger could not lock the cable in the socket, so it will not start charging."),
     P.DRIVER, _("Ask the driver to push the plug fully in and try again; if it repeats, send a technician to "
                 "check the lock.")),
    ("EVCommunicationError", _("Communication with the vehicle failed"),
     _("The charger and the car could not talk to each other over the cable."),
     P.DRIVER, _("Ask the driver to unplug, plug in again and restart the session; if several cars fail, "
                 "check the cable and the charger's firmware.")),
    ("GroundFailure", _("Ground failure"),
     _("The charger detected a fault current to earth and switched off for safety."),
     P.INSTALLER, _("Do not reset it remotely more than once; have an electrician check the earthing and the "
                    "residual current device.")),
    ("HighTemperature", _("Temperature too high"),
     _("The charger is too hot inside and stopped or limited charging."),
     P.OWNER, _("Check that vents are free and nothing covers the charger; it usually recovers when it "
                "cools down.")),
    ("InternalError", _("Internal error"),
     _("The charger reported a fault in its own hardware or software."),
     P.MANUFACTURER, _("Try a soft reset; if the error returns, send the vendor error code to the "
                       "manufacturer.")),
    ("LocalListConflict", _("Local authorisation list conflict"),
     _("The charger's local list of charge cards disagrees with the back-end."),
     P.OPERATOR, _("Send the local authorisation list to the charger again.")),
    ("NoError", _("No error"),
     _("The charger reports no error."),
     P.OPERATOR, _("Nothing to do.")),
    ("OtherError", _("Other error"),
     _("The charger reported an error that OCPP has no code for; the vendor error code says more."),
     P.OPERATOR, _("Look up the vendor error code in the manufacturer's manual, or ask support to map it.")),
    ("OverCurrentFailure", _("Over-current"),
     _("The car drew more current than allowed and the charger stopped."),
     P.DRIVER, _("Ask the driver to try again; if it happens with many cars, check the charger's current "
                 "limit settings.")),
    ("OverVoltage", _("Voltage too high"),
     _("The supply voltage is above the charger's limit."),
     P.GRID, _("Have an electrician measure the supply; if it is high, report it to the grid company.")),
    ("PowerMeterFailure", _("Energy meter failure"),
     _("The charger cannot read its energy meter, so sessions cannot be billed correctly."),
     P.MANUFACTURER, _("Try a soft reset; if it persists, ask the manufacturer to replace the meter.")),
    ("PowerSwitchFailure", _("Power switch failure"),
     _("The contactor or relay that switches power to the car does not work."),
     P.INSTALLER, _("Take the charger out of service and have a technician check the contactor.")),
    ("ReaderFailure", _("Card reader failure"),
     _("The RFID card reader does not work; drivers cannot start with a card."),
     P.MANUFACTURER, _("Try a soft reset; drivers can still start from the app meanwhile.")),
    ("ResetFailure", _("Reset failed"),
     _("The charger could not carry out a reset."),
     P.OPERATOR, _("Try a hard reset; if that fails, power-cycle the charger on site.")),
    ("UnderVoltage", _("Voltage too low"),
     _("The supply voltage is below the charger's limit."),
     P.GRID, _("Check the site's fuses and supply; if the voltage is low, report it to the grid company.")),
    ("WeakSignal", _("Weak signal"),
     _("The charger's wireless connection (Wi-Fi or mobile) is weak."),
     P.OWNER, _("Move the router or antenna closer, or switch the charger to a cable or another network.")),
)

# ChargeX Minimum Required Error Codes.
_CHARGEX_ROWS = (
    ("CX_CONNECTOR_DAMAGED", _("Connector or cable damaged"),
     _("The connector or charging cable is damaged or worn."),
     P.OWNER, _("Take the connector out of service and have the cable or connector replaced.")),
    ("CX_CONNECTOR_LOCK", _("Connector lock failure"),
     _("The connector could not be locked or unlocked."),
     P.INSTALLER, _("Have a technician check the lock actuator.")),
    ("CX_GROUND_FAULT", _("Ground fault"),
     _("A fault current to earth was detected and the charger switched off for safety."),
     P.INSTALLER, _("Have an electrician check the earthing and the residual current device.")),
    ("CX_ISOLATION_FAULT", _("Isolation fault"),
     _("The insulation check before charging failed (DC chargers)."),
     P.MANUFACTURER, _("Try another car; if it fails again, have the manufacturer check the cable and the "
                       "isolation monitor.")),
    ("CX_OVER_VOLTAGE", _("Input over-voltage"),
     _("The supply voltage to the charger is too high."),
     P.GRID, _("Have the supply measured and report it to the grid company.")),
    ("CX_UNDER_VOLTAGE", _("Input under-voltage"),
     _("The supply voltage to the charger is too low."),
     P.GRID, _("Check the site's fuses and supply, then report it to the grid company.")),
    ("CX_POWER_LOSS", _("Loss of input power"),
     _("The charger lost its power supply."),
     P.GRID, _("Check the site's breakers; if the site is without power, contact the grid company.")),
    ("CX_OVER_TEMPERATURE", _("Over-temperature"),
     _("The charger, cable or connector is too hot."),
     P.OWNER, _("Check the vents and cooling; it usually recovers when it cools down.")),
    ("CX_COOLING_FAILURE", _("Cooling system failure"),
     _("The fans or liquid cooling do not work."),
     P.MANUFACTURER, _("Ask the manufacturer for service on the cooling system.")),
    ("CX_POWER_MODULE", _("Power module failure"),
     _("A power module failed; the charger may charge slower or not at all."),
     P.MANUFACTURER, _("Ask the manufacturer to replace the power module.")),
    ("CX_CONTACTOR", _("Contactor failure"),
     _("The contactor that switches power to the car is stuck or does not close."),
     P.INSTALLER, _("Take the charger out of service and have a technician check the contactor.")),
    ("CX_EMERGENCY_STOP", _("Emergency stop pressed"),
     _("Someone pressed the emergency stop button."),
     P.OWNER, _("Check on site that it is safe, then release the emergency stop.")),
    ("CX_EV_COMMUNICATION", _("Communication with the vehicle"),
     _("The charger and the car could not agree on how to charge."),
     P.DRIVER, _("Ask the driver to plug in again; if several cars fail, check the firmware.")),
    ("CX_PILOT_FAULT", _("Control pilot fault"),
     _("The control pilot signal between charger and car is wrong."),
     P.INSTALLER, _("Have a technician check the cable and the control pilot circuit.")),
    ("CX_PAYMENT_SYSTEM", _("Payment system failure"),
     _("The payment terminal does not work; drivers cannot pay on the charger."),
     P.OPERATOR, _("Check the payment terminal's connection and service; point drivers to the app.")),
    ("CX_RFID_READER", _("RFID reader failure"),
     _("The RFID card reader does not work."),
     P.MANUFACTURER, _("Try a soft reset; if it persists, ask the manufacturer to replace the reader.")),
    ("CX_DISPLAY", _("Display failure"),
     _("The charger's screen does not work; drivers cannot see instructions."),
     P.MANUFACTURER, _("Try a soft reset; if it persists, ask the manufacturer to replace the display.")),
    ("CX_CSMS_COMMUNICATION", _("No connection to the back-end"),
     _("The charger cannot reach the charging station management system."),
     P.OPERATOR, _("Check the charger's network and its back-end address.")),
    ("CX_METER", _("Energy meter failure"),
     _("The charger cannot read its energy meter."),
     P.MANUFACTURER, _("Ask the manufacturer to check or replace the meter.")),
    ("CX_FIRMWARE", _("Firmware or software failure"),
     _("The charger's software failed or a firmware update did not complete."),
     P.MANUFACTURER, _("Try the firmware update again, then ask the manufacturer.")),
    ("CX_DOOR_OPEN", _("Enclosure open or tampered with"),
     _("The charger's door or enclosure is open."),
     P.OWNER, _("Check on site and close or secure the enclosure.")),
)


def _hints(source: str, rows) -> list[ErrorHint]:
    return [ErrorHint(code, source, title, hint, party, first_step)
            for code, title, hint, party, first_step in rows]


_ENTRIES = _hints(OCPP, _OCPP_ROWS) + _hints(CHARGEX, _CHARGEX_ROWS)

CATALOGUE: dict[str, ErrorHint] = {entry.code: entry for entry in _ENTRIES}

OCPP_CODES: tuple[str, ...] = tuple(entry.code for entry in _ENTRIES if entry.source == OCPP)
NO_ERROR = "NoError"


def code_choices() -> list[tuple[str, str]]:
    return [(entry.code, f"{entry.code} — {entry.title}") for entry in _ENTRIES]
