// The works list: GET /works a page at a time, newest first. The page's
// offset is in the address (?offset=N) so that every page can be bookmarked.
import { byId, callAPI, cell, fillRows, formatNumber, formatTime, link, setBadge, setText, workLink } from './common.js';

const pageSize = 20;

function currentOffset() {
  const raw = new URLSearchParams(window.location.search).get('offset') || '0';
  return /^[0-9]{1,9}$/.test(raw) ? Number(raw) : 0;
}

function row(w) {
  const tr = document.createElement('tr');
  const time = document.createElement('time');
  time.dateTime = w.created_at;
  time.textContent = formatTime(w.created_at);
  const badge = document.createElement('span');
  badge.className = 'badge';
  setBadge(badge, w.status);
  tr.append(
    cell(time),
    cell(w.filename || '–'),
    cell(formatNumber(w.total), 'number'),
    cell(badge),
    cell(link(workLink(w.idwork), w.idwork, 'mono')),
  );
  return tr;
}

function pageLink(id, offset, show) {
  const a = byId(id);
  a.hidden = !show;
  a.href = offset === 0 ? '/recent' : `/recent?offset=${offset}`;
}

async function load() {
  const offset = currentOffset();
  const answer = await callAPI(`/works?limit=${pageSize}&offset=${offset}`);
  if (!answer.ok) {
    setText('recent-status', '');
    setText('recent-error', `The works could not be listed: ${answer.error}`);
    return;
  }
  const works = answer.body.works || [];
  fillRows(byId('works-rows'), works.map(row));
  byId('works-table').hidden = works.length === 0;
  if (works.length === 0) {
    setText('recent-status', offset === 0 ? 'No work has been uploaded yet.' : 'No more works.');
  } else {
    setText('recent-status', `Works ${formatNumber(offset + 1)} to ${formatNumber(offset + works.length)}, newest first.`);
  }
  setText('works-caption', `Works ${offset + 1} to ${offset + works.length}`);
  pageLink('prev-page', Math.max(0, offset - pageSize), offset > 0);
  pageLink('next-page', offset + pageSize, works.length === pageSize);
}

load();
