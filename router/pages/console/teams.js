// Teams (/console/teams): every team on the map and in a table with availability and load, kept
// fresh while the screen is open (case changes move loads; positions come with each reload).

import { get } from './api.js';
import { clear, h } from './dom.js';
import { errorText, formatTime, isoTime, label, t } from './i18n.js';
import { onCase } from './live.js';
import { fit, makeMap, marker, refresh } from './map.js';

// Available, full (available but at capacity) or unavailable, as a coloured word.
function availability(tm) {
  if (!tm.available) return h('span.avail.no', null, t('team_is_unavailable'));
  if (tm.active_cases >= tm.capacity) return h('span.avail.full', null, t('cand_full'));
  return h('span.avail.yes', null, t('team_is_available'));
}

export function render(main) {
  let map = null;
  let layers = [];
  let teams = [];
  let alive = true;
  let timer = null;

  const mapEl = h('div', { id: 'teams-map' });
  const tableSlot = h('div', { id: 'teams-table' }, h('p.loading', null, t('loading')));
  main.classList.add('wide');
  main.append(h('div.page-head', null, h('h1', null, t('teams_title'))),
    h('div.teams', null, h('section', { 'aria-label': t('case_map') }, mapEl), tableSlot));

  const drawMap = (first) => {
    if (!map) return;
    layers.forEach((l) => l && l.remove());
    layers = teams.map((tm) => marker(map, tm.lat, tm.lon, tm.available && tm.active_cases < tm.capacity ? 'team' : 'team-off',
      `${tm.name} · ${tm.active_cases}/${tm.capacity}`, `${tm.team_id} ${tm.active_cases}/${tm.capacity}`));
    if (first) fit(map, teams.map((tm) => [tm.lat, tm.lon]));
  };

  const draw = () => {
    clear(tableSlot).append(teams.length ? h('table.teams-list', null,
      h('caption.visually-hidden', null, t('teams_title')),
      h('thead', null, h('tr', null, [t('team_name'), t('team_id'), t('team_skills'), t('team_available'), t('team_load'), t('team_updated')]
        .map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, teams.map((tm) => h('tr', { dataset: { teamId: tm.team_id } },
        h('td', null, tm.name),
        h('td.mono', null, tm.team_id),
        h('td', null, (tm.skills || []).map((s) => label('skill', s)).join(', ')),
        h('td', null, availability(tm)),
        h('td.num', null, h('span', { class: tm.active_cases >= tm.capacity ? 'load full' : 'load' }, `${tm.active_cases}/${tm.capacity}`)),
        h('td.when', null, h('time', { datetime: isoTime(tm.updated_at) }, formatTime(tm.updated_at)))))))
      : h('p', null, t('teams_empty')));
  };

  const load = async (first) => {
    const all = [];
    let cursor = '';
    try {
      for (let page = 0; page < 20; page++) {
        const r = await get('/v1/teams?limit=200' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
        all.push(...((r.body && r.body.teams) || []));
        cursor = r.body && r.body.next_cursor;
        if (!cursor) break;
      }
    } catch (e) {
      if (e.status === 401 || !alive) return;
      clear(tableSlot).append(h('p.form-error', { role: 'alert' }, errorText(e)));
      return;
    }
    if (!alive) return;
    teams = all;
    draw();
    drawMap(first);
  };

  makeMap(mapEl, t('teams_title')).then((m) => {
    if (!m) return;
    if (!alive) { m.remove(); return; }
    map = m;
    refresh(map);
    drawMap(true);
  });
  load(true);

  const stop = onCase(() => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => load(false), 500);
  });

  return () => {
    alive = false;
    stop();
    window.clearTimeout(timer);
    if (map) map.remove();
  };
}
