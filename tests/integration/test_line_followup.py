"""Issue 8, items 2 and 6: after the report, the reporter is still talking about it. While their
last case is open, a text is a reporter note on that case (the operators' timeline, never the
public view), the team is not dispatched again, the answer offers "New report", which starts one;
once the case is resolved, text starts a new report. Media messages are acknowledged and noted
("[image] id …")."""

import harness
from fake_line import LineTest, postbacks, tracking_codes

POLICE_SW = ['police', 'social_worker']
TEAMS = [('bkk-near', 2.0, 110, POLICE_SW, 'ทีมสหวิชาชีพ เขตพระนคร')]


class LineFollowUpTest(LineTest):

    def reporter_notes(self, code):
        case = self.case_by_code(code)
        return [e.get('note') for e in case['timeline'] if e.get('by') == 'reporter']

    def reported_case(self):
        """The teams put, a Thai reporter's whole detention report: (team tokens, the user, the
        tracking code, the case)."""
        tokens = self.put_teams(TEAMS)
        u = self.new_user('th')
        code = self.report(u, 'detention', self.new_place(), team_name='ทีมสหวิชาชีพ เขตพระนคร')
        return tokens, u, code, self.case_by_code(code)

    def not_notes(self, code):
        case = self.case_by_code(code)
        return [(e.get('status'), e.get('at')) for e in case['timeline']
                if e.get('by') != 'reporter']

    def test_follow_up_text_media_new_report(self):
        env = self.env
        tokens, u, code, case = self.reported_case()
        before = self.not_notes(code)
        ncases = len(env.list_cases())

        words = 'เขากลับมาแล้ว ตะโกนเสียงดัง พวกเรากลัวมาก'
        env.note_pii(words)
        m = self.say(u.text(words))
        self.assertEqual(tracking_codes(m), [code], 'the answer names the open case: %r' % m)
        self.assertIn('newreport', postbacks(m, quick_only=True), 'a "New report" button')
        self.assertNotIn(words, str(m), 'the words are not echoed')
        self.assertEqual(self.reporter_notes(code), [words], 'the text is a reporter note')
        self.assertEqual(len(env.list_cases()), ncases, 'no new case')
        self.assertEqual(self.not_notes(code), before, 'the team is not dispatched again')
        r = env.http('GET', '/v1/track/%s' % code)
        self.assertNotIn(words, r.raw.decode('utf-8'), 'the note in the public view')

        # A status command still works while following.
        m = self.say(u.text('สถานะ'))
        self.assertEqual(tracking_codes(m), [code])
        self.assertEqual(self.reporter_notes(code), [words], '"status" is not a note')

        # An image: acknowledged, noted with LINE's message id.
        m = self.say(u.media('image', MESSAGE_ID='478012345678'))
        self.assertEqual(tracking_codes(m), [code], 'the image acknowledged: %r' % m)
        self.assertEqual(self.reporter_notes(code), [words, '[image] id 478012345678'])
        self.assertEqual(self.not_notes(code), before, 'the team is not dispatched again')

        # "New report": a new one begins; the open case hears no more.
        m = self.say(u.postback('newreport'))
        self.assertAsksCategory(m, 'th', '"New report"')
        self.assertEqual(len(self.reporter_notes(code)), 2)
        del case, tokens

    def test_new_location_moves_the_assigned_case_without_a_new_dispatch(self):
        """A location sent while the case is with a team: the case's place is the new one (the
        team reads it in its view of the case, with the distance measured again), the timeline
        has it by "reporter", the team keeps the case and is not dispatched again, and the
        answer names the case and offers "New report" without repeating the address."""
        env = self.env
        tokens, u, code, case = self.reported_case()
        before = self.not_notes(code)
        lat, lon, addr = self.new_place(origin=harness.destination(*harness.BKK, 0, 3.0))
        m = self.say(u.location(lat, lon, addr))
        self.assertEqual(tracking_codes(m), [code], m)
        self.assertIn('newreport', postbacks(m, quick_only=True))
        self.assertNotIn(addr, str(m), 'the address is not echoed')
        r = env.get_case(case['case_id'], token=tokens['bkk-near'])
        self.assertStatus(r, 200)
        moved = r.body
        self.assertAlmostEqual(moved['location']['lat'], lat, places=6)
        self.assertAlmostEqual(moved['location']['lon'], lon, places=6)
        self.assertEqual(moved['location'].get('address'), addr)
        self.assertEqual((moved['status'], moved['team']['id']), ('assigned', 'bkk-near'))
        self.assertGreater(moved['team']['distance_km'], case['team']['distance_km'] + 1,
                           'the distance measured from the new place')
        self.assertEqual(self.not_notes(code), before, 'no status change, no second dispatch')
        mine = [(e.get('event'), e.get('note')) for e in moved['timeline']
                if e.get('by') == 'reporter']
        self.assertEqual(len(mine), 1, mine)
        self.assertEqual(mine[0][0], 'location')
        self.assertIn(addr, mine[0][1])
        self.assertEqual(len(env.list_cases()), 1, 'no new case')
        log = env.redis.command('XRANGE', env.prefix + 'log', '-', '+')
        self.assertNotIn(addr, repr(log), 'the address in the case log')
        r = env.track(code)
        self.assertNotIn(addr, r.raw.decode('utf-8'), 'the address in the public view')

    def test_resolved_case_then_text_starts_a_report(self):
        env = self.env
        tokens, u, code, case = self.reported_case()
        env.resolve(case['case_id'], tokens['bkk-near'])
        m = self.say(u.text('สวัสดีค่ะ'))
        self.assertAsksCategory(m, 'th', 'text after the case was resolved')
        timeline = env.case(case['case_id'])['timeline']
        self.assertEqual([e for e in timeline if e.get('by') == 'reporter'], [],
                         'no note on a resolved case')

    def test_media_without_a_case(self):
        u = self.new_user('th')
        for kind in ('image', 'video', 'audio', 'file'):
            m = self.say(u.media(kind))
            self.assertIn('ได้รับแล้วค่ะ', str(m), '%s acknowledged: %r' % (kind, m))
            self.assertAsksCategory(m, 'th', '%s with no case: what is happening?' % kind)


if __name__ == '__main__':
    harness.main()
