// Generates src/frontend/onnx/schema_data.ts, the operator schemas the importer validates
// nodes against (arity, attribute names and types, type constraints), from the ONNX spec's
// generated operator changelog:
//
//   node scripts/gen-onnx-schemas.mjs path/to/onnx/docs/Changelog.md
//
// Changelog.md (github.com/onnx/onnx, docs/) lists every version of every operator of the
// ai.onnx, ai.onnx.preview and ai.onnx.preview.training domains. Only facts are extracted:
// names, counts and types, never the prose.
import { readFileSync, writeFileSync } from 'node:fs';

const [, , changelog, outArg] = process.argv;
if (!changelog) {
  console.error('usage: node scripts/gen-onnx-schemas.mjs <onnx docs/Changelog.md> [out.ts]');
  process.exit(2);
}
const out = outArg ?? new URL('../src/frontend/onnx/schema_data.ts', import.meta.url).pathname;
const lines = readFileSync(changelog, 'utf8').split('\n');

const ATTR_TYPES = {
  float: 'float', int: 'int', string: 'string', tensor: 'tensor', graph: 'graph', sparse_tensor: 'sparse_tensor', 'sparse tensor': 'sparse_tensor',
  type_proto: 'type_proto', 'type proto': 'type_proto', 'list of type_protos': 'type_protos', 'list of sparse_tensors': 'sparse_tensors', 'list of floats': 'floats', 'list of ints': 'ints', 'list of strings': 'strings',
  'list of tensors': 'tensors', 'list of graphs': 'graphs', 'list of sparse tensors': 'sparse_tensors', 'list of type protos': 'type_protos',
};
const INF = '&#8734;';

/** @type {Map<string, Map<string, object[]>>} domain -> op -> versions */
const domains = new Map();
let domain = '';
let entry = null;
let section = '';
let maxOpset = {};

function finish() {
  if (!entry) return;
  const ops = domains.get(entry.domain) ?? new Map();
  domains.set(entry.domain, ops);
  const list = ops.get(entry.op) ?? [];
  list.push(entry);
  ops.set(entry.op, list);
  entry = null;
}

function arity(header, formals) {
  const m = /\((\d+) - (\d+|&#8734;)\)/.exec(header);
  if (!m) return [formals.length, formals.length];
  return [Number(m[1]), m[2] === INF ? -1 : Number(m[2])];
}

for (const line of lines) {
  let m;
  if ((m = /^# (\S+)/.exec(line))) {
    finish();
    domain = m[1] === 'ai.onnx' ? '' : m[1];
    continue;
  }
  if ((m = /^## Version (\d+) of/.exec(line))) {
    maxOpset[domain] = Math.max(maxOpset[domain] ?? 0, Number(m[1]));
    continue;
  }
  if ((m = /^### <a name="([^"]+)-(\d+)"><\/a>/.exec(line))) {
    finish();
    const full = m[1];
    const op = domain && full.startsWith(`${domain}.`) ? full.slice(domain.length + 1) : full;
    entry = { domain, op, since: Number(m[2]), inputs: [], outputs: [], attrs: [], types: {}, inputHeader: '', outputHeader: '' };
    section = '';
    continue;
  }
  if (!entry) continue;
  if ((m = /^#### (\w[\w ]*)/.exec(line))) {
    section = m[1].trim();
    if (section === 'Inputs') entry.inputHeader = line;
    if (section === 'Outputs') entry.outputHeader = line;
    continue;
  }
  if ((m = /deprecated since version (\d+)/.exec(line)) && section === 'Version') {
    entry.deprecated = Number(m[1]);
    continue;
  }
  if (!line.startsWith('<dt><tt>')) continue;
  if (section === 'Attributes') {
    m = /^<dt><tt>([^<]+)<\/tt> : ([a-z_ ]+?)( \(default is .*\)| \(required\))?<\/dt>/.exec(line);
    if (!m) throw new Error(`${entry.op}-${entry.since}: cannot read attribute line: ${line}`);
    const type = ATTR_TYPES[m[2].trim()];
    if (!type) throw new Error(`${entry.op}-${entry.since}: unknown attribute type '${m[2]}'`);
    entry.attrs.push([m[1], type, m[3] === ' (required)']);
  } else if (section === 'Inputs' || section === 'Outputs') {
    m = /^<dt><tt>([^<]*)<\/tt>(?: \(([^)]*)\))? : ([^<]+)<\/dt>/.exec(line);
    if (!m) throw new Error(`${entry.op}-${entry.since}: cannot read ${section} line: ${line}`);
    const flags = (m[2] ?? '').split(',').map((s) => s.trim());
    const option = flags.includes('optional') ? 'optional' : flags.includes('variadic') ? 'variadic' : 'single';
    const formal = { name: m[1], type: m[3].trim(), option, ...(flags.includes('heterogeneous') ? { heterogeneous: true } : {}) };
    (section === 'Inputs' ? entry.inputs : entry.outputs).push(formal);
  } else if (section === 'Type Constraints') {
    m = /^<dt><tt>([^<]+)<\/tt> : (.*)<\/dt>/.exec(line);
    if (!m) throw new Error(`${entry.op}-${entry.since}: cannot read type constraint: ${line}`);
    // Only tensor element types matter to Tessera (its values are tensors).
    entry.types[m[1]] = m[2].split(', ').map((t) => /^tensor\((\w+)\)$/.exec(t.trim())?.[1]).filter(Boolean);
  }
}
finish();

// Identical type lists are shared: most constraints name one of a few dozen sets.
const typeSets = [];
const typeSetIndex = new Map();
const typeSet = (list) => {
  const key = list.join(',');
  if (!typeSetIndex.has(key)) {
    typeSetIndex.set(key, typeSets.length);
    typeSets.push(list);
  }
  return typeSetIndex.get(key);
};

/** A formal's compact form: name, option letter ('' single, '?' optional, '*' variadic, '+' heterogeneous variadic), type (param or tensor(x)). */
const formal = (f) => [f.name, f.option === 'optional' ? '?' : f.option === 'variadic' ? (f.heterogeneous ? '+' : '*') : '', f.type];

const data = {};
let count = 0;
for (const [d, ops] of [...domains].sort()) {
  data[d] = {};
  for (const [op, versions] of [...ops].sort()) {
    data[d][op] = versions.sort((a, b) => a.since - b.since).map((e) => {
      count++;
      return {
        since: e.since,
        ...(e.deprecated ? { deprecated: e.deprecated } : {}),
        inputs: arity(e.inputHeader, e.inputs),
        outputs: arity(e.outputHeader, e.outputs),
        in: e.inputs.map(formal),
        out: e.outputs.map(formal),
        attrs: Object.fromEntries(e.attrs.map(([n, t, req]) => [n, req ? `!${t}` : t])),
        types: Object.fromEntries(Object.entries(e.types).map(([k, v]) => [k, typeSet(v)])),
      };
    });
  }
}

const header = `// Generated by scripts/gen-onnx-schemas.mjs from the ONNX operator changelog
// (github.com/onnx/onnx docs/Changelog.md): ${count} operator versions. Do not edit by hand.
import type { SchemaData } from './schema.js';

`;
writeFileSync(out, `${header}export const SCHEMA_DATA: SchemaData = ${JSON.stringify({ maxOpset, typeSets, domains: data })};\n`);
console.log(`wrote ${out}: ${count} operator versions, ${typeSets.length} type sets, max opsets ${JSON.stringify(maxOpset)}`);
