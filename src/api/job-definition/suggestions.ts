// "Did you mean …?" hints for misspelt keys and op ids.

const MAX_SUGGESTION_DISTANCE = 2;
/** Beyond this many candidates a hint is not worth the time (inputs may list thousands of ops). */
const MAX_CANDIDATES = 500;

/** Levenshtein distance, with an early exit once every path exceeds `limit`. */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    let rowMinimum = i;
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      const value = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
      current.push(value);
      rowMinimum = Math.min(rowMinimum, value);
    }
    if (rowMinimum > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The closest candidate within edit distance 2, or one that differs only in case (WORK_DIR →
 * work_dir is a common slip that plain edit distance would miss).
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = MAX_SUGGESTION_DISTANCE + 1;
  let examined = 0;
  for (const candidate of candidates) {
    examined += 1;
    if (examined > MAX_CANDIDATES) break;
    if (candidate === word) continue;
    const distance = candidate.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, candidate, MAX_SUGGESTION_DISTANCE);
    // A one-letter key is "close" to every short key; only suggest when the typo is a small part of it.
    if (distance < bestDistance && distance < Math.max(word.length, candidate.length)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = closestMatch(word, candidates);
  return match === undefined ? '' : `; did you mean ${JSON.stringify(match)}?`;
}

/** Past this many distinct words, hints stop: a hostile input must not make validation slow. */
const MAX_DISTINCT_WORDS = 1000;

/** didYouMean over a fixed candidate list, remembering answers (the same typo tends to repeat). */
export function suggester(candidates: Iterable<string>): (word: string) => string {
  const list = [...candidates];
  const answers = new Map<string, string>();
  return (word) => {
    let answer = answers.get(word);
    if (answer === undefined) {
      if (answers.size >= MAX_DISTINCT_WORDS) return '';
      answer = didYouMean(word, list);
      answers.set(word, answer);
    }
    return answer;
  };
}
