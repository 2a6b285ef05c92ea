"""POST /webhooks/line, the receiving side (DESIGN.md, the LINE platform facts): the signature over
the raw bytes (published vectors, header name in any case), 401 with nothing stored or sent, 404
when the channel is off, 400 for signed bodies that are not a LINE webhook, 413 past 1 MiB, LINE's
SDK's own webhook body, events never answered (standby, groups, rooms, unfollow, unknown types),
repeats dropped by webhookEventId, a batch from two users out of order handled in timestamp
order."""

import hmac
import json
import threading
import time

import harness
from harness import RouterTest
import fake_line
from fake_line import (LineTest, LineUser, Raw, fill, load_fixture, sign, tracking_codes,
                       webhook_body)

MIB = 1024 * 1024
VECTOR_SECRET, VECTOR_BODY, VECTOR_SIGNATURE = fake_line.PUBLISHED_VECTORS[0]


class LinePublishedVectorTest(LineTest):
    """The daemon runs with DESIGN's published channel secret."""

    line_secret = VECTOR_SECRET

    def test_published_signature_vectors(self):
        env = self.env
        for secret, body, signature in fake_line.PUBLISHED_VECTORS:
            self.assertEqual(sign(secret, body), signature, 'the test signer itself')
        body = load_fixture('verify.json').encode('utf-8')
        self.assertEqual(body, VECTOR_BODY)

        # LINE's URL verification: the empty-events body with its published signature.
        for header in ('X-Line-Signature', 'x-line-signature', 'X-LINE-SIGNATURE'):
            with self.subTest(header=header):
                r = self.post_webhook(body, signature=VECTOR_SIGNATURE, header=header)
                self.assertWebhookOK(r, 'verification call, header %s' % header)

        flipped = ('A' if VECTOR_SIGNATURE[0] != 'A' else 'B') + VECTOR_SIGNATURE[1:]
        refused = [
            ('missing', body, None),
            ('empty', body, ''),
            ('another vector', body, fake_line.PUBLISHED_VECTORS[1][2]),
            ('one character changed', body, flipped),
            ('truncated', body, VECTOR_SIGNATURE[:-2]),
            ('hex digest', body, hmac.new(VECTOR_SECRET.encode(), body, 'sha256').hexdigest()),
            ('body with a trailing newline', body + b'\n', VECTOR_SIGNATURE),
            ('body re-serialised with spaces', json.dumps(json.loads(body)).encode(),
             VECTOR_SIGNATURE),
        ]
        for name, b, sig in refused:
            with self.subTest(refused=name):
                r = self.post_webhook(b, signature=sig)
                self.assertErrorBody(r, 401, 'invalid_signature', name)

        # The two other vectors: their signatures are accepted (so 400, not 401: the bodies are
        # not LINE webhooks), a changed one refused.
        for secret, b, sig in fake_line.PUBLISHED_VECTORS[1:]:
            with self.subTest(secret=secret):
                router = env.add_router(name='router-' + secret.lower(),
                                        extra_env={'LINE_CHANNEL_SECRET': secret})
                r = self.post_webhook(b, signature=sig, router=router)
                self.assertErrorBody(r, 400, 'invalid_webhook',
                                     'a correctly signed body that is not a webhook')
                r = self.post_webhook(b, signature=sig, header='x-line-signature', router=router)
                self.assertErrorBody(r, 400, 'invalid_webhook', 'lower-case header name')
                r = self.post_webhook(b, signature=sig[:-3] + 'AA=', router=router)
                self.assertErrorBody(r, 401, 'invalid_signature')
                r = self.post_webhook(b, signature=VECTOR_SIGNATURE, router=router)
                self.assertErrorBody(r, 401, 'invalid_signature', 'signed with another secret')
        time.sleep(0.3)
        self.assertEqual(self.fake.requests(), [], 'nothing is sent to LINE for these calls')


class LineOffTest(RouterTest):
    """No LINE_CHANNEL_SECRET: the webhook does not exist."""

    def test_webhook_off_without_channel_secret(self):
        body = webhook_body([LineUser().text('สวัสดีค่ะ')])
        for name, headers in (('signed', {'X-Line-Signature': sign('whatever', body)}),
                              ('unsigned', {})):
            with self.subTest(name):
                r = self.env.http('POST', '/webhooks/line', body, headers=headers)
                self.assertErrorBody(r, 404, msg='LINE_CHANNEL_SECRET unset')
        self.assertEqual(self.env.http('GET', '/healthz').status, 200)


class LineWebhookTest(LineTest):

    def test_bad_signature_refused_nothing_stored(self):
        """401 and nothing stored or sent: the same events, signed afterwards, are handled as
        new (the bad request neither marked them seen nor moved the conversation)."""
        env = self.env
        u = self.new_user()
        lat, lon, addr = self.new_place()
        text = u.text('สวัสดีค่ะ')
        events = [text, u.postback('cat=threat'), u.location(lat, lon, addr), u.postback('skip')]
        body = webhook_body(events)
        variants = [
            ('missing', None, 'X-Line-Signature'),
            ('empty', '', 'X-Line-Signature'),
            ('another secret', sign('x' + self.secret, body), 'X-Line-Signature'),
            ('over a re-serialised body', sign(self.secret, json.dumps(json.loads(body)).encode()),
             'X-Line-Signature'),
            ('over other bytes', sign(self.secret, body + b' '), 'X-Line-Signature'),
            ('truncated', sign(self.secret, body)[:-4], 'X-Line-Signature'),
            ('in another header', sign(self.secret, body), 'X-Signature'),
            ('secret as signature', self.secret, 'X-Line-Signature'),
        ]
        for name, sig, header in variants:
            with self.subTest(signature=name):
                r = self.post_webhook(body, signature=sig, header=header)
                self.assertErrorBody(r, 401, 'invalid_signature', name)
        self.assertNothingSentFor(events)
        self.assertEqual(env.list_cases(), [], 'a refused webhook created a case')

        # Signed now: the first event is new, and the conversation starts from the beginning.
        m = self.say(text)
        self.assertAsksCategory(m, 'th', 'first message after refused webhooks')
        self.assertEqual(env.list_cases(), [])

    def test_signature_over_raw_bytes(self):
        """The signature covers the bytes as sent: a pretty-printed body with \\u escapes
        (not how LINE's own JSON looks) verifies and is read as the same Thai text."""
        u = self.new_user()
        ev = u.text('สวัสดีค่ะ')
        doc = {'destination': fake_line.BOT_ID, 'events': [json.loads(ev.json)]}
        body = (json.dumps(doc, indent=2, ensure_ascii=True) + '\r\n').encode('ascii')
        self.assertNotIn('สวัสดี'.encode('utf-8'), body)
        r = self.post_webhook(body)
        self.assertWebhookOK(r, 'pretty-printed, escaped body')
        m = self.fake.wait_reply(ev).messages
        self.assertAsksCategory(m, 'th', 'reply to an escaped Thai text')
        r = self.post_webhook(body.replace(b'  ', b' '), signature=sign(self.secret, body))
        self.assertErrorBody(r, 401, 'invalid_signature', 'whitespace changed after signing')

    def test_sdk_webhook_body(self):
        """LINE's SDK's own 28-event body, signed: 200, and since its events are from 2016, far
        older than the dedupe window (and all carry the same webhookEventId), none answered."""
        env = self.env
        with open(fake_line.SDK_WEBHOOK, 'rb') as f:
            body = f.read()
        doc = json.loads(body)
        sdk_user = 'U206d25c2ea6bd87c17655609a1c37cb8'
        env.note_pii(sdk_user, 'Tokyo', 35.65910807942215, 139.70372892916203)
        tokens = {e.get('replyToken') for e in doc['events']} - {None}
        self.assertEqual({e['webhookEventId'] for e in doc['events']}, {'testwebhookeventid'})

        r = self.post_webhook(body)
        self.assertWebhookOK(r, 'the SDK body')
        r = self.post_webhook(body, header='x-line-signature')
        self.assertWebhookOK(r, 'the SDK body again')
        self.assertEqual(env.http('GET', '/healthz').status, 200)
        sentinel = self.new_user()
        sev = sentinel.text('สวัสดีค่ะ')
        self.say(sev)
        time.sleep(0.5)
        sent = [q for q in self.fake.requests()
                if not (q.endpoint == 'reply' and q.reply_token == sev.reply_token)]
        self.assertEqual(sent, [], 'events older than the dedupe window answered: %r' % sent)
        for q in sent:
            if q.endpoint == 'reply':
                self.assertIn(q.reply_token, tokens, q)
            else:
                self.assertEqual(q.to, sdk_user, 'a push to a group or room: %r' % q)
        self.assertEqual(env.http('GET', '/healthz').status, 200)

    def test_malformed_bodies(self):
        """Signed bodies that are not LINE webhooks: 400 invalid_webhook, nothing sent."""
        env = self.env
        u = self.new_user()
        probe = u.text('PROBE-TEXT')
        events = [probe]
        head = b'{"destination":"' + fake_line.BOT_ID.encode() + b'",'
        deep_array = head + b'"events":[{"type":"message","x":' + b'[' * 5000 + b']' * 5000 + b'}]}'
        deep_object = head + b'"events":[' + b'{"a":' * 5000 + b'1' + b'}' * 5000 + b']}'

        def with_text(raw):
            ev = u.text('PROBE-TEXT')
            events.append(ev)
            return webhook_body([ev]).replace(b'PROBE-TEXT', raw)

        battery = [
            ('empty body', b''),
            ('not JSON', b'this is not json'),
            ('truncated JSON', webhook_body([probe])[:-7]),
            ('an array', b'[' + webhook_body([probe]) + b']'),
            ('a string', b'"events"'),
            ('a number', b'42'),
            ('null', b'null'),
            ('no events', head[:-1] + b'}'),
            ('events null', head + b'"events":null}'),
            ('events an object', head + b'"events":{"0":' + probe.json.encode() + b'}}'),
            ('events a string', head + b'"events":"[]"}'),
            ('trailing garbage', webhook_body([probe]) + b'garbage'),
            ('invalid UTF-8', with_text(b'\xc3\x28 \xff\xfe')),
            ('overlong UTF-8', with_text(b'\xc0\xaf\xe0\x80\xaf')),
            ('UTF-16 surrogate in UTF-8', with_text(b'\xed\xa0\x80')),
            ('deep arrays', deep_array),
            ('deep objects', deep_object),
        ]
        for name, body in battery:
            with self.subTest(body=name):
                r = self.post_webhook(body)
                self.assertErrorBody(r, 400, 'invalid_webhook', name)
        self.assertEqual(env.http('GET', '/healthz').status, 200)
        self.assertNothingSentFor(events)
        self.assertEqual(env.list_cases(), [])

    def test_event_count_limit(self):
        """100 events are taken; 101 are refused whole (400, none answered)."""
        users = [self.new_user() for _ in range(101)]
        many = [u.text('สวัสดีค่ะ') for u in users]
        r = self.post_webhook(webhook_body(many))
        self.assertErrorBody(r, 400, 'invalid_webhook', '101 events')
        self.assertNothingSentFor(many)
        quiet = [u.unfollow() for u in users[:100]]
        r = self.post_webhook(webhook_body(quiet))
        self.assertWebhookOK(r, '100 unfollow events')

    def test_body_size_limit(self):
        """1 MiB is taken (an unknown field is ignored, the event answered); one byte more is
        413 with a JSON error, nothing answered."""
        env = self.env
        u = self.new_user()

        def padded(ev, size):
            template = load_fixture('body.json')[:-1] + ',"pad":"{{PAD}}"}'
            base = fill(template, {'DESTINATION': fake_line.BOT_ID,
                                   'EVENTS': Raw('[' + ev.json + ']'), 'PAD': ''}).encode()
            body = fill(template, {'DESTINATION': fake_line.BOT_ID,
                                   'EVENTS': Raw('[' + ev.json + ']'),
                                   'PAD': 'x' * (size - len(base))}).encode()
            self.assertEqual(len(body), size)
            return body

        big = u.text('สวัสดีค่ะ')
        r = self.post_webhook(padded(big, MIB), timeout=60)
        self.assertWebhookOK(r, 'a 1 MiB webhook')
        self.assertAsksCategory(self.fake.wait_reply(big).messages, 'th')

        v = self.new_user()
        too_big = v.text('สวัสดีค่ะ')
        body = padded(too_big, MIB + 1)
        head = ('POST /webhooks/line HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n'
                'Content-Type: application/json\r\nX-Line-Signature: %s\r\n'
                'Content-Length: %d\r\n\r\n' % (sign(self.secret, body), len(body))).encode()
        r = harness.raw_request(env.router.port, head + body, timeout=60)
        self.assertIsNotNone(r, 'no answer to a 1 MiB + 1 byte webhook')
        # past the hard limit (1 MiB): libevent's own 413 page, see README "Known limits"
        self.assertEqual(r.status, 413, '1 MiB + 1 byte: %r' % r)
        self.assertEqual(env.http('GET', '/healthz').status, 200)
        self.assertNothingSentFor([too_big])

    def test_events_never_answered(self):
        """Standby mode, group and room sources, unfollow, an unknown event type: 200 and no
        answer, in one batch with events that are answered."""
        users = [self.new_user() for _ in range(6)]
        quiet = [users[0].text_standby('สวัสดีค่ะ'),
                 users[1].text_in_group('ช่วยด้วย ถูกขังอยู่ในห้อง'),
                 users[2].text_in_room('help, I am locked in'),
                 users[3].unfollow(),
                 users[4].unknown()]
        answered = users[5].text('สวัสดีค่ะ')
        self.deliver(*(quiet[:2] + [answered] + quiet[2:]))
        self.assertAsksCategory(self.fake.wait_reply(answered).messages, 'th')
        self.assertNothingSentFor(quiet, users[:5])
        # A standby user who later talks to the bot in active mode starts from the beginning.
        self.assertAsksCategory(self.say(users[0].text('สวัสดีค่ะ')), 'th', 'after standby')

    def test_repeats_dropped_by_webhook_event_id(self):
        """An event twice in one request, redelivered, or the whole request repeated: answered
        once; a postback repeated does not move the conversation twice."""
        u = self.new_user()
        ev = u.text('สวัสดีค่ะ')
        self.deliver(ev, ev)
        self.assertAsksCategory(self.fake.wait_reply(ev).messages, 'th')
        self.deliver(ev.redelivered())
        self.deliver(ev)
        pb = u.postback('cat=threat')
        self.assertAsksLocation(self.say(pb), 'th')
        self.deliver(pb.redelivered(), pb)
        lat, lon, addr = self.new_place()
        loc = u.location(lat, lon, addr)
        code = self.assertCreatedAsksMore(self.say(loc), 'th', msg='location after a repeated postback')
        self.deliver(loc.redelivered(), loc)
        self.settle()
        for e in (ev, pb, loc):
            sent = [q for q in self.fake.requests() if q.reply_token == e.reply_token]
            self.assertEqual(len(sent), 1, 'event %s answered %d times: %r'
                             % (e.event_id, len(sent), sent))
        self.assertEqual(self.fake.pushes(), [])
        self.assertEqual([c['tracking_code'] for c in self.env.list_cases()], [code])

    def test_duplicate_deliveries_at_once_to_two_routers(self):
        """The network duplicates a webhook and the copies reach two router processes on the same
        Redis at the same moment: each event is still answered once, and the last step of a
        report creates one case."""
        env = self.env
        other = env.add_router(name='router2')
        users = [self.new_user() for _ in range(4)]
        place = self.new_place()
        for u in users[2:]:
            self.say(u.postback('cat=threat'))
        steps = [[u.text('สวัสดีค่ะ') for u in users[:2]]
                 + [u.location(*place) for u in users[2:]]]
        for ev in steps[0]:
            body = webhook_body([ev])
            answers = [None, None]

            def post(i, router):
                answers[i] = self.post_webhook(body, router=router)

            threads = [threading.Thread(target=post, args=(i, r))
                       for i, r in enumerate((env.router, other))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(harness.scaled(20))
            for r in answers:
                self.assertIsNotNone(r)
                self.assertWebhookOK(r, 'a duplicated webhook')
            self.fake.wait_reply(ev)
        self.settle()
        for ev in steps[0]:
            sent = [q for q in self.fake.requests() if q.reply_token == ev.reply_token
                    or (q.endpoint == 'push' and q.to == ev.user_id)]
            self.assertEqual(len(sent), 1, 'a duplicated %s event answered %d times: %r'
                             % (ev.kind, len(sent), sent))
        codes = [tracking_codes(self.fake.wait_reply(ev).messages) for ev in steps[0][2:]]
        cases = env.list_cases()
        self.assertEqual(len(cases), 2, 'one case per report, whatever the duplicates: %r' % cases)
        self.assertEqual(sorted(c['tracking_code'] for c in cases), sorted(sum(codes, [])))

    def test_first_seen_redelivery_is_answered(self):
        """Repeats are dropped by webhookEventId, not by the redelivery flag: an event LINE
        redelivers because the first try never got through is handled."""
        u = self.new_user()
        ev = u.text_redelivery('สวัสดีค่ะ')
        self.assertAsksCategory(self.say(ev), 'th', 'a redelivered event seen for the first time')

    def test_batch_from_two_users_out_of_order(self):
        """batch-two-users.json: five events from two users, out of timestamp order in the body;
        each user's events are handled in timestamp order."""
        env = self.env
        a, b = self.new_user('th'), self.new_user('en')
        lat, lon, addr = self.new_place()
        t = fake_line.now_ms()
        v = {'DESTINATION': fake_line.BOT_ID, 'USER_A': a.user_id, 'USER_B': b.user_id,
             'ADDRESS_A': addr, 'LATITUDE_A': lat, 'LONGITUDE_A': lon}
        for i, name in enumerate(['A1', 'B1', 'A2', 'B2', 'A3']):
            v['TS_' + name] = t + 150 * i
            v['EVENT_' + name] = fake_line.new_event_id()
            v['TOKEN_' + name] = fake_line.new_reply_token()
            v['MESSAGE_' + name] = fake_line.new_message_id()
            v['QUOTE_' + name] = fake_line.new_quote_token()
        body = fill(load_fixture('batch-two-users.json'), v).encode('utf-8')
        order = [e['replyToken'] for e in json.loads(body)['events']]
        self.assertEqual(order, [v['TOKEN_A3'], v['TOKEN_B1'], v['TOKEN_A2'], v['TOKEN_B2'],
                                 v['TOKEN_A1']], 'the fixture is out of order')
        r = self.post_webhook(body)
        self.assertWebhookOK(r, 'the batch')

        def reply(name):
            tok = v['TOKEN_' + name]
            return self.fake.wait_for(
                lambda reqs: next((q for q in reqs if q.reply_token == tok), None),
                10, 'the reply to event %s' % name).messages

        self.assertAsksCategory(reply('A1'), 'th', 'A: first message')
        self.assertAsksLocation(reply('A2'), 'th', 'A: category chosen')
        code = self.assertCreatedAsksMore(reply('A3'), 'th', msg='A: location sent last')
        self.assertAsksCategory(reply('B1'), 'en', 'B: first message')
        self.assertAsksLocation(reply('B2'), 'en', 'B: category chosen')
        self.assertEqual(self.fake.pushes(), [])

        case = self.case_by_code(code)
        self.assertEqual(case['channel'], 'line')
        self.assertEqual(case['category'], 'threat')
        self.assertAlmostEqual(case['location']['lat'], lat, places=6)
        self.assertAlmostEqual(case['location']['lon'], lon, places=6)
        self.assertEqual(case['location'].get('address'), addr)
        self.assertEqual(len(env.list_cases()), 1, 'B has not finished a report')
        self.assertNotEchoed(self.fake.requests(), [addr])


if __name__ == '__main__':
    harness.main()
