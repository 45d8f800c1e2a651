/* The dashboard: one page, four views (fleet, an endpoint, serving, benchmarks), each read from
   the JSON APIs with the account key and refreshed every few seconds. No build step. */
"use strict";
(() => {
  const REFRESH_MS = 5000;
  const KEY = "gpucp.api_key"; // sessionStorage: this tab only, gone when it closes
  const API = new URL("../", location.href); // the page is at <api root>/dashboard/
  const RANGES = [["15 min", 900], ["1 h", 3600], ["24 h", 86400]];
  const COLORS = { load: "#d9480f", capacity: "#1c7ed6", workers: "#5f3dc4", rate: "#2b8a3e", ok: "#0b7285" };
  const SERVING_CHARTS = [["requests_min", "Requests per minute"], ["latency_ms", "Latency (ms)"],
    ["cpu_util", "CPU use (%)"], ["gpu_util", "GPU use (%)"]];

  const $ = (selector, root = document) => root.querySelector(selector);

  /* --- the API ------------------------------------------------------------------------- */

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function call(path, { method = "GET", body } = {}) {
    const key = sessionStorage.getItem(KEY) || "";
    if (/[^\x20-\x7e]/.test(key)) throw new ApiError(401, "that key holds characters no API key has (only ASCII letters, digits and symbols)");
    const headers = { Authorization: `Bearer ${key}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let reply;
    try {
      reply = await fetch(new URL(path, API), { method, headers, cache: "no-store",
        body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      throw new ApiError(0, "the API did not answer");
    }
    let data = null;
    try { data = await reply.json(); } catch (error) { data = null; }
    if (!reply.ok) {
      // Each API's own envelope: Vast's msg, MLBench's message.
      const message = data && (data.msg || data.message || data.error);
      throw new ApiError(reply.status, message || `HTTP ${reply.status}`);
    }
    return data;
  }

  /* --- building the page ---------------------------------------------------------------- */

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") el.className = value;
      else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
      else el.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) el.append(child instanceof Node ? child : String(child));
    }
    return el;
  }

  const number = (v, digits = 1) => (v === null || v === undefined || Number.isNaN(Number(v)) ? "–"
    : Number(v).toLocaleString("en-US", { maximumFractionDigits: digits }));
  const money = (v) => `$${Number(v || 0).toFixed(2)}/h`;
  const percent = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(1)}%`);
  const clock = (t) => new Date(t * 1000).toLocaleTimeString("en-GB", { hour12: false });
  const pad = (n) => String(n).padStart(2, "0");
  const day = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const hhmm = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  /** Every time on the page, in this browser's zone: 2026-12-07 17:01:42 (a date string as the APIs give it, or seconds). */
  const stamp = (t) => {
    const d = typeof t === "string" ? new Date(t) : new Date(t * 1000);
    return Number.isNaN(d.getTime()) ? (t || "–") : `${day(d)} ${hhmm(d)}:${pad(d.getSeconds())}`;
  };
  /** A time axis's ticks in the same spelling: the time within a day, the date across days. */
  const ticks = (u, values) => {
    const span = u.scales.x.max - u.scales.x.min;
    return values.map((t) => { const d = new Date(t * 1000); return span > 2 * 86400 ? day(d) : span > 20 * 3600 ? `${day(d).slice(5)} ${hhmm(d)}` : hhmm(d); });
  };
  /** A value axis's labels, short however large: 12K, 1.5M, 3e+20. */
  const COMPACT = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });
  const axisNumber = (v) => (v === null || v === undefined ? "" : Math.abs(v) >= 1e15 ? Number(v).toExponential(0)
    : Math.abs(v) >= 1e4 ? COMPACT.format(v) : number(v, 2));
  const now = () => Date.now() / 1000;

  function duration(seconds) {
    if (seconds === null || seconds === undefined || seconds < 0) return "–";
    const s = Math.floor(seconds);
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
    return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
  }

  /** A table whose rows are rebuilt on each refresh; its cells carry their column's name, so a
      narrow screen shows each row as a block of labelled lines instead of scrolling sideways. */
  function table(caption, columns, emptyText) {
    const body = h("tbody");
    const el = h("table", { class: "rows" }, h("caption", {}, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))), body);
    return {
      el,
      fill(rows) {
        // A link that had the keyboard's focus keeps it in the rebuilt rows.
        const focused = body.contains(document.activeElement) ? document.activeElement.getAttribute("href") : null;
        body.replaceChildren(...(rows.length ? rows.map((cells) => h("tr", {}, cells.map((cell, i) =>
          h("td", { "data-label": columns[i] }, cell))))
          : [h("tr", {}, h("td", { colspan: columns.length, class: "empty" }, emptyText))]));
        if (focused) { const link = [...body.querySelectorAll("a")].find((a) => a.getAttribute("href") === focused); if (link) link.focus(); }
      },
    };
  }

  /** A time chart (uPlot) that follows its container's width; `update(ts, ...series)`. */
  function chart(name, title, series, { height = 170 } = {}) {
    const box = h("div", { class: "plot" });
    const figure = h("figure", { class: "chart", "data-chart": name, "data-points": 0 }, h("figcaption", {}, title), box);
    let plot = null;
    let data = [[], ...series.map(() => [])];
    const width = () => Math.max(box.clientWidth || figure.clientWidth || 300, 200);
    const make = () => {
      plot = new uPlot({
        width: width(), height,
        series: [{ value: (u, v) => (v === null || v === undefined ? "–" : stamp(v)) },
          ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2,
            fill: s.fill ? `${s.color}22` : undefined, value: (u, v) => number(v, 2) }))],
        // The span of the times themselves (uPlot widens one moment by a day in milliseconds before
        // asking); one moment spans nothing: show the half hour around it.
        scales: { x: { time: true, range: (u, min, max) => {
          const ts = u.data[0].filter((t) => t !== null && Number.isFinite(t));
          if (!ts.length) return [min, max];
          const lo = Math.min(...ts), hi = Math.max(...ts);
          return lo === hi ? [lo - 1800, hi + 1800] : [lo, hi];
        } } },
        axes: [{ stroke: "#555", values: ticks, space: (u) => (u.scales.x.max - u.scales.x.min > 20 * 3600 ? 110 : 60) },
          { stroke: "#555", values: (u, vals) => vals.map(axisNumber),
            size: (u, vals) => Math.max(48, 14 + 7 * Math.max(0, ...(vals || []).map((v) => String(v).length))) }],
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
      }, data, box);
    };
    const resize = new ResizeObserver(() => { if (plot && box.clientWidth) plot.setSize({ width: width(), height }); });
    resize.observe(box);
    return {
      el: figure,
      update(ts, ...values) {
        data = [ts, ...values.map((v) => v.map((x) => (x === null || x === undefined ? null : Number(x))))];
        if (!plot) make(); else plot.setData(data);
        figure.setAttribute("data-points", ts.length);
        if (ts.length) figure.setAttribute("data-span", Math.round(plot.scales.x.max - plot.scales.x.min)); // seconds shown
        const last = values.map((v, i) => `${series[i].label} ${number(v[v.length - 1], 2)}`).join(", ");
        figure.setAttribute("aria-label", `${title}: ${ts.length} points; latest ${last}`);
      },
      destroy() { resize.disconnect(); if (plot) plot.destroy(); },
    };
  }

  function badges(counts) {
    const entries = Object.entries(counts || {});
    if (!entries.length) return h("span", { class: "muted" }, "none");
    return h("span", { class: "badges" }, entries.map(([status, n]) => h("span", { class: `badge s-${status}` }, `${n} ${status}`)));
  }

  function section(title, ...children) {
    return h("section", { class: "panel" }, h("h2", {}, title), ...children);
  }

  /* --- the fleet ---------------------------------------------------------------------------- */

  function fleetView(root) {
    const totals = h("dl", { class: "totals" });
    const list = h("div", { class: "cards" });
    root.append(h("h1", { tabindex: -1 }, "Fleet"), totals, list);
    const cards = new Map();

    function card(e) {
      const facts = h("dl", { class: "facts" });
      const plot = chart(`load-${e.id}`, "Load and capacity, last hour (work units/s)",
        [{ label: "load", color: COLORS.load, fill: true }, { label: "capacity", color: COLORS.capacity }], { height: 120 });
      const name = h("a", { href: `#/endpoints/${e.id}` });
      const state = h("span", { class: "state" });
      const el = h("article", { class: "card", "data-endpoint": e.id }, h("h2", {}, name, " ", state), facts, plot.el);
      return { el, name, state, facts, plot };
    }

    return {
      async refresh() {
        const data = await call("api/v0/fleet/");
        const eps = data.endpoints;
        const sum = (f) => eps.reduce((a, e) => a + f(e), 0);
        const workers = sum((e) => Object.values(e.workers).reduce((a, n) => a + n, 0));
        totals.replaceChildren(
          h("div", {}, h("dt", {}, "Endpoints"), h("dd", {}, eps.length)),
          h("div", {}, h("dt", {}, "Workers"), h("dd", {}, workers)),
          h("div", {}, h("dt", {}, "Load / capacity"), h("dd", {}, `${number(sum((e) => e.curload))} / ${number(sum((e) => e.capacity))}`)),
          h("div", {}, h("dt", {}, "Cost"), h("dd", {}, money(sum((e) => e.cost_per_hour.total)))));
        const seen = new Set();
        for (const e of eps) {
          seen.add(e.id);
          let c = cards.get(e.id);
          if (!c) { c = card(e); cards.set(e.id, c); list.append(c.el); }
          c.name.textContent = e.endpoint_name;
          c.state.textContent = e.endpoint_state;
          c.facts.replaceChildren(
            h("div", {}, h("dt", {}, "Workers"), h("dd", {}, badges(e.workers))),
            h("div", {}, h("dt", {}, "Load / capacity now"), h("dd", {}, `${number(e.curload)} / ${number(e.capacity)}`)),
            h("div", {}, h("dt", {}, "Cost"), h("dd", {}, `${money(e.cost_per_hour.total)}`,
              h("span", { class: "muted" }, ` (running ${money(e.cost_per_hour.running)}, stopped ${money(e.cost_per_hour.stopped)})`))));
          c.plot.update(e.last_hour.t, e.last_hour.curload, e.last_hour.capacity);
        }
        for (const [id, c] of cards) {
          if (!seen.has(id)) { c.plot.destroy(); c.el.remove(); cards.delete(id); }
        }
        if (!eps.length && !$(".empty", list)) {
          list.append(h("p", { class: "empty" }, "No endpoints yet: create one with the Vast CLI or POST /api/v0/endptjobs/."));
        } else if (eps.length) {
          const empty = $(".empty", list);
          if (empty) empty.remove();
        }
      },
      destroy() { cards.forEach((c) => c.plot.destroy()); },
    };
  }

  /* --- one endpoint ------------------------------------------------------------------------- */

  const KNOBS = [["min_load", "Minimum load"], ["min_cold_load", "Minimum cold load"], ["target_util", "Target utilisation"],
    ["cold_mult", "Cold multiplier"], ["cold_workers", "Cold workers"], ["max_workers", "Maximum workers"],
    ["max_queue_time", "Maximum queue time (s)"], ["target_queue_time", "Target queue time (s)"],
    ["inactivity_timeout", "Inactivity timeout (s)"]];

  function endpointView(root, id) {
    let seconds = 3600;
    const title = h("h1", { tabindex: -1 }, `Endpoint ${id}`);
    const knobs = h("dl", { class: "knobs" });
    const groups = table("Worker groups", ["ID", "GPU RAM (GB)", "Search", "Test workers", "Overrides"], "No worker groups.");
    const workers = table("Workers", ["ID", "Status", "GPU", "Perf", "Load", "Reliability", "URL", "Uptime"], "No live workers.");
    const decisions = table("Scaling decisions, the last 20, newest first", ["Time", "Group", "Action", "Reason", "Outcome"], "No decisions yet.");
    const charts = [
      [chart("nworkers", "Workers", [{ label: "workers", color: COLORS.workers }]), (d) => [d.nworkers]],
      [chart("load", "Load against capacity (work units/s)", [{ label: "load", color: COLORS.load, fill: true },
        { label: "capacity", color: COLORS.capacity }]), (d) => [d.curload, d.capacity]],
      [chart("reqrate", "Requests per second", [{ label: "requests/s", color: COLORS.rate }]), (d) => [d.reqrate]],
      [chart("reliable", "Reliability (share of requests that succeeded)", [{ label: "reliable", color: COLORS.ok }]), (d) => [d.reliable]],
    ];
    let view;
    const range = h("fieldset", { class: "range" }, h("legend", {}, "Range"),
      RANGES.map(([label, s]) => h("label", {}, h("input", { type: "radio", name: "range", value: s, checked: s === seconds,
        onchange: () => { seconds = s; setStatus(`Loading the last ${label}…`); refreshNow(view); } }), ` ${label}`)));
    root.append(h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Fleet"), " / ", `endpoint ${id}`), title,
      section("Knobs", knobs), section("Worker groups", groups.el),
      section("Charts", range, h("div", { class: "charts" }, charts.map(([c]) => c.el))),
      section("Workers", workers.el), section("Why it scaled", decisions.el));

    view = {
      async refresh() {
        const asked = seconds;
        const [endpoint, allGroups, rows, history, decided] = await Promise.all([
          call(`api/v0/endptjobs/${id}/`), call("api/v0/autojobs/"),
          call("get_endpoint_workers/", { method: "POST", body: { id: Number(id) } }),
          call(`api/v0/endptjobs/${id}/history/?seconds=${seconds}`),
          call(`api/v0/endptjobs/${id}/decisions/?limit=20`)]);
        const e = endpoint.result;
        title.replaceChildren(e.endpoint_name, " ", h("span", { class: "state" }, e.endpoint_state));
        document.title = `${e.endpoint_name} · GPU control plane`;
        knobs.replaceChildren(...KNOBS.map(([k, label]) => h("div", {}, h("dt", {}, label), h("dd", {}, e[k] ?? "–"))));
        groups.fill(allGroups.results.filter((g) => g.endpoint_id === Number(id)).map((g) => [
          String(g.id), number(g.gpu_ram), g.search_params || "–", String(g.test_workers ?? "–"),
          KNOBS.filter(([k]) => g[k] !== undefined && g[k] !== null && g[k] !== e[k]).map(([k]) => `${k}=${g[k]}`).join(", ") || "none"]));
        const t = now();
        workers.fill(rows.sort((a, b) => a.id - b.id).map((w) => [String(w.id),
          h("span", { class: `badge s-${w.status}` }, w.status), w.gpu_name || "–", number(w.perf, 2), number(w.cur_load, 2),
          percent(w.reliability), w.url || "–", duration(w.started_at ? t - w.started_at : null)]));
        if (asked === seconds) for (const [c, pick] of charts) c.update(history.t, ...pick(history)); // else: a newer range is on its way
        decisions.fill(decided.results.map((d) => [stamp(d.t), String(d.group_id), d.action, d.reason,
          h("span", { class: d.outcome === "ok" ? "ok" : "failed" }, d.outcome)]));
      },
      destroy() { charts.forEach(([c]) => c.destroy()); },
    };
    return view;
  }

  /* --- ClearML serving ---------------------------------------------------------------------- */

  function servingView(root) {
    const endpoints = table("Endpoints", ["Endpoint", "Model", "URL", "Instances", "Requests", "Requests/min", "Latency (ms)", "Uptime", "Last report"],
      "No ClearML serving endpoint reports here yet (clearml-serving with CLEARML_API_HOST set to this API).");
    const loading = table("Loading instances", ["Container", "Endpoint", "Model", "Age", "Last report"], "None loading.");
    const chartsBox = h("div", { class: "serving-charts" });
    root.append(h("h1", { tabindex: -1 }, "Serving"), section("ClearML endpoints", endpoints.el), section("Loading", loading.el),
      section("Last hour", chartsBox));
    const byUrl = new Map();
    return {
      async refresh() {
        const data = await call("api/v0/serving/");
        endpoints.fill(data.endpoints.map((e) => [e.endpoint || "–", e.model || "–", e.url, String(e.instances), number(e.requests, 0),
          number(e.requests_min, 2), number(e.latency_ms, 0), duration(e.uptime_sec), e.last_update ? stamp(e.last_update) : "–"]));
        loading.fill(data.loading.map((c) => [c.id, c.endpoint || "–", c.model || "–", duration(c.age_sec), c.last_update ? stamp(c.last_update) : "–"]));
        // Each endpoint's history on its own: one that fails leaves the others drawn.
        const histories = await Promise.all(data.endpoints.map((e) =>
          call(`api/v0/serving/history/?seconds=3600&url=${encodeURIComponent(e.url)}`).catch((error) => error)));
        const seen = new Set();
        for (const [i, e] of data.endpoints.entries()) {
          seen.add(e.url);
          let entry = byUrl.get(e.url);
          if (!entry) {
            const plots = SERVING_CHARTS.map(([name, label]) => [name, chart(`serving-${name}`, label, [{ label, color: COLORS.rate }], { height: 130 })]);
            const title = h("h3", {});
            const problem = h("p", { class: "error", hidden: true });
            const el = h("article", { class: "serving" }, title, problem, h("div", { class: "charts" }, plots.map(([, c]) => c.el)));
            entry = { el, title, problem, plots };
            byUrl.set(e.url, entry);
            chartsBox.append(el);
          }
          entry.title.textContent = e.endpoint || e.url;
          const history = histories[i];
          if (history instanceof Error) {
            if (history.status === 401) throw history; // signed out: as any other read
            entry.problem.textContent = `Its history could not be read: ${history.message}`;
            entry.problem.hidden = false;
            continue;
          }
          entry.problem.hidden = true;
          for (const [name, c] of entry.plots) c.update(history[name].dates, history[name].values);
        }
        for (const [url, entry] of byUrl) {
          if (!seen.has(url)) { entry.plots.forEach(([, c]) => c.destroy()); entry.el.remove(); byUrl.delete(url); }
        }
        const none = $(".empty", chartsBox);
        if (byUrl.size && none) none.remove();
        if (!byUrl.size && !none) chartsBox.append(h("p", { class: "empty" }, "No serving endpoint to chart."));
      },
      destroy() { byUrl.forEach((entry) => entry.plots.forEach(([, c]) => c.destroy())); },
    };
  }

  /* --- MLBench benchmarks ------------------------------------------------------------------- */

  function benchmarksView(root, selected) {
    const runs = table("Runs, newest first", ["ID", "Name", "State", "Workers", "Created", "Finished", "Metrics"], "No benchmark runs yet (mlbench-core's ApiClient creates them).");
    const pods = table("Pods", ["Name", "Phase", "IP", "Labels"], "No pods.");
    const heading = h("h2", {}, "Run metrics");
    const chartsBox = h("div", { class: "charts" });
    root.append(h("h1", { tabindex: -1 }, "Benchmarks"), section("Runs", runs.el),
      h("section", { class: "panel" }, heading, chartsBox), section("Pods", pods.el));
    let plots = new Map();
    let shown = null;
    return {
      async refresh() {
        const [all, podList] = await Promise.all([call("api/runs/"), call("api/pods/")]);
        all.sort((a, b) => b.id - a.id);
        runs.fill(all.map((r) => [String(r.id), r.name, h("span", { class: `badge r-${r.state}` }, r.state), String(r.num_workers),
          r.created_at ? stamp(r.created_at) : "–", r.finished_at ? stamp(r.finished_at) : "–", h("a", { href: `#/benchmarks/${r.id}`, "aria-label": `metrics of run ${r.id}` }, "show")]));
        pods.fill(podList.map((p) => [p.name, p.phase, p.ip || "–", p.labels]));
        const run = selected ? all.find((r) => String(r.id) === selected) : all[0];
        if (!run) {
          plots.forEach((c) => c.destroy()); plots = new Map(); shown = null;
          heading.textContent = "Run metrics";
          chartsBox.replaceChildren(h("p", { class: "empty" }, selected ? `There is no run ${selected} (deleted, or never made).` : "No run to show."));
          return;
        }
        const metrics = await call(`api/metrics/${run.id}/?metric_type=run`);
        heading.textContent = `Metrics of run ${run.id} (${run.name})`;
        if (shown !== run.id) { plots.forEach((c) => c.destroy()); plots = new Map(); chartsBox.replaceChildren(); shown = run.id; }
        const allNames = Object.keys(metrics).sort();
        const names = allNames.slice(0, 12);
        if ([...plots.keys()].join("\n") !== names.join("\n")) { // another set, or order: charted afresh, by name
          plots.forEach((c) => c.destroy()); plots = new Map(); chartsBox.replaceChildren();
        }
        heading.textContent += allNames.length > names.length ? `: the first ${names.length} of ${allNames.length} metrics, by name` : "";
        if (!names.length && !$(".empty", chartsBox)) chartsBox.append(h("p", { class: "empty" }, "This run has posted no metrics yet."));
        for (const name of names) {
          let c = plots.get(name);
          if (!c) {
            const empty = $(".empty", chartsBox);
            if (empty) empty.remove();
            c = chart(`metric-${name}`, name, [{ label: name, color: COLORS.workers }], { height: 140 });
            plots.set(name, c);
            chartsBox.append(c.el);
          }
          const points = metrics[name].map((p) => [Date.parse(p.date) / 1000, Number(p.value)]).filter(([t]) => !Number.isNaN(t));
          c.update(points.map((p) => p[0]), points.map((p) => p[1]));
        }
      },
      destroy() { plots.forEach((c) => c.destroy()); },
    };
  }

  /* --- sign-in, routing, the live loop --------------------------------------------------- */

  const VIEWS = { fleet: fleetView, endpoint: endpointView, serving: servingView, benchmarks: benchmarksView };
  let current = null;
  let timer = null;
  let lastGood = null;

  function route() {
    const [first, second] = location.hash.replace(/^#\/?/, "").split("/");
    if (first === "endpoints" && /^\d+$/.test(second || "")) return ["endpoint", second, "fleet"];
    if (first === "serving") return ["serving", null, "serving"];
    if (first === "benchmarks") return ["benchmarks", /^\d+$/.test(second || "") ? second : null, "benchmarks"];
    return ["fleet", null, "fleet"];
  }

  function setStatus(text, failed) {
    const el = $("#refresh");
    // A screen reader hears a refresh that failed, and the first that works again, not every 5 s.
    if (Boolean(failed) !== el.classList.contains("failed")) $("#announce").textContent = failed ? text : text && "Refreshing again.";
    el.textContent = text;
    el.classList.toggle("failed", Boolean(failed));
  }

  async function tick(view) {
    clearTimeout(timer);
    if (view !== current) return;
    if (!document.hidden) {
      try {
        await view.refresh();
        if (view !== current) return;
        lastGood = now();
        setStatus(`Updated ${clock(lastGood)}`);
      } catch (error) {
        if (view !== current) return;
        if (error.status === 401 || error.status === 403) { signOut(`Signed out: ${error.message}`); return; }
        const since = lastGood ? `; showing what was read at ${clock(lastGood)}` : "";
        setStatus(`Refresh failed at ${clock(now())}: ${error.message}${since}`, true);
      }
    }
    if (view === current) timer = setTimeout(() => tick(view), REFRESH_MS);
  }

  function refreshNow(view) { tick(view); }

  function show(focus) {
    if (current) current.destroy();
    current = null;
    clearTimeout(timer);
    if (!sessionStorage.getItem(KEY)) { showSignIn(); return; }
    $("#sign-in").hidden = true;
    $("#nav").hidden = false;
    $("#sign-out").hidden = false;
    const root = $("#view");
    root.hidden = false;
    root.replaceChildren();
    document.title = "GPU control plane";
    const [name, arg, tab] = route();
    for (const link of document.querySelectorAll("#nav a")) {
      if (link.dataset.view === tab) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
    }
    lastGood = null;
    setStatus("Loading…");
    current = VIEWS[name](root, arg);
    if (focus) { const heading = $("h1", root); if (heading) heading.focus(); }
    tick(current);
  }

  function showSignIn(message) {
    $("#view").hidden = true;
    $("#nav").hidden = true;
    $("#sign-out").hidden = true;
    $("#sign-in").hidden = false;
    setStatus("");
    if (message !== undefined) $("#sign-in-error").textContent = message; // else what was said stays
    $("#api-key").focus();
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY);
    if (current) current.destroy();
    current = null;
    clearTimeout(timer);
    $("#view").replaceChildren(); // nothing of the account stays in the page
    document.title = "GPU control plane";
    history.replaceState(null, "", location.pathname + location.search); // nor where it was (no hashchange)
    showSignIn(message);
  }

  $("#sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("#api-key");
    const key = input.value.trim();
    const error = $("#sign-in-error");
    error.textContent = "";
    if (!key) { error.textContent = "Enter the account's API key."; return; }
    sessionStorage.setItem(KEY, key);
    try {
      await call("api/v0/users/current/");
    } catch (failure) {
      sessionStorage.removeItem(KEY);
      error.textContent = failure.status === 401 || failure.status === 403
        ? `That key was refused: ${failure.message}` : `Could not sign in: ${failure.message}`;
      input.select();
      return;
    }
    input.value = "";
    show(true);
  });
  $("#sign-out").addEventListener("click", () => signOut("Signed out."));
  $(".skip").addEventListener("click", (event) => { // to the content, not to a view named "main"
    event.preventDefault();
    const target = $("#view").hidden ? $("#api-key") : $("h1", $("#view")) || $("#main");
    target.focus();
  });
  window.addEventListener("hashchange", () => show(true));
  document.addEventListener("visibilitychange", () => { if (!document.hidden && current) tick(current); });
  show(false);
})();
