// A case's access log, for supervisors (GET /v1/cases/{id}/access-log): who read or changed the
// case, what they did, when, from which address, and whether it was allowed; newest first, a
// page at a time ("older entries" appends the next). Reading it is not itself recorded.

import { get, seg } from './api.js';
import { clear, h } from './dom.js';
import { errorText, formatTime, isoTime, label, t } from './i18n.js';

const PAGE = 20;

// A section for the access log of caseId; section.reload() shows its newest page (again).
export function accessLogSection(caseId) {
  const base = '/v1/cases/' + seg(caseId) + '/access-log?limit=' + PAGE;
  const body = h('tbody');
  const table = h('table.access-log', null,
    h('caption.visually-hidden', null, t('al_title')),
    h('thead', null, h('tr', null, [t('al_when'), t('al_who'), t('al_what'), t('al_where'), t('al_outcome')]
      .map((x) => h('th', { scope: 'col' }, x)))),
    body);
  const more = h('button.more', { type: 'button', hidden: true }, t('al_more'));
  const msg = h('p.msg', { role: 'status' });
  const section = h('section.access-log', { id: 'access-log', 'aria-labelledby': 'access-log-h' },
    h('h2', { id: 'access-log-h' }, t('al_title')),
    h('p.hint', null, t('al_hint')),
    table, h('div.buttons', null, more), msg);
  let next = null;
  let loading = null;

  function row(e) {
    const refused = e.outcome !== 'ok';
    return h('tr', { class: refused ? 'refused' : null, dataset: { entryId: e.id } },
      h('td.when', null, h('time', { datetime: isoTime(e.at) }, formatTime(e.at))),
      h('td', null, label('actor', e.actor.kind), ' ', h('span.mono', null, e.actor.id || '')),
      h('td', null, label('audit_action', e.action)),
      h('td.mono', null, e.ip || t('none')),
      h('td', null, h('span.al-outcome', { class: refused ? 'no' : 'yes' }, label('audit_outcome', e.outcome))));
  }

  async function load(append) {
    const at = append ? next : null;
    msg.textContent = '';
    msg.className = 'msg';
    more.disabled = true;
    try {
      const r = await get(base + (at ? '&cursor=' + encodeURIComponent(at) : ''));
      const entries = (r.body && r.body.entries) || [];
      if (!append) clear(body);
      body.append(...entries.map(row));
      next = r.body ? r.body.next_cursor : null;
      if (!body.firstChild) body.append(h('tr', null, h('td.empty', { colspan: 5 }, t('al_none'))));
    } catch (e) {
      if (e.status === 401) return;
      msg.textContent = errorText(e);
      msg.className = 'msg error';
    } finally {
      more.hidden = !next;
      more.disabled = false;
    }
  }

  more.addEventListener('click', () => {
    const last = body.lastElementChild;
    load(true).then(() => {
      // the focus goes to the first entry that came, so a keyboard reader goes on from there
      const first = last && last.nextElementSibling;
      if (first) {
        first.setAttribute('tabindex', '-1');
        first.focus();
      }
    });
  });
  section.reload = () => {
    if (!loading) loading = load(false).finally(() => { loading = null; });
    return loading;
  };
  return section;
}
