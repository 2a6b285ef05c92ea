"""The process (DESIGN.md "Configuration", "Storage"): clean exit on SIGTERM, also with requests in
flight; state lives in Redis only (restart, several processes, key prefix, case log stream);
--help; a broken rule file or setting stops start-up with a message that names it."""

import copy
import json
import os
import subprocess
import threading
import time

import harness
from harness import RouterTest, wait_until

POLICE_SW = ['police', 'social_worker']
SETTINGS = ['ESS_LISTEN', 'ESS_REDIS_URL', 'ESS_KEY_PREFIX', 'ESS_RULES', 'ESS_TRIAGE_MODEL', 'ESS_ADMIN_TOKEN',
            'ESS_OPERATOR_TOKENS', 'LINE_CHANNEL_SECRET', 'LINE_CHANNEL_ACCESS_TOKEN',
            'LINE_API_BASE']


class ShutdownTest(RouterTest):

    def test_sigterm_exits_zero(self):
        env = self.env
        env.put_team_at('t1', 2.0, 10, POLICE_SW)
        env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        router = env.router
        proc = router.proc
        t0 = time.monotonic()
        status = router.stop()
        self.assertEqual(status, 0, router.problems)
        self.assertLess(time.monotonic() - t0, harness.scaled(15))
        self.assertIsNotNone(proc.returncode)
        self.assertEqual(router.problems, [])

    def test_sigterm_with_requests_in_flight(self):
        env = self.env
        env.put_team_at('t1', 2.0, 10, POLICE_SW, capacity=3)
        stop = threading.Event()
        created, failed, lock = [], [], threading.Lock()

        def poster(n):
            k = 0
            while not stop.is_set():
                body = env.incident_body(category='threat',
                                         description='ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย',
                                         call_id='1300-term-%d-%d' % (n, k))
                env.note_incident_pii(body)
                k += 1
                try:
                    r = env.router.http('POST', '/v1/incidents', body,
                                        token=env.operator_token, timeout=20)
                except OSError:
                    continue  # refused or reset: the process is going away
                except Exception as e:  # noqa: BLE001 (a truncated answer, reported below)
                    with lock:
                        failed.append(repr(e))
                    continue
                with lock:
                    if r.status == 201:
                        created.append(r.body['case_id'])
                    else:
                        failed.append(repr(r))

        port = env.router.port
        threads = [threading.Thread(target=poster, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        status = env.router.stop()
        stop.set()
        for t in threads:
            t.join()
        self.assertEqual(status, 0, env.router.problems)
        self.assertEqual(env.router.problems, [])
        bad = [f for f in failed if '503' not in f]
        self.assertEqual(bad, [], 'answers other than 201 (or 503 while draining)')
        self.assertGreater(len(created), 0)
        env.router.port = port
        env.router.start()
        listed = {c['case_id'] for c in env.list_cases()}
        self.assertEqual([c for c in created if c not in listed], [],
                         'every case answered 201 before SIGTERM is stored')


class StatelessTest(RouterTest):

    def test_restart_keeps_everything(self):
        env = self.env
        tok = env.put_team_at('t1', 2.0, 10, POLICE_SW, capacity=1)
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        q = env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        self.assertAssignedTo(a, 't1')
        self.assertQueued(q)
        view_a = env.case(a['case_id'])
        env.router.restart()
        self.assertEqual(harness.stable_view(env.case(a['case_id'])), harness.stable_view(view_a))
        self.assertEqual(env.track(a['tracking_code']).status, 200)
        self.assertQueued(env.post_incident('threat', 'ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย'),
                          'the team is still full after the restart')
        self.assertStatus(env.ack(a['case_id'], tok), 200, 'the team token survives a restart')
        r = env.post_incident_raw(a['_request'])
        self.assertStatus(r, 200, 'call_id idempotency survives a restart')
        self.assertEqual(r.body['case_id'], a['case_id'])
        self.assertStatus(env.set_status(a['case_id'], 'en_route', token=tok), 200)

    def test_two_processes_share_one_redis(self):
        env = self.env
        second = env.add_router(name='router-b')
        capacities = {'p-1': 2, 'p-2': 3}
        for i, (tid, cap) in enumerate(capacities.items()):
            env.put_team_at(tid, 1.5 + 3 * i, 100 + 90 * i, POLICE_SW, capacity=cap)
        results, lock = [], threading.Lock()
        barrier = threading.Barrier(10)

        def worker(n):
            router = env.router if n % 2 else second
            barrier.wait()
            for k in range(10):
                body = env.incident_body(category='detention',
                                         description='มีคนถูกกักตัวไว้ในโกดังสินค้า')
                env.note_incident_pii(body)
                r = router.http('POST', '/v1/incidents', body, token=env.operator_token)
                with lock:
                    results.append(r)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([r for r in results if r.status != 201], [])
        cases = wait_until(lambda: (lambda cs: cs if sum(1 for c in cs if c['team']) == 5
                                    else None)(env.list_cases()), 20, 0.2, 'slots filled')
        self.assertEqual(len(cases), 100)
        for tid, cap in capacities.items():
            self.assertEqual(sum(1 for c in cases if (c['team'] or {}).get('id') == tid), cap,
                             'across two processes, team %s holds exactly its capacity' % tid)
        # what one process wrote the other reads
        cid = results[0].body['case_id']
        r = second.http('GET', '/v1/cases/' + cid, token=env.operator_token)
        self.assertStatus(r, 200)
        r = env.router.http('GET', '/v1/cases/' + cid, token=env.operator_token)
        self.assertStatus(r, 200)

    def test_key_prefix_and_case_log(self):
        env = self.env
        tok = env.put_team_at('t1', 2.0, 10, POLICE_SW)
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        env.post_incident('other', 'ขอคำปรึกษาเรื่องหนี้สินครัวเรือน')
        keys = env.redis.keys()
        self.assertTrue(keys, 'something is stored')
        self.assertEqual([k for k in keys if not k.startswith('test:')], [],
                         'every key carries the prefix')
        streams = [k for k in keys if env.redis.command('TYPE', k) == 'stream']
        self.assertTrue(streams, 'the case log is a stream: %r' % keys)

        def total_len():
            return sum(env.redis.command('XLEN', s) for s in streams)
        before = total_len()
        self.assertStatus(env.ack(a['case_id'], tok), 200)
        self.assertStatus(env.set_status(a['case_id'], 'en_route', token=tok), 200)
        self.assertGreaterEqual(total_len(), before + 2, 'each state change is appended')
        # and other agencies can read it with a consumer group
        s = streams[0]
        self.assertEqual(env.redis.command('XGROUP', 'CREATE', s, 'agency-test', '0'), 'OK')
        got = env.redis.command('XREADGROUP', 'GROUP', 'agency-test', 'c1', 'COUNT', '100',
                                'STREAMS', s, '>')
        self.assertTrue(got and got[0][1], 'entries readable by a consumer group')

    def test_prefixes_isolate_deployments(self):
        env = self.env
        other = env.add_router(name='router-other', prefix='other:')
        env.put_team_at('t1', 2.0, 10, POLICE_SW)
        a = env.post_incident('detention', 'มีคนถูกกักตัวไว้ในโกดังสินค้า')
        self.assertAssignedTo(a, 't1')
        r = other.http('GET', '/v1/cases/' + a['case_id'], token=env.operator_token)
        self.assertErrorBody(r, 404, 'not_found', 'a case of another prefix')
        self.assertErrorBody(env.track(a['tracking_code'], router=other), 404, 'not_found')
        body = env.incident_body(category='detention', description='มีคนถูกกักตัวไว้ในโกดังสินค้า')
        env.note_incident_pii(body)
        r = other.http('POST', '/v1/incidents', body, token=env.operator_token)
        self.assertStatus(r, 201)
        self.assertEqual(r.body['status'], 'queued', "the other deployment has no teams: %r" % r)
        keys = env.redis.keys()
        self.assertTrue(any(k.startswith('other:') for k in keys))
        self.assertEqual([k for k in keys if not k.startswith(('test:', 'other:'))], [])


class StartupTest(RouterTest):

    def run_router(self, extra_env=None, args=None, timeout=15.0):
        """Runs the daemon expecting it to stop by itself; returns (status, stdout, stderr)."""
        env = self.env
        r = harness.Router(env.workdir, env.redis.url, env.admin_token, env.operator_tokens,
                           name='probe', extra_env=extra_env, args=args)
        r.spawn()
        try:
            status = r.proc.wait(harness.scaled(timeout))
        except subprocess.TimeoutExpired:
            r.stop()
            self.fail('the daemon kept running with %r %r' % (extra_env, args))
        with open(r.stdout_path, encoding='utf-8', errors='replace') as f:
            out = f.read()
        with open(r.stderr_path, encoding='utf-8', errors='replace') as f:
            err = f.read()
        for marker in harness.SANITIZER_MARKERS:
            self.assertNotIn(marker, out + err)
        return status, out, err

    def test_help_lists_every_setting(self):
        status, out, err = self.run_router(args=['--help'])
        self.assertEqual(status, 0, err)
        for name in SETTINGS:
            self.assertIn(name, out, '--help lists %s' % name)

    def write_rules(self, name, text):
        path = os.path.join(self.env.workdir, name)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        return path

    def test_broken_rule_file_stops_startup(self):
        path = self.write_rules('broken-syntax.json', '{\n  "categories": {\n    "threat": ,\n')
        status, out, err = self.run_router(extra_env={'ESS_RULES': path})
        self.assertNotEqual(status, 0)
        self.assertIn('broken-syntax.json', out + err)
        self.assertRegex(out + err, r'broken-syntax\.json:\d+', 'names the line')

    def test_bad_rule_field_stops_startup(self):
        with open(harness.DEFAULT_RULES, encoding='utf-8') as f:
            table = json.load(f)
        bad = copy.deepcopy(table)
        bad['categories']['threat']['priority'] = 'P9'
        path = self.write_rules('bad-priority.json', json.dumps(bad, indent=2,
                                                                 ensure_ascii=False))
        status, out, err = self.run_router(extra_env={'ESS_RULES': path})
        self.assertNotEqual(status, 0)
        text = out + err
        self.assertRegex(text, r'bad-priority\.json:\d+', 'names the line')
        self.assertIn('priority', text, 'names the field')
        line = next(i + 1 for i, l in enumerate(json.dumps(bad, indent=2, ensure_ascii=False)
                                                 .splitlines()) if '"P9"' in l)
        self.assertIn('bad-priority.json:%d' % line, text, 'names the right line')

    def test_missing_rule_file_stops_startup(self):
        path = os.path.join(self.env.workdir, 'no-such-rules.json')
        status, out, err = self.run_router(extra_env={'ESS_RULES': path})
        self.assertNotEqual(status, 0)
        self.assertIn('no-such-rules.json', out + err)

    def test_broken_triage_model_stops_startup(self):
        model = os.path.join(os.path.dirname(harness.DEFAULT_RULES), 'triage-model.tsv')
        with open(model, encoding='utf-8') as f:
            lines = f.read().splitlines()
        n = next(i for i, l in enumerate(lines) if l.startswith('w:'))
        lines[n] = lines[n].rsplit('\t', 1)[0]  # five weights instead of six
        path = self.write_rules('broken-model.tsv', '\n'.join(lines) + '\n')
        status, out, err = self.run_router(extra_env={'ESS_TRIAGE_MODEL': path})
        self.assertNotEqual(status, 0)
        self.assertIn('broken-model.tsv:%d' % (n + 1), out + err, 'names the line')
        status, out, err = self.run_router(
            extra_env={'ESS_TRIAGE_MODEL': os.path.join(self.env.workdir, 'no-such-model.tsv')})
        self.assertNotEqual(status, 0)
        self.assertIn('no-such-model.tsv', out + err)

    def test_bad_settings_stop_startup(self):
        for name, value in (('ESS_LISTEN', 'not-an-address'), ('ESS_LISTEN', '127.0.0.1:99999'),
                            ('ESS_REDIS_URL', 'http://127.0.0.1:1/0'),
                            ('ESS_MAX_BODY_BYTES', 'lots'), ('ESS_LOG_LEVEL', 'chatty')):
            with self.subTest(name=name, value=value):
                status, out, err = self.run_router(extra_env={name: value})
                self.assertNotEqual(status, 0)
                self.assertIn(name, out + err, 'the message names the setting')

    def test_secrets_not_in_error_messages(self):
        secret = 'adm-SECRET-' + os.urandom(8).hex()
        status, out, err = self.run_router(extra_env={'ESS_ADMIN_TOKEN': secret,
                                                      'ESS_LISTEN': 'bogus'})
        self.assertNotEqual(status, 0)
        self.assertNotIn(secret, out + err)

    def test_max_body_bytes_setting(self):
        env = self.env
        small = env.add_router(name='small-body', extra_env={'ESS_MAX_BODY_BYTES': '2048'})
        body = env.incident_body(category='threat', description='ถูกเจ้าหนี้นอกระบบขู่ทำร้ายร่างกาย')
        env.note_incident_pii(body)
        r = small.http('POST', '/v1/incidents', body, token=env.operator_token)
        self.assertStatus(r, 201)
        body2 = dict(body, call_id='1300-big', padding='x' * 3000)
        data = json.dumps(body2, ensure_ascii=False).encode()
        raw = (b'POST /v1/incidents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n'
               b'Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close'
               b'\r\n\r\n' % (env.operator_token.encode(), len(data))) + data
        r = harness.raw_request(small.port, raw)
        self.assertIsNotNone(r)
        self.assertErrorBody(r, 413, 'body_too_large')
        self.assertEqual(len(env.list_cases()), 1)


if __name__ == '__main__':
    harness.main()
