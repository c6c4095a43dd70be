/**
 * An MCP `tools/call`, with the caller's rights from their verified token:
 *   - a reading tool runs here, as the agent's tool activity runs it (activities/agent-tools.ts toolRunner):
 *     the same result, with text someone else wrote labelled as such;
 *   - a changing tool goes to the caller's chat entity as if they had typed the command (`runTool`): the same
 *     rights, the same approvals (durable, decidable in the chat, the web page and the HTTP API), recorded in
 *     the conversation and undone by /undo. It carries an idempotency key (the client's, or its session and
 *     request id), so a call sent twice applies once and both get the first answer.
 * A change waiting for approval is asked of the user through MCP elicitation when the client supports it (the
 * exact change, for at most ELICITATION_MAX_MS, or until it is decided elsewhere); otherwise the answer names
 * the approval and where to decide it.
 */
import { createHash } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { taskForReader, toolRunner, type ToolUser } from '../activities/agent-tools';
import type { ChatEntityClient } from '../clients/chat-entity';
import type { TaskEntityClient } from '../clients/task-entity';
import type { ProjectEntityClient } from '../clients/project-entity';
import { checkCall, isToolName, TOOLS } from '../entities/chat/agent/tools';
import type { CallReport, PendingApproval } from '../entities/chat/agent/turn';
import type { ChatReply } from '../entities/chat/messages';
import type { KeyedRequest } from '../entities/idempotency';
import { chatEntityWorkflowId } from '../workflows/shared/ids';
import { principalActor, type Principal } from '../api/access';
import type { EntityUpdateQueue } from '../api/entity-updates';
import { failureAnswer } from '../api/errors';

/** The user's decision on an approval, asked through the client; undefined when they did not decide there. */
export type AskForApproval = (approval: PendingApproval, options: { signal: AbortSignal; timeoutMs: number }) => Promise<'approved' | 'denied' | undefined>;

export interface ToolCallDeps {
  tasks: TaskEntityClient;
  projects: ProjectEntityClient;
  chats: ChatEntityClient;
  entityUpdates: EntityUpdateQueue;
}

/** A tool's result as MCP carries it: the JSON as text (for every client) and as structured content. */
function result(content: Record<string, unknown>, isError = false): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(content) }], structuredContent: content, ...(isError ? { isError: true } : {}) };
}
const failed = (error: string) => result({ error }, true);

/** How long a call asks through the client before it answers with the approval to decide elsewhere. */
export const ELICITATION_MAX_MS = 10 * 60_000;
/** How often a call that asks checks whether the approval was decided elsewhere meanwhile. */
const STILL_WAITS_EVERY_MS = 3_000;

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

export class McpToolCalls {
  private readonly reads: ReturnType<typeof toolRunner>;

  constructor(private readonly deps: ToolCallDeps) {
    this.reads = toolRunner(deps.tasks, deps.projects);
  }

  /** `keyed`: the call's idempotency key and fingerprint (mcp/server.ts derives them). */
  async call(name: string, args: Record<string, unknown>, principal: Principal, keyed: KeyedRequest, ask?: AskForApproval): Promise<CallToolResult> {
    if (!isToolName(name)) return failed(`There is no tool named ${JSON.stringify(name)}; the tools are: ${Object.keys(TOOLS).join(', ')}`);
    const checked = checkCall(name, JSON.stringify(args));
    if (!checked.ok) return failed(checked.error);
    const user = toolUser(principal);
    try {
      if (!TOOLS[name].changes) {
        const outcome = await this.reads.runTool({ tool: name, args: checked.args, user });
        return outcome.ok ? result(asObject(outcome.content)) : failed(outcome.error);
      }
      const userId = principal.subject;
      const reply = await this.deps.entityUpdates.run(chatEntityWorkflowId(userId), () =>
        this.deps.chats.runTool(userId, name, args, principalActor(principal), keyed),
      );
      const report = reply.calls?.[0];
      if (report?.outcome === 'awaiting_approval' && report.approval && ask) return await this.decide(userId, user, keyed, report, ask);
      return answer(user, report, reply);
    } catch (err) {
      const known = failureAnswer(err);
      if (known === undefined) throw err;
      return failed(known.retryAfter ? `${known.detail} (try again in ${known.retryAfter} s)` : known.detail);
    }
  }

  /**
   * Asks the user through the client while the approval waits (at most ELICITATION_MAX_MS); their decision goes
   * to the chat like one made there. The decision is keyed after the call, so a call sent again joins the first
   * one's decision and its answer rather than asking twice; one decided elsewhere meanwhile ends the asking.
   */
  private async decide(userId: string, user: ToolUser, keyed: KeyedRequest, report: CallReport, ask: AskForApproval): Promise<CallToolResult> {
    const approval = report.approval!;
    const decisionKey: KeyedRequest = {
      key: `mcp-decision:${sha256(keyed.key)}`,
      fingerprint: sha256(`${keyed.caller ?? ''}\nmcp decision\n${approval.approval_id}`),
      ...(keyed.caller ? { caller: keyed.caller } : {}),
    };
    let decision: 'approved' | 'denied' | undefined;
    if (await this.stillWaits(userId, approval.approval_id)) {
      decision = await this.askWhileWaiting(userId, approval, ask);
      if (decision === undefined && (await this.stillWaits(userId, approval.approval_id))) return answer(user, report);
    }
    // Decided now, or before: by this call's first sending (its answer is kept under the key) or elsewhere.
    try {
      const reply = await this.deps.entityUpdates.run(chatEntityWorkflowId(userId), () =>
        this.deps.chats.decideWithReports(userId, approval.approval_id, decision === 'approved', decisionKey),
      );
      return answer(user, reply.calls?.[0], reply);
    } catch (err) {
      const known = failureAnswer(err);
      if (known === undefined) throw err;
      if (known.status !== 404) return failed(known.detail);
      return result({
        status: 'decided_elsewhere',
        approval_id: approval.approval_id,
        message: `${approval.approval_id} was decided in the chat or on the web page, or expired; the chat says what came of it.`,
      });
    }
  }

  private async askWhileWaiting(userId: string, approval: PendingApproval, ask: AskForApproval): Promise<'approved' | 'denied' | undefined> {
    const decidedElsewhere = new AbortController();
    const check = setInterval(() => {
      this.stillWaits(userId, approval.approval_id).then(
        (waits) => waits || decidedElsewhere.abort(),
        () => undefined,
      );
    }, STILL_WAITS_EVERY_MS);
    try {
      const remaining = Date.parse(approval.expires_at) - Date.now();
      return await ask(approval, { signal: decidedElsewhere.signal, timeoutMs: Math.max(1_000, Math.min(remaining, ELICITATION_MAX_MS)) });
    } catch {
      return undefined;
    } finally {
      clearInterval(check);
    }
  }

  private async stillWaits(userId: string, approvalId: string): Promise<boolean> {
    return (await this.deps.chats.approvals(userId)).some((a) => a.approval_id === approvalId);
  }
}

/** The call's outcome; a change waiting for approval is not an error: it is done once the user decides. */
function answer(user: ToolUser, report: CallReport | undefined, reply?: ChatReply): CallToolResult {
  if (report === undefined) return failed(reply?.content ?? 'No answer');
  if (report.outcome === 'awaiting_approval' && report.approval) {
    const { approval_id, summary, expires_at } = report.approval;
    // Where the user decides: not through a tool, whose caller may be a model acting for them.
    const decide_with = [`the chat: /approve ${approval_id} or /deny ${approval_id}`, 'the web page: the approval shown in the chat'];
    return result({ status: 'awaiting_approval', approval_id, change: summary, expires_at, decide_with });
  }
  // The task as the change left it, someone else's text labelled (the result line would quote it bare).
  const outcome = report.task ? { status: report.outcome, task: { ...report.task, ...taskForReader(report.task, user) } } : { status: report.outcome, result: report.result };
  return result(outcome, report.outcome !== 'done');
}
const asObject = (content: unknown): Record<string, unknown> =>
  typeof content === 'object' && content !== null && !Array.isArray(content) ? (content as Record<string, unknown>) : { result: content };

function toolUser(principal: Principal): ToolUser {
  return {
    user_id: principal.subject,
    email: principal.email ?? null,
    subject: principal.subject,
    admin: principal.admin,
    ...(principal.kind === 'user' ? { verified: true } : {}),
  };
}
