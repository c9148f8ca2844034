/**
 * Headless Chromium for runtime tests and browser benchmarks: serves a page, the
 * runtime's ES modules (dist/src/runtime/), onnxruntime-web's files
 * (/ort/, from node_modules) and the caller's files from 127.0.0.1 (a secure context,
 * cross-origin isolated), starts Chromium on it and resolves with what the page POSTs to
 * /result. `browser` is undefined where no Chromium is installed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';

/** Debian chromium's SwiftShader Vulkan driver: the GPU Dawn (Node's webgpu) can use on a machine without one. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Points Vulkan at SwiftShader when the environment names no driver and chromium ships it
 * (tests, the fuzzer); must run before Dawn starts in this process.
 */
export function selectSwiftShaderVulkan(): void {
  if (!process.env['VK_ICD_FILENAMES'] && existsSync(SWIFTSHADER_ICD)) process.env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD;
  process.env['XDG_RUNTIME_DIR'] ??= '/tmp';
}

/** The checkout (this file runs from dist/src/bench/). */
export const ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const browser = ['chromium', 'chromium-browser', 'google-chrome'].find((b) => spawnSync('which', [b]).status === 0);

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html', '.json': 'application/json', '.wasm': 'application/wasm' };

/** Served directories: URL prefix → directory of the checkout. */
const STATIC: readonly (readonly [string, string])[] = [
  ['/dist/src/runtime/', join(ROOT, 'dist', 'src', 'runtime')],
  ['/ort/', join(ROOT, 'node_modules', 'onnxruntime-web', 'dist')],
];

export interface PageFile { readonly body: Uint8Array | string; readonly type: string }

/** Loads `files['/']` in headless Chromium (extra `flags`) and returns the JSON the page posts to /result. */
export async function runInChromium<R>(files: Readonly<Record<string, PageFile>>, flags: readonly string[], timeoutMs = 90_000): Promise<R> {
  let settle: (r: R) => void = () => {};
  const result = new Promise<R>((res) => { settle = res; });
  const server = createServer((req, res) => {
    // Cross-origin isolation: SharedArrayBuffer (a shared wasm memory) needs both headers.
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'POST' && path === '/result') {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => { res.end('ok'); settle(JSON.parse(body) as R); });
      return;
    }
    const file = files[path];
    if (file) {
      res.setHeader('Content-Type', file.type);
      res.end(file.body);
      return;
    }
    for (const [prefix, dir] of STATIC) {
      const local = normalize(join(dir, path.slice(prefix.length)));
      if (!path.startsWith(prefix) || !local.startsWith(dir)) continue;
      try {
        res.setHeader('Content-Type', TYPES[extname(local)] ?? 'application/octet-stream');
        res.end(readFileSync(local));
        return;
      } catch { /* fall through to 404 */ }
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as AddressInfo).port;
  const profile = mkdtempSync(join(tmpdir(), 'tessera-chromium-'));
  const chrome = spawn(browser!, ['--headless=new', '--no-sandbox', '--no-first-run', `--user-data-dir=${profile}`, ...flags, `http://127.0.0.1:${port}/`], { stdio: 'ignore', detached: true });
  const exited = new Promise<void>((res) => chrome.once('exit', () => res()));
  // The whole process group (Chromium's renderer and GPU processes too), also if this process exits first.
  const kill = (): void => {
    try { process.kill(-chrome.pid!, 'SIGKILL'); } catch { chrome.kill('SIGKILL'); }
  };
  process.once('exit', kill);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([result, new Promise<R>((_, rej) => { timer = setTimeout(() => rej(new Error(`no result from the page within ${timeoutMs / 1000} s`)), timeoutMs); })]);
  } finally {
    clearTimeout(timer);
    kill();
    process.off('exit', kill);
    await exited;
    server.close();
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}
