import { TesseraError } from '../runtime/error.js';

/** An error raised while generating code for a kernel; names the target and the kernel. */
export class CodegenError extends TesseraError {
  constructor(readonly target: string, readonly kernel: string, reason: string) {
    super(`codegen ${target}: kernel ${kernel}: ${reason}`);
    this.name = 'CodegenError';
  }
}
