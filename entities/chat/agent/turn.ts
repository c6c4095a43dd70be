/**
 * One turn of the agent, durably: the model is asked (an activity), the tools it calls run as activities
 * (in parallel when it asks for several at once), and their results go back to it until it answers with
 * text, at most AGENT_MAX_STEPS model calls. A slash command runs the same tools without the model.
 *
 * Changes that need the user's say wait for it: deleting a task, reassigning a task someone else has, and
 * any change that would bring the turn past 3 tasks. The turn is plain data (TurnState), so a turn waiting
 * for approval lives in the chat entity across restarts and continue-as-new, and resumes when the user
 * decides or the approval expires. Every change carries an update id made of the chat, the turn, the step
 * and the tool call, so it applies once however often its activity runs; /undo reverts by the turn's prefix.
 *
 * A turn never fails because a call it makes fails: a tool, a read or a processing run that fails for good
 * becomes that call's failed result (the model reads it), a model that fails ends the turn with a reply that
 * says so. And text someone else wrote (another user's task description) reaches the model labelled as
 * data, and any change after the turn read such text waits for the user's approval.
 */
import { identityEmail, isUser, sameEmail, whyNotChangeProject, whyNotChangeStatus, whyNotDelete, type Actor } from '../../../workflows/shared/access-policy';
import { executeChild, patched, proxyActivities, uuid4 } from '@temporalio/workflow';
import type { Activities } from '../../../activities';
import type { AgentToolInput, AgentToolResult, TurnChange } from '../../../activities/agent-tools';
import type { ModelAnswer, ModelMessage } from '../../../activities/model';
import { HEARTBEAT_TIMEOUT_MS, type ActivitySettings } from '../../../workflows/shared/activity-timeouts';
import { processingWorkflowId } from '../../../workflows/shared/ids';
import type { ChatEntry, ProjectView, Task, TaskProcessingResult, UserProfile } from '../../../common/schemas';
import type { RemoteToolInfo } from '../../../mcp/shared';
import { ruleReply } from '../replies';
import { MODEL_TOOL_CALLS_MAX, TOOL_ARGUMENTS_MAX_CHARS, cut } from '../limits';
import { compactTurnMessages, instructions, modelMessages, TOOL_RESULT_MAX_CHARS } from './prompt';
import { TOOLS, checkCall, projectOf, taskOf, toolSchemas, type CheckedCall, type CreateTaskArgs, type ToolArgs, type ToolName } from './tools';

/** What a tool call came to, for events and replies. */
export type ToolOutcomeKind = 'done' | 'failed' | 'awaiting_approval' | 'denied' | 'expired';

export interface ToolLogEntry {
  id: string;
  tool: string;
  arguments: unknown;
  outcome: ToolOutcomeKind;
  /** One line: what happened. */
  result: string;
}

export interface PendingApproval {
  approval_id: string;
  /** Exactly what would change, e.g. `task-001: assignee alice@example.com → bob@example.com`. */
  summary: string;
  expires_at: string;
  decision?: 'approved' | 'denied' | 'expired';
}

/** A tool call of one step, as asked, checked, and (once run) with its result. */
export interface PlannedCall {
  /** The model's tool-call id (`command` for a slash command). */
  id: string;
  name: string;
  /** The arguments as asked (a JSON string). */
  arguments: string;
  check: CheckedCall;
  update_id?: string;
  new_task_id?: string;
  approval?: PendingApproval;
  /** An approved change applies only at the version the user was shown. */
  expected_version?: number;
  result?: AgentToolResult & { outcome: ToolOutcomeKind };
  /**
   * A tool of an MCP server (AGENT_MCP_SERVERS) rather than one of the agent's own: what to call. Its `check`
   * names no tool of ours (ok: false), so the steps for our tools pass it by; see isRemote.
   */
  remote?: RemoteCall;
}

/** A call of an MCP server's tool, as planned. */
export interface RemoteCall {
  server: string;
  tool: string;
  args: Record<string, unknown>;
  needs_approval: boolean;
  trusted: boolean;
}

const isRemote = (call: PlannedCall): call is PlannedCall & { remote: RemoteCall } => call.remote !== undefined;

/** A call's arguments as checked (an MCP tool's as given), or as the model sent them when they did not check. */
export const argumentsOf = (call: PlannedCall): unknown => (call.remote ? call.remote.args : call.check.ok ? call.check.args : call.arguments);

export interface TurnState {
  turn_id: string;
  driver: 'model' | 'command';
  user_entry: ChatEntry;
  message_number: number;
  /** Model calls made so far. */
  steps: number;
  /** This turn's assistant tool calls and tool results, for the model's next call. */
  messages: ModelMessage[];
  /** The step waiting for the user's decisions. */
  waiting?: PlannedCall[];
  /** What the turn's tool calls came to since its last reply (the next conversation.updated carries them). */
  log: ToolLogEntry[];
  /** The tasks this turn changed, in order, with the version it left each at. */
  changes: TurnChange[];
  /** Whose rights the turn's tools act with (the message's sender); absent: full rights (the CLI, older turns). */
  actor?: Actor;
  /** The turn has read text someone other than the user wrote: every change from here on is asked first. */
  read_foreign_text?: true;
  /** The id of the API request that started the turn, which its live records carry (stream/live-records.ts). */
  ref?: string;
  /** The MCP servers' tools this turn offers (listed once, at its start, and kept while it waits). */
  remote_tools?: RemoteToolInfo[];
  /** Servers whose tools this turn could not offer, told to the model. */
  remote_note?: string;
}

export interface AgentContext {
  userId: string;
  /** The update-id prefix of this chat's changes: `{chat workflow id}/`. */
  chatPrefix: string;
  settings: ActivitySettings;
  profile: UserProfile;
  /** The conversation before this turn. */
  history: ChatEntry[];
}

/** Where a turn stands after running: its reply, and the turn itself when it waits for approvals. */
export interface TurnProgress {
  reply: string;
  waiting?: TurnState;
  /** A command turn's calls, for a caller that asked for one tool and wants its outcome (see callReports). */
  calls?: PlannedCall[];
}

/** What became of one call: what a caller that asked for one tool (MCP, mcp/server.ts) answers from. */
export interface CallReport {
  tool: string;
  outcome: ToolOutcomeKind;
  /** One line, as the chat's reply says it. */
  result: string;
  /** The task as the call left it (or read it). */
  task?: Task;
  /** The approval the call waits for. */
  approval?: PendingApproval;
}

export function callReports(calls: PlannedCall[] | undefined): CallReport[] {
  return (calls ?? []).map((call) => {
    const waiting = call.result === undefined && call.approval !== undefined && call.approval.decision === undefined;
    return {
      tool: call.name,
      outcome: call.result?.outcome ?? (waiting ? 'awaiting_approval' : 'failed'),
      result: waiting ? call.approval!.summary : resultLine(call),
      ...(call.result?.ok && call.result.task ? { task: call.result.task } : {}),
      ...(waiting ? { approval: call.approval } : {}),
    };
  });
}

/** Past this many tasks in one turn, every further change is asked of the user. */
export const MAX_TASKS_WITHOUT_APPROVAL = 3;

/**
 * Runs recorded before this patch let a call that failed for good (a tool, a read, undo) fail the whole turn,
 * and with it the update, or on an approval's expiry the chat's run. Checked where such a failure is caught,
 * so those histories replay as they ran.
 */
export const FAILURES_CONTAINED_PATCH = 'chat-turn-failures-contained';
/** Runs recorded before this patch did not ask before changes in a turn that had read someone else's text. */
const FOREIGN_TEXT_PATCH = 'chat-asks-after-foreign-text';
/** Runs recorded before this patch took the user's e-mail from the chat profile (now: from the verified token). */
const IDENTITY_PATCH = 'chat-identity-from-token';
/** Runs recorded before this patch offered no MCP servers' tools (it marks the listing activity AGENT_MCP_SERVERS adds). */
const MCP_TOOLS_PATCH = 'chat-offers-mcp-tools';

/**
 * A decision about the user's identity: today's, unless it differs from what runs recorded before
 * IDENTITY_PATCH decided (there the marker is missing, and the old decision keeps their history replaying).
 */
const byIdentity = (now: boolean, before: boolean) => now === before || patched(IDENTITY_PATCH) ? now : before;

/** A call that failed for good, as the turn records it; rethrown on replay of a run from before the patch. */
function failedFor(err: unknown, what: string): { ok: false; error: string } {
  if (!patched(FAILURES_CONTAINED_PATCH)) throw err;
  return { ok: false, error: `${what} failed: ${rootMessage(err)}` };
}

/** The innermost message of a failure (an activity's own error, not "Activity task failed"). */
export function rootMessage(err: unknown): string {
  let root = err;
  while (root instanceof Error && root.cause instanceof Error) root = root.cause;
  return root instanceof Error ? root.message : String(root);
}

/** Whether the turn's user wrote this task's text: a verified user who created it (as activities/agent-tools.ts decides). */
const writtenByUser = (task: Task, turn: TurnState) => isUser(turn.actor) && task.created_by !== undefined && task.created_by === turn.actor.subject;

/** The e-mail whose tasks are the turn's user's: their verified one (access-policy.ts). */
const userEmail = (ctx: AgentContext, turn: TurnState) => identityEmail(turn.actor, ctx.profile.email);

// Listing MCP tools never fails (a server that cannot be reached is reported); its own timeouts are short.
const listing = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', heartbeatTimeout: HEARTBEAT_TIMEOUT_MS, retry: { maximumAttempts: 2 } });

// Tool activities heartbeat, so one lost with its worker is retried within seconds, not after 30.
const tools = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 5 },
});

export function newTurn(userEntry: ChatEntry, messageNumber: number, driver: TurnState['driver'], actor?: Actor, ref?: string): TurnState {
  return {
    turn_id: `turn-${uuid4()}`,
    driver,
    user_entry: userEntry,
    message_number: messageNumber,
    steps: 0,
    messages: [],
    log: [],
    changes: [],
    ...(actor ? { actor } : {}),
    ...(ref ? { ref } : {}),
  };
}

/** Where a turn's live records go (stream/live-records.ts): they carry only data, so they change no command. */
const liveTurn = (ctx: AgentContext, turn: TurnState) => ({ user_id: ctx.userId, turn_id: turn.turn_id, ...(turn.ref ? { ref: turn.ref } : {}) });

/** The update-id prefix of a turn's changes (what /undo reverts). */
export const turnPrefix = (ctx: Pick<AgentContext, 'chatPrefix'>, turn: Pick<TurnState, 'turn_id'>) => `${ctx.chatPrefix}${turn.turn_id}/`;

/** Runs a model-driven turn until the model answers with text, a change waits for approval, or the steps run out. */
export async function runModelTurn(ctx: AgentContext, turn: TurnState): Promise<TurnProgress> {
  const model = proxyActivities<Activities>({
    startToCloseTimeout: ctx.settings.model_timeout_ms,
    heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '10 seconds',
      maximumAttempts: 4,
      nonRetryableErrorTypes: ['ModelAuthRejected', 'ModelRequestRejected', 'ModelNotConfigured'],
    },
  });
  await listRemoteTools(ctx, turn);
  while (turn.steps < ctx.settings.agent_max_steps) {
    turn.steps++;
    let answer: ModelAnswer;
    try {
      const system = instructions(ctx.userId, ctx.profile, new Date().toISOString(), userEmail(ctx, turn)) + (turn.remote_note ? `\n\n${turn.remote_note}` : '');
      const messages = modelMessages(system, ctx.history, turn.user_entry, turn.messages);
      const offered = [...toolSchemas(), ...(turn.remote_tools ?? []).map(({ name, description, parameters }) => ({ type: 'function' as const, function: { name, description, parameters } }))];
      answer = await model.callModel.executeWithOptions({ summary: `Model, step ${turn.steps}` }, [
        { messages, tools: offered, live: { ...liveTurn(ctx, turn), step: turn.steps } },
      ]);
    } catch {
      return { reply: modelUnavailableReply(turn) };
    }
    if (answer.tool_calls.length === 0) return { reply: answer.content ?? '' };
    turn.messages.push({
      role: 'assistant',
      content: answer.content,
      tool_calls: answer.tool_calls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })),
    });
    const calls = answer.tool_calls.map((call) => plan(ctx, turn, call.id, call.name, call.arguments, call.arguments_too_long));
    const waits = await runStep(ctx, turn, calls, answer.tool_calls_dropped);
    // What a waiting turn carries (across continue-as-new too) stays bounded.
    turn.messages = compactTurnMessages(turn.messages);
    if (waits) return { reply: approvalRequest(ctx, turn), waiting: turn };
  }
  return { reply: `I stopped after ${ctx.settings.agent_max_steps} steps without a final answer.${doneSoFar(turn)}` };
}

/**
 * At a turn's start, the tools of the MCP servers the worker is given (once per turn: a turn resumed after an
 * approval offers what it offered). A server that cannot be reached is left out and the model told so.
 */
async function listRemoteTools(ctx: AgentContext, turn: TurnState): Promise<void> {
  const servers = ctx.settings.mcp_servers ?? [];
  if (servers.length === 0 || turn.remote_tools !== undefined || !patched(MCP_TOOLS_PATCH)) return;
  try {
    const list = await listing.listMcpTools.executeWithOptions({ summary: `List MCP tools: ${servers.join(', ')}` }, []);
    turn.remote_tools = list.tools;
    if (list.unavailable.length > 0) {
      turn.remote_note = `These MCP servers cannot be reached now, so their tools are not offered: ${list.unavailable.map((u) => `${u.server} (${cut(u.error, 200)})`).join('; ')}.`;
    }
  } catch (err) {
    turn.remote_tools = [];
    turn.remote_note = `The MCP servers' tools are not offered now: ${cut(rootMessage(err), 200)}.`;
  }
}

/** Runs a slash command's tool call. */
export async function runCommandTurn(ctx: AgentContext, turn: TurnState, tool: ToolName, args: string): Promise<TurnProgress> {
  const calls = [plan(ctx, turn, 'command', tool, args)];
  if (await runStep(ctx, turn, calls)) return { reply: approvalRequest(ctx, turn), waiting: turn, calls };
  return { reply: commandReply(calls), calls };
}

/** Goes on with a turn whose approvals are all decided: runs what was approved, tells the model the rest. */
export async function resumeTurn(ctx: AgentContext, turn: TurnState): Promise<TurnProgress> {
  const calls = turn.waiting ?? [];
  turn.waiting = undefined;
  await Promise.all(calls.filter((c) => c.result === undefined && c.approval?.decision === 'approved').map((c) => execute(ctx, turn, c)));
  for (const call of calls) {
    if (call.result !== undefined) continue;
    const outcome = call.approval?.decision === 'expired' ? 'expired' : 'denied';
    const why = outcome === 'expired' ? 'nobody decided in time' : 'the user denied it';
    record(turn, call, { ok: false, error: `Not done: ${why} (${call.approval?.summary})`, outcome });
  }
  if (turn.driver === 'command') return { reply: commandReply(calls), calls };
  pushToolResults(turn, calls);
  return runModelTurn(ctx, turn);
}

/** The decisions still missing in a waiting turn. */
export const undecided = (turn: TurnState | undefined): PendingApproval[] =>
  (turn?.waiting ?? []).flatMap((call) => (call.approval && call.approval.decision === undefined ? [call.approval] : []));

function plan(ctx: AgentContext, turn: TurnState, id: string, name: string, args: string, tooLong?: number): PlannedCall {
  const remote = turn.remote_tools?.find((tool) => tool.name === name);
  if (remote !== undefined && tooLong === undefined) return planRemote(ctx, turn, id, remote, args);
  const check: CheckedCall =
    tooLong === undefined
      ? checkCall(name, args)
      : { ok: false, error: `The arguments of ${name} are ${tooLong} characters long; a tool call takes at most ${TOOL_ARGUMENTS_MAX_CHARS}` };
  const call: PlannedCall = { id, name, arguments: args, check };
  if (check.ok && TOOLS[check.tool].changes) call.update_id = `${turnPrefix(ctx, turn)}${turn.steps}/${id}`;
  if (check.ok && check.tool === 'create_task') call.new_task_id = `task-${uuid4().slice(0, 8)}`;
  return call;
}

/** An MCP tool's call: its arguments must be a JSON object (the server checks the rest). */
function planRemote(ctx: AgentContext, turn: TurnState, id: string, tool: RemoteToolInfo, args: string): PlannedCall {
  let parsed: unknown;
  try {
    parsed = args.trim() === '' ? {} : JSON.parse(args);
  } catch {
    parsed = undefined;
  }
  const call: PlannedCall = { id, name: tool.name, arguments: args, check: { ok: false, error: `The arguments of ${tool.name} must be a JSON object` } };
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return call;
  call.remote = { server: tool.server, tool: tool.tool, args: parsed as Record<string, unknown>, needs_approval: tool.needs_approval, trusted: tool.trusted };
  call.update_id = `${turnPrefix(ctx, turn)}${turn.steps}/${id}`;
  return call;
}

/**
 * Runs one step's calls. Reads run at once; changes first have the tasks they touch read, then either run,
 * or (when one of them needs approval) all wait for the user. True when the turn now waits.
 */
async function runStep(ctx: AgentContext, turn: TurnState, calls: PlannedCall[], dropped = 0): Promise<boolean> {
  for (const call of calls) if (!call.check.ok && !isRemote(call)) record(turn, call, { ok: false, error: call.check.error, outcome: 'failed' });
  let valid = calls.filter((c): c is PlannedCall & { check: { ok: true } } => c.check.ok);
  // MCP servers' tools: those that wait for approval (by the server's setting) wait, the others run as reads.
  // After the turn read someone else's text, a call to a server that is not trusted waits too: what it sends
  // out (a search, a message) may be what that text asked for.
  const remote = calls.filter(isRemote);
  const asks = (c: PlannedCall & { remote: RemoteCall }) => c.remote.needs_approval || (turn.read_foreign_text === true && !c.remote.trusted);
  const remoteAsks = remote.filter(asks);
  const reads: PlannedCall[] = [...valid.filter((c) => !TOOLS[c.check.tool].changes), ...remote.filter((c) => !asks(c))];
  let changes = valid.filter((c) => TOOLS[c.check.tool].changes);

  if (changes.length > 0) {
    const taskIds = [...new Set(changes.flatMap((c) => taskOf(c.check.tool, c.check.args) ?? []))];
    let current: Record<string, Task | null> = {};
    try {
      current = taskIds.length > 0 ? await tools.readTasks.executeWithOptions({ summary: `Read ${taskIds.join(', ')}` }, [{ task_ids: taskIds }]) : {};
    } catch (err) {
      // Without the tasks as they are, no change can be checked or shown: none runs, the reads still do.
      const failure = failedFor(err, `Reading ${taskIds.join(', ')}`);
      for (const call of changes) record(turn, call, { ...failure, outcome: 'failed' });
      valid = valid.filter((call) => !changes.includes(call));
      changes = [];
    }
    // What the user may not do is refused before anything is asked (the agent has its user's rights, no more).
    const refused = changes.filter((call) => refuseUnlessAllowed(ctx, turn, call, current));
    if (refused.length > 0) {
      // Like an invalid call: its result is recorded, it neither runs nor waits.
      changes = changes.filter((call) => !refused.includes(call));
      valid = valid.filter((call) => !refused.includes(call));
    }
    if (changes.length > 0 && needsApproval(ctx, turn, changes, current)) {
      const expires = new Date(Date.now() + ctx.settings.approval_timeout_ms).toISOString();
      for (const call of changes) {
        const task = current[taskOf(call.check.tool, call.check.args) ?? ''] ?? null;
        // A deletion is shown with the task's title, which the model reads back with the decision.
        if (call.check.tool === 'delete_task' && task && !writtenByUser(task, turn)) turn.read_foreign_text = true;
        ask(call, describeChange(call.check.tool, call.check.args, task), expires, turn);
        if (task) call.expected_version = task.version;
      }
      for (const call of remoteAsks) ask(call, describeRemote(call.remote), expires, turn);
      await Promise.all(reads.map((c) => execute(ctx, turn, c)));
      turn.waiting = calls;
      return true;
    }
  }
  if (remoteAsks.length > 0) {
    // Only MCP tools wait: the step's own changes (none of which needs asking) and reads run now.
    const expires = new Date(Date.now() + ctx.settings.approval_timeout_ms).toISOString();
    for (const call of remoteAsks) ask(call, describeRemote(call.remote), expires, turn);
    await Promise.all([...reads, ...changes].map((c) => execute(ctx, turn, c)));
    turn.waiting = calls;
    return true;
  }
  await Promise.all([...valid, ...remote].map((c) => execute(ctx, turn, c)));
  if (turn.driver === 'model') pushToolResults(turn, calls, dropped);
  return false;
}

/** Puts a call up for the user's approval, showing `summary`: exactly what it would do. */
function ask(call: PlannedCall, summary: string, expires: string, turn: TurnState): void {
  call.approval = { approval_id: `ap-${uuid4().slice(0, 8)}`, summary, expires_at: expires };
  turn.log.push({ id: call.id, tool: call.name, arguments: argumentsOf(call), outcome: 'awaiting_approval', result: summary });
}

/** What an MCP tool call would do, as far as this service can tell: the server, the tool, the arguments. */
const describeRemote = (remote: RemoteCall) => `MCP server ${remote.server}: ${remote.tool} ${cut(JSON.stringify(remote.args), REMOTE_SUMMARY_MAX_CHARS)}`;
/** How much of an MCP call's arguments its approval shows (all of them up to this; the approval's `arguments` has them all). */
const REMOTE_SUMMARY_MAX_CHARS = 2_000;

/**
 * Records a refusal when the turn's actor may not make this change (workflows/shared/access-policy.ts); true if so.
 * A status change the actor may make applies only at the version checked here.
 */
function refuseUnlessAllowed(ctx: AgentContext, turn: TurnState, call: PlannedCall & { check: { ok: true } }, current: Record<string, Task | null>): boolean {
  const actor = turn.actor;
  if (actor === undefined || actor.admin) return false;
  let why: string | undefined;
  if (call.check.tool === 'delete_task') why = whyNotDelete(actor);
  if (call.check.tool === 'update_status') {
    const task = current[(call.check.args as ToolArgs['update_status']).task_id];
    if (task) {
      const whyNow = whyNotChangeStatus(actor, task);
      const whyBefore = whyNotChangeStatus({ ...actor, email: ctx.profile.email ?? undefined }, task);
      why = byIdentity(whyNow !== undefined, whyBefore !== undefined) ? (whyNow ?? whyBefore) : undefined;
      call.expected_version ??= task.version;
    }
  }
  if (why === undefined) return false;
  record(turn, call, { ok: false, error: `Not allowed: ${why}`, outcome: 'failed' });
  return true;
}

function needsApproval(ctx: AgentContext, turn: TurnState, changes: (PlannedCall & { check: { ok: true } })[], current: Record<string, Task | null>): boolean {
  // What the model read may have been written to steer it: the user sees the exact change first. (A command
  // is the user's own words: no model reads anything there.)
  if (turn.driver === 'model' && turn.read_foreign_text && patched(FOREIGN_TEXT_PATCH)) return true;
  const mine = userEmail(ctx, turn);
  const touched = new Set(turn.changes.map((c) => c.task_id));
  for (const call of changes) touched.add(taskOf(call.check.tool, call.check.args) ?? `new:${call.id}`);
  if (touched.size > MAX_TASKS_WITHOUT_APPROVAL) return true;
  return changes.some((call) => {
    if (call.check.tool === 'delete_task') return true;
    if (call.check.tool !== 'assign_task') return false;
    const { task_id, assignee } = call.check.args as ToolArgs['assign_task'];
    const holder = current[task_id]?.assignee ?? null;
    // Reassigning a task someone else has (not the user, by their verified e-mail, and not already the new assignee).
    const someoneElses = holder !== null && holder !== assignee && !sameEmail(holder, mine);
    return byIdentity(someoneElses, holder !== null && holder !== assignee && holder !== ctx.profile.email);
  });
}

/** Exactly what a change would do to the task as it is now. */
function describeChange(tool: ToolName, args: ToolArgs[ToolName], task: Task | null): string {
  if (tool === 'create_task') {
    const { title, assignee, project_id } = args as CreateTaskArgs;
    return `new task "${title}"${assignee ? ` for ${assignee}` : ''}${project_id ? ` in project ${project_id}` : ''}`;
  }
  if (tool === 'create_project') {
    const { project_id, name } = args as ToolArgs['create_project'];
    return `new project ${project_id} "${name}"`;
  }
  const id = taskOf(tool, args)!;
  if (tool === 'add_task_to_project') {
    const to = (args as ToolArgs['add_task_to_project']).project_id;
    return `${id}: project ${task?.project_id ?? 'none'} → ${to}`;
  }
  if (task === null) return `${id}: (no such task)`;
  switch (tool) {
    case 'assign_task':
      return `${id}: assignee ${task.assignee ?? 'nobody'} → ${(args as ToolArgs['assign_task']).assignee}`;
    case 'update_status':
      return `${id}: status ${task.status} → ${(args as ToolArgs['update_status']).status}`;
    case 'set_deadline':
      return `${id}: deadline ${task.deadline ?? 'none'} → in ${(args as ToolArgs['set_deadline']).deadline_seconds} s`;
    default:
      return `${id}: deleted ("${task.title}"${task.assignee ? `, assigned to ${task.assignee}` : ''})`;
  }
}

/** Runs one checked call: a tool activity, or for create_task with an assignee a processing run (a child workflow). */
async function execute(ctx: AgentContext, turn: TurnState, call: PlannedCall): Promise<void> {
  if (isRemote(call)) {
    record(turn, call, await callRemote(ctx, turn, call));
    return;
  }
  if (!call.check.ok) return;
  const { tool, args } = call.check;
  const user = {
    user_id: ctx.userId,
    email: userEmail(ctx, turn),
    ...(turn.actor ? { subject: turn.actor.subject, admin: turn.actor.admin, ...(isUser(turn.actor) ? { verified: true } : {}) } : {}),
  };
  const project = projectOf(tool, args);
  if (project !== undefined) {
    // A change in a project is its owner's (or an admin's): the project is read first, and the call refused when not.
    const refusal = await projectRefusal(turn, project, user);
    if (refusal) return record(turn, call, { ...refusal, outcome: 'failed' });
  }
  if (tool === 'create_task' && (args as CreateTaskArgs).assignee) {
    record(turn, call, await processNewTask(call.new_task_id!, args as CreateTaskArgs, turn.actor));
    return;
  }
  let result: AgentToolResult;
  try {
    const summary = TOOLS[tool].summary(args as never);
    result = await tools.agentTool.executeWithOptions({ summary }, [
      {
        tool,
        args,
        user,
        update_id: call.update_id,
        expected_version: call.expected_version,
        new_task_id: call.new_task_id,
        live: { ...liveTurn(ctx, turn), call_id: call.id, summary },
      },
    ]);
  } catch (err) {
    result = failedFor(err, tool);
  }
  record(turn, call, { ...result, outcome: result.ok ? 'done' : 'failed' });
}

/** Why the turn's user may not act in `projectId` (there is no such project, or it is not theirs), or undefined when they may. */
async function projectRefusal(turn: TurnState, projectId: string, user: AgentToolInput['user']): Promise<{ ok: false; error: string } | undefined> {
  let read: AgentToolResult;
  try {
    read = await tools.agentTool.executeWithOptions({ summary: `get_project ${projectId}` }, [{ tool: 'get_project', args: { project_id: projectId }, user }]);
  } catch (err) {
    return failedFor(err, `Reading project ${projectId}`);
  }
  if (!read.ok) return { ok: false, error: read.error };
  const why = turn.actor === undefined ? undefined : whyNotChangeProject(turn.actor, read.content as Pick<ProjectView, 'project_id' | 'owner'>);
  return why === undefined ? undefined : { ok: false, error: `Not allowed: ${why}` };
}

/** An MCP server's tool, as its own activity; retried as a model call is, and a call that fails for good is its result. */
async function callRemote(ctx: AgentContext, turn: TurnState, call: PlannedCall & { remote: RemoteCall }): Promise<AgentToolResult & { outcome: ToolOutcomeKind }> {
  const { server, tool, args, trusted } = call.remote;
  const remoteTools = proxyActivities<Activities>({
    startToCloseTimeout: ctx.settings.model_timeout_ms,
    heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 4 },
  });
  const summary = `MCP ${server}: ${tool}`;
  try {
    const result = await remoteTools.callMcpTool.executeWithOptions({ summary }, [
      { server, tool, args, idempotency_key: call.update_id, trusted, live: { ...liveTurn(ctx, turn), call_id: call.id, tool: call.name, summary } },
    ]);
    return { ...result, outcome: result.ok ? 'done' : 'failed' };
  } catch (err) {
    return { ...failedFor(err, summary), outcome: 'failed' };
  }
}

/** create_task with an assignee: the task goes through TaskProcessingWorkflow, started by the chat (once: a child). */
async function processNewTask(taskId: string, args: CreateTaskArgs, actor: Actor | undefined): Promise<AgentToolResult & { outcome: ToolOutcomeKind }> {
  let result: TaskProcessingResult;
  const request = {
    task_id: taskId,
    title: args.title,
    description: args.description ?? '',
    assignee: args.assignee,
    deadline_seconds: args.deadline_seconds ?? 3600,
    ...(args.project_id !== undefined ? { project_id: args.project_id } : {}),
  };
  try {
    result = await executeChild<(input: unknown, options?: { updated_by?: string }) => Promise<TaskProcessingResult>>('TaskProcessingWorkflow', {
      workflowId: processingWorkflowId(taskId),
      args: actor ? [request, { updated_by: actor.subject }] : [request],
      // The run is the task's, not the chat's: it finishes whatever happens to this chat run.
      parentClosePolicy: 'ABANDON',
      staticSummary: `Process task ${taskId} for ${args.assignee} (asked in chat)`,
    });
  } catch (err) {
    return { ok: false, error: `Processing ${taskId} did not run: ${err instanceof Error ? err.message : String(err)}`, outcome: 'failed' };
  }
  if (result.status !== 'completed') return { ok: false, error: `${taskId}: ${result.message}`, outcome: 'failed' };
  let task: Task | undefined;
  try {
    task = (await tools.readTasks.executeWithOptions({ summary: `Read ${taskId}` }, [{ task_ids: [taskId] }]))[taskId] ?? undefined;
  } catch (err) {
    failedFor(err, `Reading ${taskId}`); // the task is made; only its current state is not shown
  }
  return { ok: true, content: { ...result, task }, ...(task ? { task } : {}), outcome: 'done' };
}

/** Keeps a call's result, logs it, and notes the change it made (for /undo and the 3-task rule). */
function record(turn: TurnState, call: PlannedCall, result: AgentToolResult & { outcome: ToolOutcomeKind }): void {
  call.result = result;
  // A failure's detail may be someone else's text too (an MCP server's message); the agent's own tools' never is.
  if (result.foreign_text) turn.read_foreign_text = true;
  turn.log.push({ id: call.id, tool: call.name, arguments: argumentsOf(call), outcome: result.outcome, result: resultLine(call) });
  // A project's change is not a task's: /undo leaves it (tools.ts `project`).
  if (!result.ok || !call.check.ok || !TOOLS[call.check.tool].changes || TOOLS[call.check.tool].project) return;
  const taskId = call.check.tool === 'create_task' ? call.new_task_id! : taskOf(call.check.tool, call.check.args)!;
  const version = result.task?.version ?? 0;
  const earlier = turn.changes.find((c) => c.task_id === taskId);
  if (call.check.tool === 'delete_task') {
    if (earlier) earlier.kind = earlier.kind === 'created' ? 'created' : 'deleted';
    else turn.changes.push({ task_id: taskId, kind: 'deleted', version: 0 });
  } else if (earlier) {
    earlier.version = version;
  } else {
    turn.changes.push({ task_id: taskId, kind: call.check.tool === 'create_task' ? 'created' : 'changed', version });
  }
}

/** The tool messages of a step's calls, in the order the model asked for them (the protocol wants one per call). */
function pushToolResults(turn: TurnState, calls: PlannedCall[], dropped = 0): void {
  for (const [i, call] of calls.entries()) {
    const result = call.result;
    const content = !result ? { error: 'Not run' } : result.ok ? result.content : { error: result.error, ...(result.detail !== undefined ? { detail: result.detail } : {}) };
    const note = dropped > 0 && i === calls.length - 1 ? { note: `${dropped} more tool call(s) of that answer were not run: at most ${MODEL_TOOL_CALLS_MAX} per answer` } : {};
    turn.messages.push({ role: 'tool', tool_call_id: call.id, content: cut(JSON.stringify({ ...asObject(content), ...note }), TOOL_RESULT_MAX_CHARS) });
  }
}

const asObject = (content: unknown): object => (typeof content === 'object' && content !== null && !Array.isArray(content) ? content : { result: content });

function approvalRequest(ctx: AgentContext, turn: TurnState): string {
  const pending = undecided(turn);
  return [
    ...(turn.read_foreign_text ? ['I read text that someone else wrote in this turn, so I ask before changing anything.'] : []),
    'Before I go on I need your approval for:',
    ...pending.map((a) => `- ${a.summary} (${a.approval_id})`),
    `Approve or deny each: /approve <id> or /deny <id>, or POST /chat/${ctx.userId}/approvals/<id> with {"approved": true} or false. Without a decision by ${pending[0]?.expires_at} it is denied.`,
  ].join('\n');
}

function modelUnavailableReply(turn: TurnState): string {
  if (turn.log.length === 0) {
    return `The model is unavailable right now, so I answered by my rules: ${ruleReply(turn.user_entry.content, turn.message_number)}`;
  }
  return `I could not finish: the model is unavailable right now.${doneSoFar(turn)}`;
}

function doneSoFar(turn: TurnState): string {
  const lines = turn.log.filter((entry) => entry.outcome === 'done' && TOOLS[entry.tool as ToolName]?.changes).map((entry) => `- ${entry.result}`);
  return lines.length > 0 ? ` Done so far:\n${lines.join('\n')}` : ' Nothing was changed.';
}

/** One line for a call's result: what a command answers, what an event says. */
function resultLine(call: PlannedCall): string {
  const result = call.result;
  if (!result) return `${call.name}: not run`;
  if (!result.ok) return result.error;
  if (call.remote) return `${call.remote.server}: ${call.remote.tool}: done`;
  if (!call.check.ok) return '';
  const task = result.task;
  switch (call.check.tool) {
    case 'get_current_time':
      return (result.content as { utc: string }).utc;
    case 'list_tasks': {
      const { tasks, more } = result.content as { tasks: { task_id: string; status: string | null; assignee: string | { untrusted_text: string } | null }[]; more: boolean };
      if (tasks.length === 0) return 'No open tasks.';
      const assignee = (value: (typeof tasks)[number]['assignee']) => (value === null ? '' : `, ${typeof value === 'string' ? value : JSON.stringify(value.untrusted_text)}`);
      const lines = tasks.map((t) => `- ${t.task_id}: ${t.status ?? 'unknown'}${assignee(t.assignee)}`);
      return ['Open tasks:', ...lines, ...(more ? ['(more not shown)'] : [])].join('\n');
    }
    case 'delete_task':
      return `${taskOf('delete_task', call.check.args)}: deleted`;
    case 'list_projects': {
      const { projects, more } = result.content as { projects: string[]; more: boolean };
      return projects.length === 0 ? 'No projects.' : ['Projects:', ...projects.map((p) => `- ${p}`), ...(more ? ['(more not shown)'] : [])].join('\n');
    }
    case 'get_project':
      return describeProject(result.content as ProjectView);
    case 'create_project': {
      const { project_id, name } = result.content as { project_id: string; name: string };
      return `Project ${project_id} "${name}": created`;
    }
    case 'add_task_to_project': {
      const { project_id, task_id } = call.check.args as ToolArgs['add_task_to_project'];
      return `${task_id}: now in project ${project_id}`;
    }
    default:
      return task ? describeTask(task) : `${call.name}: done`;
  }
}

/** "How is project X doing", in one paragraph. Its name may be someone else's text: it is quoted. */
function describeProject(view: ProjectView): string {
  const { rollup } = view;
  const counts = (Object.entries(rollup.by_status) as [string, number][]).filter(([, n]) => n > 0).map(([status, n]) => `${n} ${status}`);
  return [
    `Project ${view.project_id} ${JSON.stringify(view.name)} (owner ${view.owner}): ${rollup.tasks} task(s)${counts.length > 0 ? `: ${counts.join(', ')}` : ''}`,
    `${Math.round(rollup.done_share * 100)}% done, ${rollup.overdue} overdue${rollup.next_deadline ? `, next deadline ${rollup.next_deadline}` : ''}${rollup.unreported > 0 ? `, ${rollup.unreported} not reported yet` : ''}.`,
  ].join('\n');
}

const describeTask = (task: Task) =>
  `${task.task_id} "${task.title}": ${task.status}${task.assignee ? `, assigned to ${task.assignee}` : ''}${task.deadline ? `, due ${task.deadline}` : ''} (version ${task.version})`;

/** A command's reply: each call's line; a refused or invalid one says how the command is used. */
function commandReply(calls: PlannedCall[]): string {
  return calls
    .map((call) => {
      const line = resultLine(call);
      return !call.check.ok ? `${line}\n${USAGE[call.name as ToolName] ?? 'See /help.'}` : line;
    })
    .join('\n');
}

const USAGE: Partial<Record<ToolName, string>> = {
  list_tasks: 'Usage: /tasks [mine] [status]',
  get_task: 'Usage: /task <id>',
  assign_task: 'Usage: /assign <id> <assignee>',
  update_status: 'Usage: /status <id> <pending|assigned|in_progress|completed>',
  set_deadline: 'Usage: /deadline <id> <seconds>',
  delete_task: 'Usage: /delete <id>',
  get_project: 'Usage: /project <id>',
  create_project: 'Usage: /newproject <id> <name>',
  add_task_to_project: 'Usage: /addtask <project id> <task id>',
};
