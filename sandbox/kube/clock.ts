// The stand-in's clock: tests inject one so that timestamps (creationTimestamp, managedFields time,
// deletionTimestamp, the AGE column) are reproducible.

export class Clock {
  constructor(private readonly now?: () => Date) {}

  date(): Date {
    return this.now?.() ?? new Date();
  }

  /** RFC 3339 at second precision, as metav1.Time serialises. */
  timestamp(): string {
    return rfc3339(this.date());
  }
}
function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}
