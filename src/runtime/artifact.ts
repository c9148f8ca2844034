/**
 * The artifact format: one self-contained file holding an Executable, loadable by
 * the runtime alone (Node or a browser).
 *
 *   bytes 0..3   magic "TSRA"
 *   bytes 4..7   u32 LE: length H of the JSON header
 *   H bytes      UTF-8 JSON: the executable without its binary parts, plus the
 *                [offset, length] of each binary section
 *   ...          binary sections (the constants, then each Uint8Array field of the kernel
 *                module, e.g. a wasm module's bytes), each 16-byte aligned
 */
import { TesseraError } from './error.js';
import type { Executable, KernelModule } from './executable.js';

const MAGIC = [0x54, 0x53, 0x52, 0x41]; // "TSRA"

/**
 * The header layout's version: 2 stores every binary field of the kernel module as a
 * section (`moduleBinary`); version 1 (no field) stored only a wasm module's bytes.
 */
const HEADER_VERSION = 2;

interface Header {
  readonly headerVersion?: number;
  readonly executable: Omit<Executable, 'constants' | 'module'>;
  /** The kernel module's fields, binary ones replaced by their section spans. */
  readonly module: KernelModule & Record<string, unknown>;
  /** The kernel module's binary fields: name → section span. */
  readonly moduleBinary?: Record<string, [number, number]>;
  readonly constants: [number, number];
}

export class ArtifactError extends TesseraError {
  constructor(message: string) {
    super(`invalid tessera artifact: ${message}`);
    this.name = 'ArtifactError';
  }
}

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

export function serializeExecutable(exe: Executable): Uint8Array {
  const { constants, module, ...rest } = exe;
  const blobs: Uint8Array[] = [constants];
  const fields: Record<string, unknown> = {};
  const binaryNames: string[] = [];
  for (const [k, v] of Object.entries(module)) {
    if (v instanceof Uint8Array) {
      binaryNames.push(k);
      blobs.push(v);
    } else {
      fields[k] = v;
    }
  }
  // Section offsets are relative to the start of the binary area.
  const spans: [number, number][] = [];
  let off = 0;
  for (const b of blobs) {
    spans.push([off, b.byteLength]);
    off = align16(off + b.byteLength);
  }
  const header: Header = {
    headerVersion: HEADER_VERSION,
    executable: rest,
    module: { ...fields, kind: module.kind },
    ...(binaryNames.length > 0 ? { moduleBinary: Object.fromEntries(binaryNames.map((k, i) => [k, spans[i + 1]!])) } : {}),
    constants: spans[0]!,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const binStart = align16(8 + json.byteLength);
  const out = new Uint8Array(binStart + off);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, json.byteLength, true);
  out.set(json, 8);
  blobs.forEach((b, i) => out.set(b, binStart + spans[i]![0]));
  return out;
}

export function deserializeExecutable(bytes: Uint8Array): Executable {
  if (bytes.byteLength < 8 || MAGIC.some((m, i) => bytes[i] !== m)) throw new ArtifactError('bad magic (not a .tsra file)');
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (8 + len > bytes.byteLength) throw new ArtifactError('truncated header');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len))) as Header;
  } catch (e) {
    throw new ArtifactError(`header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null) throw new ArtifactError('the header is not a JSON object');
  if (header.headerVersion !== HEADER_VERSION) {
    throw new ArtifactError(`header layout ${String(header.headerVersion ?? 1)} was written by another version of Tessera (this one reads ${HEADER_VERSION}); compile the model again`);
  }
  const binStart = align16(8 + len);
  const section = ([o, n]: [number, number], what: string): Uint8Array => {
    if (binStart + o + n > bytes.byteLength) throw new ArtifactError(`${what} section runs past the end of the file`);
    return bytes.slice(binStart + o, binStart + o + n);
  };
  const exe = header.executable;
  if (exe.format !== 'tessera-executable' || exe.version !== 1) throw new ArtifactError(`unsupported format ${String(exe.format)} v${String(exe.version)}`);
  if (typeof header.module?.kind !== 'string') throw new ArtifactError('the header has no kernel module kind');
  const module: KernelModule = { ...header.module };
  for (const [k, span] of Object.entries(header.moduleBinary ?? {})) {
    if (!Array.isArray(span) || span.length !== 2 || !span.every((x) => Number.isInteger(x) && x >= 0)) throw new ArtifactError(`module field ${k} has a bad section span`);
    (module as unknown as Record<string, unknown>)[k] = section(span, `module ${k}`);
  }
  return { ...exe, module, constants: section(header.constants, 'constants') };
}
