"""How fast the admission webhooks answer under 20 concurrent applies (goal: p99 under 50 ms).

``python -m bench.webhook_latency [--requests 400] [--concurrency 20] [--json FILE]``

The real stack (Temporal dev server, kube-apiserver + etcd, the CRD) and the operator as its
own process, serving the webhooks (creator, finalizer, validation) over TLS and reconciling
what gets created. Two views:

* through the apiserver: ``--concurrency`` threads create Schedules with the Kubernetes
  client (what ``kubectl apply`` sends), one in four invalid (refused); the apiserver's own
  histogram ``apiserver_admission_webhook_admission_duration_seconds`` says how long it
  waited for each webhook (its buckets are coarse: 5, 25, 100 ms ...), and the clients'
  end-to-end create latency is reported beside it;
* direct: ``--concurrency`` connections post the same AdmissionReviews straight to
  ``/validate`` (TLS, kept-alive connections, as the apiserver does): the webhook's answer
  time to the millisecond, once with the operator idle and once right after the creates
  above, while the operator is still reconciling them (the same process, so the same CPU).

Crons vary over ``--distinct-crons`` expressions (default 24, as a team's schedules repeat a
few times of day; the rule checks cache per expression and zone). ``--distinct-crons`` equal
to ``--requests`` makes every cron new: the worst case, where each review computes the
minimum-gap rule from scratch.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import ssl
import statistics
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from kubernetes import client

from bench.stack import BenchStack, cpu_seconds, prometheus_sums
from sundial.devstack.processes import free_port, wait_until
from sundial.devstack.webhook_certs import local_webhooks, webhooks_listening

METRIC = "apiserver_admission_webhook_admission_duration_seconds"


DISTINCT = [24]  # set from --distinct-crons


def spec(n: int) -> dict[str, Any]:
    valid, k = n % 4 != 3, (n * 7) % DISTINCT[0]
    return {"schedule": f"{k % 60} {(k // 60) % 24} * * *" if valid else "*/5 * * * *",
            "timeZone": "Europe/Berlin", "task": {"query": f"bench {n}"}, "maxBudgetPerRunUSD": 1.0}


def body(namespace: str, n: int) -> dict[str, Any]:
    return {"apiVersion": "sundial.dev/v1alpha1", "kind": "Schedule",
            "metadata": {"name": f"w{n:05d}", "namespace": namespace}, "spec": spec(n)}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50_ms": 1000 * statistics.median(values), "p99_ms": 1000 * percentile(values, 0.99),
            "max_ms": 1000 * max(values)}


def apiserver_metrics(stack: BenchStack) -> str:
    assert stack.plane is not None
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    request = urllib.request.Request(f"{stack.plane.server}/metrics",
                                     headers={"Authorization": f"Bearer {stack.plane.token}"})
    with urllib.request.urlopen(request, timeout=10, context=context) as resp:
        return str(resp.read().decode())


def histogram_p99(before: str, after: str, webhook: str) -> dict[str, Any]:
    """The smallest bucket bound holding 99% of the apiserver's calls to ``webhook`` between two scrapes."""
    def buckets(text: str) -> dict[float, float]:
        return {float(le): n for le, n in prometheus_sums(text, f"{METRIC}_bucket", ("le",), {"name": webhook}).items()}
    old, new = buckets(before), buckets(after)
    delta = {le: n - old.get(le, 0.0) for le, n in new.items()}
    count = delta.get(float("inf"), 0.0)
    bound = next((le for le in sorted(delta) if delta[le] >= 0.99 * count), float("inf"))
    return {"calls": count, "p99_at_most_ms": 1000 * bound,
            "buckets_ms": {f"{1000 * le:g}": n for le, n in sorted(delta.items())}}


def through_apiserver(api: client.ApiClient, requests: int, concurrency: int) -> dict[str, Any]:
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    namespaces = [f"wh-{uuid.uuid4().hex[:6]}" for _ in range(-(-requests // 40))]
    for name in namespaces:
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))

    def create(n: int) -> tuple[bool, float]:
        started = time.perf_counter()
        try:
            custom.create_namespaced_custom_object("sundial.dev", "v1alpha1", namespaces[n // 40], "schedules",
                                                   body(namespaces[n // 40], n))
            admitted = True
        except client.ApiException as exc:
            if exc.status not in (403, 422):
                raise
            admitted = False
        return admitted, time.perf_counter() - started

    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(create, range(requests)))
    return {"admitted": summary([s for ok, s in results if ok]), "refused": summary([s for ok, s in results if not ok])}


async def direct(port: int, ca_file: Path, requests: int, concurrency: int, offset: int = 0) -> dict[str, Any]:
    context = ssl.create_default_context(cafile=str(ca_file))
    reviews = [{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                "request": {"uid": str(n), "operation": "CREATE", "namespace": "direct", "name": f"w{n:05d}",
                            "userInfo": {"username": "bench"}, "object": body("direct", n)}}
               for n in range(offset, offset + requests)]
    times: list[float] = []
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for review in reviews:
        queue.put_nowait(review)
    connector = aiohttp.TCPConnector(ssl=context, limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker() -> None:
            while not queue.empty():
                review = queue.get_nowait()
                started = time.perf_counter()
                async with session.post(f"https://127.0.0.1:{port}/validate?timeout=5s", json=review) as resp:
                    answer = await resp.json()
                times.append(time.perf_counter() - started)
                assert answer["response"]["uid"] == review["request"]["uid"]

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return summary(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webhook_latency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400, help="creates (and direct reviews) per view")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--distinct-crons", type=int, default=24, help="how many different cron expressions")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args(argv)
    DISTINCT[0] = args.distinct_crons
    stack = BenchStack()
    try:
        stack.start()
        assert stack.plane is not None
        kubectl = [str(stack.plane.binaries.kubectl), "--kubeconfig", str(stack.plane.kubeconfig)]
        port = free_port()
        env = local_webhooks(kubectl, stack.workdir / "webhook", port)
        operator = stack.operator("webhook", SCHEDULE_MAX_PER_USER="1000000", **env)
        operator.start()
        wait_until("webhooks", lambda: webhooks_listening(port), 60, interval=0.2)
        through_apiserver(stack.kube_api(8), 40, 8)  # warm-up: connections, caches, the CRD's first objects
        wait_until("the warm-up reconciled", lambda: operator.metrics().get(
            'sundial_reconciles_total{result="ok"}', 0) >= 30, 120, interval=0.5)
        cpu_before = cpu_seconds(operator.pid)
        figures: dict[str, Any] = {"direct_operator_idle": asyncio.run(direct(
            port, Path(env["SUNDIAL_WEBHOOK_CERT_FILE"]).parent / "ca.crt", args.requests, args.concurrency))}
        # the operator's CPU per review (TLS, HTTP, JSON, the checks): what a core it had to itself would spend
        figures["direct_operator_idle"]["cpu_ms_per_review"] = (
            1000 * (cpu_seconds(operator.pid) - cpu_before) / args.requests)
        before = apiserver_metrics(stack)
        figures["through_apiserver"] = through_apiserver(stack.kube_api(args.concurrency), args.requests,
                                                         args.concurrency)
        after = apiserver_metrics(stack)
        figures["apiserver_wait"] = {name: histogram_p99(before, after, name) for name in
                                     ("mutate.schedules.sundial.dev", "finalizer.schedules.sundial.dev",
                                      "validate.schedules.sundial.dev")}
        figures["direct_operator_reconciling"] = asyncio.run(direct(  # the creates above are still being reconciled
            port, Path(env["SUNDIAL_WEBHOOK_CERT_FILE"]).parent / "ca.crt", args.requests, args.concurrency,
            offset=args.requests))
        figures["distinct_crons"] = args.distinct_crons
        figures["machine"] = {"date": datetime.now(UTC).isoformat(), "cpus": os.cpu_count(),
                              "python": platform.python_version(), "load": os.getloadavg()}
        operator.stop()
    finally:
        stack.stop()
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
