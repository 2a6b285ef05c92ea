"""Shared parts of the fault tests (test_faults_*.py): a team gateway that records every dispatch
and answers as told (at once, late, with an error until a given time, or never), and a load of
hotline incidents and LINE reports posted from threads that remembers every answer, so that a
test can check afterwards that nothing answered 2xx was lost.

A request that fails (no answer, a reset, a 5xx) is sent again, as its real sender would: the
call centre's software posts the incident again with the same call_id, and LINE redelivers the
webhook (the same events, deliveryContext.isRedelivery true). Python 3 standard library only."""

import http.client
import http.server
import json
import socket
import sys
import threading
import time

import harness
import fake_line

THREAT_TEXT = 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย'


# ---------------------------------------------------------------------------------------------
# A team gateway

class GatewayRequest:
    """One POST the gateway received: path, headers (lower-case names), raw body, when it came
    (time.monotonic()), what it answered (None: nothing, it hangs) and, for a hanging one, when
    the sender gave up and closed the connection (closed_at, None while it is open; close()
    sets it too)."""

    def __init__(self, path, headers, body):
        self.path = path
        self.headers = headers
        self.body = body
        self.at = time.monotonic()
        self.status = None
        self.closed_at = None

    @property
    def delivery(self):
        return self.headers.get('x-ess-delivery')

    @property
    def case_id(self):
        try:
            return json.loads(self.body).get('case_id')
        except (ValueError, AttributeError):
            return None

    def __repr__(self):
        return '<POST %s case=%s delivery=%s at=%.3f -> %s>' % (
            self.path, self.case_id, self.delivery, self.at, self.status)


class TeamGateway:
    """Team webhooks on 127.0.0.1 (one port, a path per team). Each path answers as set:
    answer(path, status, delay) (default: 200 at once), fail_until(path, until, status): status
    until time.monotonic() reaches until, then 200; hang(path): reads the request and never
    answers, holding the connection until the sender closes it. Records every request in
    arrival order. Thread-safe; close() answers nothing more and frees the port."""

    def __init__(self):
        self._lock = threading.Condition()
        self._requests = []
        self._modes = {}
        self._closing = threading.Event()
        gw = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def do_POST(self):
                gw._handle(self)

            def log_message(self, *args):
                pass

        self.server = fake_line.QuietServer(('127.0.0.1', 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={'poll_interval': 0.05}, daemon=True)
        self._thread.start()

    def url(self, path):
        return 'http://127.0.0.1:%d%s' % (self.port, path)

    def answer(self, path, status=200, delay=0.0):
        with self._lock:
            self._modes[path] = ('answer', status, delay)

    def fail_until(self, path, until, status=500):
        with self._lock:
            self._modes[path] = ('fail_until', status, until)

    def hang(self, path):
        with self._lock:
            self._modes[path] = ('hang',)

    def requests(self, path=None, case_id=None):
        with self._lock:
            out = [r for r in self._requests if path is None or r.path == path]
        return [r for r in out if case_id is None or r.case_id == case_id]

    def wait_for(self, predicate, timeout, message):
        """predicate(list of requests so far), until it returns something truthy (returned);
        AssertionError after timeout seconds (scaled)."""
        return fake_line.wait_recorded(self._lock, self._requests, predicate, timeout, message,
                                       'the gateway')

    def close(self):
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, h):
        n = int(h.headers.get('Content-Length') or 0)
        body = h.rfile.read(n) if n > 0 else b''
        req = GatewayRequest(h.path, {k.lower(): v for k, v in h.headers.items()}, body)
        with self._lock:
            mode = self._modes.get(h.path, ('answer', 200, 0.0))
            if mode[0] == 'fail_until':
                status, delay = (mode[1] if req.at < mode[2] else 200), 0.0
            elif mode[0] == 'answer':
                status, delay = mode[1], mode[2]
            else:
                status, delay = None, 0.0
            req.status = status
            self._requests.append(req)
            self._lock.notify_all()
        if status is None:
            self._hold(h, req)
            return
        if delay:
            self._closing.wait(delay)
        try:
            h.send_response(status)
            h.send_header('Content-Type', 'application/json')
            h.send_header('Content-Length', '2')
            h.end_headers()
            h.wfile.write(b'{}')
            h.wfile.flush()
        except OSError:
            h.close_connection = True

    def _hold(self, h, req):
        """Never answers: waits until the sender closes the connection (or close())."""
        h.close_connection = True
        sock = h.connection
        sock.settimeout(0.2)
        while not self._closing.is_set():
            try:
                if sock.recv(4096) == b'':
                    break
            except socket.timeout:
                continue
            except OSError:
                break
        with self._lock:
            req.closed_at = time.monotonic()
            self._lock.notify_all()


# ---------------------------------------------------------------------------------------------
# Load: incidents and LINE reports posted from threads

class Sent:
    """One request as its sender saw it: what was sent (body, and for LINE the event) and every
    try [(router name, status or the exception's text, time.monotonic())]; answer is the 2xx
    answer (a harness.Resp) once one came, answered_at its time, by the router that gave it."""

    def __init__(self, kind, body, event=None, user=None):
        self.kind = kind
        self.body = body
        self.event = event
        self.user = user
        self.tries = []
        self.answer = None
        self.answered_at = None
        self.by = None

    @property
    def ok(self):
        return self.answer is not None

    def __repr__(self):
        return '<%s %s tries=%r>' % (self.kind, 'ok' if self.ok else 'unanswered', self.tries)


class Load:
    """Posts, from `incident_threads` threads, threat incidents near harness.BKK (each with its
    own call_id), and from `line_threads` threads, whole LINE reports (a first message, the
    category threat, a location: the case is made) by new users, until stop(). Each request goes
    to pick() (a Router), and is sent again (to pick() again, after `retry_pause` s) until it is
    answered 2xx or `give_up_s` seconds have passed. test is the running fake_line.LineTest
    (personal data noted, the channel's secret) or a harness.RouterTest (incidents only)."""

    def __init__(self, test, pick, incident_threads=2, line_threads=2, pause=0.05,
                 retry_pause=0.2, give_up_s=60.0):
        self.test = test
        self.env = test.env
        self.pick = pick
        self.incident_threads = incident_threads
        self.line_threads = line_threads
        self.pause = pause
        self.retry_pause = retry_pause
        self.give_up_s = give_up_s
        self.incidents = []
        self.events = []
        self.reports = []  # (user, [Sent of its events])
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []

    def start(self):
        for k in range(self.incident_threads):
            self._threads.append(threading.Thread(target=self._incidents, args=(k,), daemon=True))
        for k in range(self.line_threads):
            self._threads.append(threading.Thread(target=self._line, args=(k,), daemon=True))
        for t in self._threads:
            t.start()
        return self

    def stop(self):
        """Stops making new requests and waits for those begun to be answered (or given up)."""
        self._stop.set()
        for t in self._threads:
            t.join(harness.scaled(self.give_up_s) + 30)

    def answered(self, kind=None):
        with self._lock:
            items = list(self.incidents) + list(self.events)
        return [s for s in items if s.ok and (kind is None or s.kind == kind)]

    def unanswered(self):
        with self._lock:
            items = list(self.incidents) + list(self.events)
        return [s for s in items if not s.ok]

    # sending

    def _send(self, sent, once):
        """Tries once(router) until a 2xx; records every try."""
        give_up = time.monotonic() + harness.scaled(self.give_up_s)
        while True:
            router = self.pick()
            try:
                r = once(router)
                outcome = r.status
            except (OSError, http.client.HTTPException) as e:
                r, outcome = None, '%s: %s' % (type(e).__name__, e)
            now = time.monotonic()
            sent.tries.append((router.name, outcome, now))
            if r is not None and 200 <= r.status < 300:
                sent.answer, sent.answered_at, sent.by = r, now, router.name
                return
            if now > give_up:
                return
            time.sleep(self.retry_pause)

    def _incidents(self, k):
        n = 0
        while not self._stop.is_set():
            body = self.env.incident_body(category='threat', description=THREAT_TEXT,
                                          call_id='1300-fault-%d-%d-%s' % (k, n, id(self)))
            n += 1
            self.env.note_incident_pii(body)
            sent = Sent('incident', body)
            with self._lock:
                self.incidents.append(sent)
            self._send(sent, lambda router: router.http('POST', '/v1/incidents', body,
                                                        token=self.env.operator_token,
                                                        timeout=20))
            time.sleep(self.pause)

    def _line(self, k):
        test = self.test
        while not self._stop.is_set():
            user = test.new_user()
            place = test.new_place()
            events = [user.text('สวัสดีค่ะ'), user.postback('cat=threat'),
                      user.location(place[0], place[1], place[2])]
            sents = []
            for ev in events:
                sent = Sent('line', None, event=ev, user=user)
                sents.append(sent)
                with self._lock:
                    self.events.append(sent)
                self._send(sent, self._webhook_sender(ev))
                if not sent.ok:
                    break  # the report stops here, as a reporter would after no answer
                time.sleep(self.pause)
            with self._lock:
                self.reports.append((user, sents))

    def _webhook_sender(self, ev):
        """Sends ev's webhook; every try after the first is LINE's redelivery of it."""
        tries = []

        def once(router):
            e = ev if not tries else ev.redelivered()
            tries.append(1)
            body = fake_line.webhook_body([e])
            return router.http('POST', '/webhooks/line', body,
                               headers={'X-Line-Signature': fake_line.sign(self.test.secret,
                                                                           body)},
                               timeout=20)
        return once


# ---------------------------------------------------------------------------------------------
# Checks shared by the tests

def diag(text):
    """A line of the TAP stream's diagnostics (what a run did, for the log)."""
    sys.stdout.write('# %s\n' % text)
    sys.stdout.flush()


def line_deliveries(fake, ev):
    """What LINE accepted for one event: its reply (2xx with its reply token) and the pushes
    that carry that reply's messages to its user (the reply turned into a push), accepted (2xx,
    or 409: an earlier try of the same retry key was accepted)."""
    reqs = fake.requests()
    replies = [r for r in reqs if r.endpoint == 'reply' and r.reply_token == ev.reply_token]
    messages = [r.messages for r in replies]
    accepted = [r for r in replies if r.ok]
    for r in reqs:
        if r.endpoint == 'push' and r.to == ev.user_id and r.messages in messages and r.ok:
            accepted.append(r)
    return replies, accepted


def slots(env, team_id):
    """(active count, size of the case set) of a team as stored in Redis."""
    key = '%steam:%s' % (env.prefix, team_id)
    active = env.redis.command('HGET', key, 'active')
    return int(active or 0), int(env.redis.command('SCARD', key + ':cases'))
