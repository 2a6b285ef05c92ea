"""Partner agencies and their feed (DESIGN.md "The shared record"): PUT and GET /v1/agencies,
agency tokens, GET /v1/feed on a consumer group per agency (categories, identifying data only with
consent, redelivery after ESS_FEED_VISIBILITY_S, block_ms woken by a new entry), POST
/v1/feed/ack, the audit."""

import re
import threading
import time

import harness
from harness import RouterTest, scaled


class FeedTest(RouterTest):
    env_options = {'extra_env': {'ESS_FEED_VISIBILITY_S': '1'}}

    def put_agency(self, agency_id, body, status=(200, 201)):
        r = self.env.http('PUT', '/v1/agencies/' + agency_id, body, token=self.env.admin_token)
        self.assertStatus(r, status, 'put agency ' + agency_id)
        if 'token' in r.body:
            self.env.secrets.add(r.body['token'])
        return r

    def feed(self, token, query=''):
        r = self.env.http('GET', '/v1/feed' + query, token=token)
        self.assertStatus(r, 200, 'feed')
        return r.body['entries']

    def ack(self, token, ids):
        r = self.env.http('POST', '/v1/feed/ack', {'ids': ids}, token=token)
        self.assertStatus(r, 200, 'ack')
        return r.body['acknowledged']

    def consent(self, case_id, share):
        r = self.env.http('POST', '/v1/cases/%s/consent' % case_id,
                          {'share_with_agencies': share, 'basis': 'consent'},
                          token=self.env.operator_token)
        self.assertStatus(r, 200, 'consent')

    def test_accounts_and_roles(self):
        env = self.env
        r = env.http('PUT', '/v1/agencies/dsdw', {'name': 'x'}, token=env.admin_token)
        self.assertErrorBody(r, 400, 'missing_field')
        r = env.http('PUT', '/v1/agencies/dsdw', {'name': 'x', 'categories': ['fire'],
                                                  'identifying': False}, token=env.admin_token)
        self.assertErrorBody(r, 400, 'invalid_field')
        r = self.put_agency('dsdw', {'name': 'พม.', 'categories': ['abuse_risk', 'other'],
                                     'identifying': True}, 201)
        token = r.body['token']
        self.assertTrue(token.startswith('AG.') and len(token) == 46, token)
        r = self.put_agency('dsdw', {'identifying': False}, 200)
        self.assertNotIn('token', r.body)
        self.assertFalse(r.body['identifying'])
        r = env.http('GET', '/v1/agencies', token=env.admin_token)
        self.assertStatus(r, 200)
        self.assertEqual([a['agency_id'] for a in r.body['agencies']], ['dsdw'])
        self.assertEqual(r.body['agencies'][0]['categories'], ['abuse_risk', 'other'])
        self.assertNotIn('token_hash', r.body['agencies'][0])
        self.assertErrorBody(env.http('GET', '/v1/feed'), 401)
        self.assertErrorBody(env.http('GET', '/v1/feed', token=env.operator_token), 403)
        self.assertErrorBody(env.http('GET', '/v1/agencies', token=token), 403)
        self.assertErrorBody(env.http('GET', '/v1/cases', token=token), 403)
        self.assertEqual(self.feed(token), [])
        self.assertErrorBody(env.http('GET', '/v1/feed?count=0', token=token), 400)
        self.assertErrorBody(env.http('GET', '/v1/feed?block_ms=30001', token=token), 400)
        self.assertErrorBody(env.http('POST', '/v1/feed/ack', {'ids': ['x']}, token=token), 400)
        self.assertErrorBody(env.http('POST', '/v1/feed/ack', {'ids': []}, token=token), 400)
        r = self.put_agency('dsdw', {'rotate_token': True}, 200)
        self.assertErrorBody(env.http('GET', '/v1/feed', token=token), 401)
        token = r.body['token']
        self.assertEqual(self.feed(token), [])
        self.put_agency('dsdw', {'disabled': True}, 200)
        self.assertErrorBody(env.http('GET', '/v1/feed', token=token), 401)

    def test_two_agencies_consent_redelivery_and_audit(self):
        env = self.env
        police = self.put_agency('police', {'name': 'สตช.', 'categories': ['threat'],
                                            'identifying': True}, 201).body['token']
        mental = self.put_agency('dmh', {'name': 'กรมสุขภาพจิต',
                                         'categories': ['mental_crisis'],
                                         'identifying': False}, 201).body['token']
        threat = env.post_incident(category='threat', description='ถูกขู่ทำร้ายที่ตลาด')
        crisis = env.post_incident(category='mental_crisis', description='เพื่อนบอกจะทำร้ายตัวเอง')
        pol = self.feed(police)
        self.assertTrue(pol, 'the threat case is in the police feed')
        self.assertEqual({e['case_id'] for e in pol}, {threat['case_id']})
        for e in pol:
            self.assertEqual(set(e) >= {'id', 'case_id', 'event', 'at', 'case'}, True, e)
            self.assertNotIn('reporter', e, 'no consent yet: no identifying data')
            self.assertNotIn('description', e)
        men = self.feed(mental)
        self.assertEqual({e['case_id'] for e in men}, {crisis['case_id']})
        # not acknowledged: again after the visibility timeout, same ids, before new ones
        harness.wait_until(lambda: [e['id'] for e in self.feed(police)] ==
                           [e['id'] for e in pol], timeout=scaled(10),
                           message='redelivery after ESS_FEED_VISIBILITY_S')
        self.ack(police, [e['id'] for e in pol])
        self.ack(mental, [e['id'] for e in men])

        self.consent(threat['case_id'], True)
        self.consent(crisis['case_id'], True)
        pol = self.feed(police)
        self.assertTrue(pol)
        for e in pol:
            self.assertEqual(e['reporter']['name'], threat['_request']['reporter']['name'])
            self.assertIsInstance(e['description'], str)
        men = self.feed(mental)
        for e in men:
            self.assertNotIn('reporter', e, 'identifying false: never identifying data')
        self.ack(police, [e['id'] for e in pol])
        self.ack(mental, [e['id'] for e in men])
        self.consent(threat['case_id'], False)
        pol = self.feed(police)
        self.assertTrue(pol)
        for e in pol:
            self.assertNotIn('reporter', e, 'consent withdrawn: none')
        self.assertEqual(self.ack(police, [e['id'] for e in pol]), len(pol))
        self.assertEqual(self.feed(police), [])

        entries = []
        for _, f in env.redis.command('XRANGE', env.prefix + 'audit', '-', '+'):
            d = {f[i].decode(): f[i + 1].decode() for i in range(0, len(f), 2)}
            if d['actor_id'] == 'police':
                entries.append(d)
        self.assertTrue(all(d['actor_kind'] == 'agency' for d in entries), entries)
        self.assertIn('read', [d['action'] for d in entries])
        exports = [d['case_id'] for d in entries if d['action'] == 'export']
        self.assertEqual(set(exports), {threat['case_id']}, 'export only with consent')

    def test_block_ms_wakes_and_times_out(self):
        env = self.env
        token = self.put_agency('police', {'name': 'สตช.', 'categories': ['threat'],
                                           'identifying': False}, 201).body['token']
        self.assertEqual(self.feed(token, '?block_ms=300'), [], 'times out empty')
        got = {}

        def reader():
            got['r'] = env.http('GET', '/v1/feed?block_ms=20000', token=token)

        t = threading.Thread(target=reader)
        t.start()
        time.sleep(scaled(0.5))  # the read is parked by then (it passes either way)
        threat = env.post_incident(category='threat', description='ถูกขู่ทำร้าย')
        t.join(scaled(25))
        self.assertFalse(t.is_alive())
        self.assertStatus(got['r'], 200)
        self.assertEqual({e['case_id'] for e in got['r'].body['entries']}, {threat['case_id']})

    def feed_gauges(self):
        """{agency: (lag, pending)} from /metrics."""
        r = self.env.http('GET', '/metrics')
        self.assertStatus(r, 200)
        out = {}
        for line in r.raw.decode('utf-8').splitlines():
            m = re.match(r'ess_feed_(lag|pending)\{agency="([^"]+)"\} (-?\d+)$', line)
            if m:
                lag, pending = out.get(m.group(2), (None, None))
                if m.group(1) == 'lag':
                    lag = int(m.group(3))
                else:
                    pending = int(m.group(3))
                out[m.group(2)] = (lag, pending)
        return out

    def test_metrics_gauges(self):
        """ess_feed_lag and ess_feed_pending per agency, read by the sweep every 15 s."""
        r = self.env.http('GET', '/metrics')
        self.assertIn('# TYPE ess_feed_lag gauge', r.raw.decode('utf-8'))
        token = self.put_agency('police', {'name': 'สตช.', 'categories': ['threat'],
                                           'identifying': False}, 201).body['token']
        self.env.post_incident(category='threat', description='ถูกขู่ทำร้ายที่ท่าเรือ')
        self.env.post_incident(category='gathering', description='มีคนรวมตัวหน้าอาคาร')
        harness.wait_until(lambda: self.feed_gauges().get('police', (0, 0))[0] > 0,
                           timeout=scaled(40), message='lag of the unread entries in /metrics')
        self.assertEqual(self.feed_gauges()['police'][1], 0, 'nothing read: nothing pending')
        entries = self.feed(token, '?count=1000')
        self.assertTrue(entries)
        harness.wait_until(lambda: self.feed_gauges().get('police') == (0, len(entries)),
                           timeout=scaled(40), message='lag 0, the entries read pending')
        self.ack(token, [e['id'] for e in entries])
        harness.wait_until(lambda: self.feed_gauges().get('police') == (0, 0),
                           timeout=scaled(40), message='acknowledged: nothing pending')


if __name__ == '__main__':
    harness.main()
