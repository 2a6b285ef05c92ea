"""Dispatch to teams (DESIGN.md "Dispatch to a team"): the router POSTs the case to the team's
webhook with X-ESS-Signature (base64 HMAC-SHA256 of the body keyed with the team's token), retries
with backoff; with no acknowledgment by ack_deadline the claim is released and the next nearest
suitable team is claimed; after max_attempts the case goes to the operators' queue."""

import base64
import calendar
import hashlib
import hmac
import http.server
import json
import os
import socket
import threading
import time

import harness
from harness import RouterTest, wait_until

POLICE_SW = ['police', 'social_worker']


class FakeGateway:
    """A team gateway on 127.0.0.1: records every request; answers with the statuses queued in
    .statuses (200 once they run out)."""

    def __init__(self):
        self.requests = []
        self.statuses = []
        self.lock = threading.Lock()
        gateway = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(n)
                with gateway.lock:
                    gateway.requests.append({'path': self.path, 'headers': dict(self.headers),
                                             'body': body, 'at': time.time()})
                    status = gateway.statuses.pop(0) if gateway.statuses else 200
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', '2')
                self.end_headers()
                self.wfile.write(b'{}')

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return 'http://127.0.0.1:%d%s' % (self.port, path)

    def received(self, path=None):
        with self.lock:
            return [r for r in self.requests if path is None or r['path'] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def header(req, name):
    for k, v in req['headers'].items():
        if k.lower() == name.lower():
            return v
    return None


def rfc3339_to_epoch(text):
    base = text.split('.')[0].rstrip('Z')
    return calendar.timegm(time.strptime(base, '%Y-%m-%dT%H:%M:%S'))


class GatewayTest(RouterTest):
    """A router and a fake team gateway (self.gateway)."""

    def setUp(self):
        self.gateway = FakeGateway()
        self.addCleanup(self.gateway.close)
        super().setUp()


class WebhookDispatchTest(GatewayTest):

    def test_dispatch_payload_and_signature(self):
        env, gw = self.env, self.gateway
        token = env.put_team_at('bkk-03', 2.3, 135, POLICE_SW,
                                notify={'webhook': gw.url('/bkk-03')})
        t0 = time.time()
        a = env.post_incident('detention', 'พนักงานถูกนายจ้างขังไว้ในห้องเก็บของ')
        self.assertAssignedTo(a, 'bkk-03')
        reqs = wait_until(lambda: gw.received('/bkk-03'), 15, 0.05, 'the dispatch POST')
        req = reqs[0]
        self.assertTrue((header(req, 'Content-Type') or '').startswith('application/json'))
        sig = header(req, 'X-ESS-Signature')
        self.assertIsNotNone(sig, 'X-ESS-Signature header: %r' % req['headers'])
        expected = base64.b64encode(hmac.new(token.encode(), req['body'],
                                             hashlib.sha256).digest()).decode()
        self.assertEqual(sig, expected, 'HMAC-SHA256 of the raw body keyed with the team token')
        d = json.loads(req['body'])
        sent = a['_request']
        self.assertEqual(d['case_id'], a['case_id'])
        self.assertEqual(d['tracking_code'], a['tracking_code'])
        self.assertEqual(d['category'], 'detention')
        self.assertEqual(d['priority'], 'P1')
        self.assertEqual(d['description'], sent['description'])
        self.assertAlmostEqual(d['location']['lat'], sent['location']['lat'], places=6)
        self.assertAlmostEqual(d['location']['lon'], sent['location']['lon'], places=6)
        self.assertEqual(d['location']['address'], sent['location']['address'])
        self.assertEqual(d['reporter']['name'], sent['reporter']['name'])
        self.assertEqual(d['reporter']['phone'], sent['reporter']['phone'])
        self.assertDistance(d['distance_km'], a['team']['distance_km'], tol=0.01)
        self.assertRegex(d['ack_deadline'], harness.RFC3339_UTC)
        deadline = rfc3339_to_epoch(d['ack_deadline'])
        self.assertTrue(t0 + 30 <= deadline <= time.time() + 90,
                        'ack_deadline about 60 s ahead for detention: %s' % d['ack_deadline'])
        # the team acknowledges with its token
        self.assertStatus(env.ack(a['case_id'], token), 200)
        time.sleep(0.3)
        self.assertEqual(len(gw.received('/bkk-03')), 1, 'one dispatch, not repeated after ack')

    def test_dispatch_retried_after_failure(self):
        env, gw = self.env, self.gateway
        gw.statuses = [503, 500]
        token = env.put_team_at('t1', 2.0, 10, POLICE_SW, notify={'webhook': gw.url('/t1')})
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        self.assertAssignedTo(a, 't1')
        reqs = wait_until(lambda: (lambda r: r if len(r) >= 3 else None)(gw.received('/t1')),
                          30, 0.1, 'two retries after 503 and 500')
        bodies = {r['body'] for r in reqs}
        for r in reqs:
            d = json.loads(r['body'])
            self.assertEqual(d['case_id'], a['case_id'])
            expected = base64.b64encode(hmac.new(token.encode(), r['body'],
                                                 hashlib.sha256).digest()).decode()
            self.assertEqual(header(r, 'X-ESS-Signature'), expected)
        self.assertGreaterEqual(reqs[2]['at'] - reqs[1]['at'], 0.5 * (reqs[1]['at'] - reqs[0]['at']),
                                'backoff does not shrink')
        time.sleep(1.0)
        self.assertEqual(len(gw.received('/t1')), 3, 'no retry after a 2xx: %d bodies' % len(bodies))

    def test_unreachable_webhook_does_not_block(self):
        env = self.env
        dead = harness.free_port()
        env.put_team_at('t1', 2.0, 10, POLICE_SW, capacity=5,
                        notify={'webhook': 'http://127.0.0.1:%d/nowhere' % dead})
        for _ in range(3):
            t0 = time.monotonic()
            a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
            self.assertAssignedTo(a, 't1')
            self.assertLess(time.monotonic() - t0, harness.scaled(2.0),
                            'the answer does not wait for the dispatch')
        self.assertStatus(self.env.http('GET', '/healthz'), 200)


class DispatchAtOnceTest(GatewayTest):
    """A dispatch leaves as soon as its team is claimed, not at the outbox's next poll: with the
    poll stretched to a minute (ESS_OUTBOX_TICK_MS), a new case and a queued case a team's PUT
    takes still reach their gateways within seconds."""

    env_options = {'extra_env': {'ESS_OUTBOX_TICK_MS': '60000'}}

    def test_claims_wake_the_outbox(self):
        env, gw = self.env, self.gateway
        env.put_team_at('now-1', 2.0, 10, POLICE_SW, capacity=1,
                        notify={'webhook': gw.url('/now-1')})
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        self.assertAssignedTo(a, 'now-1')
        reqs = wait_until(lambda: gw.received('/now-1'), harness.scaled(10), 0.05,
                          'the new case dispatched long before the poll')
        self.assertEqual(json.loads(reqs[0]['body'])['case_id'], a['case_id'])

        b = env.post_incident('detention', 'มีเด็กถูกขังไว้ในห้อง')  # now-1 is full: queued
        self.assertEqual(b['status'], 'queued')
        env.put_team_at('now-2', 3.0, 20, POLICE_SW, notify={'webhook': gw.url('/now-2')})
        reqs = wait_until(lambda: gw.received('/now-2'), harness.scaled(10), 0.05,
                          'the queued case dispatched once a team came')
        self.assertEqual(json.loads(reqs[0]['body'])['case_id'], b['case_id'])


class NoProxyTest(RouterTest):
    """The router never uses a proxy: with http_proxy, https_proxy and ALL_PROXY in its environment
    it still connects to the gateway itself (else the address check would judge the proxy's
    address, not the gateway's)."""

    def setUp(self):
        self.gateway = FakeGateway()
        self.addCleanup(self.gateway.close)
        self.proxy = socket.socket()
        self.addCleanup(self.proxy.close)
        self.proxy.bind(('127.0.0.1', 0))
        self.proxy.listen(8)
        self.proxy.setblocking(False)
        url = 'http://127.0.0.1:%d' % self.proxy.getsockname()[1]
        self.env_options = {'extra_env': {
            'http_proxy': url, 'https_proxy': url, 'HTTPS_PROXY': url, 'ALL_PROXY': url,
            'all_proxy': url, 'no_proxy': None, 'NO_PROXY': None}}
        super().setUp()

    def test_webhook_delivered_directly(self):
        env, gw = self.env, self.gateway
        env.put_team_at('t1', 2.0, 10, POLICE_SW, notify={'webhook': gw.url('/t1')})
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        self.assertAssignedTo(a, 't1')
        reqs = wait_until(lambda: gw.received('/t1'), 15, 0.05, 'the dispatch POST')
        self.assertEqual(json.loads(reqs[0]['body'])['case_id'], a['case_id'])
        with self.assertRaises(BlockingIOError, msg='nothing reached the proxy'):
            self.proxy.accept()


class AckTimeoutTest(RouterTest):
    """Uses a copy of the default rule table with a 2 s acknowledgment timeout and 2 attempts."""

    def setUp(self):
        env = harness.Env()
        self.env = env
        self.addCleanup(self._finish_env)
        env.redis.start()
        env.rules = harness.short_deadline_rules(env.workdir, 2, 2)
        env.router = env.add_router()

    def test_unacknowledged_case_goes_to_next_team_then_queue(self):
        env = self.env
        tok_a = env.put_team_at('team-a', 1.0, 10, POLICE_SW)
        tok_b = env.put_team_at('team-b', 3.0, 190, POLICE_SW)
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertAssignedTo(a, 'team-a')
        cid = a['case_id']

        def on_b():
            v = env.case(cid)
            return v if (v.get('team') or {}).get('id') == 'team-b' else None
        view = wait_until(on_b, 15, 0.1, 'the claim moved to team-b after 2 s without ack')
        self.assertIn('reassigned', [e['status'] for e in view['timeline']])
        self.assertErrorBody(env.ack(cid, tok_a), 409, 'not_assigned',
                             'team-a no longer holds the case')
        # team-a's slot was released: a new incident next to it gets it
        b = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertAssignedTo(b, 'team-a')
        self.assertStatus(env.ack(b['case_id'], tok_a), 200)

        # team-b does not acknowledge either: after 2 attempts the case goes to the queue
        def escalated():
            tl = [e['status'] for e in harness.status_changes(env.case(cid))]
            return tl if 'queued' in tl[tl.index('reassigned'):] else None
        tl = wait_until(escalated, 15, 0.1, 'escalated to the queue after max_attempts')
        self.assertLessEqual(tl[:tl.index('queued', tl.index('reassigned'))].count('assigned'), 2,
                             'no more than max_attempts claims before the queue: %r' % tl)
        self.assertIsNotNone(tok_b)

    def test_acknowledged_case_stays(self):
        env = self.env
        tok_a = env.put_team_at('team-a', 1.0, 10, POLICE_SW)
        env.put_team_at('team-b', 3.0, 190, POLICE_SW)
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertAssignedTo(a, 'team-a')
        self.assertStatus(env.ack(a['case_id'], tok_a), 200)
        time.sleep(harness.scaled(4))  # twice the timeout: nothing may happen to it
        view = env.case(a['case_id'])
        self.assertEqual(view['status'], 'acknowledged')
        self.assertEqual(view['team']['id'], 'team-a')
        self.assertNotIn('reassigned', [e['status'] for e in view['timeline']])


if __name__ == '__main__':
    harness.main()
