/**
 * InsertBarriers: makes the invocations of a workgroup agree on shared memory. Statements
 * at workgroup level (outside threadIdx loops) run in order on every invocation, each
 * threadIdx loop one iteration per invocation; between two of them that touch the same
 * shared buffer (one writing it, the other reading or writing it) a workgroup barrier is
 * inserted, and a serial loop whose body both writes and reads a shared buffer ends each
 * iteration with one (so the next iteration's writes wait for this one's reads). Buffers
 * in other scopes need none: global buffers are written by disjoint invocations, local
 * ones belong to one invocation.
 */
import { type Buffer, visitExpr } from '../../ir/expr.js';
import { type PrimFunc, type Stmt, barrier, mapStmt, seq, stmtExprs, visitStmt } from '../stmt.js';

interface Access {
  readonly reads: Set<Buffer>;
  readonly writes: Set<Buffer>;
}

function sharedAccess(s: Stmt): Access {
  const reads = new Set<Buffer>();
  const writes = new Set<Buffer>();
  visitStmt(s, (x) => {
    if (x.kind === 'store' && x.buffer.scope === 'shared') writes.add(x.buffer);
    if (x.kind === 'block') for (const b of x.writes) if (b.scope === 'shared') writes.add(b);
    for (const e of stmtExprs(x)) visitExpr(e, (y) => { if (y.kind === 'load' && y.buffer.scope === 'shared') reads.add(y.buffer); });
  });
  return { reads, writes };
}

const meets = (a: ReadonlySet<Buffer>, b: ReadonlySet<Buffer>): boolean => [...a].some((x) => b.has(x));

const isThreadLoop = (s: Stmt): boolean => s.kind === 'for' && s.forKind === 'thread' && s.thread!.startsWith('threadIdx');

const hazard = (a: Access, pending: Access): boolean =>
  meets(a.reads, pending.writes) || meets(a.writes, pending.reads) || meets(a.writes, pending.writes);

/**
 * The statement with barriers where the hazards need them; `pending` holds what ran since
 * the last barrier (updated). A barrier goes right before the first thread loop (or
 * workgroup-level statement) that conflicts, as deep in the nest as that statement is.
 */
function sync(s: Stmt, pending: Access): Stmt {
  const leaf = isThreadLoop(s) || s.kind === 'store' || s.kind === 'block' || s.kind === 'if';
  if (leaf) {
    const a = sharedAccess(s);
    let out = s;
    if (hazard(a, pending)) {
      out = seq([barrier, s]);
      pending.reads.clear();
      pending.writes.clear();
    }
    a.reads.forEach((b) => pending.reads.add(b));
    a.writes.forEach((b) => pending.writes.add(b));
    return out;
  }
  switch (s.kind) {
    case 'seq': return seq(s.stmts.map((x) => sync(x, pending)));
    case 'allocate': case 'let': {
      const body = sync(s.body, pending);
      return body === s.body ? s : { ...s, body };
    }
    case 'for': {
      let body = sync(s.body, pending);
      // A serial loop at workgroup level runs its iterations on every invocation: the next
      // iteration's writes of a shared buffer must wait for this one's accesses. (A blockIdx
      // loop is one iteration per workgroup: nothing carries.)
      if (sharedAccess(s.body).writes.size > 0 && s.extent > 1 && s.forKind !== 'thread') {
        body = seq([body, barrier]);
        pending.reads.clear();
        pending.writes.clear();
      }
      return body === s.body ? s : { ...s, body };
    }
    case 'barrier':
      pending.reads.clear();
      pending.writes.clear();
      return s;
    default:
      return s;
  }
}

export function insertBarriers(f: PrimFunc): PrimFunc {
  let shared = false;
  visitStmt(f.body, (s) => { if (s.kind === 'allocate' && s.buffer.scope === 'shared') shared = true; });
  if (!shared) return f;
  const body = sync(f.body, { reads: new Set(), writes: new Set() });
  // mapStmt keeps the result's structure canonical (nested seqs flattened).
  return { ...f, body: mapStmt(body, () => undefined) };
}
