"""Fault: team gateways that hang or fail (issue 15, "Fault tests"; README "Faults and what
survives them"; router/out/dispatch.c, client.c, sweep.c).

Already covered elsewhere, and not repeated here: a dispatch retried after a 503 and a 500
(test_dispatch.py, test_dispatch_retried_after_failure), an unreachable webhook does not delay
the incident's answer (test_unreachable_webhook_does_not_block), a webhook failing past the
deadline moves the case on and stops being sent the case (test_dispatch_deadlines.py,
test_failing_webhook_attempts_stop_with_the_claim), a LINE API that hangs does not delay
webhooks (test_line_delivery.py).

New here, with two broken gateways at once, on one router:
- a gateway that hangs (accepts, reads the dispatch, never answers): each attempt is given up at
  the router's 5 s timeout (the router closes the connection), and the pauses between giving up
  and trying again grow (1 s, 2 s, 4 s…, the same X-ESS-Delivery); the case's deadline
  (HANG_ACK_S) still moves it on to the next nearest team, which gets the dispatch;
- a gateway that answers 500 for FAIL_S seconds (a minute; ESS_TEST_GATEWAY_FAIL_S shortens it
  for a quick run) and 200 after: one case, whose deadline is longer than that, is retried with
  intervals that double up to the 30 s cap and delivered by the first attempt after the minute,
  then never sent again, and its team acknowledges it; a second case held by the same team
  (deadline FAIL_DEADLINE_ACK_S) moves on to the next team meanwhile;
- nothing blocks: while a dispatch hangs (the gateway holds its connection open), an incident,
  a tracking lookup, a case read, /healthz and a LINE webhook are each answered, and answered
  before the router gave up the hanging attempt; were the loop blocked by the hang, they would
  be answered only after the router closed that connection. The order is the check, not a
  measured speed.

How it fails: a hanging send that blocks the loop (answers come only after the hang ends), or
that is never given up (no retry, closed_at stays empty); a retry schedule that does not back
off (equal or shrinking pauses) or never reaches the gateway again after the minute; a deadline
that does not move a case whose gateway fails; a dispatch sent again after a 2xx."""

import json
import os
import shutil
import tempfile
import time

import harness
from harness import wait_until, status_changes
from fake_line import LineTest, webhook_body
import fault_load
from fault_load import TeamGateway

POLICE_SW = ['police', 'social_worker']
TEAM_NAME = 'ทีมสหวิชาชีพ '  # harness.Env.put_team's name for a team: this and its id
FAIL_S = float(os.environ.get('ESS_TEST_GATEWAY_FAIL_S', '60'))
BACKOFF_CAP_S = 30             # router/out/dispatch.c BACKOFF_MAX_MS
SEND_TIMEOUT_S = 5             # router/out/dispatch.c SEND_TIMEOUT_MS
HANG_ACK_S = 25                # four attempts at a hanging gateway: 0, 6, 13, 22 s
FAIL_DEADLINE_ACK_S = 10
FAIL_ACK_S = FAIL_S + BACKOFF_CAP_S + 20  # long enough to reach the gateway after the minute
# The categories used, each with its own deadline; all need police and social_worker.
HANG_CATEGORY, FAIL_CATEGORY, FAIL_DEADLINE_CATEGORY = 'threat', 'gathering', 'detention'
TEXT = {'threat': 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย',
        'gathering': 'มีการมั่วสุมเสพยาในบ้านร้าง',
        'detention': 'พนักงานถูกนายจ้างขังไว้ในห้องเก็บของ',
        'mental_crisis': 'ชายคลุ้มคลั่งอาละวาดในตลาด'}
# Two places 100 km apart (beyond the widest radius, 50 km): the hanging gateway's team and its
# replacement near one, the failing gateway's team and its replacement near the other.
HANG_PLACE = harness.BKK
FAIL_PLACE = harness.destination(harness.BKK[0], harness.BKK[1], 0, 100.0)


def deadline_rules(workdir, timeouts, attempts=2):
    """The default rule table with the acknowledgment timeout of each category of timeouts and
    max_attempts attempts; its path."""
    with open(harness.DEFAULT_RULES, encoding='utf-8') as f:
        table = json.load(f)
    for code, cat in table['categories'].items():
        cat['ack_timeout_s'] = timeouts.get(code, cat['ack_timeout_s'])
        cat['max_attempts'] = attempts
    path = os.path.join(workdir, 'rules-gateway-faults.json')
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(table, f, ensure_ascii=False)
    return path


class BrokenGatewaysTest(LineTest):

    def setUp(self):
        rules_dir = tempfile.mkdtemp(prefix='ess-gateway-rules-')
        self.addCleanup(shutil.rmtree, rules_dir, True)
        self.env_options = {'rules': deadline_rules(rules_dir, {
            HANG_CATEGORY: HANG_ACK_S, FAIL_CATEGORY: FAIL_ACK_S,
            FAIL_DEADLINE_CATEGORY: FAIL_DEADLINE_ACK_S})}
        self.gw = TeamGateway()
        self.addCleanup(self.gw.close)
        super().setUp()

    def team(self, team_id, km, place):
        return self.env.put_team_at(team_id, km, 90, POLICE_SW, origin=place, capacity=2,
                                    notify={'webhook': self.gw.url('/' + team_id)})

    def incident(self, category, place):
        return self.env.post_incident(category, TEXT[category], origin=place)

    def wait_moved(self, answer, first, then, ack_s):
        """The case of answer (an incident's answer) went from team first, at its deadline, to
        team then, whose gateway got its dispatch."""
        def holders():
            v = self.env.case(answer['case_id'])
            names = [e.get('team') for e in status_changes(v) if e.get('status') == 'assigned']
            return names if len(names) >= 2 else None
        names = wait_until(holders, ack_s + 15, 0.2, 'case %s assigned again' % answer['case_id'])
        self.assertEqual(names[:2], [TEAM_NAME + first, TEAM_NAME + then])
        got = self.gw.wait_for(lambda rs: [r for r in rs if r.path == '/' + then], 10,
                               'the dispatch to %s' % then)
        self.assertEqual((got[0].case_id, got[0].status), (answer['case_id'], 200))

    def answered_meanwhile(self, hanging, code, n):
        """Requests of every kind, each sent while `hanging` (the GatewayRequest of dispatch
        attempt n) is still open, and each answered as it should be; returns [(what, when it was
        answered)] (time.monotonic())."""
        env = self.env
        user = self.new_user()
        ev = user.text('สวัสดีค่ะ')
        checks = [
            ('an incident', lambda: env.post_incident_raw(env.incident_body(
                category='mental_crisis', description=TEXT['mental_crisis'])), 201),
            ('a tracking lookup', lambda: env.track(code), 200),
            ('a case read', lambda: env.http('GET', '/v1/cases?status=queued',
                                             token=env.operator_token), 200),
            ('/healthz', lambda: env.http('GET', '/healthz'), 200),
            ('a LINE webhook', lambda: self.post_webhook(webhook_body([ev])), 200),
        ]
        answered = []
        for what, fn, want in checks:
            if hanging.closed_at is not None:
                break  # given up already: what follows proves nothing about this attempt
            r = fn()
            answered.append((what, time.monotonic()))
            self.assertEqual(r.status, want, '%s while dispatch attempt %d hangs: %r'
                             % (what, n, r))
        self.assertTrue(answered, 'attempt %d was given up before a request could be made' % n)
        if answered[-1][0] == 'a LINE webhook':
            self.fake.wait_reply(ev)
        return answered

    def test_hanging_and_failing_gateways(self):
        env, gw = self.env, self.gw
        gw.hang('/g-hang')
        fail_until = time.monotonic() + FAIL_S
        gw.fail_until('/g-fail', fail_until, 500)
        self.team('g-hang', 1.0, HANG_PLACE)
        self.team('g-next-h', 3.0, HANG_PLACE)
        fail_token = self.team('g-fail', 1.0, FAIL_PLACE)
        self.team('g-next-f', 3.0, FAIL_PLACE)

        hung = self.incident(HANG_CATEGORY, HANG_PLACE)
        failing = self.incident(FAIL_CATEGORY, FAIL_PLACE)
        moved = self.incident(FAIL_DEADLINE_CATEGORY, FAIL_PLACE)
        self.assertAssignedTo(hung, 'g-hang')
        self.assertAssignedTo(failing, 'g-fail')
        self.assertAssignedTo(moved, 'g-fail')

        # While each attempt at the hanging gateway is open, everything else is answered.
        answered_during = []
        for n in range(1, 4):
            reqs = gw.wait_for(lambda rs: [r for r in rs if r.path == '/g-hang'][n - 1:] or None,
                               SEND_TIMEOUT_S + 2 ** n + 10, 'hanging attempt %d' % n)
            attempt = reqs[0]
            answered_during.append(
                (attempt, self.answered_meanwhile(attempt, hung['tracking_code'], n)))

        with self.subTest('the hanging gateway: the case moves on at its deadline'):
            self.wait_moved(hung, 'g-hang', 'g-next-h', HANG_ACK_S)

        with self.subTest('the hanging gateway: each attempt given up, pauses growing'):
            attempts = gw.requests('/g-hang', hung['case_id'])
            self.assertGreaterEqual(len(attempts), 3, attempts)
            self.assertEqual(len({r.delivery for r in attempts}), 1, attempts)
            for a in attempts[:-1]:
                self.assertIsNotNone(a.closed_at, 'the router never gave up %r' % a)
            pauses = [b.at - a.closed_at for a, b in zip(attempts, attempts[1:])]
            fault_load.diag('hanging gateway: attempts at %s s, pauses after giving up %s s' % (
                ['%.1f' % (r.at - attempts[0].at) for r in attempts],
                ['%.2f' % p for p in pauses]))
            for p, q in zip(pauses, pauses[1:]):
                self.assertGreaterEqual(q, 1.5 * p, 'the pauses do not grow: %r' % pauses)

        with self.subTest('nothing blocks: answered while the dispatch hung'):
            for attempt, answered in answered_during:
                self.assertIsNotNone(attempt.closed_at, attempt)
                late = [what for what, t in answered if t >= attempt.closed_at]
                self.assertEqual(late, [], 'answered only after the router gave up the hanging '
                                 'attempt: the loop waited for it (%r)' % attempt)

        with self.subTest('the failing gateway: a case with a shorter deadline moves on'):
            self.wait_moved(moved, 'g-fail', 'g-next-f', FAIL_DEADLINE_ACK_S)

        with self.subTest('the failing gateway: retried with backoff, delivered after it'):
            delivered = gw.wait_for(
                lambda rs: [r for r in rs if r.path == '/g-fail' and r.status == 200],
                max(0.0, fail_until - time.monotonic()) + BACKOFF_CAP_S + 15,
                'the dispatch delivered once the gateway answers 200')
            self.assertEqual(delivered[0].case_id, failing['case_id'])
            time.sleep(2.5)  # a resend after the 2xx would come after 1 s
            attempts = gw.requests('/g-fail', failing['case_id'])
            statuses = [r.status for r in attempts]
            self.assertEqual(statuses[-1], 200, 'never sent again after the 2xx: %r' % attempts)
            self.assertEqual(set(statuses[:-1]), {500}, attempts)
            self.assertEqual(len({r.delivery for r in attempts}), 1, attempts)
            gaps = [b.at - a.at for a, b in zip(attempts, attempts[1:])]
            fault_load.diag('failing gateway: %d attempts, intervals %s s' % (
                len(attempts), ['%.1f' % g for g in gaps]))
            self.assertGreaterEqual(len(gaps), 4, attempts)
            for g, h in zip(gaps, gaps[1:]):
                if g < BACKOFF_CAP_S / 2:
                    self.assertGreaterEqual(h, 1.5 * g, 'the intervals do not double: %r' % gaps)
                else:
                    self.assertGreaterEqual(h, 0.9 * g, 'the intervals shrink: %r' % gaps)
            self.assertStatus(env.ack(failing['case_id'], fail_token), 200)
            self.assertEqual(env.case(failing['case_id'])['status'], 'acknowledged')


if __name__ == '__main__':
    harness.main()
