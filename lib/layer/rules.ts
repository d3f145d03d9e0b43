// The version of the extraction rules: part of a volume's inputs, so trees unpacked by other rules are not reused.

/**
 * Bump whenever the same layers would give a different tree or summary: a changed whiteout rule,
 * framing rule, metadata rule, refusal, or content digest. Version 2: Go's tar framing and
 * whiteouts that hide lower content wherever they stand (issue 7).
 */
export const extractionRulesVersion = 2;
