/**
 * Counts in messages (CLI output, logs), with the noun agreeing ("1 key", "2 keys", "0 files").
 *
 * Guarantees: English plurals by a given form (or the singular plus "s"); the count is printed
 * as given, without separators, so scripts can read it back.
 */

export function countOf(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}
