"""Acknowledgment deadlines, escalation, LINE group dispatch and progress (issue 4; DESIGN.md
"Dispatch to a team"; README "Dispatch to teams"), beyond what test_dispatch.py covers: a late
ack after reassignment, the replacement bounded by the deadline plus a timer tick, deadlines kept
across a router restart, two router processes on one Redis handling each expiry once, escalation
to the operators' queue and the supervisors' webhook, manual assignment, the accept button in a
team's LINE group, progress with notes, and dispatch attempts on the operators' timeline only.

Deadlines are short (a copy of the rule table with ack_timeout_s 2 and max_attempts 2); every
wait polls with a bound (multiplied by ESS_TEST_TIME_SCALE)."""

import base64
import calendar
import hashlib
import hmac
import http.server
import json
import os
import re
import secrets
import shutil
import tempfile
import threading
import time

import harness
from harness import RouterTest, wait_until, status_changes
import fake_line
from fake_line import LineTest, UUID_RE, visible_text, postbacks

POLICE_SW = ['police', 'social_worker']
MH_POLICE = ['mental_health', 'police']

ACK_TIMEOUT_S = 2
MAX_ATTEMPTS = 2
# The deadline sweep runs every 500 ms; a generous bound for "deadline plus one timer tick".
TICK_BOUND_S = 3.0

THREAT_TEXT = 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย'
DETENTION_TEXT = 'พนักงานถูกนายจ้างขังไว้ในห้องเก็บของ'


# ---------------------------------------------------------------------------------------------
# A fake team gateway (and supervisors' webhook): real HTTP on 127.0.0.1

class Gateway:
    """Records every POST (path, headers with lower-case names, raw body, time, the answer) and
    answers per path with the statuses queued in script(path, ...), then 200. Thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self._requests = []
        self._scripts = {}
        gw = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(n) if n > 0 else b''
                with gw.lock:
                    q = gw._scripts.get(self.path)
                    status = q.pop(0) if q else 200
                    gw._requests.append({'path': self.path, 'body': body, 'at': time.time(),
                                         'headers': {k.lower(): v for k, v in self.headers.items()},
                                         'status': status})
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', '2')
                self.end_headers()
                self.wfile.write(b'{}')

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={'poll_interval': 0.05}, daemon=True)
        self.thread.start()

    def url(self, path):
        return 'http://127.0.0.1:%d%s' % (self.port, path)

    def script(self, path, *statuses):
        with self.lock:
            self._scripts.setdefault(path, []).extend(statuses)

    def received(self, path=None):
        with self.lock:
            return [r for r in self._requests if path is None or r['path'] == path]

    def dispatches(self, path=None, case_id=None):
        """The requests to path (all when None) whose JSON body is the dispatch of case_id."""
        out = []
        for r in self.received(path):
            try:
                d = json.loads(r['body'])
            except ValueError:
                continue
            if isinstance(d, dict) and (case_id is None or d.get('case_id') == case_id):
                out.append(r)
        return out

    def wait_dispatch(self, path, case_id, n=1, timeout=10.0):
        return wait_until(lambda: (lambda rs: rs if len(rs) >= n else None)(
            self.dispatches(path, case_id)), timeout, 0.05,
            '%d dispatch(es) of case %s to %s' % (n, case_id, path))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def signature(key, body):
    if isinstance(key, str):
        key = key.encode('utf-8')
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode('ascii')


def rfc3339_epoch(text):
    """Seconds since the epoch (with the fraction) of an RFC 3339 UTC time."""
    m = re.fullmatch(r'(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z', text or '')
    if not m:
        raise AssertionError('not an RFC 3339 UTC time: %r' % (text,))
    base = calendar.timegm(time.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S'))
    return base + (float(m.group(2)) if m.group(2) else 0.0)


def statuses(view):
    return [e.get('status') for e in status_changes(view)]


def dispatch_entries(view):
    return [e for e in view.get('timeline', []) if isinstance(e, dict) and
            e.get('event') == 'dispatch']


def team_of(view):
    return (view.get('team') or {}).get('id')


class DeadlineMixin:
    """Shared checks for the tests that drive the daemon's acknowledgment deadlines."""

    def assertSigned(self, req, key, msg=''):
        got = req['headers'].get('x-ess-signature')
        self.assertIsNotNone(got, '%s: no X-ESS-Signature: %r' % (msg, req['headers']))
        self.assertTrue(hmac.compare_digest(got, signature(key, req['body'])),
                        '%s: X-ESS-Signature is not the HMAC-SHA256 of the body' % msg)

    def wait_team(self, case_id, team_id, timeout, router=None, what=None):
        env = self.env

        def moved():
            r = env.http('GET', '/v1/cases/' + case_id, token=env.operator_token, router=router)
            self.assertEqual(r.status, 200, repr(r))
            v = r.body
            return v if team_of(v) == team_id and v.get('status') == 'assigned' else None
        return wait_until(moved, timeout, 0.05, what or 'case %s assigned to %s' % (case_id,
                                                                                   team_id))


class FastDeadlineTest(DeadlineMixin, RouterTest):
    """A fresh Redis and daemon with the short-deadline rule table and a supervisors' webhook on
    the fake gateway."""

    supervisor = True

    def setUp(self):
        self.gw = Gateway()
        self.addCleanup(self.gw.close)
        extra = {}
        self.supervisor_secret = 'sup-' + secrets.token_hex(16)
        if self.supervisor:
            extra['ESS_SUPERVISOR_WEBHOOK'] = self.gw.url('/supervisor')
            extra['ESS_SUPERVISOR_SECRET'] = self.supervisor_secret
        env = harness.Env(extra_env=extra)
        env.secrets.add(self.supervisor_secret)
        self.env = env
        self.addCleanup(self._finish_env)
        env.redis.start()
        env.rules = harness.short_deadline_rules(env.workdir, ACK_TIMEOUT_S, MAX_ATTEMPTS)
        env.router = env.add_router()

    def team(self, team_id, km, bearing, skills=POLICE_SW, **kw):
        kw.setdefault('notify', {'webhook': self.gw.url('/' + team_id)})
        return self.env.put_team_at(team_id, km, bearing, skills, **kw)


# ---------------------------------------------------------------------------------------------
# 1-3, 5, 8: one router

class AckDeadlineTest(FastDeadlineTest):

    def test_late_ack_refused_new_team_ack_accepted(self):
        """After team-a's deadline passed the case is team-b's: team-a's late ack gets 409
        not_assigned and changes nothing; team-b's ack is 200 and the case is acknowledged."""
        env, gw = self.env, self.gw
        tok_a = self.team('team-a', 1.0, 10)
        tok_b = self.team('team-b', 3.0, 190)
        a = env.post_incident('threat', THREAT_TEXT)
        self.assertAssignedTo(a, 'team-a')
        cid = a['case_id']
        self.assertSigned(gw.wait_dispatch('/team-a', cid)[0], tok_a, 'dispatch to team-a')

        view = self.wait_team(cid, 'team-b', ACK_TIMEOUT_S + 8)
        reassigned = [e for e in view['timeline'] if e.get('status') == 'reassigned']
        self.assertEqual(len(reassigned), 1, view['timeline'])
        self.assertIsInstance(reassigned[0].get('note'), str, reassigned[0])
        self.assertTrue(reassigned[0]['note'].strip(), 'the reassigned entry has a note')

        r = env.ack(cid, tok_a)
        self.assertErrorBody(r, 409, 'not_assigned', 'late ack from team-a')
        v = env.case(cid)
        self.assertEqual((v['status'], team_of(v)), ('assigned', 'team-b'),
                         'a refused ack changes nothing')
        self.assertNotIn('acknowledged', statuses(v))

        req = gw.wait_dispatch('/team-b', cid)[0]
        self.assertSigned(req, tok_b, 'dispatch to team-b')
        self.assertEqual(json.loads(req['body'])['tracking_code'], a['tracking_code'])

        r = env.ack(cid, tok_b)
        self.assertStatus(r, 200, 'team-b acknowledges')
        v = env.case(cid)
        self.assertEqual((v['status'], team_of(v)), ('acknowledged', 'team-b'))
        last = status_changes(v)[-1]
        self.assertEqual((last.get('status'), last.get('by')), ('acknowledged', 'team-b'), last)
        # team-a still holds nothing
        self.assertErrorBody(env.ack(cid, tok_a), 409, 'not_assigned', 'team-a after team-b')
        self.assertEqual(env.case(cid)['status'], 'acknowledged')

    def test_silent_team_replaced_within_deadline_plus_tick(self):
        """The silent team is replaced once its ack_deadline has passed and no later than the
        deadline plus about a timer tick, by the next nearest suitable team (the radius widened
        past an unsuitable nearer team); never before the deadline."""
        env, gw = self.env, self.gw
        tok_a = self.team('team-a', 1.0, 30)
        self.team('team-x', 2.0, 120, skills=['mental_health'])  # unsuitable for a threat
        tok_b = self.team('team-b', 8.0, 250)                     # outside the first 5 km
        self.team('team-c', 12.0, 60)
        t0 = time.monotonic()
        a = env.post_incident('threat', THREAT_TEXT)
        self.assertAssignedTo(a, 'team-a')
        cid = a['case_id']
        d = json.loads(gw.wait_dispatch('/team-a', cid)[0]['body'])
        deadline = rfc3339_epoch(d['ack_deadline'])

        view = self.wait_team(cid, 'team-b', ACK_TIMEOUT_S + TICK_BOUND_S,
                              what='team-b claimed within the deadline plus a tick')
        elapsed = time.monotonic() - t0
        self.assertGreaterEqual(elapsed, ACK_TIMEOUT_S - 0.5,
                                'replaced %.2f s after the incident, before the deadline' % elapsed)
        entry = [e for e in view['timeline'] if e.get('status') == 'reassigned'][0]
        at = rfc3339_epoch(entry['at'])
        self.assertGreaterEqual(at, deadline - 0.01, 'reassigned at %s before the ack_deadline %s'
                                % (entry['at'], d['ack_deadline']))
        self.assertLessEqual(at, deadline + harness.scaled(TICK_BOUND_S),
                             'reassigned at %s, long after the ack_deadline %s'
                             % (entry['at'], d['ack_deadline']))
        self.assertDistance(view['team']['distance_km'], harness.haversine_km(
            a['_request']['location']['lat'], a['_request']['location']['lon'],
            env.teams['team-b']['lat'], env.teams['team-b']['lon']))
        req = gw.wait_dispatch('/team-b', cid)[0]
        self.assertSigned(req, tok_b, 'dispatch to team-b')
        self.assertEqual(gw.dispatches('/team-x'), [], 'no dispatch to an unsuitable team')
        self.assertEqual(gw.dispatches('/team-c'), [], 'no dispatch to a farther team')
        self.assertIsNotNone(tok_a)

    def test_deadline_honoured_across_router_restart(self):
        """The router is stopped (SIGTERM) before the deadline; a new router started on the same
        Redis after the deadline reassigns the case promptly."""
        env, gw = self.env, self.gw
        self.team('team-a', 1.0, 10)
        tok_b = self.team('team-b', 3.0, 190)
        a = env.post_incident('threat', THREAT_TEXT)
        self.assertAssignedTo(a, 'team-a')
        cid = a['case_id']
        d = json.loads(gw.wait_dispatch('/team-a', cid)[0]['body'])
        deadline = rfc3339_epoch(d['ack_deadline'])
        # the delivery is recorded before the stop, so that no router sends it again
        wait_until(lambda: dispatch_entries(env.case(cid)), 5, 0.05, 'the dispatch recorded')
        time.sleep(0.1)
        self.assertGreater(deadline, time.time() + 0.2, 'too slow to stop before the deadline')
        self.assertEqual(env.router.stop(), 0, 'the router exits 0 on SIGTERM')
        self.assertLess(time.time(), deadline, 'stopped before the deadline')
        self.assertNotIn('reassigned', statuses(self._case_direct(cid)))
        # let the deadline pass with no router running
        time.sleep(max(0.0, deadline - time.time()) + 1.0)
        self.assertEqual(self.gw.dispatches('/team-b'), [])
        r2 = env.add_router(name='router-after-restart')
        started = time.time()
        view = self.wait_team(cid, 'team-b', TICK_BOUND_S, router=r2,
                              what='the new router reassigns the expired case')
        reassigned = [e for e in view['timeline'] if e.get('status') == 'reassigned']
        self.assertEqual(len(reassigned), 1, view['timeline'])
        self.assertGreaterEqual(rfc3339_epoch(reassigned[0]['at']), started - 0.5)
        self.assertSigned(gw.wait_dispatch('/team-b', cid)[0], tok_b, 'dispatch by the new router')
        self.assertEqual(len(gw.dispatches('/team-a', cid)), 1, 'team-a dispatched once only')

    def _case_direct(self, cid):
        """The case as stored, read while no router runs: the timeline list in Redis."""
        key = '%scase:%s:timeline' % (self.env.prefix, cid)
        items = self.env.redis.command('LRANGE', key, 0, -1)
        self.assertTrue(items, 'no timeline stored under %s' % key)
        return {'timeline': [json.loads(x) for x in items]}


class EscalationTest(FastDeadlineTest):

    def test_escalation_supervisor_notice_and_manual_assign(self):
        """After max_attempts unacknowledged claims the case is queued with queue_reason
        no_acknowledgment, listed in the operators' queue, announced to the supervisors' webhook
        (signed with ESS_SUPERVISOR_SECRET), and not taken by a team that becomes available; an
        operator's manual assignment dispatches it to that team."""
        env, gw = self.env, self.gw
        self.team('team-a', 1.0, 10)
        self.team('team-b', 3.0, 190)
        a = env.post_incident('detention', DETENTION_TEXT)
        self.assertAssignedTo(a, 'team-a')
        cid = a['case_id']

        def escalated():
            v = env.case(cid)
            return v if v.get('status') == 'queued' else None
        view = wait_until(escalated, MAX_ATTEMPTS * ACK_TIMEOUT_S + 8, 0.1,
                          'escalation after %d attempts' % MAX_ATTEMPTS)
        self.assertEqual(view.get('queue_reason'), 'no_acknowledgment', view)
        self.assertIsNone(view.get('team'), view)
        st = statuses(view)
        self.assertEqual(st.count('reassigned'), MAX_ATTEMPTS, st)
        self.assertEqual(st.count('assigned'), MAX_ATTEMPTS, st)
        self.assertEqual(st[-1], 'queued', st)
        self.assertEqual(len(gw.dispatches('/team-a', cid)), 1)
        self.assertEqual(len(gw.dispatches('/team-b', cid)), 1)

        queue = env.list_cases(status='queued')
        mine = [c for c in queue if c.get('case_id') == cid]
        self.assertEqual(len(mine), 1, 'the escalated case in GET /v1/cases?status=queued: %r'
                         % queue)
        self.assertEqual(mine[0].get('queue_reason'), 'no_acknowledgment', mine[0])

        notes = wait_until(lambda: gw.received('/supervisor'), 10, 0.05,
                           'the escalation notice to ESS_SUPERVISOR_WEBHOOK')
        n = notes[0]
        self.assertTrue(n['headers'].get('content-type', '').startswith('application/json'))
        self.assertSigned(n, self.supervisor_secret, 'escalation notice')
        self.assertNotEqual(n['headers'].get('x-ess-signature'), signature(env.admin_token, n['body']),
                            'the notice is not signed with the admin token')
        body = json.loads(n['body'])
        want = {'event': 'escalation', 'case_id': cid, 'tracking_code': a['tracking_code'],
                'category': 'detention', 'priority': a['priority'],
                'reason': 'no_acknowledgment', 'attempts': MAX_ATTEMPTS}
        for k, v in want.items():
            self.assertEqual(body.get(k), v, 'escalation notice %s: %r' % (k, body))
        self.assertRegex(body.get('created_at') or '', harness.RFC3339_UTC)
        for k in ('description', 'reporter', 'location'):
            self.assertNotIn(k, body, 'no personal data in the supervisors\' notice')

        # a team comes on duty next to the case, says it is available, and the queue sweep runs:
        # the escalated case waits for an operator
        tok_c = self.team('team-c', 0.5, 300, capacity=1)
        t = env.teams['team-c']
        self.assertStatus(env.position('team-c', t['lat'], t['lon'], available=True), 200)
        # team-c fills up with a new case and frees its slot again by resolving it
        x = env.post_incident('threat', THREAT_TEXT)
        self.assertAssignedTo(x, 'team-c', msg='a new case goes to the new team')
        env.resolve(x['case_id'], tok_c)
        end = time.monotonic() + 6.0  # past the 5 s queue sweep
        while time.monotonic() < end:
            v = env.case(cid)
            self.assertEqual((v['status'], v.get('team')), ('queued', None),
                             'an escalated case was taken automatically: %r' % v)
            time.sleep(0.25)
        self.assertEqual(gw.dispatches('/team-c', cid), [])
        self.assertEqual(len(gw.received('/supervisor')), 1, 'one notice per escalation')

        r = env.assign(cid, 'team-c')
        self.assertStatus(r, 200, 'manual assignment')
        v = env.case(cid)
        self.assertEqual((v['status'], team_of(v)), ('assigned', 'team-c'), v)
        req = gw.wait_dispatch('/team-c', cid)[0]
        self.assertSigned(req, tok_c, 'dispatch after manual assignment')
        self.assertEqual(json.loads(req['body'])['case_id'], cid)
        self.assertNotIn(cid, [c['case_id'] for c in env.list_cases(status='queued')])
        self.assertStatus(env.ack(cid, tok_c), 200, 'team-c acknowledges')
        self.assertEqual(env.case(cid)['status'], 'acknowledged')


class DispatchTimelineTest(FastDeadlineTest):

    supervisor = False

    def test_dispatch_attempts_on_operator_timeline_only(self):
        """A webhook answered 500 then 200: the operators' timeline has two dispatch entries
        (failed, then delivered) with notes; the public tracking view has none."""
        env, gw = self.env, self.gw
        gw.script('/t1', 500)
        tok = self.team('t1', 2.0, 10)
        a = env.post_incident('threat', THREAT_TEXT)
        self.assertAssignedTo(a, 't1')
        cid = a['case_id']
        reqs = gw.wait_dispatch('/t1', cid, n=2, timeout=15)
        self.assertEqual([r['status'] for r in reqs[:2]], [500, 200])
        keys = {r['headers'].get('x-ess-delivery') for r in reqs}
        self.assertEqual(len(keys), 1, 'X-ESS-Delivery stays the same across retries: %r' % keys)
        self.assertRegex(keys.pop() or '', UUID_RE)
        for r in reqs:
            self.assertSigned(r, tok, 'dispatch')

        view = wait_until(lambda: (lambda v: v if len(dispatch_entries(v)) >= 2 else None)(
            env.case(cid)), 10, 0.05, 'two dispatch entries on the timeline')
        ds = dispatch_entries(view)
        self.assertEqual(len(ds), 2, ds)
        for e in ds:
            self.assertIsInstance(e.get('note'), str, e)
            self.assertTime(e.get('at'))
        self.assertIn('fail', ds[0]['note'].lower(), ds)
        self.assertIn('500', ds[0]['note'], ds)
        self.assertIn('deliver', ds[1]['note'].lower(), ds)
        self.assertIn('200', ds[1]['note'], ds)
        self.assertEqual(statuses(view), ['received', 'assigned'])

        r = env.track(a['tracking_code'])
        self.assertStatus(r, 200)
        tl = r.body.get('timeline')
        self.assertEqual([e.get('status') for e in tl], ['received', 'assigned'], tl)
        for e in tl:
            self.assertNotIn('event', e, 'a dispatch entry in the public view: %r' % tl)
            self.assertNotIn('note', e, tl)
        raw = r.raw.decode('utf-8')
        for word in ('dispatch', 'webhook', 'HTTP 500', 'attempt'):
            self.assertNotIn(word, raw, 'the public view mentions %r: %s' % (word, raw))
        time.sleep(0.5)
        self.assertEqual(len(gw.dispatches('/t1', cid)), 2, 'no resend after a 200')

    def test_failing_webhook_attempts_stop_with_the_claim(self):
        """team-a's webhook keeps failing (503) past its deadline: the case moves to team-b.
        Issue 4: "every attempt and its outcome on the case's timeline", and the claim is
        released: every dispatch attempt team-a's gateway received is on the timeline, and
        team-a is not sent the case again once it no longer holds it."""
        env, gw = self.env, self.gw
        gw.script('/team-a', *([503] * 20))
        self.team('team-a', 1.0, 10)
        tok_b = self.team('team-b', 3.0, 190)
        a = env.post_incident('threat', THREAT_TEXT)
        self.assertAssignedTo(a, 'team-a')
        cid = a['case_id']
        view = self.wait_team(cid, 'team-b', ACK_TIMEOUT_S + 8)
        released = rfc3339_epoch([e for e in view['timeline']
                                  if e.get('status') == 'reassigned'][0]['at'])
        self.assertStatus(env.ack(cid, tok_b), 200)
        # the backoff (1 s, 2 s, 4 s…) would have sent team-a attempts at about 3 s and 7 s
        time.sleep(5.5)
        sent = gw.dispatches('/team-a', cid)
        late = [r for r in sent if r['at'] > released + 0.5]
        v = env.case(cid)
        on_timeline = [e for e in dispatch_entries(v) if 'HTTP 503' in (e.get('note') or '')]
        with self.subTest('no attempt after the claim is released'):
            self.assertEqual(len(late), 0, 'team-a was sent the case (personal data included) %d '
                             'more time(s) after it lost the claim: released at %.3f, attempts '
                             'at %s' % (len(late), released, ['%.3f' % r['at'] for r in sent]))
        with self.subTest('every attempt on the timeline'):
            self.assertEqual(len(sent), len(on_timeline),
                             'team-a got %d attempts, the timeline records %d: %r'
                             % (len(sent), len(on_timeline),
                                [e.get('note') for e in dispatch_entries(v)]))


# ---------------------------------------------------------------------------------------------
# 4: two router processes on one Redis

class TwoRoutersTest(FastDeadlineTest):

    CASES = 10
    TEAMS = [('t-1', 1.0, 0), ('t-2', 2.0, 90), ('t-3', 3.0, 180), ('t-4', 4.0, 270)]
    CAPACITY = 5

    def slots(self, team_id):
        """(active count, size of the case set) of a team as stored in Redis."""
        key = '%steam:%s' % (self.env.prefix, team_id)
        active = self.env.redis.command('HGET', key, 'active')
        return int(active or 0), int(self.env.redis.command('SCARD', key + ':cases'))

    def test_each_expiry_handled_once(self):
        """Two routers (same Redis and prefix, different ports), 10 cases, silent teams: each
        case is reassigned exactly once per missed deadline and escalated once, no team ever
        holds more than its capacity, and each (case, team) dispatch is delivered once with its
        own X-ESS-Delivery."""
        env, gw = self.env, self.gw
        r1 = env.router
        r2 = env.add_router(name='router2')
        self.assertNotEqual(r1.port, r2.port)
        tokens = {tid: self.team(tid, km, bearing, capacity=self.CAPACITY)
                  for tid, km, bearing in self.TEAMS}
        cids = []
        for i in range(self.CASES):
            body = env.incident_body(category='threat', description=THREAT_TEXT)
            r = env.post_incident_raw(body, router=(r1, r2)[i % 2])
            self.assertStatus(r, 201)
            self.assertEqual(r.body.get('status'), 'assigned', r)
            cids.append(r.body['case_id'])

        over, checks, busy = [], [], []

        def snapshot():
            rr = env.http('GET', '/v1/cases?status=assigned&limit=200',
                          token=env.operator_token, router=(r1, r2)[len(checks) % 2])
            self.assertEqual(rr.status, 200, repr(rr))
            held = {}
            for c in rr.body.get('cases', []):
                tid = (c.get('team') or {}).get('id')
                self.assertIn(tid, tokens, 'an assigned case without a known team: %r' % c)
                held[tid] = held.get(tid, 0) + 1
            for tid, n in held.items():
                if n > self.CAPACITY:
                    over.append(('listing', tid, n))
            # the slots as stored (each team's case set and active count)
            for tid in tokens:
                n = self.slots(tid)
                if not 0 <= n[0] <= self.CAPACITY or n[0] != n[1]:
                    over.append(('stored', tid, n))
                busy.append(n[0])
            checks.append(1)

        def all_escalated():
            snapshot()
            done = 0
            for k, cid in enumerate(cids):
                v = env.http('GET', '/v1/cases/' + cid, token=env.operator_token,
                             router=(r1, r2)[k % 2]).body
                if v.get('status') == 'queued':
                    done += 1
            return done == len(cids)
        wait_until(all_escalated, MAX_ATTEMPTS * ACK_TIMEOUT_S + 12, 0.2,
                   'every case escalated after %d missed deadlines' % MAX_ATTEMPTS)
        time.sleep(1.2)  # more sweeps from both routers: nothing may happen twice
        snapshot()
        self.assertEqual(over, [], 'a team held more cases than its capacity')
        self.assertTrue(any(busy), 'the stored slot counts were never seen in use')
        for tid in tokens:
            self.assertEqual(self.slots(tid), (0, 0), 'team %s: every slot released after the '
                             'escalations' % tid)

        for cid in cids:
            v = env.case(cid)
            st = statuses(v)
            self.assertEqual(st.count('reassigned'), MAX_ATTEMPTS,
                             'case %s: one reassigned entry per missed deadline: %r' % (cid, st))
            self.assertEqual(st.count('assigned'), MAX_ATTEMPTS, (cid, st))
            self.assertEqual(st.count('queued'), 1, (cid, st))
            self.assertEqual(v.get('queue_reason'), 'no_acknowledgment', v)

        per_case = {}
        for t in tokens:
            for req in gw.dispatches('/' + t):
                self.assertSigned(req, tokens[t], 'dispatch to %s' % t)
                d = json.loads(req['body'])
                per_case.setdefault(d['case_id'], []).append(
                    (t, req['headers'].get('x-ess-delivery')))
        all_keys = []
        for cid in cids:
            got = per_case.get(cid, [])
            teams = [t for t, _ in got]
            self.assertEqual(len(got), MAX_ATTEMPTS,
                             'case %s: one delivered dispatch per claim: %r' % (cid, got))
            self.assertEqual(len(set(teams)), MAX_ATTEMPTS,
                             'case %s: a silent team is not claimed again: %r' % (cid, got))
            for _, key in got:
                self.assertRegex(key or '', UUID_RE)
            all_keys += [k for _, k in got]
        self.assertEqual(len(all_keys), len(set(all_keys)),
                         'X-ESS-Delivery distinct per dispatch: %r' % all_keys)
        self.assertEqual(set(per_case), set(cids))
        notices = [json.loads(r['body']).get('case_id') for r in gw.received('/supervisor')]
        self.assertEqual(sorted(notices), sorted(cids), 'one escalation notice per case')


def metric(env, name):
    """The value of an unlabelled metric in GET /metrics; None when it is not there."""
    r = env.http('GET', '/metrics')
    m = re.search(r'^%s ([0-9.e+]+)$' % re.escape(name), r.raw.decode('utf-8'), re.M)
    return float(m.group(1)) if m else None


class SupervisorNoticeTest(DeadlineMixin, LineTest):
    """Escalation notices go to the supervisors' webhook and to their LINE group when both are
    set (issue 7, defect 5); the webhook's notice is signed with ESS_SUPERVISOR_SECRET. The
    delivery counters and the outbox backlog of /metrics move with what happens."""

    def setUp(self):
        self.gw = Gateway()
        self.addCleanup(self.gw.close)
        self.rules_dir = tempfile.mkdtemp(prefix='ess-rules-')
        self.addCleanup(shutil.rmtree, self.rules_dir, True)
        self.group = fake_line.new_group_id()
        self.supervisor_secret = 'sup-' + secrets.token_hex(16)
        self.env_options = {
            'rules': harness.short_deadline_rules(self.rules_dir, ACK_TIMEOUT_S, 1),
            'extra_env': {'ESS_SUPERVISOR_WEBHOOK': self.gw.url('/supervisor'),
                          'ESS_SUPERVISOR_LINE_TO': self.group,
                          'ESS_SUPERVISOR_SECRET': self.supervisor_secret}}
        super().setUp()
        self.env.secrets.add(self.supervisor_secret)

    def group_pushes(self):
        return [r for r in self.fake.pushes() if r.to == self.group]

    def test_escalation_to_webhook_and_line_group(self):
        """A silent team: its failed dispatch counts in ess_team_delivery_failures_total, the
        missed deadline in ess_ack_timeouts_total and ess_escalations_total; the notice goes to
        the webhook (signed with the supervisors' own secret) and to the LINE group. While LINE
        fails the notice stays in the outbox (ess_outbox_backlog) and each failed push counts in
        ess_line_delivery_failures_total; the notice is then sent again under the same
        X-ESS-Delivery, and the group gets it once LINE is back."""
        env, gw = self.env, self.gw
        for name in ('ess_ack_timeouts_total', 'ess_escalations_total',
                     'ess_team_delivery_failures_total', 'ess_line_delivery_failures_total'):
            self.assertEqual(metric(env, name), 0, name)
        self.assertEqual(metric(env, 'ess_outbox_backlog'), 0)

        gw.script('/team-a', 500, 500, 500, 500, 500, 500, 500, 500, 500, 500)
        self.fake.down(503)
        env.put_team_at('team-a', 1.0, 10, POLICE_SW, notify={'webhook': gw.url('/team-a')})
        a = env.post_incident('detention', DETENTION_TEXT)
        self.assertAssignedTo(a, 'team-a')
        cid = a['case_id']
        wait_until(lambda: metric(env, 'ess_team_delivery_failures_total') >= 1, 10, 0.05,
                   'a failed dispatch counted')
        wait_until(lambda: env.case(cid).get('status') == 'queued', ACK_TIMEOUT_S + 8, 0.1,
                   'the escalation')
        self.assertEqual(metric(env, 'ess_ack_timeouts_total'), 1)
        self.assertEqual(metric(env, 'ess_escalations_total'), 1)

        notes = wait_until(lambda: gw.received('/supervisor'), 10, 0.05, 'the webhook notice')
        n = notes[0]
        self.assertSigned(n, self.supervisor_secret, 'escalation notice')
        self.assertNotEqual(n['headers'].get('x-ess-signature'),
                            signature(env.admin_token, n['body']))
        self.assertEqual(json.loads(n['body']).get('case_id'), cid)
        delivery = n['headers'].get('x-ess-delivery')
        self.assertRegex(delivery or '', UUID_RE)
        # LINE answers 503: the push fails, is counted, and the notice waits in the outbox
        self.fake.wait_for(lambda reqs: [r for r in reqs if r.to == self.group], 10,
                           'a push to the supervisors\' group')
        wait_until(lambda: metric(env, 'ess_line_delivery_failures_total') >= 1, 10, 0.05,
                   'a failed LINE push counted')
        self.assertGreaterEqual(metric(env, 'ess_outbox_backlog'), 1)

        self.fake.up()
        p = self.fake.wait_for(lambda reqs: next(
            (r for r in reqs if r.to == self.group and r.ok), None), 20,
            'the notice pushed to the supervisors\' group once LINE is back')
        text = visible_text(p.messages)
        self.assertIn(a['tracking_code'], text)
        self.assertNotIn(DETENTION_TEXT, text, 'no description in the group notice')
        again = wait_until(lambda: [r for r in gw.received('/supervisor') if r is not n], 10,
                           0.05, 'the webhook notice sent again with the LINE push')
        for r in again:
            self.assertEqual(r['headers'].get('x-ess-delivery'), delivery,
                             'a notice sent again keeps its X-ESS-Delivery')
            self.assertSigned(r, self.supervisor_secret, 'notice sent again')
        wait_until(lambda: metric(env, 'ess_outbox_backlog') == 0, 10, 0.1,
                   'the outbox empties once everything is delivered')


# ---------------------------------------------------------------------------------------------
# 7: progress (default rule table: long deadlines)

class ProgressTest(DeadlineMixin, RouterTest):

    def setUp(self):
        self.gw = Gateway()
        self.addCleanup(self.gw.close)
        super().setUp()

    def test_progress_with_notes_and_queue_drain(self):
        """The team moves its case en_route, on_scene, resolved, closed with notes: each on the
        operators' timeline with its note, in the public view as a status only; resolving frees
        the team's one slot and the case queued behind it is assigned to it."""
        env, gw = self.env, self.gw
        tok = env.put_team_at('solo', 2.0, 300, POLICE_SW, capacity=1,
                              notify={'webhook': gw.url('/solo')})
        a = env.post_incident('detention', DETENTION_TEXT)
        self.assertAssignedTo(a, 'solo')
        cid, code = a['case_id'], a['tracking_code']
        b = env.post_incident('threat', THREAT_TEXT)
        self.assertQueued(b, 'solo is full')
        self.assertIn(b['case_id'], [c['case_id'] for c in env.list_cases(status='queued')])

        self.assertStatus(env.ack(cid, tok), 200)
        tag = secrets.token_hex(3)
        notes = {'en_route': 'ออกเดินทางแล้ว รถตู้ %s' % tag,
                 'on_scene': 'ถึงที่เกิดเหตุ พบผู้แจ้ง %s' % tag,
                 'resolved': 'ส่งต่อบ้านพักเด็กและครอบครัว %s' % tag,
                 'closed': 'ปิดเคส เอกสารครบ %s' % tag}
        for st in ('en_route', 'on_scene'):
            r = env.set_status(cid, st, notes[st], token=tok)
            self.assertStatus(r, 200, st)
            t = env.track(code)
            self.assertEqual(t.body.get('status'), st, t)
        self.assertEqual(env.case(b['case_id'])['status'], 'queued', 'still no free slot')

        self.assertStatus(env.set_status(cid, 'resolved', notes['resolved'], token=tok), 200)
        self.wait_team(b['case_id'], 'solo', 10, what='the queued case drained into the freed slot')
        self.gw.wait_dispatch('/solo', b['case_id'])
        self.assertStatus(env.set_status(cid, 'closed', notes['closed'], token=tok), 200,
                          'the team closes its resolved case')

        v = env.case(cid)
        self.assertEqual(v['status'], 'closed')
        changes = status_changes(v)
        self.assertEqual([e['status'] for e in changes],
                         ['received', 'assigned', 'acknowledged', 'en_route', 'on_scene',
                          'resolved', 'closed'])
        for e in changes:
            if e['status'] in notes:
                self.assertEqual(e.get('note'), notes[e['status']], e)
                self.assertEqual(e.get('by'), 'solo', e)
                self.assertTime(e.get('at'))

        t = env.track(code)
        self.assertStatus(t, 200)
        self.assertEqual(t.body.get('status'), 'closed')
        self.assertEqual([e.get('status') for e in t.body.get('timeline', [])],
                         ['received', 'assigned', 'acknowledged', 'en_route', 'on_scene',
                          'resolved', 'closed'])
        for e in t.body.get('timeline', []):
            self.assertEqual(set(e) - {'status', 'at'}, set(), 'public entry %r' % e)
        raw = t.raw.decode('utf-8')
        for n in notes.values():
            self.assertNotIn(n, raw, 'a note in the public tracking view')
        self.assertNotIn(tag, raw)


# ---------------------------------------------------------------------------------------------
# 6: a team reached in its LINE group

def group_postback(data, group_id, user_id=None, event_id=None):
    """A postback event from a LINE group (the team's accept button), as LINE sends it."""
    user_id = user_id or fake_line.new_user_id()
    event_id = event_id or fake_line.new_event_id()
    token = fake_line.new_reply_token()
    ts = fake_line.now_ms()
    ev = {'type': 'postback', 'postback': {'data': data}, 'webhookEventId': event_id,
          'deliveryContext': {'isRedelivery': False}, 'timestamp': ts,
          'source': {'type': 'group', 'groupId': group_id, 'userId': user_id},
          'replyToken': token, 'mode': 'active'}
    text = json.dumps(ev, separators=(',', ':'))
    return fake_line.Event('postback', text, user_id, event_id, token, ts, {'DATA': data})


class LineGroupDispatchTest(DeadlineMixin, LineTest):

    def group_pushes(self, group):
        return [r for r in self.fake.pushes() if r.to == group]

    def test_group_push_and_accept_button(self):
        """A team with notify.line_to gets a push to its group with the tracking code and an
        "ack=<case_id>" postback button; the same postback from an unknown group, or from the
        group for a case its team does not hold, acknowledges nothing; from the team's group it
        acknowledges the case for that team, with a reply to the group."""
        env = self.env
        group = fake_line.new_group_id()
        other_group = fake_line.new_group_id()
        env.put_team_at('line-team', 1.5, 60, POLICE_SW, name='ทีมสหวิชาชีพ กลุ่มไลน์',
                        notify={'line_to': group})
        env.put_team_at('mh-team', 2.0, 200, MH_POLICE, notify={'line_to': other_group})
        a = env.post_incident('detention', DETENTION_TEXT)
        self.assertAssignedTo(a, 'line-team')
        cid, code = a['case_id'], a['tracking_code']
        b = env.post_incident('mental_crisis', 'ผู้ชายคลุ้มคลั่งถือมีดอาละวาดในซอย')
        self.assertAssignedTo(b, 'mh-team')

        p = self.fake.wait_for(lambda reqs: next(
            (r for r in reqs if r.endpoint == 'push' and r.to == group), None), 10,
            'the dispatch push to the team\'s group')
        self.assertTrue(p.ok, p)
        self.assertRegex(p.retry_key or '', UUID_RE)
        self.assertIn(code, visible_text(p.messages), 'the tracking code in the group push')
        self.assertIn('ack=' + cid, postbacks(p.messages), 'the accept button: %r' % p.messages)
        self.assertNotIn('ack=' + b['case_id'], postbacks(p.messages))
        self.assertEqual(len(self.group_pushes(group)), 1)
        wait_until(lambda: dispatch_entries(env.case(cid)), 10, 0.05,
                   'the LINE dispatch on the timeline')

        # an accept button pressed in a group no team is linked to
        stranger = fake_line.new_group_id()
        self.deliver(group_postback('ack=' + cid, stranger))
        # the right group, but a case its team does not hold
        self.deliver(group_postback('ack=' + b['case_id'], group))
        time.sleep(1.0)
        v = env.case(cid)
        self.assertEqual((v['status'], team_of(v)), ('assigned', 'line-team'), v)
        self.assertNotIn('acknowledged', statuses(v))
        vb = env.case(b['case_id'])
        self.assertEqual((vb['status'], team_of(vb)), ('assigned', 'mh-team'), vb)

        ev = group_postback('ack=' + cid, group)
        self.deliver(ev)
        v = wait_until(lambda: (lambda x: x if x['status'] == 'acknowledged' else None)(
            env.case(cid)), 10, 0.05, 'acknowledged through the group\'s accept button')
        self.assertEqual(team_of(v), 'line-team')
        acks = [e for e in status_changes(v) if e['status'] == 'acknowledged']
        self.assertEqual(len(acks), 1, v['timeline'])
        self.assertEqual(acks[0].get('by'), 'line-team', acks[0])
        reply = self.fake.wait_reply(ev)
        self.assertTrue(reply.messages, 'a reply in the group: %r' % reply)
        # LINE redelivers the same event: no second acknowledgment
        self.deliver(ev.redelivered())
        time.sleep(0.5)
        self.assertEqual([e['status'] for e in status_changes(env.case(cid))].count(
            'acknowledged'), 1)
        self.assertEqual(env.track(code).body.get('status'), 'acknowledged')


if __name__ == '__main__':
    harness.main()
