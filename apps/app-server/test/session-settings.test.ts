import { describe, expect, it } from 'vitest';
import { sameAsLastSettings } from '../src/handlers/session.js';

const applied = (model: string) => ({
  type: 'event_msg',
  payload: {
    type: 'thread_settings_applied',
    thread_id: 't',
    thread_settings: { model, approval_policy: 'never', cwd: '/w' },
  },
});

describe('the settings a legacy resume records (0.169.0 skips a repeat)', () => {
  it('repeats only the snapshot recorded last, whatever came after it', () => {
    const turn = { type: 'turn_context', payload: { model: 'other', cwd: '/w' } };
    expect(sameAsLastSettings([applied('m1'), turn], applied('m1'))).toBe(true);
    expect(sameAsLastSettings([applied('m1'), applied('m2')], applied('m1'))).toBe(false);
    // Key order does not matter; a thread with no snapshot always records one.
    const reordered = {
      type: 'event_msg',
      payload: {
        type: 'thread_settings_applied',
        thread_settings: { cwd: '/w', approval_policy: 'never', model: 'm1' },
      },
    };
    expect(sameAsLastSettings([reordered], applied('m1'))).toBe(true);
    expect(sameAsLastSettings([turn], applied('m1'))).toBe(false);
  });
});
