/** What a cache token may do: every token reads; only read-write tokens upload. */
export enum TokenScope {
  ReadWrite = 'read-write',
  ReadOnly = 'read-only',
}
