#!/usr/bin/env python3
"""The measurements and the verdict of scripts/soak.

  soak_report.py sample --pid-file F --redis-port P --interval S --out FILE [--prefix ess:]
      every S seconds until SIGTERM, one JSON line: the router's resident memory (VmRSS of
      /proc/PID/status), open descriptors (/proc/PID/fd) and CPU time; Redis' used_memory, keys
      and forks (AOF rewrites); the cases stored (ZCARD of cases:created: every case whose public
      view is kept), the operators' queue, the acknowledgment deadlines, the outbox, the case log
  soak_report.py families --redis-port P [--prefix ess:] [--sample N]
      every key of the prefix by family (its name with the ids left out: case:*:timeline,
      line:event:*...): how many, and their MEMORY USAGE (the mean of a sample of N times the
      count; exact for a family of fewer keys), as JSON, with used_memory
  soak_report.py report TMP WARMUP_S --line-users N
      a row per interval of soak_load's output (TMP/soak.jsonl) with the sample taken nearest its
      end (TMP/samples.jsonl), and the verdict, also from TMP/saturation.jsonl and the families
      before and after the soak (TMP/families_before.json, TMP/families_after.json); exits 1 when
      a verdict is missed

The verdict, over the soak after its first WARMUP_S seconds (the follow-ups sent after the
schedule left out), split in thirds:
  - the router's memory is flat: the last third's mean RSS at most 10 % (and 2 MiB) above the
    first third's;
  - its open descriptors are flat: the last third's mean at most 10 % (or 5) above the first's;
  - Redis grows by the cases stored: its used_memory, LINE's own keys aside, grew per case stored
    within 15 % of what one case's keys and its shares of the indexes and logs take (MEMORY USAGE
    growth of every family over the cases stored);
  - LINE's own keys are accounted for: one event id per event answered (kept a day, so that a
    redelivery is recognised) and at most 3 keys per user (the conversation);
  - the growth per case is steady: used_memory per case stored in the last third within 15 % of
    the first third's;
  - p99 is stable: the median of the last third's intervals' p99 at most 1.5 times (plus 1 ms)
    the first third's;
  - every request was answered 2xx, no event stream was dropped, every case made was
    acknowledged and resolved (or closed).
"""
import argparse
import json
import os
import random
import re
import signal
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_data import redis_call  # noqa: E402  (the plain RESP client of the bench)


class Redis:
    def __init__(self, port, timeout=60):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.file = self.sock.makefile("rb")

    def __call__(self, *args):
        return redis_call(self.file, self.sock, *args)

    def info(self, section):
        text = self("INFO", section).decode()
        return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def pid_of(pid_file):
    with open(pid_file, encoding="ascii") as f:
        return int(f.read().strip())


def router_figures(pid):
    rss_kb = 0
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return rss_kb, fds, ticks


def cpu_ticks(pid):
    """The CPU time (user + system, in clock ticks) of pid, of its children that ended (Redis'
    AOF rewrites) and of those running (a process started through `timeout` is its child); 0 when
    it is gone."""
    total = 0
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
            children = [int(c) for c in f.read().split()]
    except (OSError, ValueError, IndexError):
        return total
    return total + sum(cpu_ticks(c) for c in children)


def machine_busy_ticks():
    """Every CPU's time not idle (nor waiting for I/O) since boot, in clock ticks."""
    with open("/proc/stat", encoding="ascii") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)


def keyspace_keys(r):
    keys = 0
    for k, v in r.info("keyspace").items():
        if k.startswith("db"):
            keys += int(dict(x.split("=") for x in v.split(","))["keys"])
    return keys


def cmd_sample(args):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    pid = pid_of(args.pid_file)
    r = Redis(args.redis_port)
    P = args.prefix
    hz = os.sysconf("SC_CLK_TCK")
    with open(args.out, "w", encoding="utf-8") as out:
        next_at = time.time()
        while not stop:
            rss_kb, fds, ticks = router_figures(pid)
            ours = sum(cpu_ticks(pid_of(f)) for f in args.ours if os.path.exists(f))
            ours += sum(os.times()[:2]) * hz  # this sampler
            sample = {
                "epoch": round(time.time(), 3), "rss_kb": rss_kb, "fds": fds,
                "cpu_s": round(ticks / hz, 2),
                "used_memory": int(r.info("memory")["used_memory"]),
                "keys": keyspace_keys(r),
                "cases": r("ZCARD", P + "cases:created"),
                "queue": r("ZCARD", P + "queue"),
                "deadlines": r("ZCARD", P + "deadlines"),
                "outbox": r("ZCARD", P + "outbox:due"),
                "log": r("XLEN", P + "log"),
                "forks": int(r.info("stats")["total_forks"]),  # AOF rewrites: Redis stalls a while
                # the machine's CPU, and what the soak's own processes took of it
                "busy_s": round(machine_busy_ticks() / hz, 2), "ours_s": round(ours / hz + ticks / hz, 2),
            }
            out.write(json.dumps(sample) + "\n")
            out.flush()
            next_at += args.interval
            while not stop and time.time() < next_at:
                time.sleep(min(0.2, max(0.0, next_at - time.time())))


ID_SEGMENT = re.compile(r"[0-9-]|^.{17,}$")


def family(key, prefix):
    """The key's name with its ids left out: a segment holding a digit or a hyphen, or longer
    than 16 characters, is an id."""
    name = key[len(prefix):] if key.startswith(prefix) else key
    return ":".join("*" if ID_SEGMENT.search(seg) else seg for seg in name.split(":"))


def cmd_families(args):
    r = Redis(args.redis_port, timeout=300)
    prefix = args.prefix
    keys = {}
    cursor = b"0"
    while True:
        cursor, batch = r("SCAN", cursor, "MATCH", prefix + "*", "COUNT", 10000)
        for k in batch:
            k = k.decode()
            keys.setdefault(family(k, prefix), []).append(k)
        if cursor == b"0":
            break
    rng = random.Random(1300)
    out = {}
    for fam, members in sorted(keys.items()):
        sample = members if len(members) <= args.sample else rng.sample(members, args.sample)
        used = [r("MEMORY", "USAGE", k, "SAMPLES", "0") or 0 for k in sample]
        out[fam] = {"keys": len(members), "bytes": round(sum(used) / len(used) * len(members))}
    print(json.dumps({"used_memory": int(r.info("memory")["used_memory"]), "families": out}))


# ------------------------------------------------------------------------------------------------
# The report


def load_lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_json(tmp, name):
    with open(os.path.join(tmp, name), encoding="utf-8") as f:
        return json.load(f)


def thirds(values):
    k = max(1, len(values) // 3)
    return values[:k], values[len(values) - k:]


def slope_per_min(xs, ys):
    """Least-squares slope of ys over xs (seconds), per minute."""
    if len(xs) < 2:
        return 0.0
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def mib(n):
    return f"{n / 1048576:.1f} MiB"


# LINE's own keys: each event's id (kept a day: a redelivery is recognised) and each user's
# conversation (state, version, and the user id while a report waits; kept a week idle).
LINE = "line:"
# A stored case's own keys, one each (or one per caller: phone:*).
CASE_OWN = ("case:", "track:", "call:", "phone:", "audit:case:")


def table(intervals, samples):
    """One row per interval of the soak (the drain after the schedule marked), each with the
    sample taken nearest its end; printed, and returned."""
    def sample_at(epoch):
        return min(samples, key=lambda s: abs(s["epoch"] - epoch))

    fmt = "{:>6} {:>7} {:>7} {:>8} {:>8} {:>6} {:>9} {:>5} {:>5} {:>9} {:>8} {:>5} {:>4} {:>6}"
    print(fmt.format("t", "req/s", "p50", "p99", "max", "waited", "RSS", "fds", "CPU", "Redis",
                     "cases", "queue", "bad", "others"))
    rows = []
    prev = sample_at(intervals[0]["epoch"] - intervals[0]["t"])
    prev_t = 0.0
    for iv in intervals:
        s = sample_at(iv["epoch"])
        secs = max(0.001, s["epoch"] - prev["epoch"])
        cpu = 100 * (s["cpu_s"] - prev["cpu_s"]) / secs
        others = 100 * max(0.0, (s["busy_s"] - prev["busy_s"]) - (s["ours_s"] - prev["ours_s"])) / secs
        bad = sum(v["bad"] for v in iv["by_kind"].values())
        label = (f"{int(iv['t']) // 60}:{int(iv['t']) % 60:02d}" + ("*" if iv.get("last") else "")
                 + ("F" if s["forks"] != prev["forks"] else ""))
        print(fmt.format(label, f"{iv['answered'] / max(iv['t'] - prev_t, 0.001):.0f}",
                         f"{iv['p50_ms']:.1f}", f"{iv['p99_ms']:.1f}", f"{iv['max_ms']:.0f}",
                         iv["waited"], f"{s['rss_kb'] / 1024:.1f}M", s["fds"], f"{cpu:.0f}%",
                         f"{s['used_memory'] / 1048576:.1f}M", s["cases"], s["queue"], bad,
                         f"{others:.0f}%"))
        if not iv.get("last"):
            rows.append({"t": iv["t"], "p99": iv["p99_ms"], "rss": s["rss_kb"], "fds": s["fds"],
                         "mem": s["used_memory"], "cases": s["cases"], "others": others})
        prev, prev_t = s, iv["t"]
    print("  (t: the interval's end, * the follow-ups sent after the schedule, F Redis forked (an AOF "
          "rewrite); p50/p99/max: ms from "
          "each request's due time; waited: requests that found every connection busy; RSS, fds, "
          "CPU: the router's; Redis: used_memory; cases: stored; queue: the operators' queue; bad: "
          "answers not 2xx; others: the CPU that processes outside the soak took, % of one CPU)")
    return rows


def redis_growth(fam_before, fam_after, line_events, line_users):
    """What Redis grew by, family by family (MEMORY USAGE), against its used_memory; the
    verdicts' figures."""
    before, after = fam_before["families"], fam_after["families"]
    grown = {}
    for fam in set(before) | set(after):
        b = before.get(fam, {"keys": 0, "bytes": 0})
        a = after.get(fam, {"keys": 0, "bytes": 0})
        grown[fam] = (a["keys"] - b["keys"], a["bytes"] - b["bytes"])
    used = fam_after["used_memory"] - fam_before["used_memory"]
    cases = grown.get("case:*", (0, 0))[0]
    line = sum(g[1] for f, g in grown.items() if f.startswith(LINE))
    own = {f: g[1] for f, g in grown.items() if f.startswith(CASE_OWN) and g[1]}
    shares = {f: g[1] for f, g in grown.items()
              if not f.startswith(CASE_OWN) and not f.startswith(LINE) and g[1]}
    per_case = (sum(own.values()) + sum(shares.values())) / max(cases, 1)
    observed = (used - line) / max(cases, 1)
    events = grown.get("line:event:*", (0, 0))
    users_keys = sum(a["keys"] for f, a in after.items() if f.startswith(LINE) and f != "line:event:*"
                     and f.count("*") == 1)
    print(f"  Redis used_memory grew {mib(used)} over {cases} cases stored; LINE's own keys "
          f"{mib(line)} (the ids of {events[0]} events, kept a day: {mib(events[1])}; the "
          f"conversations of the users)")
    print(f"  a stored case by MEMORY USAGE: {per_case:.0f} bytes: its own keys "
          + ", ".join(f"{f} {b / max(cases, 1):.0f}" for f, b in sorted(own.items(), key=lambda kv: -kv[1])
                      if b >= cases)
          + "; its share of " + ", ".join(
              f"{f} {b / max(cases, 1):.0f}" for f, b in sorted(shares.items(), key=lambda kv: -kv[1])[:8]
              if b >= cases))
    return {"used": used, "cases": cases, "line": line, "per_case": per_case, "observed": observed,
            "events": events[0], "line_events": line_events, "users_keys": users_keys,
            "line_users": line_users}


def cmd_report(args):
    tmp, warmup = args.tmp, args.warmup
    sat = [x for x in load_lines(os.path.join(tmp, "saturation.jsonl")) if x.get("summary")][0]
    lines = load_lines(os.path.join(tmp, "soak.jsonl"))
    summary = [x for x in lines if x.get("summary")][0]
    intervals = [x for x in lines if not x.get("summary")]
    samples = load_lines(os.path.join(tmp, "samples.jsonl"))
    print()
    mix = ", ".join("%s %d" % (k, v["n"]) for k, v in sat["by_kind"].items())
    print(f"saturation of the mix (closed loop, {sat['seconds']} s): {sat['rps']:.0f} requests/s "
          f"({mix}); non-2xx {sum(v['bad'] for v in sat['by_kind'].values())}")
    print(f"soak: {summary['rate']:.0f} requests/s paced for {summary['seconds']} s: "
          f"{summary['answered']} answered, {summary['cases']} cases made, {summary['events']} events "
          f"on the streams; {summary['waited']} requests waited for a connection, the generator "
          f"itself sent {summary['late']} more than 1 ms late")
    print("  by kind: " + ", ".join(f"{k} {v['n']}" + (f" ({v['bad']} not 2xx)" if v["bad"] else "")
                                    for k, v in summary["by_kind"].items()))
    print()
    rows = table(intervals, samples)

    verdicts = []

    def verdict(ok, text):
        verdicts.append(ok)
        print(f"  [{'met' if ok else 'MISSED'}] {text}")

    steady = [r for r in rows if r["t"] > warmup] or rows
    first, last = thirds(steady)
    xs = [r["t"] for r in steady]
    print()
    print(f"verdict (after the first {warmup:.0f} s: {len(steady)} intervals, thirds of {len(first)}):")
    rss_a = statistics.fmean(r["rss"] for r in first)
    rss_b = statistics.fmean(r["rss"] for r in last)
    verdict(rss_b <= rss_a * 1.10 + 2048,
            f"router memory flat: RSS {rss_a / 1024:.1f} MiB (first third's mean) -> {rss_b / 1024:.1f} "
            f"MiB (last third's), {100 * (rss_b / rss_a - 1):+.1f} %, slope "
            f"{slope_per_min(xs, [r['rss'] for r in steady]):+.0f} KiB/min (flat: at most +10 % and 2 MiB)")
    fd_a = statistics.fmean(r["fds"] for r in first)
    fd_b = statistics.fmean(r["fds"] for r in last)
    verdict(fd_b <= max(fd_a * 1.10, fd_a + 5),
            f"router descriptors flat: {fd_a:.1f} -> {fd_b:.1f} open (the thirds' means; flat: at most "
            f"+10 % or +5)")

    g = redis_growth(load_json(tmp, "families_before.json"), load_json(tmp, "families_after.json"),
                     summary["by_kind"]["line"]["n"] - summary["by_kind"]["line"]["bad"], args.line_users)
    verdict(abs(g["observed"] / g["per_case"] - 1) <= 0.15 if g["per_case"] else False,
            f"Redis grows by the cases stored: used_memory, LINE's keys aside, {g['observed']:.0f} bytes per "
            f"case against {g['per_case']:.0f} by MEMORY USAGE of its keys and shares "
            f"({100 * (g['observed'] / max(g['per_case'], 1) - 1):+.1f} %; within 15 %)")
    verdict(abs(g["events"] - g["line_events"]) <= max(10, 0.01 * g["line_events"]) and
            g["users_keys"] <= 3 * g["line_users"],
            f"LINE's keys are its events' ids ({g['events']} new for {g['line_events']} events answered) and "
            f"its users' conversations ({g['users_keys']} keys for {g['line_users']} users, at most 3 each)")
    grow_a = (first[-1]["mem"] - steady[0]["mem"]) / max(first[-1]["cases"] - steady[0]["cases"], 1)
    grow_b = (last[-1]["mem"] - last[0]["mem"]) / max(last[-1]["cases"] - last[0]["cases"], 1)
    verdict(grow_a > 0 and abs(grow_b / grow_a - 1) <= 0.15,
            f"Redis growth per stored case steady: {grow_a:.0f} bytes of used_memory per case in the first "
            f"third, {grow_b:.0f} in the last (within 15 %)")
    p_a = statistics.median(r["p99"] for r in first)
    p_b = statistics.median(r["p99"] for r in last)
    verdict(p_b <= 1.5 * p_a + 1,
            f"p99 stable: {p_a:.1f} ms -> {p_b:.1f} ms (the thirds' medians of the intervals' p99; slope "
            f"{slope_per_min(xs, [r['p99'] for r in steady]):+.2f} ms/min; at most 1.5x + 1 ms); other "
            f"processes took {statistics.fmean(r['others'] for r in first):.0f} % and "
            f"{statistics.fmean(r['others'] for r in last):.0f} % of a CPU meanwhile")
    bad = sum(v["bad"] for v in summary["by_kind"].values())
    verdict(bad == 0 and summary["unanswered"] == 0 and summary["stream_drops"] == 0 and
            summary["followups_left"] == 0 and summary["slots_unsent"] == 0,
            f"every request answered 2xx ({bad} not, {summary['unanswered']} unanswered, "
            f"{summary['slots_unsent']} never sent: still waiting for a connection when the schedule "
            f"ended), no event stream dropped ({summary['stream_drops']}), every case acknowledged and "
            f"resolved or closed ({summary['followups_left']} follow-ups left)")
    return 0 if all(verdicts) else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--pid-file", required=True)
    s.add_argument("--redis-port", type=int, required=True)
    s.add_argument("--interval", type=float, default=10)
    s.add_argument("--out", required=True)
    s.add_argument("--prefix", default="ess:")
    s.add_argument("--ours", action="append", default=[],
                   help="pid file of one of the soak's processes besides the router (repeatable)")
    s.set_defaults(func=cmd_sample)
    f = sub.add_parser("families")
    f.add_argument("--redis-port", type=int, required=True)
    f.add_argument("--prefix", default="ess:")
    f.add_argument("--sample", type=int, default=100)
    f.set_defaults(func=cmd_families)
    r = sub.add_parser("report")
    r.add_argument("tmp")
    r.add_argument("warmup", type=float)
    r.add_argument("--line-users", type=int, required=True)
    r.set_defaults(func=cmd_report)
    args = p.parse_args()
    sys.exit(args.func(args) or 0)


if __name__ == "__main__":
    main()
