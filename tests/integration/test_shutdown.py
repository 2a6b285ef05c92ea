"""Stopping while Redis replies are pending (issue 7, defect 2): the router talks to Redis through
harness.RedisProxy, which can be told to hold Redis' replies. SIGTERM arrives while the
reply to an escalation's case read (and whatever the outbox and the sweep sent after it) is held;
the router must exit 0 with no sanitizer report (the harness checks both when the test ends)."""

import harness
from harness import RouterTest, wait_until

POLICE_SW = ['police', 'social_worker']
DETENTION_TEXT = 'พนักงานถูกนายจ้างขังไว้ในห้องเก็บของ'


class StopWithRepliesPendingTest(RouterTest):

    def setUp(self):
        env = harness.Env()
        self.env = env
        self.addCleanup(self._finish_env)
        env.redis.start()
        self.proxy = harness.RedisProxy(env.redis.port)
        self.addCleanup(self.proxy.close)
        # one attempt of one second: the case is escalated as soon as its first team is silent
        env.rules = harness.short_deadline_rules(env.workdir, 1, 1)
        env.router = env.add_router(extra_env={'ESS_REDIS_URL': self.proxy.url})

    def test_sigterm_while_escalation_case_read_pending(self):
        """The escalation notice reads its case from Redis; that reply is held, then SIGTERM:
        the router exits 0 with no sanitizer report (it used to run the pending callback into
        the outbox it had already freed)."""
        env = self.env
        env.put_team_at('team-a', 1.0, 10, POLICE_SW,
                        notify={'webhook': 'http://127.0.0.1:9/unused'})
        a = env.post_incident('detention', DETENTION_TEXT)
        self.assertAssignedTo(a, 'team-a')
        # no more HTTP calls to the router from here: its own case reads would trigger the hold
        self.proxy.hold_replies_after('ess_case_read')
        wait_until(self.proxy.held_reply_bytes, 20, 0.02,
                   'the escalation\'s case read sent to Redis and a reply held')
        code = env.router.stop()
        self.assertEqual(code, 0, 'exit status after SIGTERM with a Redis reply pending:\n%s'
                         % env.router.stderr_tail())


if __name__ == '__main__':
    harness.main()
