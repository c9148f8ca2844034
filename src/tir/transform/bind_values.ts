/**
 * BindValues: names subexpressions with `let` so they are computed once: loop-invariant
 * code motion and common-subexpression elimination, one mechanism for every codegen. What
 * to bind is the target's choice (Target.valueBinding):
 * - 'hoist-expensive' (CPU codegens): a float subexpression with a division or a math call
 *   that does not change in an innermost loop is bound just before that loop (not out of
 *   a parallel loop, whose body is a thread's region); selects' branches are left alone, as
 *   they run conditionally;
 * - 'bind-all' (shader compilers): every subexpression is bound once, in the innermost
 *   scope that defines its variables (out of the loops it does not depend on, shared by
 *   every statement there); one that reads memory just before its statement, since a store
 *   may follow. Shaders then carry no repeated expression (SwiftShader's compiler took
 *   minutes over repeated index arithmetic).
 * Runs on codegen-ready (flattened) functions; loads never move across a store or a barrier.
 */
import { type Expr, type Var, mapExpr, someNode, variable } from '../../ir/expr.js';
import { type PrimFunc, type Stmt, mapStmt, seq, visitStmt } from '../stmt.js';

export type ValueBinding = 'hoist-expensive' | 'bind-all';

export function bindValues(f: PrimFunc, policy: ValueBinding): PrimFunc {
  const names = { next: 0 };
  const body = policy === 'bind-all' ? bindAll(f.body, names) : hoistExpensive(f.body, names);
  return body === f.body ? f : { ...f, body };
}

const fresh = (names: { next: number }, dtype: Expr['dtype']): Var => variable(`t${names.next++}`, dtype);

const wrap = (lets: readonly { v: Var; value: Expr }[], body: Stmt): Stmt =>
  lets.reduceRight<Stmt>((b, l) => ({ kind: 'let', var: l.v, value: l.value, body: b }), body);

// ---------------------------------------------------------------- hoist-expensive

function hoistExpensive(root: Stmt, names: { next: number }): Stmt {
  return mapStmt(root, (s) => {
    if (s.kind !== 'for' || s.forKind === 'parallel' || s.forKind === 'thread') return undefined;
    let innermost = true;
    const written = new Set<number>();
    const inner = new Set<number>([s.loopVar.id]);
    visitStmt(s.body, (x) => {
      if (x.kind === 'for') {
        if (x.forKind !== 'vectorized') innermost = false;
        inner.add(x.loopVar.id);
      }
      if (x.kind === 'let') inner.add(x.var.id);
      if (x.kind === 'store') written.add(x.buffer.id);
    });
    if (!innermost) return undefined;
    const variantMemo = new Map<Expr, boolean>();
    const invariant = (e: Expr): boolean => !someNode(e, (x) => (x.kind === 'var' && inner.has(x.id))
      // Local buffers live in registers that the loop may rewrite; written buffers change.
      || (x.kind === 'load' && (written.has(x.buffer.id) || x.buffer.scope === 'local')), variantMemo);
    const expensiveMemo = new Map<Expr, boolean>();
    const expensive = (e: Expr): boolean => someNode(e, (x) => (x.kind === 'binary' && x.op === 'div') || x.kind === 'call', expensiveMemo);
    const found: Expr[] = [];
    const visit = (e: Expr): void => {
      if ((e.dtype === 'float32' || e.dtype === 'float64') && e.kind !== 'load' && invariant(e) && expensive(e)) {
        if (!found.includes(e)) found.push(e);
        return;
      }
      switch (e.kind) {
        case 'binary': visit(e.a); visit(e.b); return;
        case 'call': e.args.forEach(visit); return;
        case 'cast': visit(e.value); return;
        case 'select': visit(e.cond); return;
        default: return;
      }
    };
    // Stores straight in the loop (not under an if: those run conditionally).
    const stores = (x: Stmt): void => {
      if (x.kind === 'store') visit(x.value);
      else if (x.kind === 'seq') x.stmts.forEach(stores);
      else if (x.kind === 'for' || x.kind === 'allocate' || x.kind === 'let') stores(x.body);
    };
    stores(s.body);
    if (found.length === 0) return undefined;
    const lets = found.map((value) => ({ v: fresh(names, value.dtype), value }));
    const bound = new Map(lets.map((l) => [l.value, l.v]));
    const loopBody = mapStmt(s.body, () => undefined, (e) => mapExpr(e, (x) => bound.get(x)));
    return wrap(lets, { ...s, body: loopBody });
  });
}

// ---------------------------------------------------------------- bind-all

interface Scope {
  readonly parent: Scope | undefined;
  readonly vars: ReadonlySet<number>;
  readonly lets: { v: Var; value: Expr }[];
  readonly cache: Map<string, Var>;
}

const newScope = (parent: Scope | undefined, vars: readonly number[]): Scope => ({ parent, vars: new Set(vars), lets: [], cache: new Map() });

function bindAll(root: Stmt, names: { next: number }): Stmt {
  const info = new Map<Expr, { key: string; vars: Set<number>; loads: boolean }>();
  /** A structural key (variables by id), the variables used and whether memory is read. */
  const describe = (e: Expr): { key: string; vars: Set<number>; loads: boolean } => {
    let d = info.get(e);
    if (d) return d;
    const kids: Expr[] = [];
    let head: string;
    switch (e.kind) {
      case 'int': case 'float': head = `${e.kind}:${e.dtype}:${Object.is(e.value, -0) ? '-0' : e.value}`; break;
      case 'var': head = `v${e.id}`; break;
      case 'binary': case 'compare': head = `${e.kind}:${e.op}:${e.dtype}`; kids.push(e.a, e.b); break;
      case 'and': case 'or': head = e.kind; kids.push(e.a, e.b); break;
      case 'not': head = 'not'; kids.push(e.a); break;
      case 'select': head = `select:${e.dtype}`; kids.push(e.cond, e.t, e.f); break;
      case 'cast': head = `cast:${e.dtype}`; kids.push(e.value); break;
      case 'call': head = `call:${e.fn}:${e.dtype}`; kids.push(...e.args); break;
      case 'load': head = `load:${e.buffer.id}`; kids.push(...e.indices); break;
      default: head = `${e.kind}?`; break;
    }
    const parts = kids.map(describe);
    const vars = new Set<number>(e.kind === 'var' ? [e.id] : []);
    for (const p of parts) p.vars.forEach((v) => vars.add(v));
    d = { key: `${head}(${parts.map((p) => p.key).join(',')})`, vars, loads: e.kind === 'load' || parts.some((p) => p.loads) };
    info.set(e, d);
    return d;
  };
  const scopeFor = (from: Scope, vars: ReadonlySet<number>): Scope => {
    for (let s: Scope | undefined = from; s; s = s.parent) if ([...s.vars].some((v) => vars.has(v))) return s;
    let r = from;
    while (r.parent) r = r.parent;
    return r;
  };
  /** `e` with its subexpressions bound: load-free ones in their scope, the rest in `local` (this statement's). */
  const bindExpr = (e: Expr, scope: Scope, local: Scope, memo: Map<Expr, Expr>): Expr => {
    const seen = memo.get(e);
    if (seen) return seen;
    let out: Expr;
    if (e.kind === 'var' || e.kind === 'int' || e.kind === 'float') {
      out = e;
    } else {
      const rebuilt = mapExpr(e, (x) => (x === e ? undefined : bindExpr(x, scope, local, memo)));
      const d = describe(e);
      const target = d.loads ? local : scopeFor(scope, d.vars);
      let v = target.cache.get(d.key);
      if (!v) {
        v = fresh(names, e.dtype);
        target.lets.push({ v, value: rebuilt });
        target.cache.set(d.key, v);
      }
      out = v;
    }
    memo.set(e, out);
    return out;
  };
  const walk = (s: Stmt, scope: Scope): Stmt => {
    switch (s.kind) {
      case 'for': {
        const inner = newScope(scope, [s.loopVar.id]);
        const body = walk(s.body, inner);
        return { ...s, body: wrap(inner.lets, body) };
      }
      case 'seq': return seq(s.stmts.map((x) => walk(x, scope)));
      case 'allocate': return { ...s, body: walk(s.body, scope) };
      case 'let': {
        const inner = newScope(scope, [s.var.id]);
        const value = bindExpr(s.value, scope, scope, new Map());
        return { ...s, value, body: wrap(inner.lets, walk(s.body, inner)) };
      }
      case 'store': {
        const local = newScope(undefined, []);
        const memo = new Map<Expr, Expr>();
        const value = bindExpr(s.value, scope, local, memo);
        const indices = s.indices.map((i) => bindExpr(i, scope, local, memo));
        return wrap(local.lets, { ...s, value, indices });
      }
      case 'if': {
        const local = newScope(undefined, []);
        const cond = bindExpr(s.cond, scope, local, new Map());
        const then = walk(s.then, newScope(scope, []));
        const els = s.else && walk(s.else, newScope(scope, []));
        return wrap(local.lets, { kind: 'if', cond, then, ...(els ? { else: els } : {}) });
      }
      default:
        return s;
    }
  };
  const top = newScope(undefined, []);
  const body = walk(root, top);
  return wrap(top.lets, body);
}
