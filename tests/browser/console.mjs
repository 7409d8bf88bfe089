// Drives the console in Debian's chromium (playwright-core, no downloaded browsers) as a grid
// worker on a phone and a dispatcher on a PC would. Called by tests/tests/api/console.rs with
// the server's base URL and what the test prepared; prints one JSON line and exits non-zero on
// the first failed expectation.
//
//   node tests/browser/console.mjs '{"base": "...", "shots": "...", "ticket": "...", ...}'
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const args = JSON.parse(process.argv[2]);
mkdirSync(args.shots, { recursive: true });

function expect(ok, what) {
  if (!ok) throw new Error(`expected: ${what}`);
}

async function login(page, login, password) {
  await page.goto(`${args.base}/console/login`);
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL(/\/console\/work/), page.click('button[type=submit]')]);
}

const browser = await chromium.launch({
  executablePath: args.chromium,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const done = [];
try {
  // A grid worker on a 360 px phone: the list, the new ticket, accept, resolve.
  const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'zh-CN' });
  const page = await phone.newPage();
  await login(page, args.worker, args.password);
  expect(await page.isVisible(`text=${args.number}`), 'the new ticket in the list');
  expect(await page.isVisible('.badge.green'), 'a green deadline badge');
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(wide <= 360, `no sideways scrolling at 360 px (${wide})`);
  await page.screenshot({ path: `${args.shots}/work-phone.png`, fullPage: true });
  await Promise.all([page.waitForURL(/\/console\/tickets\//), page.click(`text=${args.number}`)]);
  await page.screenshot({ path: `${args.shots}/ticket-phone.png`, fullPage: true });
  await Promise.all([page.waitForURL(/notice=done/), page.click('button:has-text("受理")')]);
  expect((await page.textContent('h1')).includes('处理中'), 'accepted: 处理中');
  await page.click('summary:has-text("办结")');
  await page.fill('textarea[name=note]', '已协调物业清理');
  await page.setInputFiles('form[action$="/resolve"] input[name=photo]', args.photo);
  await Promise.all([page.waitForURL(/notice=done/), page.click('form[action$="/resolve"] button')]);
  expect((await page.textContent('h1')).includes('已办结'), 'resolved: 已办结');
  expect(await page.isVisible('text=已协调物业清理'), 'the resolution note in the timeline');
  expect((await page.$$('.photos img')).length === 1, 'the photo of the fix, as a thumbnail');
  done.push('worker accepted and resolved');

  // A dispatcher on a PC: assign the queued ticket in one click.
  const pc = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN' });
  const desk = await pc.newPage();
  await login(desk, args.dispatcher, args.password);
  await desk.goto(`${args.base}/console/dispatch`);
  expect(await desk.isVisible(`text=${args.queued}`), 'the queued ticket');
  await desk.screenshot({ path: `${args.shots}/dispatch-pc.png`, fullPage: true });
  await desk.selectOption(`form[action="/console/tickets/${args.queued_id}/assign"] select`, args.assignee);
  await Promise.all([
    desk.waitForURL(/\/console\/dispatch$/),
    desk.click(`form[action="/console/tickets/${args.queued_id}/assign"] button`),
  ]);
  expect(!(await desk.isVisible(`text=${args.queued}`)), 'the queue emptied');
  done.push('dispatcher assigned');

  // The street's leadership on a wall screen: the dashboard, the map, the XLSX.
  const wall = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN', acceptDownloads: true });
  const lead = await wall.newPage();
  await login(lead, args.street, args.password);
  await lead.goto(`${args.base}/console/dashboard?period=this_month`);
  expect(await lead.isVisible('text=响应率'), 'the dashboard shows the response rate');
  // The worker answered today within the hour: today's response rate is drawn at 100 %.
  expect(await lead.isVisible('svg.chart'), 'the trend chart');
  expect((await lead.textContent('svg.chart')).includes('响应率：100.0%'), "today's response rate");
  expect((await lead.$$('table.grid tbody tr')).length >= 2, 'a row per grid');
  await lead.screenshot({ path: `${args.shots}/dashboard-wall.png`, fullPage: true });
  const [download] = await Promise.all([lead.waitForEvent('download'), lead.click('text=导出 XLSX')]);
  expect(download.suggestedFilename().endsWith('.xlsx'), 'an XLSX download');
  // The period picker: 自定义 opens the date form in place.
  expect(!(await lead.isVisible('#custom')), 'the custom dates wait behind 自定义');
  await lead.click('a[data-reveal=custom]');
  expect(await lead.isVisible('#custom input[name=from]'), '自定义 opens the dates');
  await lead.fill('#custom input[name=from]', args.from);
  await lead.fill('#custom input[name=to]', args.to);
  await Promise.all([lead.waitForURL(/from=/), lead.click('#custom button')]);
  expect((await lead.textContent('.tab.on')).includes('自定义'), 'the custom period is the chosen tab');
  expect(await lead.isVisible('text=网格排名'), 'the ranking');
  await lead.goto(`${args.base}/console/map?measure=open`);
  expect((await lead.$$('svg.map path')).length >= 4, 'a shape per grid');
  await lead.click('svg.map a >> nth=0');
  expect(await lead.isVisible('#map-popover'), 'a click on a grid shows its figures');
  expect((await lead.textContent('#map-popover')).includes('在办'), 'the popover names its figures');
  await lead.screenshot({ path: `${args.shots}/map-pc.png`, fullPage: true });
  done.push('leadership dashboard, period picker, map, export');

  // The system administrator imports a street's grids: uploaded with a progress bar, previewed
  // as shapes, saved on confirmation.
  const office = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' })).newPage();
  await login(office, args.admin, args.admin_password);
  await office.goto(`${args.base}/console/admin/areas`);
  await office.setInputFiles('#import input[name=file]', args.geojson);
  await office.click('#import button');
  await office.waitForSelector('text=导入预览');
  expect((await office.$$('svg.map path')).length === 2, 'the two imported shapes drawn');
  await office.screenshot({ path: `${args.shots}/admin-import-pc.png`, fullPage: true });
  await Promise.all([office.waitForURL(/notice=/), office.click('button:has-text("确认导入")')]);
  expect(await office.isVisible('text=导入完成：新建 2，更新 0'), 'the import confirmed');
  done.push('administrator imported areas');

  // A worker of another grid cannot open the ticket.
  const other = await (await browser.newContext()).newPage();
  await login(other, args.outsider, args.password);
  const resp = await other.goto(`${args.base}/console/tickets/${args.ticket}`);
  expect(resp.status() === 404, `another grid's worker gets 404 (${resp.status()})`);
  done.push('outsider refused');
  console.log(JSON.stringify({ ok: true, done }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, done, error: String(e && e.message || e) }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
