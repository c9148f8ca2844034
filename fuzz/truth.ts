/**
 * Ground truth for "invalid model accepted": onnx.checker (python3-onnx, Debian's package)
 * with full_check, which adds strict shape inference (a declared type that contradicts an
 * inferred one is an error). A seed the checker itself rejects (an opset newer than the
 * installed onnx knows, say) gives mutants of unknown validity: they are counted apart.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Verdict {
  readonly valid: boolean;
  readonly message: string;
}

const CHECKER = fileURLToPath(new URL('../../fuzz/checker.py', import.meta.url));

/** A python with the onnx package, or why there is none. */
export function findPython(): { python: string } | { missing: string } {
  const candidates = [process.env['TESSERA_PYTHON'], '/usr/bin/python3', 'python3'].filter((p): p is string => !!p);
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import onnx, onnx.checker; print(onnx.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python };
  }
  return { missing: `no python with the onnx package (tried ${candidates.join(', ')}; on Debian: apt-get install python3-onnx, or set TESSERA_PYTHON)` };
}

export function onnxVersion(python: string): string {
  return spawnSync(python, ['-c', 'import onnx; print(onnx.__version__)'], { encoding: 'utf8' }).stdout.trim();
}

/** The checker's verdict on each file (in chunks; a file the checker dies or stalls on is invalid). */
export function checkFiles(python: string, files: readonly string[]): Map<string, Verdict> {
  const out = new Map<string, Verdict>();
  const check = (chunk: readonly string[], timeout: number): void => {
    const r = spawnSync(python, [CHECKER], { input: chunk.join('\n'), encoding: 'utf8', maxBuffer: 1 << 28, timeout });
    for (const line of (r.stdout ?? '').split('\n')) {
      if (!line.trim()) continue;
      const v = JSON.parse(line) as { file: string; valid: boolean; message: string };
      out.set(v.file, { valid: v.valid, message: v.message });
    }
  };
  for (let i = 0; i < files.length; i += 200) {
    const chunk = files.slice(i, i + 200);
    check(chunk, 300_000);
    for (const f of chunk) {
      if (out.has(f)) continue;
      check([f], 30_000);
      if (!out.has(f)) out.set(f, { valid: false, message: 'the onnx checker itself crashed or stalled on this model' });
    }
  }
  return out;
}
