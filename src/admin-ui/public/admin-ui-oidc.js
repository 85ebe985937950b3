/* global document, window */
// The team view's Trust policies panel: which CI jobs exchange their OIDC ID token for a cache
// token, and what they get (GET /admin/teams/:team/oidc-policies), read-only. Loaded before
// admin-ui.js, which creates the panel. Names, audiences and claim values come from admins'
// JSON: they are only ever set as text.
'use strict';

/** The panel, given admin-ui.js's helpers. `load(team)` shows that team's policies. */
window.teamcacheOidcPanel = ({ $, api }) => {
  const state = { request: 0 };

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

  /** One condition as `claim op value`, e.g. `ref in [refs/heads/main]`. */
  function condition(claim, operand) {
    const [op, value] = Object.entries(operand)[0];
    const shown = Array.isArray(value) ? `[${value.join(', ')}]` : String(value);
    return element('code', `${claim} ${op} ${shown}`, 'condition');
  }

  function lifetime(seconds) {
    if (seconds % 3600 === 0) return `${seconds / 3600} h`;
    if (seconds % 60 === 0) return `${seconds / 60} min`;
    return `${seconds} s`;
  }

  function policyRow(policy) {
    const tr = element('tr');
    const conditions = Object.entries(policy.conditions).map(([claim, operand]) =>
      condition(claim, operand),
    );
    const trusted = policy.tier === 'trusted';
    tr.append(
      cell([element('strong', policy.name)], 'nowrap'),
      cell([policy.issuer], 'url'),
      cell([policy.audience], 'url'),
      cell(conditions, 'conditions'),
      cell([policy.access], 'nowrap'),
      cell([element('span', policy.tier, trusted ? 'badge' : 'badge overlay')]),
      cell([policy.scope === null ? '–' : element('code', policy.scope)]),
      cell([lifetime(policy.ttlSeconds)], 'num'),
    );
    tr.title = `policy ${policy.id} · added ${policy.createdAt.slice(0, 16).replace('T', ' ')} UTC`;
    tr.dataset.policy = policy.id;
    return tr;
  }

  function render(policies) {
    if (policies.length > 0) {
      $('oidc-rows').replaceChildren(...policies.map(policyRow));
      return;
    }
    const td = element('td', 'no trust policies: no CI job of this team gets a token', 'muted');
    td.colSpan = 8;
    const tr = element('tr');
    tr.append(td);
    $('oidc-rows').replaceChildren(tr);
  }

  return {
    /** Shows `team`'s policies; a newer call makes an older one moot. */
    async load(team) {
      const request = ++state.request;
      $('oidc-policies').dataset.state = 'loading';
      let policies;
      try {
        policies = await api(`/admin/teams/${encodeURIComponent(team)}/oidc-policies`);
      } catch (error) {
        if (request !== state.request) return;
        throw error;
      }
      if (request !== state.request) return;
      render(policies);
      $('oidc-policies').dataset.state = 'ready';
    },
  };
};
