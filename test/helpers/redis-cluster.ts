/**
 * A local Redis Cluster for a test: three primaries with a replica each (`redis-server` in cluster mode and
 * `redis-cli --cluster create`), append-only files on, a short node timeout so a failover takes seconds.
 * The test can stop and resume all of it (an outage) or kill one primary and wait for its replica to take over.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { redisAnswers } from '../../common/redis';
import { freePort } from '../../scripts/dev-server';
import { eventually } from './harness';

/** How long a primary may be silent before the others fail it over. */
const NODE_TIMEOUT_MS = 2_000;

interface Node {
  port: number;
  busPort: number;
  dir: string;
  process?: ChildProcess;
}

export class LocalRedisCluster {
  private constructor(
    private readonly nodes: Node[],
    private readonly dir: string,
  ) {}

  static async start(): Promise<LocalRedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'task-agent-redis-cluster-'));
    const nodes: Node[] = [];
    for (let i = 0; i < 6; i++) {
      const node = { port: await freePort(), busPort: await freePort(), dir: join(dir, String(i)) };
      mkdirSync(node.dir);
      nodes.push(node);
    }
    const cluster = new LocalRedisCluster(nodes, dir);
    try {
      await Promise.all(nodes.map((node) => cluster.startNode(node)));
      await promisify(execFile)('redis-cli', [
        '--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes',
      ]);
      await cluster.waitHealthy();
      return cluster;
    } catch (err) {
      await cluster.close();
      throw err;
    }
  }

  /** REDIS_CLUSTER_NODES: two of the six are enough for the client to find the rest. */
  get nodesSetting(): string {
    return this.nodes.slice(0, 2).map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  private async startNode(node: Node): Promise<void> {
    node.process = spawn(
      'redis-server',
      [
        '--port', String(node.port), '--cluster-port', String(node.busPort), '--bind', '127.0.0.1', '--dir', node.dir,
        '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(NODE_TIMEOUT_MS),
        '--appendonly', 'yes', '--save', '',
      ],
      { stdio: 'ignore' },
    );
    const failed = new Promise<never>((_, reject) => node.process!.once('error', (err) => reject(new Error(`redis-server could not start: ${err.message}`))));
    await Promise.race([eventually(() => redisAnswers(`redis://127.0.0.1:${node.port}`), (ok) => ok, { timeoutMs: 10_000 }), failed]);
  }

  private async command<T>(port: number, ...args: (string | number)[]): Promise<T> {
    const redis = new Redis(port, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      return (await redis.call(String(args[0]), ...args.slice(1))) as T;
    } finally {
      redis.disconnect();
    }
  }

  private running(): Node[] {
    return this.nodes.filter((n) => n.process && n.process.exitCode === null && n.process.signalCode === null);
  }

  /** Every running node sees all 16384 slots served, and each primary that runs has a replica that runs. */
  async waitHealthy(timeoutMs = 60_000): Promise<void> {
    await eventually(
      async () => {
        const infos = await Promise.all(this.running().map((n) => this.command<string>(n.port, 'CLUSTER', 'INFO').catch(() => '')));
        return infos.every((info) => info.includes('cluster_state:ok') && info.includes('cluster_slots_ok:16384'));
      },
      (ok) => ok,
      { timeoutMs, intervalMs: 250 },
    );
  }

  /** The ports serving `key`'s slot now, as a running node sees it: the primary first, then its replicas. */
  private async servers(key: string): Promise<number[]> {
    const port = this.running()[0]!.port;
    const slot = await this.command<number>(port, 'CLUSTER', 'KEYSLOT', key);
    const slots = await this.command<[number, number, ...[string, number, string][]][]>(port, 'CLUSTER', 'SLOTS');
    const [, , ...nodes] = slots.find(([from, to]) => slot >= from && slot <= to)!;
    return nodes.map(([, nodePort]) => Number(nodePort));
  }

  /** The port of the primary serving `key` now. */
  async primaryOf(key: string): Promise<number> {
    return (await this.servers(key))[0]!;
  }

  /** The port of a replica of the primary serving `key`. */
  async replicaOf(key: string): Promise<number> {
    return (await this.servers(key))[1]!;
  }

  /** SIGSTOP / SIGCONT a node: it holds its connections and answers nothing, replication included. */
  freeze(port: number, frozen: boolean): void {
    this.nodes.find((n) => n.port === port)!.process!.kill(frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  /** SIGKILLs the primary of `key` and waits until its replica serves the slot; resolves to the new primary's port. */
  async killPrimaryOf(key: string): Promise<{ killed: number; promoted: number }> {
    const killed = await this.primaryOf(key);
    await signalled([this.nodes.find((n) => n.port === killed)!], 'SIGKILL');
    const promoted = await eventually(
      () => this.primaryOf(key).catch(() => killed),
      (port) => port !== killed,
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    return { killed, promoted };
  }

  /** Starts a killed node again: it comes back as a replica of the one that took over. */
  async restart(port: number): Promise<void> {
    await this.startNode(this.nodes.find((n) => n.port === port)!);
    await this.waitHealthy();
  }

  /** Stops every node (SIGTERM: each writes its append-only file); an outage of the whole cluster. */
  async stop(): Promise<void> {
    await signalled(this.running(), 'SIGTERM');
  }

  /** Starts every node again with its data, once the cluster is whole. */
  async resume(): Promise<void> {
    await Promise.all(this.nodes.filter((n) => !this.running().includes(n)).map((n) => this.startNode(n)));
    await this.waitHealthy();
  }

  async close(): Promise<void> {
    await signalled(this.running(), 'SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Sends `signal` to each node and resolves once all have exited. */
async function signalled(nodes: Node[], signal: NodeJS.Signals): Promise<void> {
  await Promise.all(
    nodes.map(async (n) => {
      const exited = new Promise((r) => n.process!.once('exit', r));
      n.process!.kill(signal);
      await exited;
    }),
  );
}
