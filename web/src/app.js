// The carbonsched dashboard: reads the service's own API from the browser.
//
// Which routes exist is read from /openapi.json (served by the same
// binary), so the page asks only for what this service has: panels for
// forecasts, booked jobs and source health light up as soon as those
// routes are in the document, and say plainly what is missing until then.
// Times are the service clock's (a demo replays history): "now" comes
// from /healthz, never from the browser.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './style.css';

const HOUR = 3600;
const HISTORY_H = 7 * 24;
const FORECAST_ROUTE = '/v1/regions/{id}/forecast';
const $ = (id) => document.getElementById(id);

const state = {
  routes: new Set(),
  now: 0,
  regions: [],
  selected: null,
  renewable: new Map(), // region id -> latest renewable share (%)
  forecasts: new Map(), // region id -> forecast answer, or null
  charts: [],
};

class HttpError extends Error {
  constructor(path, status, problem) {
    super(`${path}: ${problem?.detail || 'HTTP ' + status}`);
    this.status = status;
  }
}

async function getJSON(path) {
  const r = await fetch(path, { headers: { Accept: 'application/json' } });
  if (!r.ok) {
    let problem = null;
    try { problem = await r.json(); } catch { /* not JSON */ }
    throw new HttpError(path, r.status, problem);
  }
  return r.json();
}

const has = (route) => state.routes.has(route);
const iso = (t) => new Date(t * 1000).toISOString().replace('.000Z', 'Z');
const parseTs = (s) => Date.parse(s) / 1000;
const fmt = (v, d = 0) => (v == null || Number.isNaN(v) ? '–' : v.toFixed(d));
const text = (el, s) => { el.textContent = s; return el; };

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-') || k.startsWith('aria-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c);
  return e;
}

function band(ci) {
  if (ci == null) return '';
  return ci < 150 ? 'g' : ci < 400 ? 'a' : 'r';
}

function utcLabel(t) {
  return iso(t).slice(0, 16).replace('T', ' ') + ' UTC';
}

// --- data -------------------------------------------------------------------

async function signals(region, kind, from, to) {
  const q = new URLSearchParams({ kind, from: iso(from), to: iso(to) });
  try {
    return (await getJSON(`/v1/regions/${encodeURIComponent(region)}/signals?${q}`)).points;
  } catch (e) {
    if (e.status === 404) return []; // the region has no such signal
    throw e;
  }
}

// A region without a latest intensity has no data at all: asking for its
// signals would only collect 404s.
async function loadRenewable(r) {
  if (!r.latest) {
    state.renewable.set(r.id, null);
    return;
  }
  const pts = await signals(r.id, 'renewable_share', state.now - 6 * HOUR, state.now + 1);
  state.renewable.set(r.id, pts.length ? pts[pts.length - 1].value : null);
}

async function loadForecast(r) {
  if (!has(FORECAST_ROUTE)) {
    state.forecasts.set(r.id, null);
    return;
  }
  const q = new URLSearchParams({ kind: 'carbon_intensity', horizon: '96h' });
  try {
    state.forecasts.set(r.id, await getJSON(`/v1/regions/${encodeURIComponent(r.id)}/forecast?${q}`));
  } catch (e) {
    if (e.status !== 404) throw e;
    state.forecasts.set(r.id, null);
  }
}

// --- panels -----------------------------------------------------------------

function renderClock(health) {
  const c = $('clock');
  c.replaceChildren();
  if (health.clock.mode === 'replay')
    c.append(el('span', { class: 'replay' }, 'Demo: replaying historical data'), ' · ');
  c.append(`data time ${utcLabel(state.now)} · version ${health.version}`);
}

function renderCards() {
  const cards = $('cards');
  cards.replaceChildren();
  for (const r of state.regions) {
    const ci = r.latest?.carbon_intensity ?? null;
    const share = state.renewable.get(r.id);
    const card = el('button', { class: `card ${band(ci)}`, type: 'button', 'aria-pressed': String(r.id === state.selected), 'data-region': r.id },
      el('div', { class: 'name' }, r.name),
      el('div', { class: 'id' }, r.id === r.zone ? r.id : `${r.id} · zone ${r.zone}`),
      el('div', { class: 'ci' }, fmt(ci), ' ', el('span', { class: 'unit' }, r.latest?.unit || 'gCO2eq/kWh')),
      el('div', { class: 'row' }, el('span', {}, `renewable ${fmt(share)} %`), el('span', {}, `PUE ${fmt(r.pue, 2)}`)),
      el('div', { class: 'row' }, el('span', {}, 'effective'), el('span', {}, ci == null ? '–' : `${fmt(ci * r.pue)} g/kWh`)));
    card.addEventListener('click', () => select(r.id));
    cards.append(card);
  }
  cards.dataset.state = 'ready';
}

function forecastMean(f, from, to) {
  let sum = 0, n = 0;
  for (const p of f.points) {
    const t = parseTs(p.ts);
    if (t >= from && t < to && p.p50 != null) { sum += p.p50; n++; }
  }
  return n ? sum / n : null;
}

function renderRanking() {
  const hours = Number($('horizon').value);
  const rows = state.regions.map((r) => {
    const f = state.forecasts.get(r.id);
    const mean = f ? forecastMean(f, state.now, state.now + hours * HOUR) : null;
    if (mean != null) return { r, v: mean * r.pue, how: 'forecast' };
    const ci = r.latest?.carbon_intensity;
    return { r, v: ci == null ? null : ci * r.pue, how: 'now' };
  });
  rows.sort((a, b) => (a.v == null) - (b.v == null) || a.v - b.v || a.r.id.localeCompare(b.r.id));
  const list = $('ranking');
  list.replaceChildren(...rows.map(({ r, v, how }) =>
    el('li', { 'data-region': r.id }, el('span', {}, r.name),
      el('span', { class: 'v', title: how === 'forecast' ? 'mean forecast × PUE' : 'current intensity × PUE' },
        v == null ? 'no data' : `${fmt(v)} g/kWh${how === 'now' ? ' (now)' : ''}`))));
  const anyForecast = rows.some((x) => x.how === 'forecast');
  text($('ranking-note'), anyForecast
    ? `Mean forecast intensity × PUE over the next ${hours} h.`
    : 'No forecast yet: ranked by current intensity × PUE.');
}

function destroyCharts() {
  for (const c of state.charts) c.destroy();
  state.charts = [];
}

function nowMarker(now) {
  return {
    hooks: {
      draw: [(u) => {
        const x = u.valToPos(now, 'x', true);
        if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
        const { ctx } = u;
        ctx.save();
        ctx.strokeStyle = '#8a958f';
        ctx.setLineDash([4, 4]);
        ctx.beginPath();
        ctx.moveTo(x, u.bbox.top);
        ctx.lineTo(x, u.bbox.top + u.bbox.height);
        ctx.stroke();
        ctx.restore();
      }],
    },
  };
}

// 24-hour UTC ticks: the date at midnight, else the time.
function axisTime(t) {
  const s = iso(t);
  return s.slice(11, 16) === '00:00' ? s.slice(5, 10) : s.slice(11, 16);
}

function chartOpts(container, height, series, extra = {}) {
  return {
    width: Math.max(320, container.clientWidth),
    height,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true } },
    axes: [{ values: (u, ticks) => ticks.map(axisTime) }, { size: 50 }],
    series: [{}, ...series],
    plugins: [nowMarker(state.now)],
    ...extra,
  };
}

// Both charts of a region share one time range, so that their axes line
// up: uPlot takes the x range from the data, so the range's ends are added
// as empty points where the data does not reach them.
function spanRange(data, [lo, hi]) {
  const xs = data[0];
  if (!xs.length || xs[0] > lo) data.forEach((col, i) => col.unshift(i ? null : lo));
  if (xs[xs.length - 1] < hi) data.forEach((col, i) => col.push(i ? null : hi));
  return data;
}

async function renderCharts() {
  const r = state.regions.find((x) => x.id === state.selected);
  destroyCharts();
  if (!r) return;
  text($('chart-h'), `Carbon intensity — ${r.name}`);
  const from = state.now - HISTORY_H * HOUR;
  if (!r.latest) {
    for (const id of ['chart', 'chart-renewable']) {
      $(id).replaceChildren(el('p', { class: 'note' }, 'no data for this region yet'));
      $(id).dataset.points = '0';
    }
    text($('chart-note'), '');
    text($('forecast-note'), 'no forecast yet');
    return;
  }
  const [actual, renewable] = await Promise.all([
    signals(r.id, 'carbon_intensity', from, state.now + 1),
    signals(r.id, 'renewable_share', from, state.now + 1),
  ]);
  const f = state.forecasts.get(r.id);

  // One x axis for history and forecast: the union of their timestamps.
  const rows = new Map();
  const row = (t) => rows.get(t) || rows.set(t, { a: null, p10: null, p50: null, p90: null }).get(t);
  for (const p of actual) row(parseTs(p.ts)).a = p.value;
  for (const p of f?.points || []) Object.assign(row(parseTs(p.ts)), { p10: p.p10, p50: p.p50, p90: p.p90 });
  const xs = [...rows.keys()].sort((a, b) => a - b);
  const col = (k) => xs.map((t) => rows.get(t)[k]);

  const box = $('chart');
  box.replaceChildren();
  const series = [{ label: 'actual', stroke: '#26332c', width: 1.5 }];
  const data = [xs, col('a')];
  const extra = {};
  if (f) {
    series.push({ label: `forecast p50 (${f.model})`, stroke: '#2f6fdb', width: 1.5, dash: [6, 3] },
      { label: 'p10', stroke: 'rgba(47,111,219,0.35)', width: 1 },
      { label: 'p90', stroke: 'rgba(47,111,219,0.35)', width: 1 });
    data.push(col('p50'), col('p10'), col('p90'));
    extra.bands = [{ series: [4, 3], fill: 'rgba(47,111,219,0.16)' }];
    text($('forecast-note'), `Forecast issued ${utcLabel(parseTs(f.issued_at))} by ${f.model}; band p10–p90.`);
  } else {
    text($('forecast-note'), 'no forecast yet');
  }
  text($('chart-note'), `${r.latest?.unit || 'gCO2eq/kWh'}, last ${HISTORY_H / 24} days${f ? ' and the next 96 h' : ''}; dashed line: now`);
  const range = [from, Math.max(state.now, xs.length ? xs[xs.length - 1] : state.now)];
  spanRange(data, range);
  state.charts.push(new uPlot(chartOpts(box, 280, series, extra), data, box));
  box.dataset.points = String(actual.length);
  box.dataset.forecastPoints = String(f?.points?.length || 0);

  const rbox = $('chart-renewable');
  rbox.replaceChildren();
  rbox.dataset.points = String(renewable.length);
  if (renewable.length) {
    const rdata = [renewable.map((p) => parseTs(p.ts)), renewable.map((p) => p.value)];
    state.charts.push(new uPlot(chartOpts(rbox, 140, [{ label: 'renewable %', stroke: '#1f9d55', fill: 'rgba(31,157,85,0.12)', width: 1.5 }]), spanRange(rdata, range), rbox));
  } else {
    rbox.append(el('p', { class: 'note' }, 'no renewable share for this region'));
  }
}

function list(answer, key) {
  return Array.isArray(answer) ? answer : answer?.[key] || [];
}

async function renderJobs() {
  const box = $('jobs');
  if (!has('/v1/jobs')) {
    box.replaceChildren(el('p', { class: 'note' }, 'Job booking is not available on this service yet.'));
    return;
  }
  const jobs = list(await getJSON('/v1/jobs'), 'jobs');
  const from = state.now - 24 * HOUR, to = state.now + 96 * HOUR;
  const pos = (t) => `${(100 * (Math.min(Math.max(t, from), to) - from)) / (to - from)}%`;
  const lanes = new Map();
  for (const j of jobs) {
    const s = parseTs(j.start || j.planned_start), e = parseTs(j.end || j.planned_end);
    if (!(e > from && s < to)) continue;
    const region = j.region || '?';
    if (!lanes.has(region)) lanes.set(region, []);
    const saving = j.baseline_g && j.expected_g != null ? 100 * (1 - j.expected_g / j.baseline_g) : j.saving_pct;
    const bar = el('div', { class: `job ${j.state || ''}`, title: `${j.name || j.id}: ${j.state}, ${iso(s)} → ${iso(e)}, saving ${fmt(saving, 1)} %` },
      `${j.name || j.id} −${fmt(saving)}%`);
    bar.style.left = pos(s);
    bar.style.width = `calc(${pos(e)} - ${pos(s)})`;
    lanes.get(region).push(bar);
  }
  if (!lanes.size) {
    box.replaceChildren(el('p', { class: 'note' }, 'No booked jobs in the last day or the next four.'));
    return;
  }
  // A day axis, and now as a line across the lanes.
  const ticks = [];
  for (let t = Math.ceil(from / 86400) * 86400; t < to - 6 * HOUR; t += 86400) {
    const tick = el('span', { class: 'tick' }, iso(t).slice(5, 10));
    tick.style.left = pos(t);
    ticks.push(tick);
  }
  const nowLine = () => { const n = el('div', { class: 'now' }); n.style.left = pos(state.now); return n; };
  box.replaceChildren(
    el('div', { class: 'lane axis' }, el('span', {}, 'UTC'), el('div', { class: 'track' }, ...ticks)),
    ...[...lanes].map(([region, bars]) =>
      el('div', { class: 'lane' }, el('span', {}, region), el('div', { class: 'track' }, nowLine(), ...bars))));
}

function cell(v) {
  if (v == null) return '–';
  if (typeof v === 'object') return v.message ? `${v.message}${v.time ? ' (' + v.time + ')' : ''}` : JSON.stringify(v);
  return String(v);
}

async function renderSources() {
  const box = $('sources');
  if (!has('/v1/sources')) {
    box.replaceChildren(el('p', { class: 'note' }, 'Source health is not available on this service yet.'));
    return;
  }
  // One row per source and zone: GET /v1/sources nests the zones.
  const rows = list(await getJSON('/v1/sources'), 'sources').flatMap((s) =>
    (s.zones?.length ? s.zones : [{}]).map((z) => ({
      ...z, name: s.name, source: s.type, breaker: z.breaker ?? s.breaker, held_by: s.held_by,
    })));
  if (!rows.length) {
    box.replaceChildren(el('p', { class: 'note' }, 'No sources configured: data comes from files.'));
    return;
  }
  const cols = ['name', 'source', 'zone', 'last_success', 'last_error', 'next_run', 'rows_written', 'stale', 'breaker',
    'held_by']
    .filter((c) => rows.some((r) => c in r));
  box.replaceChildren(el('table', {},
    el('thead', {}, el('tr', {}, ...cols.map((c) => el('th', {}, c.replace('_', ' '))))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...cols.map((c) => {
      const td = el('td', {}, cell(r[c]));
      if (c === 'breaker') td.className = r[c] === 'closed' ? 'ok' : 'bad';
      if (c === 'stale' && r[c]) td.className = 'bad';
      return td;
    }))))));
}

// --- wiring -----------------------------------------------------------------

function panelError(id, e) {
  $(id).replaceChildren(el('p', { class: 'note bad' }, `could not load: ${e.message}`));
}

async function select(id) {
  state.selected = id;
  history.replaceState(null, '', `#${encodeURIComponent(id)}`);
  for (const c of document.querySelectorAll('.card'))
    c.setAttribute('aria-pressed', String(c.dataset.region === id));
  try { await renderCharts(); } catch (e) { panelError('chart', e); }
}

async function refresh() {
  const health = await getJSON('/healthz');
  state.now = parseTs(health.clock.now);
  renderClock(health);
  state.regions = (await getJSON('/v1/regions')).regions;
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (!state.regions.some((r) => r.id === state.selected))
    state.selected = state.regions.some((r) => r.id === wanted)
      ? wanted : (state.regions.find((r) => r.latest) || state.regions[0])?.id;
  await Promise.all(state.regions.map(loadRenewable));
  renderCards();
  await Promise.all(state.regions.map(loadForecast));
  renderRanking();
  await Promise.all([
    renderCharts().catch((e) => panelError('chart', e)),
    renderJobs().catch((e) => panelError('jobs', e)),
    renderSources().catch((e) => panelError('sources', e)),
  ]);
}

async function main() {
  try {
    state.routes = new Set(Object.keys((await getJSON('/openapi.json')).paths || {}));
    await refresh();
  } catch (e) {
    text($('clock'), `could not reach the service: ${e.message}`);
  }
  document.body.dataset.ready = '1';
  $('horizon').addEventListener('change', renderRanking);
  window.addEventListener('resize', () => {
    for (const c of state.charts) c.setSize({ width: Math.max(320, c.root.parentNode.clientWidth), height: c.height });
  });
  setInterval(() => refresh().catch(() => { /* keep showing the last answer */ }), 60000);
}

main();
