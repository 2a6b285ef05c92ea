"""Concurrency (DESIGN.md: "Two incidents can never claim the same team slot"): many incidents at
once against a few small teams; no team over capacity, no case lost, every answer 2xx; manual
assignments racing for the last slot; heartbeats racing with incidents."""

import collections
import threading

import harness
from harness import RouterTest, wait_until

POLICE_SW = ['police', 'social_worker']
CATEGORIES = [('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย'),
              ('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า'),
              ('abuse_risk', 'มีผู้ชายแอบถ่ายและตามรังควานพนักงานสาว'),
              ('gathering', 'มีวงพนันและเสพยาในบ้านร้างท้ายซอย')]


def run_threads(n, fn):
    """Runs fn(i) in n threads started together; returns the list of (i, result or exception)."""
    barrier = threading.Barrier(n)
    out, lock = [], threading.Lock()

    def work(i):
        barrier.wait()
        try:
            res = fn(i)
        except Exception as e:  # noqa: BLE001 (returned to the test)
            res = e
        with lock:
            out.append((i, res))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


class ConcurrencyTest(RouterTest):
    # 40 tracking lookups from one address in test_parallel_reads_during_writes
    env_options = {'extra_env': {'ESS_TRACK_RATE_PER_MIN': '1000'}}

    def test_200_concurrent_incidents(self):
        env = self.env
        capacities = {'c-1': 1, 'c-2': 2, 'c-3': 3, 'c-4': 1, 'c-5': 2}
        for i, (tid, cap) in enumerate(capacities.items()):
            env.put_team_at(tid, 1.0 + 2.5 * i, 37 + 71 * i, POLICE_SW, capacity=cap)
        slots = sum(capacities.values())
        bodies = []
        for i in range(200):
            category, text = CATEGORIES[i % len(CATEGORIES)]
            body = env.incident_body(category=category, description=text,
                                     call_id='1300-load-%04d' % i)
            env.note_incident_pii(body)
            bodies.append(body)

        def worker(t):
            answers = []
            for k in range(t, 200, 20):
                answers.append((k, env.http('POST', '/v1/incidents', bodies[k],
                                            token=env.operator_tokens[k % 2], timeout=60)))
            return answers

        results = run_threads(20, worker)
        answers = {}
        for t, res in results:
            self.assertNotIsInstance(res, Exception, 'thread %d: %r' % (t, res))
            for k, r in res:
                answers[k] = r
        self.assertEqual(len(answers), 200)
        bad = {k: r for k, r in answers.items() if r.status != 201}
        self.assertEqual(bad, {}, 'every incident answered 201')

        per_team = collections.Counter()
        statuses = collections.Counter()
        for k, r in answers.items():
            statuses[r.body['status']] += 1
            self.assertIn(r.body['status'], ('assigned', 'queued'), repr(r))
            if r.body['status'] == 'assigned':
                per_team[r.body['team']['id']] += 1
            else:
                self.assertIsNone(r.body['team'])
        for tid, n in per_team.items():
            self.assertLessEqual(n, capacities[tid], 'answers: team %s over capacity' % tid)
        ids = [r.body['case_id'] for r in answers.values()]
        codes = [r.body['tracking_code'] for r in answers.values()]
        self.assertEqual(len(set(ids)), 200, 'distinct case ids')
        self.assertEqual(len(set(codes)), 200, 'distinct tracking codes')

        # the store agrees; a slot left free by a lost race is filled from the queue
        def settled():
            cases = env.list_cases()
            held = collections.Counter(c['team']['id'] for c in cases if c.get('team'))
            return (cases, held) if sum(held.values()) == slots else None
        cases, held = wait_until(settled, 20, 0.2, 'every team slot filled')
        self.assertEqual(sorted(c['case_id'] for c in cases), sorted(ids), 'no case lost')
        for tid, cap in capacities.items():
            self.assertEqual(held[tid], cap, 'team %s holds exactly its capacity' % tid)
        by_status = collections.Counter(c['status'] for c in cases)
        self.assertEqual(by_status, {'assigned': slots, 'queued': 200 - slots})
        self.assertEqual(len(env.list_cases(status='queued')), 200 - slots)
        # each case is readable and its view agrees with the listing
        listing = {c['case_id']: c for c in cases}
        for cid in ids[:40]:
            view = env.case(cid)
            self.assertEqual(view['status'], listing[cid]['status'])
            self.assertEqual((view['team'] or {}).get('id'), (listing[cid]['team'] or {}).get('id'))
        # the same 200 calls again: idempotent, nothing new
        again = run_threads(20, worker)
        for t, res in again:
            self.assertNotIsInstance(res, Exception, repr(res))
            for k, r in res:
                self.assertEqual(r.status, 200, repr(r))
                self.assertEqual(r.body['case_id'], answers[k].body['case_id'])
        self.assertEqual(len(env.list_cases()), 200)
        held_after = collections.Counter(c['team']['id'] for c in env.list_cases() if c.get('team'))
        self.assertEqual(held_after, held)

    def test_manual_assign_race_for_last_slots(self):
        env = self.env
        env.put_team_at('tiny', 80.0, 45, POLICE_SW, capacity=2)  # out of reach: manual only
        queued = [env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
                  for _ in range(10)]
        for q in queued:
            self.assertQueued(q)
        results = run_threads(10, lambda i: env.assign(queued[i]['case_id'], 'tiny',
                                                       confirm_far=True))
        statuses = collections.Counter()
        for i, r in results:
            self.assertNotIsInstance(r, Exception, repr(r))
            statuses[r.status] += 1
            if r.status != 200:
                self.assertErrorBody(r, 409, 'team_full')
        self.assertEqual(statuses, {200: 2, 409: 8})
        held = [c for c in env.list_cases() if (c.get('team') or {}).get('id') == 'tiny']
        self.assertEqual(len(held), 2)

    def test_heartbeats_racing_incidents(self):
        env = self.env
        tokens = {}
        for i in range(4):
            tokens['hb-%d' % i] = env.put_team_at('hb-%d' % i, 1.0 + i, 90 * i + 10, POLICE_SW,
                                                  capacity=2)

        def work(i):
            if i % 2:
                tid = 'hb-%d' % (i // 2 % 4)
                t = env.teams[tid]
                out = []
                for k in range(15):
                    lat, lon = harness.destination(t['lat'], t['lon'], k * 24, 0.05)
                    env.team_coords |= {lat, lon}
                    out.append(env.http('POST', '/v1/teams/%s/position' % tid,
                                        {'lat': lat, 'lon': lon, 'available': True},
                                        token=tokens[tid]))
                return out
            out = []
            for k in range(8):
                body = env.incident_body(category='threat',
                                         description='ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
                env.note_incident_pii(body)
                out.append(env.http('POST', '/v1/incidents', body, token=env.operator_token))
            return out

        results = run_threads(16, work)
        created = 0
        for i, res in results:
            self.assertNotIsInstance(res, Exception, repr(res))
            for r in res:
                self.assertIn(r.status, (200, 201), repr(r))
                created += 'case_id' in r.body
        self.assertEqual(created, 64)

        def settled():
            cases = env.list_cases()
            held = collections.Counter(c['team']['id'] for c in cases if c.get('team'))
            return (cases, held) if sum(held.values()) == 8 else None
        cases, held = wait_until(settled, 20, 0.2, 'every slot filled')
        self.assertEqual(len(cases), 64)
        for tid in tokens:
            self.assertEqual(held[tid], 2, tid)

    def test_parallel_reads_during_writes(self):
        env = self.env
        env.put_team_at('r-1', 2.0, 10, POLICE_SW, capacity=3)
        seed = [env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย') for _ in range(5)]

        def work(i):
            out = []
            for k in range(10):
                if i % 3 == 0:
                    out.append(env.post_incident_raw(env.incident_body(
                        category='gathering', description='มีวงพนันและเสพยาในบ้านร้างท้ายซอย')))
                elif i % 3 == 1:
                    out.append(env.track(seed[k % 5]['tracking_code']))
                else:
                    out.append(env.list_page(limit=7))
            return out

        results = run_threads(12, work)
        for i, res in results:
            self.assertNotIsInstance(res, Exception, repr(res))
            for r in res:
                self.assertIn(r.status, (200, 201), repr(r))
        self.assertEqual(len(env.list_cases()), 5 + 4 * 10)
        self.assertStatus(env.http('GET', '/healthz'), 200)


if __name__ == '__main__':
    harness.main()
