/** What is left of a long text after `keepHeadAndTail`. */
export interface Shortened {
  text: string;
  /** Characters dropped from the middle; 0 when the text fit. */
  omitted: number;
}

/**
 * Shortens a text to at most about `max` characters by keeping its head and its tail and
 * saying how much was dropped between them. Command output is read this way: the start
 * says what ran, the end says how it failed.
 */
export function keepHeadAndTail(text: string, max: number): Shortened {
  if (text.length <= max) return { text, omitted: 0 };
  const head = Math.floor(max * 0.4);
  const tail = Math.max(0, max - head);
  const omitted = text.length - head - tail;
  return {
    text: `${text.slice(0, head)}\n\n[… ${omitted} characters omitted …]\n\n${text.slice(text.length - tail)}`,
    omitted,
  };
}
