// Helpers the accessibility tests evaluate in the page (tests/browser/test_accessibility.py).
// contrastFailures(): every visible text against its effective background, WCAG 2.1 1.4.3 ratios.
// chartTextSizes(): rendered font size (CSS px) of every visible text in an SVG chart.
// wideScrollers(): elements wider than their box that scroll, and whether the keyboard can reach them.
(() => {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (top, bottom) => {  // top (with alpha) composited on an opaque bottom
    const a = top.a;
    return { r: top.r * a + bottom.r * (1 - a), g: top.g * a + bottom.g * (1 - a), b: top.b * a + bottom.b * (1 - a), a: 1 };
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const visible = (el) => {
    const s = getComputedStyle(el);
    if (s.visibility === 'hidden' || s.display === 'none') return false;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) return false;
    return r.right + window.scrollX > 0 && r.bottom + window.scrollY > 0;  // not moved off the page (.skip)
  };
  // The background behind el: the first opaque background up the tree, with translucent ones composited on it.
  const background = (el) => {
    const layers = [];
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (s.backgroundImage && s.backgroundImage !== 'none') return { image: true };
      const c = parse(s.backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = { r: 255, g: 255, b: 255, a: 1 };  // the canvas
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const opacity = (el) => { let o = 1; for (let n = el; n && n.nodeType === 1; n = n.parentElement) o *= Number(getComputedStyle(n).opacity); return o; };
  const hasText = (el) => Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
  const describe = (el) => (el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''));

  window.__a11y = {
    contrastFailures() {
      const out = [];
      for (const el of document.body.querySelectorAll('*')) {
        if (!hasText(el) || !visible(el)) continue;
        if (el.closest('svg') && el.tagName.toLowerCase() !== 'text' && el.tagName.toLowerCase() !== 'tspan') continue;
        const s = getComputedStyle(el);
        const inSvg = !!el.closest('svg');
        const fg = parse(inSvg ? s.fill : s.color);
        if (!fg) continue;
        const bg = background(inSvg ? el.closest('svg').parentElement : el);
        if (bg.image) continue;
        fg.a *= opacity(el);
        const shown = over(fg, bg);
        const size = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;
        const large = !inSvg && (size >= 24 || (bold && size >= 18.66));
        const need = large ? 3 : 4.5, got = ratio(shown, bg);
        if (got + 1e-6 < need) out.push({ element: describe(el), text: el.textContent.trim().slice(0, 60), ratio: Math.round(got * 100) / 100, need });
      }
      return out;
    },
    chartTextSizes() {
      const out = [];
      for (const t of document.querySelectorAll('figure svg text')) {
        if (!visible(t.closest('svg')) || !t.textContent.trim()) continue;
        const ctm = t.getScreenCTM();
        const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(ctm.a, ctm.b);
        out.push({ text: t.textContent.trim().slice(0, 40), px: Math.round(px * 10) / 10 });
      }
      return out;
    },
    wideScrollers() {
      const out = [];
      for (const el of document.body.querySelectorAll('*')) {
        const s = getComputedStyle(el);
        if (!['auto', 'scroll'].includes(s.overflowX) || el.scrollWidth <= el.clientWidth + 1 || !visible(el)) continue;
        out.push({ element: describe(el), focusable: el.tabIndex >= 0, label: el.getAttribute('aria-label') || '', role: el.getAttribute('role') || '' });
      }
      return out;
    },
  };
})();
