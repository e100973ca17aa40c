// Interface names from the configured template, and the reverse question the
// config check asks: which if_id would the template give this name?
// Tokens: {ifid} (decimal), {ifid_hex} (lowercase hex), {dir} (in, out, or io
// when the if_id serves both directions).

/** IFNAMSIZ - 1: the kernel refuses longer names. */
export const IFNAME_MAX = 15;

export type IfIdUse = 'in' | 'out' | 'io';

const TOKEN = /\{([a-z_]+)\}/g;
const KNOWN = new Set(['ifid', 'ifid_hex', 'dir']);

/** Problems with a template, as config error messages (empty: fine). */
export function templateProblems(template: string): string[] {
  const problems: string[] = [];
  for (const m of template.matchAll(TOKEN)) {
    if (!KNOWN.has(m[1] ?? '')) problems.push(`unknown token {${m[1]}} (known: {ifid}, {ifid_hex}, {dir})`);
  }
  const literal = template.replace(TOKEN, '');
  if (/[{}]/.test(literal)) problems.push('a brace that is not part of {ifid}, {ifid_hex} or {dir}');
  if (/[\s/:]/.test(literal)) problems.push('interface names cannot contain whitespace, "/" or ":"');
  if (!template.includes('{ifid}') && !template.includes('{ifid_hex}')) {
    problems.push('needs {ifid} or {ifid_hex}: every if_id needs a name of its own');
  }
  if (problems.length === 0) {
    const shortest = expandName(template, 1, 'in');
    if (shortest.length > IFNAME_MAX) {
      problems.push(`even if_id 1 gives "${shortest}" (${shortest.length} characters): interface names have at most ${IFNAME_MAX}`);
    }
  }
  return problems;
}

export function expandName(template: string, ifId: number, use: IfIdUse): string {
  return template.replace(TOKEN, (whole, token: string) =>
    token === 'ifid' ? String(ifId) : token === 'ifid_hex' ? ifId.toString(16) : token === 'dir' ? use : whole,
  );
}

/**
 * The if_ids the template maps `name` to (for any direction), so a fixed
 * name given to one if_id can be refused when the template would give it to
 * another. Only valid templates.
 */
export function templateIfIds(template: string, name: string): number[] {
  let source = '^';
  let last = 0;
  const groups: ('dec' | 'hex')[] = [];
  for (const m of template.matchAll(TOKEN)) {
    source += escape(template.slice(last, m.index));
    if (m[1] === 'ifid') {
      source += '(0|[1-9][0-9]*)';
      groups.push('dec');
    } else if (m[1] === 'ifid_hex') {
      source += '(0|[1-9a-f][0-9a-f]*)';
      groups.push('hex');
    } else source += '(?:in|out|io)';
    last = (m.index ?? 0) + m[0].length;
  }
  source += `${escape(template.slice(last))}$`;
  const m = new RegExp(source).exec(name);
  if (!m) return [];
  const values = groups.map((g, i) => Number.parseInt(m[i + 1] ?? '', g === 'dec' ? 10 : 16));
  // Two tokens that disagree ("x{ifid}-{ifid_hex}" read as 10-b) name no if_id.
  const first = values[0];
  if (first === undefined || values.some((v) => v !== first) || first < 1 || first > 0xffffffff) return [];
  return [first];
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
