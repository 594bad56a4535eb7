// The profiles of a finished work on its page: the mean profile, a table
// with a thumbnail per specimen of the result, and a dialog with the larger
// plot. The plots are drawn by the API (/works/{id}/plots) when first asked
// for.
import { byId, callAPI, cell, fillRows, formatNumber } from './common.js';

// Pixel sizes of the API's plots: the thumbnail PNG and the full chart.
const thumbWidth = 320;
const thumbHeight = 120;

let items = [];

// withQuery adds query parameters to a server-relative URL.
function withQuery(url, params) {
  return `${url}?${new URLSearchParams(params)}`;
}

function scale() {
  return byId('plot-scale').value;
}

// showPlots fetches the work's plot list and fills the section; it shows
// nothing for a work without a result.
export async function showPlots(workID) {
  const answer = await callAPI(`/works/${encodeURIComponent(workID)}/plots`);
  if (answer.status === 409) {
    return;
  }
  byId('plots').hidden = false;
  if (!answer.ok) {
    byId('plots-error').textContent = `The profiles could not be listed: ${answer.error}`;
    return;
  }
  items = answer.body.plots || [];
  const mean = byId('mean-plot');
  mean.src = answer.body.mean.svg_url;
  mean.alt = 'SBS96 bar chart of the mean profile of the work, as proportions';
  fillTable();
}

function fillTable() {
  fillRows(byId('plot-rows'), items.map((item) => {
    const tr = document.createElement('tr');
    tr.append(cell(item.label), cell(item.donor_id, 'mono'), cell(formatNumber(item.mutations), 'number'),
      cell(item.mutations > 0 ? thumbnail(item) : 'No mutations in this profile'));
    return tr;
  }));
}

// thumbnail is a button showing the specimen's plot small; it opens the
// larger view.
function thumbnail(item) {
  const img = document.createElement('img');
  img.src = withQuery(item.png_url, { size: 'thumbnail', scale: scale() });
  img.width = thumbWidth;
  img.height = thumbHeight;
  img.loading = 'lazy';
  img.alt = `SBS96 profile of ${item.label}`;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'thumb';
  button.append(img);
  button.addEventListener('click', () => openPlot(item));
  return button;
}

function openPlot(item) {
  const params = { scale: scale() };
  byId('plot-dialog-title').textContent = `${item.label} · donor ${item.donor_id}`;
  const view = byId('plot-view');
  view.src = withQuery(item.svg_url, params);
  view.alt = `SBS96 bar chart of ${item.label}`;
  byId('plot-svg').href = withQuery(item.svg_url, params);
  byId('plot-png').href = withQuery(item.png_url, params);
  byId('plot-pdf').href = withQuery(item.pdf_url, params);
  byId('plot-dialog').showModal();
  byId('plot-close').focus();
}

byId('plot-scale').addEventListener('change', fillTable);
byId('plot-close').addEventListener('click', () => byId('plot-dialog').close());
