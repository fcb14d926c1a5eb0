/** A control/API error that maps to an HTTP status (unknown lead → 404, bad input → 400 …). */
export class SimError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "SimError";
  }
}
