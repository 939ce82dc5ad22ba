// The `moderation` service: a native service of the chat server, granted to
// rooms only. `check(text)` answers null when the text may be posted as it
// is, the text with blocked words masked, or refuses a post that is mostly
// links (the room answers its author `rejected` with the message).
import { ServiceError, Status } from 'wasmhive';

/** Words masked by default (a stand-in for a real list). */
export const BLOCKED = ['darn', 'heck', 'spam'];

const LINK = /^(?:https?:\/\/|www\.)\S+$/i;

/**
 * The service's handlers: `check(text: string) -> string | null` (null: unchanged).
 * `blocked`: words (letters only) masked wherever they stand alone, any case.
 */
export function moderation({ blocked = BLOCKED } = {}) {
  const words = blocked.filter((w) => /^[a-z]+$/i.test(w));
  const pattern = words.length === 0 ? null : new RegExp(`\\b(?:${words.join('|')})\\b`, 'gi');
  return {
    check(text) {
      if (typeof text !== 'string') throw new ServiceError(Status.BAD_ARGUMENT, 'check takes a string');
      const parts = text.split(/\s+/).filter((w) => w.length > 0);
      const links = parts.filter((w) => LINK.test(w)).length;
      if (links >= 3 && links * 2 > parts.length) throw new ServiceError(Status.INVALID, 'a post that is mostly links is not taken');
      if (pattern === null) return null;
      pattern.lastIndex = 0;
      if (!pattern.test(text)) return null;
      return text.replace(pattern, (w) => '*'.repeat(w.length));
    },
  };
}
