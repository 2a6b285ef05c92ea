"""Who acts (DESIGN.md "Who acts: accounts, sessions, roles"): operator accounts (PUT and GET
/v1/operators), console sessions (POST and DELETE /v1/session) with their cookie, CSRF token,
idle expiry and lockout after failed logins, account API tokens, disabled accounts, and `by` on
the timeline as the authenticated identity (cookie, account token, configured token)."""

import re
import secrets
import time
import urllib.parse

import harness
from harness import RouterTest, scaled

WRONG = 'The operator id or the password is wrong.'
OPERATOR_KEYS = {'operator_id', 'name', 'role', 'disabled', 'created_at', 'updated_at'}


def new_password():
    return 'pw-' + secrets.token_urlsafe(12)


class AccountHelpers(RouterTest):
    """Helpers of the account tests (no tests of its own)."""

    def put_operator(self, op_id, body, token=None):
        return self.env.http('PUT', '/v1/operators/' + op_id, body,
                             token=self.env.admin_token if token is None else token)

    def create(self, op_id, role='operator', password=None, name=None):
        """Creates an operator; returns (password, API token)."""
        env = self.env
        password = password or new_password()
        name = name or 'เจ้าหน้าที่ ' + op_id
        env.note_pii(name)
        env.secrets.add(password)
        r = self.put_operator(op_id, {'name': name, 'role': role, 'password': password})
        self.assertStatus(r, 201, 'create ' + op_id)
        token = r.body.get('token')
        self.assertIsInstance(token, str)
        env.secrets.add(token)
        return password, token

    def login(self, op_id, password, headers=None, router=None):
        return self.env.http('POST', '/v1/session', {'operator_id': op_id, 'password': password},
                             headers=headers, router=router)

    def session(self, op_id, password):
        """Logs in; returns (cookie value, csrf token, answer)."""
        return self.session_from(op_id, password, None)

    def session_from(self, op_id, password, headers):
        r = self.login(op_id, password, headers=headers)
        self.assertStatus(r, 200, 'login of ' + op_id)
        m = re.match(r'ess_session=([A-Za-z0-9_-]{43});', r.headers.get('set-cookie', ''))
        self.assertIsNotNone(m, r.headers)
        self.env.secrets |= {m.group(1), r.body['csrf_token']}
        return m.group(1), r.body['csrf_token'], r

    def with_cookie(self, method, path, cookie, csrf=None, body=None):
        headers = {'Cookie': 'lang=th; ess_session=' + cookie}
        if csrf is not None:
            headers['X-CSRF-Token'] = csrf
        return self.env.http(method, path, body, headers=headers)

    def incident_with_cookie(self, cookie, csrf):
        body = self.env.incident_body(category='threat', description='ถูกเจ้าหนี้นอกระบบขู่ทำร้าย')
        self.env.note_incident_pii(body)
        return self.with_cookie('POST', '/v1/incidents', cookie, csrf, body)


class AccountTest(AccountHelpers):

    # operators

    def test_create_update_list_without_secrets(self):
        env = self.env
        r = self.put_operator('op-17', {'name': 'สมศรี', 'role': 'operator'})
        self.assertErrorBody(r, 400, 'missing_field', 'a new operator needs a password')
        password, token = self.create('op-17', name='สมศรี ใจดี')
        self.assertTrue(token.startswith('OP.'), token)
        r = self.put_operator('op-17', {'name': 'สมศรี ใจดี', 'role': 'supervisor'})
        self.assertStatus(r, 200, 'update')
        self.assertNotIn('token', r.body, 'the token is shown once, on creation')
        self.assertEqual(r.body['role'], 'supervisor')
        self.create('op-18', role='operator')

        r = env.http('GET', '/v1/operators', token=env.admin_token)
        self.assertStatus(r, 200)
        ops = r.body['operators']
        self.assertEqual([o['operator_id'] for o in ops], ['op-17', 'op-18'])
        for o in ops:
            self.assertEqual(set(o), OPERATOR_KEYS, o)
            self.assertFalse(o['disabled'])
            self.assertTime(o['created_at'])
        self.assertEqual((ops[0]['name'], ops[0]['role']), ('สมศรี ใจดี', 'supervisor'))
        raw = r.raw.decode('utf-8')
        for secret in (password, token, 'scrypt', 'hash'):
            self.assertNotIn(secret, raw)

        # only the hashes are stored
        stored = env.redis.command('HGETALL', 'test:operator:op-17')
        fields = dict(zip(stored[::2], stored[1::2]))
        self.assertTrue(fields[b'password_hash'].startswith(b'scrypt$'), fields)
        dump = b' '.join(stored).decode('utf-8')
        self.assertNotIn(password, dump)
        self.assertNotIn(token, dump)

        # rotation: a new token once, the old one stops working
        self.assertStatus(env.http('GET', '/v1/cases', token=token), 200, 'the account token')
        r = self.put_operator('op-17', {'rotate_token': True})
        self.assertStatus(r, 200)
        new_token = r.body['token']
        env.secrets.add(new_token)
        self.assertNotEqual(new_token, token)
        self.assertErrorBody(env.http('GET', '/v1/cases', token=token), 401, 'unauthorized')
        self.assertStatus(env.http('GET', '/v1/cases', token=new_token), 200)

    def test_validation_and_roles(self):
        env = self.env
        good = {'name': 'x', 'role': 'operator', 'password': new_password()}
        env.secrets.add(good['password'])
        for op_id, body, what in (
                ('Op-1', good, 'a capital in the id'),
                ('-op', good, 'an id starting with a hyphen'),
                ('op-1', dict(good, password='short pw 11'), 'an 11-character password'),
                ('op-1', dict(good, role='admin'), 'an unknown role'),
                ('op-1', dict(good, name=''), 'an empty name'),
                ('op-1', dict(good, disabled='yes'), 'disabled not a boolean'),
                ('op-1', dict(good, password=123456789012), 'a password not a string')):
            self.assertErrorBody(self.put_operator(op_id, body), 400, 'invalid_field', what)
        self.assertErrorBody(self.put_operator('op-1', good, token=env.operator_token), 403,
                             'forbidden', 'an operator may not put operators')
        self.assertErrorBody(env.http('PUT', '/v1/operators/op-1', good), 401, 'unauthorized')
        self.assertErrorBody(env.http('GET', '/v1/operators', token=env.operator_token), 403)
        self.assertEqual(env.http('GET', '/v1/operators', token=env.admin_token).body,
                         {'operators': []}, 'nothing was created')

    # sessions

    def test_login_cookie_csrf_logout(self):
        env = self.env
        password, _ = self.create('op-17', role='supervisor', name='สมศรี ใจดี')
        cookie, csrf, r = self.session('op-17', password)
        self.assertEqual(r.body, {'operator_id': 'op-17', 'name': 'สมศรี ใจดี',
                                  'role': 'supervisor', 'csrf_token': csrf})
        flags = [f.strip() for f in r.headers['set-cookie'].split(';')]
        self.assertEqual(flags[1:], ['HttpOnly', 'SameSite=Strict', 'Path=/'],
                         'no Secure without an https ESS_PUBLIC_URL')
        # only hashes of the cookie are kept
        for key in env.redis.keys('*'):
            self.assertNotIn(cookie, key)
        self.assertEqual(len(env.redis.keys('test:session:*')), 1)

        # reading with the cookie needs no CSRF token
        self.assertStatus(self.with_cookie('GET', '/v1/cases', cookie), 200)
        # a change needs it
        self.assertErrorBody(self.incident_with_cookie(cookie, None), 403, 'csrf_failed')
        self.assertErrorBody(self.incident_with_cookie(cookie, csrf[:-1] + 'A'
                                                       if csrf[-1] != 'A' else csrf[:-1] + 'B'),
                             403, 'csrf_failed', 'a wrong CSRF token')
        self.assertEqual(env.list_cases(), [], 'nothing was created without the CSRF token')
        r = self.incident_with_cookie(cookie, csrf)
        self.assertStatus(r, 201, 'with the CSRF token')
        view = env.case(r.body['case_id'])
        self.assertEqual(view['timeline'][0]['by'], 'op-17', 'by: the session\'s operator')

        self.assertErrorBody(self.with_cookie('DELETE', '/v1/session', cookie), 403,
                             'csrf_failed', 'logging out is a change too')
        r = self.with_cookie('DELETE', '/v1/session', cookie, csrf)
        self.assertStatus(r, 204)
        self.assertIn('Max-Age=0', r.headers.get('set-cookie', ''))
        self.assertErrorBody(self.with_cookie('GET', '/v1/cases', cookie), 401, 'unauthorized',
                             'the session ended')
        self.assertEqual(env.redis.keys('test:session:*'), [])

    def test_secure_cookie_with_https_public_url(self):
        password, _ = self.create('op-1')
        r2 = self.env.add_router(extra_env={'ESS_PUBLIC_URL': 'https://help.example.go.th'})
        r = self.login('op-1', password, router=r2)
        self.assertStatus(r, 200)
        self.env.secrets.add(r.body['csrf_token'])
        self.env.secrets.add(r.headers['set-cookie'].split(';')[0].split('=', 1)[1])
        self.assertIn('; Secure', r.headers['set-cookie'])

    def test_wrong_id_or_password_same_answer(self):
        env = self.env
        password, _ = self.create('op-1')
        wrong_pw = self.login('op-1', password + 'x')
        unknown = self.login('op-404', password)
        malformed = self.login('Not An Id', password)
        for r in (wrong_pw, unknown, malformed):
            self.assertErrorBody(r, 401, 'unauthorized')
            self.assertEqual(r.body['error']['message'], WRONG)
            self.assertNotIn('set-cookie', r.headers)
        self.assertErrorBody(env.http('POST', '/v1/session', {'operator_id': 'op-1'}), 400,
                             'missing_field')
        self.assertStatus(self.login('op-1', password), 200, 'the right password')

    def test_lockout_per_operator_id(self):
        env = self.env
        pa, _ = self.create('op-a')
        pb, _ = self.create('op-b')
        for i in range(5):
            self.assertErrorBody(self.login('op-a', 'typo-%d-%s' % (i, pa)), 401, 'unauthorized')
        r = self.login('op-a', pa)
        self.assertErrorBody(r, 429, 'too_many_failures', 'the sixth try, even right')
        retry = int(r.headers['retry-after'])
        self.assertTrue(14 * 60 < retry <= 15 * 60, retry)
        # one operator's typos never lock out the others (same address)
        cookie, _, _ = self.session('op-b', pb)
        self.assertStatus(self.with_cookie('GET', '/v1/cases', cookie), 200)
        # no client address in clear in Redis
        for key in env.redis.keys('test:login:*'):
            self.assertNotIn('127.0.0.1', key)

    def test_failures_below_the_limit_are_forgotten_on_success(self):
        pa, _ = self.create('op-a')
        for _ in range(4):
            self.assertStatus(self.login('op-a', 'wrong-password-1'), 401)
        self.assertStatus(self.login('op-a', pa), 200)
        for _ in range(4):
            self.assertStatus(self.login('op-a', 'wrong-password-2'), 401)
        self.assertStatus(self.login('op-a', pa), 200, 'four more typos after a success')

    # disabled accounts and tokens

    def test_disabled_account_ends_session_and_token(self):
        env = self.env
        password, token = self.create('op-17')
        cookie, csrf, _ = self.session('op-17', password)
        self.assertStatus(env.http('GET', '/v1/cases', token=token), 200)
        r = self.put_operator('op-17', {'disabled': True})
        self.assertStatus(r, 200)
        self.assertTrue(r.body['disabled'])
        self.assertErrorBody(self.with_cookie('GET', '/v1/cases', cookie), 401, 'unauthorized',
                             'its session ended at once')
        self.assertErrorBody(env.http('GET', '/v1/cases', token=token), 401, 'unauthorized',
                             'its token stopped working')
        r = self.login('op-17', password)
        self.assertErrorBody(r, 401, 'unauthorized', 'a disabled account cannot log in')
        self.assertEqual(r.body['error']['message'], WRONG)
        self.assertEqual(env.redis.keys('test:session:*'), [])
        # enabled again: the token works, the old session stays ended
        self.assertStatus(self.put_operator('op-17', {'disabled': False}), 200)
        self.assertStatus(env.http('GET', '/v1/cases', token=token), 200)
        self.assertErrorBody(self.with_cookie('GET', '/v1/cases', cookie), 401)

    def test_new_password_ends_sessions(self):
        password, _ = self.create('op-17')
        cookie, _, _ = self.session('op-17', password)
        new = new_password()
        self.env.secrets.add(new)
        self.assertStatus(self.put_operator('op-17', {'password': new}), 200)
        self.assertErrorBody(self.with_cookie('GET', '/v1/cases', cookie), 401)
        self.assertErrorBody(self.login('op-17', password), 401, 'unauthorized', 'the old one')
        self.session('op-17', new)

    def test_by_is_the_authenticated_identity(self):
        env = self.env
        _, token = self.create('op-77')
        # an account's API token: by = the account; the body's operator_id is only a reference
        body = env.incident_body(category='threat', description='ถูกขู่ทำร้าย', operator_id='op-1')
        r = env.post_incident_raw(body, token=token)
        self.assertStatus(r, 201)
        view = env.case(r.body['case_id'])
        self.assertEqual(view['timeline'][0]['by'], 'op-77')
        self.assertEqual(view['operator_id'], 'op-1')
        # a configured token: by = its entry's id
        a = env.post_incident('threat', 'ถูกขู่ทำร้าย')
        self.assertEqual(env.case(a['case_id'])['timeline'][0]['by'], env.operator_ids[0])
        # a status change made with the account's token
        self.assertStatus(env.set_status(a['case_id'], 'closed', token=token), 200)
        last = harness.status_changes(env.case(a['case_id']))[-1]
        self.assertEqual((last['status'], last['by']), ('closed', 'op-77'))


class LoginFromAddressTest(AccountHelpers):
    """30 failures from one client address lock every login from it; other addresses go on.
    Addresses come from X-Forwarded-For of a trusted proxy (loopback here)."""

    env_options = {'extra_env': {'ESS_TRUSTED_PROXIES': '127.0.0.1/32'}}

    def test_lockout_per_address(self):
        env = self.env
        password, _ = self.create('op-1')
        shared = {'X-Forwarded-For': '203.0.113.5'}
        # six ids, five failures each: each id locks at five, the address at thirty
        for k in range(6):
            for i in range(5):
                r = self.login('guess-%d' % k, 'wrong password %d' % i, headers=shared)
                self.assertErrorBody(r, 401, 'unauthorized', 'failure %d of id %d' % (i, k))
        r = self.login('op-1', password, headers=shared)
        self.assertErrorBody(r, 429, 'too_many_failures', 'every login from that address')
        self.assertTrue(int(r.headers['retry-after']) > 14 * 60, r.headers)
        cookie, _, _ = self.session_from('op-1', password, {'X-Forwarded-For': '203.0.113.6'})
        self.assertStatus(self.with_cookie('GET', '/v1/cases', cookie), 200,
                          'another address logs in')
        for key in env.redis.keys('test:login:*'):
            self.assertNotIn('203.0.113', key)


class IdleExpiryTest(AccountHelpers):
    """ESS_SESSION_IDLE_S: a session ends after that long without a request; each request
    starts the idle time again."""

    env_options = {'extra_env': {'ESS_SESSION_IDLE_S': '3'}}

    def test_idle_expiry(self):
        env = self.env
        password, _ = self.create('op-1')
        cookie, _, _ = self.session('op-1', password)
        # requests every second keep it alive past its idle time
        for _ in range(5):
            self.assertStatus(self.with_cookie('GET', '/v1/cases', cookie), 200)
            time.sleep(1)
        ttl = env.redis.command('PTTL', env.redis.keys('test:session:*')[0])
        self.assertTrue(0 < ttl <= 3000, ttl)
        time.sleep(scaled(3.5))
        self.assertErrorBody(self.with_cookie('GET', '/v1/cases', cookie), 401, 'unauthorized',
                             'idle for longer than ESS_SESSION_IDLE_S')


if __name__ == '__main__':
    harness.main()
