// A virtualised result table: only the rows in view (plus a margin) are in
// the DOM, so 100 000 rows scroll as smoothly as 100. Arrow keys, Page
// Up/Down, Home and End scroll it when it has the focus.

const ROW = 24;
const MARGIN = 20;

export class Grid {
  constructor(el) {
    this.el = el;
    this.cols = []; this.rows = []; this.widths = [];
    el.addEventListener('scroll', () => this.paint());
    el.addEventListener('keydown', (e) => this.key(e));
    new ResizeObserver(() => this.paint()).observe(el);
  }

  // set shows cols ({name, type, numeric}) and rows (arrays of strings or
  // null).
  set(cols, rows) {
    this.cols = cols; this.rows = rows;
    this.measure();
    this.el.innerHTML = '';
    this.head = document.createElement('div'); this.head.className = 'ghead'; this.head.setAttribute('role', 'row');
    this.head.append(this.cell('#', this.rnWidth, 'gc rn', 'columnheader'));
    cols.forEach((c, i) => {
      const h = this.cell(c.name, this.widths[i], 'gc' + (c.numeric ? ' num' : ''), 'columnheader');
      h.title = `${c.name} ${c.type}`;
      this.head.append(h);
    });
    this.body = document.createElement('div'); this.body.className = 'gbody';
    this.el.append(this.head, this.body);
    this.el.scrollTop = 0;
    this.painted = '';
    this.resize();
  }

  // append adds rows that arrived in a later page.
  append(rows) {
    const before = this.rows.length;
    for (const r of rows) this.rows.push(r);
    if (before < 200) { // widths come from the first rows
      this.measure();
      const cells = this.head.children;
      cells[0].style.width = this.rnWidth + 'px';
      this.widths.forEach((w, i) => { cells[i + 1].style.width = w + 'px'; });
    }
    this.resize();
  }

  resize() {
    const w = this.rnWidth + this.widths.reduce((a, b) => a + b, 0);
    this.body.style.height = this.rows.length * ROW + 'px';
    this.body.style.width = w + 'px';
    this.head.style.width = w + 'px';
    this.el.setAttribute('aria-rowcount', String(this.rows.length + 1));
    this.painted = '';
    this.paint();
  }

  // measure sizes each column from its name and the first rows.
  measure() {
    const sample = this.rows.slice(0, 200);
    const ctx = (this.canvas ||= document.createElement('canvas')).getContext('2d');
    const cs = getComputedStyle(this.el);
    ctx.font = `600 ${cs.fontSize} ${cs.fontFamily}`;
    const cw = ctx.measureText('0123456789').width / 10 || 8;
    this.rnWidth = Math.ceil(20 + cw * String(Math.max(this.rows.length, 1000)).length);
    this.widths = this.cols.map((c, i) => {
      let n = c.name.length;
      for (const r of sample) n = Math.max(n, r[i] === null ? 4 : String(r[i]).length);
      return Math.ceil(Math.min(420, 22 + cw * n));
    });
  }

  cell(text, width, cls, role) {
    const d = document.createElement('div');
    d.className = cls; d.style.width = width + 'px'; d.textContent = text;
    d.setAttribute('role', role || 'gridcell');
    return d;
  }

  paint() {
    if (!this.body) return;
    const top = this.el.scrollTop;
    const h = this.el.clientHeight || 400;
    const first = Math.max(0, Math.floor(top / ROW) - MARGIN);
    const last = Math.min(this.rows.length, Math.ceil((top + h) / ROW) + MARGIN);
    const key = first + ':' + last + ':' + this.rows.length;
    if (key === this.painted) return;
    this.painted = key;
    const frag = document.createDocumentFragment();
    for (let i = first; i < last; i++) {
      const r = this.rows[i];
      const row = document.createElement('div');
      row.className = 'grow'; row.style.top = i * ROW + 'px';
      row.setAttribute('role', 'row'); row.setAttribute('aria-rowindex', String(i + 2));
      row.append(this.cell(String(i + 1), this.rnWidth, 'gc rn'));
      for (let j = 0; j < this.cols.length; j++) {
        const v = r[j];
        const c = this.cell(v === null ? 'NULL' : v, this.widths[j], 'gc' + (this.cols[j].numeric ? ' num' : '') + (v === null ? ' null' : ''));
        row.append(c);
      }
      frag.append(row);
    }
    this.body.replaceChildren(frag);
  }

  key(e) {
    const page = Math.max(1, Math.floor(this.el.clientHeight / ROW) - 1) * ROW;
    const moves = { ArrowDown: ROW, ArrowUp: -ROW, PageDown: page, PageUp: -page };
    if (e.key in moves) this.el.scrollTop += moves[e.key];
    else if (e.key === 'Home') this.el.scrollTop = 0;
    else if (e.key === 'End') this.el.scrollTop = this.rows.length * ROW;
    else return;
    e.preventDefault();
  }
}
