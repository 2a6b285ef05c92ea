"""The LINE side of the integration tests: a fake LINE Messaging API (real HTTP on 127.0.0.1) that
records every request and can fail on demand, the webhook fixtures of fixtures/line/ filled and
signed exactly over the bytes sent, LINE users that produce events, helpers that read the
messages the router sent, and LineTest: harness.RouterTest with the fake started first and the
daemon pointed at it (LINE_CHANNEL_SECRET, LINE_CHANNEL_ACCESS_TOKEN, LINE_API_BASE).

Python 3 standard library only."""

import base64
import collections
import hashlib
import hmac
import http.server
import json
import os
import re
import secrets
import sys
import threading
import time

import harness

FIXTURES = os.path.join(harness.HERE, 'fixtures', 'line')
# LINE's SDK's own test webhook (line/line-bot-sdk-python, tests/v3/text/webhook.json), unchanged.
SDK_WEBHOOK = os.path.join(FIXTURES, 'line-bot-sdk-python-webhook.json')

# Past the router's 10 s client timeout.
HANG_SECONDS = 13.0

# DESIGN.md's published vectors: (secret, body, signature).
PUBLISHED_VECTORS = [
    ('8c570fa6dd201bb328f1c1eac23a96d8',
     b'{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}',
     'GhRKmvmHys4Pi8DxkF4+EayaH0OqtJtaZxgTD9fMDLs='),
    ('test_secret', b'{"hello":"world"}', 't7Hn4ZDHqs6e+wdvI5TyQIvzie0DmMUmuXEBqyyE/tM='),
    ('SECRET', b'{}', '3q8QXTAGaey18yL8FWTqdVlbMr6hcuNvM4tefa0o9nA='),
]

UUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')
CODE_RE = re.compile(r'HM-[0-9A-Z]{3}-[0-9A-Z]{3}-[0-9A-Z]{3}')

# The bot's own user id (the "destination" of every webhook).
BOT_ID = 'U8e742f61d673b39c7fff3cecb7536ef0'


def now_ms():
    return int(time.time() * 1000)


# ---------------------------------------------------------------------------------------------
# Signatures

def sign(secret, body):
    """X-Line-Signature: standard base64 of HMAC-SHA256(secret, the exact body bytes)."""
    if isinstance(secret, str):
        secret = secret.encode('utf-8')
    return base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode('ascii')


# ---------------------------------------------------------------------------------------------
# Fixtures

class Raw:
    """A value inserted into a fixture as raw JSON text (not quoted)."""

    def __init__(self, text):
        self.text = text


_PLACEHOLDER = re.compile(r'"\{\{([A-Z0-9_]+)\}\}"')
_fixture_cache = {}


def load_fixture(name):
    """The text of fixtures/line/<name>, without its one trailing newline."""
    if name not in _fixture_cache:
        with open(os.path.join(FIXTURES, name), 'rb') as f:
            text = f.read().decode('utf-8')
        if text.endswith('\n'):
            text = text[:-1]
        _fixture_cache[name] = text
    return _fixture_cache[name]


def fill(template, values):
    """Replaces every "{{NAME}}" (quotes included) by the compact JSON of values[NAME] (Raw: as
    is). A placeholder without a value is an error."""
    def sub(m):
        name = m.group(1)
        if name not in values:
            raise KeyError('fixture placeholder %s has no value' % name)
        v = values[name]
        if isinstance(v, Raw):
            return v.text
        return json.dumps(v, ensure_ascii=False, separators=(',', ':'))
    return _PLACEHOLDER.sub(sub, template)


def webhook_body(events, destination=BOT_ID):
    """The bytes of a webhook carrying events (Event objects or raw event JSON texts), in the
    order given."""
    texts = [e.json if isinstance(e, Event) else e for e in events]
    return fill(load_fixture('body.json'),
                {'DESTINATION': destination, 'EVENTS': Raw('[' + ','.join(texts) + ']')}
                ).encode('utf-8')


# The calls the router must make (fixtures/line/expected-calls.json): the reply and push requests,
# and for each question the buttons it must offer.
EXPECTED = json.loads(load_fixture('expected-calls.json'))
REPLY_PATH = EXPECTED['reply']['path']
PUSH_PATH = EXPECTED['push']['path']
ENDPOINTS = {REPLY_PATH: 'reply', PUSH_PATH: 'push'}
QUESTIONS = EXPECTED['questions']
CATEGORY_POSTBACKS = tuple(d for d in QUESTIONS['category']['quick_reply_postbacks']
                           if d.startswith('cat='))


def new_user_id():
    return 'U' + secrets.token_hex(16)


def new_group_id():
    return 'C' + secrets.token_hex(16)


def new_room_id():
    return 'R' + secrets.token_hex(16)


def new_event_id():
    """A ULID, as LINE's webhookEventId."""
    return '01' + ''.join(secrets.choice(harness.CROCKFORD) for _ in range(24))


def new_reply_token():
    return secrets.token_hex(16)


def new_message_id():
    return str(secrets.randbelow(9 * 10 ** 17) + 10 ** 17)


def new_quote_token():
    return base64.urlsafe_b64encode(secrets.token_bytes(48)).decode('ascii').rstrip('=')


class Event:
    """One webhook event as LINE sends it: .json is its exact text."""

    def __init__(self, kind, json_text, user_id, event_id, reply_token, timestamp, values):
        self.kind = kind
        self.json = json_text
        self.user_id = user_id
        self.event_id = event_id
        self.reply_token = reply_token
        self.timestamp = timestamp
        self.values = values

    def redelivered(self):
        """The same event as LINE redelivers it: deliveryContext.isRedelivery true."""
        text = self.json.replace('"isRedelivery":false', '"isRedelivery":true', 1)
        assert text != self.json
        return Event(self.kind, text, self.user_id, self.event_id, self.reply_token,
                     self.timestamp, self.values)

    def __repr__(self):
        return '<LINE %s event %s>' % (self.kind, self.json[:300])


class LineUser:
    """A citizen on LINE: makes the events their phone would cause, timestamps increasing.
    lang is only the test's expectation ('th' or 'en')."""

    def __init__(self, user_id=None, lang='th'):
        self.user_id = user_id or new_user_id()
        self.lang = lang
        self._ts = now_ms() - 5000

    def timestamp(self):
        self._ts = max(self._ts + 7, now_ms())
        return self._ts

    def _event(self, kind, fixture, timestamp=None, reply=True, **values):
        v = {'USER_ID': self.user_id, 'EVENT_ID': new_event_id(),
             'TIMESTAMP': timestamp if timestamp is not None else self.timestamp(),
             'MESSAGE_ID': new_message_id(), 'QUOTE_TOKEN': new_quote_token()}
        if reply:
            v['REPLY_TOKEN'] = new_reply_token()
        v.update(values)
        text = fill(load_fixture(fixture), v)
        return Event(kind, text, self.user_id, v['EVENT_ID'], v.get('REPLY_TOKEN'),
                     v['TIMESTAMP'], v)

    def text(self, text, **kw):
        return self._event('text', 'event-text.json', TEXT=text, **kw)

    def text_redelivery(self, text, **kw):
        return self._event('text', 'event-text-redelivery.json', TEXT=text, **kw)

    def text_standby(self, text, **kw):
        return self._event('standby', 'event-text-standby.json', reply=False, TEXT=text, **kw)

    def text_in_group(self, text, group_id=None, **kw):
        return self._event('group', 'event-text-group.json', TEXT=text,
                           GROUP_ID=group_id or new_group_id(), **kw)

    def text_in_room(self, text, room_id=None, **kw):
        return self._event('room', 'event-text-room.json', TEXT=text,
                           ROOM_ID=room_id or new_room_id(), **kw)

    def location(self, lat, lon, address, title='ตำแหน่งของฉัน', **kw):
        return self._event('location', 'event-location.json', LATITUDE=lat, LONGITUDE=lon,
                           ADDRESS=address, TITLE=title, **kw)

    def media(self, kind='image', **kw):
        """An image, video, audio or file message (kind), its id MESSAGE_ID."""
        return self._event('media', 'event-media.json', MEDIA=kind, **kw)

    def sticker(self, **kw):
        return self._event('sticker', 'event-sticker.json', **kw)

    def postback(self, data, **kw):
        return self._event('postback', 'event-postback.json', DATA=data, **kw)

    def follow(self, **kw):
        return self._event('follow', 'event-follow.json', **kw)

    def unfollow(self, **kw):
        return self._event('unfollow', 'event-unfollow.json', reply=False, **kw)

    def unknown(self, **kw):
        return self._event('unknown', 'event-unknown.json', **kw)


# ---------------------------------------------------------------------------------------------
# Reading the messages the router sent

VISIBLE_KEYS = ('text', 'altText', 'label', 'title', 'displayText')


def walk(value):
    """Every dict inside value (value included), depth first."""
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


def visible_text(messages):
    """What the user reads: the text, altText, label, title and displayText strings, joined."""
    out = []
    for d in walk(messages):
        for k in VISIBLE_KEYS:
            if isinstance(d.get(k), str):
                out.append(d[k])
    return '\n'.join(out)


def quick_reply_actions(messages):
    """The actions of the quick-reply items of every message."""
    out = []
    for m in messages or []:
        qr = m.get('quickReply') if isinstance(m, dict) else None
        for item in (qr or {}).get('items') or []:
            if isinstance(item, dict) and isinstance(item.get('action'), dict):
                out.append(item['action'])
    return out


def postbacks(messages, quick_only=False):
    """The data of every postback action (quick replies, template or flex buttons)."""
    source = quick_reply_actions(messages) if quick_only else walk(messages)
    return [d['data'] for d in source
            if d.get('type') == 'postback' and isinstance(d.get('data'), str)]


def has_location_action(messages):
    return any(a.get('type') == 'location' for a in quick_reply_actions(messages))


def tracking_codes(messages):
    return sorted(set(CODE_RE.findall(visible_text(messages))))


def has_thai(text):
    return any('\u0e00' <= c <= '\u0e7f' for c in text)


# ---------------------------------------------------------------------------------------------
# The fake LINE Messaging API

class Answer:
    """What the fake answers one request: status, JSON body (LINE's own wording by default),
    after delay seconds (a hang: the request is recorded at once, answered late)."""

    def __init__(self, status=200, body=None, delay=0.0, headers=None):
        self.status = status
        self.body = body
        self.delay = delay
        self.headers = dict(headers or {})

    def __repr__(self):
        return '<Answer %d%s>' % (self.status, ' after %.1f s' % self.delay if self.delay else '')


def as_answer(a):
    """An Answer from an int (status), 'hang' (200 after HANG_SECONDS), ('hang', status), a dict
    of Answer's arguments, or an Answer."""
    if isinstance(a, Answer):
        return a
    if isinstance(a, int):
        return Answer(a)
    if a == 'hang':
        return Answer(200, delay=HANG_SECONDS)
    if isinstance(a, tuple) and a and a[0] == 'hang':
        return Answer(a[1], delay=HANG_SECONDS)
    if isinstance(a, dict):
        return Answer(**a)
    raise ValueError('not an answer: %r' % (a,))


def _line_error_body(status, endpoint):
    if status == 400:
        return {'message': 'Invalid reply token'} if endpoint == 'reply' else {
            'message': 'The request body has 1 error(s)',
            'details': [{'message': 'May not be empty', 'property': 'messages[0].text'}]}
    if status == 401:
        return {'message': 'Authentication failed. Confirm that the access token in the '
                           'authorization header is valid.'}
    if status == 403:
        return {'message': 'Not authorized to use this endpoint'}
    if status == 404:
        return {'message': 'Not found'}
    if status == 409:
        return {'message': 'The retry key is already accepted',
                'sentMessages': [{'id': new_message_id(), 'quoteToken': new_quote_token()}]}
    if status == 429:
        return {'message': 'Too Many Requests'}
    if status >= 500:
        return {'message': 'Internal server error'}
    return {}


class Request:
    """One request the fake received."""

    def __init__(self, seq, method, path, headers, raw):
        self.seq = seq
        self.at = time.monotonic()
        self.method = method
        self.path = path
        self.endpoint = ENDPOINTS.get(path.split('?', 1)[0])
        self.headers = headers  # lower-case names
        self.raw = raw
        try:
            self.json = json.loads(raw.decode('utf-8')) if raw else None
        except (ValueError, UnicodeDecodeError):
            self.json = None
        self.status = None       # what the fake answered
        self.violations = []     # what LINE itself would have refused

    def header(self, name):
        return self.headers.get(name.lower())

    @property
    def retry_key(self):
        return self.headers.get('x-line-retry-key')

    @property
    def body(self):
        return self.json if isinstance(self.json, dict) else {}

    @property
    def messages(self):
        m = self.body.get('messages')
        return m if isinstance(m, list) else []

    @property
    def reply_token(self):
        return self.body.get('replyToken')

    @property
    def to(self):
        return self.body.get('to')

    @property
    def ok(self):
        return self.status is not None and 200 <= self.status < 300

    def __repr__(self):
        text = self.raw[:700].decode('utf-8', 'replace')
        return '<%s %s -> %s key=%s %s>' % (self.method, self.path, self.status, self.retry_key,
                                           text)


_QUICK_ACTIONS = {'postback', 'message', 'location', 'camera', 'cameraRoll', 'datetimepicker',
                  'clipboard', 'uri'}
_MESSAGE_TYPES = {'text', 'textV2', 'sticker', 'image', 'video', 'audio', 'location', 'imagemap',
                  'template', 'flex'}


def _utf16_len(s):
    return len(s.encode('utf-16-le')) // 2


def line_violations(path, method, headers, body, access_token):
    """What LINE's Messaging API would refuse in a reply or push (the limits it documents)."""
    v = []
    endpoint = ENDPOINTS.get(path)
    if endpoint is None or method != EXPECTED[endpoint]['method']:
        return ['%s %s is not a Messaging API endpoint the router should call' % (method, path)]
    want = EXPECTED[endpoint]['headers']
    if headers.get('authorization') != want['authorization'].replace('{{ACCESS_TOKEN}}',
                                                                     access_token):
        v.append('Authorization is %r, not "Bearer <channel access token>"'
                 % headers.get('authorization'))
    if not (headers.get('content-type') or '').lower().startswith(want['content-type']):
        v.append('Content-Type is %r' % headers.get('content-type'))
    if not isinstance(body, dict):
        return v + ['the body is not a JSON object']
    for key in EXPECTED[endpoint]['body']:
        if key not in body:
            v.append('no "%s" in the body' % key)
    if endpoint == 'reply':
        if not isinstance(body.get('replyToken'), str) or not body['replyToken']:
            v.append('replyToken missing')
    else:
        if not isinstance(body.get('to'), str) or not body['to']:
            v.append('"to" missing')
        key = headers.get('x-line-retry-key')
        if key is not None and not UUID_RE.match(key):
            v.append('X-Line-Retry-Key %r is not a UUID' % key)
    msgs = body.get('messages')
    if not isinstance(msgs, list) or not 1 <= len(msgs) <= 5:
        return v + ['messages must be an array of 1..5 message objects']
    for i, m in enumerate(msgs):
        where = 'messages[%d]' % i
        if not isinstance(m, dict) or m.get('type') not in _MESSAGE_TYPES:
            v.append('%s: not a message object' % where)
            continue
        if m['type'] == 'text':
            t = m.get('text')
            if not isinstance(t, str) or not t.strip() or _utf16_len(t) > 5000:
                v.append('%s.text must be 1..5000 characters' % where)
        if m['type'] in ('template', 'flex'):
            alt = m.get('altText')
            if not isinstance(alt, str) or not alt or _utf16_len(alt) > 400:
                v.append('%s.altText must be 1..400 characters' % where)
        if m['type'] == 'template':
            t = m.get('template') or {}
            acts = t.get('actions') or []
            if t.get('type') == 'confirm' and len(acts) != 2:
                v.append('%s: a confirm template has exactly 2 actions' % where)
            if t.get('type') == 'buttons' and not 1 <= len(acts) <= 4:
                v.append('%s: a buttons template has 1..4 actions' % where)
            for a in acts:
                if isinstance(a, dict) and isinstance(a.get('label'), str) \
                        and _utf16_len(a['label']) > 20:
                    v.append('%s: action label %r longer than 20' % (where, a['label']))
        qr = m.get('quickReply')
        if qr is not None:
            items = qr.get('items') if isinstance(qr, dict) else None
            if not isinstance(items, list) or not 1 <= len(items) <= 13:
                v.append('%s.quickReply.items must be 1..13 items' % where)
                continue
            for j, it in enumerate(items):
                w = '%s.quickReply.items[%d]' % (where, j)
                a = it.get('action') if isinstance(it, dict) else None
                if not isinstance(it, dict) or it.get('type') != 'action' or not isinstance(a, dict):
                    v.append('%s: not {"type":"action","action":{…}}' % w)
                    continue
                if a.get('type') not in _QUICK_ACTIONS:
                    v.append('%s: action type %r' % (w, a.get('type')))
                label = a.get('label')
                if a.get('type') != 'uri' and (not isinstance(label, str) or not label
                                               or _utf16_len(label) > 20):
                    v.append('%s: label %r must be 1..20 characters' % (w, label))
                if a.get('type') == 'postback':
                    d = a.get('data')
                    if not isinstance(d, str) or not d or _utf16_len(d) > 300:
                        v.append('%s: postback data must be 1..300 characters' % w)
                    if 'displayText' in a and 'text' in a:
                        v.append('%s: postback with both displayText and text' % w)
                if a.get('type') == 'message':
                    t = a.get('text')
                    if not isinstance(t, str) or not t or _utf16_len(t) > 300:
                        v.append('%s: message action text must be 1..300 characters' % w)
    return v


def wait_recorded(cv, recorded, predicate, timeout, message, who):
    """Calls predicate(a copy of the list recorded, which the condition cv guards) whenever cv
    is notified, until it returns something truthy, which is returned. timeout (multiplied by
    ESS_TEST_TIME_SCALE) bounds the wait: AssertionError after it, with what `who` received."""
    deadline = time.monotonic() + harness.scaled(timeout)
    with cv:
        while True:
            got = predicate(list(recorded))
            if got:
                return got
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('%s within %.1f s; %s received:\n%s' % (
                    message, harness.scaled(timeout), who,
                    '\n'.join(repr(r) for r in recorded[-15:]) or '(nothing)'))
            cv.wait(min(left, 0.2))


class QuietServer(http.server.ThreadingHTTPServer):
    """The fakes' HTTP server (this fake LINE API, fault_load's team gateway): a listen backlog
    that a burst of the router's connections does not overflow (socketserver's default of 5 drops
    connection attempts, which the kernel retries a second later: a delay of the fake's, not the
    router's), and no traceback when a router dies with a connection open."""

    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class FakeLine:
    """A fake LINE Messaging API on 127.0.0.1 (free port). Records every request; answers 200 {}
    unless told otherwise: per endpoint ('reply', 'push') a queue of scripted answers (used first,
    one per request), else a default answer. Like LINE, a push whose X-Line-Retry-Key was already
    accepted (answered 2xx) gets 409, and a request LINE would refuse (bad token, more than five
    messages, a quick-reply label over 20 characters…) gets 400/401 and is recorded as a
    violation. With single_use_reply_tokens, a reply whose token was already accepted gets 400
    "Invalid reply token", as LINE answers it. Thread-safe."""

    def __init__(self, access_token, single_use_reply_tokens=False):
        self.access_token = access_token
        self.single_use_reply_tokens = single_use_reply_tokens
        self._used_reply_tokens = set()
        self._cv = threading.Condition()
        self._requests = []
        self._scripts = {'reply': collections.deque(), 'push': collections.deque()}
        self._defaults = {}
        self._accepted_keys = set()
        self._stopping = threading.Event()
        self._server = None
        self._thread = None

    # life cycle

    def start(self):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def do_POST(self):
                fake._handle(self)

            do_GET = do_PUT = do_DELETE = do_PATCH = do_POST

            def log_message(self, *args):
                pass

        self._server = QuietServer(('127.0.0.1', 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={'poll_interval': 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stops serving; requests still hanging are answered at once."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def base_url(self):
        return 'http://127.0.0.1:%d' % self.port

    # scripting

    def script(self, endpoint, *answers):
        """Queues answers (see as_answer) for the next requests to endpoint ('reply', 'push')."""
        with self._cv:
            self._scripts[endpoint].extend(as_answer(a) for a in answers)

    def set_default(self, endpoint, answer):
        """The answer once the endpoint's script is used up (None: 200 {})."""
        with self._cv:
            if answer is None:
                self._defaults.pop(endpoint, None)
            else:
                self._defaults[endpoint] = as_answer(answer)

    def down(self, status=503):
        """Every endpoint answers status until up()."""
        for e in ('reply', 'push'):
            self.set_default(e, status)

    def up(self):
        for e in ('reply', 'push'):
            self.set_default(e, None)

    def scripted_left(self, endpoint):
        with self._cv:
            return len(self._scripts[endpoint])

    # reading

    def requests(self, endpoint=None):
        with self._cv:
            return [r for r in self._requests if endpoint is None or r.endpoint == endpoint]

    def replies(self):
        return self.requests('reply')

    def pushes(self):
        return self.requests('push')

    def violations(self):
        with self._cv:
            return ['%r: %s' % (r, '; '.join(r.violations)) for r in self._requests
                    if r.violations]

    def for_user(self, user, tokens=()):
        """The requests meant for a user: replies to one of tokens, pushes to user (a LineUser or
        a user id)."""
        uid = getattr(user, 'user_id', user)
        tokens = set(tokens)
        return [r for r in self.requests()
                if (r.endpoint == 'reply' and r.reply_token in tokens)
                or (r.endpoint == 'push' and r.to == uid)]

    def wait_for(self, predicate, timeout=10.0, message='the fake LINE server to see it'):
        """Calls predicate(list of requests so far) whenever a request arrives, until it returns
        something truthy, which is returned. timeout (multiplied by ESS_TEST_TIME_SCALE) bounds
        the wait: AssertionError after it, with what was received."""
        return wait_recorded(self._cv, self._requests, predicate, timeout, message,
                             'the fake LINE API')

    def wait_reply(self, event, timeout=10.0):
        """The first reply carrying event's reply token."""
        return self.wait_for(
            lambda reqs: next((r for r in reqs if r.endpoint == 'reply'
                               and r.reply_token == event.reply_token), None),
            timeout, 'a reply to %s' % event)

    def quiet_for(self, seconds):
        """Waits seconds (unscaled: the router's own timers do not slow down) and returns the
        requests that arrived meanwhile."""
        n = len(self.requests())
        time.sleep(seconds)
        return self.requests()[n:]

    # serving

    def _read_body(self, h):
        if 'chunked' in (h.headers.get('Transfer-Encoding') or '').lower():
            out = b''
            while True:
                size = int(h.rfile.readline().split(b';')[0].strip() or b'0', 16)
                if size == 0:
                    while h.rfile.readline() not in (b'\r\n', b'\n', b''):
                        pass
                    return out
                out += h.rfile.read(size)
                h.rfile.readline()
        n = int(h.headers.get('Content-Length') or 0)
        return h.rfile.read(n) if n > 0 else b''

    def _handle(self, h):
        raw = self._read_body(h)
        headers = {k.lower(): v for k, v in h.headers.items()}
        with self._cv:
            req = Request(len(self._requests) + 1, h.command, h.path, headers, raw)
            req.violations = line_violations(h.path.split('?', 1)[0], h.command, headers,
                                             req.json, self.access_token)
            if req.violations:
                status = 404 if req.endpoint is None else (
                    401 if any(v.startswith('Authorization') for v in req.violations) else 400)
                answer = Answer(status)
            elif req.endpoint and self._scripts[req.endpoint]:
                answer = self._scripts[req.endpoint].popleft()
            elif req.endpoint == 'push' and req.retry_key in self._accepted_keys:
                answer = Answer(409, headers={'X-Line-Accepted-Request-Id': secrets.token_hex(16)})
            elif (req.endpoint == 'reply' and self.single_use_reply_tokens
                  and req.reply_token in self._used_reply_tokens):
                answer = Answer(400)
            else:
                answer = self._defaults.get(req.endpoint) or Answer(200)
            if req.endpoint == 'push' and req.retry_key and 200 <= answer.status < 300:
                self._accepted_keys.add(req.retry_key)
            if req.endpoint == 'reply' and 200 <= answer.status < 300:
                self._used_reply_tokens.add(req.reply_token)
            req.status = answer.status
            self._requests.append(req)
            self._cv.notify_all()
        if answer.delay:
            self._stopping.wait(answer.delay)
        body = answer.body if answer.body is not None else (
            {} if 200 <= answer.status < 300 else _line_error_body(answer.status, req.endpoint))
        data = json.dumps(body).encode('utf-8')
        try:
            h.send_response(answer.status)
            h.send_header('Content-Type', 'application/json')
            h.send_header('X-Line-Request-Id', secrets.token_hex(16))
            for k, v in answer.headers.items():
                h.send_header(k, v)
            h.send_header('Content-Length', str(len(data)))
            h.end_headers()
            h.wfile.write(data)
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            h.close_connection = True


# ---------------------------------------------------------------------------------------------
# The test base class

class LineTest(harness.RouterTest):
    """A fresh fake LINE API, Redis and daemon for every test, the daemon configured for LINE with
    a random channel secret and access token. At the end, besides harness' own checks (exit
    status, sanitizers, personal data in the log), nothing the router sent may be something LINE
    would have refused, and every push must carry a UUID X-Line-Retry-Key."""

    line_secret = None  # None: a random one
    single_use_reply_tokens = False  # FakeLine's option: a used reply token gets 400

    def setUp(self):
        self.secret = self.line_secret or secrets.token_hex(16)
        self.access_token = 'lat-' + secrets.token_urlsafe(40)
        self.fake = FakeLine(self.access_token, self.single_use_reply_tokens).start()
        self.addCleanup(self._finish_fake)
        opts = dict(self.env_options)
        extra = dict(opts.get('extra_env') or {})
        extra.update({'LINE_CHANNEL_SECRET': self.secret,
                      'LINE_CHANNEL_ACCESS_TOKEN': self.access_token,
                      'LINE_API_BASE': self.fake.base_url})
        opts['extra_env'] = extra
        self.env_options = opts
        super().setUp()
        self.env.secrets |= {self.secret, self.access_token}

    def _finish_fake(self):
        fake, self.fake = self.fake, None
        if fake is None:
            return
        fake.stop()
        problems = fake.violations()
        for r in fake.pushes():
            if not r.retry_key or not UUID_RE.match(r.retry_key):
                problems.append('%r: a push without a UUID X-Line-Retry-Key' % r)
        if problems:
            self.fail('requests LINE would refuse:\n' + '\n'.join(problems))

    # users and personal data

    def new_user(self, lang='th'):
        u = LineUser(lang=lang)
        self.env.note_pii(u.user_id)
        return u

    def new_place(self, origin=harness.BKK):
        """A location a few metres from origin and a unique address, noted as personal data."""
        lat, lon = harness.jitter(origin)
        addr = harness.unique_address()
        self.env.note_pii(lat, lon, addr)
        return lat, lon, addr

    # webhooks

    def post_webhook(self, body, signature=True, header='X-Line-Signature', router=None,
                     timeout=20.0):
        """POSTs body (bytes) to /webhooks/line. signature True: signed with the channel secret;
        a str: sent as is; None: no signature header. The answer has .elapsed (seconds)."""
        headers = {}
        if signature is True:
            signature = sign(self.secret, body)
        if signature is not None:
            headers[header] = signature
        t0 = time.monotonic()
        r = self.env.http('POST', '/webhooks/line', body, headers=headers, router=router,
                          timeout=timeout)
        r.elapsed = time.monotonic() - t0
        return r

    def deliver(self, *events, router=None):
        """Sends the events in one signed webhook; asserts 200 {} within LINE's 2 s budget."""
        body = webhook_body(events)
        r = self.post_webhook(body, router=router)
        self.assertWebhookOK(r, 'webhook %s' % body[:400].decode('utf-8', 'replace'))
        return r

    def assertWebhookOK(self, r, msg=''):
        self.assertEqual(r.status, 200, '%s answered %r' % (msg, r))
        self.assertJSON(r, msg)
        self.assertEqual(r.body, {}, '%s: the answer to LINE is {}' % msg)
        self.assertLess(r.elapsed, harness.scaled(2.0),
                        '%s: LINE wants the 200 within 2 s, it took %.2f s' % (msg, r.elapsed))

    def say(self, event, timeout=10.0):
        """Delivers event and returns the messages of the reply to it."""
        self.deliver(event)
        return self.fake.wait_reply(event, timeout).messages

    def settle(self, pause=0.3):
        """Returns once everything the router queued so far has had its first try: a message
        from a new user is answered (the outbox sends oldest first), then pause seconds."""
        sentinel = self.new_user()
        self.say(sentinel.text('สวัสดีค่ะ'))
        time.sleep(pause)

    def assertNothingSentFor(self, events, users=()):
        """Nothing was or will be sent for events (their reply tokens) or to their users (or
        users), checked after settle()."""
        self.settle()
        tokens = {e.reply_token for e in events if e.reply_token}
        uids = {getattr(u, 'user_id', u) for u in users} | {e.user_id for e in events}
        sent = [r for r in self.fake.requests()
                if (r.endpoint == 'reply' and r.reply_token in tokens)
                or (r.endpoint == 'push' and r.to in uids)]
        self.assertEqual(sent, [], 'the router answered events it should not have: %r' % events)

    # what the replies say

    def assertLang(self, messages, lang, allowed=(), msg=''):
        """Thai: the text is Thai. English: no Thai outside the strings in allowed (e.g. a
        team's own Thai name). None: any language, but some text."""
        text = visible_text(messages)
        self.assertTrue(text.strip(), '%s: a message with no text: %r' % (msg, messages))
        if lang is None:
            return
        if lang == 'th':
            self.assertTrue(has_thai(text), '%s: expected Thai, got %r' % (msg, text))
        else:
            for a in allowed:
                text = text.replace(a, '')
            self.assertFalse(has_thai(text), '%s: expected English, got %r' % (msg, text))

    def assertQuestion(self, messages, question, msg=''):
        """messages offer the buttons expected-calls.json lists for question."""
        want = QUESTIONS[question]
        shown = json.dumps(messages, ensure_ascii=False)
        quick = postbacks(messages, quick_only=True)
        for d in want.get('quick_reply_postbacks', []):
            self.assertIn(d, quick, '%s: no quick-reply postback %r in %s' % (msg, d, shown))
        for d in want.get('postbacks', []):
            self.assertIn(d, postbacks(messages), '%s: no postback %r in %s' % (msg, d, shown))
        types = [a.get('type') for a in quick_reply_actions(messages)]
        for t in want.get('quick_reply_actions', []):
            self.assertIn(t, types, '%s: no quick-reply %s action in %s' % (msg, t, shown))

    def assertAsksCategory(self, messages, lang, msg='the category question'):
        self.assertQuestion(messages, 'category', msg)
        self.assertFalse(has_location_action(messages), msg)
        self.assertEqual(tracking_codes(messages), [], msg)
        self.assertLang(messages, lang, msg=msg)

    def assertAsksLocation(self, messages, lang, msg='the location question'):
        self.assertQuestion(messages, 'location', msg)
        self.assertFalse(set(postbacks(messages)) & set(CATEGORY_POSTBACKS),
                         '%s: asks the category again: %r' % (msg, messages))
        self.assertLang(messages, lang, msg=msg)

    def assertAsksDetails(self, messages, lang, msg='the "anything else?" question'):
        self.assertQuestion(messages, 'details', msg)
        self.assertFalse(has_location_action(messages), msg)
        self.assertFalse(set(postbacks(messages)) & set(CATEGORY_POSTBACKS), msg)
        self.assertEqual(tracking_codes(messages), [], msg)
        self.assertLang(messages, lang, msg=msg)

    def assertCreated(self, messages, lang, team_name=None, msg='the case-created reply'):
        """One valid tracking code; the team's name when a team was claimed. Returns the code."""
        codes = tracking_codes(messages)
        self.assertEqual(len(codes), 1, '%s: expected one tracking code in %s'
                         % (msg, json.dumps(messages, ensure_ascii=False)))
        self.assertTrue(harness.tracking_code_valid(codes[0]),
                        '%s: %s fails the Luhn mod 32 check' % (msg, codes[0]))
        if team_name:
            self.assertIn(team_name, visible_text(messages),
                          '%s: does not say who is coming (%s)' % (msg, team_name))
        self.assertLang(messages, lang, allowed=(team_name,) if team_name else (), msg=msg)
        return codes[0]

    def assertNotEchoed(self, items, values, msg=''):
        """None of values (a description, an address) appears in what was sent: items are
        Requests or message lists."""
        for item in items:
            raw = item.raw.decode('utf-8', 'replace') if isinstance(item, Request) else \
                json.dumps(item, ensure_ascii=False)
            for s in values:
                if not s:
                    continue
                for form in (s, json.dumps(s)[1:-1]):
                    self.assertNotIn(form, raw, '%s: %r sent back to the user: %s'
                                     % (msg, s, raw[:600]))

    # whole conversations

    def put_teams(self, layout, origin=harness.BKK):
        """layout: (team_id, km from origin, bearing, skills, name); returns {team_id: token}."""
        return {tid: self.env.put_team_at(tid, km, bearing, skills, origin=origin, name=name)
                for tid, km, bearing, skills, name in layout}

    def assertCreatedAsksMore(self, messages, lang, team_name=None, msg='the location\'s reply'):
        """The case-created reply followed by "anything else?" (skip offered, last message).
        Returns the code."""
        code = self.assertCreated(messages, lang, team_name, msg)
        self.assertQuestion(messages[-1:], 'details', msg)
        self.assertFalse(has_location_action(messages), msg)
        self.assertFalse(set(postbacks(messages)) & set(CATEGORY_POSTBACKS), msg)
        return code

    def report(self, user, category, place, details=None, first=None, team_name=None):
        """A whole report, tapping only the buttons offered: a first message, the category, the
        location (which creates the case), then details (a sentence, a note on the case) or skip.
        Checks every question and counts the user's actions (at most five). Returns the tracking
        code."""
        lang = user.lang
        if first is None:
            first = 'สวัสดีค่ะ' if lang == 'th' else 'Hi, I need to report something'
        m = self.say(user.text(first))
        taps = 1
        self.assertAsksCategory(m, lang, 'reply to the first message')
        self.assertIn('cat=' + category, postbacks(m, quick_only=True))
        m = self.say(user.postback('cat=' + category))
        taps += 1
        self.assertAsksLocation(m, lang)
        lat, lon, addr = place
        m = self.say(user.location(lat, lon, addr))
        taps += 1
        code = self.assertCreatedAsksMore(m, lang, team_name)
        if details is None:
            m = self.say(user.postback('skip'))
        else:
            self.env.note_pii(details)
            m = self.say(user.text(details))
        taps += 1
        self.assertEqual(tracking_codes(m), [code],
                         'the answer to "anything else?" names the case like a status answer')
        self.assertLang(m, lang, msg='the answer to "anything else?"')
        self.assertLessEqual(taps, 5, 'a report takes at most five taps')
        return code

    def assertRouted(self, case, team_id, place):
        """The case went to team_id, its distance measured from the reporter's location."""
        self.assertEqual(case.get('status'), 'assigned', case)
        self.assertIsInstance(case.get('team'), dict, case)
        self.assertEqual(case['team'].get('id'), team_id, 'routed to the wrong team: %r' % case)
        t = self.env.teams[team_id]
        self.assertDistance(case['team'].get('distance_km'),
                            harness.haversine_km(place[0], place[1], t['lat'], t['lon']))

    # cases

    def case_by_code(self, code):
        """The operator's view of the case with tracking code."""
        for c in self.env.list_cases():
            if c.get('tracking_code') == code:
                return self.env.case(c['case_id'])
        raise AssertionError('no open case has tracking code %s (open: %r)'
                             % (code, [c.get('tracking_code') for c in self.env.list_cases()]))
