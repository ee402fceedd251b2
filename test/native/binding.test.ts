import { describe, expect, it } from 'vitest';
import { addonCandidates, backendInfo, loadAddonFrom } from '../../src/native/binding.ts';
import { AddonLoadError } from '../../src/errors.ts';

describe('addon loader', () => {
  it('loads the built addon and reports the CUDA state as separate facts', () => {
    const info = backendInfo();
    expect(info.backends).toContain('cpu');
    expect(typeof info.cuda.compiled).toBe('boolean');
    expect(info.cuda.devices).toBeGreaterThanOrEqual(0);
    if (!info.cuda.compiled) expect(info.cuda.devices).toBe(0);
    if (info.cuda.devices === 0) expect(info.cuda.error).toBeTruthy();
  });

  it('lists every place it tried when nothing loads', () => {
    const bogus = ['/nonexistent/a.node', '/nonexistent/b.node'];
    let err: unknown;
    try {
      loadAddonFrom(bogus);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AddonLoadError);
    const e = err as AddonLoadError;
    expect(e.code).toBe('ERR_PAV_ADDON_LOAD');
    expect(e.tried).toHaveLength(2);
    expect(e.message).toContain('/nonexistent/a.node');
    expect(e.message).toContain('npm run build:native');
  });

  it('puts an explicit path first', () => {
    expect(addonCandidates('/x/y.node')[0]).toBe('/x/y.node');
  });
});
