"""A LINE report without coordinates: LINE on a desktop cannot share a location, so the location
question offers to type the address instead. The case is then created like any other, with the
address and no coordinates; nothing can measure its distance to a team, so it waits in the
operators' queue (queue_reason "no_location") until an operator places it and assigns a team by
hand, which dispatches as usual."""

import harness
from fake_line import LineTest, postbacks


class LineTypedAddressTest(LineTest):

    def test_typed_address_reaches_the_operators_queue(self):
        env = self.env
        tokens = self.put_teams([('bkk-near', 0.5, 90, ['police', 'social_worker'],
                                  'ทีมสหวิชาชีพ เขตพระนคร')])
        u = self.new_user('th')
        address = harness.unique_address()
        env.note_pii(address)

        self.say(u.text('สวัสดีค่ะ'))
        asked = self.say(u.postback('cat=detention'))
        self.assertIn('address', postbacks(asked), 'the location question offers typing the address')
        self.say(u.postback('address'))
        created = self.say(u.text(address))
        codes = [self.assertCreatedAsksMore(created, 'th', msg='the typed address creates the case')]
        self.assertNotEchoed(self.fake.requests(), [address], 'typed address')

        queued = [c for c in env.list_cases(status='queued') if c['tracking_code'] == codes[0]]
        self.assertEqual(len(queued), 1, 'the case is in the operators\' queue')
        self.assertEqual(queued[0]['queue_reason'], 'no_location')
        case = env.case(queued[0]['case_id'])
        self.assertEqual(case['channel'], 'line')
        self.assertEqual(case['location']['address'], address)
        self.assertIsNone(case['location']['lat'])
        self.assertIsNone(case['location']['lon'])
        self.assertIsNone(case['team'], 'no team is claimed without coordinates')

        r = env.http('POST', '/v1/cases/%s/assign' % case['case_id'], {'team_id': 'bkk-near'},
                     token=env.operator_token)
        self.assertStatus(r, 200, 'an operator assigns it by hand')
        self.assertEqual(r.body['status'], 'assigned')
        self.assertEqual(r.body['team']['id'], 'bkk-near')
        self.assertIsNone(r.body['team']['distance_km'], 'no distance without coordinates')
        r = env.http('POST', '/v1/cases/%s/ack' % case['case_id'], token=tokens['bkk-near'])
        self.assertStatus(r, 200, 'the team acknowledges')
        self.assertEqual(env.track(codes[0]).body['status'], 'acknowledged')

    def test_typed_address_then_a_location_routes_the_case(self):
        """The reporter typed the address (the case waits for want of a place), then manages to
        share a location after all: the case moves there and is routed to the nearest team;
        the typed address stays when the location brings none."""
        env = self.env
        self.put_teams([('bkk-near', 0.5, 90, ['police', 'social_worker'],
                         'ทีมสหวิชาชีพ เขตพระนคร')])
        u = self.new_user('th')
        address = harness.unique_address()
        env.note_pii(address)
        self.say(u.text('สวัสดีค่ะ'))
        self.say(u.postback('cat=detention'))
        self.say(u.postback('address'))
        code = self.assertCreatedAsksMore(self.say(u.text(address)), 'th')
        self.say(u.postback('skip'))
        lat, lon = harness.jitter(harness.BKK)
        env.note_pii(lat, lon)
        m = self.say(u.location(lat, lon, ''))  # not every LINE location carries an address
        self.assertIn(code, str(m), m)
        case = self.case_by_code(code)
        self.assertAlmostEqual(case['location']['lat'], lat, places=6)
        self.assertEqual(case['location']['address'], address, 'the typed address kept')
        self.assertEqual((case['status'], case['team']['id']), ('assigned', 'bkk-near'))
        self.assertIsNotNone(case['team']['distance_km'])
        self.assertEqual(case['queue_reason'] or '', '', case)


if __name__ == '__main__':
    harness.main()
