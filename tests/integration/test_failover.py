"""Redis fail-over (DESIGN.md "Scale and faults"): the routers find the primary through Redis
Sentinel, follow a fail-over without a restart, never write to a replica, and, with
ESS_REDIS_WAIT_REPLICAS, answer a new report 2xx only once every replica in sync (and at least
that many) holds it, so that nothing answered 2xx is lost with the primary.

FailoverTest kills the primary (kill -9) under a load of incidents and LINE events on two
routers, and checks afterwards on the promoted replica that every request answered 2xx is there,
that the teams' claims match their capacity counters, and that the routers recovered on their
own; the 503 window is printed as a TAP comment. WaitTest stops the only replica (SIGSTOP) to
make WAIT time out; AllInSyncTest stops one of two. ReplicaTest turns the router's server into a
replica behind its back."""

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import harness
from fake_line import FakeLine, LineUser, sign, webhook_body
from harness import RedisServer, RouterTest, free_port, scaled, wait_until

MASTER = 'ess'
SENTINEL_BIN = os.environ.get('ESS_REDIS_SENTINEL') or shutil.which('redis-sentinel')
SENTINEL_EXAMPLE = os.path.join(os.path.dirname(__file__), '..', '..', 'scripts', 'deploy',
                                'sentinel.conf')
POLICE_SW = ['police', 'social_worker']


def report(text):
    """A line in the test's output (a TAP comment): figures for the record."""
    sys.stdout.write('# %s\n' % text)
    sys.stdout.flush()


class Sentinel(RedisServer):
    """A redis-sentinel on a free port, configured from scripts/deploy/sentinel.conf with the
    substitutions scripts/ha makes (port, dir, the primary, down after 2 s: above Sentinel's 1 s
    ping period, else a just-promoted primary may be taken for down and failed over again)."""

    def __init__(self, workdir, name):
        super().__init__(os.path.join(workdir, name))
        self.primary_port = None

    def start(self, timeout=10.0):
        self.port = self.port or free_port()
        with open(SENTINEL_EXAMPLE, encoding='utf-8') as f:
            conf = f.read()
        for pattern, line in ((r'^port .*$', 'port %d' % self.port),
                              (r'^dir .*$', 'dir %s' % self.dir),
                              (r'^sentinel monitor .*$',
                               'sentinel monitor %s 127.0.0.1 %d 2' % (MASTER, self.primary_port)),
                              (r'^sentinel down-after-milliseconds .*$',
                               'sentinel down-after-milliseconds %s 2000' % MASTER),
                              (r'^sentinel failover-timeout .*$',
                               'sentinel failover-timeout %s 10000' % MASTER)):
            conf, n = re.subn(pattern, line, conf, flags=re.M)
            assert n == 1, 'scripts/deploy/sentinel.conf lacks a line %s' % pattern
        path = os.path.join(self.dir, 'sentinel.conf')
        if not os.path.exists(path):  # a Sentinel rewrites its file: keep what it learnt
            with open(path, 'w', encoding='utf-8') as f:
                f.write(conf)
        log = open(self.log_path, 'ab')
        self.proc = subprocess.Popen([SENTINEL_BIN, path], stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=subprocess.STDOUT,
                                             cwd=self.dir)
        log.close()
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            try:
                if self._command_on(self.port, 'PING', timeout=1.0) == 'PONG':
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError('redis-sentinel did not answer PING\n' + self.log_tail())

    def others_known(self):
        """How many other Sentinels this one knows for the primary."""
        fields = self.command('SENTINEL', 'master', MASTER)
        return int(fields[fields.index(b'num-other-sentinels') + 1])

    def primary(self):
        """The primary's port as this Sentinel names it, or None."""
        try:
            answer = self.command('SENTINEL', 'get-master-addr-by-name', MASTER, timeout=2.0)
        except OSError:
            return None
        return int(answer[1]) if answer else None


def start_replica(workdir, name, primary):
    replica = RedisServer(os.path.join(workdir, name))
    replica.start()
    replica.command('REPLICAOF', '127.0.0.1', str(primary.port))
    wait_until(lambda: 'master_link_status:up' in replica.command('INFO', 'replication').decode(),
               scaled(15), 0.05, '%s in sync with the primary' % name)
    return replica


class HaTest(RouterTest):
    """Redis (env.redis, the primary), its replicas, and routers added by the test; a fake LINE
    API. Subclasses say how many replicas and Sentinels, and the routers' settings."""

    replicas = 1
    sentinels = 0
    router_env = {}

    def setUp(self):
        if self.sentinels and not SENTINEL_BIN:
            self.skipTest('redis-sentinel is not installed (apt-get install redis-sentinel)')
        self.secret = 'lcs-' + os.urandom(16).hex()
        self.access_token = 'lat-' + os.urandom(24).hex()
        self.fake = FakeLine(self.access_token).start()
        self.addCleanup(self.fake.stop)
        self.env = harness.Env()
        self.addCleanup(self._finish_env)
        self.addCleanup(self._stop_servers)
        self.env.secrets |= {self.secret, self.access_token}
        self.env.redis.start()
        self.servers = [self.env.redis]
        for i in range(self.replicas):
            self.servers.append(start_replica(self.env.workdir, 'replica%d' % (i + 1),
                                              self.env.redis))
        self.sentinel_list = []
        for i in range(self.sentinels):
            s = Sentinel(self.env.workdir, 'sentinel%d' % (i + 1))
            s.primary_port = self.env.redis.port
            s.start()
            self.sentinel_list.append(s)
        env = {'LINE_CHANNEL_SECRET': self.secret, 'LINE_CHANNEL_ACCESS_TOKEN': self.access_token,
               'LINE_API_BASE': self.fake.base_url}
        if self.sentinel_list:
            # Sentinels need a moment to find the replicas and each other before they can act.
            wait_until(lambda: all(s.others_known() == self.sentinels - 1
                                   for s in self.sentinel_list), scaled(20), 0.1,
                       'the Sentinels know each other')
            env['ESS_REDIS_SENTINELS'] = ','.join('127.0.0.1:%d' % s.port
                                                  for s in self.sentinel_list)
            env['ESS_REDIS_MASTER'] = MASTER
        env.update(self.router_env)
        self.env.router = self.env.add_router(extra_env=env)

    def _stop_servers(self):
        for s in self.sentinel_list + self.servers[1:]:
            s.stop()

    def server_on(self, port):
        return next(s for s in self.servers if s.port == port)

    def webhook(self, events, router=None, timeout=20.0):
        body = webhook_body(events)
        return self.env.http('POST', '/webhooks/line', body,
                             headers={'X-Line-Signature': sign(self.secret, body)},
                             router=router, timeout=timeout)

    def key(self, name):
        return self.env.prefix + name


class FailoverTest(HaTest):
    """A primary, two replicas (one to promote, one to confirm writes after), three Sentinels,
    two routers with ESS_REDIS_WAIT_REPLICAS=1."""

    replicas = 2
    sentinels = 3
    router_env = {'ESS_REDIS_WAIT_REPLICAS': '1', 'ESS_TRACK_RATE_PER_MIN': '10000'}

    def test_primary_killed_under_load(self):
        env = self.env
        routers = [env.router, env.add_router(extra_env=dict(env.router.extra_env))]
        capacities = {'fo-1': 2, 'fo-2': 3, 'fo-3': 2}
        for i, (tid, cap) in enumerate(capacities.items()):
            env.put_team_at(tid, 1.0 + 2.0 * i, 40 + 100 * i, POLICE_SW, capacity=cap)

        stop = threading.Event()
        incidents, events, lock = [], [], threading.Lock()

        def post_incidents(n):
            k = 0
            while not stop.is_set():
                k += 1
                body = env.incident_body(category='threat', description='ถูกข่มขู่ทำร้าย',
                                         call_id='fo-%d-%d' % (n, k))
                which = (n + k) % 2
                try:
                    r = env.post_incident_raw(body, router=routers[which], timeout=15)
                    status = r.status
                    case_id = r.body.get('case_id') if isinstance(r.body, dict) else None
                    code = (r.body.get('error') or {}).get('code') if status >= 400 and \
                        isinstance(r.body, dict) else None
                except OSError as e:
                    status, case_id, code = 'error: %s' % e, None, None
                with lock:
                    incidents.append((time.monotonic(), which, status, body, case_id, code))
                time.sleep(0.02)

        def post_events():
            k = 0
            while not stop.is_set():
                k += 1
                user = LineUser()
                env.note_pii(user.user_id)
                event = user.text('สวัสดีค่ะ')
                which = k % 2
                try:
                    status = self.webhook([event], router=routers[which], timeout=15).status
                except OSError as e:
                    status = 'error: %s' % e
                with lock:
                    events.append((time.monotonic(), which, status, event))
                time.sleep(0.05)

        threads = [threading.Thread(target=post_incidents, args=(n,)) for n in range(3)]
        threads.append(threading.Thread(target=post_events))
        for t in threads:
            t.start()
        try:
            time.sleep(scaled(2.0))
            old = env.redis
            killed_at = time.monotonic()
            old.proc.kill()  # kill -9: no AOF flush, no goodbye to the replicas
            old.proc.wait()

            # Load goes on until both routers have answered 2xx for two seconds in a row after
            # the kill, or 60 s have passed.
            def recovered():
                with lock:
                    rows = [(t, w, s) for t, w, s, *_ in incidents + events]
                now = time.monotonic()
                for which in (0, 1):
                    mine = [(t, s) for t, w, s in rows if w == which and t > killed_at]
                    bad = [t for t, s in mine if s not in (200, 201)]
                    good_since = max(bad) if bad else killed_at
                    if now - good_since < 2.0 or not any(t > good_since for t, _ in mine):
                        return False
                return True
            wait_until(recovered, scaled(60), 0.1, 'both routers answering 2xx again')
        finally:
            stop.set()
            for t in threads:
                t.join()

        # Every answer was 2xx or 503: never a 500, never a hang.
        statuses = {s for _, _, s, *_ in incidents + events}
        self.assertLessEqual(statuses, {200, 201, 503}, 'answers during the fail-over')
        for _, _, status, _, _, code in incidents:
            if status == 503:
                self.assertEqual(code, 'redis_unavailable')

        # The routers are the same processes, healthy, and know the new primary.
        for r in routers:
            self.assertTrue(r.running(), '%s still running' % r.name)
            self.assertEqual(r.runs, 1, '%s was not restarted' % r.name)
            self.assertEqual(r.http('GET', '/healthz').status, 200)
        new_port = wait_until(lambda: self.sentinel_list[0].primary() != old.port and
                              self.sentinel_list[0].primary(), scaled(10), 0.1, 'a new primary')
        primary = self.server_on(new_port)
        self.assertIn(b'role:master', primary.command('INFO', 'replication'))

        # The 503 window: from the kill to each router's last failure.
        for which, r in enumerate(routers):
            fails = [t for t, w, s, *_ in incidents + events if w == which and t > killed_at and
                     s not in (200, 201)]
            report('fail-over: %s answered %d requests 503, the last %.2f s after the kill -9'
                   % (r.name, len(fails), (max(fails) - killed_at) if fails else 0.0))
        with lock:
            ok_incidents = [row for row in incidents if row[2] in (200, 201)]
            ok_events = [row for row in events if row[2] == 200]
        report('fail-over: %d incidents and %d LINE events answered 2xx, %d and %d answered 503'
               % (len(ok_incidents), len(ok_events), len(incidents) - len(ok_incidents),
                  len(events) - len(ok_events)))
        self.assertTrue(any(t > killed_at for t, *_ in ok_incidents), 'incidents after the kill')

        # Nothing answered 2xx is lost: each case, its call_id and each LINE event are on the
        # new primary.
        for _, _, _, body, case_id, _ in ok_incidents:
            self.assertEqual(primary.command('EXISTS', self.key('case:' + case_id)), 1,
                             'case %s (call_id %s) survived' % (case_id, body['call_id']))
            stored = primary.command('GET', self.key('call:' + body['call_id']))
            self.assertTrue(stored and stored.decode().split(' ')[0] == case_id,
                            'call_id %s names case %s' % (body['call_id'], case_id))
        for _, _, _, event in ok_events:
            self.assertEqual(primary.command('EXISTS', self.key('line:event:' + event.event_id)),
                             1, 'LINE event %s survived' % event.event_id)

        # The clients retry what got 503, with the same call_id and webhookEventId: each ends
        # up stored once.
        for _, _, status, body, _, _ in incidents:
            if status != 503:
                continue
            r = env.post_incident_raw(body, router=routers[0])
            self.assertIn(r.status, (200, 201), 'retry of %s: %r' % (body['call_id'], r))
        for _, _, status, event in events:
            if status == 503:
                self.assertEqual(self.webhook([event.redelivered()], router=routers[1]).status,
                                 200)
        call_ids = {row[3]['call_id'] for row in incidents}
        case_ids = set()
        for call_id in call_ids:
            stored = primary.command('GET', self.key('call:' + call_id))
            self.assertIsNotNone(stored, 'call_id %s stored after its retry' % call_id)
            case_ids.add(stored.decode().split(' ')[0])
        self.assertEqual(len(case_ids), len(call_ids), 'one case per call_id')
        self.assertEqual(primary.command('ZCARD', self.key('cases:created')), len(call_ids),
                         'no case stored twice, none lost')

        # Claims and capacity agree: each team's active counter is the number of open cases
        # assigned to it, within its capacity.
        cases = env.list_cases()
        self.assertEqual({c['case_id'] for c in cases}, case_ids)
        held = {tid: 0 for tid in capacities}
        for c in cases:
            if c.get('team') and c['status'] not in ('resolved', 'closed'):
                held[c['team']['id']] += 1
        for tid, cap in capacities.items():
            active = int(primary.command('HGET', self.key('team:' + tid), 'active'))
            self.assertEqual(active, held[tid], 'team %s: active counter and its cases' % tid)
            self.assertLessEqual(active, cap, 'team %s within its capacity' % tid)

        # And both routers take new reports, without a restart.
        for r in routers:
            body = env.incident_body(category='detention', description='ถูกกักตัวไว้')
            self.assertEqual(env.post_incident_raw(body, router=r).status, 201)


    def test_planned_switch_is_announced_and_followed(self):
        """SENTINEL FAILOVER: the old primary stays up and turns replica; the router hears the
        announcement (+switch-master), moves, and never writes to the old one."""
        env = self.env
        old = env.redis.port
        self.assertEqual(env.post_incident(category='threat')['_status'], 201)
        self.sentinel_list[1].command('SENTINEL', 'FAILOVER', MASTER)
        new_port = wait_until(lambda: self.sentinel_list[0].primary() != old and
                              self.sentinel_list[0].primary(), scaled(20), 0.1, 'a new primary')
        wait_until(lambda: 'moved to 127.0.0.1:%d' % new_port in env.router.log_text(),
                   scaled(20), 0.1, 'the router heard the announcement')
        answers = []

        def stored_on_new():
            body = env.incident_body(category='detention', description='ถูกกักขัง')
            r = env.post_incident_raw(body)
            answers.append(r.status)
            return r.status == 201 and r.body['case_id']
        case_id = wait_until(stored_on_new, scaled(15), 0.1, 'a new case on the new primary')
        self.assertLessEqual(set(answers), {201, 503})
        self.assertEqual(self.server_on(new_port).command(
            'EXISTS', self.key('case:' + case_id)), 1)
        self.assertEqual(env.router.runs, 1)


class WaitTest(HaTest):
    """One replica, no Sentinel, WAIT for one replica with a short timeout."""

    replicas = 1
    router_env = {'ESS_REDIS_WAIT_REPLICAS': '1', 'ESS_REDIS_WAIT_TIMEOUT_MS': '300'}

    def test_unconfirmed_report_answers_503_and_its_retry_is_idempotent(self):
        env = self.env
        replica = self.servers[1]
        self.assertEqual(env.post_incident(category='threat', description='ถูกข่มขู่')['_status'],
                         201, 'confirmed by the replica: 201')

        os.kill(replica.proc.pid, signal.SIGSTOP)  # the replica stops acknowledging
        try:
            body = env.incident_body(category='detention', description='ถูกกักขัง')
            r = env.post_incident_raw(body)
            self.assertErrorBody(r, 503, 'redis_unavailable')
            self.assertIn('same request again', r.body['error']['message'])
            stored = env.redis.command('GET', self.key('call:' + body['call_id']))
            self.assertIsNotNone(stored, 'written on the primary, only not confirmed')
            user = LineUser()
            env.note_pii(user.user_id)
            event = user.text('สวัสดีค่ะ')
            self.assertErrorBody(self.webhook([event]), 503, 'redis_unavailable')
        finally:
            os.kill(replica.proc.pid, signal.SIGCONT)

        # The retries: the same case, the event handled once, one reply sent to LINE.
        wait_until(lambda: env.post_incident_raw(body).status == 200, scaled(10), 0.1,
                   'the retry answered 200 once the replica confirms')
        r = env.post_incident_raw(body)
        self.assertEqual(r.body['case_id'], stored.decode().split(' ')[0])
        self.assertEqual(env.redis.command('ZCARD', self.key('cases:created')), 2)
        self.assertEqual(self.webhook([event.redelivered()]).status, 200)
        self.fake.wait_reply(event, scaled(10))
        time.sleep(0.5)
        replies = [q for q in self.fake.replies() if q.reply_token == event.reply_token]
        self.assertEqual(len(replies), 1, 'LINE got one reply to the event, not two')


class AllInSyncTest(HaTest):
    """Two replicas, WAIT for at least one: a report is answered 2xx only once every replica in
    sync holds it, since Sentinel may promote either of them; a stalled replica stops counting."""

    replicas = 2
    router_env = {'ESS_REDIS_WAIT_REPLICAS': '1', 'ESS_REDIS_WAIT_TIMEOUT_MS': '300'}

    def test_every_replica_in_sync_confirms(self):
        env = self.env
        first, second = self.servers[1], self.servers[2]
        r = env.post_incident(category='threat', description='ถูกข่มขู่')
        self.assertEqual(r['_status'], 201)
        for replica in (first, second):
            self.assertEqual(replica.command('EXISTS', self.key('case:' + r['case_id'])), 1,
                             'a 201 is on every replica in sync')

        os.kill(second.proc.pid, signal.SIGSTOP)  # one replica stops, the other still confirms
        try:
            body = env.incident_body(category='detention', description='ถูกกักขัง')
            self.assertErrorBody(env.post_incident_raw(body), 503, 'redis_unavailable',
                                 'one replica confirmed, the other still counted in sync')
            # Once its lag shows it stalled, it no longer counts: the other replica confirms.
            wait_until(lambda: env.post_incident_raw(body).status == 200, scaled(15), 0.2,
                       'the retry confirmed by the replica still in sync')
            self.assertRegex(env.router.log_text(), r'1 of 2 replicas confirmed')
        finally:
            os.kill(second.proc.pid, signal.SIGCONT)
        case_id = env.redis.command('GET', self.key('call:' + body['call_id'])).decode().split()[0]
        wait_until(lambda: second.command('EXISTS', self.key('case:' + case_id)) == 1, scaled(15),
                   0.1, 'the stalled replica catches up')
        r = env.post_incident(category='threat', description='ถูกข่มขู่อีกครั้ง')
        self.assertEqual(r['_status'], 201, 'both replicas confirm again')


class ReplicaTest(HaTest):
    """No WAIT, no Sentinel: the router's server becomes a replica (as a demoted primary does)."""

    replicas = 1

    def test_demoted_server_is_never_written_to(self):
        env = self.env
        other = self.servers[1]
        other.command('REPLICAOF', 'NO', 'ONE')  # two primaries; the router uses env.redis
        env.post_incident(category='threat', description='ถูกข่มขู่')
        env.redis.command('REPLICAOF', '127.0.0.1', str(other.port))

        body = env.incident_body(category='detention', description='ถูกกักขัง')
        r = env.post_incident_raw(body)
        self.assertErrorBody(r, 503, 'redis_unavailable', 'a write refused by a replica')
        # The router leaves the replica and does not come back while it stays one.
        wait_until(lambda: env.http('GET', '/healthz').status == 503, scaled(10), 0.1,
                   'the router let the replica go')
        time.sleep(scaled(1.0))
        self.assertEqual(env.http('GET', '/healthz').status, 503)
        self.assertRegex(env.router.log_text(), r'answers as a replica')
        self.assertRegex(env.router.log_text(), r'is not the primary')

        env.redis.command('REPLICAOF', 'NO', 'ONE')
        wait_until(lambda: env.http('GET', '/healthz').status == 200, scaled(15), 0.1,
                   'the router back once the server is a primary again')
        self.assertEqual(env.post_incident_raw(body).status, 201)


if __name__ == '__main__':
    harness.main()
