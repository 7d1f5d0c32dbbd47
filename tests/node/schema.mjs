// Validate JSON answers saved to files against one schema of the OpenAPI
// document (called by tests/integration/test_pollers.c, for answers that
// only a running poller produces):
//
//   node schema.mjs --spec service/openapi.json --schema SourceList FILE...
//
// Exit 0 when every file validates, 1 (with the errors) when one does not.
// The validator proves first that it can say no.
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) throw new Error(`--${name} is required`);
  return process.argv[i + 1];
}

const spec = JSON.parse(readFileSync(arg('spec'), 'utf8'));
const name = arg('schema');
const args = process.argv.slice(2);
const files = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
const ID = 'urn:carbonsched:openapi';
const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
ajv.addSchema(spec, ID);
const validate = ajv.compile({ $ref: `${ID}#/components/schemas/${name}` });

let bad = 0;
if (validate({ unexpected: true })) {
  console.log(`self-test: an object of no shape validated as ${name}`);
  bad++;
}
for (const f of files) {
  if (validate(JSON.parse(readFileSync(f, 'utf8')))) continue;
  bad++;
  console.log(`${f}: not a ${name}: ${ajv.errorsText(validate.errors, { separator: '; ' })}`);
}
console.log(`schema ${name}: ${files.length} answers checked, ${bad} problems`);
process.exit(bad ? 1 : 0);
