// Test helper: a tiny terminal — applies what a progress renderer writes to a screen of lines, so tests
// compare what a person would see (carriage return, newline, cursor up, clear line / to end, colours dropped).

export interface Screen {
  lines: string[];
  cursorVisible: boolean;
}

/** The screen after `output`, `width` columns wide (longer lines wrap, as a terminal wraps them). */
export function renderScreen(output: string, width: number): Screen {
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  let cursorVisible = true;
  const put = (ch: string): void => {
    if (col >= width) {
      row++;
      col = 0;
    }
    while (lines.length <= row) lines.push('');
    const line = lines[row]!.padEnd(col, ' ');
    lines[row] = line.slice(0, col) + ch + line.slice(col + 1);
    col++;
  };
  for (let i = 0; i < output.length; i++) {
    const c = output[i]!;
    if (c === '\x1b') {
      const m = /^\x1b\[(\?25[lh]|\d*[AJKm]|[\d;]*m)/.exec(output.slice(i));
      if (m === null) throw new Error(`unknown escape at ${i}: ${JSON.stringify(output.slice(i, i + 8))}`);
      const code = m[1]!;
      if (code === '?25l') cursorVisible = false;
      else if (code === '?25h') cursorVisible = true;
      else if (code.endsWith('A')) row = Math.max(0, row - Number(code.slice(0, -1) || 1));
      else if (code.endsWith('K')) lines[row] = (lines[row] ?? '').slice(0, col);
      else if (code.endsWith('J')) {
        lines[row] = (lines[row] ?? '').slice(0, col);
        lines.length = row + 1;
      }
      i += m[0].length - 1;
    } else if (c === '\r') col = 0;
    else if (c === '\n') {
      row++;
      col = 0;
      while (lines.length <= row) lines.push('');
    } else put(c);
  }
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return { lines: lines.map((l) => l.trimEnd()), cursorVisible };
}
