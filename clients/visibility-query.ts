/**
 * The one rule for putting a value into a Temporal visibility query (List Filter): every value that enters
 * a query goes through `queryValue`, whoever wrote it (an HTTP query parameter, a tool call of the model,
 * a constant). Temporal parses the filter with an SQL tokenizer in which a string literal is quoted with `'`
 * and `\` escapes the next character, so escaping `\` and `'` keeps any text one literal: it can neither end
 * the literal early (`x' OR WorkflowType != '`) nor make the query invalid (`o'brien@example.com`).
 *
 * Two more things to know, read in the server's code (1.29): its SQL visibility (SQLite, PostgreSQL) writes
 * the parsed value back into its SQL escaped as MySQL wants it (`\` as `\\`, `"` as `\"`, a tab as `\t`),
 * which SQLite and PostgreSQL read literally; and it trims every `'` off both ends of a value
 * (sqlquery.ParseValue). So a value holding one of UNMATCHABLE, or starting or ending with `'`, never equals
 * anything there. Such a value is asked for by its longest prefix the server keeps intact (`STARTS_WITH`),
 * and the caller keeps only the exact matches (`exactly`). test/visibility-query.test.ts runs generated
 * strings through the real server.
 */

/** `value` as a quoted string literal of a visibility query. */
export function queryValue(value: string): string {
  return `'${value.replace(/[\\']/g, (char) => `\\${char}`)}'`;
}

/** `attribute = 'value'`, with the value quoted by the rule above. */
export const equals = (attribute: string, value: string) => `${attribute} = ${queryValue(value)}`;

/** Characters the SQL visibility stores cannot match in a string value (see above). */
const UNMATCHABLE = /[\\"\b\n\r\t]/;

/**
 * `attribute` equal to `value`, as the server can answer it: `attribute = 'value'`, or for a value it cannot
 * match, `attribute STARTS_WITH 'prefix'` (nothing, for an empty prefix) with `exactly` true: the caller must
 * keep only the rows whose value is `value`.
 */
export function equalsAsServed(attribute: string, value: string): { condition: string | undefined; exactly: boolean } {
  const at = value.search(UNMATCHABLE);
  if (at === -1 && !value.startsWith("'") && !value.endsWith("'")) return { condition: equals(attribute, value), exactly: false };
  const prefix = (at === -1 ? value : value.slice(0, at)).replace(/'+$/, '');
  const kept = prefix.startsWith("'") ? '' : prefix;
  return { condition: kept === '' ? undefined : `${attribute} STARTS_WITH ${queryValue(kept)}`, exactly: true };
}
