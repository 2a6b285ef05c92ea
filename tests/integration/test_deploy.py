"""The deployment examples of scripts/deploy/ (issue 15, item 6).

- The nginx front (nginx-ess-router.conf): `nginx -t` accepts it, and run for real in front of a
  router (its ports, certificate and log paths rewritten into a temporary folder, a self-signed
  certificate made with openssl) it passes the client's address as ESS_TRUSTED_PROXIES expects
  (and never a client's own X-Forwarded-For), streams GET /v1/events as events are written,
  refuses bodies past the router's limits with the API's JSON error, rate-limits the public
  lookups, hides /metrics, redirects http to https, and skips a router that is down.
  Skipped when nginx is not installed (scripts/test does not install it: Debian's package starts a
  system nginx on port 80 when installed).
- The systemd unit (ess-router.service): `systemd-analyze verify` accepts it (ExecStart pointed at
  the router under test) and `systemd-analyze security --offline` rates its exposure below 2.0 when
  that command exists. Skipped without systemd-analyze.

Nothing here needs root; every process started is stopped by its PID."""

import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.parse

import harness
from harness import RouterTest

DEPLOY = os.path.join(harness.REPO_ROOT, 'scripts', 'deploy')
NGINX_CONF = os.path.join(DEPLOY, 'nginx-ess-router.conf')
UNIT = os.path.join(DEPLOY, 'ess-router.service')
NGINX = shutil.which('nginx') or next(
    (p for p in ('/usr/sbin/nginx', '/sbin/nginx') if os.access(p, os.X_OK)), None)
SYSTEMD_ANALYZE = shutil.which('systemd-analyze')
CLIENT_ADDR = '127.0.0.5'  # a loopback address of its own: what nginx sees the client as


def make_certificate(folder):
    """A self-signed certificate and its key for 127.0.0.1, made with openssl."""
    cert, key = os.path.join(folder, 'fullchain.pem'), os.path.join(folder, 'privkey.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
                    '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def nginx_config(folder, http_port, https_port, upstreams):
    """The example rewritten to run from folder: listening on 127.0.0.1 only, its routers at
    upstreams (ports), certificate, logs, pid and temporary files in folder; wrapped in the main
    and http contexts it is written for. Returns the main file's path."""
    with open(NGINX_CONF, encoding='utf-8') as f:
        text = f.read()
    text = text.replace('/var/log/nginx/', folder + '/')
    text = text.replace('/etc/ssl/ess-router/', folder + '/')
    text = re.sub(r'^\s*listen \[::\]:\d+.*\n', '', text, flags=re.M)
    text = re.sub(r'listen 80;', 'listen 127.0.0.1:%d;' % http_port, text)
    text = re.sub(r'listen 443 ', 'listen 127.0.0.1:%d ' % https_port, text)
    servers = iter(upstreams)
    text, n = re.subn(r'server 127\.0\.0\.1:\d+',
                      lambda m: 'server 127.0.0.1:%d' % next(servers), text)
    assert n == len(upstreams), 'the example names %d routers' % n
    site = os.path.join(folder, 'ess-router.conf')
    with open(site, 'w', encoding='utf-8') as f:
        f.write(text)
    main = os.path.join(folder, 'nginx.conf')
    temp = '\n'.join('    %s_temp_path %s/%s;' % (k, folder, k)
                     for k in ('client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'))
    with open(main, 'w', encoding='utf-8') as f:
        f.write('pid %s/nginx.pid;\nerror_log %s/main-error.log;\n'
                'worker_processes 1;\nevents { worker_connections 256; }\n'
                'http {\n    access_log off;\n%s\n    include %s;\n}\n'
                % (folder, folder, temp, site))
    return main


def nginx_cmd(folder, main, *extra):
    return [NGINX, '-p', folder + '/', '-c', main, '-e', os.path.join(folder, 'startup.log')] \
        + list(extra)


@unittest.skipIf(NGINX is None, 'nginx is not installed (apt-get install nginx)')
class NginxConfigTest(unittest.TestCase):

    def test_nginx_t_accepts_the_example(self):
        folder = tempfile.mkdtemp(prefix='ess-nginx-')
        self.addCleanup(shutil.rmtree, folder, True)
        make_certificate(folder)
        main = nginx_config(folder, harness.free_port(), harness.free_port(),
                            [harness.free_port(), harness.free_port()])
        r = subprocess.run(nginx_cmd(folder, main, '-t'), capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('test is successful', r.stderr)


def https_request(port, method, path, body=None, headers=None, token=None, timeout=10.0):
    """One request over TLS to nginx on 127.0.0.1:port, from CLIENT_ADDR; returns a harness Resp."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection('127.0.0.1', port, timeout=harness.scaled(timeout),
                                       context=ctx, source_address=(CLIENT_ADDR, 0))
    hdrs = {'Connection': 'close'}
    if token:
        hdrs['Authorization'] = 'Bearer ' + token
    data = harness.encode_body(body)
    if data is not None:
        hdrs['Content-Type'] = 'application/json'
    hdrs.update(headers or {})
    try:
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        return harness._make_resp(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


@unittest.skipIf(NGINX is None, 'nginx is not installed (apt-get install nginx)')
class NginxFrontTest(RouterTest):
    """nginx with the example in front of a router; the example's first router is a port where
    nothing listens (a router that is down), the second the router under test."""

    env_options = {'extra_env': {'ESS_TRUSTED_PROXIES': '127.0.0.1',
                                 'ESS_MAX_CONNECTIONS_PER_CLIENT': '0',
                                 # the rate limit met in these tests must be nginx's
                                 'ESS_TRACK_RATE_PER_MIN': '100000'}}

    def setUp(self):
        super().setUp()
        folder = tempfile.mkdtemp(prefix='ess-nginx-')
        os.chmod(folder, 0o755)  # nginx's worker may run as another user when the test is root
        self.folder = folder
        make_certificate(folder)
        self.http_port, self.port = harness.free_port(), harness.free_port()
        main = nginx_config(folder, self.http_port, self.port,
                            [harness.free_port(), self.env.router.port])
        log = open(os.path.join(folder, 'nginx.out'), 'wb')
        self.nginx = subprocess.Popen(nginx_cmd(folder, main, '-g', 'daemon off;'),
                                      stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        self.addCleanup(self.stop_nginx)
        deadline = time.monotonic() + harness.scaled(10)
        while True:
            try:
                if https_request(self.port, 'GET', '/healthz').status == 200:
                    break
            except OSError:
                pass
            if self.nginx.poll() is not None or time.monotonic() > deadline:
                self.fail('nginx did not start:\n' + self.nginx_output())
            time.sleep(0.1)

    def nginx_output(self):
        out = []
        for name in ('nginx.out', 'startup.log', 'main-error.log', 'ess-router.error.log'):
            try:
                with open(os.path.join(self.folder, name), encoding='utf-8',
                          errors='replace') as f:
                    out.append('%s:\n%s' % (name, f.read()[-3000:]))
            except OSError:
                pass
        return '\n'.join(out)

    def stop_nginx(self):
        if self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)  # graceful: workers finish, then exit
            try:
                self.nginx.wait(harness.scaled(10))
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def access_log(self):
        with open(os.path.join(self.folder, 'ess-router.access.log'), encoding='utf-8') as f:
            return f.read()

    def test_client_address_reaches_the_router(self):
        """The router records the address nginx was connected from (through X-Forwarded-For
        from a trusted proxy), not a forged X-Forwarded-For the client sent itself."""
        env = self.env
        body = env.incident_body(category='threat')
        env.note_incident_pii(body)
        r = https_request(self.port, 'POST', '/v1/incidents', body, token=env.operator_token,
                          headers={'X-Forwarded-For': '203.0.113.9'})
        self.assertStatus(r, 201)
        case_id = r.body['case_id']
        r = https_request(self.port, 'GET', '/v1/cases/' + case_id, token=env.operator_token,
                          headers={'X-Forwarded-For': '198.51.100.7, 203.0.113.9'})
        self.assertStatus(r, 200)
        reads = env.audit_entries(action='read', case_id=case_id)
        self.assertEqual([e['ip'] for e in reads], [CLIENT_ADDR], reads)

    def test_event_stream_unbuffered(self):
        """An event written on GET /v1/events reaches the console through nginx at once (not when
        a buffer fills), and the stream stays open."""
        env = self.env
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        raw = socket.create_connection(('127.0.0.1', self.port), timeout=harness.scaled(10),
                                       source_address=(CLIENT_ADDR, 0))
        s = ctx.wrap_socket(raw, server_hostname='127.0.0.1')
        try:
            s.sendall(('GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream'
                       '\r\nAuthorization: Bearer %s\r\n\r\n' % env.operator_token).encode())
            got = b''
            while b'\r\n\r\n' not in got:
                got += s.recv(4096)
            self.assertTrue(got.startswith(b'HTTP/1.1 200'), got[:200])
            self.assertIn(b'text/event-stream', got)
            body = env.incident_body(category='threat')
            env.note_incident_pii(body)
            sent = time.monotonic()
            r = https_request(self.port, 'POST', '/v1/incidents', body, token=env.operator_token)
            self.assertStatus(r, 201)
            s.settimeout(harness.scaled(5))
            while r.body['case_id'].encode() not in got:
                piece = s.recv(4096)
                self.assertTrue(piece, 'the stream ended')
                got += piece
            self.assertLess(time.monotonic() - sent, harness.scaled(2))
            self.assertIn(b'event: case', got)
        finally:
            s.close()

    def test_body_limits(self):
        """A body past the router's 64 KiB is refused by nginx with the API's JSON 413; the LINE
        webhook may carry up to 1 MiB (it reaches the router, which refuses its signature)."""
        env = self.env
        big = {'call_id': 'c-' + secrets.token_hex(4), 'description': 'x' * 70000,
               'location': {'lat': 13.75, 'lon': 100.5}}
        r = https_request(self.port, 'POST', '/v1/incidents', big, token=env.operator_token)
        self.assertErrorBody(r, 413, 'body_too_large')
        r = https_request(self.port, 'POST', '/webhooks/line', {'events': [], 'pad': 'x' * 200000},
                          headers={'X-Line-Signature': 'AAAA'})
        self.assertErrorBody(r, (401, 404))
        r = https_request(self.port, 'GET', '/healthz', headers={'X-Pad': 'a' * 5000})
        self.assertEqual(r.status, 400, r)

    def test_public_lookups_rate_limited(self):
        """Past 30 quick lookups from one address nginx answers 429 with the API's JSON and a
        Retry-After, without asking the router; the access log keeps neither the codes nor the
        client's address."""
        code = harness.make_tracking_code()
        statuses = []
        for _ in range(40):
            r = https_request(self.port, 'GET', '/v1/track/' + code)
            statuses.append(r.status)
            if r.status == 429:
                self.assertErrorBody(r, 429, 'rate_limited')
                self.assertEqual(r.headers.get('retry-after'), '60', r)
        self.assertGreaterEqual(statuses.count(404), 30, statuses)
        self.assertGreaterEqual(statuses.count(429), 5, statuses)
        r = https_request(self.port, 'GET', '/track?code=' + urllib.parse.quote(code))
        log = self.access_log()
        self.assertIn('/v1/track/{code} 429', log)
        self.assertNotIn(code, log)
        self.assertNotIn(CLIENT_ADDR, log)

    def test_metrics_hidden_and_http_redirected(self):
        r = https_request(self.port, 'GET', '/metrics')
        self.assertEqual(r.status, 404, r)
        r = harness.http_request(self.http_port, 'GET', '/track')
        self.assertEqual(r.status, 301, r)
        self.assertTrue(r.headers.get('location', '').startswith('https://'), r)


@unittest.skipIf(SYSTEMD_ANALYZE is None, 'systemd-analyze is not installed')
class SystemdUnitTest(unittest.TestCase):

    def unit_copy(self):
        """The unit with ExecStart pointed at the router under test (verify wants it to exist)."""
        folder = tempfile.mkdtemp(prefix='ess-unit-')
        self.addCleanup(shutil.rmtree, folder, True)
        with open(UNIT, encoding='utf-8') as f:
            text = f.read()
        text, n = re.subn(r'^ExecStart=\S+', 'ExecStart=' + harness.router_binary(), text,
                          flags=re.M)
        self.assertEqual(n, 1)
        path = os.path.join(folder, 'ess-router.service')
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        return path

    def test_verify(self):
        r = subprocess.run([SYSTEMD_ANALYZE, 'verify', '--man=no', self.unit_copy()],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # its warnings about the unit itself name it with a line number
        self.assertNotIn('ess-router.service:', r.stdout + r.stderr)

    def test_exposure(self):
        """systemd's own rating of the sandbox (0 is the most confined, 10 the least)."""
        r = subprocess.run([SYSTEMD_ANALYZE, 'security', '--offline=true', '--no-pager',
                            self.unit_copy()], capture_output=True, text=True, timeout=60)
        if 'offline' in r.stderr and r.returncode != 0:
            self.skipTest('this systemd-analyze has no --offline')
        m = re.search(r'Overall exposure level for \S+: (\d+\.\d+)', r.stdout)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        self.assertLess(float(m.group(1)), 2.0, r.stdout)


if __name__ == '__main__':
    harness.main()
