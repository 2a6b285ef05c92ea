#!/usr/bin/env python3
"""A partner agency reading its feed for scripts/bench: GET /v1/feed?count=1000&block_ms=1000 in
a loop on one keep-alive connection, each batch acknowledged (POST /v1/feed/ack) before the next
read, as the README's loop does. Runs until --end-file exists (the incidents run is over), then
until the agency has caught up (nothing left to read or acknowledge in its consumer group) or --drain-s
passed, then writes its figures as one JSON object to --out and exits.

  feed_reader.py --base URL --agency ID --redis-port PORT --end-file FILE --out FILE
      (the agency's token in ESS_AGENCY_TOKEN)

Figures: entries read and acknowledged, reads, the age of each entry when it reached the
agency (its stream id's time to its arrival: p50, p99, max), the group's lag (log entries not yet
delivered) and pending (delivered, not acknowledged) sampled every 0.25 s through redis-cli
(max, and at the end of the incidents run), and how long the catch-up took after it.
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse


def group_info(port, key, group):
    """(lag, pending) of the consumer group from XINFO GROUPS, or (None, None)."""
    try:
        out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), "XINFO", "GROUPS", key],
                             capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None, None
    # One line a value (a nil is an empty line): name <name> consumers N pending N
    # last-delivered-id ID entries-read N lag N, group after group.
    fields = [line.strip() for line in out.rstrip("\n").split("\n")]
    i = 0
    while i < len(fields):
        if fields[i] == "name" and i + 1 < len(fields) and fields[i + 1] == group:
            rec = {}
            j = i
            while j + 1 < len(fields) and (j == i or fields[j] != "name"):
                rec[fields[j]] = fields[j + 1]
                j += 2
            try:
                lag = int(rec["lag"]) if rec.get("lag", "") not in ("", "(nil)") else None
                return lag, int(rec.get("pending", "0"))
            except ValueError:
                return None, None
        i += 1
    return None, None


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", required=True)
    p.add_argument("--agency", required=True)
    p.add_argument("--redis-port", type=int, required=True)
    p.add_argument("--key-prefix", default="ess:")
    p.add_argument("--end-file", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--drain-s", type=float, default=60)
    args = p.parse_args()
    token = os.environ.get("ESS_AGENCY_TOKEN", "")
    if not token:
        sys.exit("feed_reader.py: ESS_AGENCY_TOKEN is not set")

    state = {"ended_at": None}

    def run_ended():
        if state["ended_at"] is None and os.path.exists(args.end_file):
            state["ended_at"] = time.monotonic()
        return state["ended_at"] is not None

    log_key, group = args.key_prefix + "log", "feed:" + args.agency
    samples = []  # (monotonic, lag, pending)
    sampling = threading.Event()

    def sampler():
        while not sampling.is_set():
            run_ended()
            lag, pending = group_info(args.redis_port, log_key, group)
            samples.append((time.monotonic(), lag, pending))
            sampling.wait(0.25)

    sampler_thread = threading.Thread(target=sampler, daemon=True)
    sampler_thread.start()

    url = urllib.parse.urlsplit(args.base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=40)
    headers = {"Authorization": "Bearer " + token}
    ack_headers = dict(headers, **{"Content-Type": "application/json"})
    entries = reads = acked = errors = 0
    first_error = None
    ages_ms = []
    started = time.monotonic()
    caught_up_at = None
    while True:
        if run_ended() and time.monotonic() - state["ended_at"] > args.drain_s:
            break
        try:
            conn.request("GET", "/v1/feed?count=1000&block_ms=1000", headers=headers)
            resp = conn.getresponse()
            body = resp.read()
        except (OSError, http.client.HTTPException) as e:
            errors += 1
            first_error = first_error or f"GET /v1/feed: {e!r}"
            conn.close()
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=40)
            time.sleep(0.1)
            continue
        reads += 1
        if resp.status != 200:
            errors += 1
            first_error = first_error or f"GET /v1/feed: {resp.status} {body[:200]!r}"
            time.sleep(0.1)
            continue
        arrived_ms = time.time() * 1000
        batch = json.loads(body)["entries"]
        for e in batch:
            ages_ms.append(arrived_ms - int(e["id"].split("-")[0]))
        entries += len(batch)
        if batch:
            data = json.dumps({"ids": [e["id"] for e in batch]}).encode()
            try:
                conn.request("POST", "/v1/feed/ack", body=data, headers=ack_headers)
                resp = conn.getresponse()
                answer = resp.read()
                if resp.status == 200:
                    acked += json.loads(answer)["acknowledged"]
                else:
                    errors += 1
                    first_error = first_error or f"POST /v1/feed/ack: {resp.status} {answer[:200]!r}"
            except (OSError, http.client.HTTPException) as e:
                errors += 1
                first_error = first_error or f"POST /v1/feed/ack: {e!r}"
                conn.close()
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=40)
        if state["ended_at"] is not None and not batch:
            lag, pending = group_info(args.redis_port, log_key, group)
            if lag == 0 and pending == 0:
                caught_up_at = time.monotonic()
                break
    sampling.set()
    sampler_thread.join()
    conn.close()

    ended = state["ended_at"]
    during = [s for s in samples if ended is None or s[0] <= ended]
    lags = [s[1] for s in during if s[1] is not None]
    pendings = [s[2] for s in during if s[2] is not None]
    at_end = min(samples, key=lambda s: abs(s[0] - ended)) if samples and ended else (None, None, None)
    ages_ms.sort()
    out = {
        "entries": entries, "acknowledged": acked, "reads": reads, "errors": errors,
        "first_error": first_error,
        "seconds": round(time.monotonic() - started, 2),
        "cpu_s": round(sum(os.times()[:2]), 2),  # its own, not the redis-cli samplers'
        "age_p50_ms": percentile(ages_ms, 0.50), "age_p99_ms": percentile(ages_ms, 0.99),
        "age_max_ms": ages_ms[-1] if ages_ms else None,
        "lag_max": max(lags) if lags else None, "pending_max": max(pendings) if pendings else None,
        "lag_at_end": at_end[1], "pending_at_end": at_end[2],
        "samples": len(during),
        "caught_up": caught_up_at is not None,
        "catch_up_s": round(caught_up_at - ended, 2) if caught_up_at and ended else None,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
