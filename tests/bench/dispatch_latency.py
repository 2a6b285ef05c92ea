#!/usr/bin/env python3
"""How soon a claimed team hears of its case (scripts/bench dispatch): one team whose dispatches
are POSTed to a gateway in this process, then COUNT incidents posted one at a time at irregular
intervals (so that they do not fall into step with any timer of the router's), each timed from
the moment its POST /v1/incidents is sent until the gateway has read the dispatch's body. Each
case is resolved once its dispatch has arrived, so that the team is free for the next; at the end
the team is made unavailable, so that later incidents never claim it.

  dispatch_latency.py --base URL --out FILE [--count N]
      (admin token in ESS_ADMIN_TOKEN, operator token in ESS_OPERATOR_TOKEN)

Writes {"count", "answer_p50_ms", "dispatch_p50_ms", "dispatch_p90_ms", "dispatch_p99_ms",
"dispatch_max_ms", "missing"} to FILE: missing counts the dispatches that had not arrived 5 s
after their incident was answered."""
import argparse
import http.client
import http.server
import json
import os
import random
import sys
import threading
import time
import urllib.parse

TEAM_ID = "bench-dispatch"
PLACE = (13.7554, 100.4926)  # Phra Nakhon, Bangkok
WAIT_S = 5.0


class Gateway:
    """A team gateway on 127.0.0.1: the monotonic time each case's first dispatch was read."""

    def __init__(self):
        self.arrived = {}
        self.cv = threading.Condition()
        gateway = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                at = time.monotonic()
                try:
                    case_id = json.loads(body).get("case_id")
                except ValueError:
                    case_id = None
                with gateway.cv:
                    if case_id and case_id not in gateway.arrived:
                        gateway.arrived[case_id] = at
                    gateway.cv.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/%s" % (self.server.server_address[1], TEAM_ID)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, case_id, timeout):
        """When case_id's dispatch arrived, or None after timeout seconds."""
        with self.cv:
            self.cv.wait_for(lambda: case_id in self.arrived, timeout)
            return self.arrived.get(case_id)


def call(conn, method, path, token, body):
    conn.request(method, path, body=json.dumps(body, ensure_ascii=False).encode(),
                 headers={"Authorization": "Bearer " + token,
                          "Content-Type": "application/json; charset=utf-8"})
    resp = conn.getresponse()
    answer = resp.read().decode("utf-8", "replace")
    if resp.status not in (200, 201):
        sys.exit(f"dispatch_latency.py: {method} {path} answered {resp.status}: {answer[:300]}")
    return json.loads(answer)


def percentile(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(round(p / 100 * (len(sorted_values) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=100)
    args = ap.parse_args()
    admin, operator = os.environ.get("ESS_ADMIN_TOKEN"), os.environ.get("ESS_OPERATOR_TOKEN")
    if not admin or not operator:
        sys.exit("dispatch_latency.py: ESS_ADMIN_TOKEN and ESS_OPERATOR_TOKEN must be set")
    url = urllib.parse.urlsplit(args.base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    gateway = Gateway()
    team = {"name": "MDT dispatch bench",
            "skills": ["police", "social_worker", "nurse", "child_protection"],
            "lat": PLACE[0], "lon": PLACE[1], "capacity": 1, "available": True,
            "notify": {"webhook": gateway.url}}
    call(conn, "PUT", "/v1/teams/" + TEAM_ID, admin, team)
    rng = random.Random(7)
    answers, dispatches, missing = [], [], 0
    for i in range(args.count):
        time.sleep(rng.uniform(0.01, 0.51))
        sent = time.monotonic()
        case = call(conn, "POST", "/v1/incidents", operator, {
            "call_id": f"bench-dispatch-{os.getpid()}-{i}", "category": "detention",
            "description": "ผู้หญิงถูกขังไว้ในห้องเช่า", "operator_id": "op-bench",
            "location": {"lat": PLACE[0] + 0.001, "lon": PLACE[1], "address": "เขตพระนคร กรุงเทพฯ"},
            "reporter": {"name": "Bench", "phone": "0800000000"}})
        answers.append((time.monotonic() - sent) * 1000)
        if (case.get("team") or {}).get("id") != TEAM_ID:
            sys.exit(f"dispatch_latency.py: incident {i} was not assigned to {TEAM_ID}: {case}")
        arrived = gateway.wait(case["case_id"], WAIT_S)
        if arrived is None:
            missing += 1
        else:
            dispatches.append((arrived - sent) * 1000)
        call(conn, "POST", f"/v1/cases/{case['case_id']}/status", operator,
             {"status": "resolved", "note": "bench"})
    # the team leaves the field: scripts/bench's later runs must not claim it
    call(conn, "PUT", "/v1/teams/" + TEAM_ID, admin, dict(team, available=False))
    gateway.server.shutdown()
    if not dispatches:
        sys.exit(f"dispatch_latency.py: none of {args.count} dispatches arrived")
    answers.sort()
    dispatches.sort()
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"count": args.count, "answer_p50_ms": percentile(answers, 50),
                   "dispatch_p50_ms": percentile(dispatches, 50),
                   "dispatch_p90_ms": percentile(dispatches, 90),
                   "dispatch_p99_ms": percentile(dispatches, 99),
                   "dispatch_max_ms": dispatches[-1], "missing": missing}, f)


if __name__ == "__main__":
    main()
