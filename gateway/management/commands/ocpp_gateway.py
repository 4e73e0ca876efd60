"""Run the OCPP 1.6J gateway (docs/ocpp.md)."""

import asyncio
import signal

from django.core.management.base import BaseCommand

from gateway.server import Config, Gateway


class Command(BaseCommand):
    help = "Run the OCPP 1.6J websocket gateway: chargers connect to ws://HOST:PORT/ocpp/<ocpp_id>."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=9000, help="Port to listen on (default 9000).")
        parser.add_argument("--heartbeat-interval", type=int, default=None,
                            help="Seconds between heartbeats (default: settings.OCPP).")

    def handle(self, *args, host, port, heartbeat_interval, **options):
        config = Config.from_settings(heartbeat_interval=heartbeat_interval)
        asyncio.run(self._run(Gateway(config), host, port))

    async def _run(self, gateway, host, port):
        stop = asyncio.get_running_loop().create_future()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
        await gateway.serve(host, port, stop=stop)
