"""Abuse resistance (issue 7): the team-token key lives outside Redis (required at start-up);
admin, operator and metrics tokens of at least 32 characters; /metrics behind ESS_METRICS_TOKEN;
one LINE group per team; team webhooks over https (http to loopback only); tracking lookups
limited per client address in Redis; body, deadline and connection limits of the HTTP server."""

import base64
import hashlib
import hmac
import http.client
import os
import select
import socket
import subprocess
import time

import harness
from harness import RouterTest

POLICE_SW = ['police', 'social_worker']
LONG_TOKEN = 'x' * 32


def derive(key, team_id, nonce):
    """A team token as auth_team_token_derive makes it from key."""
    mac = hmac.new(key.encode(), ('%s:%s' % (team_id, nonce)).encode(), hashlib.sha256).digest()
    return team_id + '.' + base64.urlsafe_b64encode(mac).decode().rstrip('=')


class StartupRefusalTest(RouterTest):

    def run_router(self, extra_env, timeout=15.0):
        """Runs a daemon expected to stop by itself; returns (status, stdout + stderr)."""
        env = self.env
        r = harness.Router(env.workdir, env.redis.url, env.admin_token, env.operator_tokens,
                           name='probe', extra_env=extra_env)
        r.spawn()
        try:
            status = r.proc.wait(harness.scaled(timeout))
        except subprocess.TimeoutExpired:
            r.stop()
            self.fail('the daemon kept running with %r' % (extra_env,))
        text = ''
        for path in (r.stdout_path, r.stderr_path):
            with open(path, encoding='utf-8', errors='replace') as f:
                text += f.read()
        return status, text

    def test_no_token_secret_refuses_to_start(self):
        status, text = self.run_router({'ESS_TOKEN_SECRET': None})
        self.assertNotEqual(status, 0)
        self.assertIn('ESS_TOKEN_SECRET', text)
        self.assertIn('ESS_TOKEN_SECRET_FILE', text, 'the message says how to give one')

    def test_token_secret_file(self):
        path = os.path.join(self.env.workdir, 'token-secret')
        with open(path, 'w') as f:
            f.write(self.env.token_secret + '\n')
        r = self.env.add_router(name='from-file', extra_env={'ESS_TOKEN_SECRET': None,
                                                             'ESS_TOKEN_SECRET_FILE': path})
        token = self.env.put_team('t1', 13.75, 100.5, POLICE_SW)
        self.assertStatus(r.http('POST', '/v1/teams/t1/position', {'lat': 13.7, 'lon': 100.5},
                                 token=token), 200)

    def test_short_tokens_refuse_to_start(self):
        for name, value in (('ESS_ADMIN_TOKEN', 'admin-demo-token'),
                            ('ESS_OPERATOR_TOKENS', LONG_TOKEN + ',op-short'),
                            ('ESS_METRICS_TOKEN', 'metrics'),
                            ('ESS_TOKEN_SECRET', 'secret')):
            with self.subTest(name=name):
                status, text = self.run_router({name: value})
                self.assertNotEqual(status, 0)
                self.assertIn(name, text)
                self.assertIn('at least 32', text)


class TokenSecretTest(RouterTest):

    def test_tokens_come_from_the_configured_secret(self):
        env = self.env
        self.assertEqual(env.redis.keys('test:secret'), [], 'no key is made in Redis')
        token = env.put_team('t1', 13.75, 100.5, POLICE_SW)
        nonce = env.redis.command('HGET', 'test:team:t1', 'token_nonce').decode()
        self.assertEqual(token, derive(env.token_secret, 't1', nonce),
                         'the token is derived from ESS_TOKEN_SECRET')
        self.assertStatus(env.position('t1', 13.7, 100.5), 200)

    def test_key_left_in_redis_is_not_used(self):
        env = self.env
        legacy = 'legacy-key-' + os.urandom(16).hex()
        env.redis.command('SET', 'test:secret', legacy)
        env.router.stop()
        env.router.start()
        token = env.put_team('t1', 13.75, 100.5, POLICE_SW)
        nonce = env.redis.command('HGET', 'test:team:t1', 'token_nonce').decode()
        minted = derive(legacy, 't1', nonce)
        self.assertNotEqual(minted, token)
        self.assertErrorBody(env.position('t1', 13.7, 100.5, token=minted), 401, 'unauthorized',
                             'a token minted with the key found in Redis')
        self.assertStatus(env.position('t1', 13.7, 100.5, token=token), 200)
        harness.wait_until(lambda: 'ESS_TOKEN_SECRET_FILE' in env.router.stderr_tail(200),
                           message='the start-up message on moving the key out of Redis')
        log = env.router.stderr_tail(200)
        self.assertIn('test:secret', log)
        self.assertNotIn(legacy, log)


class MetricsTokenTest(RouterTest):
    env_options = {'extra_env': {'ESS_METRICS_TOKEN': 'metrics-' + 'm' * 32}}

    def test_metrics_needs_its_token(self):
        env = self.env
        self.assertErrorBody(env.http('GET', '/metrics'), 401, 'unauthorized', 'no token')
        self.assertErrorBody(env.http('GET', '/metrics', token=env.admin_token), 401,
                             'unauthorized', 'the admin token is not the metrics token')
        r = env.http('GET', '/metrics', token='metrics-' + 'm' * 32)
        self.assertStatus(r, 200)
        self.assertIn(b'ess_', r.raw)
        self.assertStatus(env.http('GET', '/healthz'), 200, '/healthz stays open')


class MetricsOpenTest(RouterTest):

    def test_metrics_open_without_a_token(self):
        self.assertStatus(self.env.http('GET', '/metrics'), 200)


class LineGroupTest(RouterTest):

    def put(self, team_id, group):
        env = self.env
        return env.http('PUT', '/v1/teams/' + team_id,
                        {'name': 'ทีม ' + team_id, 'skills': POLICE_SW, 'lat': 13.75, 'lon': 100.5,
                         'notify': {'line_to': group}}, token=env.admin_token)

    def test_one_group_one_team(self):
        g1, g2 = 'C' + 'a1' * 16, 'C' + 'b2' * 16
        self.assertStatus(self.put('t1', g1), 201)
        self.assertErrorBody(self.put('t2', g1), 409, 'line_to_taken', 'a second team, same group')
        self.assertEqual(self.env.redis.command('EXISTS', 'test:team:t2'), 0,
                         'the refused team was not created')
        self.assertStatus(self.put('t1', g1), 200, 'the team keeps its own group')
        self.assertStatus(self.put('t1', g2), 200, 'the team moves to another group')
        self.assertStatus(self.put('t2', g1), 201, 'the group it left is free')
        self.assertErrorBody(self.put('t2', g2), 409, 'line_to_taken')
        self.assertEqual(self.env.redis.command('GET', 'test:team:line:' + g1), b't2')
        self.assertEqual(self.env.redis.command('GET', 'test:team:line:' + g2), b't1')


class WebhookUrlTest(RouterTest):

    def put(self, team_id, url):
        env = self.env
        return env.http('PUT', '/v1/teams/' + team_id,
                        {'name': 'ทีม ' + team_id, 'skills': POLICE_SW, 'lat': 13.75, 'lon': 100.5,
                         'notify': {'webhook': url}}, token=env.admin_token)

    def test_refused_urls(self):
        for url in ('http://169.254.169.254/latest/meta-data/', 'http://gw.example/t1',
                    'http://10.0.0.5/t1', 'http://127.0.0.1@gw.example/t1', 'ftp://gw.example/'):
            with self.subTest(url=url):
                self.assertErrorBody(self.put('t1', url), 400, 'invalid_field')
        self.assertEqual(self.env.redis.command('EXISTS', 'test:team:t1'), 0)

    def test_accepted_urls(self):
        for i, url in enumerate(('https://gw.example/t1', 'http://127.0.0.1:8090/t1',
                                 'http://localhost:8090/t1', 'http://[::1]:8090/t1')):
            with self.subTest(url=url):
                self.assertStatus(self.put('t%d' % i, url), 201)


class TrackRateTest(RouterTest):
    """ESS_TRACK_RATE_PER_MIN (default 30) lookups per client address and minute, in Redis."""

    def setUp(self):
        super().setUp()
        self.code = self.env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')['tracking_code']

    def lookup(self, router=None, xff=None):
        headers = {'X-Forwarded-For': xff} if xff else None
        if xff:
            self.env.pii.add(xff.split(',')[-1].strip())
        return self.env.http('GET', '/v1/track/' + self.code, headers=headers, router=router)

    def assertLimited(self, r, msg=None):
        self.assertErrorBody(r, 429, 'rate_limited', msg)
        retry = r.headers.get('retry-after')
        self.assertIsNotNone(retry, 'Retry-After')
        self.assertTrue(1 <= int(retry) <= 60, retry)

    def test_31st_lookup_in_a_minute_is_refused(self):
        self.fresh_minute()
        for i in range(30):
            self.assertStatus(self.lookup(), 200, 'lookup %d' % (i + 1))
        self.assertLimited(self.lookup())
        self.assertLimited(self.lookup(), 'and the next')
        self.assertErrorBody(self.env.http('GET', '/v1/track/HM-7K3'), 400,
                             'invalid_tracking_code', 'a malformed code needs no lookup')

    def test_untrusted_peer_forwarded_for_is_ignored(self):
        self.fresh_minute()
        for i in range(30):
            self.assertStatus(self.lookup(xff='203.0.113.%d' % (i + 1)), 200)
        self.assertLimited(self.lookup(xff='203.0.113.99'))

    def test_trusted_proxy_names_the_client(self):
        env = self.env
        proxy = env.add_router(name='behind-proxy',
                               extra_env={'ESS_TRUSTED_PROXIES': '10.9.9.9, 127.0.0.0/8'})
        self.fresh_minute()
        for i in range(30):
            self.assertStatus(self.lookup(proxy, xff='198.51.100.7, 203.0.113.5'), 200)
        self.assertLimited(self.lookup(proxy, xff='198.51.100.7, 203.0.113.5'))
        self.assertLimited(self.lookup(proxy, xff='203.0.113.5'), )
        self.assertStatus(self.lookup(proxy, xff='203.0.113.5, 203.0.113.6'), 200,
                          'another client behind the same proxy')
        self.assertStatus(self.lookup(proxy), 200, 'the proxy itself, without the header')

    def test_two_routers_share_one_count(self):
        env = self.env
        second = env.add_router(name='second')
        self.fresh_minute()
        for i in range(15):
            self.assertStatus(self.lookup(env.router), 200)
            self.assertStatus(self.lookup(second), 200)
        self.assertLimited(self.lookup(second))
        self.assertLimited(self.lookup(env.router))
        for key in env.redis.keys('test:rate:*'):
            self.assertNotIn('127.0.0.1', key, 'the counter key holds no address')

    def test_counter_key_is_keyed_with_the_secret(self):
        """A plain SHA-256 of an IPv4 address is reversed by trying all 2^32: the key is an HMAC
        under a key derived from ESS_TOKEN_SECRET, which Redis never sees."""
        env = self.env
        self.fresh_minute()
        self.assertStatus(self.lookup(), 200)
        peer = bytes([127, 0, 0, 1])
        plain = hashlib.sha256(peer).hexdigest()[:32]
        sub = hmac.new(env.token_secret.encode(), b'ess-router rate limit key',
                       hashlib.sha256).digest()
        keyed = hmac.new(sub, peer, hashlib.sha256).hexdigest()[:32]
        keys = env.redis.keys('test:rate:*')
        self.assertEqual(len(keys), 1, keys)
        self.assertNotIn(plain, keys[0], 'not a plain SHA-256 of the address')
        self.assertTrue(keys[0].startswith('test:rate:track:%s:' % keyed), keys[0])


class WebhookAddressTest(RouterTest):

    def test_name_that_resolves_to_loopback_is_not_reached(self):
        """https://127.1:PORT is a name (not how a loopback host is written), so it passes the URL
        check; it resolves to 127.0.0.1, which the connection check refuses."""
        env = self.env
        listener = socket.socket()
        self.addCleanup(listener.close)
        listener.bind(('127.0.0.1', 0))
        listener.listen(8)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        env.put_team_at('t1', 2.0, 10, POLICE_SW,
                        notify={'webhook': 'https://127.1:%d/hook' % port})
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')

        def refused():
            r = env.get_case(a['case_id'])
            notes = [e.get('note', '') for e in r.body.get('timeline', [])
                     if isinstance(e, dict) and e.get('event') == 'dispatch']
            return [n for n in notes if 'address refused' in n]
        harness.wait_until(refused, 20, 0.1, 'a dispatch attempt refused by address')
        with self.assertRaises(BlockingIOError, msg='no connection reached the listener'):
            listener.accept()


def closed_by_server(sock, wait):
    """True when the server closed sock (EOF or reset) within wait seconds; False when nothing
    came; raises when the server sent bytes instead."""
    ready, _, _ = select.select([sock], [], [], wait)
    if not ready:
        return False
    try:
        data = sock.recv(4096)
    except (ConnectionResetError, BrokenPipeError):
        return True
    if data:
        raise AssertionError('the server answered instead of closing: %r' % data[:200])
    return True


class ServerLimitsTest(RouterTest):

    def test_content_length_over_1_mib_refused_at_once(self):
        env = self.env
        head = (b'POST /v1/incidents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n'
                b'Content-Type: application/json\r\nContent-Length: %d\r\n\r\n'
                % (env.operator_token.encode(), 2 * 1024 * 1024))
        r = harness.raw_request(env.router.port, head + b'{"category": "threat"', timeout=20)
        self.assertIsNotNone(r, 'answered without waiting for a body it will not take')
        self.assertEqual(r.status, 413)
        self.assertStatus(env.http('GET', '/healthz'), 200)

    def test_trickling_client_is_cut_at_the_deadline(self):
        env = self.env
        router = env.add_router(name='deadline', extra_env={'ESS_REQUEST_TIMEOUT_S': '2'})
        sock = socket.create_connection(('127.0.0.1', router.port), timeout=10)
        self.addCleanup(sock.close)
        sock.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n')
        lines = 0
        closed = False
        # one header line every 0.5 s (never idle for the 2 s read timeout), for up to 15 s
        while lines < 30 and not closed:
            try:
                sock.sendall(b'X-Pad-%d: a\r\n' % lines)
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            lines += 1
            closed = closed_by_server(sock, 0.5)
        self.assertTrue(closed, 'the connection outlived its deadline (%d lines sent)' % lines)
        self.assertLess(lines, 30)
        self.assertStatus(router.http('GET', '/healthz'), 200, 'the router still answers')

    def test_keep_alive_requests_each_get_a_deadline(self):
        env = self.env
        router = env.add_router(name='keepalive', extra_env={'ESS_REQUEST_TIMEOUT_S': '2'})
        conn = http.client.HTTPConnection('127.0.0.1', router.port, timeout=10)
        self.addCleanup(conn.close)
        for i in range(5):
            conn.request('GET', '/healthz')
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.status, 200, 'request %d on one connection' % (i + 1))
            time.sleep(0.6)  # five requests span longer than one deadline

    def test_connections_over_the_cap_are_closed(self):
        env = self.env
        router = env.add_router(name='capped', extra_env={'ESS_MAX_CONNECTIONS': '4'})
        idle = [socket.create_connection(('127.0.0.1', router.port), timeout=10)
                for _ in range(4)]
        for s in idle:
            self.addCleanup(s.close)
        extra = socket.create_connection(('127.0.0.1', router.port), timeout=10)
        self.addCleanup(extra.close)
        self.assertTrue(closed_by_server(extra, harness.scaled(10)),
                        'a fifth connection is closed at once')
        for s in idle:
            self.assertFalse(closed_by_server(s, 0), 'the first four stay open')
        for s in idle:
            s.close()
        def healthy():
            try:
                return router.http('GET', '/healthz').status == 200
            except OSError:  # closed: the router has not yet seen the others go
                return False
        harness.wait_until(healthy, message='a connection is taken again once others closed')
        for i in range(12):
            self.assertStatus(router.http('GET', '/healthz'), 200,
                              'request %d: closed connections no longer count' % (i + 1))

    def test_connections_over_the_per_client_cap_are_closed(self):
        env = self.env
        # a deadline far past the waits below: only the cap can close a connection here
        router = env.add_router(name='per-client',
                                extra_env={'ESS_MAX_CONNECTIONS_PER_CLIENT': '3',
                                           'ESS_REQUEST_TIMEOUT_S': '120'})

        def connect(source):
            s = socket.create_connection(('127.0.0.1', router.port), timeout=10,
                                         source_address=(source, 0))
            self.addCleanup(s.close)
            return s
        idle = [connect('127.0.0.1') for _ in range(3)]
        extra = connect('127.0.0.1')
        self.assertTrue(closed_by_server(extra, harness.scaled(10)),
                        'a fourth connection from one address is closed at once')
        other = connect('127.0.0.2')
        other.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
        other.settimeout(harness.scaled(10))
        self.assertTrue(other.recv(64).startswith(b'HTTP/1.1 200'),
                        'another address is served meanwhile')
        for s in idle:
            self.assertFalse(closed_by_server(s, 0), 'the first three stay open')
        idle[0].close()

        def healthy():
            try:
                return router.http('GET', '/healthz').status == 200
            except OSError:  # closed: the router has not yet seen the other go
                return False
        harness.wait_until(healthy, message='a connection is taken again once one closed')


if __name__ == '__main__':
    harness.main()
