/** Text as clipflow checks it and echoes it back: workflow-safe, no node:* imports. */

/** How much of a value a message quotes back; the rest is counted, never printed. */
export const MAX_ECHOED_CHARS = 80;

/**
 * Code points that change what a terminal does or shows (C0 and C1 controls, DEL, bidirectional
 * overrides, line and paragraph separators) and lone surrogates, which are not text at all.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|\p{Cs}/gu;

/** Control characters a prompt must not hold: every C0/C1 control and DEL except tab and line breaks. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|\p{Cs}/u;

/** Something a reader can see: not white space, not a default-ignorable (zero-width, filler) code point, not a control. */
const VISIBLE = /[^\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\u2800]/u;

const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `text` as one safe line: unprintable code points escaped (`\x1b`, `\u202e`, `\n`) and at most
 * `max` characters kept, the rest counted: `abc… (1048570 more characters)`.
 */
export function printable(text: string, max = MAX_ECHOED_CHARS): string {
  const kept = text.length > max ? text.slice(0, text.codePointAt(max - 1)! > 0xffff ? max - 1 : max) : text;
  const escaped = kept.replace(UNPRINTABLE, (c) => ESCAPES[c] ?? escapeCodeUnit(c));
  return kept.length < text.length ? `${escaped}… (${text.length - kept.length} more characters)` : escaped;
}

function escapeCodeUnit(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** The first control character of `text` (tab and line breaks allowed), as `U+001B at character 4`. */
export function findControlCharacter(text: string): string | undefined {
  const match = CONTROL.exec(text);
  if (!match) return undefined;
  const hex = match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  return `U+${hex} at character ${match.index + 1}`;
}

/** Whether `text` has at least one character a reader can see. */
export function hasVisibleText(text: string): boolean {
  return VISIBLE.test(text);
}

/** The known name closest to `name` (case, `_` and `-` ignored; a typo or two allowed), if one is close. */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[\s_-]/g, '');
  const wanted = norm(name.slice(0, 100));
  if (!wanted) return undefined;
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const normalized = norm(candidate);
    const allowed = Math.max(1, Math.floor(Math.min(wanted.length, normalized.length) / 4));
    if (Math.abs(wanted.length - normalized.length) > allowed) continue;
    const distance = editDistance(wanted, normalized);
    if (distance <= allowed && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/** Levenshtein distance with adjacent transpositions counted as one edit (three rolling rows). */
function editDistance(a: string, b: string): number {
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      current[j] = d;
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length]!;
}
