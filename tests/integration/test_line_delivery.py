"""Sending to LINE (DESIGN.md, the LINE platform facts; issue 3, "Sending"): a reply refused with
400 (expired token) becomes a push with the same messages; pushes carry an X-Line-Retry-Key UUID
and are retried with backoff after a 5xx or a timeout with the same key; a 409 to a retry counts
as delivered; other 4xx are not retried; the webhook is answered within LINE's 2 s while LINE
hangs; messages not yet delivered survive a router restart."""

import time

import harness
from fake_line import LineTest, UUID_RE

# Waits for something that must NOT happen: longer than the next backoff step (1 s or 2 s, +25 %)
# plus the sender's polling tick. Real seconds: the router's timers do not scale.
QUIET = 3.5
# Allowed lateness of a retry: the sender may poll its queue about once a second.
SLACK = 1.1 + harness.scaled(0.3)


class LineDeliveryTest(LineTest):

    def pushes_to(self, user):
        return [r for r in self.fake.pushes() if r.to == user.user_id]

    def wait_pushes(self, user, n, timeout=15.0, ok=False):
        """The pushes to user once there are n of them (n answered 2xx when ok)."""
        def enough(reqs):
            ps = [r for r in reqs if r.endpoint == 'push' and r.to == user.user_id]
            return ps if len([r for r in ps if r.ok or not ok]) >= n else None
        return self.fake.wait_for(enough, timeout, '%d push(es) to the user' % n)

    def wait_reply_tries(self, ev, n, timeout):
        """The tries of event's reply (its reply token) once there are n of them."""
        def enough(reqs):
            tries = [r for r in reqs if r.endpoint == 'reply' and r.reply_token == ev.reply_token]
            return tries if len(tries) >= n else None
        return self.fake.wait_for(enough, timeout, '%d tries of the reply' % n)

    def assertOneRetryKey(self, pushes):
        keys = {p.retry_key for p in pushes}
        self.assertEqual(len(keys), 1, 'a retried push must keep its X-Line-Retry-Key: %r'
                         % pushes)
        key = keys.pop()
        self.assertIsNotNone(key, 'a push without X-Line-Retry-Key')
        self.assertRegex(key, UUID_RE)
        return key

    def start_conversation(self, user):
        """A first message whose reply the fake will fail as scripted."""
        ev = user.text('สวัสดีค่ะ')
        self.deliver(ev)
        return ev

    def test_reply_400_falls_back_to_push(self):
        self.fake.script('reply', 400)
        u = self.new_user()
        ev = self.start_conversation(u)
        reply = self.fake.wait_reply(ev)
        self.assertEqual(reply.status, 400)
        self.assertAsksCategory(reply.messages, 'th', 'the refused reply')
        push = self.wait_pushes(u, 1)[0]
        self.assertEqual(push.to, u.user_id)
        self.assertEqual(push.messages, reply.messages, 'the push carries the reply\'s messages')
        self.assertEqual(push.header('authorization'), 'Bearer ' + self.access_token)
        self.assertRegex(push.retry_key or '', UUID_RE)
        self.assertTrue(push.ok, push)
        late = self.fake.quiet_for(QUIET)
        self.assertEqual([r for r in late if r.to == u.user_id or r.reply_token == ev.reply_token],
                         [], 'sent again after the push was accepted')

    def test_push_5xx_retried_with_same_key(self):
        """500, 500, then 200: three tries with one retry key, backing off (1 s, 2 s, ±25 %),
        and nothing after the 200."""
        self.fake.script('reply', 400)
        self.fake.script('push', 500, 500)
        u = self.new_user()
        self.start_conversation(u)
        pushes = self.wait_pushes(u, 1, timeout=20, ok=True)
        self.assertEqual([p.status for p in pushes], [500, 500, 200], pushes)
        self.assertOneRetryKey(pushes)
        self.assertEqual(pushes[1].messages, pushes[0].messages)
        self.assertEqual(pushes[2].messages, pushes[0].messages)
        # The backoff is 1 s, then 2 s (±25 %); SLACK allows for the sender's polling and a slow
        # (sanitizer) build, not for a longer schedule.
        gap1, gap2 = pushes[1].at - pushes[0].at, pushes[2].at - pushes[1].at
        self.assertGreaterEqual(gap1, 0.7, 'first retry after %.2f s: no backoff' % gap1)
        self.assertGreaterEqual(gap2, 1.4, 'second retry after %.2f s: the backoff does not '
                                'grow (1 s, 2 s, …)' % gap2)
        self.assertLessEqual(gap1, 1.25 + SLACK, 'first retry of the push after %.2f s, not '
                             '1 s ±25 %%' % gap1)
        self.assertLessEqual(gap2, 2.5 + SLACK, 'second retry of the push after %.2f s, not '
                             '2 s ±25 %%' % gap2)
        self.assertEqual([r for r in self.fake.quiet_for(QUIET) if r.to == u.user_id], [],
                         'pushed again after a 200')

    def test_push_409_to_a_retry_counts_as_delivered(self):
        self.fake.script('reply', 400)
        self.fake.script('push', 503, 409)
        u = self.new_user()
        self.start_conversation(u)
        pushes = self.wait_pushes(u, 2, timeout=15)
        self.assertEqual([p.status for p in pushes], [503, 409])
        self.assertOneRetryKey(pushes)
        self.assertEqual([r for r in self.fake.quiet_for(QUIET) if r.to == u.user_id], [],
                         'pushed again after LINE said 409 (already accepted)')

    def test_push_4xx_not_retried(self):
        """A push refused with a 4xx other than 409 (400, 403, 429: LINE asks for retries only
        after a 5xx or a timeout) is not tried again."""
        refusals = (400, 403, 429)
        self.fake.script('reply', *[400] * len(refusals))
        self.fake.script('push', *refusals)
        users = [self.new_user() for _ in refusals]
        self.deliver(*[u.text('สวัสดีค่ะ') for u in users])
        self.fake.wait_for(lambda reqs: len([r for r in reqs if r.endpoint == 'push'])
                           >= len(refusals), 15, 'one push per user')
        self.fake.quiet_for(QUIET)
        tries = {u.user_id: [r.status for r in self.pushes_to(u)] for u in users}
        for u in users:
            statuses = tries[u.user_id]
            with self.subTest(first_answer=statuses[0]):
                self.assertIn(statuses[0], refusals)
                self.assertEqual(len(statuses), 1, 'a push answered %d was tried again: %r'
                                 % (statuses[0], statuses))
        self.assertEqual(self.env.http('GET', '/healthz').status, 200)

    def test_push_timeout_retried_with_same_key(self):
        """The first push hangs past the router's 10 s timeout (LINE took it but the answer was
        lost): the retry carries the same key, LINE answers 409, and that is the end."""
        self.fake.script('reply', 400)
        self.fake.script('push', 'hang')
        u = self.new_user()
        self.start_conversation(u)
        pushes = self.wait_pushes(u, 2, timeout=35)
        self.assertOneRetryKey(pushes)
        gap = pushes[1].at - pushes[0].at
        self.assertGreaterEqual(gap, 9.0, 'retried after %.1f s, before the 10 s timeout' % gap)
        self.assertLessEqual(gap, 10.0 + 1.25 + SLACK, 'retried %.1f s after the first try: '
                             'not the 10 s timeout and then 1 s ±25 %%' % gap)
        self.assertEqual(pushes[1].status, 409, 'the fake accepted the key during the hang')
        self.assertEqual([r for r in self.fake.quiet_for(QUIET) if r.to == u.user_id], [],
                         'pushed again after 409')

    def test_reply_unanswered_then_400_is_not_pushed(self):
        """LINE takes the reply but its answer never comes (past the router's 10 s timeout); the
        retry finds the token used (400, as LINE answers it). The first try may have been
        delivered, so the 400 counts as delivered: no push that would say it all twice."""
        self.fake.single_use_reply_tokens = True
        self.fake.script('reply', 'hang')
        u = self.new_user()
        ev = self.start_conversation(u)
        replies = self.wait_reply_tries(ev, 2, timeout=35)
        self.assertEqual([r.status for r in replies], [200, 400], replies)
        gap = replies[1].at - replies[0].at
        self.assertGreaterEqual(gap, 9.0, 'retried after %.1f s, before the 10 s timeout' % gap)
        self.assertEqual([r for r in self.fake.quiet_for(QUIET) if r.to == u.user_id], [],
                         'pushed after a reply whose first try LINE may have delivered')
        self.assertEqual(self.pushes_to(u), [])

    def test_reply_5xx_then_200_delivered_once(self):
        """A 503 to a reply leaves it unsure, but a retry LINE takes (200) is simply delivered:
        nothing more is sent."""
        self.fake.single_use_reply_tokens = True
        self.fake.script('reply', 503)
        u = self.new_user()
        ev = self.start_conversation(u)
        replies = self.wait_reply_tries(ev, 2, timeout=15)
        self.assertEqual([r.status for r in replies], [503, 200], replies)
        self.assertEqual(replies[1].messages, replies[0].messages)
        late = self.fake.quiet_for(QUIET)
        self.assertEqual([r for r in late if r.to == u.user_id or r.reply_token == ev.reply_token],
                         [], 'sent again after the reply was accepted')

    def test_webhook_answered_while_line_hangs(self):
        """LINE's API hanging never delays the 200 (LINE wants it within 2 s) nor other
        users' messages: sending does not block the loop."""
        env = self.env
        self.fake.set_default('reply', 'hang')
        u = self.new_user()
        ev = u.text('สวัสดีค่ะ')
        self.deliver(ev)
        self.fake.wait_reply(ev)
        for i in range(3):
            v = self.new_user()
            ev2 = v.text('สวัสดีค่ะ')
            self.deliver(ev2)  # asserts 200 within 2 s
            self.fake.wait_reply(ev2, timeout=5)
        t0 = time.monotonic()
        self.assertEqual(env.http('GET', '/healthz', timeout=5).status, 200)
        self.assertLess(time.monotonic() - t0, harness.scaled(1.0), 'healthz slow while LINE hangs')

    def test_undelivered_messages_survive_restart(self):
        """LINE is down; the router is stopped (SIGTERM) and a new one started on the same Redis
        while LINE is still down; LINE comes back: the message is delivered, once, and a push
        keeps its retry key across the restart."""
        env = self.env
        self.fake.down(503)
        u = self.new_user()
        ev = self.start_conversation(u)
        self.fake.wait_for(lambda reqs: [r for r in reqs if r.reply_token == ev.reply_token
                                         or r.to == u.user_id], 10, 'a first attempt')
        time.sleep(0.5)
        env.router.stop()
        self.assertEqual(env.router.problems, [], 'the router did not stop cleanly')
        env.router.start()
        time.sleep(1.0)
        self.fake.up()
        mine = lambda reqs: [r for r in reqs if r.reply_token == ev.reply_token
                             or (r.endpoint == 'push' and r.to == u.user_id)]
        done = self.fake.wait_for(lambda reqs: [r for r in mine(reqs) if r.ok], 45,
                                  'delivery after the restart')
        self.assertAsksCategory(done[0].messages, 'th', 'the message kept across the restart')
        self.fake.quiet_for(2.0)
        tries = mine(self.fake.requests())
        self.assertEqual(len([r for r in tries if r.ok]), 1,
                         'delivered more than once: %r' % tries)
        pushes = [r for r in tries if r.endpoint == 'push']
        if pushes:
            self.assertOneRetryKey(pushes)
            self.assertEqual(pushes[-1].messages, done[0].messages)

    def test_two_routers_deliver_each_message_once(self):
        """Two router processes on one Redis share the waiting messages: after LINE comes back,
        every message is delivered once, whichever process took the webhook."""
        env = self.env
        routers = [env.router, env.add_router(name='router2')]
        self.fake.down(503)
        users = [self.new_user() for _ in range(6)]
        events = [u.text('สวัสดีค่ะ') for u in users]
        for i, ev in enumerate(events):
            self.deliver(ev, router=routers[i % 2])

        def mine(reqs, ev):
            return [r for r in reqs if r.reply_token == ev.reply_token
                    or (r.endpoint == 'push' and r.to == ev.user_id)]

        self.fake.wait_for(lambda reqs: all(mine(reqs, ev) for ev in events), 10,
                           'a first try of every message')
        time.sleep(1.0)
        self.fake.up()
        self.fake.wait_for(lambda reqs: all([r for r in mine(reqs, ev) if r.ok] for ev in events),
                           30, 'every message delivered')
        self.fake.quiet_for(2.0)
        reqs = self.fake.requests()
        for ev in events:
            ok = [r for r in mine(reqs, ev) if r.ok]
            self.assertEqual(len(ok), 1, 'delivered %d times: %r' % (len(ok), ok))
            self.assertAsksCategory(ok[0].messages, 'th')

    def test_message_in_flight_at_shutdown_survives_restart(self):
        """SIGTERM while a send hangs: the router still exits cleanly, and the message (never
        answered) is sent by the next router, once LINE is back."""
        env = self.env
        self.fake.script('reply', ('hang', 503))
        self.fake.down(503)
        u = self.new_user()
        ev = self.start_conversation(u)
        self.fake.wait_reply(ev)
        env.router.stop()
        self.assertEqual(env.router.problems, [], 'the router did not stop cleanly mid-send')
        env.router.start()
        self.fake.up()
        mine = lambda reqs: [r for r in reqs if r.reply_token == ev.reply_token
                             or (r.endpoint == 'push' and r.to == u.user_id)]
        done = self.fake.wait_for(lambda reqs: [r for r in mine(reqs) if r.ok], 45,
                                  'delivery of the message in flight at shutdown')
        self.assertAsksCategory(done[0].messages, 'th', 'the message in flight at shutdown')
        self.fake.quiet_for(1.0)
        self.assertEqual(len([r for r in mine(self.fake.requests()) if r.ok]), 1)


if __name__ == '__main__':
    harness.main()
