/**
 * A value (a file path) as one option of a filter in a -filter_complex graph. ffmpeg unescapes it
 * twice: the graph parser first (backslash, quote, brackets, comma, semicolon), then the filter's
 * option parser (backslash, quote, colon); so it is escaped for the second, then for the first.
 */
export function filterValue(value: string): string {
  const asOption = value.replace(/[\\':]/g, (c) => `\\${c}`);
  return asOption.replace(/[\\'[\],;]/g, (c) => `\\${c}`);
}
