// Renders report.html in headless Debian chromium: every chart has a size and plotted marks, the
// page logs no errors and asks for nothing over the network, with JavaScript on or off.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { writeReport } from '../../src/report/write.ts';
import { syntheticManifest, syntheticRows } from '../fixtures/report_rows.ts';

// The few browser globals the page callbacks use, declared for this module only (tsconfig has no DOM lib).
interface El {
  getBoundingClientRect(): { width: number; height: number };
  getBBox(): { width: number; height: number };
  querySelectorAll(sel: string): ArrayLike<El> & Iterable<El>;
  setAttribute(name: string, value: string): void;
}
declare const document: { querySelector(sel: string): El | null; querySelectorAll(sel: string): ArrayLike<El> & Iterable<El> };

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const CHARTS = ['chart-budget', 'chart-compute-policy', 'chart-compute-total', 'chart-compute-flops', 'chart-phases'];

interface ChartCheck {
  id: string;
  width: number;
  height: number;
  paths: number;
  circles: number;
  rects: number;
  /** Width of the bounding box of the drawn line marks. */
  lineWidth: number;
}

describe.skipIf(!existsSync(CHROMIUM))('report in headless chromium (skipped: Debian chromium is not installed (apt-get install chromium))', () => {
  let tmp = '';
  let reportPath = '';

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'pav-chromium-'));
    const run = join(tmp, 'run');
    const rows = syntheticRows({ problems: 200, failures: 3 });
    mkdirSync(run);
    writeFileSync(join(run, 'results.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    writeFileSync(join(run, 'manifest.json'), JSON.stringify(syntheticManifest({ policyParams: 1.5e9, verifierParams: 1.5e9 }, 200)));
    reportPath = (await writeReport(run)).reportPath;
  });
  afterAll(() => {
    if (tmp && !process.env.PAVSEARCH_KEEP_REPORT_TMP) rmSync(tmp, { recursive: true, force: true });
  });

  async function open(javaScriptEnabled: boolean, profile: string): Promise<{ ctx: BrowserContext; errors: string[]; requests: string[] }> {
    const { chromium } = await import('playwright-core');
    // A fresh profile per launch (playwright passes it as --user-data-dir).
    const ctx = await chromium.launchPersistentContext(join(tmp, profile), {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      javaScriptEnabled,
      viewport: { width: 1100, height: 900 },
    });
    const errors: string[] = [];
    const requests: string[] = [];
    ctx.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    ctx.on('weberror', (e) => errors.push(String(e.error())));
    ctx.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    return { ctx, errors, requests };
  }

  it('every chart has a size and plotted marks; no console errors; no network', async () => {
    const { ctx, errors, requests } = await open(true, 'profile-js');
    try {
      const page = await ctx.newPage();
      await page.goto(pathToFileURL(reportPath).href, { waitUntil: 'load' });
      const charts: ChartCheck[] = await page.evaluate((ids) =>
        ids.map((id) => {
          const svg = document.querySelector(`#${id} svg.pavplot`);
          const box = svg?.getBoundingClientRect();
          const lines = [...(svg?.querySelectorAll('g[aria-label="line"] path') ?? [])];
          return {
            id,
            width: box?.width ?? 0,
            height: box?.height ?? 0,
            paths: lines.length,
            circles: svg?.querySelectorAll('g[aria-label="dot"] circle').length ?? 0,
            rects: svg?.querySelectorAll('g[aria-label="bar"] rect').length ?? 0,
            lineWidth: Math.max(0, ...lines.map((p) => p.getBBox().width)),
          };
        }), CHARTS);
      for (const c of charts) {
        expect(c.width, c.id).toBeGreaterThan(100);
        expect(c.height, c.id).toBeGreaterThan(50);
        if (c.id === 'chart-phases') expect(c.rects, c.id).toBeGreaterThan(0);
        else {
          expect(c.paths, c.id).toBeGreaterThan(0);
          expect(c.circles, c.id).toBeGreaterThan(0);
          expect(c.lineWidth, c.id).toBeGreaterThan(100);
        }
      }
      // The tables are laid out and the per-problem table opens.
      await page.evaluate(() => {
        for (const d of document.querySelectorAll('details')) d.setAttribute('open', '');
      });
      const rows = await page.locator('#table-problems tbody tr').count();
      expect(rows).toBe(200);
      expect(await page.locator('#table-accuracy').isVisible()).toBe(true);
      const shot = join(tmp, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(20_000);
      if (process.env.PAVSEARCH_REPORT_SCREENSHOT) copyFileSync(shot, process.env.PAVSEARCH_REPORT_SCREENSHOT);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await ctx.close();
    }
  });

  it('renders the same charts with JavaScript off', async () => {
    const { ctx, errors, requests } = await open(false, 'profile-nojs');
    try {
      const page = await ctx.newPage();
      await page.goto(pathToFileURL(reportPath).href, { waitUntil: 'load' });
      for (const id of CHARTS) {
        const box = await page.locator(`#${id} svg.pavplot`).boundingBox();
        expect(box?.width ?? 0, id).toBeGreaterThan(100);
        expect(box?.height ?? 0, id).toBeGreaterThan(50);
      }
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await ctx.close();
    }
  });
});
