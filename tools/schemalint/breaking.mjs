// Fails when the schema breaks what a client of the last release could
// rely on: a removed type, field, argument or enum value, a changed type,
// a new required argument or input field. A field or enum value may go
// only once the release marked it @deprecated.
//
//   node breaking.mjs release.graphqls prelude.graphqls schema/*.graphqls
import { readFileSync } from 'node:fs';
import { buildSchema } from 'graphql';
import { diff, CriticalityLevel, ChangeType } from '@graphql-inspector/core';

const [release, prelude, ...current] = process.argv.slice(2);
const load = (files) => buildSchema(files.map((f) => readFileSync(f, 'utf8')).join('\n'), { assumeValidSDL: true });
const before = load([release, prelude]);
const after = load([prelude, ...current]);

// What the release had deprecated may be removed.
function deprecatedInRelease(change) {
  const path = (change.path || '').split('.');
  const type = before.getType(path[0]);
  if (!type) return false;
  if (change.type === ChangeType.FieldRemoved && type.getFields) {
    return Boolean(type.getFields()[path[1]]?.deprecationReason);
  }
  if (change.type === ChangeType.EnumValueRemoved && type.getValue) {
    return Boolean(type.getValue(path[1])?.deprecationReason);
  }
  return false;
}

const changes = await diff(before, after);
const breaking = changes.filter((c) => c.criticality.level === CriticalityLevel.Breaking && !deprecatedInRelease(c));
for (const c of breaking) console.error(`breaking: ${c.message} (${c.path ?? ''})`);
const dangerous = changes.filter((c) => c.criticality.level === CriticalityLevel.Dangerous);
for (const c of dangerous) console.log(`dangerous, allowed: ${c.message}`);
console.log(`breaking-change check: ${changes.length} changes since the last release, ${breaking.length} breaking`);
process.exit(breaking.length > 0 ? 1 : 0);
