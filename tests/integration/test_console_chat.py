"""Talking to a person, in the operator console (DESIGN.md "Talking to a person", issue 11): a LINE
reporter asks to talk; the waiting chat is at the top of the queue with its wait ticking (and the
flag once ESS_CHAT_WAIT_S has passed); op-17 takes it from the queue and lands on the case page,
answers (Enter sends, Shift+Enter is a new line) and the fake LINE API gets the push; what the
reporter writes next appears in the open page without a reload (how long that takes is printed as
a TAP diagnostic, never asserted); closing sends the closing line. op-18, whose page was loaded
before op-17 took the chat (its live stream blocked, so the page stays as loaded), is told who has
it when its take meets the 409, and the case page shows the chat read only, "answered by op-17"
(in English). No sideways scrolling at 1366x768, no other host, no CSP problem. Screenshots:
<build dir>/screenshots/console-chat-*.png."""

import secrets
import statistics
import time

import harness
from harness import wait_until
from fake_line import LineTest, tracking_codes
from test_console import BrowserHelpers, new_password

CLOSING_TH = 'จบการสนทนาแล้ว'

# Records when each reporter message appears in the page (Date.now(), the machine's clock, as
# Python's time.time()).
SEEN = ("window.__seen = window.__seen || {};"
        "new MutationObserver(function () {"
        "  document.querySelectorAll('#chat-log li.from-reporter').forEach(function (li) {"
        "    if (!(li.dataset.seq in __seen)) __seen[li.dataset.seq] = Date.now(); });"
        "}).observe(document.body, {childList: true, subtree: true});")


class ChatConsoleTest(BrowserHelpers, LineTest):

    env_options = {'extra_env': {'ESS_CHAT_WAIT_S': '1'}}

    def said(self, text):
        self.env.note_pii(text)
        return text

    def pushed(self, user, text, message):
        """The push to user whose messages carry text, once the fake LINE API has it."""
        return self.fake.wait_for(
            lambda reqs: [r for r in reqs if r.endpoint == 'push' and r.to == user.user_id
                          and any(text in (m.get('text') or '') for m in r.messages)],
            15, message)

    def log_of(self, b):
        """The conversation as the page shows it: (seq, 'reporter' | 'operator', text)."""
        return [tuple(x) for x in b.driver.execute_script(
            "return Array.from(document.querySelectorAll('#chat-log li')).map(function (li) {"
            "  return [Number(li.dataset.seq),"
            "          li.classList.contains('from-reporter') ? 'reporter' : 'operator',"
            "          li.querySelector('.bubble').textContent]; })")]

    def test_take_answer_live_and_close(self):
        env = self.env
        op18_password = new_password()
        self.create_operator('op-18', op18_password)
        # an older case that needs a person: the chat still comes first
        older = env.post_incident(category='detention')
        self.assertEqual(older['status'], 'queued', older)
        b = self.open('chat')
        from selenium.webdriver.common.keys import Keys  # found once a browser is open
        from selenium.webdriver.common.action_chains import ActionChains
        self.login(b)
        wait_until(lambda: b.find('#live-state').get_attribute('data-state') == 'open',
                   message='the live stream open')

        # a LINE reporter asks to talk (no report yet: an "other" case is made)
        user = self.new_user()
        m = self.say(user.text('คุยกับเจ้าหน้าที่'))
        code = tracking_codes(m)[0]
        case_id = self.case_by_code(code)['case_id']
        row = '#queue-human tr[data-case-id="%s"]' % case_id
        wait_until(lambda: b.driver.execute_script(
            "var r = document.querySelector('#queue-human tbody tr');"
            "return r && r.getAttribute('data-case-id')") == case_id,
            message='the waiting chat at the top of the queue')
        age = self.text_of(b, row + ' .chat-note time.age')
        self.assertRegex(age, r'^\d+:\d\d$')
        self.assertIn('รอคุยกับเจ้าหน้าที่', self.text_of(b, row))
        wait_until(lambda: self.text_of(b, row + ' .chat-note time.age') != age,
                   message='the wait ticking')
        # ESS_CHAT_WAIT_S=1: nobody took it, so it is flagged as escalated
        wait_until(lambda: 'รอนานเกินกำหนด' in self.text_of(b, row + ' .chat-note .flag'),
                   message='the escalated flag')
        self.assertTrue(env.case(case_id)['chat_escalated'])
        self.no_sideways_scroll(b, 'the queue with a chat')
        b.screenshot('queue')

        # op-18's page is loaded now, its live stream blocked: it keeps showing the chat waiting
        other = self.open('chat-other', lang='en')
        other.driver.execute_cdp_cmd('Network.setBlockedURLs', {'urls': ['*/v1/events*']})
        self.login(other, 'op-18', op18_password)
        stale = self.wait_for(other, row + ' button.take-chat', message="op-18's take button")

        # op-17 takes it from the queue: the case page, the chat open for writing
        b.find(row + ' button.take-chat').click()
        text = self.wait_for(b, '#chat-send textarea[name=text]', message='the chat open')
        self.assertTrue(b.current_url().endswith('/console/cases/' + case_id), b.current_url())
        self.assertEqual(text.get_attribute('maxlength'), '2000')
        view = env.case(case_id)
        self.assertEqual((view['chat'], view['chat_operator']), ('open', 'op-17'), view)
        wait_until(lambda: 'คุณกำลังตอบแชตนี้' in self.text_of(b, '#chat-state'),
                   message='the panel says it is mine')
        b.driver.execute_script('window.__noReload = 1;' + SEEN)

        # op-18's take meets the 409: told who has it; the row then says so
        stale.click()
        wait_until(lambda: 'op-17 is already answering' in self.text_of(other, '#toast'),
                   message="the 409 said with op-17's id")
        wait_until(lambda: not other.find_all(row + ' button.take-chat') and
                   'op-17' in self.text_of(other, row + ' .chat-note'),
                   message="op-18's row shows op-17 answering")
        self.assertEqual(env.case(case_id)['chat_operator'], 'op-17')

        # op-17 answers: Enter sends, Shift+Enter is a new line; the push carries the text
        answer = self.said('สวัสดีค่ะ เจ้าหน้าที่ 1300 อยู่ตรงนี้แล้วนะคะ ' + secrets.token_hex(3))
        text.click()
        self.keys(b, answer)
        self.assertIn(str(2000 - len(answer)), self.text_of(b, '#chat-left'))
        self.keys(b, Keys.ENTER)
        self.pushed(user, answer, 'the answer pushed to the reporter')
        wait_until(lambda: text.get_attribute('value') == '', message='the box emptied')
        first = self.said('ขอถามที่อยู่ค่ะ ' + secrets.token_hex(3))
        second = self.said('ตอนนี้ปลอดภัยไหมคะ ' + secrets.token_hex(3))
        self.keys(b, first)
        ActionChains(b.driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT) \
            .perform()
        self.keys(b, second, Keys.ENTER)
        self.pushed(user, first + '\n' + second, 'two lines in one message')
        wait_until(lambda: len(self.log_of(b)) == 2, message='both answers in the log')
        self.assertEqual(self.log_of(b), [(1, 'operator', answer),
                                          (2, 'operator', first + '\n' + second)])

        # the reporter writes: each message appears without a reload; how long it took
        latencies = []
        texts = []
        for i in range(5):
            said = self.said('ยังอยู่ค่ะ ข้อความที่ %d %s' % (i + 1, secrets.token_hex(3)))
            texts.append(said)
            t0 = time.time() * 1000
            self.deliver(user.text(said))
            seq = wait_until(lambda: next((s for s, who, t in self.log_of(b)
                                           if who == 'reporter' and t == said), None),
                             15, message='the reporter message %d in the page' % (i + 1))
            seen = wait_until(lambda: b.driver.execute_script(
                'return window.__seen[arguments[0]]', str(seq)), message='its time seen')
            latencies.append(int(round(seen - t0)))
            print('# chat latency: %d ms' % latencies[-1], flush=True)
        print('# chat latency: median %d ms, min %d, max %d over %d messages (webhook sent to '
              'element shown)' % (statistics.median(latencies), min(latencies), max(latencies),
                                  len(latencies)), flush=True)
        self.assertEqual(b.driver.execute_script('return window.__noReload'), 1, 'no reload')
        b.screenshot('open')
        # a long message without spaces wraps in its bubble
        long_text = self.said('ก' * 1200 + secrets.token_hex(3))
        self.deliver(user.text(long_text))
        wait_until(lambda: len(self.log_of(b)) == 8, message='the long message shown')
        self.assertEqual(self.log_of(b),
                         [(1, 'operator', answer), (2, 'operator', first + '\n' + second)] +
                         [(3 + i, 'reporter', t) for i, t in enumerate(texts)] +
                         [(8, 'reporter', long_text)])
        self.no_sideways_scroll(b, 'the case page with the chat')
        b.screenshot('open-long')

        # op-18 opens the case: the conversation read only, answered by op-17
        other.find(row + ' td.code a').click()
        wait_until(lambda: 'Answered by op-17' in self.text_of(other, '#chat-state'),
                   message="op-18 sees who answers")
        wait_until(lambda: len(self.log_of(other)) == 8, message="op-18 reads the conversation")
        self.assertFalse(other.find('#chat-send').is_displayed(), 'no writing for op-18')
        self.assertFalse(other.find('#chat-take').is_displayed())
        self.assertFalse(other.find('#chat-close').is_displayed())
        self.no_sideways_scroll(other, "op-18's case page")
        other.screenshot('answered-by-en')

        # op-17 ends the chat: confirmed, the closing line goes to the reporter
        b.find('#chat-close').click()
        dialog = self.wait_for(b, '#confirm[open]', message='the confirmation')
        self.assertIn('จบการสนทนา', dialog.text)
        dialog.find_element('css selector', 'button.primary').click()
        self.pushed(user, CLOSING_TH, 'the closing line')
        wait_until(lambda: env.case(case_id)['chat'] == 'closed', message='closed')
        wait_until(lambda: 'จบการสนทนาแล้ว' in self.text_of(b, '#chat-state'),
                   message='the panel says it ended')
        self.assertFalse(b.find('#chat-send').is_displayed(), 'no writing once closed')
        self.assertEqual(len(self.log_of(b)), 8, 'the conversation stays readable')
        self.assertEqual(b.driver.execute_script('return window.__noReload'), 1, 'no reload')
        b.screenshot('closed')

    def test_a_long_conversation_loads_whole(self):
        """More messages than one page of GET chat/messages (200): the case page fetches every
        page, and shows each message once, in order."""
        user = self.new_user()
        m = self.say(user.text('คุยกับเจ้าหน้าที่'))
        case_id = self.case_by_code(tracking_codes(m)[0])['case_id']
        texts = [self.said('ข้อความ %03d %s' % (i, secrets.token_hex(4))) for i in range(230)]
        events = [user.text(t) for t in texts]
        for i in range(0, len(events), 50):
            self.deliver(*events[i:i + 50])
        b = self.open('chat-long')
        self.login(b)
        b.get(self.base + '/console/cases/' + case_id)
        wait_until(lambda: len(self.log_of(b)) == len(texts), 20, message='every message shown')
        self.assertEqual(self.log_of(b), [(i + 1, 'reporter', t) for i, t in enumerate(texts)])
        self.assertTrue(b.driver.execute_script(
            "var l = document.getElementById('chat-log');"
            "return l.scrollHeight - l.scrollTop - l.clientHeight < 40"), 'scrolled to the last')


if __name__ == '__main__':
    harness.main()
