// A work's page: its status pushed by the server through server-sent events
// (/works/{id}/events), the failed ids, the downloads and profiles once the
// work is finished, and a button to cancel it.
import {
  byId, callAPI, cell, fillRows, finishedStatuses, formatDuration, formatNumber, formatTime, link, setBadge, setText,
} from './common.js';
import { showPlots } from './plots.js';

const workID = byId('work').dataset.idwork;
const path = encodeURIComponent(workID);
const alertBox = byId('work-error');

const downloads = [
  { format: 'csv', text: 'Matrix (CSV)', result: true },
  { format: 'tsv', text: 'Matrix (TSV)', result: true },
  { format: 'sigprofiler', text: 'SigProfiler matrix', result: true },
  { format: 'long', text: 'Long format', result: true },
  { format: 'manifest', text: 'Manifest', result: true },
  { format: 'plots', text: 'Plots (zip of SVG)', result: true },
  { format: 'errors', text: 'Failed ids (CSV)', result: false },
];

let source = null;
let finished = false;
let plotsShown = false;

function render(st) {
  finished = finishedStatuses.has(st.status);
  setBadge(byId('status-word'), st.status);
  renderProgress(st);
  for (const name of ['pending', 'running', 'completed', 'failed', 'cancelled']) {
    setText(`count-${name}`, formatNumber(st.counts?.[name]));
  }
  setText('rate', rateText(st));
  setText('eta', etaText(st));
  setText('from-cache', formatNumber(st.from_cache));
  setText('created-at', formatTime(st.created_at));
  byId('cancel').disabled = finished;
  if (finished) {
    byId('cancel-confirm-area').hidden = true;
  }
  renderFailures(st.errors || []);
  renderDownloads(st);
  if (finished && st.download_url && !plotsShown) {
    plotsShown = true;
    showPlots(workID);
  }
  renderSource(st.source);
}

// renderSource shows the banner while the node's source cannot fetch.
function renderSource(src) {
  if (!src) {
    return;
  }
  byId('source-banner').hidden = src.available;
  setText('source-problem', src.problem || '');
}

function renderProgress(st) {
  const percent = Math.min(100, Math.max(0, Number(st.percent) || 0));
  const done = (st.counts?.completed || 0) + (st.counts?.failed || 0);
  const bar = byId('progress');
  bar.value = percent;
  bar.textContent = `${percent.toFixed(0)}%`;
  bar.setAttribute('aria-valuetext', `${percent.toFixed(0)}%, ${done} of ${st.total} ids done`);
  setText('percent', `${percent.toFixed(percent === 100 || percent === 0 ? 0 : 1)}%`);
  setText('done-line', `${formatNumber(done)} of ${formatNumber(st.total)} ids done`);
}

// rateText is the average number of ids settled per minute since the work
// was created, or per hour when that is too slow to show per minute.
function rateText(st) {
  const done = (st.counts?.completed || 0) + (st.counts?.failed || 0);
  const seconds = (new Date(st.updated_at) - new Date(st.created_at)) / 1000;
  if (!(seconds > 0) || done === 0) {
    return '–';
  }
  const perMinute = (done * 60) / seconds;
  if (perMinute < 0.1) {
    return `${rounded(perMinute * 60)} ids per hour`;
  }
  return `${rounded(perMinute)} ids per minute`;
}

// rounded shows a rate to the nearest whole number from 10 up, else to one
// decimal.
function rounded(x) {
  return x >= 10 ? String(Math.round(x)) : x.toFixed(1);
}

function etaText(st) {
  if (finished) {
    return 'none, the work is finished';
  }
  if (!(st.eta_seconds > 0)) {
    return '–';
  }
  return `about ${formatDuration(st.eta_seconds)}`;
}

function renderFailures(errors) {
  fillRows(byId('failure-rows'), errors.map((e) => {
    const tr = document.createElement('tr');
    tr.append(cell(e.id, 'mono'), cell(e.label), cell(e.error), cell(formatNumber(e.attempts), 'number'),
      evidenceCell(e));
    return tr;
  }));
  byId('failures').hidden = errors.length === 0;
}

// evidenceCell links the screenshot and the page's HTML kept of a failed
// step, each named for the id so that a screen reader tells them apart.
function evidenceCell(e) {
  const links = [];
  if (e.evidence_url) {
    links.push(link(e.evidence_url, 'screenshot'));
  }
  if (e.evidence_html_url) {
    links.push(link(e.evidence_html_url, 'page HTML'));
  }
  if (links.length === 0) {
    return cell('–');
  }
  const td = cell('');
  links.forEach((a, i) => {
    a.setAttribute('aria-label', `${a.textContent} of ${e.id}`);
    if (i > 0) {
      td.append(' · ');
    }
    td.append(a);
  });
  return td;
}

function renderDownloads(st) {
  const list = byId('download-list');
  if (!finished) {
    list.replaceChildren();
    byId('downloads').hidden = true;
    return;
  }
  const offered = downloads.filter((d) => (d.result ? Boolean(st.download_url) : (st.errors || []).length > 0));
  list.replaceChildren(...offered.map((d) => {
    const li = document.createElement('li');
    const a = link(`/download/${path}?format=${d.format}`, d.text, 'button');
    a.setAttribute('download', '');
    li.append(a);
    return li;
  }));
  byId('downloads').hidden = offered.length === 0;
}

function listen() {
  source = new EventSource(`/works/${path}/events`);
  source.addEventListener('status', (event) => {
    setText('connection', '');
    render(JSON.parse(event.data));
    if (finished) {
      stop();
    }
  });
  source.addEventListener('end', stop);
  source.addEventListener('error', () => {
    if (finished) {
      return;
    }
    if (source.readyState === EventSource.CLOSED) {
      setText('connection', 'Live updates stopped. Reload the page to try again.');
    } else {
      setText('connection', 'Connection lost; reconnecting…');
    }
  });
}

function stop() {
  if (source) {
    source.close();
    source = null;
  }
}

function askCancel() {
  byId('cancel-confirm-area').hidden = false;
  byId('cancel-confirm').focus();
}

function keepRunning() {
  byId('cancel-confirm-area').hidden = true;
  byId('cancel').focus();
}

async function cancelWork() {
  alertBox.textContent = '';
  byId('cancel-confirm').disabled = true;
  const answer = await callAPI(`/cancel/${path}`, { method: 'POST' });
  byId('cancel-confirm').disabled = false;
  byId('cancel-confirm-area').hidden = true;
  if (!answer.ok) {
    alertBox.textContent = `The work could not be cancelled: ${answer.error}`;
    byId('cancel').focus();
    return;
  }
  render(answer.body);
  stop();
  byId('status-word').focus();
}

byId('cancel').addEventListener('click', askCancel);
byId('cancel-keep').addEventListener('click', keepRunning);
byId('cancel-confirm').addEventListener('click', cancelWork);
listen();
