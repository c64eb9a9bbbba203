// The report's matrix: rows are rendered a page at a time from the inlined JSON,
// so 20,000 rows stay fast.  Filters and the open drilldown live in the URL hash.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("data").textContent);
  const PAGE = 100;
  const FAILING = new Set(["fail", "error"]);
  const $ = (id) => document.getElementById(id);
  const state = { status: new Set(), family: "", property: "", q: "", changed: false, newonly: false, page: 0, open: "" };
  let filtered = [];
  const haystacks = new Array(DATA.rows.length);

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function cellsOf(row) {
    return row[5].map((ref) => (ref >= 0 ? DATA.cells[ref] : null));
  }

  function haystack(i) {
    if (haystacks[i] === undefined) {
      const row = DATA.rows[i];
      const parts = [row[0], row[1], row[2], row[3], row[1] + "/" + row[2] + "/" + row[3]];
      for (const cell of cellsOf(row)) if (cell) parts.push(cell.m, cell.id);
      haystacks[i] = parts.join(" ").toLowerCase();
    }
    return haystacks[i];
  }

  function keep(i) {
    const row = DATA.rows[i];
    if (state.family && row[0] !== state.family) return false;
    if (state.property && row[1] !== state.property) return false;
    if (state.changed && !row[4]) return false;
    const cells = cellsOf(row).filter(Boolean);
    if (state.status.size && !cells.some((c) => state.status.has(c.v))) return false;
    if (state.newonly && !cells.some((c) => FAILING.has(c.v) && !c.k)) return false;
    if (state.q && !haystack(i).includes(state.q.toLowerCase())) return false;
    return true;
  }

  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    state.status = new Set((p.get("status") || "").split(",").filter(Boolean));
    state.family = p.get("family") || "";
    state.property = p.get("property") || "";
    state.q = p.get("q") || "";
    state.changed = p.get("changed") === "1";
    state.newonly = p.get("new") === "1";
    state.page = Math.max(0, parseInt(p.get("page") || "0", 10) || 0);
    state.open = p.get("open") || "";
  }

  function writeHash() {
    const p = new URLSearchParams();
    if (state.status.size) p.set("status", [...state.status].join(","));
    if (state.family) p.set("family", state.family);
    if (state.property) p.set("property", state.property);
    if (state.q) p.set("q", state.q);
    if (state.changed) p.set("changed", "1");
    if (state.newonly) p.set("new", "1");
    if (state.page) p.set("page", String(state.page));
    if (state.open) p.set("open", state.open);
    history.replaceState(null, "", "#" + p.toString());
  }

  function syncControls() {
    for (const box of document.querySelectorAll("input[name=status]")) box.checked = state.status.has(box.value);
    $("family").value = state.family;
    $("property").value = state.property;
    $("q").value = state.q;
    $("changed").checked = state.changed;
    $("newonly").checked = state.newonly;
  }

  function cellText(cell) {
    const n = cell.n || {};
    const total = Object.values(n).reduce((a, b) => a + b, 0);
    let text = cell.v.replace("_", " ");
    if (cell.k && FAILING.has(cell.v)) text += " (known)";
    if (total) text += " " + (n[cell.v] !== undefined ? n[cell.v] + "/" : "") + total;
    return text;
  }

  function renderRows() {
    filtered = [];
    for (let i = 0; i < DATA.rows.length; i++) if (keep(i)) filtered.push(i);
    const pages = Math.max(1, Math.ceil(filtered.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    const body = $("rows");
    const frag = document.createDocumentFragment();
    let family = null;
    for (const i of filtered.slice(state.page * PAGE, (state.page + 1) * PAGE)) {
      const row = DATA.rows[i];
      if (row[0] !== family) {
        family = row[0];
        const tr = el("tr", { class: "family" });
        tr.appendChild(el("td", { colspan: String(3 + DATA.columns.length) }, "family: " + family));
        frag.appendChild(tr);
      }
      const tr = el("tr", { class: row[4] ? "row changed" : "row", "data-row": String(i) });
      if (row[4]) tr.title = "verdict changes across versions";
      tr.appendChild(el("td", {}, row[1]));
      tr.appendChild(el("td", {}, row[2]));
      tr.appendChild(el("td", {}, row[3]));
      cellsOf(row).forEach((cell, c) => {
        if (!cell) {
          const notRun = DATA.columns[c].status === "not_run";
          tr.appendChild(el("td", { class: notRun ? "absent column-not-run" : "absent",
            title: notRun ? "not run: " + DATA.columns[c].reason : "no result" }, notRun ? "not run" : "–"));
          return;
        }
        const td = el("td", { class: "cell v-" + cell.v + (cell.k ? " known" : ""), tabindex: "0",
          "data-open": i + "." + c, title: "open details" }, cellText(cell));
        tr.appendChild(td);
      });
      frag.appendChild(tr);
    }
    body.replaceChildren(frag);
    $("count").textContent = filtered.length + " of " + DATA.rows.length + " rows";
    $("page").textContent = "page " + (state.page + 1) + " of " + pages;
    $("prev").disabled = state.page === 0;
    $("next").disabled = state.page >= pages - 1;
  }

  function fmt(x) {
    return x === null || x === undefined ? "–" : Number(x).toPrecision(3);
  }

  function renderDrill() {
    const drill = $("drill");
    const [r, c] = state.open.split(".").map(Number);
    const row = DATA.rows[r];
    const cell = row && row[5][c] >= 0 ? DATA.cells[row[5][c]] : null;
    if (!cell) {
      drill.hidden = true;
      return;
    }
    const col = DATA.columns[c];
    $("drill-title").textContent = row[1] + "/" + row[2] + "/" + row[3] + " on " + col.key;
    const facts = [
      ["verdict", cell.v + (cell.k ? " (known failure)" : "")],
      ["family", row[0]],
      ["error", fmt(cell.e)],
      ["tolerance", fmt(cell.t)],
      ["error / tolerance", fmt(cell.r)],
      ["oracle", cell.o || "–"],
      ["outcomes", Object.entries(cell.n || {}).map(([k, v]) => k + " " + v).join(", ") || "–"],
      ["examples", String(cell.x)],
      ["duration", Number(cell.s).toFixed(2) + " s"],
      ["test", cell.id || "–"],
    ];
    if (cell.b) facts.push(["baseline", cell.b]);
    if (cell.ke) facts.push(["known examples", String(cell.ke) + " explained by the scoped entry"]);
    if (cell.f) {
      const shown = Object.entries(cell.f).map(([k, v]) => k + " = " + (typeof v === "number" ? fmt(v) : v));
      facts.push(["failing example", shown.join(", ")]);
    }
    const dl = $("drill-facts");
    dl.replaceChildren();
    for (const [k, v] of facts) {
      dl.appendChild(el("dt", {}, k));
      dl.appendChild(el("dd", { "data-fact": k }, v));
    }
    $("drill-message").textContent = cell.m || "(none)";
    $("drill-repro").textContent = cell.p || "(no repro: only failing cells carry one)";
    $("copy").disabled = !cell.p;
    $("copied").textContent = "";
    drill.hidden = false;
  }

  function update(resetPage) {
    if (resetPage) state.page = 0;
    writeHash();
    renderRows();
    renderDrill();
  }

  function copyText(text) {
    const done = () => ($("copied").textContent = "copied");
    const fallback = () => {
      const area = el("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
      done();
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, fallback);
    else fallback();
  }

  document.querySelectorAll("input[name=status]").forEach((box) =>
    box.addEventListener("change", () => {
      box.checked ? state.status.add(box.value) : state.status.delete(box.value);
      update(true);
    }));
  $("family").addEventListener("change", (e) => { state.family = e.target.value; update(true); });
  $("property").addEventListener("change", (e) => { state.property = e.target.value; update(true); });
  $("q").addEventListener("input", (e) => { state.q = e.target.value; update(true); });
  $("changed").addEventListener("change", (e) => { state.changed = e.target.checked; update(true); });
  $("newonly").addEventListener("change", (e) => { state.newonly = e.target.checked; update(true); });
  $("reset").addEventListener("click", () => { location.hash = ""; });
  $("prev").addEventListener("click", () => { state.page--; update(false); });
  $("next").addEventListener("click", () => { state.page++; update(false); });
  $("close").addEventListener("click", () => { state.open = ""; update(false); });
  $("copy").addEventListener("click", () => copyText($("drill-repro").textContent));
  const openFrom = (target) => {
    const td = target.closest("td[data-open]");
    if (td) { state.open = td.dataset.open; update(false); }
  };
  $("rows").addEventListener("click", (e) => openFrom(e.target));
  $("rows").addEventListener("keydown", (e) => { if (e.key === "Enter") openFrom(e.target); });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape" && state.open) { state.open = ""; update(false); } });
  window.addEventListener("hashchange", () => { readHash(); syncControls(); renderRows(); renderDrill(); });

  readHash();
  syncControls();
  renderRows();
  renderDrill();
  document.body.dataset.ready = "1";
})();
