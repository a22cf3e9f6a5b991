/**
 * Legacy histories at the edges of the turn rules, each with the turns codex-cli 0.169.0's
 * `thread/read {includeTurns:true}` reports for it on a cold thread (`id:status`, oldest first).
 * The answers were read from the real binary; apps/app-server's turn-edges interop test reads
 * them again, so this table cannot drift from 0.169. Each history follows a session meta line,
 * so a record's index in the file is its index here plus one.
 *
 * Not covered: lines 0.169 cannot parse (say, a `task_started` without `turn_id`) are dropped
 * before it numbers the lines, so the `rollout-<n>` ids of later implicit turns shift there; Skein
 * numbers every line it keeps.
 */

export interface TurnEdgeCase {
  /** The records after the session meta line. */
  records: { type: string; payload: Record<string, unknown> }[];
  /** `id:status` of every turn 0.169 reports for the history (thread not running). */
  turns: string[];
}

const event = (payload: Record<string, unknown>) => ({ type: 'event_msg', payload });
const user = (message: string) => event({ type: 'user_message', message, images: [] });
const agent = (message: string) => event({ type: 'agent_message', message });
const reasoning = (text: string) => event({ type: 'agent_reasoning', text });
const started = (turnId?: string, type = 'task_started') =>
  event({ type, ...(turnId === undefined ? {} : { turn_id: turnId }), started_at: 100 });
const complete = (turnId?: string, type = 'task_complete') =>
  event({
    type,
    ...(turnId === undefined ? {} : { turn_id: turnId }),
    completed_at: 200,
    duration_ms: 5,
  });
const aborted = (turnId?: string) =>
  event({
    type: 'turn_aborted',
    ...(turnId === undefined ? {} : { turn_id: turnId }),
    reason: 'interrupted',
    completed_at: 300,
    duration_ms: 7,
  });
const error = (message: string) => event({ type: 'error', message });
const rolledBack = (count: number) => event({ type: 'thread_rolled_back', num_turns: count });
const assistantResponse = (text: string) => ({
  type: 'response_item',
  payload: { type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] },
});

export const TURN_EDGE_CASES: Record<string, TurnEdgeCase> = {
  'no turn events: each user message opens an implicit turn': {
    records: [user('a'), agent('b'), user('c'), assistantResponse('d'), agent('e')],
    turns: ['rollout-1:completed', 'rollout-3:completed'],
  },
  'a user message after its turn completed': {
    records: [started('t1'), user('a'), complete('t1'), user('late'), agent('x')],
    turns: ['t1:completed', 'rollout-4:completed'],
  },
  'an agent message after its turn completed': {
    records: [started('t1'), user('a'), complete('t1'), agent('x'), user('y')],
    turns: ['t1:completed', 'rollout-4:completed', 'rollout-5:completed'],
  },
  'error events change no status': {
    records: [
      error('early'),
      started('t1'),
      user('a'),
      error('boom'),
      complete('t1'),
      started('t2'),
      user('b'),
      error('again'),
    ],
    turns: ['t1:completed', 't2:interrupted'],
  },
  'a turn started while another is open': {
    records: [started('t1'), user('a'), started('t2'), user('b'), complete('t2'), started('t3')],
    turns: ['t1:interrupted', 't2:completed', 't3:interrupted'],
  },
  'starts and completions without an id are not turn events': {
    records: [user('a'), started(), agent('b'), complete(), started('t2'), complete('t2')],
    turns: ['rollout-1:completed', 't2:completed'],
  },
  'a completion without an id leaves the open turn open': {
    records: [started('t1'), user('a'), started('t2'), complete(), user('z')],
    turns: ['t1:interrupted', 't2:interrupted'],
  },
  'a completion names an earlier turn, an abort the current one': {
    records: [started('t1'), user('a'), started('t2'), complete('t1'), aborted('t2')],
    turns: ['t1:completed', 't2:interrupted'],
  },
  'an abort names an earlier, completed turn': {
    records: [
      started('t1'),
      user('a'),
      complete('t1'),
      started('t2'),
      user('b'),
      aborted('t1'),
      user('c'),
    ],
    turns: ['t1:interrupted', 't2:interrupted'],
  },
  'an abort without an id closes the current turn': {
    records: [started('t1'), user('a'), aborted(), user('b')],
    turns: ['t1:interrupted', 'rollout-4:completed'],
  },
  'an abort of an unknown id changes nothing': {
    records: [started('t1'), user('a'), aborted('zz'), user('b')],
    turns: ['t1:interrupted'],
  },
  'a completion of an unknown id completes the current turn': {
    records: [started('t1'), user('a'), complete('zz'), user('b')],
    turns: ['t1:completed', 'rollout-4:completed'],
  },
  'a second completion changes nothing': {
    records: [started('t1'), user('a'), complete('t1'), complete('t1'), user('b')],
    turns: ['t1:completed', 'rollout-5:completed'],
  },
  'closing events outside any turn open none': {
    records: [aborted(), complete('t9'), user('a')],
    turns: ['rollout-3:completed'],
  },
  'the turn_started / turn_complete aliases': {
    records: [
      started('t1', 'turn_started'),
      user('a'),
      complete('t1', 'turn_complete'),
      started('t2', 'turn_started'),
      user('b'),
    ],
    turns: ['t1:completed', 't2:interrupted'],
  },
  'implicit turns before and after an explicit one': {
    records: [user('a'), agent('b'), started('t1'), user('c'), complete('t1'), user('d')],
    turns: ['rollout-1:completed', 't1:completed', 'rollout-6:completed'],
  },
  'several user messages in one explicit turn': {
    records: [started('t1'), user('a'), agent('x'), user('b'), complete('t1')],
    turns: ['t1:completed'],
  },
  'an empty agent message opens no turn, an empty user message does': {
    records: [started('t1'), user('a'), complete('t1'), agent(''), user(''), agent('x')],
    turns: ['t1:completed', 'rollout-5:completed'],
  },
  'reasoning outside a turn opens one, a token count does not': {
    records: [
      started('t1'),
      user('a'),
      complete('t1'),
      event({ type: 'token_count', info: null, rate_limits: null }),
      reasoning('hmm'),
      user('b'),
    ],
    turns: ['t1:completed', 'rollout-5:completed', 'rollout-6:completed'],
  },
  'a rollback drops the last turns': {
    records: [
      started('t1'),
      user('a'),
      agent('x'),
      complete('t1'),
      started('t2'),
      user('b'),
      complete('t2'),
      rolledBack(2),
      started('t3'),
      user('c'),
      agent('y'),
      complete('t3'),
    ],
    turns: ['t3:completed'],
  },
  'a rollback inside a turn drops it': {
    records: [
      started('t1'),
      user('a'),
      complete('t1'),
      started('t2'),
      user('b'),
      rolledBack(1),
      user('c'),
    ],
    turns: ['t1:completed', 'rollout-7:completed'],
  },
  'a rollback of implicit turns': {
    records: [user('a'), user('b'), rolledBack(1), user('c')],
    turns: ['rollout-1:completed', 'rollout-4:completed'],
  },
};
