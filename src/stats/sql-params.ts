/** Positional parameters of one SQL statement built from parts: `add` answers its `$n`. */
export class SqlParams {
  readonly values: unknown[] = [];

  /** Appends `value` and returns its placeholder (`$1`, `$2`, ...), cast when `type` is given. */
  add(value: unknown, type?: string): string {
    this.values.push(value);
    return type ? `$${this.values.length}::${type}` : `$${this.values.length}`;
  }
}
