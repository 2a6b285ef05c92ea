"""The helper scripts a newcomer runs by hand (issue 7, defect 8): scripts/line-say sends to the
router on ESS_PORT, and when no router answers there it says so in one line and exits non-zero
instead of dying with a Python traceback. Its --sticker and --image reach a chat with a person as
"[sticker]" and "[image]" (issue 11)."""

import os
import secrets
import subprocess
import sys

import harness
from harness import RouterTest

LINE_SAY = os.path.join(harness.REPO_ROOT, 'scripts', 'line-say')


class LineSayTest(RouterTest):

    line_secret = secrets.token_hex(16)
    env_options = {'extra_env': {'LINE_CHANNEL_SECRET': line_secret}}

    def line_say(self, port, *args):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('ESS_') and not k.startswith('LINE_')}
        env.update({'ESS_PORT': str(port), 'LINE_CHANNEL_SECRET': self.line_secret})
        return subprocess.run([sys.executable, LINE_SAY] + list(args), env=env,
                              capture_output=True, text=True, timeout=harness.scaled(30))

    def test_sends_to_the_router_on_ess_port(self):
        """A signed follow event reaches the router on ESS_PORT (not 8080) and is accepted."""
        r = self.line_say(self.env.router.port, '--follow')
        self.assertEqual(r.returncode, 0, r)
        self.assertTrue(r.stdout.startswith('200 '), r)
        c = self.line_say(self.env.router.port, '--print-curl', 'สถานะ')
        self.assertIn('http://127.0.0.1:%d/webhooks/line' % self.env.router.port, c.stdout)

    def test_sticker_and_image_in_a_chat(self):
        """"คุยกับเจ้าหน้าที่" opens a chat (an "other" case, waiting); --sticker and --image are
        then its conversation, as "[sticker]" and "[image]"."""
        env = self.env
        user = 'U' + secrets.token_hex(16)
        env.note_pii(user)
        for args in (['คุยกับเจ้าหน้าที่'], ['--sticker'], ['--image']):
            r = self.line_say(env.router.port, '--user', user, *args)
            self.assertEqual(r.returncode, 0, r)
            self.assertTrue(r.stdout.startswith('200 '), r)
        r = env.http('GET', '/v1/cases?chat=waiting', token=env.operator_token)
        self.assertStatus(r, 200)
        self.assertEqual(len(r.body['cases']), 1, r.body)
        case = r.body['cases'][0]
        self.assertEqual((case['category'], case['chat']), ('other', 'waiting'), case)
        r = env.http('GET', '/v1/cases/%s/chat/messages' % case['case_id'],
                     token=env.operator_token)
        self.assertStatus(r, 200)
        self.assertEqual([m['text'] for m in r.body['messages']], ['[sticker]', '[image]'])
        c = self.line_say(env.router.port, '--print-curl', '--sticker')
        self.assertIn('"type": "sticker"', c.stdout)

    def test_no_router_one_line_and_non_zero(self):
        port = harness.free_port()
        r = self.line_say(port, 'ช่วยด้วย')
        self.assertNotEqual(r.returncode, 0, r)
        self.assertNotIn('Traceback', r.stderr, r)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith('line-say: ') and str(port) in lines[0], lines)

    def test_bad_port_refused(self):
        r = self.line_say('eighty', 'hi')
        self.assertNotEqual(r.returncode, 0, r)
        self.assertNotIn('Traceback', r.stderr, r)
        self.assertIn('ESS_PORT', r.stderr)


if __name__ == '__main__':
    harness.main()
