"""Health and metrics (DESIGN.md: GET /healthz, GET /metrics in Prometheus text format): the
health answer, the request counter, the assignment latency histogram, the case and queue gauges
kept in Redis, the Redis error and reconnect counters."""

import re

import harness
from harness import RouterTest

POLICE_SW = ['police', 'social_worker']

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')


def parse_prometheus(text):
    """{name: [(labels dict, value)]} and {name: type}; raises ValueError on a bad line."""
    samples, types = {}, {}
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith('#'):
            parts = line.split(None, 3)
            if len(parts) >= 4 and parts[1] == 'TYPE':
                types[parts[2]] = parts[3].strip()
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError('not a Prometheus sample line: %r' % line)
        labels = {}
        if m.group(3):
            rest = m.group(3)
            pos = 0
            while pos < len(rest):
                lm = LABEL.match(rest, pos)
                if not lm:
                    raise ValueError('bad labels in %r' % line)
                labels[lm.group(1)] = lm.group(2)
                pos = lm.end()
        value = float(m.group(4))
        samples.setdefault(m.group(1), []).append((labels, value))
    return samples, types


class ObservabilityTest(RouterTest):

    def metrics(self):
        r = self.env.http('GET', '/metrics')
        self.assertStatus(r, 200)
        ctype = r.headers.get('content-type', '')
        self.assertTrue(ctype.startswith('text/plain'), 'Content-Type %r' % ctype)
        try:
            return parse_prometheus(r.raw.decode('utf-8'))
        except ValueError as e:
            self.fail(str(e))

    def total(self, samples, name, **labels):
        return sum(v for lb, v in samples.get(name, [])
                   if all(lb.get(k) == val for k, val in labels.items()))

    def test_healthz(self):
        r = self.env.http('GET', '/healthz')
        self.assertStatus(r, 200)
        self.assertJSON(r)
        self.assertEqual(r.body, {'status': 'ok', 'redis': 'up'})
        r = self.env.http('GET', '/healthz', token='whatever')
        self.assertStatus(r, 200, 'no authentication needed')
        r = self.env.http('HEAD', '/healthz')
        self.assertIn(r.status, (200, 405))

    def test_metrics_families(self):
        samples, types = self.metrics()
        for name, kind in (('ess_http_requests_total', 'counter'),
                           ('ess_assignment_seconds', 'histogram'),
                           ('ess_cases', 'gauge'), ('ess_queue_length', 'gauge'),
                           ('ess_redis_errors_total', 'counter'),
                           ('ess_redis_reconnects_total', 'counter')):
            with self.subTest(name):
                self.assertEqual(types.get(name), kind, 'TYPE of %s: %r' % (name, types))
        for name in ('ess_queue_length', 'ess_redis_errors_total', 'ess_redis_reconnects_total',
                     'ess_assignment_seconds_count', 'ess_assignment_seconds_sum'):
            self.assertIn(name, samples)
        self.assertTrue(any(lb.get('le') == '+Inf' for lb, _ in
                            samples.get('ess_assignment_seconds_bucket', [])))

    def test_metrics_follow_activity(self):
        env = self.env
        samples0, _ = self.metrics()
        requests0 = self.total(samples0, 'ess_http_requests_total')
        count0 = self.total(samples0, 'ess_assignment_seconds_count')

        tok = env.put_team_at('t1', 2.0, 10, POLICE_SW, capacity=2)
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        b = env.post_incident('detention', 'หญิงสาวถูกขังไว้ในห้องเช่า')
        q = [env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย') for _ in range(3)]
        o = env.post_incident('other', 'ขอคำปรึกษาเรื่องหนี้สินครัวเรือน')
        self.assertAssignedTo(a, 't1')
        self.assertAssignedTo(b, 't1')
        for x in q:
            self.assertQueued(x)
        self.assertQueued(o)
        env.http('GET', '/v1/nothing')
        self.assertStatus(env.ack(a['case_id'], tok), 200)

        samples, _ = self.metrics()
        self.assertGreaterEqual(self.total(samples, 'ess_http_requests_total'), requests0 + 9)
        with self.subTest('a 404 is counted'):
            self.assertGreaterEqual(
                sum(v for lb, v in samples['ess_http_requests_total']
                    if '404' in lb.values()), 1, samples['ess_http_requests_total'])
        with self.subTest('case gauges'):
            self.assertEqual(self.total(samples, 'ess_cases', category='detention',
                                        status='assigned'), 1)
            self.assertEqual(self.total(samples, 'ess_cases', category='detention',
                                        status='acknowledged'), 1)
            self.assertEqual(self.total(samples, 'ess_cases', category='threat',
                                        status='queued'), 3)
            self.assertEqual(self.total(samples, 'ess_cases', category='other',
                                        status='queued'), 1)
        with self.subTest('queue length'):
            self.assertEqual(self.total(samples, 'ess_queue_length'), 4)
        with self.subTest('assignment histogram'):
            count = self.total(samples, 'ess_assignment_seconds_count')
            self.assertGreaterEqual(count, count0 + 2)
            buckets = sorted(((float(lb['le']), v) for lb, v in
                              samples['ess_assignment_seconds_bucket']), key=lambda x: x[0])
            values = [v for _, v in buckets]
            self.assertEqual(values, sorted(values), 'buckets are cumulative')
            self.assertEqual(buckets[-1][0], float('inf'))
            self.assertEqual(buckets[-1][1], count)
            self.assertGreaterEqual(self.total(samples, 'ess_assignment_seconds_sum'), 0)

        # the gauges move with the cases
        env.resolve(a['case_id'], tok)
        samples, _ = self.metrics()
        self.assertEqual(self.total(samples, 'ess_cases', category='detention',
                                    status='acknowledged'), 0)
        harness.wait_until(lambda: self.total(self.metrics()[0], 'ess_queue_length') == 3,
                           message='one queued threat drained into the freed slot')

    def test_metrics_have_no_personal_data(self):
        env = self.env
        env.put_team_at('t1', 2.0, 10, POLICE_SW)
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        text = env.http('GET', '/metrics').raw.decode()
        req = a['_request']
        for v in (req['description'], req['reporter']['name'], req['reporter']['phone'],
                  req['location']['address'], a['case_id'], a['tracking_code']):
            self.assertNotIn(v, text)


if __name__ == '__main__':
    harness.main()
