// A small SQL lexer for highlighting and completion. It never fails: text
// it does not know is an "other" token.

const re = /(--[^\n]*|\/\*[\s\S]*?(?:\*\/|$))|('(?:[^']|'')*'?)|("(?:[^"]|"")*"?)|(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_$]*)|(\s+)|(.)/gy;

// tokens splits text into {type, text, start} with type one of com, str,
// qid (quoted identifier), num, word, ws, other.
export function tokens(text) {
  const out = [];
  re.lastIndex = 0;
  let m;
  while (re.lastIndex < text.length && (m = re.exec(text))) {
    const type = m[1] ? 'com' : m[2] ? 'str' : m[3] ? 'qid' : m[4] ? 'num' : m[5] ? 'word' : m[6] ? 'ws' : 'other';
    out.push({ type, text: m[0], start: m.index });
  }
  return out;
}

function esc(s) { return s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' }[c])); }

// highlight returns HTML for text: keywords, functions (a word before "("),
// strings, numbers and comments in spans; errPos, when given, underlines
// the token at that offset.
export function highlight(text, keywords, errPos) {
  const toks = tokens(text);
  let html = '';
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    let cls = '';
    if (t.type === 'com') cls = 'hl-com';
    else if (t.type === 'str') cls = 'hl-str';
    else if (t.type === 'num') cls = 'hl-num';
    else if (t.type === 'word') {
      const next = toks[i + 1] && toks[i + 1].type === 'ws' ? toks[i + 2] : toks[i + 1];
      if (next && next.text === '(' ) cls = 'hl-fn';
      else if (keywords.has(t.text.toUpperCase())) cls = 'hl-kw';
    }
    if (errPos >= 0 && t.type !== 'ws' && errPos >= t.start && errPos < t.start + t.text.length) cls += ' hl-err';
    html += cls ? `<span class="${cls.trim()}">${esc(t.text)}</span>` : esc(t.text);
  }
  // A trailing newline needs a character after it to take up a line.
  return html + '\n';
}

// wordAt returns the identifier being typed before pos: its start and text,
// with a "qualifier" (the dotted words before it, e.g. "devops" in
// "devops.ho").
export function wordAt(text, pos) {
  let start = pos;
  while (start > 0 && /[A-Za-z0-9_$]/.test(text[start - 1])) start--;
  let qualifier = '';
  let q = start;
  while (q > 0 && text[q - 1] === '.') {
    let s = q - 1;
    while (s > 0 && /[A-Za-z0-9_$"]/.test(text[s - 1])) s--;
    qualifier = text.slice(s, q - 1).replaceAll('"', '') + (qualifier ? '.' + qualifier : '');
    q = s;
  }
  return { start, word: text.slice(start, pos), qualifier };
}

// lineColToOffset converts a 1-based line and column into an offset.
export function lineColToOffset(text, line, col) {
  let off = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', off);
    if (nl < 0) return text.length;
    off = nl + 1;
  }
  return Math.min(text.length, off + Math.max(0, col - 1));
}

// quoteIdent quotes a name when it is not a plain identifier.
export function quoteIdent(name) {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : '"' + name.replaceAll('"', '""') + '"';
}
