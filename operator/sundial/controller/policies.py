"""SchedulePolicies at work: re-evaluate the Schedules whose limits changed, and keep each policy's status.

kopf indexes the policies and the namespaces' labels (``policy_handlers.py``); every policy or namespace
event pokes ``PolicyWatch``, which then (and every resync period, as a backstop) computes the limits
in force in each namespace (``domain.policy``) and compares them with those it last saw:

    limits of a namespace changed -> reconcile each of its Schedules (read fresh): a tightened limit
                                     refuses it (Stalled, reason naming the policy; its Temporal schedule
                                     paused, never deleted), a loosened one admits it again (resumed)
    a policy's counts changed     -> status patch (namespaces, schedules, violating, Ready); none otherwise

The first pass only records the limits: at start-up kopf's resume handlers reconcile every Schedule
with the policies already indexed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import kopf

from sundial.adapters.kube import ScheduleResourceNotFound
from sundial.controller.context import OperatorContext
from sundial.domain.policy import PolicyView, policy_status, selecting
from sundial.domain.rules import Limits
from sundial.logs import decision

Repair = Callable[[Mapping[str, Any], Sequence[tuple[str, str]]], Awaitable[None]]
WriteStatus = Callable[[str, dict[str, Any]], Awaitable[None]]
log = logging.getLogger("sundial.controller.policies")


@dataclass
class PolicyWatch:
    """Re-evaluates Schedules when the limits of their namespace change; refreshes policy statuses."""

    ctx: OperatorContext
    view: PolicyView
    schedules: Mapping[str, Iterable[tuple[str, str]]]  # namespace -> (creationTimestamp, name)
    refused: Mapping[str, Iterable[tuple[str, str]]]  # policy -> (namespace, name) Stalled naming it
    statuses: Mapping[str, Iterable[dict[str, Any]]]  # policy -> its current status and generation
    repair: Repair  # the reconcile, with the quota's peers
    write_status: WriteStatus | None  # patch a policy's status; None: not written (tests)
    applied: dict[str, Limits] = field(default_factory=dict)
    poked: asyncio.Event = field(default_factory=asyncio.Event)
    started: bool = False
    passes: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def poke(self) -> None:
        """A policy or a namespace changed (or was listed): look again soon."""
        self.poked.set()

    async def run(self, stop: asyncio.Event, interval: float,
                  active: Callable[[], Awaitable[bool]] | None = None) -> None:
        """Pass on every poke, and every ``interval`` seconds once the first poke came (indexes filled).
        A standby peer (``active`` false, ``controller.peering``) waits: only the active one writes."""
        while not stop.is_set():
            waiters = [asyncio.ensure_future(self.poked.wait()), asyncio.ensure_future(stop.wait())]
            with suppress(TimeoutError):
                await asyncio.wait(waiters, timeout=interval if self.started else None,
                                   return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
            if stop.is_set():
                return
            if not (self.started or self.poked.is_set()):
                continue
            self.poked.clear()
            self.started = True
            if active is not None and not await active():
                continue
            try:
                await self.reevaluate()
            except Exception as exc:  # one failed pass must not end the loop
                decision(log, "policy-pass-failed", f"policy pass failed: {exc}", logging.WARNING,
                         error=type(exc).__name__)

    async def reevaluate(self) -> list[str]:
        """One pass (see the module docstring); returns the namespaces whose limits changed."""
        async with self.lock:
            changed, first, fresh_ones = [], not self.passes, set()
            self.passes += 1
            known = list(self.view.namespaces.keys())
            for namespace in known:
                limits = self.ctx.limits_for(namespace)
                before = self.applied.get(namespace)
                self.applied[namespace] = limits
                # a namespace first seen after the first pass may already hold Schedules reconciled before its
                # labels reached the index (two watch streams): they are looked at again too
                fresh = before is None and not first and bool(list(self.schedules.get(namespace, ())))
                if fresh or (before is not None and before != limits):
                    changed.append(namespace)
                if fresh:
                    fresh_ones.add(namespace)
            for gone in set(self.applied) - set(known):
                del self.applied[gone]
            for namespace in changed:
                await self._reevaluate_namespace(namespace, namespace in fresh_ones)
            await self.refresh_statuses()
            return changed

    async def _reevaluate_namespace(self, namespace: str, fresh: bool) -> None:
        siblings = list(self.schedules.get(namespace, ()))
        why = "a namespace first seen already holds schedules" if fresh else "the limits in force changed"
        decision(log, "policy-reevaluate", f"{why}: re-evaluating its schedules", namespace=namespace,
                 schedules=len(siblings))
        for _, name in siblings:
            try:
                body = await self.ctx.kube.get_schedule(namespace, name)
                if not (body.get("metadata") or {}).get("deletionTimestamp"):
                    await self.repair(body, siblings)
            except (kopf.PermanentError, kopf.TemporaryError, ScheduleResourceNotFound):
                continue  # refused (now Stalled), or retried by the sweeper
            except Exception as exc:  # one schedule's failure must not stop the others
                decision(log, "policy-reevaluate-failed", f"re-evaluation failed: {exc}", logging.WARNING,
                         schedule=f"{namespace}/{name}")

    async def refresh_statuses(self) -> None:
        """Each policy's counts; a status patch only where they changed."""
        if self.write_status is None:
            return
        namespaces = {name: self.view.labels(name) for name in list(self.view.namespaces.keys())}
        now: datetime = self.ctx.clock()
        for policy in self.view.all_policies():
            governed = [ns for ns, labels in namespaces.items() if selecting([policy], labels)]
            schedules = sum(len(list(self.schedules.get(ns, ()))) for ns in governed)
            violating = len(list(self.refused.get(policy.name, ())))
            current = next(iter(self.statuses.get(policy.name, ())), {})
            patch = policy_status(policy, current, len(governed), schedules, violating, now)
            if patch is None:
                continue
            try:
                await self.write_status(policy.name, patch)
            except Exception as exc:
                decision(log, "policy-status-failed", f"status of SchedulePolicy {policy.name} not written: "
                         f"{exc}", logging.WARNING)
