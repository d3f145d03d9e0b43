// Paths below a directory, joined without path.join's normalisation (a walk of tens of thousands of entries spends
// milliseconds in it).

/**
 * `rel` under `dir`: `rel` is relative, `/`-separated and already clean (no `.`, `..` or empty components: names
 * read from a directory, or components a layer's names were cleaned into); '' is `dir` itself, and `rel` is relative
 * to the working directory when `dir` is ''.
 */
export function below(dir: string, rel: string): string {
  if (rel === '' || dir === '') return dir + rel;
  return dir.endsWith('/') ? dir + rel : `${dir}/${rel}`;
}
