import { loadConfig } from '../config/app-config';
import {
  effectivePolicy,
  InvalidPolicyError,
  NO_QUOTA,
  parseQuotaSetting,
  parseRetentionSetting,
  overlayRetentionOf,
} from './retention-policy';
import type { RetentionDefaults } from '../config/retention-defaults';

const defaults: RetentionDefaults = {
  retentionDays: 30,
  overlayRetentionDays: 7,
  quotaBytes: 5000,
  quotaMode: 'evict',
};

describe('effectivePolicy', () => {
  it('takes the defaults where the team sets nothing', () => {
    expect(effectivePolicy({ retentionDays: null, quotaBytes: null }, defaults)).toEqual({
      retentionDays: 30,
      retentionSource: 'default',
      quotaBytes: 5000,
      quotaSource: 'default',
      quotaMode: 'evict',
    });
  });

  it("prefers the team's values", () => {
    expect(effectivePolicy({ retentionDays: 7, quotaBytes: 100 }, defaults)).toMatchObject({
      retentionDays: 7,
      retentionSource: 'team',
      quotaBytes: 100,
      quotaSource: 'team',
    });
  });

  it('reads a stored quota of 0 as "no quota", even with a default quota', () => {
    expect(effectivePolicy({ retentionDays: null, quotaBytes: NO_QUOTA }, defaults)).toMatchObject({
      quotaBytes: null,
      quotaSource: 'team',
    });
  });

  it('has no quota when neither the team nor the server sets one', () => {
    const policy = effectivePolicy(
      { retentionDays: null, quotaBytes: null },
      { ...defaults, quotaBytes: null },
    );
    expect(policy).toMatchObject({ quotaBytes: null, quotaSource: 'default' });
  });
});

describe('parseRetentionSetting', () => {
  it.each([
    ['7', 7],
    [7, 7],
    ['36500', 36_500],
    ['default', null],
  ])('reads %j as %j', (value, stored) => {
    expect(parseRetentionSetting(value)).toBe(stored);
  });

  it.each(['0', 0, '-1', '1.5', 1.5, '36501', 'forever', '', null, true])('refuses %j', (value) => {
    expect(() => parseRetentionSetting(value)).toThrow(InvalidPolicyError);
  });
});

describe('parseQuotaSetting', () => {
  it.each([
    ['10GiB', 10 * 1024 ** 3],
    ['1000', 1000],
    [1000, 1000],
    ['none', NO_QUOTA],
    ['default', null],
  ])('reads %j as %j', (value, stored) => {
    expect(parseQuotaSetting(value)).toBe(stored);
  });

  it.each(['0', 0, -5, 1.5, 'unlimited', '10 parsecs', null, true, {}])('refuses %j', (value) => {
    expect(() => parseQuotaSetting(value)).toThrow(InvalidPolicyError);
  });
});

describe('retention configuration', () => {
  it('defaults to 30 days (overlays 7), no quota, evict, a sweep every 10 minutes', () => {
    expect(loadConfig({}).retention).toEqual({
      retentionDays: 30,
      overlayRetentionDays: 7,
      quotaBytes: null,
      quotaMode: 'evict',
      sweepIntervalMs: 600_000,
    });
  });

  it('reads every variable (the quota also as a size with a unit)', () => {
    expect(
      loadConfig({
        RETENTION_DAYS: '14',
        OVERLAY_RETENTION_DAYS: '2',
        TEAM_QUOTA_BYTES: '10GiB',
        QUOTA_MODE: 'reject',
        RETENTION_SWEEP_INTERVAL_MS: '0',
      }).retention,
    ).toEqual({
      retentionDays: 14,
      overlayRetentionDays: 2,
      quotaBytes: 10 * 1024 ** 3,
      quotaMode: 'reject',
      sweepIntervalMs: 0,
    });
    expect(loadConfig({ TEAM_QUOTA_BYTES: '1048576' }).retention.quotaBytes).toBe(1_048_576);
    expect(loadConfig({ TEAM_QUOTA_BYTES: '' }).retention.quotaBytes).toBeNull();
  });

  it.each([
    ['RETENTION_DAYS', '0', /RETENTION_DAYS must be a whole number of days from 1 to 36500/],
    [
      'OVERLAY_RETENTION_DAYS',
      '36501',
      /OVERLAY_RETENTION_DAYS must be a whole number of days from 1 to 36500/,
    ],
    ['RETENTION_DAYS', 'month', /RETENTION_DAYS must be a whole number of days/],
    ['TEAM_QUOTA_BYTES', 'lots', /TEAM_QUOTA_BYTES must be a size such as 10GiB/],
    ['TEAM_QUOTA_BYTES', '0', /TEAM_QUOTA_BYTES must be a size/],
    ['QUOTA_MODE', 'drop', /QUOTA_MODE must be one of evict, reject/],
    ['RETENTION_SWEEP_INTERVAL_MS', '-1', /RETENTION_SWEEP_INTERVAL_MS must be a whole number/],
    ['RETENTION_SWEEP_INTERVAL_MS', '2147483648', /RETENTION_SWEEP_INTERVAL_MS must be at most/],
  ])('rejects %s=%s with one line naming it', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });
});

describe('overlayRetentionOf', () => {
  const row = (retention: number | null, overlay: number | null) => ({
    retention_days: retention,
    quota_bytes: null,
    overlay_retention_days: overlay,
  });

  it('is OVERLAY_RETENTION_DAYS by default', () => {
    expect(overlayRetentionOf(row(null, null), defaults)).toEqual({
      days: 7,
      setting: 7,
      source: 'default',
    });
  });

  it("takes the team's own setting", () => {
    expect(overlayRetentionOf(row(null, 2), defaults)).toEqual({
      days: 2,
      setting: 2,
      source: 'team',
    });
  });

  it("never outlives the team's retention", () => {
    expect(overlayRetentionOf(row(3, null), defaults).days).toBe(3);
    expect(overlayRetentionOf(row(null, 90), defaults).days).toBe(30);
  });
});
