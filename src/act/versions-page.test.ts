import { describe, expect, it } from 'vitest';
import { verdict } from '../../test/support/verdicts.ts';
import { lineChart } from './svg-chart.ts';
import { VerdictHistory } from './verdict-history.ts';
import { versionsPage } from './versions-page.ts';

describe('the /versions page', () => {
  it('shows each verdict with its reason, charts of its history and its actions, escaping what it quotes', () => {
    let now = 1_780_000_000_000;
    const history = new VerdictHistory(() => now);
    const judged = verdict('regressed', { reason: 'errors <b>up</b> & "worse"' });
    for (let i = 0; i < 5; i++, now += 10_000) history.add(judged);
    const html = versionsPage({
      verdicts: [judged],
      history: (v) => history.of(v),
      actions: () => [
        {
          time: now,
          action: 'rollback',
          outcome: 'dry_run',
          workerId: judged.workerId,
          candidate: judged.candidate,
          baseline: judged.baseline,
          detail: 'would activate 1.4.2 of EdgeWorker 42817 on STAGING',
        },
      ],
      dryRun: true,
      now,
    });
    expect(html).toContain('<section id="worker-42817">');
    expect(html).toContain('data-state="regressed"');
    expect(html).toContain('errors &#60;b&#62;up&#60;/b&#62; &#38; &#34;worse&#34;');
    expect(html).not.toContain('<b>up</b>');
    expect(html.match(/<svg/g)).toHaveLength(3);
    expect(html.match(/<polyline/g)).toHaveLength(6);
    expect(html).toContain('would activate 1.4.2 of EdgeWorker 42817 on STAGING');
    expect(html).toContain('Actions run as a dry run.');
  });

  it('says when nothing is judged yet, and charts without data say so', () => {
    expect(
      versionsPage({ verdicts: [], history: () => [], actions: () => [], dryRun: undefined, now: 0 }),
    ).toContain('No EdgeWorker versions judged yet.');
    expect(lineChart({ title: 'p95', series: [], format: String })).toContain('no data yet');
  });
});
