/**
 * ChatEntityWorkflow: the ChatActor on Temporal, and the user's task agent. One long-lived run per user
 * (`chat-entity-{user_id}`) that keeps the last 10 exchanges and what it knows of the user (the profile),
 * answers each message, and publishes `conversation.updated` for every reply through its outbox.
 *
 * A message is answered by a slash command (the agent's tools, deterministically), by the model acting
 * through the tools (agent/turn.ts), or without a model by the seed's three rules. A change that needs
 * the user's approval pauses the turn: the reply asks, the turn waits in this entity (across restarts and
 * continue-as-new) until `decideApproval`, or until AGENT_APPROVAL_TIMEOUT denies it (a durable timer).
 * `undoLastTurn` reverts the task changes of the last turn that made any.
 *
 * Turns may wait on activities, so handlers interleave; a FIFO mutex makes one user's turns run strictly
 * one after another, in the order they were accepted.
 *
 * Continue-as-new under load: a run can only end once every message it accepted is answered, and under a
 * steady stream there is always one more waiting. So once the run should continue as new, it accepts no
 * new message: they are refused as `EntityClosing`, which the chat's client sends again, and they land in
 * the next run. History stays bounded and no message is lost.
 *
 * Nothing a turn calls can fail the chat or leave it stuck: a call that fails for good is that call's
 * result (agent/turn.ts), and anything else a turn throws ends that turn with a reply that says so, never
 * the run; a turn waits for approval only while an approval is undecided. What a run carries over is
 * bounded (limits.ts): with Redis away the outbox fills up, and then new messages are refused (503) until
 * Redis takes the events, rather than any event being dropped. Requests with an Idempotency-Key are
 * answered once (../idempotency.ts).
 */
import type { Actor } from '../../workflows/shared/access-policy';
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { Mutex } from 'async-mutex';
import type { Activities } from '../../activities';
import { HEARTBEAT_TIMEOUT_MS, type ActivitySettings } from '../../workflows/shared/activity-timeouts';
import { chatEntityWorkflowId, toolCallStreamId } from '../../workflows/shared/ids';
import { ApprovalDecisionInputRules, ChatMessageRequestRules, UserProfileInputRules } from '../../workflows/shared/workflow-inputs';
import { checkInput, describeFieldErrors, type InputRules } from '../../workflows/shared/input-rules';
import type { Approval, ChatEntry, UserProfile } from '../../common/schemas';
import { EventOutbox } from '../outbox';
import { sleepUnlessForThisRun } from '../timers';
import { IdempotencyStore, KEY_REUSED, keyedRequestOf, type KeyedRequest } from '../idempotency';
import { HELP, PROJECT_COMMANDS, parseCommand } from './agent/commands';
import { checkCall, TOOLS } from './agent/tools';
import {
  FAILURES_CONTAINED_PATCH,
  callReports,
  newTurn,
  resumeTurn,
  rootMessage,
  runCommandTurn,
  runModelTurn,
  turnPrefix,
  undecided,
  type AgentContext,
  type PlannedCall,
  type TurnState,
} from './agent/turn';
import { OUTBOX_MAX_BYTES, OUTBOX_MAX_EVENTS, REPLY_MAX_CHARS, TOOL_ARGUMENTS_MAX_CHARS, cut } from './limits';
import { conversationUpdated } from './events';
import {
  EMPTY_PROFILE,
  clearHistorySignal,
  clearHistoryUpdate,
  decideApprovalUpdate,
  getApprovalsQuery,
  getHistoryQuery,
  getProfileQuery,
  processMessageUpdate,
  runToolUpdate,
  setProfileUpdate,
  undoLastTurnUpdate,
  type ChatEntityInput,
  type ChatReply,
  type ToolRunInput,
  type UndoableTurn,
} from './messages';
import { MAX_EXCHANGES, capHistory, ruleReply } from './replies';
import { chatAsRecordedBefore } from './workflow-v1';

/** Runs recorded before this patch asked the model through a local activity, without tools (workflow-v1.ts). */
export const CHAT_ENTITY_V2_PATCH = 'chat-entity-v2';
/** Runs recorded before this patch answered `/projects`, `/project`, `/newproject` and `/addtask` as unknown commands. */
export const CHAT_PROJECT_COMMANDS_PATCH = 'chat-project-commands';
/**
 * Runs recorded before this patch kept a turn waiting when nothing in it waited any more (a tool that failed
 * after the approval left it so), answering every later message with an empty list of changes to decide.
 */
const STALE_WAIT_PATCH = 'chat-drops-turn-with-nothing-waiting';
/**
 * Runs recorded before this patch published each reply's event at once; since, a chat gathers its events for
 * EVENTS_GATHER_MS, so that publishing does not sit between one message's answer and the next (bench/README.md,
 * "Chat at a bare update's pace").
 */
const EVENTS_GATHER_PATCH = 'chat-gathers-its-events';
export const EVENTS_GATHER_MS = 250;

const { activitySettings } = proxyLocalActivities<Activities>({ startToCloseTimeout: '5 seconds' });
/** /undo: one activity per task, newest first. */
const undoSteps = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 5 },
});

/** How long a run trusts the worker's settings (a model configured later is picked up after this). */
export const SETTINGS_RECHECK_MS = 5 * 60_000;

function parse<T>(rules: InputRules<T>, input: unknown, options?: { strict: boolean }): T {
  const parsed = checkInput(rules, input, options);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(`Invalid input: ${describeFieldErrors(parsed.errors)}`, 'InvalidInput');
  return parsed.data;
}

class ChatEntity {
  private history: ChatEntry[];
  private messageCount: number;
  profile: UserProfile;
  /** A turn waiting for the user's decisions. */
  pending: TurnState | undefined;
  private lastChanges: UndoableTurn | undefined;
  readonly outbox: EventOutbox;
  private readonly keys: IdempotencyStore<ChatEntry>;
  /** The message whose turn last read text someone else wrote: while it is in the history the model sees, a turn starts as having read it. */
  private foreignTextAt: number | undefined;
  private readonly turns = new Mutex();
  private settings: { value: ActivitySettings; at: number } | undefined;

  constructor(private readonly input: ChatEntityInput) {
    this.history = [...(input.history ?? [])];
    this.messageCount = input.message_count ?? 0;
    this.profile = input.profile ?? EMPTY_PROFILE;
    this.pending = input.pending_turn;
    this.lastChanges = input.last_changes;
    this.outbox = new EventOutbox(input.outbox, {
      stopMidPublish: true,
      maxEvents: OUTBOX_MAX_EVENTS,
      maxBytes: OUTBOX_MAX_BYTES,
      ...(patched(EVENTS_GATHER_PATCH) ? { gatherMs: EVENTS_GATHER_MS } : {}),
    });
    this.keys = new IdempotencyStore(input.idempotency_keys);
    this.foreignTextAt = input.foreign_text_at;
  }

  /** A new model turn; it has read someone else's text already when an earlier turn's reply with such text is in the history it is given. */
  private newModelTurn(userEntry: ChatEntry, number: number, actor: Actor | undefined, ref: string | undefined): TurnState {
    const turn = newTurn(userEntry, number, 'model', actor, ref);
    if (this.foreignTextAt !== undefined && number - this.foreignTextAt < MAX_EXCHANGES) turn.read_foreign_text = true;
    return turn;
  }

  get userId(): string {
    return this.input.user_id;
  }

  shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || (this.input.history_limit !== undefined && info.historyLength >= this.input.history_limit);
  }

  refuseWhileClosing(): void {
    if (this.shouldContinueAsNew()) throw ApplicationFailure.retryable(`Chat ${this.userId} is continuing as new: send again`, 'EntityClosing');
  }

  /** While Redis has not taken this many events, the chat takes no new message (they would add more). */
  refuseWhileBacklogged(): void {
    if (!this.outbox.full) return;
    const { events, bytes } = this.outbox.size;
    throw ApplicationFailure.retryable(
      `Chat ${this.userId} has ${events} events (${Math.round(bytes / 1024)} KB) waiting for Redis; it takes new messages once they are published`,
      'EventsBacklogged',
    );
  }

  /**
   * A keyed request's validator: the same key with the same request again is let through (its handler answers
   * with the first answer, refusing nothing), with another request refused. True for a resend.
   */
  acceptsResend(input: unknown): boolean {
    const request = keyedRequestOf(input);
    if (request === undefined) return false;
    const check = this.keys.check(request, Date.now());
    if (check.kind === 'reused') throw ApplicationFailure.nonRetryable(check.message, KEY_REUSED);
    return check.kind === 'replay';
  }

  /** Runs `answer` once per idempotency key (none: every time); a resend gets the first answer, waiting for it if need be. */
  async once(input: unknown, answer: () => Promise<ChatReply>): Promise<ChatReply> {
    const request: KeyedRequest | undefined = keyedRequestOf(input);
    if (request === undefined) return answer();
    const check = this.keys.check(request, Date.now());
    if (check.kind === 'reused') throw ApplicationFailure.nonRetryable(check.message, KEY_REUSED);
    if (check.kind === 'replay') {
      const { record } = check;
      await condition(() => record.answer !== undefined || record.failed !== undefined);
      if (record.answer === undefined) throw ApplicationFailure.nonRetryable(`The first request with this Idempotency-Key failed: ${record.failed}`, 'IdempotentRequestFailed');
      return record.answer;
    }
    const record = this.keys.begin(request, Date.now());
    try {
      const reply = await answer();
      this.keys.finish(record, reply, Date.now());
      return reply;
    } catch (err) {
      this.keys.fail(record, err instanceof Error ? err.message : String(err));
      throw err;
    }
  }

  validateDecision(input: unknown): void {
    const { approval_id } = parse(ApprovalDecisionInputRules, input);
    if (this.acceptsResend(input)) return;
    if (!undecided(this.pending).some((a) => a.approval_id === approval_id)) {
      throw ApplicationFailure.nonRetryable(`No approval ${approval_id} is waiting (decided, expired, or never asked)`, 'ApprovalNotFound');
    }
    this.refuseWhileClosing();
  }

  /** A message: a command, a turn of the agent, or the seed's rules. */
  message(content: string, actor: Actor | undefined, ref?: string): Promise<ChatEntry> {
    return this.turns.runExclusive(async () => {
      const number = this.messageCount + 1;
      this.messageCount = number;
      const userEntry: ChatEntry = { role: 'user', content, timestamp: new Date().toISOString() };
      let command = parseCommand(content);
      // A project command in a run recorded before they existed was an unknown command (no tool turn).
      const name = content.trim().split(/\s+/)[0]!.toLowerCase();
      if (command?.kind === 'tool' && PROJECT_COMMANDS.includes(name) && !patched(CHAT_PROJECT_COMMANDS_PATCH)) command = { kind: 'unknown', text: name };
      if (command?.kind === 'decide') return this.decide(command.approval_id, command.approved, userEntry);
      this.dropStaleWait();
      if (this.pending) return this.conclude(userEntry, waitingReminder(this.pending), this.pending, true);
      if (command?.kind === 'undo') return this.conclude(userEntry, await this.undo(actor));
      if (command?.kind === 'help') return this.conclude(userEntry, HELP);
      if (command?.kind === 'unknown') return this.conclude(userEntry, `There is no command ${command.text}.\n${HELP}`);
      const ctx = await this.context();
      if (command?.kind === 'tool') {
        const turn = newTurn(userEntry, number, 'command', actor, ref);
        return this.safely(userEntry, turn, async () => {
          const progress = await runCommandTurn(ctx, turn, command.tool, command.arguments);
          return this.conclude(userEntry, progress.reply, turn, progress.waiting !== undefined);
        });
      }
      if (!ctx.settings.model) return this.conclude(userEntry, ruleReply(content, number));
      const turn = this.newModelTurn(userEntry, number, actor, ref);
      return this.safely(userEntry, turn, async () => {
        const progress = await runModelTurn(ctx, turn);
        return this.conclude(userEntry, progress.reply, turn, progress.waiting !== undefined);
      });
    });
  }

  /**
   * `runTool`: one tool the user asked for directly (an MCP client), run as their slash command would be: the
   * same rights, approvals and /undo, recorded in the conversation. Answers with the call's report.
   */
  runTool(input: ToolRunInput, actor: Actor | undefined): Promise<ChatReply> {
    return this.turns.runExclusive(async () => {
      const number = this.messageCount + 1;
      this.messageCount = number;
      const args = JSON.stringify(input.arguments);
      const checked = checkCall(input.tool, args);
      const what = checked.ok ? TOOLS[checked.tool].summary(checked.args as never) : input.tool;
      const via = typeof input.via === 'string' && /^[A-Za-z0-9 ._-]{1,20}$/.test(input.via) ? input.via : 'tool';
      const userEntry: ChatEntry = { role: 'user', content: `[${via}] ${what}`, timestamp: new Date().toISOString() };
      const failed = (entry: ChatEntry): ChatReply => ({ ...entry, calls: [{ tool: input.tool, outcome: 'failed', result: entry.content }] });
      // The validator refused what does not check; a resend of a request from before a change of the rules may not.
      if (!checked.ok) return failed(this.conclude(userEntry, checked.error));
      this.dropStaleWait();
      if (this.pending) return failed(this.conclude(userEntry, waitingReminder(this.pending), this.pending, true));
      const ctx = await this.context();
      const turn = newTurn(userEntry, number, 'command', actor);
      let calls: PlannedCall[] | undefined;
      const entry = await this.safely(userEntry, turn, async () => {
        const progress = await runCommandTurn(ctx, turn, checked.tool, args);
        calls = progress.calls;
        return this.conclude(userEntry, progress.reply, turn, progress.waiting !== undefined);
      });
      return calls ? { ...entry, calls: callReports(calls) } : failed(entry);
    });
  }

  /** `decideApproval` (the API, the CLI): a decision, with the assistant's follow-up. */
  decideFromUpdate(approvalId: string, approved: boolean): Promise<ChatReply> {
    return this.turns.runExclusive(() => {
      const userEntry: ChatEntry = { role: 'user', content: `/${approved ? 'approve' : 'deny'} ${approvalId}`, timestamp: new Date().toISOString() };
      return this.decide(approvalId, approved, userEntry);
    });
  }

  undoFromUpdate(actor: Actor | undefined): Promise<ChatEntry> {
    return this.turns.runExclusive(async () => {
      const userEntry: ChatEntry = { role: 'user', content: '/undo', timestamp: new Date().toISOString() };
      return this.conclude(userEntry, await this.undo(actor));
    });
  }

  /**
   * Runs a turn; whatever it throws (a failure no call caught, on a run from after the patch) ends the turn
   * with a reply saying so: its changes so far are kept for /undo, nothing stays waiting, the run goes on.
   */
  private async safely(userEntry: ChatEntry | null, turn: TurnState, run: () => Promise<ChatReply>): Promise<ChatReply> {
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof Error) || !patched(FAILURES_CONTAINED_PATCH)) throw err;
      turn.waiting = undefined;
      return this.conclude(userEntry, `I could not finish: ${rootMessage(err)}.`, turn, false);
    }
  }

  /** A turn left waiting with nothing undecided in it (before the patch a failed tool could leave one) is over. */
  private dropStaleWait(): void {
    if (this.pending && undecided(this.pending).length === 0 && patched(STALE_WAIT_PATCH)) {
      this.pending.waiting = undefined;
      this.pending = undefined;
    }
  }

  clear(): Promise<void> {
    return this.turns.runExclusive(async () => {
      this.history = [];
      this.messageCount = 0;
      this.foreignTextAt = undefined;
      this.showState();
    });
  }

  setProfile(input: unknown): UserProfile {
    this.profile = { ...EMPTY_PROFILE, ...parse(UserProfileInputRules, input, { strict: true }) };
    return this.profile;
  }

  getApprovals(): Approval[] {
    return this.approvalsOf(this.pending);
  }

  private approvalsOf(turn: TurnState | undefined): Approval[] {
    return (turn?.waiting ?? []).flatMap((call) =>
      call.approval && call.approval.decision === undefined
        ? [
            {
              approval_id: call.approval.approval_id,
              tool: call.name,
              arguments: (call.remote?.args ?? (call.check.ok ? call.check.args : {})) as Record<string, unknown>,
              summary: call.approval.summary,
              expires_at: call.approval.expires_at,
              tool_call_id: toolCallStreamId(turn!.turn_id, call.id),
            },
          ]
        : [],
    );
  }

  getHistory(): ChatEntry[] {
    return this.history;
  }

  /** The earliest moment an approval still waiting expires. */
  nextExpiry(): string | undefined {
    return undecided(this.pending)
      .map((a) => a.expires_at)
      .sort()[0];
  }

  /** The approval timer fired: deny what expired, and go on with the turn if nothing else waits. */
  expire(): Promise<void> {
    return this.turns.runExclusive(async () => {
      const now = new Date().toISOString();
      const expired = undecided(this.pending).filter((a) => a.expires_at <= now);
      if (expired.length === 0 || !this.pending) return;
      for (const approval of expired) approval.decision = 'expired';
      if (undecided(this.pending).length > 0) return;
      const turn = this.pending;
      const note = `No decision came in time, so I did not do: ${expired.map((a) => a.summary).join('; ')}.`;
      // On the run's own coroutine: a failure here would fail the chat, so it ends the turn instead.
      await this.safely(null, turn, async () => {
        const progress = await resumeTurn(await this.context(), turn);
        return this.conclude(null, `${note}\n${progress.reply}`, turn, progress.waiting !== undefined);
      });
    });
  }

  snapshot(): ChatEntityInput {
    return {
      user_id: this.userId,
      history: this.history,
      message_count: this.messageCount,
      outbox: this.outbox.snapshot(),
      history_limit: this.input.history_limit,
      profile: this.profile,
      pending_turn: this.pending,
      last_changes: this.lastChanges,
      idempotency_keys: this.keys.snapshot(Date.now()),
      ...(this.foreignTextAt !== undefined ? { foreign_text_at: this.foreignTextAt } : {}),
    };
  }

  showState(): void {
    const waiting = undecided(this.pending);
    const approvals = waiting.length > 0 ? `; waiting for approval: ${waiting.map((a) => `${a.summary} (${a.approval_id}, until ${a.expires_at})`).join('; ')}` : '';
    setCurrentDetails(`${this.messageCount} message(s), ${this.history.length} entries kept${approvals}`);
  }

  private async decide(approvalId: string, approved: boolean, userEntry: ChatEntry): Promise<ChatReply> {
    const approval = undecided(this.pending).find((a) => a.approval_id === approvalId);
    if (!approval || !this.pending) {
      return this.conclude(userEntry, `No change is waiting for approval ${approvalId || '(none given)'}: it was decided, it expired, or it was never asked.`);
    }
    approval.decision = approved ? 'approved' : 'denied';
    const turn = this.pending;
    if (undecided(turn).length > 0) {
      const noted = `Noted: ${approved ? 'approved' : 'denied'} ${approval.summary}.`;
      return this.conclude(userEntry, `${noted}\n${waitingReminder(turn)}`, turn, true);
    }
    return this.safely(userEntry, turn, async () => {
      const progress = await resumeTurn(await this.context(), turn);
      const entry = this.conclude(userEntry, progress.reply, turn, progress.waiting !== undefined);
      // A command's calls are what its caller asked for (a model turn's reply speaks for itself).
      return progress.calls ? { ...entry, calls: callReports(progress.calls) } : entry;
    });
  }

  /**
   * Reverts the task changes of the last turn that made any, newest first; says what it did for each task.
   * A task whose revert fails for good stays in the undo information, so /undo can be asked again for it.
   */
  private async undo(actor: Actor | undefined): Promise<string> {
    const last = this.lastChanges;
    if (!last) return 'Nothing to undo: none of your turns has changed a task since the last undo.';
    const lines: string[] = [];
    const left: typeof last.changes = [];
    for (const change of [...last.changes].reverse()) {
      try {
        const result = await undoSteps.undoChange.executeWithOptions({ summary: `Undo ${change.task_id}` }, [
          {
            change,
            changes_by: last.changes_by,
            update_id: `${chatEntityWorkflowId(this.userId)}/undo/${last.turn_id}/${change.task_id}`,
            ...(actor ? { updated_by: actor.subject } : {}),
          },
        ]);
        lines.push(`- ${result.line}`);
      } catch (err) {
        if (!patched(FAILURES_CONTAINED_PATCH)) {
          // As runs from before the patch did: the undo information was gone before the first revert.
          this.lastChanges = undefined;
          throw err;
        }
        left.unshift(change);
        lines.push(`- ${change.task_id}: not reverted yet (${rootMessage(err)})`);
      }
    }
    this.lastChanges = left.length > 0 ? { ...last, changes: left } : undefined;
    const again = left.length > 0 ? ['Ask /undo again to revert what is left.'] : [];
    return [`Undid the task changes of "${last.message}":`, ...lines, ...again].join('\n');
  }

  /** Records a reply: the history, the event, the turn still waiting (if it does), what /undo can revert. */
  private conclude(userEntry: ChatEntry | null, reply: string, turn?: TurnState, waiting = false): ChatEntry {
    const assistantEntry: ChatEntry = { role: 'assistant', content: cut(reply, REPLY_MAX_CHARS), timestamp: new Date().toISOString() };
    this.history = capHistory([...this.history, ...(userEntry ? [userEntry] : []), assistantEntry]);
    const log = turn?.log;
    if (turn) {
      turn.log = [];
      // Its reply may quote what it read: it stays someone else's text in the history the model is given.
      if (turn.read_foreign_text) this.foreignTextAt = turn.message_number;
      this.pending = waiting ? turn : undefined;
      if (!waiting && turn.changes.length > 0) {
        this.lastChanges = { turn_id: turn.turn_id, changes_by: turnPrefix(this.prefixContext(), turn), message: turn.user_entry.content, changes: turn.changes };
      }
    }
    // What still waits once this reply is out (another turn's approvals too, when this reply is not a turn's).
    const after = { ...(turn ? { turn } : {}), approvals: this.approvalsOf(this.pending) };
    this.outbox.add(conversationUpdated(this.userId, userEntry, assistantEntry, uuid4(), log, after));
    this.showState();
    return assistantEntry;
  }

  private prefixContext(): Pick<AgentContext, 'chatPrefix'> {
    return { chatPrefix: `${chatEntityWorkflowId(this.userId)}/` };
  }

  /** What a turn works with. The worker's settings are asked when first needed and again after SETTINGS_RECHECK_MS. */
  private async context(): Promise<AgentContext> {
    if (this.settings === undefined || Date.now() - this.settings.at >= SETTINGS_RECHECK_MS) {
      this.settings = { value: await activitySettings(), at: Date.now() };
    }
    return { userId: this.userId, ...this.prefixContext(), settings: this.settings.value, profile: this.profile, history: this.history };
  }
}

/** The id the API gave a streamed request (stream/live-records.ts); anything else is none. */
function streamRefOf(input: { stream_ref?: unknown } | undefined): string | undefined {
  const ref = input?.stream_ref;
  return typeof ref === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(ref) ? ref : undefined;
}

/** The sender's rights from an update's input; anything but a well-formed actor means none was given (full rights). */
function actorOf(input: { actor?: unknown } | undefined): Actor | undefined {
  const actor = input?.actor as Partial<Actor> | undefined;
  if (typeof actor?.subject !== 'string' || typeof actor.admin !== 'boolean') return undefined;
  return {
    subject: actor.subject,
    admin: actor.admin,
    ...(actor.user === true ? { user: true } : {}),
    ...(typeof actor.email === 'string' && actor.email.length <= 254 ? { email: actor.email } : {}),
  };
}

function waitingReminder(turn: TurnState): string {
  return [
    'These changes are waiting for your decision:',
    ...undecided(turn).map((a) => `- ${a.summary} (${a.approval_id})`),
    'Decide with /approve <id> or /deny <id> first.',
  ].join('\n');
}

export async function ChatEntityWorkflow(input: ChatEntityInput): Promise<void> {
  if (!patched(CHAT_ENTITY_V2_PATCH)) return chatAsRecordedBefore(input);
  const chat = new ChatEntity(input);
  const sleepUnless = sleepUnlessForThisRun();

  setHandler(processMessageUpdate, (message) => chat.once(message, () => chat.message(message.content, actorOf(message), streamRefOf(message))), {
    validator: (message) => {
      parse(ChatMessageRequestRules, message);
      if (chat.acceptsResend(message)) return;
      chat.refuseWhileClosing();
      chat.refuseWhileBacklogged();
    },
  });
  setHandler(runToolUpdate, (input) => chat.once(input, () => chat.runTool(input, actorOf(input))), {
    validator: (input) => {
      const args = input?.arguments;
      if (typeof args !== 'object' || args === null || Array.isArray(args)) throw ApplicationFailure.nonRetryable('Invalid input: arguments: must be an object', 'InvalidInput');
      const text = JSON.stringify(args);
      if (text.length > TOOL_ARGUMENTS_MAX_CHARS) throw ApplicationFailure.nonRetryable(`Invalid input: arguments: at most ${TOOL_ARGUMENTS_MAX_CHARS} characters of JSON`, 'InvalidInput');
      const checked = checkCall(String(input.tool), text);
      if (!checked.ok) throw ApplicationFailure.nonRetryable(`Invalid input: ${checked.error}`, 'InvalidInput');
      if (chat.acceptsResend(input)) return;
      chat.refuseWhileClosing();
      chat.refuseWhileBacklogged();
    },
  });
  setHandler(decideApprovalUpdate, (input) => chat.once(input, () => chat.decideFromUpdate(input.approval_id, input.approved)), {
    validator: (input) => chat.validateDecision(input),
  });
  setHandler(undoLastTurnUpdate, (input) => chat.once(input, () => chat.undoFromUpdate(actorOf(input))), {
    validator: (input) => {
      if (chat.acceptsResend(input)) return;
      chat.refuseWhileClosing();
      chat.refuseWhileBacklogged();
    },
  });
  setHandler(setProfileUpdate, (input) => chat.setProfile(input), {
    validator: (input) => {
      parse(UserProfileInputRules, input, { strict: true });
      chat.refuseWhileClosing();
    },
  });
  setHandler(clearHistoryUpdate, () => chat.clear(), { validator: () => chat.refuseWhileClosing() });
  setHandler(clearHistorySignal, () => void chat.clear());
  setHandler(getHistoryQuery, () => chat.getHistory());
  setHandler(getApprovalsQuery, () => chat.getApprovals());
  setHandler(getProfileQuery, () => chat.profile);

  chat.showState();
  const closing = () => chat.shouldContinueAsNew();
  // Approvals expire on a durable timer, replaced whenever the earliest expiry changes.
  const approvalDeadlines = async () => {
    while (!closing()) {
      const next = chat.nextExpiry();
      const changed = () => chat.nextExpiry() !== next || closing();
      if (next === undefined) {
        await condition(changed);
        continue;
      }
      const remaining = Date.parse(next) - Date.now();
      if (remaining > 0 && !(await sleepUnless(remaining, changed, `Approval expires ${next}`))) continue;
      await chat.expire();
    }
  };
  await Promise.all([chat.outbox.run(closing), approvalDeadlines()]);
  // No new message is accepted now; the ones accepted before finish first.
  await condition(allHandlersFinished);
  await continueAsNew<typeof ChatEntityWorkflow>(chat.snapshot());
}
