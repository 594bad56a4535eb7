// Helpers shared by the pages. Text from the API is only ever set with
// textContent or as attribute values, never parsed as HTML.

export const finishedStatuses = new Set(['completed', 'completed_with_errors', 'failed', 'cancelled']);

// byId returns the element with the id, failing loudly if the page lacks it.
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) {
    throw new Error(`missing element #${id}`);
  }
  return el;
}

// setText replaces the text of the element with the id.
export function setText(id, text) {
  byId(id).textContent = text;
}

// cell builds a table cell holding text or an element.
export function cell(content, className) {
  const td = document.createElement('td');
  if (content instanceof Node) {
    td.append(content);
  } else {
    td.textContent = String(content);
  }
  if (className) {
    td.className = className;
  }
  return td;
}

// fillRows replaces the rows of a table body and gives each cell the text
// of its column's header as data-label, which narrow screens show beside the
// value.
export function fillRows(tbody, rows) {
  const headers = [...tbody.closest('table').tHead.rows[0].cells].map((th) => th.textContent.trim());
  for (const tr of rows) {
    [...tr.cells].forEach((td, i) => {
      td.dataset.label = headers[i] || '';
    });
  }
  tbody.replaceChildren(...rows);
}

// link builds an <a> with a text.
export function link(href, text, className) {
  const a = document.createElement('a');
  a.href = href;
  a.textContent = text;
  if (className) {
    a.className = className;
  }
  return a;
}

// workLink is the page of a work.
export function workLink(id) {
  return `/works/${encodeURIComponent(id)}`;
}

// callAPI fetches a JSON API path and returns {ok, status, body}; body is
// the decoded JSON or null. A network failure gives status 0.
export async function callAPI(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { credentials: 'same-origin', cache: 'no-store', ...options });
  } catch (err) {
    return { ok: false, status: 0, body: null, error: `The service could not be reached (${err.message}).` };
  }
  let body = null;
  const type = response.headers.get('Content-Type') || '';
  if (type.includes('application/json')) {
    try {
      body = await response.json();
    } catch {
      body = null;
    }
  }
  const result = { ok: response.ok, status: response.status, body };
  if (!response.ok) {
    result.error = errorText(response.status, body);
  }
  return result;
}

// errorText is the message of an error answer for a person.
function errorText(status, body) {
  if (body && typeof body.error === 'string' && body.error !== '') {
    return body.error;
  }
  return `The service answered with status ${status}.`;
}

const numberFormat = new Intl.NumberFormat('en');

// formatNumber writes a count with thousands separators.
export function formatNumber(n) {
  return numberFormat.format(Number(n) || 0);
}

// formatDuration writes seconds as "2 h 5 min", "3 min 20 s" or "45 s".
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) {
    return `${h} h ${m} min`;
  }
  if (m > 0) {
    return `${m} min ${rest} s`;
  }
  return `${rest} s`;
}

// formatTime writes an RFC 3339 time in the reader's local form.
export function formatTime(text) {
  const d = new Date(text);
  if (Number.isNaN(d.getTime()) || d.getTime() <= 0) {
    return '–';
  }
  return d.toLocaleString();
}

// statusText turns a status word into words for a person.
export function statusText(status) {
  return String(status || 'unknown').replaceAll('_', ' ');
}

// setBadge shows a status word in a badge element.
export function setBadge(el, status) {
  el.textContent = statusText(status);
  el.dataset.status = status || '';
}
