"""Live updates (DESIGN.md, the operator console: GET /v1/events): one `event: case` per case
change, in the case log's order, whose data is the case summary (no personal data) and whose id is
the case-log entry's; Last-Event-ID resumes with exactly what was missed; heartbeat comments; 401
without a token; many streams see the same events; a client that leaves is cleaned up (the
ess_event_streams gauge); the stream cap (503) and the connection caps; a slow client is dropped;
a Redis restart mid-stream; SIGTERM ends the streams and the router stops at once."""

import json
import re
import secrets
import socket
import threading
import time
import urllib.parse

import harness
from harness import RouterTest, wait_until

POLICE_SW = ['police', 'social_worker']
SUMMARY_KEYS = {'case_id', 'tracking_code', 'channel', 'category', 'category_suggested',
                'priority', 'status', 'team', 'queue_reason', 'created_at', 'updated_at',
                'chat', 'chat_since', 'chat_operator', 'chat_escalated', 'possible_duplicate_of',
                'merged_into'}
DETENTION_TEXT = 'ลูกสาวถูกแฟนขังไว้ในห้อง'


class Stream:
    """GET /v1/events on a socket of its own, read by a thread: the status and headers, then each
    event (a dict of its fields: id, event, data) and each comment, as they come."""

    def __init__(self, port, token, last_event_id=None, rcvbuf=None, read=True, headers=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(('127.0.0.1', port))
        head = ['GET /v1/events HTTP/1.1', 'Host: 127.0.0.1', 'Accept: text/event-stream']
        if token:
            head.append('Authorization: Bearer ' + token)
        if last_event_id is not None:
            head.append('Last-Event-ID: ' + last_event_id)
        head.extend('%s: %s' % kv for kv in (headers or {}).items())
        self.sock.sendall(('\r\n'.join(head) + '\r\n\r\n').encode())
        self.cond = threading.Condition()
        self.status = None
        self.headers = {}
        self.body = b''           # a non-streaming answer's body
        self.events = []
        self.comments = []
        self.ended = False        # the chunked body's last chunk arrived
        self.closed = False       # the connection closed
        self.thread = None
        if read:
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()

    def _run(self):
        buf = b''
        try:
            while b'\r\n\r\n' not in buf:
                data = self.sock.recv(65536)
                if not data:
                    raise ConnectionError('closed before the headers')
                buf += data
            head, buf = buf.split(b'\r\n\r\n', 1)
            lines = head.decode('iso-8859-1').split('\r\n')
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(':')
                headers[k.strip().lower()] = v.strip()
            with self.cond:
                self.status = int(lines[0].split()[1])
                self.headers = headers
                self.cond.notify_all()
            if 'chunked' not in headers.get('transfer-encoding', ''):
                n = int(headers.get('content-length', '0'))
                while len(buf) < n:
                    data = self.sock.recv(65536)
                    if not data:
                        break
                    buf += data
                with self.cond:
                    self.body = buf[:n]
                    self.cond.notify_all()
                return
            buf = bytearray(buf)
            text = b''
            while True:
                while b'\r\n' not in buf:
                    data = self.sock.recv(262144)
                    if not data:
                        return
                    buf += data
                end = buf.index(b'\r\n')
                size = int(bytes(buf[:end]).split(b';')[0], 16)
                while len(buf) < end + 2 + size + 2:
                    data = self.sock.recv(262144)
                    if not data:
                        return
                    buf += data
                chunk = bytes(buf[end + 2:end + 2 + size])
                del buf[:end + 2 + size + 2]
                if size == 0:
                    with self.cond:
                        self.ended = True
                        self.cond.notify_all()
                    return
                blocks = (text + chunk).split(b'\n\n')
                text = blocks.pop()
                for block in blocks:
                    self._block(block.decode('utf-8'))
        except (OSError, ValueError):
            pass
        finally:
            with self.cond:
                self.closed = True
                self.cond.notify_all()

    def _block(self, block):
        fields = {}
        comments = []
        for line in block.split('\n'):
            if line.startswith(':'):
                comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(':')
            if value.startswith(' '):
                value = value[1:]
            fields[name] = fields[name] + '\n' + value if name in fields else value
        with self.cond:
            self.comments.extend(comments)
            if fields:
                self.events.append(fields)
            self.cond.notify_all()

    def wait(self, predicate, timeout=15.0, what='condition'):
        deadline = time.monotonic() + harness.scaled(timeout)
        with self.cond:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError('%s not reached within %.0f s (status %r, %d events, '
                                         'closed %r)' % (what, harness.scaled(timeout), self.status,
                                                         len(self.events), self.closed))
                self.cond.wait(left)

    def wait_status(self):
        self.wait(lambda s: s.status is not None and (s.closed or s.body or s.status == 200),
                  what='the answer')
        return self.status

    def case_events(self, case_id=None):
        with self.cond:
            out = [dict(e, summary=json.loads(e['data'])) for e in self.events]
        return [e for e in out if case_id is None or e['summary']['case_id'] == case_id]

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def id_key(event_id):
    ms, seq = event_id.split('-')
    return int(ms), int(seq)


class EventsBase(RouterTest):
    env_options = {'extra_env': {'ESS_MAX_CONNECTIONS_PER_CLIENT': '0'}}

    def open(self, token=None, **kw):
        s = Stream(self.env.router.port, self.env.operator_token if token is None else token, **kw)
        self.addCleanup(s.close)
        return s

    def open_ok(self, **kw):
        s = self.open(**kw)
        self.assertEqual(s.wait_status(), 200, s.body)
        self.assertTrue(s.headers.get('content-type', '').startswith('text/event-stream'),
                        s.headers)
        return s

    def metric(self, name):
        r = self.env.http('GET', '/metrics')
        m = re.search(r'^%s ([0-9.e+]+)$' % re.escape(name), r.raw.decode(), re.M)
        self.assertIsNotNone(m, name)
        return float(m.group(1))

    def log_entries(self, after='-'):
        """The case log's entries after an id (XRANGE), as (id, fields)."""
        start = '(' + after if after != '-' else '-'
        out = []
        for eid, flat in self.env.redis.command('XRANGE', self.env.prefix + 'log', start, '+'):
            fields = {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}
            out.append((eid.decode(), fields))
        return out

    def wait_events(self, stream, case_id, n, what=None):
        stream.wait(lambda s: len(s.case_events(case_id)) >= n,
                    what=what or '%d events of case %s' % (n, case_id))
        return stream.case_events(case_id)

    def timeline_statuses(self, case_id):
        return [e['status'] for e in self.env.case(case_id)['timeline']]

    def assertSummary(self, event, case):
        self.assertEqual(event['event'], 'case', event)
        s = event['summary']
        self.assertEqual(set(s), SUMMARY_KEYS, s)
        for k in ('case_id', 'tracking_code', 'channel', 'category', 'priority'):
            self.assertEqual(s[k], case[k], k)
        self.assertTime(s['updated_at'])
        self.assertEqual(s['created_at'], case['created_at'])


class EventsTest(EventsBase):

    def test_needs_an_operator(self):
        """401 without a token or with a wrong one, 403 for a team; nothing is streamed."""
        env = self.env
        tok = env.put_team_at('t1', 1.0, 10, POLICE_SW)
        for token, status in ((None, 401), ('op-' + 'x' * 40, 401), (tok, 403)):
            with self.subTest(status=status, token=bool(token)):
                r = env.http('GET', '/v1/events', headers={'Accept': 'text/event-stream'},
                             token=token)
                self.assertErrorBody(r, status)
        r = env.http('GET', '/v1/events', token=env.operator_token,
                     headers={'Last-Event-ID': 'not-an-id'})
        self.assertErrorBody(r, 400, 'invalid_last_event_id')

    def test_console_session_and_account_token(self):
        """An operator's console session (its cookie) and an operator account's own token open
        the stream as the configured tokens do."""
        env = self.env
        password, name = 'pw-' + secrets.token_urlsafe(12), 'เจ้าหน้าที่ทดสอบ'
        env.secrets.add(password)
        env.note_pii(name)
        r = env.http('PUT', '/v1/operators/op-7', {'name': name, 'role': 'operator',
                                                  'password': password}, token=env.admin_token)
        self.assertStatus(r, 201)
        account_token = r.body['token']
        env.secrets.add(account_token)
        r = env.http('POST', '/v1/session', {'operator_id': 'op-7', 'password': password})
        self.assertStatus(r, 200)
        cookie = re.match(r'ess_session=([A-Za-z0-9_-]+);', r.headers['set-cookie']).group(1)
        env.secrets.add(cookie)
        by_cookie = self.open_ok(token='', headers={'Cookie': 'ess_session=' + cookie})
        by_token = self.open_ok(token=account_token)
        a = env.post_incident('detention', DETENTION_TEXT)
        for s in (by_cookie, by_token):
            self.assertEqual([e['summary']['status'] for e in self.wait_events(s, a['case_id'], 2)],
                             ['received', 'queued'])
        bad = self.open(token='', headers={'Cookie': 'ess_session=' + 'x' * 43})
        self.assertEqual(bad.wait_status(), 401)

    def test_events_follow_the_case_log_in_order(self):
        """create (received, queued), a team appears (assigned), ack, en_route, on_scene,
        resolved: one event per timeline entry, in order, each the summary as it stood, with
        the case-log entry's id."""
        env = self.env
        s = self.open_ok()
        q = env.post_incident('detention', DETENTION_TEXT)
        self.assertQueued(q)
        tok = env.put_team_at('t1', 2.0, 40, POLICE_SW)  # drains the queue: assigned
        wait_until(lambda: env.case(q['case_id'])['status'] == 'assigned', 10)
        self.assertStatus(env.ack(q['case_id'], tok), 200)
        for st in ('en_route', 'on_scene'):
            self.assertStatus(env.set_status(q['case_id'], st, token=tok), 200)
        self.assertStatus(env.set_status(q['case_id'], 'resolved'), 200)
        case = env.case(q['case_id'])
        statuses = [e['status'] for e in case['timeline']]
        self.assertEqual([x for x in statuses if x != 'received'][:1], ['queued'])
        for want in ('assigned', 'acknowledged', 'en_route', 'on_scene', 'resolved'):
            self.assertIn(want, statuses)
        events = self.wait_events(s, q['case_id'], len(statuses))
        self.assertEqual([e['summary']['status'] for e in events], statuses)
        ids = [e['id'] for e in events]
        self.assertEqual(ids, sorted(ids, key=id_key), 'ids in the log\'s order')
        self.assertEqual(len(set(ids)), len(ids))
        log = [eid for eid, f in self.log_entries() if f.get('case_id') == q['case_id']]
        self.assertEqual(ids, log, 'each event is a case-log entry, by its id')
        for e in events:
            self.assertSummary(e, case)
        self.assertEqual(events[1]['summary']['queue_reason'], 'no_team_available')
        self.assertIsNone(events[1]['summary']['team'])
        assigned = events[statuses.index('assigned')]['summary']
        self.assertEqual(assigned['team']['id'], 't1')
        self.assertIsNone(assigned['queue_reason'])
        self.assertEqual(events[-1]['summary']['status'], 'resolved')
        self.assertEqual(events[-1]['summary']['updated_at'], case['updated_at'])

    def test_resume_with_last_event_id(self):
        """A client that comes back with Last-Event-ID gets exactly the events it missed (those
        still in the log), then the live ones, none twice."""
        env = self.env
        tok = env.put_team_at('t1', 2.0, 40, POLICE_SW, capacity=3)
        s = self.open_ok()
        a = env.post_incident('detention', DETENTION_TEXT)
        seen = self.wait_events(s, a['case_id'], 2)
        last = seen[-1]['id']
        s.close()
        # missed while away: the ack, a status, and a new case
        self.assertStatus(env.ack(a['case_id'], tok), 200)
        self.assertStatus(env.set_status(a['case_id'], 'en_route', token=tok), 200)
        b = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        missed = [eid for eid, _ in self.log_entries(after=last)]
        self.assertEqual(len(missed), 4, missed)
        r = self.open_ok(last_event_id=last)
        r.wait(lambda x: len(x.events) >= len(missed), what='the missed events')
        self.assertEqual([e['id'] for e in r.events], missed)
        self.assertEqual([e['summary']['status'] for e in r.case_events(a['case_id'])],
                         ['acknowledged', 'en_route'])
        self.assertEqual([e['summary']['status'] for e in r.case_events(b['case_id'])],
                         ['received', 'assigned'])
        # then live
        self.assertStatus(env.set_status(a['case_id'], 'on_scene', token=tok), 200)
        r.wait(lambda x: len(x.events) >= len(missed) + 1, what='the live event')
        after = [eid for eid, _ in self.log_entries(after=last)]
        time.sleep(0.3)  # nothing more may come (a repeat would be a bug)
        self.assertEqual([e['id'] for e in r.events], after)
        self.assertEqual(r.events[-1]['event'], 'case')
        # an id before the whole log: everything still in it
        full = self.open_ok(last_event_id='0-0')
        everything = [eid for eid, _ in self.log_entries()]
        full.wait(lambda x: len(x.events) >= len(everything), what='the whole log')
        self.assertEqual([e['id'] for e in full.events], everything)

    def test_resume_over_many_pages(self):
        """A replay longer than one read of the log (pages of 200) still misses nothing."""
        env = self.env
        s = self.open_ok()
        first = env.post_incident('gathering', 'มีการมั่วสุมเสพยาในบ้านร้าง')
        seen = self.wait_events(s, first['case_id'], 2)
        s.close()
        for i in range(230):  # 500 m apart: none is a possible duplicate (one more entry)
            lat, lon = harness.destination(*harness.BKK, 90, 0.5 * (i + 1))
            self.assertStatus(env.http('POST', '/v1/incidents', env.incident_body(
                lat=lat, lon=lon, category='gathering', description='มีการมั่วสุมเสพยาในบ้านร้าง'),
                token=env.operator_token), 201)
        missed = [eid for eid, _ in self.log_entries(after=seen[-1]['id'])]
        self.assertEqual(len(missed), 460)
        r = self.open_ok(last_event_id=seen[-1]['id'])
        r.wait(lambda x: len(x.events) >= len(missed), 30, 'the 460 missed events')
        self.assertEqual([e['id'] for e in r.events], missed)

    def test_no_heartbeat_before_its_time(self):
        """Events only, no comment, within the default 15 s of heartbeat."""
        s = self.open_ok()
        a = self.env.post_incident('detention', DETENTION_TEXT)
        self.wait_events(s, a['case_id'], 2)
        self.assertEqual(s.comments, [])

    def test_no_personal_data(self):
        """No name, phone, description, address, coordinates or note in any event."""
        env = self.env
        tok = env.put_team_at('t1', 2.0, 40, POLICE_SW)
        s = self.open_ok()
        a = env.post_incident('detention', 'ลูกสาวของนางสมศรีถูกแฟนขังไว้ในห้อง %s'
                              % harness.unique_phone())
        note = 'ผู้แจ้งชื่อ %s โทร %s' % (harness.unique_name(), harness.unique_phone())
        env.note_pii(note)
        self.assertStatus(env.ack(a['case_id'], tok), 200)
        self.assertStatus(env.set_status(a['case_id'], 'en_route', note=note, token=tok), 200)
        events = self.wait_events(s, a['case_id'], 4)
        req = a['_request']
        texts = {req['description'], req['location']['address'], req['reporter']['name'],
                 req['reporter']['phone'], note} | env.pii
        coords = harness.coordinate_texts(req['location']['lat']) | \
            harness.coordinate_texts(req['location']['lon'])
        for e in events:
            raw = e['data']
            for t in texts | coords:
                if len(t) >= 5:
                    self.assertNotIn(t, raw)
                    self.assertNotIn(json.dumps(t)[1:-1], raw)
            self.assertEqual(set(e['summary']), SUMMARY_KEYS)
            self.assertFalse(set(e['summary']) & harness.PERSONAL_KEYS)
        # nor in the case log the events are made of
        for _, fields in self.log_entries():
            flat = json.dumps(fields, ensure_ascii=False)
            for t in texts:
                self.assertNotIn(t, flat)

    def test_many_streams_get_the_same_events(self):
        """50 streams see the same events, in the same order."""
        env = self.env
        env.put_team_at('t1', 2.0, 40, POLICE_SW, capacity=5)
        streams = [self.open() for _ in range(50)]
        for s in streams:
            self.assertEqual(s.wait_status(), 200)
        wait_until(lambda: self.metric('ess_event_streams') == 50, 10, 0.1, '50 streams open')
        cases = [env.post_incident('detention', DETENTION_TEXT)['case_id'] for _ in range(3)]
        n = len(self.log_entries())
        want = [eid for eid, _ in self.log_entries()]
        for s in streams:
            s.wait(lambda x: len(x.events) >= n, what='%d events' % n)
        first = [(e['id'], e['data']) for e in streams[0].events]
        self.assertEqual([i for i, _ in first], want)
        self.assertEqual({json.loads(d)['case_id'] for _, d in first}, set(cases))
        for s in streams[1:]:
            self.assertEqual([(e['id'], e['data']) for e in s.events], first)

    def test_client_that_leaves_is_cleaned_up(self):
        """Closed streams leave the ess_event_streams gauge at once; the others go on."""
        env = self.env
        streams = [self.open_ok() for _ in range(3)]
        wait_until(lambda: self.metric('ess_event_streams') == 3, 10, 0.1, '3 streams open')
        streams[0].close()
        streams[1].close()
        wait_until(lambda: self.metric('ess_event_streams') == 1, 10, 0.1,
                   'the 2 closed streams cleaned up')
        a = env.post_incident('detention', DETENTION_TEXT)
        self.wait_events(streams[2], a['case_id'], 2)
        self.assertEqual(self.metric('ess_event_streams'), 1)


class HeartbeatTest(EventsBase):
    env_options = {'extra_env': {'ESS_EVENTS_HEARTBEAT_S': '1'}}

    def test_heartbeat_comment(self):
        """A comment line comes on an idle stream every ESS_EVENTS_HEARTBEAT_S."""
        s = self.open_ok()
        s.wait(lambda x: len(x.comments) >= 2, 10, 'two heartbeat comments')
        self.assertEqual(s.events, [])
        self.assertFalse(s.closed)


class CapsTest(EventsBase):
    env_options = {'extra_env': {'ESS_MAX_EVENT_STREAMS': '2',
                                 'ESS_MAX_CONNECTIONS_PER_CLIENT': '3'}}

    def test_stream_cap_and_connection_caps(self):
        """ESS_MAX_EVENT_STREAMS: one more gets 503 too_many_streams; a stream is also a
        connection of its client (ESS_MAX_CONNECTIONS_PER_CLIENT)."""
        env = self.env
        a, b = self.open_ok(), self.open_ok()
        c = self.open()
        self.assertEqual(c.wait_status(), 503)
        self.assertEqual(json.loads(c.body)['error']['code'], 'too_many_streams')
        c.close()
        wait_until(lambda: env.http('GET', '/healthz').status == 200, 10)
        # two streams and one more connection reach the per-client cap: a fourth is closed
        held = socket.create_connection(('127.0.0.1', env.router.port))
        self.addCleanup(held.close)
        wait_until(lambda: self.metric_via_new_connection_refused(env), 10, 0.1,
                   'a connection over the cap refused while the streams hold theirs')
        held.close()
        a.close()
        wait_until(lambda: self.metric('ess_event_streams') == 1, 10, 0.1, 'one stream left')
        d = self.open_ok()
        d.close()
        b.close()

    def metric_via_new_connection_refused(self, env):
        r = harness.raw_request(env.router.port, b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
                                timeout=5)
        return r is None


class SlowClientTest(EventsBase):
    env_options = {'extra_env': {'ESS_EVENTS_BUFFER_BYTES': '1048576',
                                 'ESS_MAX_CONNECTIONS_PER_CLIENT': '0'}}

    def test_slow_client_is_dropped(self):
        """A client that reads nothing while the log grows is dropped once more than
        ESS_EVENTS_BUFFER_BYTES waits for it; another client gets every event."""
        env = self.env
        slow = self.open(rcvbuf=4096, read=False)
        good = self.open_ok()
        wait_until(lambda: self.metric('ess_event_streams') == 2, 10, 0.1, 'both streams open')
        # case-log entries as large as team names may make them, straight into the log
        key = env.prefix + 'log'
        big = 'ทีม' * 120
        total = 0
        dropped = 0
        for round_ in range(100):
            with socket.create_connection(('127.0.0.1', env.redis.port)) as r:
                cmds = b''.join(harness._resp_encode(
                    ['XADD', key, '*', 'case_id', 'C%d-%d' % (round_, i), 'status', 'assigned',
                     'category', 'detention', 'priority', 'P1', 'team_id', 't1',
                     'team_name', big, 'tracking_code', 'HM-000-000-000', 'channel', 'hotline'])
                    for i in range(200))
                r.sendall(cmds)
                with r.makefile('rb') as f:
                    for _ in range(200):
                        harness._resp_read(f)
            total += 200
            dropped = self.metric('ess_event_streams_dropped_total')
            if dropped:
                break
        self.assertGreaterEqual(dropped, 1, 'the slow stream was dropped')
        wait_until(lambda: self.metric('ess_event_streams') == 1, 10, 0.1, 'one stream left')
        good.wait(lambda x: len(x.events) >= total, 30, 'every event on the reading stream')
        self.assertEqual([e['id'] for e in good.events], [eid for eid, _ in self.log_entries()])


class RedisRestartTest(EventsBase):

    def test_redis_restart_mid_stream(self):
        """Redis goes away and comes back: the stream stays open, the reader reconnects, and
        the events of changes made after it came back arrive on the same stream."""
        env = self.env
        s = self.open_ok()
        a = env.post_incident('detention', DETENTION_TEXT)
        self.wait_events(s, a['case_id'], 2)
        env.redis.stop()
        wait_until(lambda: env.http('GET', '/healthz').status == 503, 20, 0.1, 'Redis down')
        r = env.http('GET', '/v1/events', token=env.operator_token)
        self.assertErrorBody(r, 503, 'redis_unavailable', 'a new stream while Redis is down')
        env.redis.start()
        wait_until(lambda: env.http('GET', '/healthz').status == 200, 20, 0.1, 'Redis back')
        b = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        events = self.wait_events(s, b['case_id'], 2, 'the new case\'s events on the same stream')
        self.assertEqual([e['summary']['status'] for e in events], ['received', 'queued'])
        self.assertFalse(s.closed)
        self.assertEqual([e['id'] for e in s.events], [eid for eid, _ in self.log_entries()])


class SigtermTest(EventsBase):
    env_options = {'extra_env': {'ESS_DRAIN_TIMEOUT_S': '60',
                                 'ESS_MAX_CONNECTIONS_PER_CLIENT': '0'}}

    def test_sigterm_ends_streams_promptly(self):
        """SIGTERM with streams open: each stream ends cleanly (its last chunk) and the router
        exits 0 at once, although ESS_DRAIN_TIMEOUT_S would allow a minute (the harness fails a
        router that takes over 15 s)."""
        env = self.env
        streams = [self.open_ok() for _ in range(5)]
        replaying = self.open_ok(last_event_id='0-0')
        wait_until(lambda: self.metric('ess_event_streams') == 6, 10, 0.1, '6 streams open')
        code = env.router.stop()
        self.assertEqual(code, 0, env.router.stderr_tail())
        self.assertEqual(env.router.problems, [])
        for s in streams + [replaying]:
            s.wait(lambda x: x.closed, 5, 'the stream closed')
            self.assertTrue(s.ended, 'the stream ended with its last chunk')


if __name__ == '__main__':
    harness.main()
