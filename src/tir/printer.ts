/** A readable, Python-like rendering of loop IR (TVMScript in spirit). */
import { exprToString as e } from '../ir/expr.js';
import type { PrimFunc, Stmt } from './stmt.js';

export function printStmt(s: Stmt, indent = ''): string {
  const ind = indent + '  ';
  switch (s.kind) {
    case 'for': {
      const tag = s.forKind === 'serial' ? 'range' : s.forKind === 'thread' ? `thread_binding['${s.thread}']` : s.forKind;
      return `${indent}for ${s.loopVar.name} in ${tag}(${s.extent}):\n${printStmt(s.body, ind)}`;
    }
    case 'seq': return s.stmts.map((x) => printStmt(x, indent)).join('');
    case 'barrier': return `${indent}workgroup_barrier()\n`;
    case 'let': return `${indent}let ${s.var.name} = ${e(s.value)}\n${printStmt(s.body, indent)}`;
    case 'store': return `${indent}${s.buffer.name}[${s.indices.map(e).join(', ')}] = ${e(s.value)}\n`;
    case 'if': {
      const els = s.else ? `${indent}else:\n${printStmt(s.else, ind)}` : '';
      return `${indent}if ${e(s.cond)}:\n${printStmt(s.then, ind)}${els}`;
    }
    case 'allocate': {
      const b = s.buffer;
      return `${indent}${b.name} = alloc_${b.scope}(${b.dtype}, [${b.shape.join(', ')}])\n${printStmt(s.body, indent)}`;
    }
    case 'block': {
      const iters = s.iterVars.map((v, i) => `${v.var.name}: ${v.type === 'spatial' ? 'S' : 'R'}(${v.extent}) = ${e(s.bindings[i]!)}`).join(', ');
      const rw = `reads [${s.reads.map((b) => b.name).join(', ')}] writes [${s.writes.map((b) => b.name).join(', ')}]`;
      const init = s.init ? `${ind}with init():\n${printStmt(s.init, ind + '  ')}` : '';
      return `${indent}block ${s.name}(${iters})  # ${rw}\n${init}${printStmt(s.body, ind)}`;
    }
  }
}

export function printPrimFunc(f: PrimFunc): string {
  const params = f.params.map((b) => `${b.name}: ${b.dtype}[${b.shape.join(', ')}]`).join(', ');
  return `def ${f.name}(${params}):\n${printStmt(f.body, '  ')}`;
}
