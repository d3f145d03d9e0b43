// Test helper: splits one line of a LinuxKit test.sh into shell words, just enough for `linuxkit build` lines.

/** A word as the shell would pass it (quotes removed, variables still unexpanded), or an operator. */
export type ShellToken = { kind: 'word'; text: string } | { kind: 'operator'; text: string };

const operatorChars = new Set([';', '|', '&', '(', ')']);

/**
 * Splits `line` into words and control operators (`;`, `|`, `||`, `&&`, `$(`, `)`); redirections such
 * as `2>&1` or `> file` are dropped. Quotes group, a backslash escapes one character, `#` at the start
 * of a word ends the line. Not a shell: no globbing, no here-docs, no nested quoting inside `$(…)`.
 */
export function splitShellWords(line: string): ShellToken[] {
  const out: ShellToken[] = [];
  let word: string | undefined;
  const endWord = (): void => {
    if (word !== undefined) out.push({ kind: 'word', text: word });
    word = undefined;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (c === ' ' || c === '\t') endWord();
    else if (c === '#' && word === undefined) break;
    else if (c === "'" || c === '"') {
      const close = line.indexOf(c, i + 1);
      const end = close === -1 ? line.length : close;
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '\\') word = (word ?? '') + (line[++i] ?? '');
    else if (c === '$' && line[i + 1] === '(') {
      endWord();
      out.push({ kind: 'operator', text: '$(' });
      i++;
    } else if (c === '>' || c === '<') i = skipRedirection(line, i, word, () => (word = undefined));
    else if (operatorChars.has(c)) {
      endWord();
      const pair = c + (line[i + 1] ?? '');
      const text = pair === '||' || pair === '&&' ? pair : c;
      out.push({ kind: 'operator', text });
      i += text.length - 1;
    } else word = (word ?? '') + c;
  }
  endWord();
  return out;
}

/** Skips `N>&M`, `>file`, `> file`, `>>file`; returns the index of the redirection's last character. */
function skipRedirection(line: string, at: number, word: string | undefined, dropWord: () => void): number {
  if (word !== undefined && /^\d+$/.test(word)) dropWord();
  let i = at + 1;
  if (line[i] === '>' || line[i] === '&') i++;
  while (line[i] === ' ') i++;
  while (i < line.length && !/[\s;|&)]/.test(line[i] ?? '')) i++;
  return i - 1;
}

/** Expands `$VAR` and `${VAR}` from `vars`; returns undefined when one is not known. */
export function expandVariables(text: string, vars: ReadonlyMap<string, string>): string | undefined {
  let unknown = false;
  const out = text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_m, braced: string | undefined, bare: string | undefined) => {
      const value = vars.get(braced ?? bare ?? '');
      if (value === undefined) unknown = true;
      return value ?? '';
    },
  );
  return unknown ? undefined : out;
}

/** Plain assignments `NAME=value` at the start of a line (quotes removed; values with `$(` are left out). */
export function readAssignments(script: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of script.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(\S*)\s*$/.exec(line);
    if (m === null || m[2]?.includes('$(') === true) continue;
    const [first] = splitShellWords(m[2] ?? '');
    vars.set(m[1] ?? '', first?.kind === 'word' ? first.text : '');
  }
  return vars;
}
