// The admin page: the politeness limits (GET and PUT /admin/limits) and the
// cluster (GET /admin/cluster). When the API asks for a token (401 or 403),
// the page asks the user for it, keeps it in sessionStorage for this tab and
// retries with it as a bearer token.
import { byId, callAPI, cell, fillRows, formatNumber, setBadge, setText } from './common.js';

const tokenKey = 'signalscrape.adminToken';
const alertBox = byId('admin-error');
const tokenForm = byId('token-form');
const limitsForm = byId('limits-form');

// tokenWaiters are the calls waiting for the user to give a token.
let tokenWaiters = [];

function storedToken() {
  try {
    return window.sessionStorage.getItem(tokenKey) || '';
  } catch {
    return '';
  }
}

function storeToken(token) {
  try {
    window.sessionStorage.setItem(tokenKey, token);
  } catch {
    // Storage can be refused (some private modes); the page then asks for
    // the token again at the next refused call.
  }
}

// askToken shows the token form and resolves once the user submits it.
function askToken(reason) {
  setText('token-reason', reason);
  tokenForm.hidden = false;
  byId('token').focus();
  return new Promise((resolve) => tokenWaiters.push(resolve));
}

tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = byId('token').value.trim();
  if (token === '') {
    return;
  }
  storeToken(token);
  byId('token').value = '';
  tokenForm.hidden = true;
  const waiters = tokenWaiters;
  tokenWaiters = [];
  waiters.forEach((resolve) => resolve(token));
});

// adminCall calls an admin endpoint, asking for a token and retrying for as
// long as the API refuses the one it has.
async function adminCall(path, options = {}) {
  let token = storedToken();
  for (;;) {
    const headers = { ...(options.headers || {}) };
    if (token !== '') {
      headers.Authorization = `Bearer ${token}`;
    }
    const answer = await callAPI(path, { ...options, headers });
    if (answer.status !== 401 && answer.status !== 403) {
      return answer;
    }
    const said = answer.error.replace(/[.\s]+$/, '');
    token = await askToken(`The service answered: ${said}. Enter the admin token to continue.`);
  }
}

function fillLimits(l) {
  byId('min-interval').value = l.min_interval_ms;
  byId('max-interval').value = l.max_interval_ms;
  byId('max-concurrency').value = l.max_concurrency;
  byId('save-limits').disabled = false;
}

async function loadLimits() {
  const answer = await adminCall('/admin/limits');
  if (!answer.ok) {
    alertBox.textContent = `The limits could not be read: ${answer.error}`;
    return;
  }
  fillLimits(answer.body);
}

// readLimits reads the form, or returns an error message.
function readLimits() {
  const fields = [
    ['min-interval', 'min_interval_ms', 0, 'The shortest gap'],
    ['max-interval', 'max_interval_ms', 0, 'The longest gap'],
    ['max-concurrency', 'max_concurrency', 1, 'The number of requests in flight'],
  ];
  const limits = {};
  for (const [id, key, least, name] of fields) {
    const raw = byId(id).value.trim();
    if (!/^[0-9]+$/.test(raw) || Number(raw) < least) {
      byId(id).focus();
      return { error: `${name} must be a whole number of ${least} or more.` };
    }
    limits[key] = Number(raw);
  }
  if (limits.min_interval_ms > limits.max_interval_ms) {
    byId('min-interval').focus();
    return { error: 'The shortest gap must not be longer than the longest gap.' };
  }
  return { limits };
}

async function saveLimits(event) {
  event.preventDefault();
  alertBox.textContent = '';
  setText('limits-status', '');
  const { limits, error } = readLimits();
  if (error) {
    alertBox.textContent = error;
    return;
  }
  byId('save-limits').disabled = true;
  setText('limits-status', 'Saving…');
  const answer = await adminCall('/admin/limits', {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(limits),
  });
  byId('save-limits').disabled = false;
  if (!answer.ok) {
    setText('limits-status', '');
    alertBox.textContent = `The limits were not saved: ${answer.error}`;
    return;
  }
  fillLimits(answer.body);
  const l = answer.body;
  setText('limits-status', `Saved. In force now: ${formatNumber(l.min_interval_ms)} to ` +
    `${formatNumber(l.max_interval_ms)} ms between requests, at most ${formatNumber(l.max_concurrency)} in flight.`);
}

function memberRow(m) {
  const tr = document.createElement('tr');
  const badge = document.createElement('span');
  badge.className = 'badge';
  setBadge(badge, m.status);
  tr.append(cell(m.name), cell(badge), cell(m.gossip_addr || '–', 'mono'), cell(m.actor_addr || '–', 'mono'),
    cell(m.http_addr || '–', 'mono'), cell(formatNumber(m.tasks_run), 'number'));
  return tr;
}

async function loadCluster() {
  setText('cluster-status', 'Loading…');
  const answer = await adminCall('/admin/cluster');
  if (!answer.ok) {
    setText('cluster-status', '');
    alertBox.textContent = `The cluster could not be read: ${answer.error}`;
    return;
  }
  const info = answer.body;
  const members = info.members || [];
  fillRows(byId('member-rows'), members.map(memberRow));
  const bucket = info.token_bucket || {};
  setText('bucket-member', bucket.member || 'no member');
  setText('bucket-in-flight', formatNumber(bucket.in_flight));
  setText('bucket-granted', formatNumber(bucket.granted_total));
  setText('bucket-queued', formatNumber(bucket.queued));
  setText('cluster-status', `${members.length} ${members.length === 1 ? 'member' : 'members'}, ` +
    `read at ${new Date().toLocaleTimeString()}.`);
}

limitsForm.addEventListener('submit', saveLimits);
byId('refresh-cluster').addEventListener('click', loadCluster);
loadLimits();
loadCluster();
