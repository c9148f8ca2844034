/**
 * Generated names by binding order: an id (a var's or buffer's) gets the next number the
 * first time it is named, not its global id, so compiling the same model twice gives the
 * same text (and identical kernels identical source).
 */
export class OrderedNames {
  private readonly names = new Map<number, string>();

  constructor(private readonly prefix: string) {}

  /** The name of `id`, numbering it if it is new (a per-call prefix overrides the default). */
  of(id: number, prefix = this.prefix): string {
    let n = this.names.get(id);
    if (n === undefined) {
      n = `${prefix}${this.names.size}`;
      this.names.set(id, n);
    }
    return n;
  }
}
