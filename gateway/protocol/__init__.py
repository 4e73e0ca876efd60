"""One charger's OCPP 1.6J conversation, one module per concern; the names
are also importable from here (``from gateway.protocol import CentralSystem``):

- ``central_system``: ``CentralSystem``, the handlers of the actions a
  charger sends, and the CALLERROR codes OCPP-J 1.6 gives to bad frames,
  unknown actions and payloads that break the schema.
- ``schema``: the quick schema check compiled from the OCPP 1.6 request
  schemas; jsonschema decides what it is not sure of.
- ``dispatch``: calling a handler cheaply (key case, ``call_unique_id``).
- ``payloads``: reading a charger's timestamps, signal strength and energy
  register.
"""

from .central_system import FROM_CHARGER, KNOWN_ACTIONS, SCHEMA_ERROR_CODES, CentralSystem
from .payloads import ENERGY, SIGNAL_MESSAGE_ID, charger_time

__all__ = [
    "ENERGY",
    "FROM_CHARGER",
    "KNOWN_ACTIONS",
    "SCHEMA_ERROR_CODES",
    "SIGNAL_MESSAGE_ID",
    "CentralSystem",
    "charger_time",
]
