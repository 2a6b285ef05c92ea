"""Talking to a person from LINE (DESIGN.md, "Talking to a person"), step one: "คุยกับเจ้าหน้าที่" /
"talk to a person" (the words at any time, or the button after the tracking code) opens a chat on
the reporter's case (made first, "other" when no category was chosen, when the report was not
finished), chat "waiting", and the reporter is told once that a person will answer. While the
chat waits, everything the reporter sends is stored once, in order, in the case's conversation
(GET /v1/cases/{id}/chat/messages), never answered and never echoed, and no chat text reaches
the case log, the public view, the case view or the router's log."""

import json
import secrets
import threading
import urllib.parse

import harness
from fake_line import LineTest, postbacks, tracking_codes, visible_text

TEAMS = [('bkk-sw', 0.7, 20, ['social_worker', 'police'], 'ทีมสหวิชาชีพ บางรัก')]
WAITING_TH = 'เจ้าหน้าที่จะตอบคุณในแชตนี้'
WAITING_EN = 'a person will answer you here shortly'


class ChatHelpers(LineTest):
    """What the chat tests share (no tests of its own)."""

    def messages(self, case_id, token=None, query=''):
        return self.env.http('GET', '/v1/cases/%s/chat/messages%s'
                             % (urllib.parse.quote(case_id, safe=''), query),
                             token=self.env.operator_token if token is None else token)

    def conversation(self, case_id):
        r = self.messages(case_id)
        self.assertStatus(r, 200, 'GET chat/messages')
        return r.body['messages']

    def only_case(self):
        cases = self.env.list_cases()
        self.assertEqual(len(cases), 1, 'one case: %r' % cases)
        return self.env.case(cases[0]['case_id'])

    def said(self, user, text):
        """A chat text the user sends: unique, noted as personal data."""
        self.env.note_pii(text)
        return user.text(text)

    def ask_after_report(self, user):
        self.put_teams(TEAMS)
        code = self.report(user, 'detention', self.new_place(), team_name=TEAMS[0][4])
        m = self.say(user.postback('talk'))
        want = WAITING_EN if user.lang == 'en' else WAITING_TH
        self.assertIn(want, visible_text(m), m)
        self.assertEqual(tracking_codes(m), [code], m)
        self.assertLang(m, user.lang, msg='the waiting line')
        case = self.only_case()
        self.assertEqual(case['tracking_code'], code)
        return case


class LineChatTest(ChatHelpers):

    def test_ask_after_the_code(self):
        """The question after the code offers the button; tapping it opens a waiting chat on that
        case (its time, a timeline entry), says so once, and makes no other case."""
        user = self.new_user()
        case = self.ask_after_report(user)
        self.assertEqual(case['chat'], 'waiting', case)
        self.assertIsInstance(case['chat_since'], str, case)
        self.assertIsNone(case['chat_operator'])
        self.assertFalse(case['chat_escalated'])
        self.assertIn(('chat', 'waiting'),
                      [(e.get('event'), e.get('note')) for e in case['timeline']], case)
        summary = self.env.list_cases()[0]
        self.assertEqual(summary['chat'], 'waiting', summary)
        r = self.env.http('GET', '/v1/cases?chat=waiting', token=self.env.operator_token)
        self.assertStatus(r, 200)
        self.assertEqual([c['case_id'] for c in r.body['cases']], [case['case_id']])
        self.assertIsInstance(r.body['cases'][0]['chat_since'], str)
        r = self.env.http('GET', '/v1/cases?chat=open', token=self.env.operator_token)
        self.assertEqual(r.body['cases'], [], r)
        r = self.env.http('GET', '/v1/cases?chat=closed', token=self.env.operator_token)
        self.assertStatus(r, 400)
        r = self.messages(case['case_id'])
        self.assertStatus(r, 200)
        self.assertEqual(r.body['messages'], [])
        self.assertEqual(r.body['chat'], 'waiting')
        # Told once: the next texts get no answer, and are the conversation, in order.
        texts = ['ช่วยด้วยค่ะ %s' % secrets.token_hex(4) for _ in range(3)]
        events = [self.said(user, t) for t in texts]
        for e in events:
            self.deliver(e)
        self.assertNothingSentFor(events)
        conv = self.conversation(case['case_id'])
        self.assertEqual([m['text'] for m in conv], texts)
        self.assertEqual([m['seq'] for m in conv], [1, 2, 3])
        for m in conv:
            self.assertEqual((m['author'], m['by']), ('reporter', 'reporter'), m)
            self.assertIsInstance(m['at'], str, m)
            self.assertIsInstance(m['sent_at'], str, m)
        self.assertEqual(len(self.env.list_cases()), 1)

    def test_ask_in_english(self):
        user = self.new_user(lang='en')
        self.env.note_pii('Hi, I need to report something')
        case = self.ask_after_report(user)
        self.assertEqual(case['chat'], 'waiting')

    def test_words_mid_report(self):
        """After the category, the words make that category's case (no location) with the code
        and the waiting line; idle with no case, or at the confirmation, the case is "other"."""
        self.put_teams(TEAMS)
        user = self.new_user()
        self.say(user.text('สวัสดีค่ะ'))
        self.say(user.postback('cat=detention'))
        m = self.say(user.text('คุยกับเจ้าหน้าที่ค่ะ'))
        codes = tracking_codes(m)
        self.assertEqual(len(codes), 1, m)
        self.assertIn(WAITING_TH, visible_text(m))
        case = self.only_case()
        self.assertEqual((case['category'], case['queue_reason'], case['chat']),
                         ('detention', 'no_location', 'waiting'), case)
        for first in (None, 'พ่อเมาแล้วทุบตีแม่ ตอนนี้ยังตีอยู่ %s' % secrets.token_hex(3)):
            u = self.new_user()
            if first is not None:
                self.env.note_pii(first)
                self.say(u.text(first))
            m = self.say(u.text('คุยกับเจ้าหน้าที่'))
            self.assertIn(WAITING_TH, visible_text(m))
            if first is not None:
                self.assertNotEchoed([m], [first])
            code = tracking_codes(m)[0]
            c = self.case_by_code(code)
            self.assertEqual((c['category'], c['chat']), ('other', 'waiting'), c)
            if first is not None:
                self.assertEqual(c['description'], first)

    def test_fast_reporter(self):
        """Ten texts in one webhook out of timestamp order are stored in timestamp order; ten
        webhooks one after another in order; a redelivery adds nothing; two webhooks at once
        store each message once, each webhook's in order."""
        user = self.new_user()
        self.say(user.text('สวัสดีค่ะ'))
        m = self.say(user.text('ขอคุยกับเจ้าหน้าที่'))
        case_id = self.case_by_code(tracking_codes(m)[0])['case_id']
        batch = [self.said(user, 'one-%02d-%s' % (i, secrets.token_hex(3))) for i in range(10)]
        self.deliver(*reversed(batch))
        later = [self.said(user, 'two-%02d-%s' % (i, secrets.token_hex(3))) for i in range(10)]
        for e in later:
            self.deliver(e)
        self.deliver(later[4].redelivered())
        want = [e.values['TEXT'] for e in batch + later]
        conv = self.conversation(case_id)
        self.assertEqual([m['text'] for m in conv], want)
        self.assertEqual([m['seq'] for m in conv], list(range(1, 21)))
        a = [self.said(user, 'a-%d-%s' % (i, secrets.token_hex(3))) for i in range(5)]
        b = [self.said(user, 'b-%d-%s' % (i, secrets.token_hex(3))) for i in range(5)]
        threads = [threading.Thread(target=self.deliver, args=tuple(x)) for x in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        texts = [m['text'] for m in self.conversation(case_id)][20:]
        self.assertEqual(sorted(texts), sorted(e.values['TEXT'] for e in a + b))
        for group in (a, b):
            mine = [t for t in texts if t in {e.values['TEXT'] for e in group}]
            self.assertEqual(mine, [e.values['TEXT'] for e in group])
        self.assertNothingSentFor(batch + later + a + b)

    def test_media_and_privacy(self):
        """A sticker is "[sticker]", an image "[image]", neither answered; no chat text in the
        case log, the public view, the case view, or sent back."""
        self.put_teams(TEAMS)
        user = self.new_user()
        case = self.ask_after_report(user)
        secret_text = 'ความลับ %s' % secrets.token_hex(6)
        events = [user.sticker(), user.media('image'), self.said(user, secret_text)]
        for e in events:
            self.deliver(e)
        self.assertNothingSentFor(events)
        conv = self.conversation(case['case_id'])
        self.assertEqual([m['text'] for m in conv], ['[sticker]', '[image]', secret_text])
        log = json.dumps(self.env.redis.command('XRANGE', self.env.prefix + 'log', '-', '+'),
                         default=lambda b: b.decode('utf-8', 'replace'), ensure_ascii=False)
        self.assertNotIn(secret_text, log)
        self.assertIn('chat_message', log)
        track = self.env.track(case['tracking_code'])
        self.assertNotIn(secret_text, track.raw.decode('utf-8'))
        self.assertNotIn(secret_text, self.env.get_case(case['case_id'],
                                                        token=self.env.operator_token).raw
                         .decode('utf-8'))
        self.assertNotEchoed(self.fake.requests(), [secret_text])

    def test_access(self):
        """Operators read the conversation; a team (even the holding one) is refused, and no
        token is 401; an unknown case 404, a bad query 400."""
        tokens = self.put_teams(TEAMS)
        user = self.new_user()
        code = self.report(user, 'detention', self.new_place())
        self.say(user.postback('talk'))
        case = self.case_by_code(code)
        self.assertEqual(case['team']['id'], 'bkk-sw', case)
        self.assertStatus(self.messages(case['case_id'], token=tokens['bkk-sw']), 403)
        self.assertStatus(self.messages(case['case_id'], token=''), 401)
        self.assertStatus(self.messages('nope'), 404)
        self.assertStatus(self.messages(case['case_id'], query='?limit=0'), 400)
        self.assertStatus(self.messages(case['case_id'], query='?after=x'), 400)


if __name__ == '__main__':
    harness.main()
