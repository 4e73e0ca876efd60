"""Micro-batches: every message that arrives while the previous batch is
being stored goes into the next one, so a burst of thousands of messages is
a few transactions, and nobody waits for a timer when it is quiet."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import deque
from concurrent.futures import Executor

from chargepoints.services import TelemetryResult

from .selectors import gateway_authenticate_many
from .services import MeterUpdate, gateway_record

logger = logging.getLogger("gateway")

MAX_EVENTS = 2000  # per batch: one statement's worth of rows per table


class Batcher:
    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.pending: deque[tuple[list[dict], list[MeterUpdate], asyncio.Future]] = deque()
        self.wakeup = asyncio.Event()
        self.stored = 0  # events stored since start (the benchmark reads it)

    async def record(self, events: list[dict], meters: list[MeterUpdate] = ()) -> list[TelemetryResult]:
        """Store these events in the next batch; returns their results once
        the batch is committed (or raises what storing it raised)."""
        future = asyncio.get_running_loop().create_future()
        self.pending.append((events, list(meters), future))
        self.wakeup.set()
        return await future

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            while self.pending:
                batch, size = [], 0
                while self.pending and (not batch or size + len(self.pending[0][0]) <= MAX_EVENTS):
                    item = self.pending.popleft()
                    batch.append(item)
                    size += len(item[0])
                events = [event for item in batch for event in item[0]]
                meters = [meter for item in batch for meter in item[1]]
                try:
                    results = await loop.run_in_executor(
                        self.executor, functools.partial(gateway_record, events=events, meters=meters)
                    )
                except Exception as error:  # the database is down: each CALL answers InternalError
                    logger.exception("Storing a batch of %d events failed", len(events))
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                self.stored += len(events)
                offset = 0
                for item_events, _, future in batch:
                    if not future.done():
                        future.set_result(results[offset:offset + len(item_events)])
                    offset += len(item_events)


class AuthBatcher:
    """Handshakes waiting for the database are checked together: a reconnect
    storm of thousands of chargers is a few queries, not one each."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.pending: deque[tuple[str, str, asyncio.Future]] = deque()
        self.wakeup = asyncio.Event()

    async def authenticate(self, ocpp_id: str, password: str):
        future = asyncio.get_running_loop().create_future()
        self.pending.append((ocpp_id, password, future))
        self.wakeup.set()
        return await future

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            while self.pending:
                batch = [self.pending.popleft() for _ in range(min(len(self.pending), 1000))]
                attempts = [(ocpp_id, password) for ocpp_id, password, _ in batch]
                try:
                    answers = await loop.run_in_executor(
                        self.executor, functools.partial(gateway_authenticate_many, attempts=attempts))
                except Exception as error:
                    logger.exception("Checking %d handshakes failed", len(batch))
                    answers = [error] * len(batch)
                for (_, _, future), answer in zip(batch, answers, strict=True):
                    if future.done():
                        continue
                    if isinstance(answer, Exception):
                        future.set_exception(answer)
                    else:
                        future.set_result(answer)
