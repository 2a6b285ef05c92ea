"""Races and replays on the LINE webhook: two events of one user handled at once (a double tap on
the last button, two router processes) must neither create two cases nor lose a step, and a
signed body cannot be replayed (an event without webhookEventId, or older than the dedupe window,
is skipped). The interleavings are made exact with a proxy between one router and Redis that holds
that router's conversation commit until the other router has finished."""

import json
import threading

import harness
from harness import wait_until
import fake_line
from fake_line import LineTest, tracking_codes, webhook_body

DAY_MS = 24 * 3600 * 1000


class LineRaceTest(LineTest):

    def held_router(self):
        """A second router whose Redis connection goes through a RedisProxy."""
        proxy = harness.RedisProxy(self.env.redis.port)
        self.addCleanup(proxy.close)
        router = self.env.add_router(name='router-held', extra_env={'ESS_REDIS_URL': proxy.url})
        return router, proxy

    def post_held(self, router, proxy, event):
        """Posts event to router and returns once its commit is held at the proxy: (thread,
        answers) where answers gets the webhook's answer once released."""
        answers = []
        proxy.hold_commands('ess_line_commit')
        body = webhook_body([event])
        t = threading.Thread(target=lambda: answers.append(
            self.post_webhook(body, router=router, timeout=harness.scaled(30))))
        t.start()
        wait_until(proxy.holding, harness.scaled(10), message='the held router reaches its commit')
        return t, answers

    def to_location(self, user):
        """Walks user to the last question before the case: the location."""
        self.say(user.text('สวัสดีค่ะ'))
        self.say(user.postback('cat=threat'))

    def test_last_step_twice_on_two_routers_creates_one_case(self):
        """The location sent twice at once: the first one's router has created the case and waits
        to store the conversation; the second, on another router, reads the same step. One
        case, and the second one's reply carries its code."""
        env = self.env
        held, proxy = self.held_router()
        u = self.new_user()
        place = self.new_place()
        self.to_location(u)
        first, second = u.location(*place), u.location(*place)
        t, answers = self.post_held(held, proxy, first)
        codes = tracking_codes(self.say(second))
        proxy.release()
        t.join(harness.scaled(30))
        self.assertEqual(len(answers), 1, 'the held webhook was answered')
        self.assertWebhookOK(answers[0], 'the held webhook, after its commit was retried')
        self.settle()
        cases = env.list_cases()
        self.assertEqual(len(cases), 1, 'one report, one case: %r' % cases)
        self.assertEqual(codes, [cases[0]['tracking_code']], 'the second tap shows the case')
        for q in self.fake.requests():
            for code in tracking_codes(q.messages or []):
                self.assertEqual(code, cases[0]['tracking_code'], 'only that code is ever sent')

    def test_interleaved_steps_on_two_routers_lose_nothing(self):
        """One user's category (on one router) and location (on another) handled at once: the
        router that stores second sees the first one's state and handles its event again, so
        the report keeps both and the case is created with both."""
        env = self.env
        held, proxy = self.held_router()
        u = self.new_user()
        lat, lon, addr = self.new_place()
        self.say(u.text('สวัสดีค่ะ'))
        category, location = u.postback('cat=threat'), u.location(lat, lon, addr)
        t, answers = self.post_held(held, proxy, category)
        self.say(location)  # on the other router, while the category waits to be stored
        proxy.release()
        t.join(harness.scaled(30))
        self.assertEqual(len(answers), 1, 'the held webhook was answered')
        self.assertWebhookOK(answers[0], 'the held webhook')
        code = self.assertCreatedAsksMore(self.fake.wait_reply(category).messages, 'th',
                                          msg='the category, handled again after the location')
        case = self.case_by_code(code)
        self.assertEqual(case['category'], 'threat')
        self.assertAlmostEqual(case['location']['lat'], lat, places=6)
        self.assertAlmostEqual(case['location']['lon'], lon, places=6)
        self.assertEqual(len(env.list_cases()), 1)

    def test_lost_commit_then_redelivery_answers_the_same_case(self):
        """The case is stored but the conversation's commit never reaches Redis (the connection
        drops): LINE redelivers the event to another router, which answers with the same case
        (the report id is the call_id, and the content is the same: no conflict)."""
        env = self.env
        held, proxy = self.held_router()
        u = self.new_user()
        lat, lon, addr = self.new_place()
        self.to_location(u)
        last = u.location(lat, lon, addr)
        t, answers = self.post_held(held, proxy, last)
        proxy.drop()
        t.join(harness.scaled(30))
        self.assertEqual(len(answers), 1)
        self.assertNotEqual(answers[0].status, 200, 'the commit was lost: %r' % answers[0])
        self.assertEqual(len(env.list_cases()), 1, 'the case was stored before the commit')
        code = self.assertCreatedAsksMore(self.say(last.redelivered()), 'th', msg='the redelivery')
        cases = env.list_cases()
        self.assertEqual([c['tracking_code'] for c in cases], [code], 'still one case')
        self.assertAlmostEqual(self.case_by_code(code)['location']['lat'], lat, places=6)

    def test_concurrent_last_steps_on_one_router(self):
        """Several users each send their location twice at once: one case per user."""
        env = self.env
        users = [self.new_user() for _ in range(4)]
        place = self.new_place()
        for u in users:
            self.to_location(u)
        taps = [(u.location(*place), u.location(*place)) for u in users]
        bodies = [webhook_body([ev]) for pair in taps for ev in pair]
        answers = [None] * len(bodies)
        barrier = threading.Barrier(len(bodies))

        def post(i):
            barrier.wait()
            answers[i] = self.post_webhook(bodies[i], timeout=harness.scaled(30))

        threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
        for th in threads:
            th.start()
        for th in threads:
            th.join(harness.scaled(30))
        for r in answers:
            self.assertIsNotNone(r)
            self.assertWebhookOK(r, 'a concurrent last step')
        self.settle()
        self.assertEqual(len(env.list_cases()), len(users), 'one case per user')

    def test_events_without_id_or_too_old_are_skipped(self):
        """A signed event without webhookEventId could be replayed at will, and one older than
        the dedupe window may have been forgotten: both skipped (200, nothing answered, the
        count logged without personal data); an event a few hours old is answered."""
        env = self.env
        u, v, w = self.new_user(), self.new_user(), self.new_user()
        no_id = u.text('สวัสดีค่ะ')
        doc = json.loads(no_id.json)
        del doc['webhookEventId']
        raw = json.dumps(doc, ensure_ascii=False)
        self.assertNotIn('webhookEventId', raw)
        old = v.text('สวัสดีค่ะ', timestamp=fake_line.now_ms() - DAY_MS - 60000)
        recent = w.text('สวัสดีค่ะ', timestamp=fake_line.now_ms() - 3 * 3600 * 1000)
        body = webhook_body([raw, old, recent])
        for attempt in range(2):  # the replay of the same signed body, too
            r = self.post_webhook(body)
            self.assertWebhookOK(r, 'attempt %d' % attempt)
        self.assertAsksCategory(self.fake.wait_reply(recent).messages, 'th')
        self.assertNothingSentFor([no_id, old])
        wait_until(lambda: '1 event(s) without a webhookEventId and 1 older than'
                   in env.router.log_text(), harness.scaled(10), message='the count logged')


if __name__ == '__main__':
    harness.main()
