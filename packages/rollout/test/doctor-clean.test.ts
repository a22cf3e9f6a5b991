import { describe, expect, it } from 'vitest';
import { diagnoseHome } from '../src/index.js';
import { ALL_HOMES, brief, installHome } from './doctor-helpers.js';

describe('doctor on homes only Codex touched', () => {
  it.each(ALL_HOMES)('%s: no finding', async (name) => {
    const home = installHome(name);
    const diagnosis = await diagnoseHome({ codexHome: home });
    expect(brief(diagnosis.findings)).toEqual([]);
    expect(diagnosis.files.checked).toBeGreaterThan(5);
    expect(diagnosis.stateDb.rows).toBeGreaterThan(5);
  });
});
