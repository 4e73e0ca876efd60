"""manage.py ocpp_gateway: the process make run starts (host and port
options, refusals logged, a clean stop on SIGTERM)."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import websockets
from websockets.exceptions import InvalidStatus

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_command_listens_on_the_given_port_refuses_strangers_and_stops_on_sigterm(tmp_path):
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    process = subprocess.Popen([sys.executable, "manage.py", "ocpp_gateway", "--host", "127.0.0.1", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "the gateway did not start"
                time.sleep(0.2)

        async def anonymous():
            try:
                await websockets.connect(f"ws://127.0.0.1:{port}/ocpp/CP-1", subprotocols=["ocpp1.6"])
            except InvalidStatus as refused:
                return refused.response.status_code

        assert asyncio.run(anonymous()) == 401
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        output = process.stdout.read()
        assert f"listening on ws://127.0.0.1:{port}/ocpp/<id>" in output
        assert "Refused CP-1 from 127.0.0.1" in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
