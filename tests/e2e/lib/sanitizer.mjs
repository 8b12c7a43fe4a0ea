// Whether the servers run the ASan + UBSan build (scripts/asan.sh sets
// RT_SANITIZER), and what that costs a memory bound.
//
// Under ASan a process's RSS also holds shadow memory (an eighth of what the
// program maps) and the quarantine of freed blocks (ASAN_OPTIONS
// quarantine_size_mb in scripts/asan.sh), so a test's bound on RSS growth
// gets that much more room there; LeakSanitizer checks for leaks instead,
// at every process's exit.
export const SANITIZER = process.env.RT_SANITIZER || '';
export const QUARANTINE_MB = 64;

/** A bound on RSS growth in kB, widened under a sanitizer. */
export function rssBoundKb(kb) {
  return SANITIZER ? Math.ceil(kb * 1.25) + 2 * QUARANTINE_MB * 1024 : kb;
}

/**
 * Test options for a handoff test whose zero-close promise depends on
 * workers answering within a time budget: optional (todo) under ASan, where
 * every process runs several times slower and a handoff between workers
 * that are recycled together now and then outlasts its budget (its clients
 * then get 1012, counted). It still runs there: a sanitizer report fails
 * the run all the same (scripts/asan.sh). A normal test otherwise.
 */
export const TIMING_UNDER_ASAN = SANITIZER
  ? { todo: 'under ASan every process runs several times slower: a handoff between workers recycled together may outlast its budget (see tests/e2e/lib/sanitizer.mjs)' }
  : {};
