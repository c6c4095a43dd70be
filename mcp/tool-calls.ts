/**
 * An MCP `tools/call`, with the caller's rights from their verified token:
 *   - a reading tool runs here, as the agent's tool activity runs it (activities/agent-tools.ts toolRunner):
 *     the same result, with text someone else wrote labelled as such;
 *   - a changing tool goes to the caller's chat entity as if they had typed the command (`runTool`): the same
 *     rights, the same approvals (durable, decidable in the chat, the web page and the HTTP API), recorded in
 *     the conversation and undone by /undo. It carries an idempotency key (the client's, or its session and
 *     request id), so a call sent twice applies once and both get the first answer.
 * A change waiting for approval is asked of the user through MCP elicitation when the client supports it
 * (the exact change, until the approval expires); otherwise the answer names the approval and where to decide it.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { toolRunner, type ToolUser } from '../activities/agent-tools';
import type { ChatEntityClient } from '../clients/chat-entity';
import type { TaskEntityClient } from '../clients/task-entity';
import { checkCall, isToolName, TOOLS } from '../entities/chat/agent/tools';
import type { CallReport, PendingApproval } from '../entities/chat/agent/turn';
import type { ChatReply } from '../entities/chat/messages';
import type { KeyedRequest } from '../entities/idempotency';
import { chatEntityWorkflowId } from '../workflows/shared/ids';
import { principalActor, type Principal } from '../api/access';
import type { EntityUpdateQueue } from '../api/entity-updates';
import { failureAnswer } from '../api/errors';

/** The user's decision on an approval, asked through the client; undefined when they did not decide there. */
export type AskForApproval = (approval: PendingApproval) => Promise<'approved' | 'denied' | undefined>;

export interface ToolCallDeps {
  tasks: TaskEntityClient;
  chats: ChatEntityClient;
  entityUpdates: EntityUpdateQueue;
}

/** A tool's result as MCP carries it: the JSON as text (for every client) and as structured content. */
function result(content: Record<string, unknown>, isError = false): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(content) }], structuredContent: content, ...(isError ? { isError: true } : {}) };
}
const failed = (error: string) => result({ error }, true);

export class McpToolCalls {
  private readonly reads: ReturnType<typeof toolRunner>;

  constructor(private readonly deps: ToolCallDeps) {
    this.reads = toolRunner(deps.tasks);
  }

  /** `keyed`: the call's idempotency key and fingerprint (mcp/server.ts derives them). */
  async call(name: string, args: Record<string, unknown>, principal: Principal, keyed: KeyedRequest, ask?: AskForApproval): Promise<CallToolResult> {
    if (!isToolName(name)) return failed(`There is no tool named ${JSON.stringify(name)}; the tools are: ${Object.keys(TOOLS).join(', ')}`);
    const checked = checkCall(name, JSON.stringify(args));
    if (!checked.ok) return failed(checked.error);
    try {
      if (!TOOLS[name].changes) {
        const outcome = await this.reads.runTool({ tool: name, args: checked.args, user: toolUser(principal) });
        return outcome.ok ? result(asObject(outcome.content)) : failed(outcome.error);
      }
      const userId = principal.subject;
      const reply = await this.deps.entityUpdates.run(chatEntityWorkflowId(userId), () =>
        this.deps.chats.runTool(userId, name, args, principalActor(principal), keyed),
      );
      const report = reply.calls?.[0];
      if (report?.outcome === 'awaiting_approval' && report.approval && ask) return await this.decide(userId, report, reply, ask);
      return answer(userId, report, reply);
    } catch (err) {
      const known = failureAnswer(err);
      if (known === undefined) throw err;
      return failed(known.retryAfter ? `${known.detail} (try again in ${known.retryAfter} s)` : known.detail);
    }
  }

  /** Asks the user through the client; their decision goes to the chat like one made there. */
  private async decide(userId: string, report: CallReport, asked: ChatReply, ask: AskForApproval): Promise<CallToolResult> {
    const approval = report.approval!;
    const decision = await ask(approval).catch(() => undefined);
    if (decision === undefined) return answer(userId, report, asked);
    try {
      const reply = await this.deps.entityUpdates.run(chatEntityWorkflowId(userId), () =>
        this.deps.chats.decideWithReports(userId, approval.approval_id, decision === 'approved'),
      );
      return answer(userId, reply.calls?.[0], reply);
    } catch (err) {
      const known = failureAnswer(err);
      if (known === undefined) throw err;
      // Decided meanwhile elsewhere (the web page, the chat), or expired: the chat's reply said what came of it.
      return failed(`Your decision was not taken: ${known.detail}. See the chat for what came of ${approval.approval_id}.`);
    }
  }
}

/** The call's outcome; a change waiting for approval is not an error: it is done once someone decides. */
function answer(userId: string, report: CallReport | undefined, reply: ChatReply): CallToolResult {
  if (report === undefined) return failed(reply.content);
  if (report.outcome === 'awaiting_approval' && report.approval) {
    const { approval_id, summary, expires_at } = report.approval;
    // Where the user decides: not through MCP, whose caller may be a model acting for them.
    const decide_with = [
      `the chat: /approve ${approval_id} or /deny ${approval_id}`,
      `the web page: the approval in the chat`,
      `HTTP: POST /chat/${userId}/approvals/${approval_id} with {"approved": true} or false`,
    ];
    return result({ status: 'awaiting_approval', approval_id, change: summary, expires_at, decide_with, message: reply.content });
  }
  const base = { status: report.outcome, result: report.result, ...(report.task ? { task: report.task } : {}) };
  return result(base, report.outcome !== 'done');
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
