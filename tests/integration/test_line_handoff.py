"""Talking to a person, the operator's side (DESIGN.md, "Talking to a person"): an operator takes
a LINE reporter's waiting chat (POST /v1/cases/{id}/chat/take; a second operator gets 409 and who
has it), writes to the reporter (POST …/chat/messages: stored and pushed once, through the
outbox, with a retry key that survives restarts; at most 2,000 characters, refused, never cut)
and closes it (POST …/chat/close: the closing line, and the bot answers again; a supervisor may
close another operator's chat; closing the case closes it too). New messages come live as
`event: chat` on /v1/events, which never carries a text. A chat nobody takes within
ESS_CHAT_WAIT_S is escalated to the supervisors once. No chat text in any log, the case log, the
event stream, the lists, the public view, the tracking page or the supervisors' notice."""

import json
import secrets
import signal
import time
import urllib.parse

import harness
from fake_line import Answer, UUID_RE, tracking_codes, visible_text, webhook_body
from harness import wait_until
from test_dispatch_deadlines import Gateway
from test_events import Stream
from test_line_chat import TEAMS, ChatHelpers

CLOSED_TH = 'เจ้าหน้าที่จบการสนทนาแล้วค่ะ'
CLOSED_EN = 'The operator has ended the chat.'
THAI_CHAR = 'ก'  # one UTF-16 unit
EMOJI = '\U0001F600'  # two UTF-16 units


def path(case_id, what):
    return '/v1/cases/%s/chat/%s' % (urllib.parse.quote(case_id, safe=''), what)


class HandoffHelpers(ChatHelpers):
    """What the operator-side tests share (no tests of their own)."""

    def take(self, case_id, token=None):
        return self.env.http('POST', path(case_id, 'take'),
                             token=self.env.operator_token if token is None else token)

    def write(self, case_id, body, token=None):
        """POSTs body (a dict, or {"text": body} for a string) to chat/messages; a string is
        noted as personal data."""
        if isinstance(body, str):
            self.env.note_pii(body)
            body = {'text': body}
        return self.env.http('POST', path(case_id, 'messages'), body,
                             token=self.env.operator_token if token is None else token)

    def close(self, case_id, token=None):
        return self.env.http('POST', path(case_id, 'close'),
                             token=self.env.operator_token if token is None else token)

    def pushes_to(self, user):
        return [r for r in self.fake.pushes() if r.to == user.user_id]

    def wait_push(self, user, text, n=1, timeout=10.0):
        """The first n accepted pushes to user whose visible text contains text."""
        return self.fake.wait_for(
            lambda reqs: (lambda got: got if len(got) >= n else None)(
                [r for r in reqs if r.endpoint == 'push' and r.to == user.user_id and r.ok
                 and text in visible_text(r.messages)]),
            timeout, 'a push to the user with %r' % text[:60])

    def assertChat(self, answer, chat, operator=None, msg=''):
        self.assertEqual(set(answer), {'case_id', 'tracking_code', 'chat', 'chat_since',
                                       'chat_operator', 'chat_escalated'}, msg)
        self.assertEqual((answer['chat'], answer['chat_operator']), (chat, operator),
                         '%s: %r' % (msg, answer))

    def log_text(self):
        """The whole case log (XRANGE), as text."""
        return json.dumps(self.env.redis.command('XRANGE', self.env.prefix + 'log', '-', '+'),
                          default=lambda b: b.decode('utf-8', 'replace'), ensure_ascii=False)

    def assertNowhere(self, texts, case, extra=()):
        """No text of texts in the case log, the lists, the public view, the tracking page, the
        case's own view (the conversation is not in it) or extra (strings)."""
        code = case['tracking_code']
        places = {'the case log': self.log_text()}
        for q in ('', '?chat=waiting', '?chat=open'):
            r = self.env.http('GET', '/v1/cases' + q, token=self.env.operator_token)
            places['GET /v1/cases' + q] = r.raw.decode('utf-8')
        places['GET /v1/track'] = self.env.track(code).raw.decode('utf-8')
        places['the tracking page'] = self.env.http('GET', '/track/' + code).raw.decode('utf-8')
        places['GET /v1/cases/{id}'] = self.env.get_case(
            case['case_id'], token=self.env.operator_token).raw.decode('utf-8')
        for i, s in enumerate(extra):
            places['extra %d' % i] = s
        for where, s in places.items():
            for t in texts:
                for form in (t, json.dumps(t)[1:-1]):
                    self.assertNotIn(form, s, '%s holds a chat text' % where)


class HandoffTest(HandoffHelpers):

    def handoff(self, lang):
        """The whole hand-off in lang: asked, taken, messages both ways in order (the console
        told each time, with no text), closed, and the bot again."""
        env = self.env
        stream = Stream(env.router.port, env.operator_token)
        self.addCleanup(stream.close)
        self.assertEqual(stream.wait_status(), 200)
        user = self.new_user(lang=lang)
        case = self.ask_after_report(user)
        cid, code = case['case_id'], case['tracking_code']

        # 1. The console hears of the waiting chat.
        stream.wait(lambda s: any(e.get('event') == 'case' and
                                  json.loads(e['data']).get('case_id') == cid and
                                  json.loads(e['data']).get('chat') == 'waiting'
                                  for e in s.events), what='event: case with chat waiting')

        # 2. op1 takes it.
        r = self.take(cid)
        self.assertStatus(r, 200, 'take')
        self.assertChat(r.body, 'open', env.operator_id, 'take')
        self.assertEqual((r.body['case_id'], r.body['tracking_code']), (cid, code))
        self.assertIsInstance(r.body['chat_since'], str)
        listed = env.http('GET', '/v1/cases?chat=open', token=env.operator_token).body['cases']
        self.assertEqual([c['case_id'] for c in listed], [cid])
        self.assertEqual(listed[0]['chat_operator'], env.operator_id)

        # 3. The reporter writes three texts: three `event: chat`, seq 1..3, no text.
        texts = ['ฉันกลัวมาก เขายังอยู่ในบ้าน %s' % secrets.token_hex(4) if lang == 'th'
                 else 'I am scared, he is still home %s' % secrets.token_hex(4) for _ in range(3)]
        mine = [self.said(user, t) for t in texts]
        for e in mine:
            self.deliver(e)

        def chat_events(s):
            return [json.loads(e['data']) for e in s.events if e.get('event') == 'chat'
                    and json.loads(e['data']).get('case_id') == cid]
        stream.wait(lambda s: len(chat_events(s)) >= 3, what='three event: chat')
        got = chat_events(stream)
        self.assertEqual([(e['seq'], e['author'], e['by']) for e in got],
                         [(n, 'reporter', 'reporter') for n in (1, 2, 3)])
        for e in got:
            self.assertEqual(set(e), {'case_id', 'tracking_code', 'seq', 'author', 'by', 'at'}, e)
            self.assertEqual(e['tracking_code'], code)
            self.assertTime(e['at'])

        # 4. op1 answers twice: two pushes with the texts, each under its own UUID retry key.
        answers = ['เจ้าหน้าที่อยู่ตรงนี้แล้วนะคะ %s' % secrets.token_hex(4),
                   'คุณปลอดภัยไหมคะ ตอนนี้อยู่ห้องไหน %s' % secrets.token_hex(4)]
        if lang == 'en':
            answers = ['I am here with you %s' % secrets.token_hex(4),
                       'Are you safe right now? %s' % secrets.token_hex(4)]
        for n, a in enumerate(answers, start=4):
            r = self.write(cid, a)
            self.assertStatus(r, 201, 'write')
            self.assertEqual((r.body['seq'], r.body['author'], r.body['by'], r.body['text']),
                             (n, 'operator', env.operator_id, a))
            self.assertTime(r.body['at'])
        pushed = [self.wait_push(user, a)[0] for a in answers]
        for p, a in zip(pushed, answers):
            self.assertEqual(p.messages, [{'type': 'text', 'text': a}])
            self.assertRegex(p.retry_key, UUID_RE)
        self.assertNotEqual(pushed[0].retry_key, pushed[1].retry_key)
        stream.wait(lambda s: len(chat_events(s)) >= 5, what='the operator messages as events')
        self.assertEqual([(e['seq'], e['author'], e['by']) for e in chat_events(stream)[3:5]],
                         [(4, 'operator', env.operator_id), (5, 'operator', env.operator_id)])

        # 5. The reporter writes again; nothing of theirs was ever answered.
        last = self.said(user, texts[0] + ' อีกครั้ง')
        self.deliver(last)
        self.settle()
        tokens = {e.reply_token for e in mine + [last]}
        self.assertEqual([r for r in self.fake.replies() if r.reply_token in tokens], [])
        # (A push sent again under its own retry key is the outbox's at-least-once: LINE keeps
        # one. A busy machine can delay a send past its lease.)
        keys = {p.retry_key for p in pushed}
        self.assertEqual([r for r in self.pushes_to(user)
                          if r.seq > pushed[1].seq and r.retry_key not in keys], [],
                         'no push to the reporter but the operator\'s')

        # 6. The conversation, in order, with author and time; ?after= pages.
        conv = self.conversation(cid)
        self.assertEqual([(m['seq'], m['author'], m['text']) for m in conv],
                         [(1, 'reporter', texts[0]), (2, 'reporter', texts[1]),
                          (3, 'reporter', texts[2]), (4, 'operator', answers[0]),
                          (5, 'operator', answers[1]), (6, 'reporter', last.values['TEXT'])])
        for m in conv:
            self.assertTime(m['at'])
            self.assertEqual(m['by'], 'reporter' if m['author'] == 'reporter'
                             else env.operator_id)
        r = self.messages(cid, query='?after=2&limit=3')
        self.assertStatus(r, 200)
        self.assertEqual([m['seq'] for m in r.body['messages']], [3, 4, 5])
        self.assertEqual(r.body['next_after'], 5)
        r = self.messages(cid, query='?after=5')
        self.assertEqual(([m['seq'] for m in r.body['messages']], r.body['next_after']), ([6], None))

        # 7. op1 closes: the closing line in the reporter's language; the bot answers again, and
        # a later text is a note on the case, not the chat.
        r = self.close(cid)
        self.assertStatus(r, 200, 'close')
        self.assertChat(r.body, 'closed', env.operator_id, 'close')
        closing = self.wait_push(user, CLOSED_EN if lang == 'en' else CLOSED_TH)[0]
        self.assertLang(closing.messages, lang, msg='the closing line')
        self.assertIn('status', [a.get('data') for m in closing.messages
                                 for a in [i['action'] for i in m['quickReply']['items']]])
        self.assertEqual(env.http('GET', '/v1/cases?chat=open',
                                  token=env.operator_token).body['cases'], [])
        m = self.say(user.text('สถานะ' if lang == 'th' else 'status'))
        self.assertEqual(tracking_codes(m), [code], 'the bot\'s status answer')
        self.assertLang(m, lang, allowed=(TEAMS[0][4],), msg='the status answer')
        note = 'ลืมบอกว่าประตูหลังล็อก %s' % secrets.token_hex(4)
        self.env.note_pii(note)
        self.say(user.text(note))
        self.assertEqual(len(self.conversation(cid)), 6, 'nothing more in the conversation')
        view = env.case(cid)
        self.assertIn(note, [e.get('note') for e in view['timeline']])
        self.assertEqual([(e.get('event'), e.get('note'), e.get('by')) for e in view['timeline']
                          if e.get('event') == 'chat'],
                         [('chat', 'waiting', 'reporter'), ('chat', 'taken', env.operator_id),
                          ('chat', 'closed', env.operator_id)])
        self.assertEqual(view['chat'], 'closed')

        # No leaks: no text either way in the log, the stream, the lists, the public views.
        every = texts + answers + [last.values['TEXT']]
        with stream.cond:
            sse = json.dumps(stream.events, ensure_ascii=False)
        self.assertIn('"chat"', sse)
        self.assertNowhere(every, view, extra=[sse])
        self.assertNotEchoed(self.fake.replies(), every)

    def test_whole_handoff_in_thai(self):
        self.handoff('th')

    def test_whole_handoff_in_english(self):
        self.handoff('en')

    def test_two_operators_and_a_supervisor(self):
        """A second operator cannot take, write in or close a taken chat (409 chat_taken, with
        who has it); the first may take it again; a supervisor may close it. Writing before
        taking is 409 chat_not_open; a team or no token is refused; an unknown case is 404."""
        env = self.env
        op1, op2 = env.operator_tokens
        user = self.new_user()
        case = self.ask_after_report(user)
        cid = case['case_id']
        self.assertErrorBody(self.write(cid, 'ยังไม่ได้รับแชต', token=op2), 409, 'chat_not_open')
        self.assertStatus(self.take(cid, token=op1), 200)
        for r in (self.take(cid, token=op2), self.write(cid, 'แทรก', token=op2),
                  self.close(cid, token=op2)):
            self.assertErrorBody(r, 409, 'chat_taken')
            self.assertEqual(r.body['error']['operator_id'], env.operator_ids[0], r.body)
            self.assertEqual(r.body['error']['message'],
                             'Another operator is answering this chat.')
        r = self.take(cid, token=op1)
        self.assertStatus(r, 200, 'taking one\'s own chat again')
        self.assertChat(r.body, 'open', env.operator_ids[0])
        team_token = self.env.team_tokens.get(TEAMS[0][0])
        for r in (self.take(cid, token=team_token), self.close(cid, token='')):
            self.assertIn(r.status, (401, 403), r)
        for bad in ('01AAAAAAAAAAAAAAAAAAAAAAAA', 'nope'):
            self.assertErrorBody(self.take(bad), 404, 'not_found')
            self.assertErrorBody(self.write(bad, {'text': 'x'}), 404, 'not_found')
            self.assertErrorBody(self.close(bad), 404, 'not_found')
        sup = self.supervisor_token()
        r = self.close(cid, token=sup)
        self.assertStatus(r, 200, 'a supervisor closes another operator\'s chat')
        self.assertChat(r.body, 'closed', env.operator_ids[0])
        self.wait_push(user, CLOSED_TH)
        self.assertErrorBody(self.take(cid), 409, 'no_chat')
        self.assertErrorBody(self.close(cid), 409, 'no_chat')
        self.assertErrorBody(self.write(cid, 'หลังปิด'), 409, 'chat_not_open')
        timeline = env.case(cid)['timeline']
        self.assertIn(('closed', 'sup-1'), [(e.get('note'), e.get('by')) for e in timeline
                                            if e.get('event') == 'chat'])

    def test_text_limits(self):
        """2,000 characters (UTF-16 units, as LINE and the browser count) are sent whole; 2,001
        are refused with 400, never cut; blank, missing, not text, or with control characters:
        400. Nothing refused is stored or sent."""
        user = self.new_user()
        case = self.ask_after_report(user)
        cid = case['case_id']
        self.assertStatus(self.take(cid), 200)
        prefix = secrets.token_hex(4)
        longest = prefix + THAI_CHAR * (2000 - len(prefix))
        for text in (longest + THAI_CHAR, prefix + 'x' + EMOJI * 996, ' ' + longest + 'x'):
            r = self.write(cid, text)
            self.assertErrorBody(r, 400, 'invalid_field')
            self.assertEqual(r.body['error']['message'], 'text is at most 2000 characters.')
        for body, code in (({}, 'missing_field'), ({'text': None}, 'invalid_field'),
                           ({'text': 5}, 'invalid_field'), ({'text': ' \n\t '}, 'invalid_field'),
                           ({'text': 'a\x1bb'}, 'invalid_field'),
                           ({'text': 'x' * 8001}, 'invalid_field')):
            self.assertErrorBody(self.write(cid, body), 400, code)
        self.assertErrorBody(self.env.http('POST', path(cid, 'messages'), b'not json',
                                           token=self.env.operator_token), 400)
        self.assertEqual(self.conversation(cid), [], 'nothing refused was stored')
        r = self.write(cid, '  ' + longest + '\n')
        self.assertStatus(r, 201, '2,000 characters')
        self.assertEqual(r.body['text'], longest, 'trimmed, not cut')
        emoji = prefix + EMOJI * 996  # 1,004 code points, 8 + 1,992 = 2,000 UTF-16 units
        r = self.write(cid, emoji)
        self.assertStatus(r, 201, '2,000 UTF-16 units of emoji')
        for text in (longest, emoji):
            p = self.wait_push(user, text)[0]
            self.assertEqual(p.messages, [{'type': 'text', 'text': text}], 'the push is whole')
        self.assertEqual([m['text'] for m in self.conversation(cid)], [longest, emoji])

    def test_closing_the_case_ends_the_chat(self):
        """A resolved case keeps its chat; closing the case closes the chat, with the closing
        line, and the bot answers again. Any operator may close a waiting chat."""
        env = self.env
        user = self.new_user()
        case = self.ask_after_report(user)
        cid = case['case_id']
        self.assertStatus(self.take(cid), 200)
        self.assertStatus(env.set_status(cid, 'resolved'), 200, 'resolve')
        self.assertEqual(env.case(cid)['chat'], 'open', 'a resolved case keeps its chat')
        self.assertStatus(env.set_status(cid, 'closed'), 200, 'close the case')
        view = env.case(cid)
        self.assertEqual((view['status'], view['chat']), ('closed', 'closed'), view)
        self.assertIn(('chat', 'closed'), [(e.get('event'), e.get('note'))
                                           for e in view['timeline']])
        self.assertEqual(len(self.wait_push(user, CLOSED_TH)), 1)
        e = self.said(user, 'ยังอยู่ไหมคะ %s' % secrets.token_hex(3))
        self.deliver(e)
        self.fake.wait_reply(e)  # the bot answers again
        self.assertEqual(self.conversation(cid), [])
        # A waiting chat: any operator closes it.
        other = self.new_user()
        self.say(other.text('สวัสดีค่ะ'))
        m = self.say(other.text('ขอคุยกับเจ้าหน้าที่'))
        c2 = self.case_by_code(tracking_codes(m)[0])
        r = self.close(c2['case_id'], token=env.operator_tokens[1])
        self.assertStatus(r, 200, 'another operator closes a waiting chat')
        self.assertChat(r.body, 'closed', None)
        self.wait_push(other, CLOSED_TH)


class HandoffRestartTest(HandoffHelpers):
    """The router stops mid-chat while an operator's message is being pushed: nothing is lost,
    nothing sent twice (the outbox sends it again after its lease, under the same retry key,
    which LINE answers 409: delivered)."""

    def restart_mid_push(self, sig):
        env = self.env
        user = self.new_user()
        case = self.ask_after_report(user)
        cid = case['case_id']
        self.assertStatus(self.take(cid), 200)
        first = self.said(user, 'ก่อนหยุด %s' % secrets.token_hex(4))
        self.deliver(first)
        text = 'ข้อความระหว่างรีสตาร์ต %s' % secrets.token_hex(4)
        self.fake.script('push', Answer(200, delay=3))  # accepted at once, answered late
        self.assertStatus(self.write(cid, text), 201)
        sent = self.fake.wait_for(lambda reqs: [r for r in reqs if r.endpoint == 'push'
                                                and text in visible_text(r.messages)],
                                  message='the push before the restart')[0]
        env.router.stop(sig)
        while_down = self.said(user, 'ระหว่างระบบหยุด %s' % secrets.token_hex(4))
        with self.assertRaises(OSError):
            self.post_webhook(webhook_body([while_down]), timeout=2.0)
        env.router.start()
        self.deliver(while_down)  # LINE delivers it again
        again = self.fake.wait_for(
            lambda reqs: [r for r in reqs if r.endpoint == 'push' and r.seq > sent.seq
                          and text in visible_text(r.messages)],
            timeout=40.0, message='the push sent again after the lease')[0]
        self.assertEqual(again.retry_key, sent.retry_key, 'the same retry key')
        self.assertEqual(again.status, 409, 'LINE knows the key')
        time.sleep(1.0)
        mine = [r for r in self.fake.pushes() if text in visible_text(r.messages)]
        self.assertEqual(len([r for r in mine if r.ok]), 1, 'exactly one push delivered')
        self.assertEqual([m['text'] for m in self.conversation(cid)],
                         [first.values['TEXT'], text, while_down.values['TEXT']])
        view = env.case(cid)
        self.assertEqual((view['chat'], view['chat_operator']), ('open', env.operator_id))
        wait_until(lambda: self.env.redis.command('ZCARD', env.prefix + 'outbox:due') == 0, 10,
                   0.1, 'the outbox empty (the push counted as delivered)')

    def test_sigterm_mid_push(self):
        self.restart_mid_push(signal.SIGTERM)

    def test_sigkill_mid_push(self):
        self.restart_mid_push(signal.SIGKILL)


class ChatWaitTest(HandoffHelpers):
    """ESS_CHAT_WAIT_S: a chat nobody takes in time is escalated to the supervisors once (the
    notice, chat_escalated, a timeline entry), the case keeping its status and team; a chat
    taken in time never is."""

    WAIT_S = 2

    def setUp(self):
        self.gw = Gateway()
        self.addCleanup(self.gw.close)
        self.env_options = {'extra_env': {'ESS_CHAT_WAIT_S': str(self.WAIT_S),
                                          'ESS_SUPERVISOR_WEBHOOK': self.gw.url('/supervisor')}}
        super().setUp()

    def notices(self):
        return [json.loads(r['body']) for r in self.gw.received('/supervisor')]

    def test_the_wait_runs_out(self):
        env = self.env
        user = self.new_user()
        case = self.ask_after_report(user)
        cid = case['case_id']
        secret = self.said(user, 'ช่วยด้วย ไม่มีใครตอบเลย %s' % secrets.token_hex(4))
        self.deliver(secret)
        notes = wait_until(lambda: self.notices(), 15, 0.05, 'the supervisors\' notice')
        self.assertEqual(len(notes), 1, notes)
        self.assertEqual((notes[0]['event'], notes[0]['reason'], notes[0]['case_id']),
                         ('escalation', 'chat_wait', cid))
        view = env.case(cid)
        self.assertTrue(view['chat_escalated'], view)
        self.assertEqual(view['chat'], 'waiting')
        self.assertEqual((view['status'], view['team']['id'] if view['team'] else None),
                         (case['status'], case['team']['id'] if case['team'] else None),
                         'the case keeps its status and team')
        self.assertEqual([(e.get('note'), e.get('by')) for e in view['timeline']
                          if e.get('event') == 'chat'],
                         [('waiting', 'reporter'), ('escalated', 'router')])
        listed = env.http('GET', '/v1/cases?chat=waiting', token=env.operator_token).body
        self.assertTrue(listed['cases'][0]['chat_escalated'])
        time.sleep(self.WAIT_S + 1.5)  # more sweeps: still one notice
        self.assertEqual(len(self.notices()), 1, 'escalated exactly once')
        # Taken late, it is a normal chat.
        r = self.take(cid)
        self.assertStatus(r, 200)
        self.assertTrue(r.body['chat_escalated'])
        self.assertNowhere([secret.values['TEXT']], view,
                           extra=[r['body'].decode('utf-8') for r in self.gw.received()])

    def test_a_chat_taken_in_time_is_never_escalated(self):
        env = self.env
        user = self.new_user()
        case = self.ask_after_report(user)
        self.assertStatus(self.take(case['case_id']), 200)
        time.sleep(self.WAIT_S + 2.0)
        self.assertEqual(self.notices(), [])
        view = env.case(case['case_id'])
        self.assertFalse(view['chat_escalated'])
        self.assertNotIn('escalated', [e.get('note') for e in view['timeline']
                                       if e.get('event') == 'chat'])


if __name__ == '__main__':
    harness.main()
