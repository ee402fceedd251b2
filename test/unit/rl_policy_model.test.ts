// The RL policy's hand-written gradients against central finite differences (float64), Adam on a
// quadratic, and seeded determinism of init and sampling.
import { describe, expect, it } from 'vitest';
import { Adam, MlpPolicy, Rng, type Trajectories } from '../../src/rl/policy_model.ts';

function randomTrajectories(rng: Rng, n: number, vocab: number, maxLen: number): Trajectories {
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const len = 1 + Math.floor(rng.next() * maxLen);
    const row: number[] = [];
    for (let j = 0; j < len; j++) row.push(j === len - 1 && rng.next() < 0.5 ? vocab - 1 : Math.floor(rng.next() * (vocab - 1)));
    rows.push(row);
  }
  const offsets = new Uint32Array(n + 1);
  rows.forEach((r, i) => (offsets[i + 1] = offsets[i] + r.length));
  return { tokens: Uint8Array.from(rows.flat()), offsets };
}

describe('MlpPolicy gradients', () => {
  it('match central finite differences to 1e-4 relative error (float64)', () => {
    const cfg = { vocab: 5, maxLen: 4, hidden: 6 };
    const rng = new Rng(7);
    const model = MlpPolicy.create(cfg, 3);
    // Larger biases than the init so tanh is off its linear part.
    for (let i = 0; i < model.size; i++) model.params[i] += 0.3 * rng.normal();
    const traj = randomTrajectories(rng, 6, cfg.vocab, cfg.maxLen);
    const weights = Float64Array.from({ length: traj.tokens.length }, () => rng.normal());
    weights[0] = 0; // a skipped token must still be handled
    const grad = new Float64Array(model.size);
    const obj = model.accumulateGrad(traj, weights, grad);
    expect(obj).toBeCloseTo(model.objective(traj, weights), 12);
    const eps = 1e-6;
    let worst = 0;
    let checked = 0;
    for (let i = 0; i < model.size; i++) {
      const x = model.params[i];
      model.params[i] = x + eps;
      const up = model.objective(traj, weights);
      model.params[i] = x - eps;
      const down = model.objective(traj, weights);
      model.params[i] = x;
      const fd = (up - down) / (2 * eps);
      const rel = Math.abs(fd - grad[i]) / Math.max(1e-8, Math.abs(fd) + Math.abs(grad[i]));
      if (Math.abs(fd) + Math.abs(grad[i]) > 1e-7) {
        worst = Math.max(worst, rel);
        checked++;
      } else expect(Math.abs(fd - grad[i])).toBeLessThan(1e-8);
    }
    expect(checked).toBeGreaterThan(50);
    expect(worst).toBeLessThan(1e-4);
  });

  it('probabilities sum to 1 and logProbs agree with the objective', () => {
    const model = MlpPolicy.create({ vocab: 7, maxLen: 5, hidden: 8 }, 1);
    const lp = model.logProbs([2, 3]);
    expect(lp.reduce((a, b) => a + Math.exp(b), 0)).toBeCloseTo(1, 12);
    const traj = { tokens: Uint8Array.from([2, 3, 4]), offsets: Uint32Array.from([0, 3]) };
    expect(model.objective(traj, Float64Array.from([0, 0, 1]))).toBeCloseTo(lp[4], 12);
  });
});

describe('determinism', () => {
  it('init and sampling are functions of the seed', () => {
    const cfg = { vocab: 15, maxLen: 10, hidden: 16 };
    const a = MlpPolicy.create(cfg, 42);
    const b = MlpPolicy.create(cfg, 42);
    const c = MlpPolicy.create(cfg, 43);
    expect(a.params).toEqual(b.params);
    expect(a.params).not.toEqual(c.params);
    const sa = a.sample(50, new Rng(5));
    const sb = b.sample(50, new Rng(5));
    expect(sa).toEqual(sb);
    for (let i = 0; i < 50; i++) {
      const len = sa.offsets[i + 1] - sa.offsets[i];
      expect(len).toBeGreaterThan(0);
      expect(len).toBeLessThanOrEqual(10);
      // Only the last token may be the end token.
      for (let j = sa.offsets[i]; j < sa.offsets[i + 1] - 1; j++) expect(sa.tokens[j]).not.toBe(14);
    }
  });

  it('Rng is uniform enough', () => {
    const r = new Rng(1);
    let s = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) s += r.next();
    expect(Math.abs(s / n - 0.5)).toBeLessThan(0.01);
  });
});

describe('Adam', () => {
  it('minimises a quadratic', () => {
    const x = Float64Array.from([3, -2, 5]);
    const opt = new Adam(3, { lr: 0.1 });
    const g = new Float64Array(3);
    for (let t = 0; t < 500; t++) {
      for (let i = 0; i < 3; i++) g[i] = 2 * (x[i] - i);
      opt.step(x, g);
    }
    for (let i = 0; i < 3; i++) expect(x[i]).toBeCloseTo(i, 2);
  });
});
