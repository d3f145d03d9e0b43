// Paths below a directory, joined without path.join's normalisation (a walk of tens of thousands of entries spends
// milliseconds in it).

/**
 * `rel` under `dir`: `rel` is relative, `/`-separated and already clean (no `.`, `..` or empty components: names
 * read from a directory, or components a layer's names were cleaned into); '' is `dir` itself.
 */
export function below(dir: string, rel: string): string {
  if (rel === '') return dir;
  return dir.endsWith('/') ? dir + rel : `${dir}/${rel}`;
}
