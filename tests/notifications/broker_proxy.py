"""A TCP proxy in front of the broker (Redis) that a test can switch
between passing traffic, refusing connections (nothing listens on its port)
and blackholing them (connections are accepted and then nothing is ever
said or forwarded)."""

from __future__ import annotations

import select
import socket
import threading

PASS, REFUSE, BLACKHOLE = "pass", "refuse", "blackhole"


class BrokerProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = PASS
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]

    # --- switching -------------------------------------------------------------

    def start(self) -> BrokerProxy:
        self._listen()
        return self

    def set_mode(self, mode: str) -> None:
        """Switch the fault. Connections open at the switch are cut (a broker
        that went away), so every client meets the new mode."""
        self.mode = mode
        self._close_all()
        if mode == REFUSE:
            self._close_listener()
        elif self._listener is None:
            self._listen()

    def stop(self) -> None:
        self._stopped.set()
        self._close_listener()
        self._close_all()

    # --- plumbing --------------------------------------------------------------

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()

    def _close_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            try:
                sock.close()
            except OSError:
                pass

    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._sockets.update(socks)

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed (refuse, or stop)
            self._track(client)
            if self.mode == BLACKHOLE:
                continue  # held open, never answered
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            self._track(upstream)
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        pair = {client: upstream, upstream: client}
        try:
            while self.mode == PASS and not self._stopped.is_set():
                readable, _, _ = select.select(list(pair), [], [], 0.2)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    pair[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in pair:
                try:
                    sock.close()
                except OSError:
                    pass
