"""Teams (DESIGN.md: PUT /v1/teams/{id}, POST /v1/teams/{id}/position): create (201 with a token
once), update (200, no token unless rotate_token), id syntax, validation, admin and team
authentication, and that updates change what assignment sees."""

import harness
from harness import BKK, RouterTest

POLICE_SW = ['police', 'social_worker']


def team_body(**over):
    body = {'name': 'ทีมสหวิชาชีพ เขตพระนคร', 'skills': POLICE_SW, 'lat': 13.7563,
            'lon': 100.5018, 'capacity': 1, 'available': True}
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


class TeamTest(RouterTest):

    def put(self, team_id, body, token=None):
        return self.env.http('PUT', '/v1/teams/' + team_id, body,
                             token=self.env.admin_token if token is None else token)

    def test_create_update_rotate(self):
        env = self.env
        r = self.put('bkk-03', team_body(notify={'webhook': 'https://team-gateway.example/bkk-03'}))
        self.assertStatus(r, 201, 'create')
        self.assertJSON(r)
        self.assertEqual(r.body['team_id'], 'bkk-03')
        token = r.body.get('token')
        self.assertIsInstance(token, str)
        self.assertGreaterEqual(len(token), 16, 'a token long enough not to be guessed')
        env.team_tokens['bkk-03'] = token

        r = self.put('bkk-03', team_body(capacity=2))
        self.assertStatus(r, 200, 'update')
        self.assertEqual(r.body['team_id'], 'bkk-03')
        self.assertNotIn('token', r.body, 'no token on a plain update')
        self.assertStatus(env.position('bkk-03', 13.75, 100.50), 200,
                          'the token still works after an update')

        r = self.put('bkk-03', team_body(rotate_token=True))
        self.assertStatus(r, 200)
        new = r.body.get('token')
        self.assertIsInstance(new, str)
        self.assertNotEqual(new, token)
        env.team_tokens['bkk-03-old'] = token
        env.team_tokens['bkk-03'] = new
        self.assertErrorBody(env.position('bkk-03', 13.75, 100.50, token=token), 401,
                             'unauthorized', 'the old token after rotation')
        self.assertStatus(env.position('bkk-03', 13.75, 100.50, token=new), 200)

        r = self.put('bkk-03', team_body(rotate_token=False))
        self.assertStatus(r, 200)
        self.assertNotIn('token', r.body)

    def test_tokens_are_distinct(self):
        env = self.env
        tokens = {env.put_team('t%d' % i, 13.7 + i / 100, 100.5, POLICE_SW) for i in range(5)}
        self.assertEqual(len(tokens), 5)
        self.assertNotIn(None, tokens)

    def test_defaults_capacity_one_and_available(self):
        env = self.env
        lat, lon = harness.destination(BKK[0], BKK[1], 50, 2.0)
        r = self.put('defaults', {'name': 'ทีมค่าเริ่มต้น', 'skills': POLICE_SW,
                                  'lat': lat, 'lon': lon})
        self.assertStatus(r, 201)
        env.team_coords |= {lat, lon}
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertAssignedTo(a, 'defaults', msg='available by default')
        b = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertQueued(b, 'capacity 1 by default')

    def test_team_ids(self):
        env = self.env
        good = ['a', '0', 'bkk-03', 'team_7', 'x' * 64, '9-_']
        for tid in good:
            with self.subTest(good=tid):
                r = self.put(tid, team_body())
                self.assertStatus(r, 201)
                self.assertEqual(r.body['team_id'], tid)
                env.team_tokens[tid] = r.body['token']
        bad = ['Bkk-03', '-abc', '_abc', 'x' * 65, 'a.b', 'a%20b', 'a%2Fb', '%E0%B8%97%E0%B8%B5',
               'a%00b', 'a;b', 'tEAM']
        for tid in bad:
            with self.subTest(bad=tid):
                r = self.put(tid, team_body())
                # an encoded slash or NUL may already fail routing
                self.assertErrorBody(r, (400, 404) if '%' in tid else 400,
                                     msg='team id %r' % tid)
        with self.subTest('empty id'):
            self.assertErrorBody(self.put('', team_body()), (400, 404, 405))

    def test_validation(self):
        cases = {
            'missing name': (team_body(name=None), 'missing_field'),
            'missing skills': (team_body(skills=None), 'missing_field'),
            'missing lat': (team_body(lat=None), 'missing_field'),
            'missing lon': (team_body(lon=None), 'missing_field'),
            'lat 91': (team_body(lat=91), 'invalid_field'),
            'lat -90.5': (team_body(lat=-90.5), 'invalid_field'),
            'lon 181': (team_body(lon=181), 'invalid_field'),
            'lon -180.01': (team_body(lon=-180.01), 'invalid_field'),
            'lat string': (team_body(lat='13.7'), 'invalid_field'),
            'skills string': (team_body(skills='police'), 'invalid_field'),
            'skills with a number': (team_body(skills=['police', 7]), 'invalid_field'),
            'negative capacity': (team_body(capacity=-1), 'invalid_field'),
            'capacity string': (team_body(capacity='2'), 'invalid_field'),
            'capacity fraction': (team_body(capacity=1.5), 'invalid_field'),
            'capacity huge': (team_body(capacity=10 ** 12), 'invalid_field'),
            'available string': (team_body(available='yes'), 'invalid_field'),
            'name number': (team_body(name=5), 'invalid_field'),
            'name too long': (team_body(name='ท' * 3000), ('field_too_long', 'invalid_field')),
            'notify string': (team_body(notify='https://x.example'), 'invalid_field'),
            'notify webhook number': (team_body(notify={'webhook': 5}), 'invalid_field'),
            'rotate_token string': (team_body(rotate_token='yes'), 'invalid_field'),
        }
        for what, (body, code) in cases.items():
            with self.subTest(what):
                self.assertErrorBody(self.put('vt', body), 400, code)
        # none of them created the team
        r = self.put('vt', team_body())
        self.assertStatus(r, 201, 'the team did not exist after the refused PUTs')

    def test_validation_on_update_keeps_team(self):
        env = self.env
        tok = env.put_team_at('keep', 2.0, 10, POLICE_SW, capacity=1)
        r = self.put('keep', team_body(lat=95))
        self.assertErrorBody(r, 400, 'invalid_field')
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertAssignedTo(a, 'keep', msg='the refused update changed nothing')
        self.assertIsNotNone(tok)

    def test_admin_authentication(self):
        env = self.env
        tok = env.put_team('existing', 13.7, 100.5, POLICE_SW)
        checks = [('no token', None, 401, 'unauthorized'),
                  ('wrong token', 'adm-wrong', 401, 'unauthorized'),
                  ('operator token', env.operator_token, 403, 'forbidden'),
                  ('team token', tok, 403, 'forbidden')]
        for what, token, status, code in checks:
            with self.subTest(what):
                if token is None:
                    r = env.http('PUT', '/v1/teams/new-team', team_body())
                else:
                    r = self.put('new-team', team_body(), token=token)
                self.assertErrorBody(r, status, code)
        for header in ('Basic YWRtaW46YWRtaW4=', 'Bearer', 'Bearer ', 'bearer',
                       'Bearer ' + env.admin_token + 'x', 'Bearer ' + env.admin_token[:-1],
                       'Token ' + env.admin_token, 'Bearer  ' + env.admin_token + ' extra'):
            with self.subTest(authorization=header):
                r = env.http('PUT', '/v1/teams/new-team', team_body(),
                             headers={'Authorization': header})
                self.assertErrorBody(r, 401, 'unauthorized')
        # none created it
        r = self.put('new-team', team_body())
        self.assertStatus(r, 201)

    def test_position_authentication(self):
        env = self.env
        tok_a = env.put_team('team-a', 13.70, 100.50, POLICE_SW)
        tok_b = env.put_team('team-b', 13.80, 100.60, POLICE_SW)
        r = env.position('team-a', 13.71, 100.51, available=True, token=tok_a)
        self.assertStatus(r, 200)
        self.assertJSON(r)
        self.assertEqual(r.body['team_id'], 'team-a')
        self.assertErrorBody(env.position('team-a', 13.71, 100.51, token=tok_b), 403, 'forbidden',
                             "another team's token")
        r = env.http('POST', '/v1/teams/team-a/position', {'lat': 13.71, 'lon': 100.51})
        self.assertErrorBody(r, 401, 'unauthorized', 'no token')
        self.assertErrorBody(env.position('team-a', 13.71, 100.51, token='garbage'), 401,
                             'unauthorized')
        r = env.http('POST', '/v1/teams/team-a/position', {'lat': 13.71, 'lon': 100.51},
                     headers={'Authorization': 'Basic ' + tok_a})
        self.assertErrorBody(r, 401, 'unauthorized', 'not a Bearer token')
        self.assertErrorBody(env.position('team-a', 13.71, 100.51, token=env.operator_token),
                             (401, 403), ('unauthorized', 'forbidden'))
        self.assertErrorBody(env.position('team-a', 13.71, 100.51, token=env.admin_token),
                             (401, 403), ('unauthorized', 'forbidden'))
        self.assertErrorBody(env.position('no-such-team', 13.71, 100.51, token=tok_a),
                             (403, 404), ('forbidden', 'not_found'))

    def test_position_validation(self):
        env = self.env
        tok = env.put_team('team-a', 13.70, 100.50, POLICE_SW)
        cases = {'lat 91': ({'lat': 91, 'lon': 100.5}, 'invalid_field'),
                 'lon -181': ({'lat': 13.7, 'lon': -181}, 'invalid_field'),
                 'missing lon': ({'lat': 13.7}, 'missing_field'),
                 'missing lat': ({'lon': 100.5}, 'missing_field'),
                 'lat string': ({'lat': '13.7', 'lon': 100.5}, 'invalid_field'),
                 'available string': ({'lat': 13.7, 'lon': 100.5, 'available': 'true'},
                                      'invalid_field'),
                 'available number': ({'lat': 13.7, 'lon': 100.5, 'available': 1},
                                      'invalid_field')}
        for what, (body, code) in cases.items():
            with self.subTest(what):
                r = env.http('POST', '/v1/teams/team-a/position', body, token=tok)
                self.assertErrorBody(r, 400, code)
        r = env.http('POST', '/v1/teams/team-a/position', b'{"lat": 13.7,', token=tok)
        self.assertErrorBody(r, 400, 'invalid_json')
        r = env.http('POST', '/v1/teams/team-a/position', b'[13.7, 100.5]', token=tok)
        self.assertErrorBody(r, 400, 'not_an_object')

    def test_update_changes_assignment(self):
        env = self.env
        env.put_team_at('t1', 1.0, 30, POLICE_SW, capacity=3)
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertAssignedTo(a, 't1')
        # the team loses its police skill: detention needs police
        t = env.teams['t1']
        env.put_team('t1', t['lat'], t['lon'], ['social_worker'], capacity=3, expect=(200,))
        b = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        self.assertQueued(b, 't1 no longer has police')
        # the team moves 80 km away with its skills back: still out of reach for new cases
        far = harness.destination(BKK[0], BKK[1], 30, 80.0)
        env.put_team('t1', far[0], far[1], POLICE_SW, capacity=3, expect=(200,))
        c = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertQueued(c, 't1 is 80 km away now')
        # set unavailable by PUT
        near = harness.destination(BKK[0], BKK[1], 30, 1.0)
        env.put_team('t1', near[0], near[1], POLICE_SW, capacity=5, available=False,
                     expect=(200,))
        d = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertQueued(d, 't1 said it is unavailable')

    def test_capacity_reduced_below_load(self):
        env = self.env
        env.put_team_at('t1', 1.0, 30, POLICE_SW, capacity=2)
        a = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        b = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertAssignedTo(a, 't1')
        self.assertAssignedTo(b, 't1')
        t = env.teams['t1']
        env.put_team('t1', t['lat'], t['lon'], POLICE_SW, capacity=1, expect=(200,))
        c = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertQueued(c, 'two active cases, capacity now 1')
        # it keeps the cases it holds
        for x in (a, b):
            self.assertEqual(env.case(x['case_id'])['team']['id'], 't1')


if __name__ == '__main__':
    harness.main()
