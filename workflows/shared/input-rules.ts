/**
 * The rules every workflow input is held to, with their messages, and a checker that needs no library.
 *
 * Workflow code checks its inputs with `checkInput` (so `temporal workflow start` input gets the same
 * checks as the API); common/schemas.ts builds the API's zod schemas, and so the OpenAPI document, from
 * the same rules; test/unit/input-rules.test.ts proves the two agree on generated inputs. Why not zod inside
 * workflows: the SDK evaluated a workflow's modules once per cached run (before WORKFLOW_PRELOAD_MODULES), and
 * zod cost 1.4 MB and 1.7x the creation time of every workflow (bench/README.md); it would also add a library to
 * the modules every worker shares. Keep this module free of imports: common/schemas.ts imports it.
 */
/** A broken rule: the field (a dotted path, or `body`) and why. The API's FieldErrorSchema has this shape. */
export interface FieldError {
  field: string;
  message: string;
}

/**
 * Ids become parts of Temporal workflow ids (`task-entity-{task_id}`), so they are restricted to a small,
 * documented alphabet: letters, digits, `.`, `_`, `-`, starting with a letter or digit. No `/`, spaces,
 * control characters or unicode, so no id can spell another entity's or another type's workflow id.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const ID_MAX_LENGTH = 64;
/** Printable text: no control characters other than newline and tab. */
// eslint-disable-next-line no-control-regex
export const PRINTABLE_PATTERN = /^[^\u0000-\u0008\u000B-\u001F\u007F]*$/;
export const DEADLINE_SECONDS_MAX = 366 * 24 * 3600;
/** An e-mail address as users type them (`o'brien@example.com` too; no spaces, `"` or `\`, which only quoted local parts have). */
export const EMAIL_PATTERN = /^\s*[^\s@"\\]+@[^\s@"'\\]+\.[^\s@"'\\]+\s*$/;
export const CHAT_CONTENT_MAX_LENGTH = 4000;
/** Update ids are built from workflow ids, run ids and step names; Temporal allows far longer, we need no more. */
export const UPDATE_ID_MAX_LENGTH = 400;
export const TASK_STATUSES = ['pending', 'assigned', 'in_progress', 'completed', 'overdue'] as const;
/** Statuses a caller may set; `overdue` is only ever set by the deadline timer. */
/** At most this many initial tasks in one project setup. */
export const PROJECT_SETUP_MAX_TASKS = 20;
export const SETTABLE_TASK_STATUSES = ['pending', 'assigned', 'in_progress', 'completed'] as const;

export const MESSAGES = {
  required: 'is required',
  string: 'must be a string',
  number: 'must be a number',
  object: 'must be a JSON object',
  boolean: 'must be true or false',
  unknownField: 'is not a known field',
  empty: 'must not be empty',
  wholeNumber: 'must be a whole number',
  maxLength: (max: number) => `must be at most ${max} characters`,
  min: (min: number) => `must be at least ${min}`,
  max: (max: number) => `must be at most ${max}`,
  oneOf: (values: readonly string[]) => `must be one of: ${values.join(', ')}`,
};

interface Presence {
  /** Absent is allowed (and stays absent). */
  optional?: boolean;
  /** `null` is allowed. */
  nullable?: boolean;
  /** Used when absent. */
  default?: number;
}
export interface TextRule extends Presence {
  kind: 'text';
  maxLength: number;
  pattern: { regex: RegExp; message: string };
  /** The value is trimmed after the length and pattern checks. */
  trim?: boolean;
  /** Must not be empty: after trimming when `trim`, else must not be only whitespace. */
  nonEmpty?: boolean;
}
export interface IntegerRule extends Presence {
  kind: 'integer';
  min: number;
  max?: number;
  wholeMessage?: string;
  maxMessage?: string;
}
export interface EnumRule extends Presence {
  kind: 'enum';
  values: readonly string[];
}
export interface BooleanRule extends Presence {
  kind: 'boolean';
}
export type FieldRule = TextRule | IntegerRule | EnumRule | BooleanRule;

/** The rules of an object input, one per field of T: a missing or extra field does not compile. */
export type InputRules<T> = { readonly [K in keyof Required<T>]: FieldRule };

const printable = { regex: PRINTABLE_PATTERN, message: 'must not contain control characters' };
export const text = (maxLength: number, more: Omit<TextRule, 'kind' | 'maxLength' | 'pattern'> = {}): TextRule => ({
  kind: 'text',
  maxLength,
  pattern: printable,
  ...more,
});

export const Rules = {
  entityId: {
    kind: 'text',
    maxLength: ID_MAX_LENGTH,
    pattern: { regex: ID_PATTERN, message: 'may contain only letters, digits, ".", "_" and "-", and must start with a letter or digit' },
    nonEmpty: true,
  },
  title: text(200),
  description: text(5000),
  assignee: text(254, { trim: true, nonEmpty: true }),
  deadlineSeconds: {
    kind: 'integer',
    min: 1,
    max: DEADLINE_SECONDS_MAX,
    wholeMessage: 'must be a whole number of seconds',
    maxMessage: `must be at most ${DEADLINE_SECONDS_MAX} (366 days)`,
  },
  priority: { kind: 'integer', min: 1, max: 5 },
  version: { kind: 'integer', min: 1 },
  /** A task's `created_at` (an ETag names it, so that a task created again under the same id is another). */
  createdAt: {
    kind: 'text',
    maxLength: 30,
    pattern: { regex: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, message: 'must be a UTC timestamp such as 2026-11-22T08:10:12.154Z' },
    nonEmpty: true,
  },
  settableStatus: { kind: 'enum', values: SETTABLE_TASK_STATUSES },
  chatContent: text(CHAT_CONTENT_MAX_LENGTH, { nonEmpty: true }),
  /** The update-id prefix of the changes to revert (`{workflowId}/{runId}/change/`). */
  updateIdPrefix: text(UPDATE_ID_MAX_LENGTH, { nonEmpty: true }),
  /** The id a change is logged under (a hand-over's steps each have one). */
  updateId: text(UPDATE_ID_MAX_LENGTH, { nonEmpty: true }),
  // The chat user's profile (the agent's memory of the user, seed 003).
  profileName: text(100, { trim: true, nonEmpty: true }),
  email: {
    kind: 'text',
    maxLength: 254,
    pattern: { regex: EMAIL_PATTERN, message: 'must be an e-mail address' },
    trim: true,
    nonEmpty: true,
  },
  preferredStyle: text(60, { trim: true, nonEmpty: true }),
  profileSummary: text(1000, { trim: true }),
  approved: { kind: 'boolean' },
  // Projects (entities/project/).
  projectName: text(200, { trim: true, nonEmpty: true }),
  projectDescription: text(5000),
  /** Who a project belongs to: a user id (a token's `sub`) or an e-mail address. */
  projectOwner: text(254, { trim: true, nonEmpty: true }),
} satisfies Record<string, FieldRule>;

export type CheckResult<T> = { success: true; data: T } | { success: false; errors: FieldError[] };

/**
 * Checks `input` against per-field rules; on success returns only the known fields, trimmed and with
 * defaults applied. Unknown fields are dropped, as zod's objects do, or with `strict` refused, each named
 * (as strictSchema in common/schemas.ts does). Every broken rule is reported.
 */
export function checkInput<T>(rules: InputRules<T>, input: unknown, { strict = false } = {}): CheckResult<T> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { success: false, errors: [{ field: 'body', message: MESSAGES.object }] };
  }
  const errors: FieldError[] = [];
  const data: Record<string, unknown> = {};
  for (const [field, rule] of Object.entries(rules) as [string, FieldRule][]) {
    const value = checkField(rule, (input as Record<string, unknown>)[field], (message) => errors.push({ field, message }));
    if (value !== undefined) data[field] = value;
  }
  if (strict) {
    for (const field of Object.keys(input)) if (!(field in rules)) errors.push({ field, message: MESSAGES.unknownField });
  }
  return errors.length > 0 ? { success: false, errors } : { success: true, data: data as T };
}

/** One line naming every bad field, for workflow failures and logs. */
export function describeFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join('; ');
}

function checkField(rule: FieldRule, value: unknown, report: (message: string) => void): unknown {
  if (value === undefined) {
    if (rule.default !== undefined) return rule.default;
    if (!rule.optional) report(MESSAGES.required);
    return undefined;
  }
  if (value === null && rule.nullable) return null;
  switch (rule.kind) {
    case 'text':
      return checkText(rule, value, report);
    case 'integer':
      return checkInteger(rule, value, report);
    case 'enum':
      if (typeof value !== 'string' || !rule.values.includes(value)) report(MESSAGES.oneOf(rule.values));
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') report(MESSAGES.boolean);
      return value;
  }
}

function checkText(rule: TextRule, value: unknown, report: (message: string) => void): unknown {
  if (typeof value !== 'string') return report(MESSAGES.string);
  if (value.length > rule.maxLength) report(MESSAGES.maxLength(rule.maxLength));
  if (!rule.pattern.regex.test(value)) report(rule.pattern.message);
  const result = rule.trim ? value.trim() : value;
  if (rule.nonEmpty && result.trim().length === 0) report(MESSAGES.empty);
  return result;
}

function checkInteger(rule: IntegerRule, value: unknown, report: (message: string) => void): unknown {
  if (typeof value !== 'number' || !Number.isFinite(value)) return report(MESSAGES.number);
  // As zod's int(): a fraction is the only error reported; an integer beyond 2^53 is also held to the bounds.
  if (!Number.isInteger(value)) return report(rule.wholeMessage ?? MESSAGES.wholeNumber);
  if (!Number.isSafeInteger(value)) report(rule.wholeMessage ?? MESSAGES.wholeNumber);
  if (value < rule.min) report(MESSAGES.min(rule.min));
  if (rule.max !== undefined && value > rule.max) report(rule.maxMessage ?? MESSAGES.max(rule.max));
  return value;
}
