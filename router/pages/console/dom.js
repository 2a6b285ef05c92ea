// Small DOM helpers shared by the screens: elements from data (never from HTML strings, so no
// text the API returns is ever read as markup), live announcements and focus.

import { errorText } from './i18n.js';

// h('p.note', {for: 'x', onclick: fn, dataset: {caseId: 1}}, 'text', child...): an element.
export function h(tag, attrs, ...children) {
  const m = /^([a-z0-9]+)((?:[.#][\w-]+)*)$/i.exec(tag);
  const el = document.createElement(m ? m[1] : tag);
  if (m && m[2]) {
    for (const part of m[2].match(/[.#][\w-]+/g)) {
      if (part[0] === '.') el.classList.add(part.slice(1));
      else el.id = part.slice(1);
    }
  }
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'class') String(v).split(/\s+/).filter(Boolean).forEach((c) => el.classList.add(c));
      else if (k === 'value') el.value = v;
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// Replaces el's children with children (nulls and falses skipped, arrays flattened).
export function fill(el, ...children) {
  append(clear(el), children);
  return el;
}

// Says text to screen readers (the polite live region of index.html) and shows it as a toast.
export function announce(text, kind) {
  const live = document.getElementById('live');
  const toast = document.getElementById('toast');
  if (live) {
    live.textContent = '';
    window.setTimeout(() => { live.textContent = text; }, 50);
  }
  if (toast) {
    toast.textContent = text;
    toast.className = 'toast show' + (kind ? ' ' + kind : '');
    window.clearTimeout(announce.timer);
    announce.timer = window.setTimeout(() => { toast.className = 'toast'; }, 5000);
  }
}

// Moves focus to el (a heading gets tabindex -1 so it can hold it) without scrolling past it.
export function focusOn(el) {
  if (!el) return;
  if (!el.hasAttribute('tabindex') && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) {
    el.setAttribute('tabindex', '-1');
  }
  el.focus();
}

let uid = 0;
export const newId = (prefix) => `${prefix}-${++uid}`;

// A labelled field: label, control, hint and an error slot tied with aria-describedby.
export function field(labelText, control, hint) {
  const id = control.id || newId('f');
  control.id = id;
  const err = h('p.field-error', { id: id + '-err', hidden: true });
  const described = [id + '-err'];
  let hintEl = null;
  if (hint) {
    hintEl = h('p.hint', { id: id + '-hint' }, hint);
    described.unshift(id + '-hint');
  }
  control.setAttribute('aria-describedby', described.join(' '));
  return h('div.field', { dataset: { field: control.name || '' } },
    h('label', { for: id }, labelText), hintEl, control, err);
}

// Shows message under the field of control (or clears it with null).
export function setFieldError(control, message) {
  const err = document.getElementById(control.id + '-err');
  if (!err) return;
  if (message) {
    err.textContent = message;
    err.hidden = false;
    control.setAttribute('aria-invalid', 'true');
  } else {
    err.textContent = '';
    err.hidden = true;
    control.removeAttribute('aria-invalid');
  }
}

export function options(select, items, selected) {
  clear(select);
  for (const [value, text] of items) {
    select.append(h('option', { value, selected: value === selected }, text));
  }
  return select;
}

// Asks a yes/no question in the #confirm dialog (modal: focus stays inside, Escape = no).
// Resolves true when the operator confirms, false when not. opts (all optional): body, elements
// shown under the text (a field to fill); answer(), called on confirming, what to resolve with
// (undefined keeps the dialog open: the field is not filled right); focus, the element focused
// first (else the confirm button); danger, a confirm button that says it cannot be undone.
export function confirmDialog(title, text, okText, cancelText, opts = {}) {
  const dlg = document.getElementById('confirm');
  const back = document.activeElement;
  return new Promise((resolve) => {
    const done = (answer) => {
      dlg.removeEventListener('close', onClose);
      if (dlg.open) dlg.close();
      if (back && back.focus) back.focus();
      resolve(answer);
    };
    const onClose = () => done(false);
    const confirmed = () => {
      const answer = opts.answer ? opts.answer() : true;
      if (answer !== undefined) done(answer);
    };
    const ok = h(opts.danger ? 'button.danger' : 'button.primary', { type: 'button', onclick: confirmed }, okText);
    clear(dlg).append(
      h('h2', { id: 'confirm-title' }, title),
      h('p', null, text),
      ...(opts.body ? [opts.body] : []), // native append would write a null as "null"
      h('div.buttons', null, ok, h('button', { type: 'button', onclick: () => done(false) }, cancelText)));
    dlg.addEventListener('close', onClose);
    dlg.showModal();
    (opts.focus || ok).focus();
  });
}

// A one-button action outside a form: the button disabled while work() runs, then msg says what
// work() resolved to (a text; nothing when it resolves to nothing) or the error.
export async function buttonAction(button, msg, work) {
  msg.textContent = '';
  msg.className = 'msg';
  button.disabled = true;
  try {
    const done = await work();
    if (done) {
      msg.textContent = done;
      msg.className = 'msg ok';
    }
  } catch (e) {
    if (e.status === 401) return;
    msg.textContent = errorText(e);
    msg.className = 'msg error';
  } finally {
    button.disabled = false;
  }
}
