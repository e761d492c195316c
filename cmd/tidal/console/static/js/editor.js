// The SQL editor: a textarea over a highlighted copy of its text, with a
// completion list. Ctrl+Enter runs, Ctrl+Space completes, Escape closes the
// list; Tab keeps moving the focus unless the list is open.

import { highlight, wordAt } from './sql.js';

export class Editor {
  // words() returns the completion candidates: [{label, kind, insert?}],
  // with entries qualified by a "scope" (a database or table name) to be
  // offered after "scope.".
  constructor({ textarea, layer, list, keywords, words, onRun, onChange }) {
    this.ta = textarea; this.layer = layer; this.list = list;
    this.keywords = keywords; this.words = words; this.onRun = onRun; this.onChange = onChange || (() => {});
    this.errPos = -1; this.items = []; this.sel = 0;
    this.ta.addEventListener('input', () => { this.errPos = -1; this.render(); this.onChange(this.ta.value); this.suggest(false); });
    this.ta.addEventListener('scroll', () => { this.layer.scrollTop = this.ta.scrollTop; this.layer.scrollLeft = this.ta.scrollLeft; });
    this.ta.addEventListener('keydown', (e) => this.key(e));
    this.ta.addEventListener('blur', () => setTimeout(() => this.close(), 150));
    this.list.addEventListener('mousedown', (e) => {
      const li = e.target.closest('li');
      if (li) { e.preventDefault(); this.accept(Number(li.dataset.i)); }
    });
  }

  get value() { return this.ta.value; }
  set value(v) { this.ta.value = v; this.errPos = -1; this.render(); }

  setKeywords(k) { this.keywords = k; this.render(); }

  render() {
    this.layer.innerHTML = highlight(this.ta.value, this.keywords, this.errPos);
    this.layer.scrollTop = this.ta.scrollTop;
  }

  // markError underlines the text at offset pos and puts the caret there.
  markError(pos) {
    this.errPos = pos; this.render();
    this.ta.focus();
    this.ta.setSelectionRange(pos, pos);
  }

  // insert puts text at the caret (replacing the selection).
  insert(text) {
    const { selectionStart: s, selectionEnd: e } = this.ta;
    this.ta.setRangeText(text, s, e, 'end');
    this.ta.focus();
    this.ta.dispatchEvent(new Event('input'));
    this.close();
  }

  key(e) {
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') { e.preventDefault(); this.close(); this.onRun(); return; }
    if (e.ctrlKey && (e.key === ' ' || e.code === 'Space')) { e.preventDefault(); this.suggest(true); return; }
    if (this.list.hidden) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      this.sel = (this.sel + (e.key === 'ArrowDown' ? 1 : -1) + this.items.length) % this.items.length;
      this.paint();
    } else if (e.key === 'Enter' || e.key === 'Tab') {
      e.preventDefault(); this.accept(this.sel);
    } else if (e.key === 'Escape') {
      e.preventDefault(); this.close();
    }
  }

  // suggest opens the completion list for the word at the caret; typing
  // opens it only after two characters, Ctrl+Space at once.
  suggest(forced) {
    const pos = this.ta.selectionStart;
    const { start, word, qualifier } = wordAt(this.ta.value, pos);
    if (!forced && word.length < 2 && !qualifier) { this.close(); return; }
    const w = word.toLowerCase();
    const q = qualifier.toLowerCase();
    const all = this.words();
    // After "db." only that database's tables; after any other qualifier
    // (a table or an alias) the column names.
    let pool = all.filter((c) => (q ? c.scope === q : !c.scope));
    if (q && !pool.length) pool = all.filter((c) => !c.scope && /^(dimension|attribute|column)/.test(c.kind));
    const seen = new Set();
    this.items = pool.filter((c) => {
      if (!c.label.toLowerCase().startsWith(w) || c.label.length === w.length && !forced) return false;
      const k = c.label + '|' + c.kind;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    }).slice(0, 50);
    if (!this.items.length) { this.close(); return; }
    this.start = start; this.sel = 0;
    this.paint();
    this.place(start);
    this.list.hidden = false;
    this.ta.setAttribute('aria-expanded', 'true');
  }

  paint() {
    this.list.innerHTML = '';
    this.items.forEach((c, i) => {
      const li = document.createElement('li');
      li.id = 'complete-' + i; li.dataset.i = i;
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', i === this.sel ? 'true' : 'false');
      const label = document.createElement('span'); label.textContent = c.label;
      const kind = document.createElement('span'); kind.className = 'kind'; kind.textContent = c.kind;
      li.append(label, kind);
      this.list.append(li);
    });
    this.ta.setAttribute('aria-activedescendant', 'complete-' + this.sel);
    const cur = this.list.children[this.sel];
    if (cur) cur.scrollIntoView({ block: 'nearest' });
  }

  // place puts the list under the caret, measured with the monospace font.
  place(offset) {
    const before = this.ta.value.slice(0, offset);
    const line = before.split('\n').length - 1;
    const col = offset - before.lastIndexOf('\n') - 1;
    const cs = getComputedStyle(this.ta);
    const lh = parseFloat(cs.lineHeight) || 19;
    const ctx = (this.canvas ||= document.createElement('canvas')).getContext('2d');
    ctx.font = `${cs.fontSize} ${cs.fontFamily}`;
    const cw = ctx.measureText('M').width;
    const top = 8 + (line + 1) * lh - this.ta.scrollTop;
    const left = Math.min(8 + col * cw - this.ta.scrollLeft, this.ta.clientWidth - 220);
    this.list.style.top = Math.max(0, top) + 'px';
    this.list.style.left = Math.max(0, left) + 'px';
  }

  accept(i) {
    const c = this.items[i];
    if (!c) return;
    const pos = this.ta.selectionStart;
    this.ta.setRangeText(c.insert || c.label, this.start, pos, 'end');
    this.close();
    this.ta.dispatchEvent(new Event('input'));
    this.close();
  }

  close() {
    this.list.hidden = true;
    this.ta.setAttribute('aria-expanded', 'false');
    this.ta.removeAttribute('aria-activedescendant');
  }
}
