/** An expected failure, already explained: one line naming what is wrong and what to do next. */
export class HarnessError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'HarnessError';
  }

  /** The single line the CLI prints. */
  line(): string {
    return this.hint ? `${this.message} — ${this.hint}` : this.message;
  }
}
