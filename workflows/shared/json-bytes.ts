/** What a value weighs in a Temporal payload: its JSON in UTF-8, in bytes. Pure and workflow-safe. */
export function jsonBytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value) ?? '').length;
}
