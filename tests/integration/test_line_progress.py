"""Progress to the citizen (issue 3, "Progress to the citizen"): when a LINE case is assigned,
acknowledged, en route, on scene or resolved, the reporter gets a short push (to their user id,
with its own retry key) in their language, never echoing the description or the address; and
the router's log never holds the LINE user id, the description, the address or the coordinates."""

import secrets

import harness
from harness import coordinate_texts
from fake_line import LineTest, UUID_RE, visible_text

POLICE_SW = ['police', 'social_worker']
MH_POLICE = ['mental_health', 'police']


class LineProgressTest(LineTest):

    def pushes_to(self, user):
        return [r for r in self.fake.pushes() if r.to == user.user_id]

    def next_push(self, user, seen, what):
        """The first push to user after the first seen ones."""
        ps = self.fake.wait_for(
            lambda reqs: [r for r in reqs if r.endpoint == 'push' and r.to == user.user_id]
            if len([r for r in reqs if r.endpoint == 'push' and r.to == user.user_id]) > seen
            else None, 10, 'a progress push (%s)' % what)
        return ps[seen]

    def follow_case(self, user, category, teams, team_id, team_name, details=None):
        """Reports, then drives the case through acknowledged, en_route, on_scene, resolved with
        the team's token; checks one push per step. Returns the pushes."""
        env = self.env
        tokens = self.put_teams(teams)
        place = self.new_place()
        code = self.report(user, category, place, details=details, team_name=team_name)
        case = self.case_by_code(code)
        self.assertRouted(case, team_id, place)
        self.fake.quiet_for(0.5)
        seen = len(self.pushes_to(user))
        cid, tok = case['case_id'], tokens[team_id]
        steps = [('acknowledged', lambda: env.ack(cid, tok)),
                 ('en_route', lambda: env.set_status(cid, 'en_route', token=tok)),
                 ('on_scene', lambda: env.set_status(cid, 'on_scene', token=tok)),
                 ('resolved', lambda: env.set_status(cid, 'resolved', token=tok))]
        pushes = {}
        for status, act in steps:
            self.assertStatus(act(), 200, status)
            p = self.next_push(user, seen, status)
            seen += 1
            self.assertTrue(p.ok, p)
            self.assertEqual(p.to, user.user_id)
            self.assertRegex(p.retry_key or '', UUID_RE)
            self.assertLang(p.messages, user.lang, allowed=(team_name,), msg='%s push' % status)
            pushes[status] = p
        texts = {s: visible_text(p.messages) for s, p in pushes.items()}
        self.assertEqual(len(set(texts.values())), 4, 'the four progress pushes must differ: %r'
                         % texts)
        self.assertEqual(len({p.retry_key for p in pushes.values()}), 4,
                         'different messages share a retry key (LINE would drop all but one)')
        self.assertNotEchoed(self.fake.requests(), [place[2], details])
        r = env.track(code)
        self.assertEqual(r.body.get('status'), 'resolved')
        self.assertEqual(self.fake.quiet_for(1.0), [], 'more pushes than status changes')
        return pushes

    def test_progress_pushes_thai(self):
        u = self.new_user('th')
        self.follow_case(u, 'detention',
                         [('bkk-a', 1.5, 60, POLICE_SW, 'ทีมสหวิชาชีพ เขตพระนคร')],
                         'bkk-a', 'ทีมสหวิชาชีพ เขตพระนคร')

    def test_progress_pushes_english(self):
        u = self.new_user('en')
        details = 'Neighbour on the roof edge, talking to himself, block %s' % secrets.token_hex(3)
        self.follow_case(u, 'mental_crisis',
                         [('bkk-mh', 2.2, 200, MH_POLICE, 'Bang Rak Crisis Team'),
                          ('bkk-pol', 0.6, 20, POLICE_SW, 'Bang Rak Police Team')],
                         'bkk-mh', 'Bang Rak Crisis Team', details=details)

    def test_assigned_push_after_queue(self):
        """No team at first: the reply gives the code and the case waits; when a suitable team
        comes on duty the case is assigned and the reporter is told."""
        env = self.env
        u = self.new_user('th')
        place = self.new_place()
        code = self.report(u, 'detention', place)
        case = self.case_by_code(code)
        self.assertEqual(case['status'], 'queued', case)
        self.fake.quiet_for(0.5)
        seen = len(self.pushes_to(u))
        env.put_team_at('bkk-late', 1.2, 300, POLICE_SW, name='ทีมสหวิชาชีพ เขตป้อมปราบ')
        harness.wait_until(lambda: env.case(case['case_id'])['status'] == 'assigned', 15,
                           message='the queued LINE case assigned to the new team')
        p = self.next_push(u, seen, 'assigned')
        self.assertTrue(p.ok, p)
        self.assertLang(p.messages, 'th', msg='assigned push')
        self.assertNotEchoed([p], [place[2]])

    def test_english_conversation_uses_the_teams_english_name(self):
        """A team put with name_en: the English reply, status answer and progress push name it
        so; the Thai conversation keeps the Thai name; the case view carries both. A name_en
        that is not a string is refused."""
        env = self.env
        th_name, en_name = 'ทีมสหวิชาชีพ เขตบางรัก', 'Bang Rak Social Team'
        token = env.put_team_at('bkk-en', 1.0, 45, POLICE_SW, name=th_name,
                                extra={'name_en': en_name})
        r = env.http('PUT', '/v1/teams/bkk-bad', {'name': 'x', 'name_en': 7, 'skills': ['police'],
                                                  'lat': 13.7, 'lon': 100.5},
                     token=env.admin_token)
        self.assertStatus(r, 400, 'name_en as a number')
        self.assertEqual(r.body['error']['code'], 'invalid_field', r)

        u = self.new_user('en')
        code = self.report(u, 'detention', self.new_place(), team_name=en_name)
        case = self.case_by_code(code)
        self.assertEqual((case['team']['name'], case['team'].get('name_en')), (th_name, en_name))
        m = self.say(u.text('status'))
        self.assertIn(en_name, visible_text(m), 'the English status answer: %r' % m)
        self.assertNotIn(th_name, visible_text(m))
        self.fake.quiet_for(0.5)
        seen = len(self.pushes_to(u))
        self.assertStatus(env.ack(case['case_id'], token), 200)
        p = self.next_push(u, seen, 'acknowledged')
        self.assertIn(en_name, visible_text(p.messages), 'the English push: %r' % p.messages)
        self.assertLang(p.messages, 'en', msg='the English push')
        self.assertStatus(env.set_status(case['case_id'], 'resolved', token=token), 200)

        t = self.new_user('th')
        self.report(t, 'detention', self.new_place(), team_name=th_name)
        m = self.say(t.text('สถานะ'))
        self.assertIn(th_name, visible_text(m), 'the Thai status answer keeps the Thai name')
        self.assertNotIn(en_name, visible_text(m))

    def test_router_log_has_no_line_personal_data(self):
        """After a report with a story, a status question and progress, the log (debug level)
        holds none of the user id, the story, the address or the coordinates."""
        env = self.env
        tokens = self.put_teams([('bkk-a', 1.5, 60, POLICE_SW, 'ทีมสหวิชาชีพ เขตพระนคร')])
        u = self.new_user('th')
        story = 'ช่วยด้วย แฟนเก่าขังไว้ในห้องเช่า ห้อง %s' % secrets.token_hex(3)
        env.note_pii(story)
        self.say(u.text(story))
        self.say(u.postback('cat=detention'))
        lat, lon, addr = place = self.new_place()
        m = self.say(u.location(lat, lon, addr))
        code = self.assertCreatedAsksMore(m, 'th', 'ทีมสหวิชาชีพ เขตพระนคร')
        details = 'ประตูสีแดง ชั้น %d' % (secrets.randbelow(90) + 10)
        env.note_pii(details)
        self.say(u.text(details))
        case = self.case_by_code(code)
        self.say(u.text('สถานะ'))
        self.fake.quiet_for(0.3)
        seen = len(self.pushes_to(u))
        self.assertStatus(env.ack(case['case_id'], tokens['bkk-a']), 200)
        self.next_push(u, seen, 'acknowledged')
        env.router.stop()
        text = env.router.log_text()
        forms = {u.user_id, story, details, addr} | coordinate_texts(lat) | coordinate_texts(lon)
        for f in sorted(forms):
            if len(f) >= 5:
                self.assertNotIn(f, text, 'personal data %r in the router log' % f)


if __name__ == '__main__':
    harness.main()
