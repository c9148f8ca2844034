/**
 * A pool of fuzz workers for one engine. Each job goes to an idle worker; the pool classifies
 * what the worker cannot report itself:
 * - no answer within the time limit: hang (the worker is killed and replaced);
 * - the worker died: out of memory when its stderr says so (V8's heap limit, an allocation
 *   failure) or it was killed by the kernel's OOM killer (SIGKILL not sent by the pool);
 *   otherwise a crash named by its exit code or signal.
 * Workers are replaced after `recycleAfter` jobs so that one mutant's leak cannot make a
 * later mutant run out of memory.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EngineName, EngineResult } from './engines.js';
import type { WorkerJob, WorkerMessage } from './worker.js';

export interface PoolOptions {
  readonly size: number;
  readonly timeoutMs: number;
  /** The V8 heap limit of each worker (--max-old-space-size), in MiB. */
  readonly heapMb: number;
  readonly recycleAfter: number;
}

export interface JobResult {
  readonly result: EngineResult;
  readonly feedsSkipped?: string;
}

interface Slot {
  child: ChildProcess;
  ready: Promise<void>;
  jobs: number;
  stderr: string;
  busy?: { job: WorkerJob; done: (r: JobResult) => void; timer: NodeJS.Timeout; start: number; killedForHang: boolean };
}

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));
const OOM_TEXT = /heap out of memory|Allocation failed|out of memory|Cannot allocate memory|could not allocate/i;

export class WorkerPool {
  private readonly idle: Slot[] = [];
  private readonly waiting: { job: WorkerJob; done: (r: JobResult) => void }[] = [];
  private readonly slots = new Set<Slot>();
  private closed = false;

  constructor(private readonly engine: EngineName, private readonly opts: PoolOptions) {
    for (let i = 0; i < opts.size; i++) this.spawn();
  }

  run(job: WorkerJob): Promise<JobResult> {
    return new Promise((done) => {
      this.waiting.push({ job, done });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.slots].map((s) => new Promise<void>((res) => {
      if (s.child.exitCode !== null || s.child.signalCode !== null) return res();
      s.child.once('exit', () => res());
      s.child.kill('SIGKILL');
    })));
  }

  private spawn(): void {
    const child = fork(WORKER, [this.engine], {
      execArgv: [`--max-old-space-size=${this.opts.heapMb}`],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const slot: Slot = { child, jobs: 0, stderr: '', ready: Promise.resolve() };
    slot.ready = new Promise((res) => {
      child.once('message', () => res());
    });
    this.slots.add(slot);
    child.stderr!.on('data', (d: Buffer) => {
      slot.stderr = (slot.stderr + d.toString()).slice(-8000);
    });
    child.on('message', (m: WorkerMessage) => {
      if ('ready' in m) {
        this.idle.push(slot);
        this.dispatch();
        return;
      }
      const b = slot.busy;
      if (!b || b.job.id !== m.id) return;
      clearTimeout(b.timer);
      slot.busy = undefined;
      b.done({ result: m.result, ...(m.feedsSkipped !== undefined ? { feedsSkipped: m.feedsSkipped } : {}) });
      if (++slot.jobs >= this.opts.recycleAfter || m.result.outcome === 'crash' || m.result.outcome === 'oom') this.retire(slot);
      else {
        this.idle.push(slot);
        this.dispatch();
      }
    });
    child.on('exit', (code, signal) => {
      this.slots.delete(slot);
      const i = this.idle.indexOf(slot);
      if (i >= 0) this.idle.splice(i, 1);
      const b = slot.busy;
      if (b) {
        clearTimeout(b.timer);
        slot.busy = undefined;
        const ms = performance.now() - b.start;
        const tail = slot.stderr.trim().split('\n').slice(-6).join('\n');
        let result: EngineResult;
        if (b.killedForHang) result = { outcome: 'hang', errorName: 'timeout', message: `no answer in ${this.opts.timeoutMs} ms`, ms };
        else if (OOM_TEXT.test(slot.stderr) || signal === 'SIGKILL') {
          const line = slot.stderr.split('\n').find((l) => OOM_TEXT.test(l))?.trim();
          result = { outcome: 'oom', errorName: `exit ${code ?? signal}`, message: line ?? (signal === 'SIGKILL' ? 'killed (by the kernel\'s out-of-memory killer?)' : tail), ms };
        }
        else result = { outcome: 'crash', errorName: `process ${signal ? `killed by ${signal}` : `exited with ${code}`}`, message: tail, ms };
        b.done({ result });
      }
      if (!this.closed) this.spawn();
    });
  }

  private retire(slot: Slot): void {
    slot.child.kill('SIGKILL');
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.waiting.length > 0) {
      const slot = this.idle.shift()!;
      const { job, done } = this.waiting.shift()!;
      const start = performance.now();
      const timer = setTimeout(() => {
        if (slot.busy) slot.busy.killedForHang = true;
        slot.child.kill('SIGKILL');
      }, this.opts.timeoutMs);
      slot.busy = { job, done, timer, start, killedForHang: false };
      slot.stderr = '';
      slot.child.send(job);
    }
  }
}
