/* global document, window, URLSearchParams */
// The team view's Artifacts panel: every stored version of the team's artifacts and who wrote
// it (GET /admin/teams/:team/artifacts, a page at a time), under the team's trust-tier settings
// (GET /admin/teams/:team/tier-settings). Loaded before admin-ui.js, which creates the panel.
// Token names, git shas and CI names come from users: they are only ever set as text.
'use strict';

/**
 * The panel, given admin-ui.js's helpers. `select(team, writer)` picks the team (a new team
 * drops the writer filter; `writer`, from the URL, sets it), `load()` shows its first page and
 * settings, `writer()` is the filter for the URL; `onFilter` runs when the admin changes it.
 */
window.teamcacheArtifactsPanel = ({ $, api, bytes, number, fail, onFilter }) => {
  const PAGE_SIZE = 50;
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const state = { team: null, writer: null, writerName: null, next: null, request: 0 };

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function cell(children, className) {
    const td = element('td', undefined, className);
    td.append(...children);
    return td;
  }

  const utc = (iso) => iso.slice(0, 16).replace('T', ' ');
  const count = (n, noun) => `${number(n)} ${noun}${n === 1 ? '' : 's'}`;
  const teamPath = () => `/admin/teams/${encodeURIComponent(state.team)}`;

  // ---- rendering -----------------------------------------------------------------------------
  function renderSettings(settings) {
    const entries =
      settings.trustedEntries === 'immutable'
        ? 'immutable (the first trusted upload stays)'
        : `${settings.trustedEntries} (a later trusted upload replaces one)`;
    const source = settings.overlayRetentionSource === 'team' ? 'team setting' : 'server default';
    const { scopes, artifacts, bytes: stored } = settings.overlays;
    $('tier-settings').textContent = [
      `Trusted entries: ${entries}`,
      `overlay retention: ${number(settings.overlayRetentionDays)} days (${source})`,
      `overlays now: ${count(scopes, 'scope')}, ${count(artifacts, 'version')}, ${bytes(stored)}`,
    ].join(' · ');
  }

  function location(version) {
    const trusted = version.scope === null;
    const badge = element(
      'span',
      trusted ? 'trusted' : `overlay ${version.scope}`,
      trusted ? 'badge' : 'badge overlay',
    );
    badge.title = version.visibleTo;
    return badge;
  }

  function writer({ tokenId, tokenName, revokedAt }) {
    if (tokenId === null) return [element('span', 'unknown (before provenance)', 'muted')];
    const button = element('button', tokenName || tokenId, 'link');
    button.type = 'button';
    button.dataset.writer = tokenId;
    button.dataset.name = tokenName ?? '';
    button.title = `only what token ${tokenId} wrote`;
    if (revokedAt === null) return [button];
    const revoked = element('span', 'revoked', 'revoked');
    revoked.title = `revoked ${utc(revokedAt)} UTC`;
    return [button, ' ', revoked];
  }

  function versionRow(version) {
    const tr = element('tr');
    const sha =
      version.gitSha === null ? element('span', '–') : element('code', version.gitSha.slice(0, 7));
    sha.title = version.gitSha ?? 'no x-artifact-sha sent';
    tr.append(
      cell([version.hash, ' ', element('span', `(${version.tool})`, 'muted')], 'hash'),
      cell([location(version)]),
      cell(writer(version.writer)),
      cell([sha]),
      cell([version.ci ?? '–']),
      cell([bytes(version.size)], 'num'),
      cell([utc(version.storedAt)]),
    );
    tr.title = `last used ${utc(version.lastAccessedAt)} UTC · ${number(version.hits)} hits`;
    return tr;
  }

  function renderFilter() {
    $('artifacts-filter').hidden = state.writer === null;
    if (state.writer === null) return;
    const label = $('artifacts-filter-label');
    label.replaceChildren(
      'Only versions written by ',
      element('strong', state.writerName ?? state.writer),
      ' ',
      element('code', state.writer, 'muted'),
    );
  }

  function renderPage(page, append) {
    const rows = page.versions.map(versionRow);
    if (!append && rows.length === 0) {
      const empty = state.writer ? 'this token has no stored versions' : 'no stored artifacts';
      const td = element('td', empty, 'muted');
      td.colSpan = 7;
      rows.push(element('tr'));
      rows[0].append(td);
    }
    if (append) $('artifacts-rows').append(...rows);
    else $('artifacts-rows').replaceChildren(...rows);
    // Filtered from the URL, the name is only known once the token's first version arrives.
    if (state.writer && !state.writerName && page.versions.length > 0) {
      state.writerName = page.versions[0].writer.tokenName || null;
    }
    renderFilter();
    state.next = page.next;
    $('artifacts-more').hidden = page.next === null;
    $('artifacts-more').disabled = false;
  }

  // ---- loading -------------------------------------------------------------------------------
  /** The first page (or, with `after`, the next one); a newer request makes this one moot. */
  async function showPage(after) {
    const request = ++state.request;
    $('artifacts').dataset.state = 'loading';
    $('artifacts-more').disabled = true;
    renderFilter();
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (state.writer) query.set('writer', state.writer);
    if (after) query.set('after', after);
    let page;
    try {
      page = await api(`${teamPath()}/artifacts?${query}`);
    } catch (error) {
      if (request !== state.request) return;
      throw error;
    }
    if (request !== state.request) return;
    renderPage(page, after !== undefined);
    $('artifacts').dataset.state = 'ready';
  }

  function filterBy(tokenId, name) {
    state.writer = tokenId;
    state.writerName = name;
    onFilter();
    showPage().catch(fail);
  }

  $('artifacts-rows').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-writer]');
    if (button) filterBy(button.dataset.writer, button.dataset.name || null);
  });
  $('artifacts-clear').addEventListener('click', () => filterBy(null, null));
  $('artifacts-more').addEventListener('click', () => showPage(state.next).catch(fail));

  return {
    select(team, writerId) {
      if (team !== state.team || UUID.test(writerId ?? '')) {
        state.writer = UUID.test(writerId ?? '') ? writerId : null;
        state.writerName = null;
      }
      state.team = team;
    },
    load: async () => {
      const [, settings] = await Promise.all([showPage(), api(`${teamPath()}/tier-settings`)]);
      renderSettings(settings);
    },
    writer: () => state.writer,
  };
};
