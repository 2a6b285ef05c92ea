"""The helper scripts a newcomer runs by hand (issue 7, defect 8): scripts/line-say sends to the
router on ESS_PORT, and when no router answers there it says so in one line and exits non-zero
instead of dying with a Python traceback. Its --sticker and --image reach a chat with a person as
"[sticker]" and "[image]" (issue 11). scripts/ha starts a primary, two replicas, three Sentinels and
two routers, shows a fail-over and stops them all (issue 15). scripts/soak (issue 15) reads its one
argument, the minutes, before it installs, builds or starts anything: --help prints its usage, a bad
argument exits 2 (no soak runs here)."""

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import harness
from harness import RouterTest

LINE_SAY = os.path.join(harness.REPO_ROOT, 'scripts', 'line-say')
HA = os.path.join(harness.REPO_ROOT, 'scripts', 'ha')
SENTINEL_BIN = os.environ.get('ESS_REDIS_SENTINEL') or shutil.which('redis-sentinel')
SOAK = os.path.join(harness.REPO_ROOT, 'scripts', 'soak')


class LineSayTest(RouterTest):

    line_secret = secrets.token_hex(16)
    env_options = {'extra_env': {'LINE_CHANNEL_SECRET': line_secret}}

    def line_say(self, port, *args):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('ESS_') and not k.startswith('LINE_')}
        env.update({'ESS_PORT': str(port), 'LINE_CHANNEL_SECRET': self.line_secret})
        return subprocess.run([sys.executable, LINE_SAY] + list(args), env=env,
                              capture_output=True, text=True, timeout=harness.scaled(30))

    def test_sends_to_the_router_on_ess_port(self):
        """A signed follow event reaches the router on ESS_PORT (not 8080) and is accepted."""
        r = self.line_say(self.env.router.port, '--follow')
        self.assertEqual(r.returncode, 0, r)
        self.assertTrue(r.stdout.startswith('200 '), r)
        c = self.line_say(self.env.router.port, '--print-curl', 'สถานะ')
        self.assertIn('http://127.0.0.1:%d/webhooks/line' % self.env.router.port, c.stdout)

    def test_sticker_and_image_in_a_chat(self):
        """"คุยกับเจ้าหน้าที่" opens a chat (an "other" case, waiting); --sticker and --image are
        then its conversation, as "[sticker]" and "[image]"."""
        env = self.env
        user = 'U' + secrets.token_hex(16)
        env.note_pii(user)
        for args in (['คุยกับเจ้าหน้าที่'], ['--sticker'], ['--image']):
            r = self.line_say(env.router.port, '--user', user, *args)
            self.assertEqual(r.returncode, 0, r)
            self.assertTrue(r.stdout.startswith('200 '), r)
        r = env.http('GET', '/v1/cases?chat=waiting', token=env.operator_token)
        self.assertStatus(r, 200)
        self.assertEqual(len(r.body['cases']), 1, r.body)
        case = r.body['cases'][0]
        self.assertEqual((case['category'], case['chat']), ('other', 'waiting'), case)
        r = env.http('GET', '/v1/cases/%s/chat/messages' % case['case_id'],
                     token=env.operator_token)
        self.assertStatus(r, 200)
        self.assertEqual([m['text'] for m in r.body['messages']], ['[sticker]', '[image]'])
        c = self.line_say(env.router.port, '--print-curl', '--sticker')
        self.assertIn('"type": "sticker"', c.stdout)

    def test_no_router_one_line_and_non_zero(self):
        port = harness.free_port()
        r = self.line_say(port, 'ช่วยด้วย')
        self.assertNotEqual(r.returncode, 0, r)
        self.assertNotIn('Traceback', r.stderr, r)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith('line-say: ') and str(port) in lines[0], lines)

    def test_bad_port_refused(self):
        r = self.line_say('eighty', 'hi')
        self.assertNotEqual(r.returncode, 0, r)
        self.assertNotIn('Traceback', r.stderr, r)
        self.assertIn('ESS_PORT', r.stderr)



def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(('127.0.0.1', port))
        except OSError:
            return False
    return True


def free_run(n, low, high):
    """A first port p in low..high with p..p+n-1 and p+20000..p+20000+n-1 all free."""
    for _ in range(200):
        p = secrets.randbelow(high - low) + low
        if all(port_free(p + i) and port_free(p + 20000 + i) for i in range(n)):
            return p
    raise RuntimeError('no free run of ports')


class HaScriptTest(unittest.TestCase):
    """scripts/ha as a newcomer runs it: start, failover, status, stop; in a folder of its own
    (ESS_HA_DIR) and on free ports, with the router under test (ESS_ROUTER_BIN: no build)."""

    def setUp(self):
        if not SENTINEL_BIN:
            self.skipTest('redis-sentinel is not installed')
        self.dir = tempfile.mkdtemp(prefix='ess-ha-')
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith('ESS_') and not k.startswith('LINE_')}
        self.env.update({'ESS_HA_DIR': self.dir, 'ESS_ROUTER_BIN': harness.router_binary(),
                         'ESS_HA_PORT': str(free_run(3, 20000, 40000)),
                         'ESS_HA_ROUTER_PORT': str(free_run(2, 41000, 44000))})
        self.addCleanup(self.stop)

    def ha(self, *args, timeout=120):
        return subprocess.run([HA] + list(args), env=self.env, capture_output=True, text=True,
                              timeout=harness.scaled(timeout))

    def stop(self):
        self.ha('stop')
        if os.environ.get('ESS_KEEP_TMP') is None:
            shutil.rmtree(self.dir, ignore_errors=True)

    def pids(self):
        """The processes scripts/ha started and keeps a pidfile of."""
        out = []
        for root, _, files in os.walk(self.dir):
            for f in files:
                if f.endswith('.pid'):
                    with open(os.path.join(root, f)) as fh:
                        text = fh.read().strip()
                    if text.isdigit():
                        out.append(int(text))
        return out

    def test_start_failover_stop(self):
        r = self.ha('start')
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        router = int(self.env['ESS_HA_ROUTER_PORT'])
        self.assertIn('scripts/ha failover', r.stdout)
        token = re.search(r'Bearer ([0-9a-f]{64})', r.stdout).group(1)
        status = self.ha('status').stdout
        self.assertEqual(status.count('master'), 1, status)
        self.assertEqual(status.count('slave'), 2, status)
        self.assertEqual(status.count('/healthz 200'), 2, status)

        body = {'call_id': 'ha-test-1', 'category': 'threat',
                'location': {'lat': 13.75, 'lon': 100.5}}
        self.assertEqual(harness.http_request(router, 'POST', '/v1/incidents', body,
                                              token=token).status, 201)
        r = self.ha('failover')
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertRegex(r.stderr, r'named :\d+ the primary after about \d+ s')
        self.assertEqual(r.stdout.count('master'), 1, r.stdout)
        self.assertEqual(r.stdout.count('/healthz 200'), 2, r.stdout)
        for port in (router, router + 1):  # both routers follow, without a restart
            a = harness.http_request(port, 'POST', '/v1/incidents', body, token=token)
            self.assertEqual(a.status, 200, 'the same call_id on the new primary: %r' % (a,))

        promoted = re.search(r'named :(\d+) the primary', r.stderr).group(1)
        self.stop_all()

        # Started again after the fail-over: the primary the Sentinels recorded, not the first
        # port, whose configuration now names the promoted server as its primary.
        r = self.ha('start')
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertIn('Redis primary :%s with two replicas' % promoted, r.stdout)
        status = self.ha('status').stdout
        self.assertIn('redis :%s  master' % promoted, status)
        self.assertEqual(status.count('slave'), 2, status)
        self.assertEqual(status.count('/healthz 200'), 2, status)
        a = harness.http_request(router, 'POST', '/v1/incidents', body, token=token)
        self.assertEqual(a.status, 200, 'the case kept across the restart: %r' % (a,))
        self.stop_all()

    def stop_all(self):
        """scripts/ha stop, and every process it had started gone."""
        pids = self.pids()
        self.assertEqual(len(pids), 8, 'three Redis, three Sentinels, two routers')
        r = self.ha('stop')
        self.assertEqual(r.returncode, 0, r.stderr)
        deadline = time.monotonic() + harness.scaled(10)
        while time.monotonic() < deadline and any(os.path.exists('/proc/%d' % p) for p in pids):
            time.sleep(0.1)
        self.assertEqual([p for p in pids if os.path.exists('/proc/%d' % p)], [],
                         'scripts/ha stop stops every process it started')


class SoakArgumentsTest(unittest.TestCase):

    def soak(self, *args):
        return subprocess.run(['bash', SOAK] + list(args), capture_output=True, text=True,
                              timeout=harness.scaled(30), stdin=subprocess.DEVNULL)

    def test_help(self):
        for flag in ('-h', '--help'):
            r = self.soak(flag)
            self.assertEqual(r.returncode, 0, r)
            self.assertTrue(r.stdout.startswith('usage: scripts/soak [MINUTES]'), r.stdout)
            self.assertIn('half', r.stdout)

    def test_bad_arguments_refused(self):
        for args in (['0'], ['1441'], ['ten'], ['-5'], ['1.5'], ['5', '6']):
            r = self.soak(*args)
            self.assertEqual(r.returncode, 2, (args, r))
            self.assertIn('usage: scripts/soak', r.stderr, args)
            self.assertNotIn('==>', r.stderr, args)  # nothing installed, built or started


if __name__ == '__main__':
    harness.main()
