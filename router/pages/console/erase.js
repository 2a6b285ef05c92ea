// A case's personal data erased on request, for supervisors (DELETE /v1/cases/{id}/personal-data):
// on a closed case, a button behind a dialog that asks why (the reason is required, and kept with
// the case); an erased case says when, by whom and why; an open case says to close it first. The
// retention sweep erases every closed case the same way ESS_RETENTION_DAYS after it was closed.

import { api, seg } from './api.js';
import { announce, buttonAction, confirmDialog, field, fill, h, setFieldError } from './dom.js';
import { formatTime, isoTime, t } from './i18n.js';

const REASON_MAX = 500; // characters (code points), as the router counts them

// Asks the reason in the #confirm dialog: resolves to the reason typed (trimmed), or null when
// cancelled; an empty or too long reason keeps the dialog open with the field's error.
async function askReason() {
  const reason = h('textarea', { name: 'reason', rows: 3, autocomplete: 'off', 'aria-required': 'true' });
  const answer = () => {
    const text = reason.value.trim();
    const n = [...text].length;
    if (n && n <= REASON_MAX) return text;
    setFieldError(reason, n ? t('erase_reason_long', { n: REASON_MAX }) : t('err_required'));
    reason.focus();
    return undefined;
  };
  const got = await confirmDialog(t('erase_confirm_title'), t('erase_confirm_text'), t('erase_confirm'), t('cancel'),
    { body: field(t('erase_reason'), reason, t('erase_reason_hint')), answer, focus: reason, danger: true });
  return got || null;
}

// section#erase for caseId: section.draw(view) follows the case; onErased(view) gets the case as
// the erasure answered it.
export function eraseSection(caseId, onErased) {
  const state = h('p.erase-state', { id: 'erase-state' });
  const button = h('button.danger', { type: 'button', id: 'erase-button', hidden: true }, t('erase_button'));
  const msg = h('p.msg', { role: 'status' });
  const section = h('section.erase', { id: 'erase', 'aria-labelledby': 'erase-h' },
    h('h2', { id: 'erase-h' }, t('erase_title')),
    h('p.hint', null, t('erase_hint')), state, h('div.buttons', null, button), msg);

  section.draw = (c) => {
    if (c.erased_at) {
      fill(state, t('erased_line', { by: c.erased_by || t('by_router') }), ' ',
        h('time', { datetime: isoTime(c.erased_at) }, formatTime(c.erased_at)),
        c.erase_reason ? [h('br'), t('erased_reason', { reason: c.erase_reason })] : null);
    } else {
      fill(state, c.status === 'closed' ? t('erase_closed') : t('erase_open'));
    }
    section.classList.toggle('erased', !!c.erased_at);
    button.hidden = !!c.erased_at || c.status !== 'closed';
  };

  button.addEventListener('click', async () => {
    const reason = await askReason();
    if (reason === null) return;
    await buttonAction(button, msg, async () => {
      const r = await api('DELETE', '/v1/cases/' + seg(caseId) + '/personal-data', { reason });
      if (r.body) onErased(r.body);
      state.setAttribute('tabindex', '-1');
      state.focus();
      announce(t('erase_done'));
      return t('erase_done');
    });
  });
  return section;
}
