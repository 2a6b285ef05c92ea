"""Redis outage (DESIGN.md: /healthz is 503 when the Redis connection is down; a request is never
answered 200 when it was not carried out): while Redis is stopped the daemon answers 503 with a
JSON error and never hangs; when Redis comes back on the same port and folder the daemon
reconnects by itself, every case accepted before is still there, and new incidents work."""

import re
import threading
import time

import harness
from harness import RouterTest, wait_until

POLICE_SW = ['police', 'social_worker']


class RedisOutageTest(RouterTest):

    def wait_health(self, status, redis, timeout=20.0):
        env = self.env

        def check():
            try:
                r = env.http('GET', '/healthz', timeout=5)
            except OSError:
                return None
            if r.status == status and isinstance(r.body, dict) and r.body.get('redis') == redis:
                return r
            return None
        return wait_until(check, timeout, 0.1, '/healthz %d with redis %s' % (status, redis))

    def metric(self, name):
        r = self.env.http('GET', '/metrics')
        self.assertStatus(r, 200)
        text = r.raw.decode()
        m = re.search(r'^%s(?:\{[^}]*\})? ([0-9.e+]+)$' % re.escape(name), text, re.M)
        self.assertIsNotNone(m, '%s in /metrics:\n%s' % (name, text[:3000]))
        return float(m.group(1))

    def test_outage_and_recovery(self):
        env = self.env
        tok = env.put_team_at('t1', 2.0, 40, POLICE_SW, capacity=3)
        a1 = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        a2 = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        q1 = env.post_incident('mental_crisis', 'ชายคลุ้มคลั่งอาละวาดในตลาด')
        self.assertAssignedTo(a1, 't1')
        self.assertAssignedTo(a2, 't1')
        self.assertQueued(q1, 'no mental_health team')
        self.assertStatus(env.ack(a1['case_id'], tok), 200)
        before = {x['case_id']: env.case(x['case_id']) for x in (a1, a2, q1)}
        reconnects_before = self.metric('ess_redis_reconnects_total')

        env.redis.stop()
        r = self.wait_health(503, 'down')
        self.assertJSON(r)

        t0 = time.monotonic()
        r = env.post_incident_raw(env.incident_body(
            category='threat', description='ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย'), timeout=15)
        self.assertErrorBody(r, 503, 'redis_unavailable', 'POST /v1/incidents while Redis is down')
        self.assertLess(time.monotonic() - t0, harness.scaled(10), 'answered without hanging')
        checks = [('GET case', lambda: env.get_case(a1['case_id'])),
                  ('list', lambda: env.list_page()),
                  ('track', lambda: env.track(a1['tracking_code'])),
                  ('status', lambda: env.set_status(a2['case_id'], 'en_route')),
                  ('assign', lambda: env.assign(q1['case_id'], 't1')),
                  ('team PUT', lambda: env.http('PUT', '/v1/teams/t9', {
                      'name': 'x', 'skills': POLICE_SW, 'lat': 13.0, 'lon': 100.0},
                      token=env.admin_token))]
        for what, fn in checks:
            with self.subTest(what):
                self.assertErrorBody(fn(), 503, 'redis_unavailable', what)
        with self.subTest('metrics still served'):
            self.assertStatus(env.http('GET', '/metrics'), 200)
        with self.subTest('a malformed request is still refused as malformed'):
            r = env.http('POST', '/v1/incidents', b'{', token=env.operator_token)
            self.assertErrorBody(r, (400, 503), ('invalid_json', 'redis_unavailable'))

        env.redis.start()
        self.wait_health(200, 'up')
        for cid, view in before.items():
            with self.subTest(case=cid):
                now = env.case(cid)
                self.assertEqual(now['status'], view['status'])
                self.assertEqual(harness.status_changes(now), harness.status_changes(view))
                self.assertStatus(env.track(view['tracking_code']), 200)
        n = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertEqual(n['_status'], 201)
        self.assertAssignedTo(n, 't1', msg='the third slot of t1')
        self.assertStatus(env.ack(a2['case_id'], tok), 200)
        self.assertStatus(env.set_status(a2['case_id'], 'en_route', token=tok), 200)
        self.assertEqual(len(env.list_cases()), 4, 'the refused incident was not stored')
        self.assertGreater(self.metric('ess_redis_reconnects_total'), reconnects_before)

    def test_two_outages_in_a_row(self):
        env = self.env
        env.put_team_at('t1', 2.0, 40, POLICE_SW, capacity=5)
        made = []
        for _ in range(2):
            made.append(env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย'))
            env.redis.stop()
            self.wait_health(503, 'down')
            env.redis.start()
            self.wait_health(200, 'up')
        made.append(env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย'))
        for m in made:
            self.assertAssignedTo(m, 't1')
            self.assertEqual(env.case(m['case_id'])['status'], 'assigned')

    def test_requests_in_flight_during_outage(self):
        """Incidents posted without pause while Redis stops and restarts: each answer is 201 or
        503 (with the JSON error), none hangs, and every 201 case is there afterwards."""
        env = self.env
        env.put_team_at('t1', 2.0, 40, POLICE_SW, capacity=2)
        stop = threading.Event()
        answers, lock = [], threading.Lock()

        def poster(n):
            k = 0
            while not stop.is_set():
                body = env.incident_body(category='threat',
                                         description='ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย',
                                         call_id='1300-flight-%d-%d' % (n, k))
                k += 1
                env.note_incident_pii(body)
                t0 = time.monotonic()
                try:
                    r = env.http('POST', '/v1/incidents', body, token=env.operator_token,
                                 timeout=30)
                except Exception as e:  # noqa: BLE001 (reported below)
                    r = e
                with lock:
                    answers.append((r, time.monotonic() - t0))
                time.sleep(0.01)

        threads = [threading.Thread(target=poster, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.5)
            env.redis.stop()
            self.wait_health(503, 'down')
            time.sleep(0.5)
            env.redis.start()
            self.wait_health(200, 'up')
            time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join()
        created, refused = [], 0
        for r, took in answers:
            self.assertNotIsInstance(r, Exception, 'a request failed at the HTTP level: %r' % r)
            if r.status == 201:
                created.append(r.body['case_id'])
            else:
                self.assertErrorBody(r, 503, 'redis_unavailable')
                refused += 1
            self.assertLess(took, harness.scaled(15), 'an answer took %.1f s' % took)
        self.assertGreater(len(created), 0)
        self.assertGreater(refused, 0, 'some requests were made during the outage')
        listed = {c['case_id'] for c in env.list_cases()}
        missing = [c for c in created if c not in listed]
        self.assertEqual(missing, [], 'cases answered 201 but not found afterwards')
        for cid in created[:20]:
            self.assertStatus(env.get_case(cid), 200)
        held = [c for c in env.list_cases() if c.get('team')]
        self.assertLessEqual(len(held), 2, 'capacity 2 respected across the outage')


if __name__ == '__main__':
    harness.main()
