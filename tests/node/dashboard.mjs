// End-to-end check of the dashboard in headless Chromium (called by
// tests/integration/test_interfaces.c against a real service):
//
//   node dashboard.mjs --base http://127.0.0.1:PORT --regions N --out FILE.png
//
// Fails (exit 1, one line per problem) when the page logs a console error
// or throws, when a request fails or leaves the service's origin (the page
// must work offline), when the cards, ranking or charts lack data, or when
// a chart canvas is blank.  Saves a full-page screenshot to FILE.png.
// The page and the checks send the API key in $CARBONSCHED_API_KEY when set
// (as a proxy in front of the dashboard would; docs/security.md).
import { chromium } from 'playwright-core';

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
}

const base = arg('base');
const out = arg('out', 'dashboard.png');
const problems = [];
const fail = (msg) => problems.push(msg);
const auth = process.env.CARBONSCHED_API_KEY ? { Authorization: `Bearer ${process.env.CARBONSCHED_API_KEY}` } : {};
const get = (path) => fetch(base + path, { headers: auth });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, extraHTTPHeaders: auth });
  // A region without a forecast yet answers 404, which the page shows as
  // "no forecast yet" (Chromium logs every 4xx load as a console error).
  const noForecast = (status, url) => status === 404 && /\/v1\/regions\/[^/]+\/forecast\?/.test(url);
  page.on('console', (m) => {
    if (m.type() === 'error' && !(/status of 404/.test(m.text()) && noForecast(404, m.location()?.url || '')))
      fail(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => fail(`uncaught exception: ${e.message}`));
  page.on('requestfailed', (r) => fail(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(base + '/') && !u.startsWith('data:')) fail(`request leaves the service: ${u}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !noForecast(r.status(), r.url())) fail(`HTTP ${r.status()} for ${r.url()}`);
  });

  // What the page should show, from the API itself.
  const regions = (await (await get('/v1/regions')).json()).regions;
  const withData = regions.filter((r) => r.latest).map((r) => r.id);

  await page.goto(base + '/', { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
  await page.waitForTimeout(200); // let uPlot paint

  const s = await page.evaluate(() => {
    const painted = (sel) => {
      const c = document.querySelector(`${sel} canvas`);
      if (!c) return 0;
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
      return n;
    };
    const q = (sel) => document.querySelector(sel);
    return {
      clock: q('#clock').textContent,
      cards: [...document.querySelectorAll('.card')].map((c) => ({
        region: c.dataset.region, ci: c.querySelector('.ci').textContent })),
      ranking: [...document.querySelectorAll('#ranking li')].map((li) => ({
        region: li.dataset.region, v: parseFloat(li.querySelector('.v').textContent) })),
      rankingNote: q('#ranking-note').textContent,
      points: Number(q('#chart').dataset.points),
      forecastPoints: Number(q('#chart').dataset.forecastPoints),
      forecastNote: q('#forecast-note').textContent,
      renewablePoints: Number(q('#chart-renewable').dataset.points),
      painted: painted('#chart'),
      paintedRenewable: painted('#chart-renewable'),
      jobs: q('#jobs').textContent,
      sources: q('#sources').textContent,
    };
  });

  if (s.cards.length !== regions.length) fail(`${s.cards.length} region cards, expected ${regions.length}`);
  for (const c of s.cards) {
    const r = regions.find((x) => x.id === c.region);
    const want = r?.latest ? Number(r.latest.carbon_intensity.toFixed(0)) : NaN;
    if (!(parseFloat(c.ci) === want || (Number.isNaN(want) && c.ci.startsWith('–'))))
      fail(`card ${c.region} shows '${c.ci}', the API says ${r?.latest?.carbon_intensity}`);
  }
  if (s.ranking.length !== regions.length) fail(`${s.ranking.length} ranked regions, expected ${regions.length}`);
  const ranked = s.ranking.filter((r) => !Number.isNaN(r.v));
  if (ranked.length !== withData.length) fail(`ranking: ${JSON.stringify(s.ranking)}`);
  for (let i = 1; i < ranked.length; i++)
    if (!(ranked[i - 1].v <= ranked[i].v)) fail(`ranking not greenest first: ${JSON.stringify(s.ranking)}`);
  // Regions without data come last.
  if (s.ranking.slice(0, ranked.length).some((r) => Number.isNaN(r.v))) fail(`ranking: ${JSON.stringify(s.ranking)}`);
  // The chart of the first region with data holds every point the API has for its week.
  const health = await (await get('/healthz')).json();
  const now = Date.parse(health.clock.now) / 1000;
  const week = new URLSearchParams({ kind: 'carbon_intensity', from: new Date((now - 7 * 86400) * 1000).toISOString(),
    to: new Date((now + 1) * 1000).toISOString() });
  const api = withData.length
    ? (await (await get(`/v1/regions/${withData[0]}/signals?${week}`)).json()).points.length : 0;
  if (s.points < 24 || s.points !== api) fail(`intensity chart has ${s.points} points, the API ${api}`);
  if (s.renewablePoints < 24) fail(`renewable chart has ${s.renewablePoints} points`);
  if (s.painted < 500) fail(`intensity chart canvas is blank (${s.painted} painted pixels)`);
  if (s.paintedRenewable < 500) fail(`renewable chart canvas is blank (${s.paintedRenewable} painted pixels)`);
  if (!s.forecastPoints && s.forecastNote !== 'no forecast yet')
    fail(`no forecast, but the panel says '${s.forecastNote}'`);
  if (!/data time \d{4}-\d\d-\d\d \d\d:\d\d UTC/.test(s.clock)) fail(`clock line: '${s.clock}'`);

  await page.screenshot({ path: out, fullPage: true });
  console.log(JSON.stringify({ ...s, cards: s.cards.length, ranking: s.ranking.map((r) => r.region) }));
} finally {
  await browser.close();
}
if (problems.length) {
  for (const p of problems) console.error(`dashboard: ${p}`);
  process.exit(1);
}
