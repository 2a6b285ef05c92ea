// One incident, one case (/console/cases/{id}): a case the router marked possible_duplicate_of
// another shows a banner with both cases side by side (category, status, when reported, how far
// apart, tracking code, a link to the other) and a button that merges this case into the other,
// behind a confirm (POST /v1/cases/{id}/merge); a merged case says which case it was merged into.

import { get, post, seg } from './api.js';
import { announce, buttonAction, clear, confirmDialog, h } from './dom.js';
import { formatTime, label, t } from './i18n.js';

const caseHref = (id) => '/console/cases/' + encodeURIComponent(id);

// section#duplicate; draw(c) follows the case c (its view). onMerged(view) gets the merged case's
// view after a merge.
export function duplicateSection(caseId, onMerged) {
  const el = h('section#duplicate.duplicate', { hidden: true, 'aria-labelledby': 'dup-h' });
  let drawn = 0; // draws started: an older one that answers late is dropped

  async function other(id) {
    try {
      return (await get('/v1/cases/' + seg(id))).body || null;
    } catch (e) {
      return e.status === 401 ? undefined : null;
    }
  }

  function mergedLine(c, o) {
    const code = (o && o.tracking_code) || c.merged_into;
    el.className = 'duplicate merged';
    clear(el).append(h('h2.visually-hidden', { id: 'dup-h' }, t('dup_merged_title')),
      h('p', { id: 'merged-into' }, t('merged_into'), ' ',
        h('a', { href: caseHref(c.merged_into), lang: 'en' }, code),
        o ? [' · ', label('status', o.status)] : null));
  }

  function sideBySide(c, o) {
    const msg = h('p.msg', { role: 'status', id: 'dup-msg' });
    const open = o && o.status !== 'closed' && !o.merged_into;
    const button = h('button.primary', { type: 'button', id: 'merge-into', hidden: !open || null },
      t('dup_merge', { code: o ? o.tracking_code : '' }));
    const col = (head) => h('th', { scope: 'col' }, head);
    const row = (name, a, b) => h('tr', null, h('th', { scope: 'row' }, name), h('td', null, a), h('td', null, b));
    const metres = c.possible_duplicate_m != null ? t('dup_metres', { m: Math.round(c.possible_duplicate_m) }) : t('none');
    el.className = 'duplicate';
    clear(el).append(
      h('h2', { id: 'dup-h' }, t('dup_title')),
      h('p', null, t('dup_intro', { m: metres })),
      h('table.dup-compare', null,
        h('caption.visually-hidden', null, t('dup_title')),
        h('thead', null, h('tr', null, h('td'), col(t('dup_this')), col(t('dup_other')))),
        h('tbody', null,
          row(t('fact_category'), label('category', c.category), o ? label('category', o.category) : t('none')),
          row(t('fact_status'), label('status', c.status), o ? label('status', o.status) : t('none')),
          row(t('fact_created'), formatTime(c.created_at), o ? formatTime(o.created_at) : t('none')),
          h('tr', null, h('th', { scope: 'row' }, t('dup_distance')), h('td.apart', { colspan: 2 }, metres)),
          row(t('fact_code'), h('span.code', { lang: 'en' }, c.tracking_code),
            h('a', { href: caseHref(c.possible_duplicate_of), id: 'dup-other-link', lang: 'en' },
              o ? o.tracking_code : c.possible_duplicate_of)))),
      h('p.hint', { hidden: open || null }, o ? t('dup_other_closed') : t('dup_other_unreadable')),
      h('div.buttons', null, button), msg);
    button.addEventListener('click', () => buttonAction(button, msg, async () => {
      const ok = await confirmDialog(t('dup_merge_title', { code: o.tracking_code }),
        t('dup_merge_text', { code: o.tracking_code }), t('dup_merge_confirm'), t('cancel'));
      if (!ok) return null;
      const r = await post('/v1/cases/' + seg(caseId) + '/merge', { into: c.possible_duplicate_of });
      announce(t('dup_merged', { code: o.tracking_code }));
      onMerged(r.body);
      return null;
    }));
  }

  async function draw(c) {
    const n = ++drawn;
    const target = c.merged_into || (c.status !== 'closed' && c.possible_duplicate_of);
    if (!target) {
      el.hidden = true;
      clear(el);
      return;
    }
    const o = await other(target);
    if (n !== drawn || o === undefined) return;
    const focused = el.contains(document.activeElement) ? document.activeElement.id : null;
    if (c.merged_into) mergedLine(c, o); else sideBySide(c, o);
    el.hidden = false;
    const again = focused && document.getElementById(focused);
    if (again) again.focus();
  }

  return { el, draw };
}
