// The upload rules of the server (package http/upload), mirrored for the
// preview: which cell separator a file uses, whether its first row is a
// header, and which columns hold the ids and the labels. The server decides;
// this only shows the user what it will most likely decide.

// Header names of the id and label columns, in order of preference,
// compared ignoring case. Donor_ID is both: in "Donor_ID,_PATIENT" it holds
// the label, since _PATIENT is found first as the id.
const idNames = ['_patient', 'patient', 'id', 'donor_id', 'donor'];
const labelNames = ['label', 'donor_id', 'specimen', 'sample'];

// Words that mark the single cell of a one-column file's first row as a
// column name.
const headerWords = ['donor', 'patient', 'sample', 'specimen', 'label'];

const delimiters = [',', ';', '\t', '|'];
const sniffRecords = 10;
const maxIDLength = 64;

// sniffDelimiter picks the separator from the first records: one found the
// same number of times in every record wins over one that varies, then the
// one found most often in the first record, then the earlier in delimiters.
export function sniffDelimiter(text, complete) {
  const counts = recordCounts(text, complete);
  if (counts.length === 0) {
    return ',';
  }
  let best = -1;
  let bestConsistent = false;
  let bestCount = 0;
  delimiters.forEach((_, i) => {
    const n = counts[0][i];
    if (n === 0) {
      return;
    }
    const consistent = counts.every((c) => c[i] === n);
    if (best < 0 || (consistent && !bestConsistent) || (consistent === bestConsistent && n > bestCount)) {
      best = i;
      bestConsistent = consistent;
      bestCount = n;
    }
  });
  return best < 0 ? ',' : delimiters[best];
}

// recordCounts counts each delimiter outside quotes in the first non-blank
// records; an incomplete text's last record is left out.
function recordCounts(text, complete) {
  const out = [];
  let cur = delimiters.map(() => 0);
  let inQuotes = false;
  let blank = true;
  for (const ch of text) {
    if (ch === '"') {
      inQuotes = !inQuotes;
      blank = false;
    } else if (inQuotes) {
      continue;
    } else if (ch === '\n' || ch === '\r') {
      if (!blank) {
        out.push(cur);
      }
      if (out.length === sniffRecords) {
        return out;
      }
      cur = delimiters.map(() => 0);
      blank = true;
    } else if (ch !== ' ') {
      blank = false;
      const i = delimiters.indexOf(ch);
      if (i >= 0) {
        cur[i]++;
      }
    }
  }
  if (complete && !blank) {
    out.push(cur);
  }
  return out;
}

// parseRows reads up to max non-blank records of CSV text, with quoted cells
// as RFC 4180 has them; cells are trimmed. An incomplete text's last record
// is left out, since it may be cut.
export function parseRows(text, delimiter, max, complete) {
  const rows = [];
  let row = [];
  let cellText = '';
  let inQuotes = false;
  let i = 0;
  const endRow = () => {
    row.push(cellText.trim());
    if (row.some((c) => c !== '')) {
      rows.push(row);
    }
    row = [];
    cellText = '';
  };
  while (i < text.length && rows.length < max) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"' && text[i + 1] === '"') {
        cellText += '"';
        i++;
      } else if (ch === '"') {
        inQuotes = false;
      } else {
        cellText += ch;
      }
    } else if (ch === '"') {
      inQuotes = true;
    } else if (ch === delimiter) {
      row.push(cellText.trim());
      cellText = '';
    } else if (ch === '\r' || ch === '\n') {
      if (ch === '\r' && text[i + 1] === '\n') {
        i++;
      }
      endRow();
    } else {
      cellText += ch;
    }
    i++;
  }
  if (complete && i >= text.length && rows.length < max && (row.length > 0 || cellText.trim() !== '')) {
    endRow();
  }
  return rows;
}

// idProblem says why a cell is not a plausible donor id, or returns ''.
export function idProblem(id) {
  if (id === '') {
    return 'empty id';
  }
  if ([...id].length > maxIDLength) {
    return `id is longer than ${maxIDLength} characters`;
  }
  if (id[0] === '.' || id[0] === '-') {
    return 'id starts with . or -';
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(id)) {
    return 'id has characters other than letters, digits, _, - and .';
  }
  return '';
}

// singleHeader reports whether the first cell of a one-column file names the
// column rather than being an id.
export function singleHeader(cell) {
  if (idProblem(cell) !== '' || !/[0-9]/.test(cell)) {
    return true;
  }
  const lower = cell.toLowerCase();
  return headerWords.some((w) => lower.includes(w));
}

// find returns the index of the cell equal to name, else the first equal
// ignoring case, else -1.
function find(header, name) {
  const exact = header.indexOf(name);
  if (exact >= 0) {
    return exact;
  }
  const lower = name.toLowerCase();
  return header.findIndex((h) => h.toLowerCase() === lower);
}

// findAny returns the index of the first of names present in header, except
// the cell skip, or -1.
function findAny(header, names, skip) {
  for (const name of names) {
    const i = header.findIndex((h, j) => j !== skip && h.toLowerCase() === name);
    if (i >= 0) {
      return i;
    }
  }
  return -1;
}

// detectColumns decides from the first row, and the columns the user chose
// if any, whether that row is a header and where the id and label are. It
// returns {header, id, label} with column indexes, or {header, error}.
export function detectColumns(first, chosen = {}) {
  const idColumn = chosen.idColumn || '';
  const labelColumn = chosen.labelColumn || '';
  if (idColumn !== '' || labelColumn !== '') {
    return namedColumns(first, idColumn, labelColumn);
  }
  if (first.length === 1) {
    return { header: singleHeader(first[0]), id: 0, label: 0 };
  }
  return { header: true, ...complete(first, -1, -1) };
}

function namedColumns(first, idColumn, labelColumn) {
  let id = -1;
  let label = -1;
  if (idColumn !== '') {
    id = find(first, idColumn);
    if (id < 0) {
      return { header: true, error: `There is no column “${idColumn}”.` };
    }
  }
  if (labelColumn !== '') {
    label = find(first, labelColumn);
    if (label < 0) {
      return { header: true, error: `There is no column “${labelColumn}”.` };
    }
  }
  return { header: true, ...complete(first, id, label) };
}

// complete fills the unknown id and label columns from the known names; the
// id is its own label when no label column is found.
function complete(header, id, label) {
  let idIndex = id < 0 ? findAny(header, idNames, label) : id;
  if (idIndex < 0 && header.length === 1) {
    idIndex = 0;
  }
  if (idIndex < 0) {
    return {
      error: `No id column: name one of the columns ${idNames.join(', ')}, or choose the id column below.`,
    };
  }
  let labelIndex = label < 0 ? findAny(header, labelNames, idIndex) : label;
  if (labelIndex < 0) {
    labelIndex = idIndex;
  }
  return { id: idIndex, label: labelIndex };
}
