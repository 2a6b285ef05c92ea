// A case's personal data erased on request, for supervisors (DELETE /v1/cases/{id}/personal-data):
// on a closed case, a button behind a dialog that asks why (the reason is required, and kept with
// the case); an erased case says when, by whom and why; an open case says to close it first. The
// retention sweep erases every closed case the same way ESS_RETENTION_DAYS after it was closed.

import { api, seg } from './api.js';
import { announce, clear, fill, h, setFieldError } from './dom.js';
import { errorText, formatTime, isoTime, t } from './i18n.js';

const REASON_MAX = 500; // characters (code points), as the router counts them

// Asks the reason in the #confirm dialog (modal: Escape or Cancel = no). Resolves to the reason
// typed (trimmed), or null when cancelled; an empty or too long reason keeps the dialog open with
// the field's error.
function reasonDialog() {
  const dlg = document.getElementById('confirm');
  const back = document.activeElement;
  return new Promise((resolve) => {
    const reason = h('textarea', { name: 'reason', id: 'erase-reason', rows: 3, maxlength: REASON_MAX * 2,
      autocomplete: 'off', 'aria-describedby': 'erase-reason-hint erase-reason-err', 'aria-required': 'true' });
    const err = h('p.field-error', { id: 'erase-reason-err', hidden: true });
    const done = (answer) => {
      dlg.removeEventListener('close', onClose);
      if (dlg.open) dlg.close();
      if (back && back.focus) back.focus();
      resolve(answer);
    };
    const onClose = () => done(null);
    const ok = h('button.danger', { type: 'button' }, t('erase_confirm'));
    ok.addEventListener('click', () => {
      const text = reason.value.trim();
      const n = [...text].length;
      if (!n || n > REASON_MAX) {
        setFieldError(reason, n ? t('erase_reason_long', { n: REASON_MAX }) : t('err_required'));
        reason.focus();
        return;
      }
      done(text);
    });
    clear(dlg).append(
      h('h2', { id: 'confirm-title' }, t('erase_confirm_title')),
      h('p', null, t('erase_confirm_text')),
      h('div.field', null,
        h('label', { for: 'erase-reason' }, t('erase_reason')),
        h('p.hint', { id: 'erase-reason-hint' }, t('erase_reason_hint')), reason, err),
      h('div.buttons', null, ok, h('button', { type: 'button', onclick: () => done(null) }, t('cancel'))));
    dlg.addEventListener('close', onClose);
    dlg.showModal();
    reason.focus();
  });
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
    msg.textContent = '';
    msg.className = 'msg';
    const reason = await reasonDialog();
    if (reason === null) return;
    button.disabled = true;
    try {
      const r = await api('DELETE', '/v1/cases/' + seg(caseId) + '/personal-data', { reason });
      announce(t('erase_done'));
      if (r.body) onErased(r.body);
      state.setAttribute('tabindex', '-1');
      state.focus();
    } catch (e) {
      if (e.status === 401) return;
      msg.textContent = errorText(e);
      msg.className = 'msg error';
    } finally {
      button.disabled = false;
    }
  });
  return section;
}
