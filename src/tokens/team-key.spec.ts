import { createHmac } from 'node:crypto';
import * as jwt from 'jsonwebtoken';
import { deriveTeamKey } from './team-key';

const SECRET = 'unit-test-secret-unit-test-secret-0123';

describe('deriveTeamKey', () => {
  it('is HMAC-SHA256(JWT_SECRET, teamId:keyVersion) (known answer from openssl)', () => {
    // echo -n 'team_abc:1' | openssl dgst -sha256 -hmac 'unit-test-secret-unit-test-secret-0123'
    expect(deriveTeamKey(SECRET, 'team_abc', 1).export().toString('hex')).toBe(
      '155e56ecb36181b65a8d73300defc7ed2b4e942bd8bb9b31862fdf5ed43c77c7',
    );
    const expected = createHmac('sha256', SECRET).update('team_xyz:7').digest();
    expect(deriveTeamKey(SECRET, 'team_xyz', 7).export().equals(expected)).toBe(true);
  });

  it('is a 32-byte symmetric key', () => {
    const key = deriveTeamKey(SECRET, 'team_abc', 1);
    expect(key.type).toBe('secret');
    expect(key.symmetricKeySize).toBe(32);
  });

  it('differs per team, per key version and per server secret', () => {
    const base = deriveTeamKey(SECRET, 'team_abc', 1).export();
    expect(base.equals(deriveTeamKey(SECRET, 'team_abc', 2).export())).toBe(false);
    expect(base.equals(deriveTeamKey(SECRET, 'team_abd', 1).export())).toBe(false);
    expect(base.equals(deriveTeamKey(`${SECRET}!`, 'team_abc', 1).export())).toBe(false);
    expect(base.equals(deriveTeamKey(SECRET, 'team_abc', 1).export())).toBe(true);
  });

  it('verifies tokens signed with the same derivation only', () => {
    const token = jwt.sign({ team: 'team_abc' }, deriveTeamKey(SECRET, 'team_abc', 1), {
      algorithm: 'HS256',
    });
    const verify = (version: number) =>
      jwt.verify(token, deriveTeamKey(SECRET, 'team_abc', version), { algorithms: ['HS256'] });
    expect(verify(1)).toMatchObject({ team: 'team_abc' });
    expect(() => verify(2)).toThrow('invalid signature');
  });
});
