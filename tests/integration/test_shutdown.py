"""Stopping while Redis replies are pending (issue 7, defect 2): the router talks to Redis through
a small TCP proxy on loopback that can be told to hold Redis' replies. SIGTERM arrives while the
reply to an escalation's case read (and whatever the outbox and the sweep sent after it) is held;
the router must exit 0 with no sanitizer report (the harness checks both when the test ends)."""

import socket
import threading

import harness
from harness import RouterTest, wait_until

POLICE_SW = ['police', 'social_worker']
DETENTION_TEXT = 'พนักงานถูกนายจ้างขังไว้ในห้องเก็บของ'


class StallingProxy:
    """Forwards 127.0.0.1:port to Redis. Once armed with a command name, the first command
    carrying that name is forwarded and from then on every byte Redis answers is held (kept, not
    sent to the router) until the proxy closes."""

    def __init__(self, redis_port):
        self.redis_port = redis_port
        self.lock = threading.Lock()
        self.trigger = None    # bytes: the command name that starts holding
        self.holding = False
        self.held = 0          # bytes held back
        self.socks = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return 'redis://127.0.0.1:%d/0' % self.port

    def hold_after(self, name):
        with self.lock:
            self.trigger = name.encode()

    def held_bytes(self):
        with self.lock:
            return self.held if self.holding else 0

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(('127.0.0.1', self.redis_port))
            with self.lock:
                self.socks += [client, upstream]
            threading.Thread(target=self._up, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._down, args=(upstream, client), daemon=True).start()

    def _up(self, src, dst):
        """Router to Redis; watches for the trigger (a name split across reads included)."""
        tail = b''
        while True:
            try:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
            except OSError:
                break
            with self.lock:
                if self.trigger and self.trigger in tail + data:
                    self.holding = True
                tail = data[-64:]

    def _down(self, src, dst):
        """Redis to the router, unless holding."""
        while True:
            try:
                data = src.recv(65536)
                if not data:
                    break
                with self.lock:
                    if self.holding:
                        self.held += len(data)
                        continue
                dst.sendall(data)
            except OSError:
                break

    def close(self):
        self.listener.close()
        with self.lock:
            socks, self.socks = self.socks, []
        for s in socks:
            try:
                s.close()
            except OSError:
                pass


class StopWithRepliesPendingTest(RouterTest):

    def setUp(self):
        env = harness.Env()
        self.env = env
        self.addCleanup(self._finish_env)
        env.redis.start()
        self.proxy = StallingProxy(env.redis.port)
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
        self.proxy.hold_after('ess_case_get')
        wait_until(self.proxy.held_bytes, 20, 0.02,
                   'the escalation\'s case read sent to Redis and a reply held')
        code = env.router.stop()
        self.assertEqual(code, 0, 'exit status after SIGTERM with a Redis reply pending:\n%s'
                         % env.router.stderr_tail())


if __name__ == '__main__':
    harness.main()
