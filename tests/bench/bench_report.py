#!/usr/bin/env python3
"""The figures and verdicts of scripts/bench, from the files its runs left in its temporary folder.

  bench_report.py all TMP THREADS CONNECTIONS DURATION INCIDENT_SECONDS LINE_USERS PLACEMENT LOAD_CPUS
  bench_report.py incidents TMP THREADS CONNECTIONS DURATION INCIDENT_SECONDS PLACEMENT

"all": every phase of a full run; "incidents": the ceilings and POST /v1/incidents alone, with what
an incident costs (router and Redis CPU, Redis memory, Redis commands).
"""
import json
import os
import re
import sys

SCRIPT_COMMANDS = ("fcall", "fcall_ro", "evalsha", "eval", "evalsha_ro", "eval_ro")


class Run:
    """The files of one bench run (its temporary folder) and the verdicts gathered from them."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.verdicts = []

    def path(self, name):
        return os.path.join(self.tmp, name)

    def load(self, name):
        with open(self.path(name + ".json"), encoding="utf-8") as f:
            return json.loads(f.read())

    def stats(self, name):
        """INFO commandstats: command -> (calls, usec, usec per call)."""
        out = {}
        with open(self.path(name), encoding="utf-8") as f:
            for line in f:
                m = re.match(r"cmdstat_([^:]+):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)", line.strip())
                if m:
                    out[m.group(1)] = (int(m.group(2)), int(m.group(3)), float(m.group(4)))
        return out

    def info(self, name):
        out = {}
        with open(self.path(name), encoding="utf-8") as f:
            for line in f:
                k, _, v = line.strip().partition(":")
                out[k] = v
        return out

    def cpu_us(self, name, count):
        """Each process' CPU (user + system) between NAME_before and NAME_after, in us per count."""
        hz = os.sysconf("SC_CLK_TCK")
        before = [int(v) for v in open(self.path(name + "_before")).read().split()]
        after = [int(v) for v in open(self.path(name + "_after")).read().split()]
        return [(q - p) * 1e6 / hz / max(count, 1) for p, q in zip(before, after)]

    def verdict(self, name, ok, text):
        self.verdicts.append(f"  [{'met' if ok else 'MISSED'}] {name}: {text}")


def ms(us):
    return f"{us / 1000:.2f} ms"


def opt_ms(us):
    return "-" if us is None else ms(us)


def bad(r):
    errs = r["errors"]
    return errs["status"] + errs["connect"] + errs["read"] + errs["write"] + errs["timeout"]


def answered(inc):
    return inc["assigned"] + inc["queued"] + inc["other_status"]


def used_memory(run, name):
    return int(run.info(name).get("used_memory", 0))


def shared_growth(run, cases):
    """The keys shared by many cases (indexes, the case log, counters) that grew during the
    incidents run, as (bytes per case, key), largest first."""
    before, after = run.load("shared_before"), run.load("shared_after")
    grown = [((after[k] - before.get(k, 0)) / cases, k) for k in after]
    return sorted((g for g in grown if g[0] >= 1), reverse=True)


def report_rates(run, rows):
    fmt = "{:<34} {:>11} {:>10} {:>10} {:>8}"
    print(fmt.format("", "requests/s", "p50", "p99", "non-2xx"))
    for label, r in rows:
        print(fmt.format(label, f"{r['rps']:.0f}", ms(r["p50_us"]), ms(r["p99_us"]), bad(r)))


def report_incidents(run, duration, inc_seconds):
    """The incident path: its rate against the bare server, the CPU and the Redis memory and
    commands one incident costs, each against its yardstick measured in the same run."""
    ok, rr, inc, warm = run.load("bare_ok"), run.load("bare_redis"), run.load("incidents"), run.load("warmup")
    print()
    resolved = run.load("resolved")
    print(f"warm-up: {warm['requests']} incidents in 1 s ({warm['rps']:.0f}/s, {warm['assigned']} assigned, then "
          f"resolved through the API in {resolved['seconds']} s); the measured run lasted {inc_seconds} s"
          + (f" (not {duration} s: 70 % of the team slots would be taken by then)" if inc_seconds != duration else ""))
    n = answered(inc)
    if n:
        print(f"incidents: {n} created, {inc['assigned']} assigned ({100 * inc['assigned'] / n:.1f} %), "
              f"{inc['queued']} queued ({100 * inc['queued'] / n:.1f} %)"
              + (f", {inc['other_status']} other" if inc["other_status"] else "")
              + (f"; {inc['failed']} failed" if inc["failed"] else ""))
    else:
        print(f"incidents: none created ({inc['failed']} failed)")
    ncases = max(n, 1)

    r_inc = inc["rps"] / ok["rps"]
    p99_inc = inc["p99_us"] / max(ok["p99_us"], 1)
    run.verdict("incidents", r_inc >= 0.25 and p99_inc <= 3,
                f"{r_inc:.2f}x the bare-server requests/s (target >= 0.25x), p99 {p99_inc:.1f}x its p99 "
                f"(target <= 3x)")

    # CPU: the router's per incident against the bare server's per request; Redis' per incident
    # against its own per GET from redis-benchmark.
    bare_us = run.cpu_us("cpu_bare_ok", ok["requests"])[0]
    router_us, redis_us = run.cpu_us("cpu_incidents", inc["requests"])
    m = re.findall(r"GET: ([\d.]+) requests per second", open(run.path("redis_benchmark.txt")).read())
    gets = float(m[-1]) if m else 0
    get_us = run.cpu_us("cpu_get", 200000)[0]
    print(f"CPU (user + system): the router {router_us:.1f} us per incident, the bare server {bare_us:.1f} us per "
          f"request; Redis {redis_us:.1f} us per incident, {get_us:.1f} us per GET of redis-benchmark "
          f"({gets:.0f} GETs/s)")
    run.verdict("router CPU", router_us <= 40,
                f"{router_us:.1f} us per incident, {router_us / max(bare_us, 0.01):.1f}x a bare request's "
                f"(target <= 40 us)")
    run.verdict("Redis CPU", redis_us <= 3 * get_us,
                f"{redis_us:.1f} us per incident, {redis_us / max(get_us, 0.01):.1f}x a GET's (target <= 3x)")

    if n:
        grown = used_memory(run, "memory_after.txt") - used_memory(run, "memory_before.txt")
        per_stored = grown / n
        keys = json.load(open(run.path("case_memory.json"), encoding="utf-8"))
        print(f"Redis memory: {grown / 1e6:.1f} MB more after the incidents run, {per_stored:.0f} bytes per stored "
              f"case (every key, index and log entry it added); its own keys (MEMORY USAGE, mean of "
              f"{keys['sampled']} cases): " + ", ".join(f"{k} {v:.0f}" for k, v in keys["bytes"].items()))
        print("  shared keys grown, bytes per case: " + ", ".join(
            f"{k} {g:.0f}" for g, k in shared_growth(run, n)[:10]))
        run.verdict("memory", per_stored <= 2048,
                    f"{per_stored:.0f} bytes of Redis memory per stored case (target <= 2,048)")

    get = run.stats("stats_get.txt").get("get")
    si = run.stats("stats_incidents.txt")
    scripts = {k: v for k, v in si.items() if k in SCRIPT_COMMANDS}
    print()
    if get and scripts:
        per_case = sum(v[1] for v in scripts.values()) / ncases
        for k, (calls, usec, upc) in sorted(scripts.items()):
            print(f"Redis {k}: {calls} calls ({calls / ncases:.2f} per incident), {upc:.2f} usec per call")
        print(f"Redis GET: {get[2]:.2f} usec per call (bare_redis run)")
        print(f"Redis script time per incident: {per_case:.2f} usec = {per_case / get[2]:.1f} GETs")
        run.verdict("assignment", per_case / get[2] <= 50,
                    f"{per_case / get[2]:.1f} GETs of Redis time per incident (target <= 50)")
        top = sorted(((v[1], k, v[0]) for k, v in si.items()
                      if k not in ("info", "config|resetstat", "ping") and k not in SCRIPT_COMMANDS),
                     reverse=True)[:10]
        nested = sum(v[1] for k, v in si.items() if k not in SCRIPT_COMMANDS and k not in ("info", "config|resetstat"))
        print(f"Redis commands during the incidents run (those the scripts call, {nested / ncases:.1f} usec per "
              f"incident in all), by time:")
        for usec, k, calls in top:
            print(f"  {k:<18} {calls / ncases:6.2f} calls/incident {usec / ncases:8.2f} usec/incident")
    else:
        print("Redis commandstats: no script command (fcall/evalsha) or no GET seen; "
              f"incidents run saw {sorted(si)}")
        run.verdicts.append("  [unknown] assignment: no script command in commandstats")
    return inc, get


def report_tracking(run, trk, page, rr, get):
    r_trk = trk["rps"] / rr["rps"]
    run.verdict("tracking", r_trk >= 0.8, f"{r_trk:.2f}x the one-round-trip requests/s (target >= 0.8x)")
    r_page = page["rps"] / max(trk["rps"], 1)
    run.verdict("tracking page", r_page >= 0.8 and bad(page) == 0,
                f"{r_page:.2f}x the requests/s of GET /v1/track/{{code}} (target >= 0.8x), "
                f"{page['requests']} pages, {bad(page)} errors")
    st = run.stats("stats_track.txt")
    track_top = sorted(((v[1], k, v[0]) for k, v in st.items() if k in SCRIPT_COMMANDS), reverse=True)
    if get and track_top and trk["requests"]:
        usec, k, calls = track_top[0]
        print(f"Redis per tracking request: {calls / trk['requests']:.2f} {k}, "
              f"{usec / trk['requests']:.2f} usec = {usec / trk['requests'] / get[2]:.1f} GETs")


def report_two_routers(run, inc, load_cpus):
    inc2 = run.load("incidents_2p")
    ratio2 = inc2["rps"] / max(inc["rps"], 1)
    print(f"two router processes on one port (ESS_REUSE_PORT, the second on CPU {load_cpus or 'any'}): "
          f"POST /v1/incidents {inc2['rps']:.0f} requests/s (p50 {ms(inc2['p50_us'])}, p99 {ms(inc2['p99_us'])}, "
          f"{bad(inc2)} errors), {ratio2:.2f}x one process (the same run after the first run's cases were resolved)")


def report_line(run, duration, conns, line_users):
    """The LINE webhook: saturation (wrk), then paced at half that rate (line_paced), with the
    ceilings paced at the same rate."""
    ok, rr = run.load("bare_ok"), run.load("bare_redis")
    line, line_warm = run.load("line"), run.load("line_warmup")
    d_warm, d_line, d_paced = run.load("drain_warmup"), run.load("drain_line"), run.load("drain_paced")
    p_line, p_ok, p_rr = run.load("paced_line"), run.load("paced_ok"), run.load("paced_redis")
    stats, info, verdict = run.stats, run.info, run.verdict
    print()
    line_ok = line["requests"] - line["errors"]["status"]
    line_replies = d_line["replies"] - d_warm["replies"]
    print(f"LINE webhook: signed bodies of one text event each (Thai and English greetings and emergencies), "
          f"every event new to the router, from {line_users} users (each user's conversation state read and "
          f"written); replies sent by the outbox to the fake LINE API (tests/bench/fake_line.c)")
    print(f"saturation (wrk, {int(duration)} s after a 1 s warm-up at {line_warm['rps']:.0f}/s): {line['requests']} "
          f"webhooks, {line_ok} answered 200, {line['errors']['timeout']} over wrk's 2 s timeout"
          + (f", {line['wrapped']} REPEATED (the bodies ran out: those events were dropped)" if line["wrapped"] else ""))
    print(f"  replies: {d_line['at_start'] - d_warm['replies']} at the fake LINE API when wrk stopped, "
          f"{line_replies} in all {d_line['seconds']:.1f} s later"
          + ("" if d_line["drained"] else f" (NOT drained: {line_ok} expected)")
          + (f"; {d_line['pushes']} pushes" if d_line["pushes"] else ""))
    sl = stats("stats_line.txt")
    get_usec = (stats("stats_get.txt").get("get") or (0, 0, 0.0))[2]
    line_scripts = {k: v for k, v in sl.items() if k in ("fcall", "fcall_ro", "evalsha", "evalsha_ro", "eval", "eval_ro")}
    if line_scripts and line["requests"] and get_usec:
        calls = sum(v[0] for v in line_scripts.values())
        usec = sum(v[1] for v in line_scripts.values())
        n = max(line_ok, 1)
        print(f"  Redis per webhook (its reply's claim and report included): {calls / n:.2f} script calls, "
              f"{usec / n:.2f} usec = {usec / n / get_usec:.1f} GETs")
    router_us, redis_us = run.cpu_us("cpu_line", line["requests"])
    print(f"  CPU (user + system) per webhook at saturation: the router {router_us:.1f} us, Redis {redis_us:.1f} us")
    rate = p_line["rate"]
    print(f"paced at {rate:.0f}/s, half the saturation rate (tests/bench/line_paced, open loop over up to {conns} "
          f"keep-alive connections, {p_line['requests']} webhooks in {int(duration)} s), and the ceilings at the same rate:")
    fmt2 = "{:<42} {:>10} {:>10} {:>10} {:>8}"
    print(fmt2.format("", "p50", "p99", "max", "non-200"))
    for label, r, pre in [("the 200 of POST /webhooks/line", p_line, ""),
                          ("webhook sent -> its reply at fake LINE", p_line, "reply_"),
                          ("ceiling: bare evhttp 'ok'", p_ok, ""),
                          ("ceiling: evhttp + 1 Redis GET", p_rr, "")]:
        nb = r["non_200"] + r["unanswered"] if not pre else r["no_reply"]
        print(fmt2.format(label, opt_ms(r[pre + "p50_us"]), opt_ms(r[pre + "p99_us"]),
                          opt_ms(r[pre + "max_us"]), nb))
    if not d_paced["drained"]:
        print(f"  the outbox had NOT sent every reply {d_paced['seconds']:.1f} s after the paced run")
    late = [f"{r['late_1ms']} of {label}'s sends" for label, r in
            [("the webhook", p_line), ("bare evhttp", p_ok), ("evhttp + 1 GET", p_rr)] if r["late_1ms"]]
    if late:
        print("  sent over 1 ms after their time (line_paced did not get the CPU in time; latency counted "
              "from the actual send): " + ", ".join(late))
    queued = p_line["queued"] + p_ok["queued"] + p_rr["queued"]
    if queued:
        print(f"  {queued} webhooks waited for a free connection (their latency counts from when they were due)")

    forks = int(info("info_after_paced.txt").get("total_forks", 0)) - int(info("info_before_paced.txt").get("total_forks", 0))
    if forks:
        print(f"  Redis forked {forks} time(s) during the paced run (AOF rewrites of scripts/redis.conf; the latest fork "
              f"took {int(info('info_after_paced.txt').get('latest_fork_usec', 0)) / 1000:.1f} ms, and the child shares "
              f"the CPUs while it writes): the paced figures include those stalls")
    print(f"ratios: saturation {line['rps'] / ok['rps']:.2f}x the bare server's requests/s and "
          f"{line['rps'] / rr['rps']:.2f}x the one-round-trip server's, p99 {line['p99_us'] / max(ok['p99_us'], 1):.1f}x "
          f"the bare server's p99; paced p99 of the 200 {p_line['p99_us'] / max(p_ok['p99_us'], 1):.1f}x the bare "
          f"server's and {p_line['p99_us'] / max(p_rr['p99_us'], 1):.1f}x the one-round-trip server's at the same "
          f"rate, of the reply {p_line['reply_p99_us'] / max(p_rr['p99_us'], 1):.1f}x the one-round-trip server's"
          if p_line["p99_us"] is not None and p_line["reply_p99_us"] is not None else
          "ratios: no paced figures (no webhook answered 200, or no reply reached the fake LINE API)")
    sat_ok = (bad(line) == 0 and line["max_us"] < 2_000_000 and line["p99_us"] <= 1_000_000
              and not line["wrapped"])
    paced_ok = (p_line["p99_us"] is not None and p_line["p99_us"] < 10_000 and p_line["max_us"] < 2_000_000
                and p_line["ok"] == p_line["requests"])
    verdict("LINE webhook", sat_ok and paced_ok,
            f"the 200 at saturation: p99 {ms(line['p99_us'])}, max {ms(line['max_us'])}, {bad(line)} errors or "
            f"timeouts (target: every webhook answered 200 well under LINE's 2 s, p99 <= 1 s); at half the "
            f"saturation rate: p99 {opt_ms(p_line['p99_us'])}, max {opt_ms(p_line['max_us'])}, "
            f"{p_line['requests'] - p_line['ok']} not 200 (target: p99 < 10 ms)")

    r_line = line["rps"] / ok["rps"]
    verdict("LINE throughput", r_line >= 0.25,
            f"{r_line:.2f}x the bare-server requests/s at saturation (target >= 0.25x)")


def main():
    mode, tmp = sys.argv[1], sys.argv[2]
    run = Run(tmp)
    if mode == "incidents":
        threads, conns, duration, inc_seconds, placement = sys.argv[3:8]
        line_users = load_cpus = ""
    else:
        threads, conns, duration, inc_seconds, line_users, placement, load_cpus = sys.argv[3:10]
    duration, conns = int(duration), int(conns)
    inc_seconds = int(inc_seconds)
    teams = run.load("teams")
    print()
    loadavg = open(run.path("loadavg"), encoding="ascii").read().strip()
    print(f"ESS Router benchmark: {os.cpu_count()} CPUs shared by wrk (or line_paced), Redis, the router and the "
          f"fake LINE API; wrk -t{threads} -c{conns} -d{duration}s on 127.0.0.1 ({placement}); load average before "
          f"the run {loadavg}")
    print(f"teams: {teams['teams']} ({teams['greater_bangkok']} in greater Bangkok, the rest over "
          f"{teams['provinces'] - 1} provinces), {teams['slots']} case slots; loaded through the API in "
          f"{teams['seconds']} s ({teams['puts_per_s']} PUT/s)")
    print()
    ok, rr, inc = run.load("bare_ok"), run.load("bare_redis"), run.load("incidents")
    rows = [("ceiling: bare evhttp 'ok'", ok), ("ceiling: evhttp + 1 Redis GET", rr), ("POST /v1/incidents", inc)]
    if mode == "all":
        trk, page, line = run.load("track"), run.load("track_page"), run.load("line")
        rows += [("GET /v1/track/{code}", trk), ("GET /track/{code} (the page)", page),
                 ("POST /webhooks/line (1 text event)", line)]
    report_rates(run, rows)
    inc, get = report_incidents(run, duration, inc_seconds)
    if mode == "all":
        report_tracking(run, trk, page, rr, get)
        report_two_routers(run, inc, load_cpus)
        report_line(run, duration, conns, line_users)
    print()
    print("targets:")
    print("\n".join(run.verdicts))


if __name__ == "__main__":
    main()
