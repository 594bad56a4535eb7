// The upload page: choose or drop a CSV file, check it, preview its first
// rows and the columns the server will likely use, then POST /upload and
// show the answer.
import { byId, callAPI, cell, fillRows, formatNumber, setText, workLink } from './common.js';
import { detectColumns, parseRows, sniffDelimiter } from './columns.js';

const maxBytes = 50 * 1024 * 1024;
const allowedExtensions = ['.csv', '.tsv', '.txt'];
const previewBytes = 64 * 1024;
const previewRows = 8;
const previewColumns = 8;

const form = byId('upload-form');
const input = byId('file');
const dropZone = byId('drop-zone');
const idSelect = byId('id-column');
const labelSelect = byId('label-column');
const submit = byId('submit');
const alertBox = byId('upload-error');

// state holds the chosen file and its first rows once read.
const state = { file: null, rows: [], delimiter: ',' };

function showError(message) {
  alertBox.textContent = message;
}

// checkFile says what is wrong with a file before it is read, or ''.
function checkFile(file) {
  const name = file.name.toLowerCase();
  if (!allowedExtensions.some((ext) => name.endsWith(ext))) {
    return `“${file.name}” is not a .csv, .tsv or .txt file.`;
  }
  if (file.size === 0) {
    return `“${file.name}” is empty.`;
  }
  if (file.size > maxBytes) {
    return `“${file.name}” has ${formatNumber(file.size)} bytes; at most 50 MB (${formatNumber(maxBytes)} bytes) can be uploaded.`;
  }
  return '';
}

async function chooseFile(file) {
  showError('');
  byId('result').hidden = true;
  state.file = null;
  state.rows = [];
  byId('preview').hidden = true;
  resetSelect(idSelect, []);
  resetSelect(labelSelect, []);
  if (!file) {
    return;
  }
  const problem = checkFile(file);
  if (problem !== '') {
    showError(problem);
    return;
  }
  let text;
  try {
    text = await file.slice(0, previewBytes).text();
  } catch (err) {
    showError(`The file could not be read: ${err.message}`);
    return;
  }
  const complete = file.size <= previewBytes;
  text = text.replace(/^\uFEFF/, '');
  state.delimiter = sniffDelimiter(text, complete);
  state.rows = parseRows(text, state.delimiter, previewRows + 1, complete);
  state.file = file;
  if (state.rows.length === 0) {
    showError(`“${file.name}” has only blank lines.`);
    state.file = null;
    return;
  }
  fillColumnChoices(state.rows[0]);
  renderPreview();
}

// resetSelect empties a column choice, keeping its automatic option.
function resetSelect(select, names) {
  select.replaceChildren(select.options[0]);
  for (const name of names) {
    const option = document.createElement('option');
    option.value = name;
    option.textContent = name;
    select.append(option);
  }
  select.value = '';
  select.disabled = names.length === 0;
}

// fillColumnChoices offers the header cells as id and label columns when
// the first row looks like a header of several columns.
function fillColumnChoices(first) {
  const names = first.length > 1 ? first.filter((c) => c !== '') : [];
  resetSelect(idSelect, names);
  resetSelect(labelSelect, names);
}

function describeDelimiter(d) {
  return { ',': 'commas', ';': 'semicolons', '\t': 'tabs', '|': 'vertical bars' }[d];
}

function renderPreview() {
  const first = state.rows[0];
  const cols = detectColumns(first, { idColumn: idSelect.value, labelColumn: labelSelect.value });
  const dataRows = state.rows.slice(cols.header ? 1 : 0, (cols.header ? 1 : 0) + previewRows);
  setText('file-summary',
    `${state.file.name}: ${formatNumber(state.file.size)} bytes, cells separated by ${describeDelimiter(state.delimiter)}.`);
  renderColumns(first, cols);
  renderTable(first, cols, dataRows);
  byId('preview').hidden = false;
}

function columnName(first, cols, i) {
  return cols.header ? first[i] || `column ${i + 1}` : `column ${i + 1}`;
}

function renderColumns(first, cols) {
  const p = byId('columns');
  if (cols.error) {
    p.textContent = cols.error;
    return;
  }
  const id = document.createElement('strong');
  id.textContent = columnName(first, cols, cols.id);
  const label = document.createElement('strong');
  label.textContent = columnName(first, cols, cols.label);
  const parts = ['Ids from ', id, ', labels from '];
  parts.push(cols.label === cols.id ? 'the same column' : label);
  parts.push(cols.header ? '. The first row is the header.' : '. The file has no header.');
  p.replaceChildren(...parts);
}

function renderTable(first, cols, dataRows) {
  const width = Math.min(previewColumns, Math.max(...state.rows.map((r) => r.length)));
  const head = document.createElement('tr');
  for (let i = 0; i < width; i++) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = columnName(first, cols, i) + roleSuffix(cols, i);
    th.className = columnClass(cols, i);
    head.append(th);
  }
  const table = byId('preview-table');
  table.tHead.replaceChildren(head);
  const body = table.tBodies[0];
  body.replaceChildren(...dataRows.map((row) => {
    const tr = document.createElement('tr');
    for (let i = 0; i < width; i++) {
      tr.append(cell(row[i] ?? '', columnClass(cols, i)));
    }
    return tr;
  }));
  setText('preview-caption', dataRows.length === 0
    ? 'The file shows no data rows'
    : `The first ${dataRows.length} data ${dataRows.length === 1 ? 'row' : 'rows'} of the file`);
}

function roleSuffix(cols, i) {
  if (cols.error) {
    return '';
  }
  if (i === cols.id && i === cols.label) {
    return ' (id and label)';
  }
  if (i === cols.id) {
    return ' (id)';
  }
  return i === cols.label ? ' (label)' : '';
}

function columnClass(cols, i) {
  if (cols.error) {
    return '';
  }
  if (i === cols.id) {
    return 'col-id';
  }
  return i === cols.label ? 'col-label' : '';
}

async function send(event) {
  event.preventDefault();
  showError('');
  if (!state.file) {
    showError('Choose a CSV file first.');
    input.focus();
    return;
  }
  const maxTasks = byId('max-tasks').value.trim();
  if (maxTasks !== '' && !/^[1-9][0-9]*$/.test(maxTasks)) {
    showError('The number of ids to fetch must be a whole number of 1 or more.');
    byId('max-tasks').focus();
    return;
  }
  const body = new FormData();
  if (maxTasks !== '') {
    body.append('max_tasks', maxTasks);
  }
  if (idSelect.value !== '') {
    body.append('id_column', idSelect.value);
  }
  if (labelSelect.value !== '') {
    body.append('label_column', labelSelect.value);
  }
  body.append('file', state.file, state.file.name);
  submit.disabled = true;
  setText('upload-progress', 'Uploading…');
  const answer = await callAPI('/upload', { method: 'POST', body });
  submit.disabled = false;
  setText('upload-progress', '');
  if (!answer.ok) {
    showError(`Upload refused: ${answer.error}`);
    return;
  }
  showResult(answer.body);
}

function showResult(a) {
  const linkEl = byId('result-link');
  linkEl.href = workLink(a.idwork);
  linkEl.textContent = a.idwork;
  setText('result-tasks', formatNumber(a.tasks_enqueued));
  setText('result-rows', formatNumber(a.rows));
  setText('result-duplicates', formatNumber(a.duplicates));
  const rejected = Array.isArray(a.rejected) ? a.rejected : [];
  const total = a.rejected_total ?? rejected.length;
  setText('result-rejected', formatNumber(total));
  fillRows(byId('rejected-rows'), rejected.map((r) => {
    const tr = document.createElement('tr');
    tr.append(cell(formatNumber(r.row), 'number'), cell(r.error));
    return tr;
  }));
  setText('rejected-note', total > rejected.length
    ? `Showing the first ${formatNumber(rejected.length)} of ${formatNumber(total)} rejected rows.`
    : '');
  byId('rejected-section').hidden = rejected.length === 0;
  const result = byId('result');
  result.hidden = false;
  result.focus();
}

input.addEventListener('change', () => chooseFile(input.files[0]));
idSelect.addEventListener('change', () => state.file && renderPreview());
labelSelect.addEventListener('change', () => state.file && renderPreview());
form.addEventListener('submit', send);

dropZone.addEventListener('dragover', (event) => {
  event.preventDefault();
  dropZone.classList.add('dragging');
});
dropZone.addEventListener('dragleave', () => dropZone.classList.remove('dragging'));
dropZone.addEventListener('drop', (event) => {
  event.preventDefault();
  dropZone.classList.remove('dragging');
  const files = event.dataTransfer.files;
  if (files.length > 0) {
    input.files = files;
    chooseFile(files[0]);
  }
});
