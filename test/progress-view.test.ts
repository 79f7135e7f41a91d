import { describe, expect, it } from 'vitest';
import { progressFrame, progressLine } from '../src/cli/progress-view.js';
import { reportLines } from '../src/cli/render.js';
import type { GenerateClipsResult, JobProgress } from '../src/shared/model.js';

const midJob: JobProgress = {
  jobId: 'j',
  stage: 'generating',
  total: 6,
  done: 2,
  failed: 1,
  running: 2,
  spentMicroUsd: 420_000,
  spentUsd: 0.42,
  budgetLimitMicroUsd: 2_000_000,
  percent: 50,
};

describe('the terminal frame', () => {
  it('shows the bar, clips done, failed, in flight and waiting, and spend against budget', () => {
    expect(progressFrame(midJob, 80).split('\n')).toEqual([
      `generating [${'█'.repeat(20)}${'░'.repeat(20)}]  50%  3/6 clips`,
      '  ✓ 2 done   ✗ 1 failed   ▶ 2 in flight   · 1 waiting',
      '  $0.42 of $2.00 budget (21%)',
    ]);
  });

  it('fits a narrower terminal with a shorter bar', () => {
    const lines = progressFrame(midJob, 60).split('\n');
    expect(lines[0]).toBe(`generating [${'█'.repeat(15)}${'░'.repeat(15)}]  50%  3/6 clips`);
    for (const line of lines) expect(line.length).toBeLessThan(60);
    expect(progressFrame(midJob, 20).split('\n')[0]).toContain(`[${'█'.repeat(5)}${'░'.repeat(5)}]`);
  });

  it('shows the spend alone before the budget check has set a budget', () => {
    const start: JobProgress = { ...midJob, stage: 'validating', done: 0, failed: 0, running: 0, spentMicroUsd: 0, percent: 0 };
    delete start.budgetLimitMicroUsd;
    const lines = progressFrame(start, 80).split('\n');
    expect(lines[0]).toBe(`validating [${'░'.repeat(40)}]   0%  0/6 clips`);
    expect(lines[1]).toBe('  ✓ 0 done   ✗ 0 failed   ▶ 0 in flight   · 6 waiting');
    expect(lines[2]).toBe('  $0.00 spent');
  });

  it('fills the bar when every clip has ended', () => {
    const end: JobProgress = { ...midJob, stage: 'done', done: 5, failed: 1, running: 0, percent: 100 };
    expect(progressFrame(end, 80).split('\n')[0]).toBe(`done       [${'█'.repeat(40)}] 100%  6/6 clips`);
  });
});

describe('the plain line', () => {
  it('says the same on one line', () => {
    expect(progressLine(midJob)).toBe('50% generating: 2 done, 1 failed, 2 in flight, 1 waiting of 6 clips · $0.42 of $2.00 budget (21%)');
  });
});

describe('the lines that end a job', () => {
  const result = { reportUri: 'file:///out/j/production_report.json' } as GenerateClipsResult;

  it('name the report by its path when the store is a local directory', () => {
    expect(reportLines({ ...result, reportPath: '/out/j/production_report.json' })).toBe('report: /out/j/production_report.json');
  });

  it('name report.html and the contact sheet beside it when the job made them', () => {
    expect(
      reportLines({
        ...result,
        reportPath: '/out/j/production_report.json',
        reportHtmlUri: 'file:///out/j/report.html',
        reportHtmlPath: '/out/j/report.html',
        contactSheetUri: 'file:///out/j/contact_sheet.jpg',
      }).split('\n'),
    ).toEqual([
      'report: /out/j/production_report.json',
      'report.html: /out/j/report.html',
      'contact sheet: file:///out/j/contact_sheet.jpg',
    ]);
  });

  it('name it by its URI otherwise', () => {
    expect(reportLines({ ...result, reportUri: 's3://bucket/jobs/j/production_report.json' })).toBe(
      'report: s3://bucket/jobs/j/production_report.json',
    );
  });
});
