/* global Chart, document, window, sessionStorage, fetch, URLSearchParams */
// The admin usage page: plain browser JavaScript, served as is (no build step). It only reads:
// GET /admin/teams, /admin/teams/:team/stats and /admin/teams/:team/policy (and, through the
// Artifacts panel of admin-ui-artifacts.js, /admin/teams/:team/artifacts and .../tier-settings;
// through the Trust policies panel of admin-ui-oidc.js, /admin/teams/:team/oidc-policies).
'use strict';

(() => {
  const TOKEN_KEY = 'teamcache.adminToken';
  const DAY_MS = 86_400_000;
  const COLORS = {
    hit: '#16a34a',
    miss: '#f97316',
    rate: '#2563eb',
    saved: '#7c3aed',
    bytes: '#0891b2',
  };
  const charts = {};
  const $ = (id) => document.getElementById(id);

  class Unauthorized extends Error {}

  async function api(path) {
    const response = await fetch(path, {
      headers: { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) ?? ''}` },
    });
    const body = await response.json().catch(() => ({}));
    if (response.status === 401)
      throw new Unauthorized(body.message || 'the admin token was refused');
    if (!response.ok) throw new Error(body.message || `HTTP ${response.status}`);
    return body;
  }

  // ---- formatting ----------------------------------------------------------------------------
  const number = (n) => Number(n).toLocaleString('en-US');
  const percent = (rate) => (rate === null ? '–' : `${(rate * 100).toFixed(1)}%`);

  function bytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let value = n;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
  }

  function duration(ms) {
    const seconds = Math.round(ms / 1000);
    if (seconds < 60) return `${seconds} s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
    const hours = Math.floor(minutes / 60);
    return `${hours} h ${minutes % 60} min`;
  }

  /** The unit that keeps a series' largest value readable: [divisor, label]. */
  function scaleFor(max, steps) {
    let chosen = steps[0];
    for (const step of steps) if (max >= step[0]) chosen = step;
    return chosen;
  }

  // ---- views ---------------------------------------------------------------------------------
  function show(view) {
    $('login').hidden = view !== 'login';
    $('dashboard').hidden = view !== 'dashboard';
    $('sign-out').hidden = view !== 'dashboard';
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    $('login-error').textContent = message ?? '';
    show('login');
    document.body.dataset.state = 'login';
  }

  function card(label, value, detail) {
    const element = document.createElement('div');
    element.className = 'card';
    for (const [cls, text] of [
      ['label', label],
      ['value', value],
      ['detail', detail ?? ''],
    ]) {
      const line = document.createElement('div');
      line.className = cls;
      line.textContent = text;
      element.append(line);
    }
    return element;
  }

  function row(cells) {
    const tr = document.createElement('tr');
    for (const [text, cls] of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      if (cls) td.className = cls;
      tr.append(td);
    }
    return tr;
  }

  function renderCards(stats, policy) {
    const quota =
      policy.quotaBytes === null
        ? 'no quota'
        : `quota ${bytes(policy.quotaBytes)} (${percent(policy.storedBytes / policy.quotaBytes)} used, ${policy.quotaMode})`;
    $('cards').replaceChildren(
      card(
        'Remote hit rate',
        percent(stats.remote.hitRate),
        `${number(stats.remote.hits)} hits · ${number(stats.remote.misses)} misses`,
      ),
      card('Time saved', duration(stats.remote.timeSavedMs), 'sum of the task time of remote hits'),
      card(
        'Stored',
        bytes(stats.storage.bytes),
        `${number(stats.storage.artifacts)} artifacts · ${quota}`,
      ),
      card('Uploads', number(stats.uploads.count), `${bytes(stats.uploads.bytes)} in the period`),
      card(
        'Local cache',
        percent(stats.local.hitRate),
        `${number(stats.local.hits)} hits · ${number(stats.local.misses)} misses`,
      ),
      card('Runs', number(stats.sessions), `retention ${policy.retentionDays} days`),
    );
  }

  /** `tools`: one row per client tool; – where the tool does not report a number. */
  function renderTools(tools) {
    const known = (value, format) => (value === null ? '–' : format(value));
    $('tools').replaceChildren(
      ...['turbo', 'nx'].map((name) => {
        const t = tools[name];
        return row([
          [name],
          [number(t.hits), 'num'],
          [number(t.misses), 'num'],
          [percent(t.hitRate), 'num'],
          [known(t.timeSavedMs, duration), 'num'],
          [number(t.uploads), 'num'],
          [known(t.refusedUploads, number), 'num'],
          [`${number(t.storage.artifacts)} (${bytes(t.storage.bytes)})`, 'num'],
        ]);
      }),
    );
  }

  function renderTables(stats) {
    renderTools(stats.tools);
    $('top-artifacts').replaceChildren(
      ...(stats.topArtifacts.length
        ? stats.topArtifacts.map((a) =>
            row([
              [a.hash, 'hash'],
              [number(a.hits), 'num'],
              [duration(a.timeSavedMs), 'num'],
              [a.size === null ? 'gone' : bytes(a.size), 'num'],
            ]),
          )
        : [row([['no remote hits in this period', 'muted']])]),
    );
    const clients = [
      ['interactive', stats.clients.interactive],
      ...stats.clients.byCi.map((c) => [`CI: ${c.name}`, c]),
    ];
    $('clients').replaceChildren(
      ...clients.map(([name, c]) =>
        row([
          [name],
          [number(c.sessions), 'num'],
          [number(c.remoteHits), 'num'],
          [number(c.remoteMisses), 'num'],
          [number(c.uploads), 'num'],
        ]),
      ),
    );
  }

  function draw(id, config) {
    charts[id]?.destroy();
    charts[id] = new Chart($(id), config);
  }

  function renderCharts(daily) {
    const labels = daily.map((d) => d.date.slice(5));
    const common = {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
    };
    draw('chart-hit-rate', {
      data: {
        labels,
        datasets: [
          {
            type: 'line',
            label: 'hit rate %',
            data: daily.map((d) => (d.hitRate === null ? null : d.hitRate * 100)),
            borderColor: COLORS.rate,
            backgroundColor: COLORS.rate,
            yAxisID: 'rate',
            spanGaps: true,
            tension: 0.2,
          },
          {
            type: 'bar',
            label: 'hits',
            data: daily.map((d) => d.remoteHits),
            backgroundColor: COLORS.hit,
            stack: 'lookups',
            yAxisID: 'count',
          },
          {
            type: 'bar',
            label: 'misses',
            data: daily.map((d) => d.remoteMisses),
            backgroundColor: COLORS.miss,
            stack: 'lookups',
            yAxisID: 'count',
          },
        ],
      },
      options: {
        ...common,
        scales: {
          rate: { position: 'left', min: 0, max: 100, title: { display: true, text: '%' } },
          count: {
            position: 'right',
            beginAtZero: true,
            stacked: true,
            grid: { drawOnChartArea: false },
          },
          x: { stacked: true },
        },
      },
    });

    const maxSaved = Math.max(0, ...daily.map((d) => d.timeSavedMs));
    const [savedDivisor, savedUnit] = scaleFor(maxSaved, [
      [1000, 's'],
      [60_000, 'min'],
      [3_600_000, 'h'],
    ]);
    draw('chart-time-saved', {
      type: 'bar',
      data: {
        labels,
        datasets: [
          {
            label: `time saved (${savedUnit})`,
            data: daily.map((d) => d.timeSavedMs / savedDivisor),
            backgroundColor: COLORS.saved,
          },
        ],
      },
      options: {
        ...common,
        scales: { y: { beginAtZero: true, title: { display: true, text: savedUnit } } },
      },
    });

    const maxBytes = Math.max(0, ...daily.map((d) => d.storedBytes));
    const [bytesDivisor, bytesUnit] = scaleFor(maxBytes, [
      [1, 'B'],
      [1024, 'KiB'],
      [1024 ** 2, 'MiB'],
      [1024 ** 3, 'GiB'],
      [1024 ** 4, 'TiB'],
    ]);
    draw('chart-storage', {
      data: {
        labels,
        datasets: [
          {
            type: 'line',
            label: `stored (${bytesUnit})`,
            data: daily.map((d) => d.storedBytes / bytesDivisor),
            borderColor: COLORS.bytes,
            backgroundColor: 'rgba(8, 145, 178, 0.15)',
            fill: true,
            tension: 0.2,
          },
          {
            type: 'bar',
            label: `uploaded (${bytesUnit})`,
            data: daily.map((d) => d.uploadedBytes / bytesDivisor),
            backgroundColor: COLORS.saved,
          },
        ],
      },
      options: {
        ...common,
        scales: { y: { beginAtZero: true, title: { display: true, text: bytesUnit } } },
      },
    });
  }

  // ---- flow ----------------------------------------------------------------------------------
  function period(days) {
    const today = new Date();
    const from = new Date(today.getTime() - (days - 1) * DAY_MS);
    return { from: from.toISOString().slice(0, 10), to: today.toISOString().slice(0, 10) };
  }

  const artifacts = window.teamcacheArtifactsPanel({
    $,
    api,
    bytes,
    number,
    fail,
    onFilter: () => remember($('team').value, $('period').value),
  });

  const oidcPolicies = window.teamcacheOidcPanel({ $, api });

  function remember(team, days) {
    const params = new URLSearchParams({ team, days });
    if (artifacts.writer()) params.set('writer', artifacts.writer());
    window.history.replaceState(null, '', `#${params}`);
  }

  async function loadTeam() {
    const team = $('team').value;
    const days = Number($('period').value);
    if (!team) return;
    artifacts.select(team);
    remember(team, days);
    document.body.dataset.state = 'loading';
    $('error').textContent = '';
    const { from, to } = period(days);
    // The stats first and alone: the charts are what the page is for, and the other calls
    // (stored bytes summed over every artifact) would share the database with them.
    const stats = await api(`/admin/teams/${encodeURIComponent(team)}/stats?from=${from}&to=${to}`);
    $('range').textContent = `${stats.period.from.slice(0, 10)} – ${to} (UTC)`;
    renderCharts(stats.daily);
    renderTables(stats);
    const [policy] = await Promise.all([
      api(`/admin/teams/${encodeURIComponent(team)}/policy`),
      artifacts.load(),
      oidcPolicies.load(team),
    ]);
    renderCards(stats, policy);
    document.body.dataset.state = 'ready';
  }

  async function openDashboard() {
    const teams = await api('/admin/teams');
    const wanted = new URLSearchParams(window.location.hash.slice(1));
    $('team').replaceChildren(
      ...teams.map((t) => {
        const option = document.createElement('option');
        option.value = t.slug;
        option.textContent = t.name === t.slug ? t.slug : `${t.name} (${t.slug})`;
        return option;
      }),
    );
    if (teams.some((t) => t.slug === wanted.get('team'))) $('team').value = wanted.get('team');
    if (wanted.get('days')) $('period').value = wanted.get('days');
    if ($('period').selectedIndex < 0) $('period').value = '30';
    artifacts.select($('team').value, wanted.get('writer'));
    show('dashboard');
    if (teams.length === 0) {
      $('error').textContent = 'No teams yet: create one with `teamcache teams create <slug>`.';
      document.body.dataset.state = 'ready';
      return;
    }
    await loadTeam();
  }

  function fail(error) {
    if (error instanceof Unauthorized) return signOut(error.message);
    $('error').textContent = `Could not load: ${error.message}`;
    document.body.dataset.state = 'error';
  }

  function start() {
    $('login-form').addEventListener('submit', (event) => {
      event.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, $('admin-token').value.trim());
      $('admin-token').value = '';
      openDashboard().catch(fail);
    });
    $('sign-out').addEventListener('click', () => signOut());
    $('team').addEventListener('change', () => loadTeam().catch(fail));
    $('period').addEventListener('change', () => loadTeam().catch(fail));
    if (sessionStorage.getItem(TOKEN_KEY)) openDashboard().catch(fail);
    else signOut();
  }

  start();
})();
