// A tool's JSON schema as Gemini's `Schema` takes it (functionDeclarations[].parameters). Gemini
// refuses fields outside its OpenAPI subset and a few JSON-schema idioms, so the schema is rebuilt
// the way LiteLLM's _build_vertex_schema does: `$defs`/`$ref` unwound, `anyOf` with a null branch
// → `nullable`, type lists (`["string", "null"]`) → one type + `nullable`, empty strings left out
// of enums, `items: {}` → `{type: "object"}`, `type: "object"` wherever `properties` is, `format`
// kept only for `enum` / `date-time`, and every other unknown field left out. A new copy is built;
// the client's object is not touched. Bounded: depth (MAX_DEPTH, also against `$ref` cycles) and
// the work per node is linear in its fields.

import { isObj, type Obj } from './shape';

/** Fields of Gemini's Schema object. */
const VALID = new Set([
  'type', 'format', 'title', 'description', 'nullable', 'enum', 'maxItems', 'minItems', 'properties', 'required',
  'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'example', 'anyOf', 'propertyOrdering',
  'default', 'items', 'minimum', 'maximum',
]);

/** Deeper than any real tool schema; a `$ref` cycle stops here too (as an untyped object). */
const MAX_DEPTH = 32;
/**
 * Nodes built per schema: `$ref`s unwound can multiply a small schema (a definition used twice at
 * every level), so past this the rest is declared as untyped objects, keeping the work linear.
 */
const MAX_NODES = 20_000;

interface Walk {
  defs: Obj;
  nodes: number;
}

/** The Gemini form of a tool's parameters; undefined when there is nothing to declare. */
export function geminiSchema(schema: unknown): Obj | undefined {
  if (!isObj(schema)) return undefined;
  const defs = isObj(schema.$defs) ? schema.$defs : isObj(schema.definitions) ? schema.definitions : {};
  const out = clean(schema, { defs, nodes: 0 }, 0);
  // Gemini refuses `properties: {}` on an object: a function without parameters declares none.
  if (out.type === 'object' && (!isObj(out.properties) || Object.keys(out.properties).length === 0)) return undefined;
  return out;
}

function resolveRef(s: Obj, defs: Obj): Obj {
  const ref = s.$ref;
  if (typeof ref !== 'string') return s;
  const name = ref.slice(ref.lastIndexOf('/') + 1);
  const target = defs[name];
  if (!isObj(target)) return { type: 'object' };
  // The reference's own description wins over the definition's, as in JSON Schema 2019+.
  return typeof s.description === 'string' ? { ...target, description: s.description } : target;
}

function clean(input: Obj, w: Walk, depth: number): Obj {
  if (depth > MAX_DEPTH || ++w.nodes > MAX_NODES) return { type: 'object' };
  const s = resolveRef(input, w.defs);
  const out: Obj = {};
  let nullable = s.nullable === true;
  if (Array.isArray(s.anyOf) || Array.isArray(s.oneOf)) {
    const branches = (Array.isArray(s.anyOf) ? s.anyOf : s.oneOf) as unknown[];
    const kept: Obj[] = [];
    for (const b of branches) {
      if (!isObj(b)) continue;
      if (b.type === 'null') {
        nullable = true;
        continue;
      }
      kept.push(clean(Object.keys(b).length === 0 ? { type: 'object' } : b, w, depth + 1));
    }
    // Only the anyOf survives next to it (Vertex refuses siblings: LiteLLM #11164); a lone branch is the schema.
    if (kept.length === 1) {
      const one = kept[0]!;
      if (nullable) one.nullable = true;
      if (typeof s.description === 'string' && one.description === undefined) one.description = s.description;
      return one;
    }
    if (kept.length > 1) {
      for (const k of kept) {
        if (nullable) k.nullable = true;
        if (typeof s.description === 'string' && k.description === undefined) k.description = s.description;
      }
      return { anyOf: kept };
    }
    return nullable ? { type: 'string', nullable: true } : { type: 'object' };
  }
  for (const key of Object.keys(s)) {
    if (!VALID.has(key)) continue;
    const v = s[key];
    switch (key) {
      case 'type':
        if (Array.isArray(v)) {
          const types = v.filter((t) => t !== 'null');
          if (types.length < v.length) nullable = true;
          if (types.length > 0) out.type = types[0];
        } else if (typeof v === 'string' && v !== 'null') out.type = v;
        else if (v === 'null') nullable = true;
        break;
      case 'format':
        if (v === 'enum' || v === 'date-time') out.format = v;
        break;
      case 'enum':
        if (Array.isArray(v)) out.enum = v.filter((e) => e !== '' && e !== null).map(String);
        break;
      case 'properties':
        if (isObj(v)) {
          const props: Obj = {};
          for (const name of Object.keys(v)) {
            const p = v[name];
            props[name] = isObj(p) ? clean(p, w, depth + 1) : { type: 'string' };
          }
          out.properties = props;
        }
        break;
      case 'items':
        out.items = isObj(v) && Object.keys(v).length > 0 ? clean(v, w, depth + 1) : { type: 'object' };
        break;
      case 'required':
        if (Array.isArray(v)) out.required = v.filter((r) => typeof r === 'string');
        break;
      case 'nullable':
        break;
      default:
        out[key] = v;
    }
  }
  if (out.properties !== undefined) {
    out.type = 'object';
    // `required` may name only declared properties (Gemini checks).
    if (Array.isArray(out.required)) out.required = (out.required as string[]).filter((r) => r in (out.properties as Obj));
  }
  if (out.type === undefined && out.enum !== undefined) out.type = 'string';
  if (out.type === 'array' && out.items === undefined) out.items = { type: 'string' };
  if (Array.isArray(out.enum) && (out.enum as unknown[]).length === 0) delete out.enum;
  if (nullable) out.nullable = true;
  return out;
}
