"""No LINE report is lost: the case is created the moment the bot has a category and a location,
so a reporter who goes silent after sending the location has one; a report left after the
category, before any location, becomes a queued case (queue_reason "no_location") after
ESS_LINE_ABANDON_S (1 s here) and the reporter is told its code; the answer to "anything else?"
is a reporter note on the case, for operators and the team, never public. The abandon timer lives
in Redis, so a location racing it still gives one case."""

import threading
import time

import harness
from harness import wait_until
from fake_line import LineTest, tracking_codes, visible_text, webhook_body

ABANDON_S = 1
TEAM = ('bkk-near', 0.5, 90, ['police', 'social_worker'], 'ทีมสหวิชาชีพ เขตพระนคร')
MH_TEAM = ('bkk-mh', 1.0, 200, ['mental_health', 'police'], 'ทีมสุขภาพจิต เขตพระนคร')


class LineAbandonTest(LineTest):

    env_options = {'extra_env': {'ESS_LINE_ABANDON_S': str(ABANDON_S)}}

    def pushes_to(self, user):
        return [r for r in self.fake.pushes() if r.to == user.user_id]

    def wait_case(self, n=1):
        return wait_until(lambda: (lambda cs: cs if len(cs) >= n else None)(self.env.list_cases()),
                          harness.scaled(10), message='%d case(s)' % n)

    def test_silent_reporter_after_the_location_has_a_case(self):
        """Category, location, then nothing (no skip, no sentence): the case exists, routed, and
        stays the only one once the abandon time has passed; no "received" push follows."""
        self.put_teams([TEAM])
        u = self.new_user('th')
        self.say(u.text('สวัสดีค่ะ'))
        self.say(u.postback('cat=detention'))
        place = self.new_place()
        code = self.assertCreatedAsksMore(self.say(u.location(*place)), 'th',
                                          team_name='ทีมสหวิชาชีพ เขตพระนคร')
        case = self.case_by_code(code)
        self.assertRouted(case, 'bkk-near', place)
        time.sleep(harness.scaled(ABANDON_S + 1.5))
        self.settle()
        self.assertEqual([c['tracking_code'] for c in self.env.list_cases()], [code])
        self.assertEqual(self.pushes_to(u), [], 'a finished report is not filed again')

    def test_report_left_before_the_location_becomes_a_no_location_case(self):
        """A first message naming the danger, the category confirmed, then silence: after
        ESS_LINE_ABANDON_S a queued no_location case with the first message as its description,
        and one push to the reporter with its code. The conversation then follows that case:
        "สถานะ" finds it, a sentence is a reporter note on it, and a location sent later moves
        it there and routes it (the reporter is told whom it was passed to), with no second
        case."""
        env = self.env
        self.put_teams([TEAM, MH_TEAM])
        u = self.new_user('th')
        story = 'ไม่อยากมีชีวิตอยู่แล้ว อยากฆ่าตัวตาย %s' % harness.unique_name()
        env.note_pii(story)
        self.say(u.text(story))
        self.assertAsksLocation(self.say(u.postback('cat=mental_crisis')), 'th')
        cases = self.wait_case()
        self.assertEqual(len(cases), 1)
        self.assertEqual(cases[0]['status'], 'queued')
        self.assertEqual(cases[0]['queue_reason'], 'no_location')
        case = env.case(cases[0]['case_id'])
        self.assertEqual(case['channel'], 'line')
        self.assertEqual(case['category'], 'mental_crisis')
        self.assertIn(story, case.get('description') or '')
        self.assertIsNone(case['location']['lat'])
        push = self.fake.wait_for(lambda reqs: self.pushes_to(u) or None, 10,
                                  'the "received" push')[0]
        self.assertEqual(tracking_codes(push.messages), [case['tracking_code']])
        self.assertLang(push.messages, 'th', msg='the push')
        self.assertNotEchoed([push], [story])

        m = self.say(u.text('สถานะ'))
        self.assertIn(case['tracking_code'], visible_text(m), 'the state points at the case')
        more = 'อยู่คนเดียวในห้อง %s' % harness.unique_name()
        env.note_pii(more)
        m = self.say(u.text(more))
        self.assertEqual(tracking_codes(m), [case['tracking_code']], 'the note acknowledged')
        self.assertAsksNothingNew(m)
        lat, lon, addr = self.new_place()
        later = self.say(u.location(lat, lon, addr))
        self.assertEqual(tracking_codes(later), [case['tracking_code']],
                         'a later location answers with the same case')
        self.assertAsksNothingNew(later)
        self.assertNotEchoed([later], [addr])
        self.settle()
        self.assertEqual(len(env.list_cases()), 1, 'no second case')
        moved = env.case(case['case_id'])
        self.assertAlmostEqual(moved['location']['lat'], lat, places=6)
        self.assertAlmostEqual(moved['location']['lon'], lon, places=6)
        self.assertEqual(moved['location'].get('address'), addr)
        self.assertEqual(moved['status'], 'assigned', 'routed from its new place')
        self.assertEqual(moved['team']['id'], 'bkk-mh', 'the team with the skills')
        mine = [(e.get('event'), e.get('note')) for e in moved['timeline']
                if e.get('by') == 'reporter']
        self.assertEqual(mine[0], ('note', more), mine)
        self.assertEqual(mine[1][0], 'location', mine)
        self.assertIn(addr, mine[1][1], 'the place on the timeline')
        told = self.fake.wait_for(lambda reqs: (lambda ps: ps if len(ps) >= 2 else None)(
            self.pushes_to(u)), 10, 'the "passed to" push')
        self.assertEqual(len(told), 2, 'the "received" push and the assignment')
        self.assertIn('ทีมสุขภาพจิต เขตพระนคร', visible_text(told[1].messages))
        self.assertNotEchoed(told, [story, more, addr])

    def test_abandoned_report_survives_a_restart_and_is_told_in_english(self):
        """The timer is in Redis: the router stops before the report is due and a fresh one files
        it; the push is in the reporter's language."""
        u = self.new_user('en')
        self.say(u.text('Hi, I need to report something'))
        self.say(u.postback('cat=threat'))
        self.say(u.postback('address'))  # then never types it
        self.env.router.stop()
        time.sleep(harness.scaled(ABANDON_S + 0.5))  # due while no router runs
        self.env.router.start()
        push = self.fake.wait_for(lambda reqs: self.pushes_to(u) or None, 10,
                                  'the "received" push')[0]
        self.assertLang(push.messages, 'en', msg='the English push')
        cases = self.env.list_cases()
        self.assertEqual([c['queue_reason'] for c in cases], ['no_location'])
        self.assertEqual(tracking_codes(push.messages), [cases[0]['tracking_code']])

    def test_anything_else_is_a_reporter_note_never_public(self):
        """The sentence after the code: on the timeline by "reporter" for the operator and the
        team holding the case; not in GET /v1/track; not in the case log."""
        env = self.env
        tokens = self.put_teams([TEAM])
        u = self.new_user('th')
        note = 'เขาเพิ่งกลับมาและกำลังตะโกน ประตูห้อง %s' % harness.unique_name()
        code = self.report(u, 'threat', self.new_place(), details=note)
        case = self.case_by_code(code)
        for who, token in (('operator', None), ('team', tokens['bkk-near'])):
            r = env.get_case(case['case_id'], token=token)
            self.assertStatus(r, 200, 'GET /v1/cases/{id} as the %s' % who)
            notes = [e for e in r.body['timeline'] if e.get('by') == 'reporter']
            self.assertEqual([e.get('note') for e in notes], [note], '%s view: %r' % (who, notes))
        r = env.track(code)
        self.assertStatus(r, 200)
        self.assertNotIn(note, r.raw.decode('utf-8'), 'the note in the public view')
        self.assertEqual(len(env.list_cases()), 1, 'the note made no case')
        log = env.redis.command('XRANGE', env.prefix + 'log', '-', '+')
        self.assertNotIn(note, repr(log), 'the note in the case log')
        # The same store function on its own (for notes that come later).
        more = 'อีกข้อความหนึ่ง %s' % harness.unique_name()
        env.note_pii(more)
        env.redis.command('FCALL', 'ess_case_note', '0', env.prefix, case['case_id'], more)
        notes = [e.get('note') for e in env.case(case['case_id'])['timeline']
                 if e.get('by') == 'reporter']
        self.assertEqual(notes, [note, more], 'ess_case_note appends a reporter note')

    def assertAsksNothingNew(self, messages):
        self.assertNotIn('cat=threat', str(messages), 'a new report was started: %r' % messages)
        self.assertIn('newreport', str(messages), 'a "New report" button: %r' % messages)

    def location_held_at(self, hold, category, waiting):
        """A report up to its category, then its location sent to a second router whose Redis
        commands are held at a proxy from the first one naming hold on; waiting() returns once
        the race under test has happened, then the proxy lets go, and the held webhook must get
        its 200. Returns (the user, the location event, its place)."""
        env = self.env
        proxy = harness.RedisProxy(env.redis.port)
        self.addCleanup(proxy.close)
        held = env.add_router(name='router-held', extra_env={'ESS_REDIS_URL': proxy.url})
        self.put_teams([TEAM])
        u = self.new_user('th')
        self.say(u.text('สวัสดีค่ะ'))
        self.say(u.postback('cat=' + category))
        place = self.new_place()
        loc = u.location(*place)
        proxy.hold_commands(hold)
        answers = []
        t = threading.Thread(target=lambda: answers.append(
            self.post_webhook(webhook_body([loc]), router=held, timeout=harness.scaled(30))))
        t.start()
        wait_until(proxy.holding, harness.scaled(10), message='the location held at %s' % hold)
        waiting(u)
        proxy.release()
        t.join(harness.scaled(30))
        # (held on purpose past LINE's 2 s: only the answer itself is checked)
        self.assertEqual([(a.status, a.body) for a in answers], [(200, {})], 'the held location')
        return u, loc, place

    def test_location_after_the_timer_filed_the_report_moves_the_case(self):
        """The location was being handled (its case creation held at a proxy) when the timer
        filed the report without it: the location is not lost, the case moves there and is
        routed, and it stays one case."""
        env = self.env
        u, loc, (lat, lon, addr) = self.location_held_at(
            'ess_case_create', 'detention',
            lambda u: self.fake.wait_for(lambda reqs: self.pushes_to(u) or None, 10,
                                         'the timer filed the report and told the reporter'))
        m = self.fake.wait_reply(loc).messages
        cases = env.list_cases()
        self.assertEqual(len(cases), 1, 'one case')
        self.assertEqual(tracking_codes(m), [cases[0]['tracking_code']], m)
        case = env.case(cases[0]['case_id'])
        self.assertAlmostEqual(case['location']['lat'], lat, places=6)
        self.assertEqual((case['status'], case['team']['id']), ('assigned', 'bkk-near'))

    def test_location_racing_the_abandon_timer_gives_one_case(self):
        """The location creates the case on one router and waits to store the conversation; the
        abandon timer fires meanwhile and files the same report (its id is the call_id): one
        case, with the location, and the reporter gets the code once, in the reply."""
        env = self.env
        key = env.prefix + 'line:abandon'
        u, loc, (lat, lon, addr) = self.location_held_at(
            'ess_line_commit', 'threat',
            lambda u: wait_until(lambda: env.redis.command('ZCARD', key) == 0,
                                 harness.scaled(10), message='the abandon timer filed the report'))
        code = self.assertCreatedAsksMore(self.fake.wait_reply(loc).messages, 'th')
        self.settle()
        cases = env.list_cases()
        self.assertEqual([c['tracking_code'] for c in cases], [code], 'one case')
        case = env.case(cases[0]['case_id'])
        self.assertAlmostEqual(case['location']['lat'], lat, places=6)
        self.assertEqual(self.pushes_to(u), [], 'the timer did not create it: no push')

if __name__ == '__main__':
    harness.main()
