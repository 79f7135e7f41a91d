import xterm from '@xterm/headless';

/**
 * What a terminal shows after `output` was written to it: a real terminal emulator's screen and
 * scrollback, one string per row, trailing blanks and empty rows after the last text dropped.
 * `convertEol` when the output did not pass through a pseudo-terminal (which turns \n into \r\n).
 */
export async function screenOf(output: string, { cols = 80, rows = 24, convertEol = false } = {}): Promise<string[]> {
  const terminal = new xterm.Terminal({ cols, rows, convertEol, scrollback: 1000, allowProposedApi: true });
  await new Promise<void>((resolve) => terminal.write(output, resolve));
  const buffer = terminal.buffer.active;
  const lines: string[] = [];
  for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? '');
  terminal.dispose();
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return lines;
}
