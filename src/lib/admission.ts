/**
 * How many anonymous requests the server takes on while it is overloaded (issue #19), as a
 * rule on numbers only (time and lag are passed in): unit-tested with tables of cases, used by
 * src/plugins/shed.ts.
 *
 * Node serves requests one at a time on one thread: a flood of anonymous clients does not show
 * as many requests "in progress" (they wait, unread, in the sockets) but as event-loop lag —
 * one turn of the loop serves every waiting client once, so a signed-in user waits for all of
 * them. While the lag is over the limit, anonymous requests are admitted at a rate (a token
 * bucket) that is halved at every lagging sample (from what was actually admitted) and grows
 * back by 5 % per sample within the limit; once it is well above what arrives,
 * there is no limit again. The refused ones get a cheap 503, so the loop turns fast enough for
 * signed-in users. A quiet server with a single slow moment keeps admitting its few anonymous
 * visitors: the rate never drops below `minRate` (with as many at once).
 */
export class LagAdmission {
  /** Admitted anonymous requests per second; Infinity = no limit. */
  budget = Infinity;
  /** Smoothed admitted / arriving anonymous requests per second. */
  admitRate = 0;
  arriveRate = 0;
  private tokens = 0;
  private last: number;
  private admitted = 0;
  private arrived = 0;

  constructor(private limitMs: number, now: number, private minRate = 20) {
    this.last = now;
  }

  /** Burst allowance: 200 ms worth of the budget, at least `minRate` (a page and its assets). */
  private cap(): number {
    return Math.max(this.minRate, this.budget * 0.2);
  }

  /** Called now and then with the event loop's lateness over the last `dtMs`. */
  sample(lagMs: number, dtMs: number): void {
    const dt = Math.max(dtMs, 1) / 1000;
    this.admitRate = this.admitRate * 0.7 + (this.admitted / dt) * 0.3;
    this.arriveRate = this.arriveRate * 0.7 + (this.arrived / dt) * 0.3;
    this.admitted = 0;
    this.arrived = 0;
    if (lagMs > this.limitMs) {
      const from = Number.isFinite(this.budget) ? Math.min(this.budget, this.admitRate) : this.admitRate;
      const wasOpen = !Number.isFinite(this.budget);
      this.budget = Math.max(this.minRate, from / 2);
      this.tokens = wasOpen ? this.cap() : Math.min(this.tokens, this.cap());
    } else if (Number.isFinite(this.budget)) {
      this.budget += Math.max(this.minRate / 4, this.budget * 0.05);
      if (this.budget >= 2 * this.arriveRate + this.minRate) this.budget = Infinity;
    }
  }

  /** An anonymous request arrives at `now` (ms): admitted or not. */
  admit(now: number): boolean {
    this.arrived++;
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.last = now;
    if (!Number.isFinite(this.budget)) {
      this.admitted++;
      return true;
    }
    this.tokens = Math.min(this.cap(), this.tokens + elapsed * this.budget);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    this.admitted++;
    return true;
  }
}
