/**
 * VerifyGpu: checks a scheduled kernel against what a GPU can run (TVM's VerifyGPUCode):
 * - each thread axis it binds has one extent throughout (the workgroup's size and the
 *   grid are one per dispatch), within the device's limits (invocations per workgroup,
 *   size per axis, workgroups per dimension); a kernel that binds none runs as one
 *   invocation;
 * - every store to global or shared memory runs under a loop of each bound axis (a store
 *   outside them would run on every invocation of the workgroup, or in every workgroup);
 * - shared buffers are allocated at workgroup level (outside threadIdx loops) and fit the
 *   device's workgroup storage; no scratch buffer is global (invocations order global
 *   memory only within themselves, so an intermediate there would race);
 * - barriers sit at workgroup level, where every invocation reaches them;
 * - only scopes the target has.
 * Failures are VerifyGpuError (a TesseraError) naming the kernel and what to change.
 */
import type { Buffer } from '../../ir/expr.js';
import { dtypeBytes } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/error.js';
import type { GpuLimits, Target } from '../../target/target.js';
import { type For, type PrimFunc, type Stmt, type ThreadAxis, THREAD_AXES } from '../stmt.js';

export class VerifyGpuError extends TesseraError {
  constructor(kernel: string, reason: string) {
    super(`kernel ${kernel} cannot run on the GPU: ${reason}`);
    this.name = 'VerifyGpuError';
  }
}

/** The dispatch a verified kernel needs: extents per bound axis. */
export interface GpuLaunch {
  readonly grid: readonly [number, number, number];
  readonly workgroup: readonly [number, number, number];
  readonly sharedBytes: number;
}

const AXIS_INDEX = (a: ThreadAxis): number => 'xyz'.indexOf(a[a.length - 1]!);

export function verifyGpu(f: PrimFunc, target: Target): GpuLaunch {
  const limits: GpuLimits | undefined = target.gpu;
  const fail = (reason: string): never => { throw new VerifyGpuError(f.name, reason); };
  if (!limits) fail(`target '${target.kind}' is not a GPU target`);
  const lim = limits!;
  const extents = new Map<ThreadAxis, { extent: number; loop: string }>();
  let sharedBytes = 0;
  const walk = (s: Stmt, bound: readonly For[]): void => {
    const inThread = bound.some((l) => l.thread!.startsWith('threadIdx'));
    switch (s.kind) {
      case 'for': {
        if (s.forKind !== 'thread') return walk(s.body, bound);
        const axis = s.thread!;
        const seen = extents.get(axis);
        if (seen && seen.extent !== s.extent) fail(`loops ${seen.loop} and ${s.loopVar.name} are both bound to ${axis} with extents ${seen.extent} and ${s.extent}; one axis has one extent per kernel (split them alike)`);
        extents.set(axis, { extent: s.extent, loop: s.loopVar.name });
        return walk(s.body, [...bound, s]);
      }
      case 'seq': return s.stmts.forEach((x) => walk(x, bound));
      case 'if': walk(s.then, bound); if (s.else) walk(s.else, bound); return;
      case 'block': if (s.init) walk(s.init, bound); return walk(s.body, bound);
      case 'allocate': {
        const b = s.buffer;
        if (!target.memoryScopes.has(b.scope)) fail(`buffer ${b.name} is in scope '${b.scope}', which target '${target.kind}' does not have`);
        // Global memory is ordered only within an invocation: an intermediate there, written by
        // one thread loop and read by another, would race between invocations.
        if (b.scope === 'global') fail(`scratch buffer ${b.name} is in global memory; a kernel's intermediates on a GPU live in shared or local memory (set_scope)`);
        if (b.scope === 'shared') {
          if (inThread) fail(`shared buffer ${b.name} is allocated inside a threadIdx loop; a workgroup's memory is allocated at workgroup level`);
          sharedBytes += bytesOf(b);
        }
        return walk(s.body, bound);
      }
      case 'let': return walk(s.body, bound);
      case 'barrier':
        if (inThread) fail('a barrier inside a threadIdx loop would not be reached by every invocation; barriers go between thread loops');
        return;
      case 'store':
        if (s.buffer.scope !== 'local') pendingStores.push({ buffer: s.buffer, axes: new Set(bound.map((l) => l.thread!)) });
        return;
    }
  };
  const pendingStores: { buffer: Buffer; axes: Set<ThreadAxis> }[] = [];
  walk(f.body, []);
  for (const st of pendingStores) {
    const missing = [...extents.keys()].filter((a) => !st.axes.has(a));
    if (missing.length > 0) fail(`a store to ${st.buffer.name} is outside the loops bound to ${missing.join(', ')}; it would run once per ${missing.some((a) => a.startsWith('threadIdx')) ? 'invocation of the workgroup' : 'workgroup'}`);
  }
  const size = (a: ThreadAxis): number => extents.get(a)?.extent ?? 1;
  const workgroup = [size('threadIdx.x'), size('threadIdx.y'), size('threadIdx.z')] as const;
  const grid = [size('blockIdx.x'), size('blockIdx.y'), size('blockIdx.z')] as const;
  const threads = workgroup[0] * workgroup[1] * workgroup[2];
  if (threads > lim.maxThreadsPerWorkgroup) fail(`its workgroup has ${threads} invocations (${workgroup.join(' x ')}); the device allows ${lim.maxThreadsPerWorkgroup}`);
  for (const a of THREAD_AXES) {
    const e = size(a);
    const max = a.startsWith('threadIdx') ? lim.maxWorkgroupSize[AXIS_INDEX(a)]! : lim.maxWorkgroupsPerDimension;
    if (e > max) fail(`${a} has extent ${e}; the device allows ${max}`);
  }
  if (sharedBytes > lim.maxWorkgroupStorageBytes) fail(`its shared buffers take ${sharedBytes} bytes; the device's workgroup storage is ${lim.maxWorkgroupStorageBytes} bytes`);
  return { grid, workgroup, sharedBytes };
}

function bytesOf(b: Buffer): number {
  return b.shape.reduce((a, d) => a * d, 1) * dtypeBytes(b.dtype);
}
