#!/usr/bin/env python3
"""Data for scripts/bench: teams spread over Thailand the way people are, loaded through the
router's own API (PUT /v1/teams/{id}, keep-alive connections in parallel), incident locations
drawn from the same spread, and a probe incident that checks the router accepts the bench's body.

  bench_data.py teams  --base URL --count N --points FILE   (admin token in ESS_ADMIN_TOKEN)
      [--tokens FILE] [--webhook URL]   (scripts/soak: the teams' tokens, and their dispatches
      POSTed to URL/<team_id>)
  bench_data.py probe  --base URL                            (operator token in ESS_OPERATOR_TOKEN)
  bench_data.py resolve --base URL --cases FILE              (operator token in ESS_OPERATOR_TOKEN)
      resolves the assigned cases listed in FILE ("tracking_code case_id status" lines), so that
      their teams' capacity comes free again; with --moved-ok, a case that has moved on meanwhile
      (its team's acknowledgment deadline passed: 409 invalid_transition) is counted, not an error
  bench_data.py memory --redis-port PORT --codes FILE [--prefix ess:] [--sample 200]
      what each key of a case costs in Redis (MEMORY USAGE ... SAMPLES 0), the mean over a sample
      of the cases listed in FILE, as JSON
  bench_data.py shared --redis-port PORT [--prefix ess:]
      MEMORY USAGE of every key that is not one case's (or team's, caller's) own, as JSON
"""
import argparse
import http.client
import socket
import json
import math
import os
import random
import sys
import threading
import time
import urllib.parse

# Greater Bangkok: district offices of Bangkok and the five neighbouring provinces' main towns,
# weighted by population (millions, rounded); a few thousand teams are drawn from these.
GREATER_BANGKOK = [
    # Bangkok's ~5.5 M spread over twenty districts.
    ("Phra Nakhon", 13.7563, 100.5018, 0.275), ("Bang Rak", 13.7300, 100.5240, 0.275),
    ("Pathum Wan", 13.7440, 100.5230, 0.275), ("Chatuchak", 13.8283, 100.5597, 0.275),
    ("Bang Kapi", 13.7655, 100.6473, 0.275), ("Lat Krabang", 13.7225, 100.7593, 0.275),
    ("Thon Buri", 13.7246, 100.4862, 0.275), ("Bang Khen", 13.8730, 100.5960, 0.275),
    ("Nong Chok", 13.8556, 100.8627, 0.275), ("Bang Khun Thian", 13.6600, 100.4350, 0.275),
    ("Min Buri", 13.8139, 100.7481, 0.275), ("Bang Na", 13.6681, 100.6045, 0.275),
    ("Huai Khwang", 13.7767, 100.5794, 0.275), ("Bang Khae", 13.7133, 100.4017, 0.275),
    ("Don Mueang", 13.9133, 100.5894, 0.275), ("Khlong Toei", 13.7083, 100.5833, 0.275),
    ("Sai Mai", 13.9200, 100.6450, 0.275), ("Taling Chan", 13.7770, 100.4560, 0.275),
    ("Bang Sue", 13.8094, 100.5372, 0.275), ("Prawet", 13.7167, 100.6947, 0.275),
    # The vicinity provinces.
    ("Nonthaburi", 13.8621, 100.5144, 0.80), ("Pak Kret", 13.9130, 100.4980, 0.49),
    ("Pathum Thani", 14.0208, 100.5250, 0.40), ("Rangsit", 13.9850, 100.6160, 0.79),
    ("Samut Prakan", 13.5991, 100.5998, 0.80), ("Bang Phli", 13.6060, 100.7060, 0.56),
    ("Samut Sakhon", 13.5475, 100.2744, 0.59), ("Nakhon Pathom", 13.8199, 100.0621, 0.92),
]

# The other 71 provinces: capital (lat, lon) and population in thousands (approximate).
PROVINCES = [
    ("Chiang Mai", 18.7883, 98.9853, 1790), ("Chiang Rai", 19.9105, 99.8406, 1300),
    ("Lampang", 18.2888, 99.4908, 740), ("Lamphun", 18.5745, 99.0087, 405),
    ("Mae Hong Son", 19.3020, 97.9654, 285), ("Nan", 18.7756, 100.7730, 480),
    ("Phayao", 19.1664, 99.9019, 470), ("Phrae", 18.1446, 100.1403, 440),
    ("Uttaradit", 17.6201, 100.0993, 455), ("Tak", 16.8840, 99.1258, 680),
    ("Sukhothai", 17.0078, 99.8230, 595), ("Phitsanulok", 16.8211, 100.2659, 865),
    ("Phichit", 16.4419, 100.3488, 535), ("Phetchabun", 16.4190, 101.1606, 995),
    ("Kamphaeng Phet", 16.4827, 99.5226, 730), ("Nakhon Sawan", 15.7047, 100.1372, 1060),
    ("Uthai Thani", 15.3835, 100.0246, 330),
    ("Nakhon Ratchasima", 14.9799, 102.0978, 2630), ("Khon Kaen", 16.4322, 102.8236, 1800),
    ("Ubon Ratchathani", 15.2287, 104.8564, 1880), ("Udon Thani", 17.4138, 102.7872, 1590),
    ("Buriram", 14.9930, 103.1029, 1595), ("Surin", 14.8818, 103.4936, 1400),
    ("Sisaket", 15.1186, 104.3220, 1470), ("Roi Et", 16.0538, 103.6520, 1310),
    ("Chaiyaphum", 15.8068, 102.0316, 1140), ("Sakon Nakhon", 17.1545, 104.1348, 1150),
    ("Kalasin", 16.4314, 103.5058, 985), ("Maha Sarakham", 16.1851, 103.3029, 960),
    ("Nakhon Phanom", 17.3920, 104.7695, 720), ("Loei", 17.4860, 101.7223, 645),
    ("Nong Khai", 17.8783, 102.7420, 525), ("Yasothon", 15.7926, 104.1453, 540),
    ("Mukdahan", 16.5425, 104.7237, 355), ("Amnat Charoen", 15.8657, 104.6258, 380),
    ("Nong Bua Lamphu", 17.2218, 102.4260, 515), ("Bueng Kan", 18.3609, 103.6464, 425),
    ("Phra Nakhon Si Ayutthaya", 14.3532, 100.5689, 820), ("Ang Thong", 14.5896, 100.4550, 280),
    ("Lopburi", 14.7995, 100.6534, 760), ("Sing Buri", 14.8936, 100.3967, 210),
    ("Chai Nat", 15.1851, 100.1251, 325), ("Saraburi", 14.5289, 100.9101, 645),
    ("Nakhon Nayok", 14.2069, 101.2130, 260), ("Suphan Buri", 14.4745, 100.1177, 850),
    ("Samut Songkhram", 13.4098, 100.0023, 190),
    ("Chonburi", 13.3611, 100.9847, 1590), ("Rayong", 12.6814, 101.2816, 750),
    ("Chanthaburi", 12.6113, 102.1039, 540), ("Trat", 12.2428, 102.5175, 230),
    ("Chachoengsao", 13.6904, 101.0779, 720), ("Prachinburi", 14.0509, 101.3717, 500),
    ("Sa Kaeo", 13.8240, 102.0646, 565),
    ("Kanchanaburi", 14.0228, 99.5328, 895), ("Ratchaburi", 13.5283, 99.8134, 870),
    ("Phetchaburi", 13.1119, 99.9398, 485), ("Prachuap Khiri Khan", 11.8126, 99.7957, 550),
    ("Chumphon", 10.4930, 99.1800, 510), ("Ranong", 9.9529, 98.6085, 195),
    ("Surat Thani", 9.1382, 99.3217, 1070), ("Phang Nga", 8.4501, 98.5255, 270),
    ("Phuket", 7.8804, 98.3923, 420), ("Krabi", 8.0863, 98.9063, 480),
    ("Nakhon Si Thammarat", 8.4304, 99.9631, 1550), ("Trang", 7.5563, 99.6114, 645),
    ("Phatthalung", 7.6167, 100.0740, 525), ("Satun", 6.6238, 100.0674, 325),
    ("Songkhla", 7.1898, 100.5954, 1440), ("Pattani", 6.8696, 101.2505, 730),
    ("Yala", 6.5400, 101.2800, 540), ("Narathiwat", 6.4255, 101.8253, 810),
]

# Team make-ups and their shares: every category of the default rule table (social_worker +
# police, or mental_health + police for mental_crisis) has suitable teams everywhere.
SKILL_MIXES = [
    (["social_worker", "police"], 40),
    (["social_worker", "police", "child_protection"], 15),
    (["mental_health", "police", "nurse"], 15),
    (["mental_health", "police", "social_worker"], 10),
    (["social_worker", "child_protection", "nurse"], 8),
    (["police"], 6),
    (["nurse", "mental_health"], 6),
]

BANGKOK_SHARE = 0.30  # of all teams: "a few thousand" of 10,000


def slug(name):
    return "".join(c if c.isalnum() else "-" for c in name.lower())


class Spread:
    """Draws places (name, lat, lon, in greater Bangkok): greater Bangkok with BANGKOK_SHARE, the provinces by population, each
    jittered around its anchor (sigma 2.5 km in Bangkok, 4 km elsewhere, clamped at 3 sigma)."""

    def __init__(self, rng):
        self.rng = rng
        self.bkk_w = [a[3] for a in GREATER_BANGKOK]
        self.prov_w = [p[3] for p in PROVINCES]

    def draw(self):
        if self.rng.random() < BANGKOK_SHARE:
            name, lat, lon, _ = self.rng.choices(GREATER_BANGKOK, self.bkk_w)[0]
            sigma, in_bkk = 2.5, True
        else:
            name, lat, lon, _ = self.rng.choices(PROVINCES, self.prov_w)[0]
            sigma, in_bkk = 4.0, False
        dn = max(-3 * sigma, min(3 * sigma, self.rng.gauss(0, sigma)))
        de = max(-3 * sigma, min(3 * sigma, self.rng.gauss(0, sigma)))
        lat += dn / 111.32
        lon += de / (111.32 * math.cos(math.radians(lat)))
        return name, round(lat, 5), round(lon, 5), in_bkk


def make_teams(count, rng):
    spread = Spread(rng)
    mixes = [m[0] for m in SKILL_MIXES]
    weights = [m[1] for m in SKILL_MIXES]
    seen = {}
    teams = []
    in_bkk = 0
    for _ in range(count):
        name, lat, lon, bkk = spread.draw()
        in_bkk += bkk
        n = seen[name] = seen.get(name, 0) + 1
        teams.append((f"{slug(name)}-{n:04d}", {
            "name": f"MDT {name} {n}",
            "skills": rng.choices(mixes, weights)[0],
            "lat": lat, "lon": lon,
            "capacity": rng.randint(1, 3),
            "available": True,
        }))
    return teams, in_bkk


def send_all(base, token, method, items, concurrency, answers=None):
    """Sends (path, body) items over `concurrency` keep-alive connections in parallel; returns
    (seconds, errors). Any status but 200 or 201 is an error. With answers (a list), each 2xx
    answer's JSON is appended to it."""
    url = urllib.parse.urlsplit(base)
    errors = []
    lock = threading.Lock()
    shards = [items[i::concurrency] for i in range(concurrency)]

    def worker(shard):
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        headers = {"Authorization": "Bearer " + token,
                   "Content-Type": "application/json; charset=utf-8"}
        for path, body in shard:
            data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                answer = resp.read()
                ok = resp.status in (200, 201)
                if ok and answers is not None:
                    with lock:
                        answers.append(json.loads(answer))
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
                ok, answer, resp = False, str(e).encode(), None
            if not ok:
                with lock:
                    errors.append(f"{method} {path}: {resp.status if resp else 'error'} {answer[:200]!r}")
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(s,)) for s in shards]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - started, errors


def cmd_teams(args):
    token = os.environ.get("ESS_ADMIN_TOKEN", "")
    if not token:
        sys.exit("bench_data.py teams: ESS_ADMIN_TOKEN is not set")
    rng = random.Random(args.seed)
    teams, in_bkk = make_teams(args.count, rng)
    slots = sum(t["capacity"] for _, t in teams)
    if args.webhook:  # each team's dispatches POSTed to WEBHOOK/<team_id>
        for tid, body in teams:
            body["notify"] = {"webhook": f"{args.webhook.rstrip('/')}/{tid}"}
    answers = []
    seconds, errors = send_all(args.base, token, "PUT",
                               [(f"/v1/teams/{tid}", body) for tid, body in teams], args.concurrency,
                               answers)
    if errors:
        print(f"bench_data.py: {len(errors)} of {len(teams)} PUTs failed, e.g.:", file=sys.stderr)
        for e in errors[:5]:
            print("  " + e, file=sys.stderr)
        sys.exit(1)
    if args.tokens:  # "team_id token lat lon" lines: what a load generator acting as the teams needs
        where = dict(teams)
        with open(args.tokens, "w", encoding="ascii") as f:
            for a in answers:
                t = where[a["team_id"]]
                f.write(f"{a['team_id']} {a['token']} {t['lat']} {t['lon']}\n")
    spread = Spread(random.Random(args.seed + 1))
    with open(args.points, "w", encoding="ascii") as f:
        for _ in range(args.npoints):
            _, lat, lon, _ = spread.draw()
            f.write(f"{lat} {lon}\n")
    print(json.dumps({"teams": len(teams), "greater_bangkok": in_bkk, "provinces": len(PROVINCES) + 1,
                      "slots": slots, "seconds": round(seconds, 2),
                      "puts_per_s": round(len(teams) / seconds)}))


def cmd_probe(args):
    token = os.environ.get("ESS_OPERATOR_TOKEN", "")
    url = urllib.parse.urlsplit(args.base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    body = {"call_id": f"bench-probe-{os.getpid()}-{time.time_ns()}", "category": "detention",
            "description": "ผู้หญิงถูกขังไว้ในห้องเช่า", "operator_id": "op-bench",
            "location": {"lat": 13.7554, "lon": 100.4926, "address": "เขตพระนคร กรุงเทพฯ"},
            "reporter": {"name": "Bench", "phone": "0800000000"}}
    conn.request("POST", "/v1/incidents", body=json.dumps(body, ensure_ascii=False).encode(),
                 headers={"Authorization": "Bearer " + token,
                          "Content-Type": "application/json; charset=utf-8"})
    resp = conn.getresponse()
    answer = resp.read().decode("utf-8", "replace")
    if resp.status != 201:
        sys.exit(f"probe: POST /v1/incidents answered {resp.status}: {answer[:400]}")
    print(answer)


def cmd_resolve(args):
    token = os.environ.get("ESS_OPERATOR_TOKEN", "")
    items = []
    with open(args.cases, encoding="ascii") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "assigned":
                items.append((f"/v1/cases/{parts[1]}/status", {"status": "resolved", "note": "bench"}))
    seconds, errors = send_all(args.base, token, "POST", items, args.concurrency)
    moved = [e for e in errors if args.moved_ok and " 409 " in e and "invalid_transition" in e]
    errors = [e for e in errors if e not in moved]
    if errors:
        print(f"bench_data.py: {len(errors)} of {len(items)} resolutions failed, e.g.:", file=sys.stderr)
        for e in errors[:5]:
            print("  " + e, file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"resolved": len(items) - len(moved), "moved_on": len(moved),
                      "seconds": round(seconds, 2)}))


def cmd_triage(args):
    """Cases waiting for triage (category other: queued, never dispatched), their ids written
    one a line: the bench's live-update phase closes them, one event each."""
    token = os.environ.get("ESS_OPERATOR_TOKEN", "")
    items = [("/v1/incidents", {"call_id": f"bench-triage-{os.getpid()}-{i}", "category": "other",
                                "description": "เพื่อนบ้านทะเลาะกันเสียงดัง", "operator_id": "op-bench",
                                "location": {"lat": 13.7554, "lon": 100.4926}})
             for i in range(args.count)]
    answers = []
    seconds, errors = send_all(args.base, token, "POST", items, args.concurrency, answers)
    if errors:
        print(f"bench_data.py: {len(errors)} of {len(items)} incidents failed, e.g.:", file=sys.stderr)
        for e in errors[:5]:
            print("  " + e, file=sys.stderr)
        sys.exit(1)
    with open(args.out, "w", encoding="ascii") as f:
        for a in answers:
            f.write(a["case_id"] + "\n")
    print(json.dumps({"cases": len(answers), "seconds": round(seconds, 2)}))


def redis_call(sock_file, sock, *args):
    """One command on a plain RESP connection; its reply (bulk strings as bytes)."""
    parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    sock.sendall(b"".join([b"*%d\r\n" % len(parts)] +
                          [b"$%d\r\n%s\r\n" % (len(a), a) for a in parts]))
    return redis_reply(sock_file)


def redis_reply(sock_file):
    line = sock_file.readline()
    kind, rest = line[:1], line[1:-2]
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        return None if int(rest) < 0 else sock_file.read(int(rest) + 2)[:-2]
    if kind == b"*":
        return None if int(rest) < 0 else [redis_reply(sock_file) for _ in range(int(rest))]
    return rest


def cmd_memory(args):
    """The mean MEMORY USAGE of each key of a case over a sample of the listed cases: its hash,
    its timeline, its public view (track:<code>), its call_id's key and its share of its caller's
    index (the index's usage over its cases)."""
    cases = []
    with open(args.codes, encoding="ascii") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                cases.append((parts[0], parts[1]))
    rng = random.Random(1300)
    sample = rng.sample(cases, min(args.sample, len(cases)))
    sock = socket.create_connection(("127.0.0.1", args.redis_port), timeout=10)
    sock_file = sock.makefile("rb")
    P = args.prefix
    totals, counts = {}, {}
    for code, case_id in sample:
        call_id, phone = redis_call(sock_file, sock, "HMGET", f"{P}case:{case_id}", "call_id",
                                    "reporter_phone_hash")
        keys = {"case": f"{P}case:{case_id}", "timeline": f"{P}case:{case_id}:timeline",
                "public view": f"{P}track:{code}"}
        if call_id:
            keys["call_id"] = f"{P}call:{call_id.decode()}"
        if phone:
            keys["caller index"] = f"{P}phone:{phone.decode()}"
        for kind, key in keys.items():
            used = redis_call(sock_file, sock, "MEMORY", "USAGE", key, "SAMPLES", "0")
            if used is None:
                continue
            if kind == "caller index":  # shared by the caller's cases: this case's share
                used /= max(1, redis_call(sock_file, sock, "ZCARD", key))
            totals[kind] = totals.get(kind, 0) + used
            counts[kind] = counts.get(kind, 0) + 1
    sock.close()
    print(json.dumps({"sampled": len(sample),
                      "bytes": {k: round(totals[k] / counts[k], 1) for k in totals}}))


# The keys of one case (or one caller, team, message): what cmd_memory measures, not shared.
PER_CASE_KEYS = ("case:", "track:", "call:", "phone:", "team:", "outbox:item:", "session:", "line:")


def cmd_shared(args):
    """MEMORY USAGE of every key that is not one case's own (the indexes, the case log, the
    counters), as JSON {key: bytes}: taken before and after a run, the growth of each."""
    sock = socket.create_connection(("127.0.0.1", args.redis_port), timeout=60)
    sock_file = sock.makefile("rb")
    P = args.prefix.encode()
    own = tuple(P + k.encode() for k in PER_CASE_KEYS)
    out, cursor = {}, b"0"
    while True:
        cursor, keys = redis_call(sock_file, sock, "SCAN", cursor, "COUNT", 10000)
        for key in keys:
            if key.startswith(P) and not key.startswith(own):
                out[key.decode()] = redis_call(sock_file, sock, "MEMORY", "USAGE", key, "SAMPLES", "0") or 0
        if cursor == b"0":
            break
    sock.close()
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("teams", help="load the teams and write incident locations")
    t.add_argument("--base", required=True, help="router base URL, e.g. http://127.0.0.1:8080")
    t.add_argument("--count", type=int, default=10000)
    t.add_argument("--seed", type=int, default=1300)
    t.add_argument("--concurrency", type=int, default=8)
    t.add_argument("--points", required=True, help="file to write incident locations to")
    t.add_argument("--npoints", type=int, default=20000)
    t.add_argument("--tokens", help='file to write "team_id token lat lon" lines to (the teams\' own tokens)')
    t.add_argument("--webhook", help="notify every team by a webhook: this URL, then /<team_id>")
    t.set_defaults(func=cmd_teams)
    pr = sub.add_parser("probe", help="POST one incident and print the answer")
    pr.add_argument("--base", required=True)
    pr.set_defaults(func=cmd_probe)
    rs = sub.add_parser("resolve", help="resolve the assigned cases listed in a file")
    rs.add_argument("--base", required=True)
    rs.add_argument("--cases", required=True)
    rs.add_argument("--concurrency", type=int, default=8)
    rs.add_argument("--moved-ok", action="store_true",
                    help="a case no longer assigned (409 invalid_transition) is not an error")
    rs.set_defaults(func=cmd_resolve)
    tr = sub.add_parser("triage", help="create cases waiting for triage, write their ids")
    tr.add_argument("--base", required=True)
    tr.add_argument("--count", type=int, default=500)
    tr.add_argument("--out", required=True)
    tr.add_argument("--concurrency", type=int, default=8)
    tr.set_defaults(func=cmd_triage)
    me = sub.add_parser("memory", help="what each key of a case costs in Redis")
    me.add_argument("--redis-port", type=int, required=True)
    me.add_argument("--codes", required=True, help='"tracking_code case_id status" lines')
    me.add_argument("--prefix", default="ess:")
    me.add_argument("--sample", type=int, default=200)
    me.set_defaults(func=cmd_memory)
    sh = sub.add_parser("shared", help="what each key shared by many cases costs in Redis")
    sh.add_argument("--redis-port", type=int, required=True)
    sh.add_argument("--prefix", default="ess:")
    sh.set_defaults(func=cmd_shared)
    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
