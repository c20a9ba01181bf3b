// PyYAML, which LiteLLM reads its config with, does not hold the lines of a flow collection
// (`{…}`, `[…]`) to the indentation of the block around it; the YAML spec, and the `yaml` package,
// do. LiteLLM's own docs rely on PyYAML here, e.g. the Bedrock guardrail example:
//
//       guardrailConfig: {
//         "guardrailIdentifier": "ff6ujrregl1q", # The identifier (ID) for the guardrail.
//         "trace": "disabled",
//     }
//
// whose closing brace sits left of its key. This re-indents the continuation lines of such flow
// collections just past their key, so the text means to `yaml` what it means to PyYAML. Inside a
// flow collection the leading spaces of a line carry no meaning (scalars fold them away), so the
// values are unchanged. Used only when a file does not parse as it is; one pass over the text.

const KEY_PREFIX = /^( *)((?:- +)*)(?:("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#"'{[\]}][^#]*?) *:(?: +|$))?/;

/** The text with flow collections' continuation lines indented past their key, or null when nothing changed. */
export function indentFlowCollections(text: string): string | null {
  const lines = text.split('\n');
  let changed = false;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const m = KEY_PREFIX.exec(line)!;
    const keyCol = m[1]!.length + m[2]!.length;
    const valueCol = m[0].length;
    const c = line[valueCol];
    if ((c === '|' || c === '>') && m[3] !== undefined) {
      // A block scalar: its lines are text, whatever they hold.
      i++;
      while (i < lines.length && (lines[i]!.trim() === '' || lines[i]!.length - lines[i]!.trimStart().length > keyCol)) i++;
      continue;
    }
    if (c === '{' || c === '[') {
      const end = flowEnd(lines, i, valueCol);
      if (end < 0) return changed ? lines.join('\n') : null;
      for (let j = i + 1; j <= end; j++) {
        const l = lines[j]!;
        const indent = l.length - l.trimStart().length;
        if (indent <= keyCol && l.trim() !== '') {
          lines[j] = ' '.repeat(keyCol + 2 - indent) + l;
          changed = true;
        }
      }
      i = end + 1;
      continue;
    }
    i++;
  }
  return changed ? lines.join('\n') : null;
}

/** The line on which the flow collection opening at lines[row][col] closes, or -1. */
function flowEnd(lines: string[], row: number, col: number): number {
  let depth = 0;
  let quote = '';
  for (let r = row; r < lines.length; r++) {
    const l = lines[r]!;
    // Where a scalar may start: after an indicator, or at the start of a line.
    let scalarStart = true;
    for (let k = r === row ? col : 0; k < l.length; k++) {
      const ch = l[k]!;
      if (quote === '"') {
        if (ch === '\\') k++;
        else if (ch === '"') quote = '';
        continue;
      }
      if (quote === "'") {
        if (ch === "'" && l[k + 1] === "'") k++;
        else if (ch === "'") quote = '';
        continue;
      }
      if (ch === ' ' || ch === '\t' || ch === '\r') continue;
      if (ch === '#' && (k === 0 || l[k - 1] === ' ' || l[k - 1] === '\t')) break;
      if ((ch === '"' || ch === "'") && scalarStart) {
        quote = ch;
        continue;
      }
      if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') {
        depth--;
        if (depth === 0) return r;
      }
      scalarStart = ch === '{' || ch === '[' || ch === ',' || ch === ':' || ch === '?';
    }
  }
  return -1;
}
