// A case's consent to share the reporter's identifying data with the agencies that help (POST
// /v1/cases/{id}/consent): what was last recorded (share or not, on which basis, by whom, when,
// the note) and a form to record it anew: two choices, the basis, a note. The reporter's own
// answer in LINE shows the same way, by "the reporter". The responding team needs none.

import { post } from './api.js';
import { field, fill, h, options } from './dom.js';
import { formatTime, label, t } from './i18n.js';

const BASES = ['consent', 'vital_interest', 'legal_obligation'];

// The consent as one line of words: "share · on consent · by op-17 · 21 พ.ย. 10:04", or "not
// recorded".
export function consentText(consent, who) {
  if (!consent) return t('consent_none');
  return [consent.share_with_agencies ? t('consent_share') : t('consent_no_share'),
    label('consent_basis', consent.basis), who(consent.by), formatTime(consent.at)].join(' · ');
}

// The form (form#act-consent), made with the case page's actionForm(id, title, fields, submit,
// onSubmit); update(view) takes the case the answer brings. form.draw(view) shows the case's
// consent above the choices.
export function consentForm(base, actionForm, update, who) {
  const now = h('p.consent-now', { id: 'consent-now', role: 'status' });
  const noteNow = h('p.consent-note.pre', { hidden: true });
  const share = h('input', { type: 'radio', name: 'share_with_agencies', value: 'yes', id: 'consent-share' });
  const noShare = h('input', { type: 'radio', name: 'share_with_agencies', value: 'no', id: 'consent-no-share' });
  const choices = h('fieldset.choices', { 'aria-describedby': 'consent-share-err' },
    h('legend', null, t('consent_question')),
    h('label.choice', { for: 'consent-share' }, share, ' ', t('consent_share')),
    h('label.choice', { for: 'consent-no-share' }, noShare, ' ', t('consent_no_share')),
    h('p.field-error', { id: 'consent-share-err', hidden: true }));
  const basis = options(h('select', { name: 'basis' }), BASES.map((b) => [b, label('consent_basis', b)]), 'consent');
  const note = h('textarea', { name: 'note', rows: 2, maxlength: 1000 });
  const form = actionForm('act-consent', t('act_consent'),
    [now, noteNow, choices, field(t('consent_basis_label'), basis), field(t('consent_note_label'), note, t('consent_note_hint'))],
    t('act_consent_submit'), async () => {
      if (!share.checked && !noShare.checked) {
        const e = new Error(t('consent_choose'));
        e.validation = 'share_with_agencies';
        throw e;
      }
      const body = { share_with_agencies: share.checked, basis: basis.value };
      if (note.value.trim()) body.note = note.value.trim();
      const r = await post(base + '/consent', body);
      note.value = '';
      share.checked = false;
      noShare.checked = false;
      update(r.body);
    });
  form.draw = (c) => {
    fill(now, h('strong', null, t('consent_now')), ' ', consentText(c.consent, who));
    now.className = 'consent-now ' + (!c.consent ? 'unknown' : c.consent.share_with_agencies ? 'share' : 'no-share');
    noteNow.hidden = !(c.consent && c.consent.note);
    noteNow.textContent = c.consent && c.consent.note ? c.consent.note : '';
  };
  return form;
}
