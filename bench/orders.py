"""Orders benchmark: the app served as in production, driven over HTTP by 32 concurrent customers.

Run with ``make bench-orders`` (PostgreSQL; a throwaway database ``o2o_bench_orders``). Steps:

1. drop and re-create the database, migrate and seed the demo network (139 Shanghai stores,
   2 warehouses, a dark store, 3,000 SKUs with opening stock), lift every node's hourly pick
   capacity out of the way (the demo network picks about 5,000 orders an hour: at 300 orders a
   second it would refuse orders for capacity, which measures the network, not the software),
   then add ``CLIENTS`` bench members with tokens;
2. serve the app with gunicorn, ``BENCH_WORKERS`` (2) worker processes of ``BENCH_THREADS``
   threads each, ``DEBUG`` off, on a free local port;
3. **baseline**, same clients, same connections: ``GET /api/v1/auth/me`` (authentication and
   one query): the machine's ceiling for a trivial request through the same stack;
4. **orders**, for ``BENCH_SECONDS`` (60): each client places an order (a real basket from the
   Complete Journey transactions, mapped to the demo SKUs; the customer at a Shanghai POI drawn
   by its weight; the fulfilment choice drawn like the routing benchmark: 25 % pickup at the
   nearest store within 3 km, else any; 40 % any, 25 % fastest, 10 % cheapest) and opens its
   WeChat Pay payment in the same call (``pay_with``, as a mini-program checkout does), then
   pays it in the sandbox (the signed, encrypted notification is verified and applied like a
   real callback): two requests per order; then starts over;
5. afterwards: the inventory's own consistency check (stock equals the ledger sums, reserved
   within on hand) and oversold units counted from the ledger.

A client speaks HTTP/1.1 with keep-alive over asyncio streams (a few microseconds per request
on the client side), so the load generator takes little of the 2 cores the server needs.
Baskets that no node can fill answer 422/409 and count as ``rejected``, not as errors;
``errors`` counts 5xx, broken connections and any other unexpected answer.

The last line on stdout is one JSON object: ``orders_per_s``, ``p50_ms``/``p99_ms`` (placing
the order), ``order_flow_p50_ms``/``order_flow_p99_ms`` (place with payment + pay callback),
``errors``, ``rejected``, ``oversold_units``, ``inventory_problems``, the baseline's
``baseline_requests_per_s``/``baseline_p99_ms``, and the goal checks.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "o2o.config.settings")



def fresh_database() -> None:
    """Drop and re-create the benchmark database, so every run starts from the same stock."""
    import psycopg
    from psycopg import sql

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench-orders needs PostgreSQL (DATABASE_URL); run it with `make bench-orders`")
    info = psycopg.conninfo.conninfo_to_dict(url)
    name = info.pop("dbname")
    if not name.startswith("o2o_bench"):
        raise SystemExit(f"refusing to drop database {name!r}: not a benchmark database")
    with psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


if __name__ == "__main__":
    fresh_database()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from o2o.accounts.models import ApiToken, Member  # noqa: E402
from o2o.catalog.models import Sku  # noqa: E402
from o2o.core.geo import LatLng, haversine_m  # noqa: E402
from o2o.demo.bench_data import load_baskets, load_catalog, load_pois  # noqa: E402
from o2o.inventory import checks  # noqa: E402
from o2o.inventory.models import Stock  # noqa: E402
from o2o.stores.models import Location, LocationKind  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_CLIENTS", 32))
SECONDS = float(os.environ.get("BENCH_SECONDS", 60))
BASELINE_SECONDS = float(os.environ.get("BENCH_BASELINE_SECONDS", 10))
WORKERS = int(os.environ.get("BENCH_WORKERS", 2))
THREADS = int(os.environ.get("BENCH_THREADS", 4))
SEED = int(os.environ.get("BENCH_SEED", 7))
PICKUP_RADIUS_M = 3000
BENCH_PICK_CAPACITY = 1_000_000
GOALS = {"orders_per_s": 300, "p99_ms": 250}
RUN = uuid.uuid4().hex[:8]


def log(msg: str) -> None:
    print(f"[bench-orders] {msg}", file=sys.stderr, flush=True)


# --- set-up -------------------------------------------------------------------------------

def prepare() -> dict:
    call_command("migrate", verbosity=0)
    call_command("seed-demo")
    # The demo network picks about 5,000 orders an hour; the benchmark measures the software at
    # hundreds of orders a second, so every node's hourly pick capacity is lifted out of the way.
    Location.objects.update(pick_capacity_per_hour=BENCH_PICK_CAPACITY)
    tokens = []
    for i in range(CLIENTS):
        member, _ = Member.objects.get_or_create(display_name=f"bench-{i:02d}")
        raw = f"bench-orders-{i:02d}"
        if not ApiToken.objects.filter(member=member, label="bench").exists():
            ApiToken.issue(member=member, label="bench", raw=raw)
        tokens.append(raw)
    sku_by_code = dict(Sku.objects.filter(code__startswith="CJ").values_list("code", "pk"))
    catalog = load_catalog()
    baskets = []
    for b in load_baskets(catalog, rows=200_000):
        lines = [(sku_by_code[f"CJ{pid}"], qty) for pid, qty in b.lines if f"CJ{pid}" in sku_by_code]
        if lines:
            baskets.append(lines[:20])
    pois = load_pois()
    stores = [(pk, LatLng(lat, lng)) for pk, lat, lng in Location.objects.filter(
        kind=LocationKind.STORE, active=True, can_pickup=True).values_list("pk", "lat", "lng")]
    return {"tokens": tokens, "baskets": baskets, "pois": pois, "stores": stores}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(port: int) -> subprocess.Popen:
    env = {**os.environ, "O2O_DEBUG": "0", "O2O_LOG_LEVEL": "WARNING"}
    cmd = [str(ROOT / ".venv" / "bin" / "gunicorn"), "o2o.config.wsgi:application", "--bind", f"127.0.0.1:{port}",
           "--workers", str(WORKERS), "--threads", str(THREADS), "--worker-class", "gthread",
           "--keep-alive", "30", "--backlog", "256", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, cwd=str(ROOT))  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


# --- a minimal HTTP/1.1 keep-alive client -------------------------------------------------

class Conn:
    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: dict | None = None,
                      key: str | None = None) -> tuple[int, dict]:
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            data = json.dumps(body).encode() if body is not None else b""
            head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.token}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n")
            if key:
                head += f"Idempotency-Key: {key}\r\n"
            try:
                self.writer.write(head.encode() + b"\r\n" + data)
                await self.writer.drain()
                status_line = await self.reader.readline()
                if not status_line:
                    raise ConnectionError("closed")
                status = int(status_line.split()[1])
                length, close = 0, False
                while True:
                    line = await self.reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                    elif name.lower() == "connection" and value.strip().lower() == "close":
                        close = True
                payload = await self.reader.readexactly(length) if length else b""
                if close:
                    self.close()
                return status, (json.loads(payload) if payload[:1] in (b"{", b"[") else {})
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                self.close()
                if attempt == 2 or key is None and method != "GET":
                    raise
        raise ConnectionError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


# --- the load -----------------------------------------------------------------------------

class Tally:
    def __init__(self) -> None:
        self.done = 0
        self.rejected = 0
        self.errors = 0
        self.place_ms: list[float] = []
        self.flow_ms: list[float] = []
        self.error_samples: list[str] = []

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what[:300])


def customer(rng: random.Random, data: dict, weights: list[int]) -> dict:
    i = bisect.bisect_left(weights, rng.random() * weights[-1])
    point = data["pois"][min(i, len(data["pois"]) - 1)][0]
    lat, lng = point.lat + rng.uniform(-0.002, 0.002), point.lng + rng.uniform(-0.002, 0.002)
    basket = rng.choice(data["baskets"])
    roll = rng.random()
    choice, pickup = "any", None
    if roll < 0.25:
        near = min(data["stores"], key=lambda s: haversine_m(LatLng(lat, lng), s[1]))
        if haversine_m(LatLng(lat, lng), near[1]) <= PICKUP_RADIUS_M:
            choice, pickup = "pickup", near[0]
    elif roll < 0.65:
        choice = "any"
    elif roll < 0.90:
        choice = "fastest"
    else:
        choice = "cheapest"
    body = {"lines": [{"sku_id": s, "qty": q} for s, q in basket], "channel": rng.choice(
        ["mini_program", "app", "h5", "douyin"]), "choice": choice, "lat": lat, "lng": lng,
        "address": "上海市", "contact_name": "顾客", "contact_phone": "13800000000", "utm_source": "bench",
        "pay_with": "wechat", "payer_id": f"bench-openid-{rng.randrange(10**6)}"}
    if pickup is not None:
        body["pickup_location_id"] = pickup
    return body


async def order_loop(n: int, conn: Conn, data: dict, weights: list[int], stop: float, tally: Tally) -> None:
    rng = random.Random(SEED * 1000 + n)
    seq = 0
    while time.monotonic() < stop:
        seq += 1
        body = customer(rng, data, weights)
        started = time.perf_counter()
        try:
            status, order = await conn.request("POST", "/api/v1/orders", body, key=f"{RUN}-{n}-{seq}")
            placed = time.perf_counter()
            if status in (409, 422) and order.get("code") in ("cannot_fill", "insufficient_stock"):
                tally.rejected += 1
                continue
            if status != 201:
                tally.error(f"place {status} {order}")
                continue
            tally.place_ms.append((placed - started) * 1000)
            pay = order.get("payment") or {}
            if not pay.get("out_trade_no"):
                tally.error(f"no payment opened: {order}")
                continue
            status, paid = await conn.request("POST", f"/api/v1/payments/sandbox/{pay['out_trade_no']}/pay", {},
                                              key=f"{RUN}-{n}-{seq}-cb")
            if status != 200 or paid.get("order_status") not in ("allocated", "paid"):
                tally.error(f"pay {status} {paid}")
                continue
            tally.flow_ms.append((time.perf_counter() - started) * 1000)
            tally.done += 1
        except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            tally.error(f"{type(exc).__name__}: {exc}")


async def baseline_loop(conn: Conn, stop: float, times: list[float], errors: list[int]) -> None:
    while time.monotonic() < stop:
        started = time.perf_counter()
        try:
            status, _ = await conn.request("GET", "/api/v1/auth/me")
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            errors[0] += 1
            continue
        if status != 200:
            errors[0] += 1
            continue
        times.append((time.perf_counter() - started) * 1000)


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return round(s[min(len(s) - 1, int(q * len(s)))], 1)


async def drive(port: int, data: dict) -> dict:
    conns = [Conn(port, t) for t in data["tokens"]]
    weights = list(accumulate(w for _, w in data["pois"]))
    times: list[float] = []
    errors = [0]
    stop = time.monotonic() + BASELINE_SECONDS
    await asyncio.gather(*(baseline_loop(c, stop, times, errors) for c in conns))
    baseline = {"baseline_requests_per_s": round(len(times) / BASELINE_SECONDS, 1),
                "baseline_p50_ms": pct(times, 0.5), "baseline_p99_ms": pct(times, 0.99),
                "baseline_errors": errors[0]}
    log(f"baseline {baseline}")
    tally = Tally()
    started = time.monotonic()
    stop = started + SECONDS
    await asyncio.gather(*(order_loop(i, c, data, weights, stop, tally) for i, c in enumerate(conns)))
    elapsed = time.monotonic() - started
    for c in conns:
        c.close()
    return {**baseline, "seconds": round(elapsed, 1), "orders": tally.done,
            "orders_per_s": round(tally.done / elapsed, 1), "p50_ms": pct(tally.place_ms, 0.5),
            "p99_ms": pct(tally.place_ms, 0.99), "order_flow_p50_ms": pct(tally.flow_ms, 0.5),
            "order_flow_p99_ms": pct(tally.flow_ms, 0.99), "errors": tally.errors, "rejected": tally.rejected,
            "error_samples": tally.error_samples}


def oversold_units() -> int:
    """Units promised beyond what is on hand, or below zero: from the stock rows the ledger checks."""
    units = 0
    for on_hand, reserved in Stock.objects.values_list("on_hand", "reserved"):
        units += max(0, -on_hand) + max(0, reserved - max(0, on_hand))
    return units


def main() -> None:
    log("preparing (migrate, seed the demo network, bench members, baskets)")
    data = prepare()
    log(f"{len(data['baskets'])} baskets, {len(data['pois'])} POIs, {len(data['stores'])} pickup stores")
    port = free_port()
    server = serve(port)
    log(f"gunicorn on 127.0.0.1:{port}: {WORKERS} workers x {THREADS} threads; {CLIENTS} clients")
    try:
        result = asyncio.run(drive(port, data))
    finally:
        server.terminate()
        server.wait(timeout=30)
    problems = checks.run()
    result.update(oversold_units=oversold_units(), inventory_problems=len(problems), clients=CLIENTS,
                  workers=WORKERS, threads=THREADS)
    result["goals"] = {"orders_per_s": result["orders_per_s"] >= GOALS["orders_per_s"],
                       "p99_ms": 0 < result["p99_ms"] <= GOALS["p99_ms"], "errors": result["errors"] == 0,
                       "oversold_units": result["oversold_units"] == 0 and not problems}
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
