// Validate real answers of a running service against the OpenAPI document
// (called by tests/integration/test_interfaces.c):
//
//   node validate.mjs --base http://127.0.0.1:PORT --spec service/openapi.json --requests FILE
//
// FILE has one request per line: "METHOD PATH STATUS [BODY] [=> NAME]"
// ('#' starts a comment).  BODY is a JSON object or array without spaces,
// sent as application/json (for an expected 2xx it must itself match the
// operation's requestBody schema); "=> NAME" keeps the answer's id (or array_id), which
// later lines use as ${NAME} in the path or body.  For each, the answer must
// have that status; the operation is
// found by matching PATH against the document's path templates; the status
// must be documented (or covered by 'default'), the Content-Type must be one
// the response declares, and a JSON body must validate against its schema
// (JSON Schema 2020-12, as OpenAPI 3.1 says).  An answer to a path or method
// the document does not have must be a problem+json.  Every operation of
// the document must be exercised by some line.  Before any of that, the
// validator proves it can fail: a wrong body must be rejected.
//
// Requests carry the API key in $CARBONSCHED_API_KEY (docs/security.md); a
// line ending in "!nokey" goes without one, "!readkey" with the read-only
// key in $CARBONSCHED_READ_KEY (to see the 401 and 403 answers).
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) throw new Error(`--${name} is required`);
  return process.argv[i + 1];
}

const base = arg('base');
const spec = JSON.parse(readFileSync(arg('spec'), 'utf8'));
const lines = readFileSync(arg('requests'), 'utf8').split('\n');
const ID = 'urn:carbonsched:openapi';
const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
ajv.addSchema(spec, ID);

const esc = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');
const validator = (pointer) => ajv.getSchema(`${ID}#${pointer}`) || ajv.compile({ $ref: `${ID}#${pointer}` });
const problems = [];
const fail = (msg) => problems.push(msg);

// The validator must be able to say no.
{
  const v = validator('/components/schemas/Region');
  if (v({ id: 'x', name: 'x', latitude: 0 })) fail('self-test: an incomplete Region validated');
  const p = validator('/components/schemas/Problem');
  if (p({ type: 'x', status: 'not a number' })) fail('self-test: a bad Problem validated');
}

function findOperation(method, path) {
  for (const [tmpl, item] of Object.entries(spec.paths)) {
    const re = new RegExp('^' + tmpl.split('/').map((seg) =>
      seg.startsWith('{') ? '[^/]+' : seg.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('/') + '$');
    if (re.test(path)) return { tmpl, op: item[method.toLowerCase()] };
  }
  return { tmpl: null, op: null };
}

const used = new Set();
const vars = {};
let checked = 0;
for (const raw of lines) {
  const line = raw.replace(/#.*/, '').trim();
  if (!line) continue;
  const m = line.match(/^(\S+)\s+(\S+)\s+(\d{3})(?:\s+(\{.*?\}|\[.*?\]))?(?:\s+=>\s+(\w+))?(?:\s+!(nokey|readkey))?$/);
  if (!m) {
    fail(`requests file: cannot read '${line}'`);
    continue;
  }
  const sub = (s) => s && s.replace(/\$\{(\w+)\}/g, (_, k) => vars[k] ?? `\${${k}}`);
  const [method, target, want, reqBody, save] = [m[1], sub(m[2]), m[3], sub(m[4]), m[5]];
  const headers = {};
  const apiKey = m[6] === 'nokey' ? null : m[6] === 'readkey' ? process.env.CARBONSCHED_READ_KEY
    : process.env.CARBONSCHED_API_KEY;
  if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
  if (reqBody) headers['Content-Type'] = 'application/json';
  const init = { method, redirect: 'manual', headers };
  if (reqBody) init.body = reqBody;
  const res = await fetch(base + target, init);
  const body = await res.text();
  if (save) {
    try {
      const j = JSON.parse(body);
      vars[save] = j.id ?? j.array_id;
    } catch (e) { /* reported below */ }
  }
  const ctype = (res.headers.get('content-type') || '').split(';')[0].trim();
  const where = `${method} ${target}`;
  checked++;
  if (String(res.status) !== want) {
    fail(`${where}: status ${res.status}, expected ${want}: ${body.slice(0, 200)}`);
    continue;
  }
  const path = new URL(base + target).pathname;
  const { tmpl, op } = findOperation(method, path);
  if (!op) {
    // Not a documented operation: must be a problem (404, 405).
    if (res.status < 400 || ctype !== 'application/problem+json')
      fail(`${where}: undocumented operation answered ${res.status} ${ctype}`);
    else if (!validator('/components/schemas/Problem')(JSON.parse(body)))
      fail(`${where}: problem does not validate: ${ajv.errorsText(validator('/components/schemas/Problem').errors)}`);
    continue;
  }
  used.add(`${method.toLowerCase()} ${tmpl}`);
  const rb = op.requestBody?.content?.['application/json'];
  if (reqBody && rb && want.startsWith('2')) {
    const v = validator(`/paths/${esc(tmpl)}/${method.toLowerCase()}/requestBody/content/application~1json/schema`);
    if (!v(JSON.parse(reqBody))) fail(`${where}: the request body does not match its schema: ${ajv.errorsText(v.errors)}`);
  }
  const code = String(res.status);
  const key = code in op.responses ? code : `${code[0]}XX` in op.responses ? `${code[0]}XX` : 'default';
  if (!(key in op.responses)) {
    fail(`${where}: status ${code} is not documented`);
    continue;
  }
  let pointer = `/paths/${esc(tmpl)}/${method.toLowerCase()}/responses/${key}`;
  let response = op.responses[key];
  if (response.$ref) {
    pointer = response.$ref.slice(1);
    response = pointer.split('/').slice(1).reduce((o, k) => o[k.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  }
  if (!response.content) {
    if (body.length) fail(`${where}: ${code} documents no body but got ${body.length} bytes`);
    continue;
  }
  if (!(ctype in response.content)) {
    fail(`${where}: Content-Type '${ctype}' is not one of ${Object.keys(response.content).join(', ')}`);
    continue;
  }
  const schemaPointer = `${pointer}/content/${esc(ctype)}/schema`;
  const isJson = ctype === 'application/json' || ctype.endsWith('+json');
  let value = body;
  if (isJson) {
    try { value = JSON.parse(body); } catch (e) { fail(`${where}: not JSON: ${e.message}`); continue; }
  }
  const v = validator(schemaPointer);
  if (!v(value)) fail(`${where}: does not match ${schemaPointer}: ${ajv.errorsText(v.errors)}`);
}

for (const [tmpl, item] of Object.entries(spec.paths))
  for (const m of ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'])
    if (item[m] && !used.has(`${m} ${tmpl}`)) fail(`${m.toUpperCase()} ${tmpl}: documented but not exercised by the requests file`);

console.log(`openapi: ${checked} answers checked, ${used.size} operations covered, ${problems.length} problems`);
for (const p of problems) console.error(`openapi: ${p}`);
process.exit(problems.length || !checked ? 1 : 0);
