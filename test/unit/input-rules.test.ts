/**
 * The workflows check their inputs with workflows/shared/input-rules.ts; the API checks the same shapes with the
 * zod schemas built from those rules. Both must accept, normalise and refuse alike (same fields, same
 * messages), or `temporal workflow start` and the HTTP API would disagree. Generated inputs mix valid
 * values with values at and past every limit. Also: the workflow bundle must not carry zod.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, inject, it } from 'vitest';
import type { z } from 'zod';
import { AssignTaskInputRules, ChatMessageRequestRules, CreateTaskInputRules, ProcessTaskRequestRules, RevertChangesInputRules, SetDeadlineInputRules, ApprovalDecisionInputRules, UserProfileInputRules, UpdateStatusInputRules } from '../../workflows/shared/workflow-inputs';
import { DEADLINE_SECONDS_MAX, ID_MAX_LENGTH, UPDATE_ID_MAX_LENGTH, checkInput, type InputRules } from '../../workflows/shared/input-rules';
import {
  AssignTaskInputSchema,
  ChatMessageRequestSchema,
  CreateTaskInputSchema,
  ProcessTaskRequestSchema,
  RevertChangesInputSchema,
  SetDeadlineInputSchema,
  ApprovalDecisionInputSchema,
  UserProfileInputSchema,
  UpdateStatusInputSchema,
  fieldErrors,
  type FieldError,
} from '../../common/schemas';

const ANY_VALUE = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.constant([]),
  fc.constant({}),
  fc.double(),
  fc.integer(),
);

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('', ' ', '  \n\t ', ' alice@example.com ', 'task-001', '-x', 'a b', 'a/b', '\u0000', 'x\u007f', 'line\nbreak\ttab', 'é'),
  fc.constantFrom(ID_MAX_LENGTH, 200, 254, UPDATE_ID_MAX_LENGTH, 4000, 5000).chain((n) =>
    fc.constantFrom(n - 1, n, n + 1).map((len) => 'a'.repeat(len)),
  ),
  fc.constantFrom(65, 201, 255).map((len) => ` ${'b'.repeat(len)} `),
);

const integer = fc.oneof(
  fc.integer({ min: -10, max: 10 }),
  fc.constantFrom(0, 1, 5, 6, 3600, DEADLINE_SECONDS_MAX, DEADLINE_SECONDS_MAX + 1, 2 ** 53, -(2 ** 53), 1e21),
  fc.double({ min: -10, max: 10 }),
  fc.constantFrom('5', '3600', Number.NaN, Number.POSITIVE_INFINITY),
);

const boolean = fc.oneof(fc.boolean(), fc.constantFrom('true', 0, 1, null));

const email = fc.oneof(
  fc.constantFrom('alice@example.com', ' bob@example.com ', 'a@b', 'no-at-sign', 'x@y.z', 'q"uote@x.y', '@x.y', 'a@b.', ''),
  fc.emailAddress(),
);

const status = fc.constantFrom('pending', 'assigned', 'in_progress', 'completed', 'overdue', 'PENDING', '', 'done');

/** Objects near `valid`: each field kept, replaced by a generated value, or by any JSON value; also non-objects. */
function inputs(valid: Record<string, unknown>, fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const near = Object.fromEntries(
    Object.entries(fields).map(([k, generated]) => [
      k,
      fc.oneof({ weight: 6, arbitrary: fc.constant(valid[k]) }, { weight: 3, arbitrary: generated }, { weight: 1, arbitrary: ANY_VALUE }),
    ]),
  );
  return fc.oneof(
    { weight: 10, arbitrary: fc.record(near, { requiredKeys: [] }) },
    { weight: 2, arbitrary: fc.record({ ...near, extra: fc.string() }) },
    { weight: 1, arbitrary: fc.oneof(ANY_VALUE, fc.string(), fc.array(fc.integer(), { maxLength: 2 })) },
  );
}

const cases: { name: string; rules: InputRules<never>; schema: z.ZodType; input: fc.Arbitrary<unknown>; strict?: boolean }[] = [
  {
    name: 'ProcessTaskRequest',
    rules: ProcessTaskRequestRules as InputRules<never>,
    schema: ProcessTaskRequestSchema,
    input: inputs(
      { task_id: 'task-1', title: 'Review PR', description: 'Review the refactoring', assignee: 'a@b.c', deadline_seconds: 60 },
      { task_id: text, title: text, description: text, assignee: text, deadline_seconds: integer }),
  },
  {
    name: 'CreateTaskInput',
    rules: CreateTaskInputRules as InputRules<never>,
    schema: CreateTaskInputSchema,
    input: inputs({ title: 'Title', description: null, priority: 2 }, { title: text, description: text, priority: integer }),
  },
  {
    name: 'AssignTaskInput',
    rules: AssignTaskInputRules as InputRules<never>,
    schema: AssignTaskInputSchema,
    input: inputs({ assignee: 'a@b.c', expected_version: 2 }, { assignee: text, expected_version: integer }),
  },
  {
    name: 'UpdateStatusInput',
    rules: UpdateStatusInputRules as InputRules<never>,
    schema: UpdateStatusInputSchema,
    input: inputs({ status: 'completed', expected_version: 3 }, { status, expected_version: integer }),
  },
  {
    name: 'SetDeadlineInput',
    rules: SetDeadlineInputRules as InputRules<never>,
    schema: SetDeadlineInputSchema,
    input: inputs({ deadline_seconds: 60, expected_version: 4 }, { deadline_seconds: integer, expected_version: integer }),
  },
  {
    name: 'RevertChangesInput',
    rules: RevertChangesInputRules as InputRules<never>,
    schema: RevertChangesInputSchema,
    input: inputs({ changes_by: 'task-workflow-t/run-1/change/' }, { changes_by: text }),
  },
  {
    name: 'UserProfileInput (strict: unknown fields refused)',
    rules: UserProfileInputRules as InputRules<never>,
    schema: UserProfileInputSchema,
    strict: true,
    input: inputs(
      { name: 'Alice', email: 'alice@example.com', preferred_style: 'brief', summary: 'Leads the backend team.' },
      { name: text, email, preferred_style: text, summary: text },
    ),
  },
  {
    name: 'ApprovalDecisionInput',
    rules: ApprovalDecisionInputRules as InputRules<never>,
    schema: ApprovalDecisionInputSchema,
    input: inputs({ approval_id: 'ap-1', approved: true }, { approval_id: text, approved: boolean }),
  },
  {
    name: 'ChatMessageRequest',
    rules: ChatMessageRequestRules as InputRules<never>,
    schema: ChatMessageRequestSchema,
    input: inputs({ content: 'Hello' }, { content: text }),
  },
];

function firstMessagePerField(errors: FieldError[]): [string, string][] {
  const first = new Map<string, string>();
  for (const { field, message } of errors) if (!first.has(field)) first.set(field, message);
  return [...first];
}

describe('workflow input rules agree with the API schemas', () => {
  for (const { name, rules, schema, input, strict } of cases) {
    it(name, () => {
      let refused = 0;
      let accepted = 0;
      fc.assert(
        fc.property(input, (value) => {
          const fromZod = schema.safeParse(value);
          const fromRules = checkInput(rules, value, { strict });
          if (fromZod.success) {
            accepted++;
            expect(fromRules).toEqual({ success: true, data: fromZod.data });
          } else {
            refused++;
            // Same fields in the same order, each with the same first message. (zod also measures the
            // length of an array given for a string field; the rules stop at "must be a string".)
            expect(fromRules.success).toBe(false);
            expect(firstMessagePerField(fromRules.success ? [] : fromRules.errors)).toEqual(firstMessagePerField(fieldErrors(fromZod.error)));
          }
        }),
        { numRuns: 2000, seed: 20261122 },
      );
      // Both outcomes were exercised, so agreement means something.
      expect(refused).toBeGreaterThan(200);
      expect(accepted).toBeGreaterThan(200);
    });
  }

  it('normalises like the API: trims the assignee, applies the deadline default, drops unknown fields', () => {
    expect(
      checkInput(ProcessTaskRequestRules, { task_id: 't-1', title: 'Title', description: 'Description', assignee: ' a@b.c ', extra: 1 }),
    ).toEqual({
      success: true,
      data: { task_id: 't-1', title: 'Title', description: 'Description', assignee: 'a@b.c', deadline_seconds: 3600 },
    });
    expect(checkInput(AssignTaskInputRules, { assignee: 42 })).toEqual({
      success: false,
      errors: [{ field: 'assignee', message: 'must be a string' }],
    });
  });
});

describe('the workflow bundle', () => {
  it('does not carry zod (the SDK would evaluate it for every workflow it runs)', () => {
    const bundle = readFileSync(inject('workflowBundlePath'), 'utf8');
    expect(bundle).toContain('TaskEntityWorkflow');
    expect(bundle).not.toMatch(/node_modules\/zod\//);
  });
});
