// Maps: Leaflet as Debian packages it (/assets/leaflet/leaflet.js, the global L), tiles from the
// template the router gives in /console/config.json (ESS_MAP_TILES; none: a plain background
// with the markers only). Markers are SVG circles styled by class, so no image and no inline style.

import { t } from './i18n.js';

const BANGKOK = [13.7563, 100.5018];
let config = null;

export async function loadConfig() {
  if (config) return config;
  try {
    const res = await fetch('/console/config.json', { credentials: 'same-origin', cache: 'no-store' });
    config = res.ok ? await res.json() : {};
  } catch (e) {
    config = {};
  }
  return config;
}

export function hasLeaflet() { return typeof window.L !== 'undefined'; }

// A map in el (which gets role and label), centred on Bangkok until fitted. Resolves to the
// Leaflet map, or null when Leaflet is missing or el left the page meanwhile. The caller removes
// it (map.remove()) when its screen closes, or at once when that happened first.
export async function makeMap(el, what) {
  const cfg = await loadConfig();
  el.classList.add('map');
  el.setAttribute('role', 'region');
  el.setAttribute('aria-label', t('map_label', { what }));
  if (!hasLeaflet()) return null;
  // no zoom animation: a screen left during one would leave Leaflet a frame on a removed map
  const map = window.L.map(el, { center: BANGKOK, zoom: 11, keyboard: true, zoomAnimation: false });
  if (cfg.map_tiles) {
    // OpenStreetMap's tiles must credit its contributors (text only: nothing is loaded for it)
    const osm = /openstreetmap\./i.test(cfg.map_tiles);
    window.L.tileLayer(cfg.map_tiles, { maxZoom: 19, attribution: osm ? '© OpenStreetMap contributors' : '' }).addTo(map);
  } else {
    el.classList.add('map-plain');
    const note = document.createElement('p');
    note.className = 'map-note';
    note.textContent = t('map_no_tiles');
    el.parentNode && el.parentNode.insertBefore(note, el.nextSibling);
  }
  return map;
}

// A circle marker of a kind ("incident", "team", "team-held", "team-off", "pick") with a tooltip
// (text), and with a label always shown beside it when tag is given.
export function marker(map, lat, lon, kind, text, tag) {
  if (!map || lat === null || lat === undefined || lon === null || lon === undefined) return null;
  const m = window.L.circleMarker([lat, lon], {
    radius: kind === 'incident' || kind === 'pick' ? 10 : 8,
    className: 'mk mk-' + kind,
    weight: 2,
  }).addTo(map);
  if (tag) m.bindTooltip(tag, { permanent: true, direction: 'right', offset: [8, 0], className: 'mk-label' });
  else if (text) m.bindTooltip(text);
  return m;
}

// Zooms to show every point ([lat, lon] pairs; nulls skipped).
export function fit(map, points) {
  if (!map) return;
  const pts = points.filter((p) => p && p[0] !== null && p[0] !== undefined && p[1] !== null && p[1] !== undefined);
  if (pts.length === 1) map.setView(pts[0], 14, { animate: false });
  else if (pts.length > 1) {
    // more room on the right, where the labels go
    map.fitBounds(pts, { paddingTopLeft: [30, 30], paddingBottomRight: [120, 30], maxZoom: 15, animate: false });
  }
}

// Leaflet measures its container: call after the container is shown or resized.
export function refresh(map) {
  // a map removed meanwhile (its screen closed) has no panes left to measure
  if (map) window.setTimeout(() => { if (map._mapPane) map.invalidateSize(); }, 0);
}
